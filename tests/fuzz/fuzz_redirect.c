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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *target = fuzz_dup(data, size);

	if (redirect_is_local(target, size))
		fuzz_assert_local_target(target, size);
	free(target);
	return 0;
}
