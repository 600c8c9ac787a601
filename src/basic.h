/* HTTP Basic credentials (RFC 7617) from an Authorization header. Pure. */
#ifndef AUTHGATE_BASIC_H
#define AUTHGATE_BASIC_H

#include <stddef.h>

#include "b64.h"
#include "common.h"
#include "validate.h"

/* The longest credentials worth decoding: a maximal username, ':' and a
 * maximal password, in base64. Anything longer is refused unread. */
#define BASIC_CREDENTIALS_MAX (USERNAME_MAX_LEN + 1 + PASSWORD_MAX_LEN)
#define BASIC_ENCODED_MAX ((BASIC_CREDENTIALS_MAX + 2) / 3 * 4)

struct basic_credentials {
	char username[USERNAME_MAX_LEN + 1]; /* NUL-terminated */
	size_t username_len;
	char password[PASSWORD_MAX_LEN + 1]; /* NUL-terminated */
	size_t password_len;
};

/*
 * Parses an Authorization header value "Basic <base64(user:password)>"
 * (scheme in any case, one space). The user is what precedes the first
 * ':', and must pass validate_username() (UTF-8, no control characters);
 * the password must be valid UTF-8 without NUL, 1..PASSWORD_MAX_LEN bytes
 * (the charset="UTF-8" our challenge announces).
 *
 * PARSE_ABSENT when the header is not a Basic one, PARSE_INVALID when it
 * is malformed, PARSE_TOO_LONG when the username or the password is over
 * its limit. On anything but PARSE_OK, `out` holds empty strings. The
 * caller wipes `out` (explicit_bzero) after use: it holds a password.
 */
enum parse_result basic_parse(const char *header, size_t len,
			      struct basic_credentials *out) AG_MUST_CHECK;

#endif
