/*
 * Standard padded base64 (RFC 4648 section 4) for the tests that build
 * Authorization: Basic headers: the daemon only decodes it. Header-only,
 * shared by the unit, fuzz and integration tests.
 */
#ifndef AUTHGATE_TESTS_BASE64_H
#define AUTHGATE_TESTS_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters test_base64() writes for `len` bytes, without NUL. */
#define TEST_BASE64_LEN(len) (((len) + 2) / 3 * 4)

/* Encodes `in` into `out`, which has room for TEST_BASE64_LEN(len) + 1;
 * NUL-terminates and returns the length. */
static inline size_t test_base64(const void *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = in;
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 |
			     (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);

		out[n++] = alphabet[v >> 18];
		out[n++] = alphabet[(v >> 12) & 0x3f];
		out[n++] = i + 1 < len ? alphabet[(v >> 6) & 0x3f] : '=';
		out[n++] = i + 2 < len ? alphabet[v & 0x3f] : '=';
	}
	out[n] = '\0';
	return n;
}

#endif
