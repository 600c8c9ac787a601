/* Validation of user-supplied identity fields. Pure. */
#ifndef AUTHGATE_VALIDATE_H
#define AUTHGATE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define USERNAME_MAX_LEN 150  /* bytes; matches the CHECK in sql/install.sql */
#define PASSWORD_MAX_LEN 1024 /* bytes; longer ones are refused before hashing */
#define PASSWORD_MIN_CHARS 8  /* for new passwords chosen on the pages */
#define EMAIL_MIN_LEN 3       /* bytes; matches the CHECK in sql/install.sql */
#define EMAIL_MAX_LEN 254

/* True for well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool validate_utf8(const char *s, size_t len);

/*
 * A username is 1..USERNAME_MAX_LEN bytes of valid UTF-8 without control
 * characters (C0, DEL, C1 U+0080..U+009F) and without leading or trailing
 * spaces.
 */
bool validate_username(const char *s, size_t len);

/* A password is 1..PASSWORD_MAX_LEN bytes without NUL (argon2 takes bytes,
 * but bcrypt and C strings stop at NUL). */
bool validate_password(const char *s, size_t len);

/*
 * An email address as sql/install.sql accepts it: 3..254 bytes of valid
 * UTF-8, no space or control character, an '@' after the first byte.
 */
bool validate_email(const char *s, size_t len);

/* A new password: validate_password() and at least PASSWORD_MIN_CHARS
 * characters (bytes when it is not UTF-8). */
bool validate_new_password(const char *s, size_t len);

#endif
