/*
 * basic_parse() over arbitrary Authorization headers.
 *
 * Properties: PARSE_ABSENT exactly when the value does not start with
 * "Basic " (any case); on PARSE_OK the username and password pass their
 * validators, fit their limits, are NUL-terminated at their lengths, and
 * "username:password" is exactly what the base64 decodes to; on anything
 * else both are empty. The input is also tried behind "Basic " and as the
 * credentials themselves, base64-encoded behind "Basic ", so the decoded
 * path is reached often.
 */
#include <string.h>
#include <strings.h>

#include "../base64.h"
#include "basic.h"
#include "fuzz.h"

static const char scheme[] = "Basic ";

static void check(const char *header, size_t len)
{
	size_t scheme_len = sizeof(scheme) - 1, raw_len = 0;
	struct basic_credentials c;
	uint8_t raw[B64_DECODED_MAX(BASIC_ENCODED_MAX) + 4];
	bool is_basic = len >= scheme_len &&
			strncasecmp(header, scheme, scheme_len) == 0;
	enum parse_result r = basic_parse(header, len, &c);

	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_ABSENT || r == PARSE_INVALID ||
		    r == PARSE_TOO_LONG);
	FUZZ_ASSERT((r == PARSE_ABSENT) == !is_basic);
	if (r != PARSE_OK) {
		FUZZ_ASSERT(c.username[0] == '\0' && c.password[0] == '\0');
		return;
	}
	FUZZ_ASSERT(c.username_len <= USERNAME_MAX_LEN &&
		    c.password_len <= PASSWORD_MAX_LEN);
	FUZZ_ASSERT(c.username[c.username_len] == '\0' &&
		    c.password[c.password_len] == '\0');
	FUZZ_ASSERT(validate_username(c.username, c.username_len));
	FUZZ_ASSERT(validate_password(c.password, c.password_len));
	FUZZ_ASSERT(validate_utf8(c.password, c.password_len));
	FUZZ_ASSERT(memchr(c.username, ':', c.username_len) == NULL);
	FUZZ_ASSERT(b64_decode(header + scheme_len, len - scheme_len, raw,
			       sizeof(raw), &raw_len) == PARSE_OK);
	FUZZ_ASSERT(raw_len == c.username_len + 1 + c.password_len);
	FUZZ_ASSERT(memcmp(raw, c.username, c.username_len) == 0 &&
		    raw[c.username_len] == ':' &&
		    memcmp(raw + c.username_len + 1, c.password,
			   c.password_len) == 0);
}

/* "Basic " + standard padded base64 of data, of exactly `*len` bytes (no
 * NUL after it); free with free(). */
static char *encoded(const uint8_t *data, size_t size, size_t *len)
{
	char *b64 = fuzz_alloc(TEST_BASE64_LEN(size) + 1), *header;
	size_t b64_len = test_base64(data, size, b64);

	header = fuzz_prefixed(scheme, b64, b64_len, len);
	free(b64);
	return header;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size), *header;
	size_t len;

	check(text, size);

	header = fuzz_prefixed(scheme, data, size, &len);
	check(header, len);
	free(header);

	header = encoded(data, size, &len);
	check(header, len);
	free(header);
	free(text);
	return 0;
}
