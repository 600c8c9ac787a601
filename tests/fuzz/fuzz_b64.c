/*
 * b64url_decode() and b64url_encode() over arbitrary bytes.
 *
 * Properties: decoding is strict, checked against an independent
 * statement of the rules (alphabet only, length mod 4 != 1, zero unused
 * bits), so every accepted text is the one encoding of its bytes:
 * encode(decode(x)) == x; encoding any bytes gives B64URL_LEN(n)
 * characters that decode back to them; both refuse a buffer one byte
 * short with PARSE_TOO_LONG.
 */
#include <string.h>

#include "b64.h"
#include "fuzz.h"

static int alphabet_value(unsigned char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* The strict rules, restated without looking at b64.c. */
static bool reference_canonical(const char *in, size_t len)
{
	size_t i;
	int last;

	if (len % 4 == 1)
		return false;
	for (i = 0; i < len; i++) {
		if (alphabet_value((unsigned char)in[i]) < 0)
			return false;
	}
	if (len % 4 == 0)
		return true;
	last = alphabet_value((unsigned char)in[len - 1]);
	/* 2 chars carry 12 bits for 8 (4 unused); 3 carry 18 for 16 (2). */
	return len % 4 == 2 ? (last & 0x0f) == 0 : (last & 0x03) == 0;
}

/* Decoded size of a canonical text of `len` characters. */
static size_t decoded_len(size_t len)
{
	return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}

static void check_decode(const char *in, size_t len)
{
	bool canonical = reference_canonical(in, len);
	size_t cap = decoded_len(len), out_len = 99, n, enc_cap;
	uint8_t *out = fuzz_alloc(cap), *small;
	char *enc;
	enum parse_result r;

	r = b64url_decode(in, len, out, cap, &out_len);
	FUZZ_ASSERT(r == (canonical ? PARSE_OK : PARSE_INVALID));
	if (r != PARSE_OK) {
		FUZZ_ASSERT(out_len == 0);
		/* Malformed stays malformed with no room at all. */
		r = b64url_decode(in, len, out, 0, &n);
		FUZZ_ASSERT(r == PARSE_INVALID && n == 0);
		free(out);
		return;
	}
	FUZZ_ASSERT(out_len == cap);

	if (out_len > 0) {
		small = fuzz_alloc(out_len - 1);
		r = b64url_decode(in, len, small, out_len - 1, &n);
		FUZZ_ASSERT(r == PARSE_TOO_LONG && n == 0);
		free(small);
	}

	/* Accepted text is the only encoding of its bytes. */
	enc_cap = B64URL_LEN(out_len) + 1;
	enc = fuzz_alloc(enc_cap);
	r = b64url_encode(out, out_len, enc, enc_cap);
	FUZZ_ASSERT(r == PARSE_OK);
	FUZZ_ASSERT(strlen(enc) == len && memcmp(enc, in, len) == 0);
	free(enc);
	free(out);
}

static void check_encode(const uint8_t *in, size_t len)
{
	size_t enc_len = B64URL_LEN(len), back_len = 99;
	char *enc = fuzz_alloc(enc_len + 1), *short_buf;
	uint8_t *back;
	enum parse_result r;

	r = b64url_encode(in, len, enc, enc_len + 1);
	FUZZ_ASSERT(r == PARSE_OK && strlen(enc) == enc_len);

	short_buf = fuzz_alloc(enc_len);
	r = b64url_encode(in, len, short_buf, enc_len);
	FUZZ_ASSERT(r == PARSE_TOO_LONG);
	FUZZ_ASSERT(enc_len == 0 || short_buf[0] == '\0');
	free(short_buf);

	back = fuzz_alloc(len);
	r = b64url_decode(enc, enc_len, back, len, &back_len);
	FUZZ_ASSERT(r == PARSE_OK && back_len == len &&
		    (len == 0 || memcmp(back, in, len) == 0));
	free(back);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);

	check_decode(text, size);
	check_encode((const uint8_t *)text, size);
	free(text);
	return 0;
}
