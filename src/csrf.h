/*
 * CSRF defence for the login and logout posts: a per-browser random cookie
 * plus a form token that is an HMAC of it under the database-wide secret
 * (so any daemon can check any form), and an Origin / Sec-Fetch-Site check.
 */
#ifndef AUTHGATE_CSRF_H
#define AUTHGATE_CSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "request.h"
#include "session.h"

#define CSRF_KEY_LEN 32
#define CSRF_TOKEN_LEN SESSION_TOKEN_LEN

/* A new random value for the CSRF cookie. 0 or -1. */
int csrf_cookie_new(char value[CSRF_TOKEN_LEN + 1]) AG_MUST_CHECK;

/*
 * The form token for a CSRF cookie value; PARSE_INVALID when the cookie
 * value is not a well-formed token (then issue a new cookie).
 */
enum parse_result csrf_form_token(const uint8_t key[CSRF_KEY_LEN],
				  const char *cookie, size_t cookie_len,
				  char out[CSRF_TOKEN_LEN + 1]) AG_MUST_CHECK;

/* True when `form_token` is the token of `cookie`; constant time. */
bool csrf_verify(const uint8_t key[CSRF_KEY_LEN], const char *cookie,
		 size_t cookie_len, const char *form_token,
		 size_t form_token_len);

/*
 * False for a post that a browser marks as coming from another site:
 * Sec-Fetch-Site other than same-origin/none, or an Origin header that is
 * not this host (scheme https only when `secure`). Requests without either
 * header (old browsers, curl) pass on to the token check.
 */
bool csrf_same_origin(const struct request *req, bool secure);

#endif
