/* Validation of user-supplied identity fields. */
#include "validate.h"

#include <string.h>

/*
 * Well-formed UTF-8 per Unicode 15, table 3-7: the second byte's range
 * depends on the lead byte, which is what rules out overlongs (C0, C1, E0
 * 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points past U+10FFFF
 * (F4 90.., F5..FF).
 */
bool validate_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (k = 2; k <= n; k++) {
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return false;
		}
		i += n + 1;
	}
	return true;
}

/* No byte below `lowest` (0x20: C0 controls; 0x21: also space), no DEL,
 * no C1 control; `s` is valid UTF-8. */
static bool no_controls(const unsigned char *p, size_t len, unsigned lowest)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < lowest || p[i] == 0x7f)
			return false;
		/* C1 controls U+0080..U+009F are encoded C2 80..C2 9F. */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

bool validate_username(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len == 0 || len > USERNAME_MAX_LEN)
		return false;
	if (!validate_utf8(s, len))
		return false;
	if (p[0] == ' ' || p[len - 1] == ' ')
		return false;
	return no_controls(p, len, 0x20);
}

bool validate_email(const char *s, size_t len)
{
	const char *at;

	if (len < EMAIL_MIN_LEN || len > EMAIL_MAX_LEN || !validate_utf8(s, len))
		return false;
	at = memchr(s, '@', len);
	return at != NULL && at != s &&
	       no_controls((const unsigned char *)s, len, 0x21);
}

bool validate_new_password(const char *s, size_t len)
{
	size_t chars = 0;

	if (!validate_password(s, len))
		return false;
	/* Characters, not bytes, when it is UTF-8: "ééé" is three. */
	if (!validate_utf8(s, len))
		return len >= PASSWORD_MIN_CHARS;
	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	return chars >= PASSWORD_MIN_CHARS;
}

bool validate_password(const char *s, size_t len)
{
	if (len == 0 || len > PASSWORD_MAX_LEN)
		return false;
	return memchr(s, '\0', len) == NULL;
}
