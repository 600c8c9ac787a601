/*
 * json_string() over arbitrary bytes.
 *
 * Properties: the output is one valid JSON string literal: it starts and
 * ends with '"' and has no other unescaped '"', no raw control character
 * (nor DEL), and nothing that could end a <script> element or an HTML
 * attribute (< > & '); every backslash starts a valid JSON escape; and
 * decoding the literal gives the input bytes back.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escape at lit[*i] ('\\') to one byte; aborts when invalid. */
static unsigned char decode_escape(const char *lit, size_t len, size_t *i)
{
	static const char shorts[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char *s;
	int code = 0, k;

	FUZZ_ASSERT(len - *i >= 2);
	if (lit[*i + 1] == 'u') {
		FUZZ_ASSERT(len - *i >= 6);
		for (k = 2; k < 6; k++) {
			int d = hex_digit(lit[*i + (size_t)k]);

			FUZZ_ASSERT(d >= 0);
			code = code * 16 + d;
		}
		/* Only bytes are escaped, never a code point past U+007F. */
		FUZZ_ASSERT(code < 0x80);
		*i += 6;
		return (unsigned char)code;
	}
	for (s = shorts; *s; s += 2) {
		if (lit[*i + 1] == s[0]) {
			*i += 2;
			return (unsigned char)s[1];
		}
	}
	FUZZ_ASSERT(!"invalid JSON escape");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_dup(data, size);
	struct buf out;
	size_t i, j = 0;

	buf_init(&out, 6 * size + 2);
	json_string(&out, in, size);
	FUZZ_ASSERT(!out.failed && out.data != NULL);
	FUZZ_ASSERT(out.len >= 2 && out.data[0] == '"' &&
		    out.data[out.len - 1] == '"');

	/* Walk the inside of the quotes. */
	i = 1;
	while (i < out.len - 1) {
		unsigned char c = (unsigned char)out.data[i];

		FUZZ_ASSERT(c >= 0x20 && c != 0x7f);
		FUZZ_ASSERT(c != '"' && c != '<' && c != '>' && c != '&' &&
			    c != '\'');
		if (c == '\\')
			c = decode_escape(out.data, out.len - 1, &i);
		else
			i++;
		FUZZ_ASSERT(j < size && (unsigned char)in[j] == c);
		j++;
	}
	FUZZ_ASSERT(i == out.len - 1 && j == size);

	buf_free(&out);
	free(in);
	return 0;
}
