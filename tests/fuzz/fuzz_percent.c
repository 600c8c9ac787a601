/*
 * percent_decode(), percent_decode_next() and percent_encode() over
 * arbitrary bytes.
 *
 * Properties: decoding agrees with a walk of percent_decode_next() and
 * with a tiny reference of the '%XX' rule; an output buffer one byte too
 * small gives PARSE_TOO_LONG for valid input and PARSE_INVALID for
 * malformed input whatever the capacity; encoding gives only unreserved
 * characters and upper-case %XX, NUL-terminated, refuses a buffer one byte
 * short, and decode(encode(x)) == x with and without '+' as space.
 */
#include <string.h>

#include "fuzz.h"
#include "percent.h"

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	       (c >= 'a' && c <= 'f');
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Independent statement of validity: every '%' starts "%XX". */
static bool reference_valid(const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] != '%')
			continue;
		if (len - i < 3 || !is_hex((unsigned char)in[i + 1]) ||
		    !is_hex((unsigned char)in[i + 2]))
			return false;
		i += 2;
	}
	return true;
}

/* Decodes into a buffer of exactly `cap` bytes; returns it (caller frees). */
static char *decode_into(const char *in, size_t len, size_t cap, bool plus,
			 enum parse_result *r, size_t *out_len)
{
	char *out = fuzz_alloc(cap);

	*out_len = 99;
	*r = percent_decode(in, len, out, cap, out_len, plus);
	FUZZ_ASSERT(*r == PARSE_OK || *r == PARSE_INVALID ||
		    *r == PARSE_TOO_LONG);
	if (*r != PARSE_OK)
		FUZZ_ASSERT(*out_len == 0);
	return out;
}

static void check_decode(const char *in, size_t len, bool plus)
{
	enum parse_result r, r2;
	size_t out_len, n, pos = 0, walked = 0;
	char *out, *small;
	bool valid = reference_valid(in, len);

	/* Decoding never lengthens: len bytes always suffice. */
	out = decode_into(in, len, len, plus, &r, &out_len);
	FUZZ_ASSERT(r == (valid ? PARSE_OK : PARSE_INVALID));

	if (r == PARSE_OK) {
		FUZZ_ASSERT(out_len <= len);
		while (pos < len) {
			unsigned char c = 0;

			FUZZ_ASSERT(percent_decode_next(in, len, &pos, plus,
							&c));
			FUZZ_ASSERT(walked < out_len &&
				    (unsigned char)out[walked] == c);
			walked++;
		}
		FUZZ_ASSERT(pos == len && walked == out_len);
	}

	/* Exact room, then one byte short. */
	if (r == PARSE_OK) {
		small = decode_into(in, len, out_len, plus, &r2, &n);
		FUZZ_ASSERT(r2 == PARSE_OK && n == out_len &&
			    (n == 0 || memcmp(small, out, n) == 0));
		free(small);
		if (out_len > 0) {
			small = decode_into(in, len, out_len - 1, plus, &r2, &n);
			FUZZ_ASSERT(r2 == PARSE_TOO_LONG);
			free(small);
		}
	} else {
		small = decode_into(in, len, len / 4, plus, &r2, &n);
		FUZZ_ASSERT(r2 == PARSE_INVALID);
		free(small);
	}
	free(out);
}

static void check_round_trip(const char *in, size_t len)
{
	size_t cap = 3 * len + 1, enc_len = 99, dec_len, i, n;
	char *enc = fuzz_alloc(cap), *dec, *short_buf;
	enum parse_result r;

	r = percent_encode(in, len, enc, cap, &enc_len);
	FUZZ_ASSERT(r == PARSE_OK);
	FUZZ_ASSERT(enc_len < cap && enc[enc_len] == '\0' &&
		    strlen(enc) == enc_len);
	for (i = 0; i < enc_len; i++) {
		unsigned char c = (unsigned char)enc[i];

		if (c == '%') {
			FUZZ_ASSERT(enc_len - i >= 3);
			FUZZ_ASSERT(is_hex((unsigned char)enc[i + 1]) &&
				    is_hex((unsigned char)enc[i + 2]));
			FUZZ_ASSERT(!(enc[i + 1] >= 'a' && enc[i + 1] <= 'f') &&
				    !(enc[i + 2] >= 'a' && enc[i + 2] <= 'f'));
			i += 2;
		} else {
			FUZZ_ASSERT(is_unreserved(c));
		}
	}

	/* The NUL must fit too: one byte short is too long, and says so. */
	short_buf = fuzz_alloc(enc_len);
	r = percent_encode(in, len, short_buf, enc_len, &n);
	FUZZ_ASSERT(r == PARSE_TOO_LONG && n == 0);
	FUZZ_ASSERT(enc_len == 0 || short_buf[0] == '\0');
	free(short_buf);

	/* '+' never survives encoding, so both decoders give x back. */
	dec = decode_into(enc, enc_len, len, false, &r, &dec_len);
	FUZZ_ASSERT(r == PARSE_OK && dec_len == len &&
		    (len == 0 || memcmp(dec, in, len) == 0));
	free(dec);
	dec = decode_into(enc, enc_len, len, true, &r, &dec_len);
	FUZZ_ASSERT(r == PARSE_OK && dec_len == len &&
		    (len == 0 || memcmp(dec, in, len) == 0));
	free(dec);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_dup(data, size);

	check_decode(in, size, false);
	check_decode(in, size, true);
	check_round_trip(in, size);
	free(in);
	return 0;
}
