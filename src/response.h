/* A response under construction; only the server writes it to nginx. */
#ifndef AUTHGATE_RESPONSE_H
#define AUTHGATE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "common.h"

#define RESPONSE_MAX_HEADERS (8 * 1024)
#define RESPONSE_MAX_BODY (256 * 1024)

/* Which cookie attributes to send; see response_set_cookie(). */
struct cookie_spec {
	const char *name;
	bool secure;
	long max_age; /* seconds; -1 = session cookie (ends with the browser) */
};

/*
 * Owns its buffers; free with response_free(). A header value with a
 * control character, or any buffer overflow, sets `failed`, and the server
 * then sends a 500 instead (never a header split in two).
 */
struct response {
	int status;
	const char *content_type; /* static string, NULL for no body */
	struct buf headers;       /* "Name: value\r\n" lines */
	struct buf body;
	bool failed;
};

void response_init(struct response *resp);
void response_free(struct response *resp);

/* Appends one header line; refuses names or values with control bytes. */
void response_header(struct response *resp, const char *name,
		     const char *value, size_t value_len);

/*
 * The only writer of Set-Cookie: always HttpOnly, SameSite=Lax, Path=/,
 * Secure when spec->secure, Max-Age only when spec->max_age >= 0 (0
 * expires the cookie). `value` must be a cookie-octet string (tokens are
 * base64url); anything else fails the response.
 */
void response_set_cookie(struct response *resp, const struct cookie_spec *spec,
			 const char *value);

/* Headers every page authgate serves carries (CSP, framing, caching). */
void response_page_headers(struct response *resp);

/*
 * Serializes status line, headers and body as a CGI response ("Status:
 * 200 OK\r\n...\r\n\r\nbody") into `out`.
 */
void response_serialize(const struct response *resp, struct buf *out);

/* Reason phrase for the status codes authgate uses. */
const char *response_reason(int status);

#endif
