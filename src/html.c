/* HTML escaping and the {{placeholder}} template renderer. */
#include "html.h"

#include <stdbool.h>
#include <string.h>

/* Entity for a byte that must not appear raw in text or attributes, or NULL. */
static const char *html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		/* &apos; is not HTML 4; the numeric form works everywhere. */
		return "&#39;";
	default:
		return NULL;
	}
}

void html_escape(struct buf *out, const char *s, size_t len)
{
	size_t i, run = 0;

	/* Copy runs of safe bytes in one append rather than byte by byte. */
	for (i = 0; i < len; i++) {
		const char *entity = html_entity(s[i]);

		if (!entity)
			continue;
		buf_append(out, s + run, i - run);
		buf_append_str(out, entity);
		run = i + 1;
	}
	/* Guarded: s may be NULL when len is 0, and NULL + 0 is undefined. */
	if (run < len)
		buf_append(out, s + run, len - run);
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static const struct html_var *html_find_var(const struct html_var *vars,
					    size_t nvars, const char *name,
					    size_t name_len)
{
	size_t i;

	for (i = 0; i < nvars; i++) {
		if (strlen(vars[i].name) == name_len &&
		    memcmp(vars[i].name, name, name_len) == 0)
			return &vars[i];
	}
	return NULL;
}

/*
 * On PARSE_INVALID the output is rolled back to what it held before the
 * call. PARSE_TOO_LONG when `out` failed (its maximum or memory), including
 * a failure from before the call. The first of duplicate vars wins; a NULL
 * value renders as "".
 */
enum parse_result html_render(struct buf *out, const char *tmpl, size_t len,
			      const struct html_var *vars, size_t nvars)
{
	size_t start_len = out->len, pos = 0;
	enum parse_result r = PARSE_INVALID;

	/* Even an empty template leaves `out->data` a string on success. */
	buf_append(out, "", 0);
	while (pos < len) {
		const char *open = memmem(tmpl + pos, len - pos, "{{", 2);
		const struct html_var *var;
		size_t name_start, name_end;

		if (!open) {
			buf_append(out, tmpl + pos, len - pos);
			break;
		}
		buf_append(out, tmpl + pos, (size_t)(open - (tmpl + pos)));

		name_start = (size_t)(open - tmpl) + 2;
		name_end = name_start;
		while (name_end < len && is_name_char(tmpl[name_end]))
			name_end++;
		if (name_end == name_start || len - name_end < 2 ||
		    tmpl[name_end] != '}' || tmpl[name_end + 1] != '}')
			goto out;

		var = html_find_var(vars, nvars, tmpl + name_start,
				    name_end - name_start);
		if (!var)
			goto out;
		if (var->value)
			html_escape(out, var->value, strlen(var->value));
		pos = name_end + 2;
	}
	r = out->failed ? PARSE_TOO_LONG : PARSE_OK;
out:
	if (r == PARSE_INVALID && !out->failed && out->data) {
		out->len = start_len;
		out->data[start_len] = '\0';
	}
	return r;
}
