/* Percent-encoding (RFC 3986 section 2.1) of URL components. */
#include "percent.h"

#include <stdint.h>

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

bool percent_decode_next(const char *in, size_t in_len, size_t *pos,
			 bool plus_is_space, unsigned char *byte)
{
	const unsigned char *p = (const unsigned char *)in + *pos;
	int hi, lo;

	if (p[0] != '%') {
		*byte = (p[0] == '+' && plus_is_space) ? ' ' : p[0];
		*pos += 1;
		return true;
	}
	if (in_len - *pos < 3)
		return false;
	hi = hex_value(p[1]);
	lo = hex_value(p[2]);
	if (hi < 0 || lo < 0)
		return false;
	*byte = (unsigned char)(hi * 16 + lo);
	*pos += 3;
	return true;
}

/*
 * Malformed input is reported as PARSE_INVALID even when the output also
 * ran out of room, so the answer for bad input never depends on out_cap.
 */
enum parse_result percent_decode(const char *in, size_t in_len, char *out,
				 size_t out_cap, size_t *out_len,
				 bool plus_is_space)
{
	size_t i = 0, n = 0;
	bool overflow = false;

	*out_len = 0;
	while (i < in_len) {
		unsigned char c;

		if (!percent_decode_next(in, in_len, &i, plus_is_space, &c))
			return PARSE_INVALID;
		if (overflow)
			continue;
		if (n == out_cap) {
			overflow = true;
			continue;
		}
		out[n++] = (char)c;
	}
	if (overflow)
		return PARSE_TOO_LONG;
	*out_len = n;
	return PARSE_OK;
}

enum parse_result percent_encode(const char *in, size_t in_len, char *out,
				 size_t out_cap, size_t *out_len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)in;
	size_t i, n = 0;

	*out_len = 0;
	for (i = 0; i < in_len; i++) {
		unsigned char c = p[i];
		size_t need = is_unreserved(c) ? 1 : 3;

		/* `need` bytes plus the NUL that must still fit after them. */
		if (out_cap - n <= need)
			goto too_long;
		if (need == 1) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0x0f];
		}
	}
	if (n >= out_cap)
		goto too_long;
	out[n] = '\0';
	*out_len = n;
	return PARSE_OK;
too_long:
	/* Never leave a partial encoding that looks like a complete one. */
	if (out_cap > 0)
		out[0] = '\0';
	return PARSE_TOO_LONG;
}
