#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "percent.h"
#include "unit.h"

struct decode_case {
	const char *in;
	size_t in_len;
	bool plus_is_space;
	enum parse_result result;
	const char *out;
	size_t out_len;
};

static const struct decode_case decode_cases[] = {
	{ S(""), false, PARSE_OK, S("") },
	{ S("abc"), false, PARSE_OK, S("abc") },
	{ S("a%20b"), false, PARSE_OK, S("a b") },
	{ S("a+b"), true, PARSE_OK, S("a b") },
	{ S("a+b"), false, PARSE_OK, S("a+b") },
	{ S("%2B"), true, PARSE_OK, S("+") },
	{ S("%41%42"), false, PARSE_OK, S("AB") },
	{ S("%4a%4A"), false, PARSE_OK, S("JJ") },
	{ S("%00"), false, PARSE_OK, S("\0") },
	{ S("a%00b"), false, PARSE_OK, S("a\0b") },
	{ S("a\0b"), false, PARSE_OK, S("a\0b") },
	{ S("%C3%A9"), false, PARSE_OK, S("\xc3\xa9") },
	{ S("\xc3\xa9"), false, PARSE_OK, S("\xc3\xa9") },
	{ S("%ff%FF"), false, PARSE_OK, S("\xff\xff") },
	{ S("%2525"), false, PARSE_OK, S("%25") },
	{ S("%"), false, PARSE_INVALID, S("") },
	{ S("%4"), false, PARSE_INVALID, S("") },
	{ S("a%"), false, PARSE_INVALID, S("") },
	{ S("100%"), false, PARSE_INVALID, S("") },
	{ S("%4g"), false, PARSE_INVALID, S("") },
	{ S("%g4"), false, PARSE_INVALID, S("") },
	{ S("%zz"), false, PARSE_INVALID, S("") },
	{ S("%%41"), false, PARSE_INVALID, S("") },
	{ S("%+1"), true, PARSE_INVALID, S("") },
	{ S("%-1"), false, PARSE_INVALID, S("") },
	{ S("% 1"), false, PARSE_INVALID, S("") },
	{ S("%\0" "1"), false, PARSE_INVALID, S("") },
	{ S("ok%41%"), false, PARSE_INVALID, S("") },
};

Test(percent, decode_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		char *in = dup_exact(c->in, c->in_len);
		char out[64];
		size_t out_len = 99;
		enum parse_result r;

		r = percent_decode(in, c->in_len, out, sizeof(out), &out_len,
				   c->plus_is_space);
		cr_assert_eq(r, c->result, "case %zu: result %d, want %d", i,
			     r, c->result);
		if (r == PARSE_OK) {
			cr_assert_eq(out_len, c->out_len, "case %zu: len", i);
			cr_assert_eq(memcmp(out, c->out, out_len), 0,
				     "case %zu: bytes", i);
		} else {
			cr_assert_eq(out_len, 0, "case %zu: len on error", i);
		}
		free(in);
	}
}

Test(percent, decode_respects_input_length)
{
	/* The hex digit after the cut must not be read. */
	char *in = dup_exact("a%4", 3);
	char out[8];
	size_t out_len;

	cr_assert_eq(percent_decode(in, 3, out, sizeof(out), &out_len, false),
		     PARSE_INVALID);
	free(in);
}

Test(percent, decode_exactly_fits)
{
	char out[3];
	size_t out_len;

	cr_assert_eq(percent_decode("%41b+", 5, out, 3, &out_len, true),
		     PARSE_OK);
	cr_assert_eq(out_len, 3);
	cr_assert_eq(memcmp(out, "Ab ", 3), 0);
}

Test(percent, decode_one_too_long)
{
	char out[2];
	size_t out_len = 99;

	cr_assert_eq(percent_decode("%41b+", 5, out, 2, &out_len, true),
		     PARSE_TOO_LONG);
	cr_assert_eq(out_len, 0);
}

Test(percent, decode_zero_capacity)
{
	size_t out_len = 99;

	cr_assert_eq(percent_decode("", 0, NULL, 0, &out_len, false),
		     PARSE_OK);
	cr_assert_eq(out_len, 0);
	cr_assert_eq(percent_decode("a", 1, NULL, 0, &out_len, false),
		     PARSE_TOO_LONG);
}

Test(percent, decode_malformed_wins_over_too_long)
{
	char out[1];
	size_t out_len;

	/* Malformed after the point where the output is already full. */
	cr_assert_eq(percent_decode("abc%zz", 6, out, 1, &out_len, false),
		     PARSE_INVALID);
}

struct encode_case {
	const char *in;
	size_t in_len;
	const char *out;
};

static const struct encode_case encode_cases[] = {
	{ S(""), "" },
	{ S("abc"), "abc" },
	{ S("AZaz09-._~"), "AZaz09-._~" },
	{ S("a b"), "a%20b" },
	{ S("+"), "%2B" },
	{ S("%"), "%25" },
	{ S("/ok?x=1#y"), "%2Fok%3Fx%3D1%23y" },
	{ S("a&b=c"), "a%26b%3Dc" },
	{ S("\0"), "%00" },
	{ S("a\0b"), "a%00b" },
	{ S("\xff\x80\x7f"), "%FF%80%7F" },
	{ S("\xc3\xa9"), "%C3%A9" },
	{ S("\r\n"), "%0D%0A" },
	{ S("!*'();:@$,[]"), "%21%2A%27%28%29%3B%3A%40%24%2C%5B%5D" },
};

Test(percent, encode_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(encode_cases); i++) {
		const struct encode_case *c = &encode_cases[i];
		char *in = dup_exact(c->in, c->in_len);
		char out[64];
		size_t out_len = 99;

		cr_assert_eq(percent_encode(in, c->in_len, out, sizeof(out),
					    &out_len),
			     PARSE_OK, "case %zu", i);
		cr_assert_str_eq(out, c->out, "case %zu", i);
		cr_assert_eq(out_len, strlen(c->out), "case %zu", i);
		free(in);
	}
}

Test(percent, encode_exactly_fits_with_nul)
{
	char out[8];
	size_t out_len;

	/* "a%20b" is 5 bytes plus the NUL. */
	cr_assert_eq(percent_encode("a b", 3, out, 6, &out_len), PARSE_OK);
	cr_assert_str_eq(out, "a%20b");
	cr_assert_eq(out_len, 5);
}

Test(percent, encode_no_room_for_nul_is_too_long)
{
	char out[8];
	size_t out_len = 99;

	memset(out, 'z', sizeof(out));
	cr_assert_eq(percent_encode("a b", 3, out, 5, &out_len),
		     PARSE_TOO_LONG);
	cr_assert_eq(out_len, 0);
	cr_assert_str_eq(out, "", "no partial encoding is left behind");
	cr_assert_eq(out[5], 'z', "nothing written past out_cap");
}

Test(percent, encode_escape_split_by_cap_is_too_long)
{
	char out[8];
	size_t out_len;

	/* Room for "a%2" only: an escape must never be cut in half. */
	cr_assert_eq(percent_encode("a b", 3, out, 4, &out_len),
		     PARSE_TOO_LONG);
	cr_assert_str_eq(out, "");
}

Test(percent, encode_zero_capacity)
{
	size_t out_len;

	cr_assert_eq(percent_encode("", 0, NULL, 0, &out_len), PARSE_TOO_LONG);
}

Test(percent, round_trip_every_byte)
{
	char in[256], enc[256 * 3 + 1], dec[256];
	size_t i, enc_len, dec_len;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	cr_assert_eq(percent_encode(in, sizeof(in), enc, sizeof(enc),
				    &enc_len),
		     PARSE_OK);
	cr_assert_eq(enc_len, sizeof(enc) - 1 - 66 * 2,
		     "66 unreserved bytes stay single");
	cr_assert_eq(percent_decode(enc, enc_len, dec, sizeof(dec), &dec_len,
				    true),
		     PARSE_OK);
	cr_assert_eq(dec_len, sizeof(in));
	cr_assert_eq(memcmp(dec, in, sizeof(in)), 0);
}

Test(percent, round_trip_pseudo_random)
{
	uint64_t state = 12345;
	size_t len, i;

	for (len = 0; len <= 64; len++) {
		char in[64], enc[64 * 3 + 1], dec[64];
		size_t enc_len, dec_len;

		for (i = 0; i < len; i++) {
			/* LCG modulo 2^31, computed without wrapping. */
			state = (state * 1103515245u + 12345u) & 0x7fffffffu;
			in[i] = (char)(state >> 23);
		}
		cr_assert_eq(percent_encode(in, len, enc, sizeof(enc),
					    &enc_len),
			     PARSE_OK, "len %zu", len);
		cr_assert_eq(strlen(enc), enc_len);
		cr_assert_eq(percent_decode(enc, enc_len, dec, sizeof(dec),
					    &dec_len, false),
			     PARSE_OK, "len %zu", len);
		cr_assert_eq(dec_len, len);
		cr_assert_eq(memcmp(dec, in, len), 0, "len %zu", len);
	}
}
