/* base64url without padding (RFC 4648 section 5), for tokens, and standard
 * padded base64 (section 4), for HTTP Basic credentials. Pure. */
#ifndef AUTHGATE_B64_H
#define AUTHGATE_B64_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Length of the encoding of n bytes, without NUL. */
#define B64URL_LEN(n) (((n) * 4 + 2) / 3)

/*
 * Encodes `in` into `out` as NUL-terminated base64url without '='.
 * PARSE_TOO_LONG when out_cap < B64URL_LEN(len) + 1.
 */
enum parse_result b64url_encode(const uint8_t *in, size_t len, char *out,
				size_t out_cap) AG_MUST_CHECK;

/*
 * Strict decoding: only the base64url alphabet, no padding, no whitespace,
 * unused trailing bits must be zero (so every byte string has exactly one
 * encoding), length mod 4 != 1. PARSE_TOO_LONG when the result exceeds
 * out_cap.
 */
enum parse_result b64url_decode(const char *in, size_t len, uint8_t *out,
				size_t out_cap, size_t *out_len) AG_MUST_CHECK;

/* Length of the decoding of n padded base64 characters, at most. */
#define B64_DECODED_MAX(n) ((n) / 4 * 3)

/*
 * Strict decoding of standard base64 (alphabet A-Z a-z 0-9 + /) with '='
 * padding, as in RFC 7617's Basic credentials: the length is a multiple of
 * 4, '=' only as the last one or two characters, no whitespace, unused
 * trailing bits zero (one encoding per byte string). PARSE_TOO_LONG when
 * the result exceeds out_cap.
 */
enum parse_result b64_decode(const char *in, size_t len, uint8_t *out,
			     size_t out_cap, size_t *out_len) AG_MUST_CHECK;

#endif
