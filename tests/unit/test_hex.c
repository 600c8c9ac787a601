#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "hex.h"

Test(hex, decodes_lower_case)
{
	uint8_t out[4];
	static const uint8_t want[4] = {0x00, 0x9f, 0xa0, 0xff};

	cr_assert(hex_decode("009fa0ff", out, sizeof(out)));
	cr_assert_arr_eq(out, want, sizeof(want));
}

Test(hex, refuses_other_characters)
{
	uint8_t out[2];

	cr_assert_not(hex_decode("00FF", out, sizeof(out)));
	cr_assert_not(hex_decode("0g00", out, sizeof(out)));
	cr_assert_not(hex_decode("00 1", out, sizeof(out)));
	/* A NUL inside the expected length is an error, not an end. */
	cr_assert_not(hex_decode("00\0" "0", out, sizeof(out)));
}

Test(hex, decodes_nothing_for_zero_length)
{
	uint8_t out[1] = {0x5a};

	cr_assert(hex_decode("", out, 0));
	cr_assert_eq(out[0], 0x5a);
}
