/*
 * HTTP/1.1 request heads (RFC 9112 sections 2 to 6), as nginx's proxy
 * module sends them for auth_request subrequests. Pure: no I/O, no
 * allocation.
 *
 * Strict on purpose: the only client is nginx, so anything a lenient
 * parser would have to guess about (folded lines, bare LF, whitespace
 * before a colon, conflicting framing) is refused rather than interpreted,
 * which leaves no room for request smuggling between nginx and authgate.
 */
#ifndef AUTHGATE_HTTP_H
#define AUTHGATE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* Bytes of a request head, request line to blank line included. nginx's
 * own large_client_header_buffers default is 4 x 8k, and a subrequest
 * carries the client's Cookie header, so 16 KiB leaves room for it. */
#define HTTP_HEAD_MAX 16384

/* Header lines per head; nginx's subrequest sends a handful. */
#define HTTP_MAX_HEADERS 32

/* One header line; both strings point into the parsed buffer. */
struct http_header {
	const char *name;  /* a token, without the colon */
	size_t name_len;   /* > 0 */
	const char *value; /* without leading and trailing spaces and tabs */
	size_t value_len;  /* may be 0 */
};

struct http_request_head {
	const char *method; /* a token, e.g. "GET" */
	size_t method_len;
	const char *target; /* origin-form: starts with '/' */
	size_t target_len;
	int minor_version; /* HTTP/1.<minor_version>: 0 or 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	size_t head_len; /* bytes up to and including the blank line's CRLF */
	bool keep_alive; /* the connection may carry another request */
	bool has_body;   /* a message body follows the head */
};

/*
 * Parses the request head at the start of `buf[0..len)` (not
 * NUL-terminated; bytes after the head, such as a pipelined request, are
 * left alone). Reads at most HTTP_HEAD_MAX bytes of `buf`.
 *
 * PARSE_OK: a complete, valid head; *out is filled, its pointers borrowed
 * from `buf` for as long as the caller keeps `buf`. out->head_len is where
 * the next bytes (body or next request) start.
 * PARSE_ABSENT: no complete head yet and len < HTTP_HEAD_MAX; every line
 * complete so far is valid: read more and call again (the parse restarts
 * from the beginning of `buf`, so a head read in n pieces costs up to n
 * scans of it).
 * PARSE_INVALID: a malformed head (see below); answer 400 and close.
 * PARSE_TOO_LONG: no complete head within the first HTTP_HEAD_MAX bytes,
 * or more than HTTP_MAX_HEADERS header lines; answer 431 and close.
 * On every result but PARSE_OK, *out is all zero.
 *
 * Each line is checked as soon as its CRLF is in `buf`, so an error in a
 * complete line is reported without waiting for the rest of the head, and
 * the result for a prefix of `buf` never contradicts the result for `buf`:
 * PARSE_INVALID and PARSE_TOO_LONG stay so, PARSE_OK keeps its head.
 *
 * What is refused (PARSE_INVALID):
 * - A head not starting with the request line: leading empty lines,
 *   which RFC 9112 section 2.2 lets a server skip, are refused because
 *   nginx never sends them and the first byte is what tells HTTP from
 *   FastCGI.
 * - A request line other than `METHOD SP TARGET SP HTTP/1.0|HTTP/1.1`
 *   CRLF with exactly one space at each place: METHOD a token, TARGET
 *   visible ASCII (0x21-0x7e) starting with '/'.
 * - Any CR not followed by LF, any LF not preceded by CR.
 * - A header line not of the form `NAME ":" OWS VALUE OWS`: NAME a token
 *   directly followed by the colon (no space: RFC 9112 section 5.1), a
 *   line starting with a space or tab (obsolete folding, section 5.2),
 *   VALUE holding a control character other than HTAB (NUL and DEL
 *   included). Bytes 0x80-0xff are allowed in values (obs-text, as nginx
 *   passes them in e.g. X-Original-URI).
 * - No Host header in HTTP/1.1, or more than one Host (section 3.2).
 * - Content-Length given twice (even with the same value), not all
 *   digits, or together with Transfer-Encoding (section 6.3).
 * - A Connection header whose comma-separated elements are not tokens.
 *
 * keep_alive: for HTTP/1.1, true unless a Connection header lists
 * "close"; for HTTP/1.0, true only when one lists "keep-alive" and none
 * lists "close" (RFC 9112 section 9.3; options compared case-insensitively).
 * It says nothing about the body: a caller that will not read a body
 * (has_body) must close the connection whatever keep_alive says.
 * has_body: Content-Length with a non-zero value, or any Transfer-Encoding.
 */
enum parse_result http_parse_request_head(const char *buf, size_t len,
					  struct http_request_head *out)
	AG_MUST_CHECK;

/*
 * Points a head parsed from `from` at a copy of the same bytes at `to`
 * (the head's first head_len bytes), so the copy can outlive `from`.
 */
void http_head_rebase(struct http_request_head *head, const char *from,
		      const char *to);

/*
 * Finds the header `name` (NUL-terminated, compared case-insensitively as
 * RFC 9110 section 5.1 says) in a head parsed by http_parse_request_head().
 * PARSE_OK with *out pointing into `head`; PARSE_ABSENT with *out NULL
 * when there is none; PARSE_INVALID with *out NULL when it appears more
 * than once, so that two readers can never disagree on which one counts
 * (for the Cookie header this is also the cookie-tossing guard). Do not use
 * it for list headers that may legitimately repeat (Connection).
 */
enum parse_result http_header_get(const struct http_request_head *head,
				  const char *name,
				  const struct http_header **out) AG_MUST_CHECK;

#endif
