/* The `next` redirect target check. */
#include "redirect.h"

/*
 * A target starting with a single '/' cannot carry a scheme or an authority,
 * so the checks below are all that is needed: the first byte, the second
 * byte, and the byte range that browsers would strip or reinterpret.
 */
bool redirect_is_local(const char *target, size_t len)
{
	const unsigned char *p = (const unsigned char *)target;
	size_t i;

	if (len == 0 || len > REDIRECT_MAX_LEN)
		return false;
	if (p[0] != '/')
		return false;
	if (len >= 2 && (p[1] == '/' || p[1] == '\\'))
		return false;
	/* Printable ASCII without space: 0x21 '!' .. 0x7e '~'. */
	for (i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	}
	return true;
}
