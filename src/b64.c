/* base64url without padding (RFC 4648 sections 5 and 3.5), and standard
 * base64 with padding (section 4). */
#include "b64.h"

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value 0..63 of an alphabet character, or -1. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* The same for the standard alphabet. */
static int b64_value(unsigned char c)
{
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '-' || c == '_')
		return -1;
	return b64url_value(c);
}

enum parse_result b64url_encode(const uint8_t *in, size_t len, char *out,
				size_t out_cap)
{
	size_t i, n = 0;
	uint32_t v;

	/* B64URL_LEN multiplies by 4: refuse lengths that would wrap. */
	if (len > (SIZE_MAX - 2) / 4 || out_cap < B64URL_LEN(len) + 1) {
		if (out_cap > 0)
			out[0] = '\0';
		return PARSE_TOO_LONG;
	}

	for (i = 0; len - i >= 3; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[n++] = b64url_alphabet[v >> 18];
		out[n++] = b64url_alphabet[(v >> 12) & 0x3f];
		out[n++] = b64url_alphabet[(v >> 6) & 0x3f];
		out[n++] = b64url_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[n++] = b64url_alphabet[v >> 18];
		out[n++] = b64url_alphabet[(v >> 12) & 0x3f];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[n++] = b64url_alphabet[v >> 18];
		out[n++] = b64url_alphabet[(v >> 12) & 0x3f];
		out[n++] = b64url_alphabet[(v >> 6) & 0x3f];
	}
	out[n] = '\0';
	return PARSE_OK;
}

/*
 * Unpadded decoding with the alphabet of `value`. Validates everything
 * first, so malformed input is PARSE_INVALID whatever out_cap is; on any
 * error `*out_len` is 0.
 */
static enum parse_result decode(const char *in, size_t len,
				int (*value)(unsigned char), uint8_t *out,
				size_t out_cap, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t rem = len % 4, full = len - rem, need, i, n = 0;
	uint32_t v;

	*out_len = 0;
	if (rem == 1)
		return PARSE_INVALID;
	for (i = 0; i < len; i++) {
		if (value(p[i]) < 0)
			return PARSE_INVALID;
	}
	/*
	 * The last character of a partial group carries bits past the end of
	 * the data; they must be zero or two strings would decode the same.
	 */
	if (rem == 2 && (value(p[len - 1]) & 0x0f) != 0)
		return PARSE_INVALID;
	if (rem == 3 && (value(p[len - 1]) & 0x03) != 0)
		return PARSE_INVALID;

	need = full / 4 * 3 + (rem ? rem - 1 : 0);
	if (need > out_cap)
		return PARSE_TOO_LONG;

	for (i = 0; i < full; i += 4) {
		v = (uint32_t)value(p[i]) << 18 |
		    (uint32_t)value(p[i + 1]) << 12 |
		    (uint32_t)value(p[i + 2]) << 6 |
		    (uint32_t)value(p[i + 3]);
		out[n++] = (uint8_t)(v >> 16);
		out[n++] = (uint8_t)(v >> 8);
		out[n++] = (uint8_t)v;
	}
	if (rem >= 2) {
		v = (uint32_t)value(p[i]) << 18 |
		    (uint32_t)value(p[i + 1]) << 12;
		if (rem == 3)
			v |= (uint32_t)value(p[i + 2]) << 6;
		out[n++] = (uint8_t)(v >> 16);
		if (rem == 3)
			out[n++] = (uint8_t)(v >> 8);
	}
	*out_len = n;
	return PARSE_OK;
}

enum parse_result b64url_decode(const char *in, size_t len, uint8_t *out,
				size_t out_cap, size_t *out_len)
{
	return decode(in, len, b64url_value, out, out_cap, out_len);
}

enum parse_result b64_decode(const char *in, size_t len, uint8_t *out,
			     size_t out_cap, size_t *out_len)
{
	size_t padding = 0;

	*out_len = 0;
	if (len % 4 != 0)
		return PARSE_INVALID;
	while (padding < 2 && padding < len && in[len - 1 - padding] == '=')
		padding++;
	/* What is left is unpadded base64 whose last group is 4 - padding
	 * characters long; a third '=' makes it 1, which decode() refuses. */
	return decode(in, len - padding, b64_value, out, out_cap, out_len);
}
