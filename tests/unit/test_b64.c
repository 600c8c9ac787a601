#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "unit.h"

struct vector {
	const char *raw;
	size_t raw_len;
	const char *enc;
};

/* RFC 4648 section 10 (padding dropped) and bytes that use '-' and '_'. */
static const struct vector vectors[] = {
	{ S(""), "" },
	{ S("f"), "Zg" },
	{ S("fo"), "Zm8" },
	{ S("foo"), "Zm9v" },
	{ S("foob"), "Zm9vYg" },
	{ S("fooba"), "Zm9vYmE" },
	{ S("foobar"), "Zm9vYmFy" },
	{ S("\xfb\xff"), "-_8" },
	{ S("\xff\xff\xff"), "____" },
	{ S("\xfb\xef\xbe"), "----" },
	{ S("\0"), "AA" },
	{ S("\0\0\0"), "AAAA" },
	{ S("\x03\xe0"), "A-A" },
};

Test(b64, encode_vectors)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		char out[16];

		cr_assert_eq(b64url_encode((const uint8_t *)v->raw, v->raw_len,
					   out, sizeof(out)),
			     PARSE_OK, "case %zu", i);
		cr_assert_str_eq(out, v->enc, "case %zu", i);
		cr_assert_eq(strlen(out), B64URL_LEN(v->raw_len), "case %zu",
			     i);
	}
}

Test(b64, decode_vectors)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		size_t enc_len = strlen(v->enc), out_len = 99;
		char *in = dup_exact(v->enc, enc_len);
		uint8_t out[16];

		cr_assert_eq(b64url_decode(in, enc_len, out, sizeof(out),
					   &out_len),
			     PARSE_OK, "case %zu", i);
		cr_assert_eq(out_len, v->raw_len, "case %zu", i);
		cr_assert_eq(memcmp(out, v->raw, out_len), 0, "case %zu", i);
		free(in);
	}
}

struct invalid_case {
	const char *in;
	size_t len;
};

static const struct invalid_case invalid_cases[] = {
	{ S("Z") },        /* length mod 4 == 1 */
	{ S("Zm9vY") },
	{ S("Zg==") },     /* padding */
	{ S("Zm8=") },
	{ S("Zm9v Yg") },  /* whitespace */
	{ S("Zm9v\nYg") },
	{ S(" Zm9v") },
	{ S("Zm+v") },     /* standard alphabet, not url */
	{ S("Zm/v") },
	{ S("Zh") },       /* non-zero trailing bits */
	{ S("Zm9") },
	{ S("-_9") },
	{ S("Zm8\0") },    /* NUL inside */
	{ S("\0\0\0\0") },
	{ S("Zm\xc3\xa9") }, /* non-ASCII */
	{ S("Zm9v\x80") },
	{ S("Zm.v") },
};

Test(b64, decode_invalid_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		char *in = dup_exact(c->in, c->len);
		uint8_t out[16];
		size_t out_len = 99;

		cr_assert_eq(b64url_decode(in, c->len, out, sizeof(out),
					   &out_len),
			     PARSE_INVALID, "case %zu", i);
		cr_assert_eq(out_len, 0, "case %zu", i);
		free(in);
	}
}

Test(b64, round_trip_every_length)
{
	uint64_t state = 0x2545f491;
	size_t len, i;

	for (len = 0; len <= 64; len++) {
		uint8_t raw[64], back[64];
		char enc[B64URL_LEN(64) + 1];
		size_t back_len = 99;

		for (i = 0; i < len; i++) {
			/* xorshift32, masked so no bits are shifted out. */
			state ^= (state << 13) & 0xffffffffu;
			state ^= state >> 17;
			state ^= (state << 5) & 0xffffffffu;
			raw[i] = (uint8_t)state;
		}
		cr_assert_eq(b64url_encode(raw, len, enc, B64URL_LEN(len) + 1),
			     PARSE_OK, "len %zu", len);
		cr_assert_eq(strlen(enc), B64URL_LEN(len), "len %zu", len);
		cr_assert_eq(strcspn(enc, "+/="), strlen(enc), "len %zu", len);
		cr_assert_eq(b64url_decode(enc, strlen(enc), back, len,
					   &back_len),
			     PARSE_OK, "len %zu", len);
		cr_assert_eq(back_len, len, "len %zu", len);
		cr_assert_eq(memcmp(back, raw, len), 0, "len %zu", len);
	}
}

Test(b64, session_token_is_43_chars)
{
	uint8_t token[32], back[32];
	char enc[64];
	size_t i, back_len;

	for (i = 0; i < sizeof(token); i++)
		token[i] = (uint8_t)(i * 37 + 11);
	cr_assert_eq(B64URL_LEN(32), 43);
	cr_assert_eq(b64url_encode(token, sizeof(token), enc, sizeof(enc)),
		     PARSE_OK);
	cr_assert_eq(strlen(enc), 43);
	cr_assert_eq(b64url_decode(enc, 43, back, sizeof(back), &back_len),
		     PARSE_OK);
	cr_assert_eq(back_len, 32);
	cr_assert_eq(memcmp(back, token, 32), 0);
}

Test(b64, encode_exact_capacity)
{
	char out[5];

	cr_assert_eq(b64url_encode((const uint8_t *)"foo", 3, out, 5),
		     PARSE_OK);
	cr_assert_str_eq(out, "Zm9v");
}

Test(b64, encode_no_room_for_nul)
{
	char out[5];

	memset(out, 'z', sizeof(out));
	cr_assert_eq(b64url_encode((const uint8_t *)"foo", 3, out, 4),
		     PARSE_TOO_LONG);
	cr_assert_str_eq(out, "");
	cr_assert_eq(out[4], 'z', "nothing written past out_cap");
}

Test(b64, encode_zero_capacity)
{
	cr_assert_eq(b64url_encode((const uint8_t *)"", 0, NULL, 0),
		     PARSE_TOO_LONG);
}

Test(b64, encode_huge_length_does_not_wrap)
{
	char out[8];

	/* B64URL_LEN(SIZE_MAX) wraps; must be refused without reading. */
	cr_assert_eq(b64url_encode((const uint8_t *)"x", SIZE_MAX, out,
				   sizeof(out)),
		     PARSE_TOO_LONG);
	cr_assert_eq(b64url_encode((const uint8_t *)"x", SIZE_MAX / 4, out,
				   sizeof(out)),
		     PARSE_TOO_LONG);
}

Test(b64, decode_exact_capacity)
{
	uint8_t out[4];
	size_t out_len;

	cr_assert_eq(b64url_decode("Zm9vYg", 6, out, 4, &out_len), PARSE_OK);
	cr_assert_eq(out_len, 4);
	cr_assert_eq(memcmp(out, "foob", 4), 0);
}

Test(b64, decode_one_byte_short)
{
	uint8_t out[4];
	size_t out_len = 99;

	cr_assert_eq(b64url_decode("Zm9vYg", 6, out, 3, &out_len),
		     PARSE_TOO_LONG);
	cr_assert_eq(out_len, 0);
}

Test(b64, decode_invalid_wins_over_too_long)
{
	uint8_t out[1];
	size_t out_len;

	cr_assert_eq(b64url_decode("Zm9v!!", 6, out, 1, &out_len),
		     PARSE_INVALID);
}

Test(b64, decode_empty)
{
	size_t out_len = 99;

	cr_assert_eq(b64url_decode(NULL, 0, NULL, 0, &out_len), PARSE_OK);
	cr_assert_eq(out_len, 0);
}

Test(b64, decode_respects_length)
{
	/* "Zm9vYg" cut to 5 characters has length mod 4 == 1. */
	char *in = dup_exact("Zm9vYg", 5);
	uint8_t out[8];
	size_t out_len;

	cr_assert_eq(b64url_decode(in, 5, out, sizeof(out), &out_len),
		     PARSE_INVALID);
	cr_assert_eq(b64url_decode(in, 4, out, sizeof(out), &out_len),
		     PARSE_OK);
	cr_assert_eq(out_len, 3);
	free(in);
}

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

Test(b64, every_byte_has_one_two_char_encoding)
{
	unsigned seen[256] = { 0 };
	size_t i, j, accepted = 0;

	for (i = 0; i < 64; i++) {
		for (j = 0; j < 64; j++) {
			char in[2] = { alphabet[i], alphabet[j] };
			uint8_t out[1];
			size_t out_len;

			if (b64url_decode(in, 2, out, 1, &out_len) != PARSE_OK)
				continue;
			cr_assert_eq(out_len, 1);
			seen[out[0]]++;
			accepted++;
		}
	}
	cr_assert_eq(accepted, 256);
	for (i = 0; i < 256; i++)
		cr_assert_eq(seen[i], 1, "byte %zu", i);
}

Test(b64, three_char_groups_accept_only_zero_trailing_bits)
{
	size_t i, accepted = 0;

	/* "Zm" then each last character: 2 trailing bits must be zero. */
	for (i = 0; i < 64; i++) {
		char in[3] = { 'Z', 'm', alphabet[i] };
		uint8_t out[2];
		size_t out_len;

		if (b64url_decode(in, 3, out, 2, &out_len) == PARSE_OK)
			accepted++;
	}
	cr_assert_eq(accepted, 16);
}

/* Standard base64 with padding (RFC 4648 section 4): the test vectors of
 * section 10, and the two characters that differ from base64url. */
static const struct vector padded_vectors[] = {
	{ S(""), "" },
	{ S("f"), "Zg==" },
	{ S("fo"), "Zm8=" },
	{ S("foo"), "Zm9v" },
	{ S("foobar"), "Zm9vYmFy" },
	{ S("\xfb\xff"), "+/8=" },
	{ S("\xff\xff\xff"), "////" },
};

Test(b64, padded_decode_vectors)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(padded_vectors); i++) {
		const struct vector *v = &padded_vectors[i];
		size_t enc_len = strlen(v->enc), out_len = 99;
		char *in = dup_exact(v->enc, enc_len);
		uint8_t out[16];

		cr_assert_eq(b64_decode(in, enc_len, out, sizeof(out), &out_len),
			     PARSE_OK, "case %zu", i);
		cr_assert_eq(out_len, v->raw_len, "case %zu", i);
		cr_assert(memcmp(out, v->raw, v->raw_len) == 0, "case %zu", i);
		free(in);
	}
}

Test(b64, padded_decode_invalid_table)
{
	static const char *const invalid[] = {
		"Zg",     /* padding missing */
		"Zg=",    /* length not a multiple of 4 */
		"Z===",   /* three '=' */
		"====",
		"Zg=a",   /* '=' inside */
		"Z=g=",
		"Zh==",   /* unused bits set: "Zg==" is the encoding */
		"Zm9=",
		"-_8=",   /* the base64url alphabet */
		"Zm9v ",  /* whitespace */
		"Zm9v\n",
		"Zm 9v",
	};

	for (size_t i = 0; i < AG_ARRAY_LEN(invalid); i++) {
		size_t len = strlen(invalid[i]), out_len = 99;
		char *in = dup_exact(invalid[i], len);
		uint8_t out[16];

		cr_assert_eq(b64_decode(in, len, out, sizeof(out), &out_len),
			     PARSE_INVALID, "case %zu: %s", i, invalid[i]);
		cr_assert_eq(out_len, 0, "case %zu", i);
		free(in);
	}
}

Test(b64, padded_decode_bounded_output)
{
	uint8_t out[2];
	size_t out_len = 99;

	cr_assert_eq(b64_decode(S("Zm8="), out, 2, &out_len), PARSE_OK);
	cr_assert_eq(out_len, 2);
	cr_assert_eq(b64_decode(S("Zm9v"), out, 2, &out_len), PARSE_TOO_LONG);
	cr_assert_eq(out_len, 0);
}
