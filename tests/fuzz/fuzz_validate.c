/*
 * validate_utf8(), validate_username() and validate_password() over
 * arbitrary bytes, each compared with a reference written from the
 * contracts in validate.h.
 *
 * The UTF-8 reference decodes code points arithmetically (rather than by
 * the table of byte ranges validate.c uses) and then rejects overlong
 * forms, surrogates and values past U+10FFFF.
 */
#include <string.h>

#include "fuzz.h"
#include "validate.h"

/*
 * Decodes the sequence at s[*i]; false when it is not well-formed UTF-8.
 * On success stores the code point and moves *i past it.
 */
static bool reference_next(const unsigned char *s, size_t len, size_t *i,
			   uint32_t *cp)
{
	static const uint32_t min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned char lead = s[*i];
	size_t n, k;
	uint32_t v;

	if (lead < 0x80) {
		*cp = lead;
		*i += 1;
		return true;
	}
	if ((lead & 0xe0) == 0xc0) {
		n = 2;
		v = lead & 0x1f;
	} else if ((lead & 0xf0) == 0xe0) {
		n = 3;
		v = lead & 0x0f;
	} else if ((lead & 0xf8) == 0xf0) {
		n = 4;
		v = lead & 0x07;
	} else {
		return false; /* continuation byte or 0xf8.. */
	}
	if (len - *i < n)
		return false;
	for (k = 1; k < n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return false;
		v = v << 6 | (s[*i + k] & 0x3f);
	}
	if (v < min_for_len[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return false;
	*cp = v;
	*i += n;
	return true;
}

static bool reference_utf8(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		if (!reference_next((const unsigned char *)s, len, &i, &cp))
			return false;
	}
	return true;
}

static bool reference_username(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	if (len < 1 || len > USERNAME_MAX_LEN)
		return false;
	if (s[0] == ' ' || s[len - 1] == ' ')
		return false;
	while (i < len) {
		if (!reference_next((const unsigned char *)s, len, &i, &cp))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
	}
	return true;
}

static bool reference_password(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > PASSWORD_MAX_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_dup(data, size);
	size_t i;

	FUZZ_ASSERT(validate_utf8(s, size) == reference_utf8(s, size));
	FUZZ_ASSERT(validate_username(s, size) == reference_username(s, size));
	FUZZ_ASSERT(validate_password(s, size) == reference_password(s, size));

	/* The input less its last 1..8 bytes too: a sequence cut short at
	 * the very end of a buffer is where an over-read would hide. */
	for (i = 0; i < size && i < 8; i++) {
		char *prefix = fuzz_dup(s, size - i - 1);

		FUZZ_ASSERT(validate_utf8(prefix, size - i - 1) ==
			    reference_utf8(prefix, size - i - 1));
		FUZZ_ASSERT(validate_username(prefix, size - i - 1) ==
			    reference_username(prefix, size - i - 1));
		free(prefix);
	}
	free(s);
	return 0;
}
