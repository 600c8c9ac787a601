/*
 * logfmt_pair() over arbitrary bytes: the output is one line of printable
 * ASCII or valid UTF-8, a single pair, and unescaping the value gives back
 * the input exactly.
 */
#include <string.h>

#include "fuzz.h"
#include "logfmt.h"
#include "validate.h"

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_dup(data, size);
	char *decoded = malloc(size + 1);
	struct buf b;
	const char *p, *end;
	size_t n = 0;
	bool quoted;

	buf_init(&b, 8 * size + 16);
	logfmt_pair(&b, "k", s, size);
	FUZZ_ASSERT(!b.failed);
	FUZZ_ASSERT(validate_utf8(b.data, b.len));
	FUZZ_ASSERT(memchr(b.data, '\n', b.len) == NULL);
	FUZZ_ASSERT(memchr(b.data, '\r', b.len) == NULL);
	FUZZ_ASSERT(b.len >= 2 && memcmp(b.data, "k=", 2) == 0);
	for (size_t i = 0; i < b.len; i++)
		FUZZ_ASSERT((unsigned char)b.data[i] >= 0x20 &&
			    (unsigned char)b.data[i] != 0x7f);
	p = b.data + 2;
	end = b.data + b.len;
	quoted = p < end && *p == '"';
	if (quoted) {
		FUZZ_ASSERT(end - p >= 2 && end[-1] == '"');
		p++;
		end--;
	} else {
		FUZZ_ASSERT(memchr(p, ' ', (size_t)(end - p)) == NULL);
		FUZZ_ASSERT(memchr(p, '"', (size_t)(end - p)) == NULL);
	}
	while (p < end) {
		if (*p != '\\') {
			FUZZ_ASSERT(*p != '"');
			decoded[n++] = *p++;
			continue;
		}
		FUZZ_ASSERT(end - p >= 2);
		switch (p[1]) {
		case 'n': decoded[n++] = '\n'; p += 2; break;
		case 'r': decoded[n++] = '\r'; p += 2; break;
		case 't': decoded[n++] = '\t'; p += 2; break;
		case '"': decoded[n++] = '"'; p += 2; break;
		case '\\': decoded[n++] = '\\'; p += 2; break;
		default:
			FUZZ_ASSERT(p[1] == 'x' && end - p >= 4);
			decoded[n++] = (char)(hex(p[2]) * 16 + hex(p[3]));
			p += 4;
		}
		FUZZ_ASSERT(n <= size);
	}
	FUZZ_ASSERT(n == size && memcmp(decoded, s, size) == 0);
	buf_free(&b);
	free(decoded);
	free(s);
	return 0;
}
