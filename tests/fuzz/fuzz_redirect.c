/*
 * redirect_is_local() over arbitrary `next` targets.
 *
 * Property (the open-redirect rule of the SPEC): whenever it answers true,
 * the target is 1..REDIRECT_MAX_LEN bytes, starts with '/', does not start
 * with "//" or "/\", and holds only printable ASCII without space
 * (0x21..0x7e), so it can carry neither a scheme nor another host, not
 * even after a browser strips control characters.
 */
#include "fuzz.h"
#include "redirect.h"

/* Aborts unless `t` satisfies everything a local target must. */
static void assert_local(const char *t, size_t len)
{
	const unsigned char *p = (const unsigned char *)t;
	size_t i;

	FUZZ_ASSERT(len >= 1 && len <= REDIRECT_MAX_LEN);
	FUZZ_ASSERT(p[0] == '/');
	FUZZ_ASSERT(len < 2 || (p[1] != '/' && p[1] != '\\'));
	for (i = 0; i < len; i++)
		FUZZ_ASSERT(p[i] >= 0x21 && p[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *target = fuzz_dup(data, size);

	if (redirect_is_local(target, size))
		assert_local(target, size);
	free(target);
	return 0;
}
