#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "unit.h"

/* What nginx sends with `proxy_http_version 1.1; proxy_set_header
 * Connection "";` in an auth_request location. */
#define NGINX_HEAD                                                            \
	"GET /auth/check HTTP/1.1\r\n"                                        \
	"Host: authgate\r\n"                                                  \
	"X-Original-URI: /app/page?x=1\r\n"                                   \
	"X-Original-Method: GET\r\n"                                          \
	"Cookie: authgate=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"    \
	"\r\n"

/* Parses `len` bytes of `s` from an exact heap copy, left in *copy for
 * the caller to free after looking at *head (which points into it). */
static enum parse_result parse_copy(const char *s, size_t len,
				    struct http_request_head *head,
				    char **copy)
{
	*copy = dup_exact(s, len);
	return http_parse_request_head(*copy, len, head);
}

/* The result alone, for tables. */
static enum parse_result parse_result_of(const char *s, size_t len)
{
	struct http_request_head head;
	enum parse_result r;
	char *copy;

	r = parse_copy(s, len, &head, &copy);
	free(copy);
	return r;
}

static bool is_all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void assert_bytes(const char *got, size_t got_len, const char *want,
			 const char *what)
{
	size_t want_len = strlen(want);

	cr_assert(got_len == want_len && memcmp(got, want, want_len) == 0,
		  "%s: got \"%.*s\", want \"%s\"", what, (int)got_len, got,
		  want);
}

struct valid_case {
	const char *in;
	size_t len;
	const char *method;
	const char *target;
	int minor;
	size_t nheaders;
	size_t head_len; /* 0: all of `in` */
	bool keep_alive;
	bool has_body;
};

static const struct valid_case valid_cases[] = {
	{ S(NGINX_HEAD), "GET", "/auth/check", 1, 4, 0, true, false },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "GET", "/", 1, 1, 0, true,
	  false },
	{ S("GET / HTTP/1.0\r\n\r\n"), "GET", "/", 0, 0, 0, false, false },
	{ S("HEAD /x HTTP/1.0\r\nHost: a\r\n\r\n"), "HEAD", "/x", 0, 1, 0,
	  false, false },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
	  "POST", "/p", 1, 2, 0, true, false },
	{ S("GET /auth/check?a=b&c=%20d#f HTTP/1.1\r\nHost: a\r\n\r\n"), "GET",
	  "/auth/check?a=b&c=%20d#f", 1, 1, 0, true, false },
	{ S("GET //x/../~!$&'()*+,;=:@ HTTP/1.1\r\nHost: a\r\n\r\n"), "GET",
	  "//x/../~!$&'()*+,;=:@", 1, 1, 0, true, false },
	/* Any token is a method; meaning is up to the router. */
	{ S("M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n"), "M-SEARCH", "/", 1, 1,
	  0, true, false },
	{ S("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "!#$%&'*+-.^_`|~09azAZ", "/", 1, 1, 0, true, false },
	{ S("get / HTTP/1.1\r\nHost: a\r\n\r\n"), "get", "/", 1, 1, 0, true,
	  false },
	/* Header names: any token, any case; values: empty, obs-text,
	 * inner spaces and tabs, NUL-free. */
	{ S("GET / HTTP/1.1\r\nhOsT: a\r\nX-Empty:\r\nX-Spaces:   \t \r\n"
	    "X-Utf8: \xc3\xa9\xff\x80\r\nX-In: a \t b\r\n"
	    "!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"),
	  "GET", "/", 1, 6, 0, true, false },
	{ S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), "GET", "/", 1, 1, 0, true,
	  false },
	/* Bytes after the head (a body or a pipelined request) are left. */
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n"), "GET", "/",
	  1, 1, 27, true, false },
	{ S("GET / HTTP/1.0\r\n\r\n\r\n"), "GET", "/", 0, 0, 18, false,
	  false },
	{ S("GET / HTTP/1.0\r\n\r\n\n\0garbage"), "GET", "/", 0, 0, 18, false,
	  false },
};

Test(http, valid_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];
		struct http_request_head head;
		enum parse_result r;
		char *copy;

		r = parse_copy(c->in, c->len, &head, &copy);
		cr_assert_eq(r, PARSE_OK, "case %zu: result %d", i, r);
		assert_bytes(head.method, head.method_len, c->method, "method");
		assert_bytes(head.target, head.target_len, c->target, "target");
		cr_assert_eq(head.minor_version, c->minor, "case %zu", i);
		cr_assert_eq(head.nheaders, c->nheaders, "case %zu", i);
		cr_assert_eq(head.head_len, c->head_len ? c->head_len : c->len,
			     "case %zu: head_len %zu", i, head.head_len);
		cr_assert_eq(head.keep_alive, c->keep_alive, "case %zu", i);
		cr_assert_eq(head.has_body, c->has_body, "case %zu", i);
		free(copy);
	}
}

struct result_case {
	const char *in;
	size_t len;
	enum parse_result result;
};

static const struct result_case invalid_cases[] = {
	/* Request line. */
	{ S("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("\r\n"), PARSE_INVALID },
	{ S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / x HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET  HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S(" / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\r\n\r\n"), PARSE_INVALID },
	{ S("GET\r\n\r\n"), PARSE_INVALID },
	{ S("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("G\xc3\xa9T / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / http/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/01.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), PARSE_INVALID },
	/* FastCGI bytes: a line is judged only once complete (the server
	 * tells the protocols apart by the first byte). */
	{ S("\x01\x01\x00\x01\x00\x08\x00\x00"), PARSE_ABSENT },
	/* Header lines. */
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX Y: v\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX(: v\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: v\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\0X: v\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: v\0w\r\n\r\n"), PARSE_INVALID },
	/* Other control characters in a value are accepted (is_value_char
	 * in http.c says why): \x7f, ESC and \x0b are covered by
	 * every_byte_in_header_value. */
	/* Host: required once in HTTP/1.1, at most once in HTTP/1.0. */
	{ S("GET / HTTP/1.1\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"), PARSE_INVALID },
	/* Connection: a list of tokens. */
	{ S("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep alive\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nConnection: close;q=1\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nConnection: \"close\"\r\n\r\n"),
	  PARSE_INVALID },
	/* Incomplete heads. */
	{ S(""), PARSE_ABSENT },
	{ S("G"), PARSE_ABSENT },
	{ S("GET / HTTP/1.1\r"), PARSE_ABSENT },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n"), PARSE_ABSENT },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r"), PARSE_ABSENT },
	/* An error in a complete line is reported before the head ends. */
	{ S("GET / HTTP/1.1\r\nX : v\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/9.9\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: v\n"), PARSE_INVALID },
	/* But the rules across headers only once it is complete. */
	{ S("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n"),
	  PARSE_ABSENT },
};

Test(http, invalid_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(invalid_cases); i++) {
		const struct result_case *c = &invalid_cases[i];
		enum parse_result r = parse_result_of(c->in, c->len);

		cr_assert_eq(r, c->result, "case %zu: result %d, want %d", i,
			     r, c->result);
	}
}

/* Request smuggling: every way two parsers could disagree on where a
 * request ends, or on which header counts. */
static const struct result_case smuggling_cases[] = {
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\n"
	    "TRANSFER-ENCODING: identity\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	    "content-length: 0\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \"5\"\r\n\r\n"),
	  PARSE_INVALID },
	/* Whitespace before the colon: "Content-Length " is not
	 * Content-Length to us, but it is to some parsers. */
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
	    "\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), PARSE_INVALID },
	/* Obsolete line folding. */
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: v\r\n w\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: v\r\n\tw\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n \r\n\r\n"), PARSE_INVALID },
	/* Bare LF and bare CR, in each place. */
	{ S("GET / HTTP/1.1\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\n\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\nContent-Length: 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\rHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX: a\rContent-Length: 5\r\n\r\n"),
	  PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), PARSE_INVALID },
	{ S("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("GET /\n HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	{ S("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), PARSE_INVALID },
	/* Transfer-Encoding in HTTP/1.0 is faulty framing. */
	{ S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  PARSE_INVALID },
	/* The lone forms are fine, and say there is a body. */
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  PARSE_OK },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"),
	  PARSE_OK },
};

Test(http, smuggling_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(smuggling_cases); i++) {
		const struct result_case *c = &smuggling_cases[i];
		enum parse_result r = parse_result_of(c->in, c->len);

		cr_assert_eq(r, c->result, "case %zu: result %d, want %d", i,
			     r, c->result);
	}
}

Test(http, nginx_head_fields)
{
	static const char *const names[] = { "Host", "X-Original-URI",
					     "X-Original-Method", "Cookie" };
	static const char *const values[] = {
		"authgate", "/app/page?x=1", "GET",
		"authgate=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	};
	struct http_request_head head;
	char *copy;
	size_t i;

	cr_assert_eq(parse_copy(S(NGINX_HEAD), &head, &copy), PARSE_OK);
	cr_assert_eq(head.nheaders, 4);
	for (i = 0; i < head.nheaders; i++) {
		assert_bytes(head.headers[i].name, head.headers[i].name_len,
			     names[i], "name");
		assert_bytes(head.headers[i].value, head.headers[i].value_len,
			     values[i], "value");
	}
	cr_assert_eq(head.method, copy, "points into the buffer");
	cr_assert_eq(head.target, copy + 4);
	free(copy);
}

Test(http, values_trimmed)
{
	struct http_request_head head;
	const struct http_header *h;
	char *copy;

	cr_assert_eq(parse_copy(S("GET / HTTP/1.1\r\nHost: a\r\n"
				  "X-A: \t v  w \t \r\nX-B:v\r\n"
				  "X-C: \t \r\n\r\n"),
				&head, &copy),
		     PARSE_OK);
	cr_assert_eq(http_header_get(&head, "x-a", &h), PARSE_OK);
	assert_bytes(h->value, h->value_len, "v  w", "x-a");
	cr_assert_eq(http_header_get(&head, "x-b", &h), PARSE_OK);
	assert_bytes(h->value, h->value_len, "v", "x-b");
	cr_assert_eq(http_header_get(&head, "x-c", &h), PARSE_OK);
	cr_assert_eq(h->value_len, 0);
	cr_assert(h->value >= copy && h->value <= copy + head.head_len);
	free(copy);
}

Test(http, header_get)
{
	struct http_request_head head;
	const struct http_header *h = (const struct http_header *)1;
	char *copy;

	cr_assert_eq(parse_copy(S("GET / HTTP/1.1\r\nHost: a\r\n"
				  "Cookie: a=1\r\nX-Dup: 1\r\nx-dup: 2\r\n"
				  "Connection: keep-alive\r\n"
				  "Connection: te\r\n\r\n"),
				&head, &copy),
		     PARSE_OK);
	cr_assert_eq(http_header_get(&head, "cookie", &h), PARSE_OK);
	cr_assert_eq(h, &head.headers[1]);
	cr_assert_eq(http_header_get(&head, "COOKIE", &h), PARSE_OK);
	cr_assert_eq(h, &head.headers[1]);
	cr_assert_eq(http_header_get(&head, "Cookie", &h), PARSE_OK);
	assert_bytes(h->value, h->value_len, "a=1", "cookie");

	cr_assert_eq(http_header_get(&head, "Cooki", &h), PARSE_ABSENT);
	cr_assert_null(h);
	cr_assert_eq(http_header_get(&head, "Cookies", &h), PARSE_ABSENT);
	cr_assert_eq(http_header_get(&head, "", &h), PARSE_ABSENT);
	cr_assert_eq(http_header_get(&head, "X-Original-URI", &h),
		     PARSE_ABSENT);

	h = (const struct http_header *)1;
	cr_assert_eq(http_header_get(&head, "X-Dup", &h), PARSE_INVALID);
	cr_assert_null(h);
	cr_assert_eq(http_header_get(&head, "connection", &h), PARSE_INVALID);
	free(copy);
}

Test(http, header_get_empty_head)
{
	struct http_request_head head;
	const struct http_header *h;
	char *copy;

	cr_assert_eq(parse_copy(S("GET / HTTP/1.0\r\n\r\n"), &head, &copy),
		     PARSE_OK);
	cr_assert_eq(http_header_get(&head, "Host", &h), PARSE_ABSENT);
	cr_assert_null(h);
	free(copy);
}

/* Every prefix of a complete head is PARSE_ABSENT, each in its own exact
 * copy, and leaves *out zeroed. */
static const struct result_case prefix_heads[] = {
	{ S(NGINX_HEAD), PARSE_OK },
	{ S("GET / HTTP/1.0\r\n\r\n"), PARSE_OK },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
	    "Connection: close\r\nX-E:\r\n\r\n"),
	  PARSE_OK },
	/* An error is only seen once its line is complete. */
	{ S("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), PARSE_INVALID },
};

Test(http, every_prefix_absent)
{
	size_t i, k;

	for (i = 0; i < AG_ARRAY_LEN(prefix_heads); i++) {
		const struct result_case *c = &prefix_heads[i];

		for (k = 0; k < c->len; k++) {
			struct http_request_head head;
			enum parse_result r;
			char *copy;

			memset(&head, 0xa5, sizeof(head));
			r = parse_copy(c->in, k, &head, &copy);
			cr_assert_eq(r, PARSE_ABSENT,
				     "head %zu, prefix %zu: result %d", i, k,
				     r);
			cr_assert(is_all_zero(&head, sizeof(head)));
			free(copy);
		}
		cr_assert_eq(parse_result_of(c->in, c->len), c->result,
			     "head %zu", i);
	}
}

/* Each CRLF of a valid head turned into a bare LF, a bare CR, or a CR
 * followed by another byte. */
Test(http, every_crlf_broken)
{
	static const char head_text[] = NGINX_HEAD;
	const size_t len = sizeof(head_text) - 1;
	char *variant = malloc(len);
	size_t i;

	cr_assert_not_null(variant);
	for (i = 0; i + 1 < len; i++) {
		if (head_text[i] != '\r')
			continue;
		/* "\n" alone: drop the CR. */
		memcpy(variant, head_text, i);
		memcpy(variant + i, head_text + i + 1, len - i - 1);
		cr_assert_eq(parse_result_of(variant, len - 1), PARSE_INVALID,
			     "bare LF at %zu", i);
		/* "\r" alone: drop the LF. The last one leaves a head that
		 * may still be completed. */
		memcpy(variant, head_text, i + 1);
		memcpy(variant + i + 1, head_text + i + 2, len - i - 2);
		cr_assert_eq(parse_result_of(variant, len - 1),
			     i + 2 == len ? PARSE_ABSENT : PARSE_INVALID,
			     "bare CR at %zu", i);
		/* "\r" then a letter. */
		memcpy(variant, head_text, len);
		variant[i + 1] = 'x';
		cr_assert_eq(parse_result_of(variant, len), PARSE_INVALID,
			     "CR x at %zu", i);
	}
	free(variant);
}

/* A head that is exactly `total` bytes long (total >= 36): the request
 * line, Host and an X-Pad header of filler. Exact heap buffer of `cap`
 * bytes (>= total), the rest filled with `after`. */
static char *padded_head(size_t total, size_t cap, char after)
{
	static const char start[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
	static const char end[] = "\r\n\r\n";
	const size_t fixed = sizeof(start) - 1 + sizeof(end) - 1;
	char *p = malloc(cap);

	cr_assert_not_null(p);
	cr_assert(total >= fixed && cap >= total);
	memcpy(p, start, sizeof(start) - 1);
	memset(p + sizeof(start) - 1, 'a', total - fixed);
	memcpy(p + total - (sizeof(end) - 1), end, sizeof(end) - 1);
	memset(p + total, after, cap - total);
	return p;
}

Test(http, head_exactly_max)
{
	struct http_request_head head;
	char *p = padded_head(HTTP_HEAD_MAX, HTTP_HEAD_MAX, 0);

	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX, &head),
		     PARSE_OK);
	cr_assert_eq(head.head_len, HTTP_HEAD_MAX);
	cr_assert_eq(head.nheaders, 2);
	cr_assert_eq(head.headers[1].value_len, HTTP_HEAD_MAX - 36);
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX - 1, &head),
		     PARSE_ABSENT);
	free(p);

	/* Followed by more bytes: still fits. */
	p = padded_head(HTTP_HEAD_MAX, HTTP_HEAD_MAX + 100, 'G');
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX + 100, &head),
		     PARSE_OK);
	cr_assert_eq(head.head_len, HTTP_HEAD_MAX);
	free(p);
}

Test(http, head_one_over_max)
{
	struct http_request_head head;
	char *p = padded_head(HTTP_HEAD_MAX + 1, HTTP_HEAD_MAX + 1, 0);

	memset(&head, 0xa5, sizeof(head));
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX + 1, &head),
		     PARSE_TOO_LONG);
	cr_assert(is_all_zero(&head, sizeof(head)));
	/* Already known once HTTP_HEAD_MAX bytes are in, not before. */
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX, &head),
		     PARSE_TOO_LONG);
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX - 1, &head),
		     PARSE_ABSENT);
	free(p);
}

/* The blank line's CR is byte HTTP_HEAD_MAX - 1 and its LF the next one:
 * the head needs HTTP_HEAD_MAX + 1 bytes. */
Test(http, head_crlf_straddles_max)
{
	struct http_request_head head;
	char *p = padded_head(HTTP_HEAD_MAX + 1, HTTP_HEAD_MAX + 1, 0);

	cr_assert_eq(p[HTTP_HEAD_MAX - 1], '\r');
	cr_assert_eq(p[HTTP_HEAD_MAX], '\n');
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX + 1, &head),
		     PARSE_TOO_LONG);
	free(p);
}

/* A head that never ends, garbage included, is refused after
 * HTTP_HEAD_MAX bytes: the parser reads no further. */
Test(http, endless_line)
{
	struct http_request_head head;
	size_t len = HTTP_HEAD_MAX * 2;
	char *p = malloc(len);

	cr_assert_not_null(p);
	memcpy(p, "GET /", 5);
	memset(p + 5, 'a', HTTP_HEAD_MAX - 5);
	/* A bare LF past the limit is never looked at. */
	memset(p + HTTP_HEAD_MAX, '\n', len - HTTP_HEAD_MAX);
	cr_assert_eq(http_parse_request_head(p, len, &head), PARSE_TOO_LONG);
	cr_assert_eq(http_parse_request_head(p, HTTP_HEAD_MAX - 1, &head),
		     PARSE_ABSENT);
	free(p);
}

/* A head with Host and `n - 1` more header lines; exact heap buffer,
 * length in *len. `complete` adds the blank line. */
static char *head_with_headers(size_t n, bool complete, size_t *len)
{
	static const char start[] = "GET / HTTP/1.1\r\nHost: a\r\n";
	static const char line[] = "X-H: v\r\n";
	size_t i, pos;
	char *p;

	*len = sizeof(start) - 1 + (n - 1) * (sizeof(line) - 1) +
	       (complete ? 2 : 0);
	p = malloc(*len);
	cr_assert_not_null(p);
	memcpy(p, start, sizeof(start) - 1);
	pos = sizeof(start) - 1;
	for (i = 1; i < n; i++) {
		memcpy(p + pos, line, sizeof(line) - 1);
		pos += sizeof(line) - 1;
	}
	if (complete)
		memcpy(p + pos, "\r\n", 2);
	return p;
}

Test(http, headers_32)
{
	struct http_request_head head;
	size_t len;
	char *p = head_with_headers(HTTP_MAX_HEADERS, true, &len);

	cr_assert_eq(http_parse_request_head(p, len, &head), PARSE_OK);
	cr_assert_eq(head.nheaders, HTTP_MAX_HEADERS);
	assert_bytes(head.headers[HTTP_MAX_HEADERS - 1].name,
		     head.headers[HTTP_MAX_HEADERS - 1].name_len, "X-H",
		     "last name");
	free(p);
}

Test(http, headers_33)
{
	struct http_request_head head;
	size_t len;
	char *p = head_with_headers(HTTP_MAX_HEADERS + 1, true, &len);

	memset(&head, 0xa5, sizeof(head));
	cr_assert_eq(http_parse_request_head(p, len, &head), PARSE_TOO_LONG);
	cr_assert(is_all_zero(&head, sizeof(head)));
	free(p);

	/* Known as soon as the 33rd line is complete. */
	p = head_with_headers(HTTP_MAX_HEADERS + 1, false, &len);
	cr_assert_eq(http_parse_request_head(p, len, &head), PARSE_TOO_LONG);
	cr_assert_eq(http_parse_request_head(p, len - 1, &head),
		     PARSE_ABSENT);
	free(p);
}

struct keep_alive_case {
	const char *in;
	size_t len;
	bool keep_alive;
};

#define KA11(headers) S("GET / HTTP/1.1\r\nHost: a\r\n" headers "\r\n")
#define KA10(headers) S("GET / HTTP/1.0\r\n" headers "\r\n")

static const struct keep_alive_case keep_alive_cases[] = {
	{ KA11(""), true },
	{ KA11("Connection: close\r\n"), false },
	{ KA11("Connection: Close\r\n"), false },
	{ KA11("connection: CLOSE\r\n"), false },
	{ KA11("Connection: keep-alive\r\n"), true },
	{ KA11("Connection: Upgrade\r\n"), true },
	{ KA11("Connection:\r\n"), true },
	{ KA11("Connection: ,,\r\n"), true },
	{ KA11("Connection: closed\r\n"), true },
	{ KA11("Connection: keep-alive, close\r\n"), false },
	{ KA11("Connection: upgrade,close\r\n"), false },
	{ KA11("Connection: , \t close \t ,\r\n"), false },
	{ KA11("Connection: keep-alive\r\nConnection: close\r\n"), false },
	{ KA11("Connection: close\r\nConnection: keep-alive\r\n"), false },
	{ KA11("X-Connection: close\r\n"), true },
	{ KA11("Proxy-Connection: close\r\n"), true },
	{ KA10(""), false },
	{ KA10("Host: a\r\n"), false },
	{ KA10("Connection: keep-alive\r\n"), true },
	{ KA10("Connection: Keep-Alive\r\n"), true },
	{ KA10("Connection: te, keep-alive\r\n"), true },
	{ KA10("Connection: keep-alives\r\n"), false },
	{ KA10("Connection: close\r\n"), false },
	{ KA10("Connection: keep-alive, close\r\n"), false },
	{ KA10("Connection: close\r\nConnection: keep-alive\r\n"), false },
	{ KA10("Connection: te\r\nConnection: keep-alive\r\n"), true },
	{ KA10("Keep-Alive: timeout=5\r\n"), false },
};

Test(http, keep_alive_matrix)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(keep_alive_cases); i++) {
		const struct keep_alive_case *c = &keep_alive_cases[i];
		struct http_request_head head;
		char *copy;

		cr_assert_eq(parse_copy(c->in, c->len, &head, &copy), PARSE_OK,
			     "case %zu", i);
		cr_assert_eq(head.keep_alive, c->keep_alive, "case %zu", i);
		free(copy);
	}
}

struct body_case {
	const char *in;
	size_t len;
	bool has_body;
};

static const struct body_case body_cases[] = {
	{ KA11(""), false },
	{ KA11("Content-Length: 0\r\n"), false },
	{ KA11("Content-Length: 000\r\n"), false },
	{ KA11("Content-Length: 1\r\n"), true },
	{ KA11("Content-Length: 0010\r\n"), true },
	{ KA11("content-length:\t7\t\r\n"), true },
	/* Too large for any integer type, and still only a yes. */
	{ KA11("Content-Length: 99999999999999999999999999999999\r\n"), true },
	{ KA11("Content-Length: 00000000000000000000000000000000\r\n"),
	  false },
	{ KA11("Transfer-Encoding: chunked\r\n"), true },
	{ KA11("Transfer-Encoding: gzip, chunked\r\n"), true },
	{ KA11("Transfer-Encoding:\r\n"), true },
	{ KA11("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n"),
	  true },
	{ KA10("Content-Length: 3\r\n"), true },
	{ KA10("Content-Length: 0\r\n"), false },
};

Test(http, has_body_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(body_cases); i++) {
		const struct body_case *c = &body_cases[i];
		struct http_request_head head;
		char *copy;

		cr_assert_eq(parse_copy(c->in, c->len, &head, &copy), PARSE_OK,
			     "case %zu", i);
		cr_assert_eq(head.has_body, c->has_body, "case %zu", i);
		free(copy);
	}
}

/* Every byte value in each place: method, target, header name and
 * value. The parser's classes are checked against RFC 9110 directly. */
static bool rfc_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum parse_result with_byte(const char *before, const char *after,
				   unsigned char c)
{
	size_t b = strlen(before), a = strlen(after);
	char *p = malloc(b + 1 + a);
	enum parse_result r;

	cr_assert_not_null(p);
	memcpy(p, before, b);
	p[b] = (char)c;
	memcpy(p + b + 1, after, a);
	r = parse_result_of(p, b + 1 + a);
	free(p);
	return r;
}

Test(http, every_byte_in_method)
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		enum parse_result r = with_byte(
			"G", "T / HTTP/1.1\r\nHost: a\r\n\r\n", (unsigned char)c);

		cr_assert_eq(r, rfc_tchar((unsigned char)c) ? PARSE_OK
							    : PARSE_INVALID,
			     "byte 0x%02x: %d", c, r);
	}
}

Test(http, every_byte_in_target)
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		enum parse_result r = with_byte(
			"GET /", "x HTTP/1.1\r\nHost: a\r\n\r\n",
			(unsigned char)c);
		bool ok = c >= 0x21 && c <= 0x7e;

		cr_assert_eq(r, ok ? PARSE_OK : PARSE_INVALID,
			     "byte 0x%02x: %d", c, r);
	}
}

Test(http, every_byte_in_header_name)
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		enum parse_result r = with_byte("GET / HTTP/1.1\r\nHost: a\r\nX",
						"Y: v\r\n\r\n",
						(unsigned char)c);

		cr_assert_eq(r, rfc_tchar((unsigned char)c) || c == ':'
					? PARSE_OK
					: PARSE_INVALID,
			     "byte 0x%02x: %d", c, r);
	}
}

Test(http, every_byte_in_header_value)
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		enum parse_result r = with_byte(
			"GET / HTTP/1.1\r\nHost: a\r\nX: a", "b\r\n\r\n",
			(unsigned char)c);
		bool ok = c != '\0' && c != '\r' && c != '\n';

		cr_assert_eq(r, ok ? PARSE_OK : PARSE_INVALID,
			     "byte 0x%02x: %d", c, r);
	}
}

Test(http, respects_length)
{
	static const char text[] = "GET / HTTP/1.0\r\n\r\n";
	struct http_request_head head;
	char *copy;

	/* The same bytes minus the final LF: the LF is not there yet. */
	cr_assert_eq(parse_copy(text, sizeof(text) - 2, &head, &copy),
		     PARSE_ABSENT);
	free(copy);
	cr_assert_eq(http_parse_request_head(NULL, 0, &head), PARSE_ABSENT);
}

Test(http, failure_clears_out)
{
	struct http_request_head head;
	char *copy;

	memset(&head, 0xa5, sizeof(head));
	cr_assert_eq(parse_copy(S("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n"
				  "Host: b\r\n\r\n"),
				&head, &copy),
		     PARSE_INVALID);
	cr_assert(is_all_zero(&head, sizeof(head)));
	free(copy);
}

/* Parsing twice gives the same head: nothing is kept between calls. */
Test(http, reparse_same_buffer)
{
	struct http_request_head a, b;
	char *copy;

	cr_assert_eq(parse_copy(S(NGINX_HEAD), &a, &copy), PARSE_OK);
	cr_assert_eq(http_parse_request_head(copy, sizeof(NGINX_HEAD) - 1, &b),
		     PARSE_OK);
	cr_assert(memcmp(&a, &b, sizeof(a)) == 0);
	free(copy);
}

Test(http, rebased_head_reads_the_copy)
{
	struct http_request_head head, again;
	char *copy, *moved;

	cr_assert_eq(parse_copy(S(NGINX_HEAD), &head, &copy), PARSE_OK);
	moved = dup_exact(copy, head.head_len);
	http_head_rebase(&head, copy, moved);
	/* The original is gone: everything must come from the copy. */
	memset(copy, 'x', head.head_len);
	free(copy);
	cr_assert_eq(http_parse_request_head(moved, head.head_len, &again),
		     PARSE_OK);
	cr_expect(head.method == moved && again.method == moved);
	cr_expect(head.target == again.target);
	cr_assert_eq(head.nheaders, again.nheaders);
	for (size_t i = 0; i < head.nheaders; i++) {
		cr_expect(head.headers[i].name == again.headers[i].name, "%zu", i);
		cr_expect(head.headers[i].value == again.headers[i].value, "%zu", i);
		cr_expect_eq(head.headers[i].value_len, again.headers[i].value_len);
	}
	free(moved);
}
