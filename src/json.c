/* JSON string literals (RFC 8259 section 7) that are also safe in HTML. */
#include "json.h"

#include <stdbool.h>

/* Short escape for a byte, or NULL when it needs \u00XX or none at all. */
static const char *json_short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

/*
 * < > & and ' are escaped so the literal cannot close a <script> element or
 * an HTML attribute it is pasted into; DEL as a control character.
 */
static bool json_needs_unicode_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&' ||
	       c == '\'';
}

void json_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run = 0;

	buf_append(out, "\"", 1);
	for (i = 0; i < len; i++) {
		const char *esc = json_short_escape(p[i]);

		if (!esc && !json_needs_unicode_escape(p[i]))
			continue;
		buf_append(out, s + run, i - run);
		if (esc) {
			buf_append_str(out, esc);
		} else {
			char u[6] = { '\\', 'u', '0', '0', hex[p[i] >> 4],
				      hex[p[i] & 0x0f] };

			buf_append(out, u, sizeof(u));
		}
		run = i + 1;
	}
	/* Guarded: s may be NULL when len is 0, and NULL + 0 is undefined. */
	if (run < len)
		buf_append(out, s + run, len - run);
	buf_append(out, "\"", 1);
}
