#include "logfmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"

/* Bytes that end or fake a pair or a line, or mislead a terminal. */
static bool needs_escape(const unsigned char *v, size_t i, size_t len,
			 bool utf8)
{
	unsigned char c = v[i];

	if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
		return true;
	if (c < 0x80)
		return false;
	if (!utf8)
		return true;
	/* C1 controls, U+0080..U+009F, are 0xc2 0x80..0x9f in UTF-8. */
	return (c == 0xc2 && i + 1 < len && v[i + 1] <= 0x9f) ||
	       (c >= 0x80 && c <= 0x9f && i > 0 && v[i - 1] == 0xc2);
}

static bool needs_quotes(const unsigned char *v, size_t len, bool utf8)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == ' ' || v[i] == '=' || needs_escape(v, i, len, utf8))
			return true;
	}
	return false;
}

void logfmt_pair(struct buf *out, const char *key, const char *value,
		 size_t len)
{
	const unsigned char *v = (const unsigned char *)value;
	bool utf8 = validate_utf8(value, len);
	bool quoted = needs_quotes(v, len, utf8);

	if (out->len > 0)
		buf_append(out, " ", 1);
	buf_append_str(out, key);
	buf_append(out, quoted ? "=\"" : "=", quoted ? 2 : 1);
	for (size_t i = 0; i < len; i++) {
		size_t start = i;

		/* Runs of plain bytes go in one append. */
		while (i < len && !needs_escape(v, i, len, utf8))
			i++;
		buf_append(out, v + start, i - start);
		if (i == len)
			break;
		switch (v[i]) {
		case '"':  buf_append(out, "\\\"", 2); break;
		case '\\': buf_append(out, "\\\\", 2); break;
		case '\n': buf_append(out, "\\n", 2); break;
		case '\r': buf_append(out, "\\r", 2); break;
		case '\t': buf_append(out, "\\t", 2); break;
		default:   buf_printf(out, "\\x%02x", v[i]); break;
		}
	}
	if (quoted)
		buf_append(out, "\"", 1);
}
