/*
 * html_render() with a template made of the input and fixed variables
 * whose values are full of markup, and html_escape() of the input.
 *
 * Properties: values never reach the output unescaped, so the output has
 * exactly as many '<' and '"' as the template text; PARSE_INVALID rolls
 * the output back to what it held before; a smaller buffer maximum only
 * turns success into PARSE_TOO_LONG; html_escape() output has no < > " '
 * and every '&' starts one of the five entities, and unescaping it gives
 * the input back.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "html.h"

static const struct html_var render_vars[] = {
	{ "next", "/a?b=1&c=\"><script>alert(1)</script>" },
	{ "username", "<b>'o\"hare'</b>" },
	{ "message", "Please log in first." },
	{ "csrf_token", "Zm9vYmFy-_" },
	{ "empty", "" },
	/* A duplicate: the first one counts, and both are escaped. */
	{ "next", "<dup>" },
};

static const char render_prefix[] = "<!-- earlier output -->";

/* Renders into a buffer holding render_prefix, with content max `max`. */
static enum parse_result render(const char *tmpl, size_t len, size_t max,
				struct buf *out)
{
	enum parse_result r;

	buf_init(out, max);
	buf_append_str(out, render_prefix);
	FUZZ_ASSERT(!out->failed);
	r = html_render(out, tmpl, len, render_vars,
			AG_ARRAY_LEN(render_vars));
	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_INVALID || r == PARSE_TOO_LONG);
	return r;
}

static void check_render(const char *tmpl, size_t len)
{
	size_t prefix_len = sizeof(render_prefix) - 1;
	struct buf out, small;
	enum parse_result r, r2;

	r = render(tmpl, len, 1024 * 1024, &out);
	FUZZ_ASSERT(r != PARSE_TOO_LONG);
	FUZZ_ASSERT(out.data != NULL && out.data[out.len] == '\0');
	FUZZ_ASSERT(out.len >= prefix_len &&
		    memcmp(out.data, render_prefix, prefix_len) == 0);
	if (r == PARSE_INVALID) {
		FUZZ_ASSERT(out.len == prefix_len);
	} else {
		/* Placeholders hold neither '<' nor '"'; values are escaped. */
		FUZZ_ASSERT(fuzz_count(out.data + prefix_len,
				       out.len - prefix_len, '<') ==
			    fuzz_count(tmpl, len, '<'));
		FUZZ_ASSERT(fuzz_count(out.data + prefix_len,
				       out.len - prefix_len, '"') ==
			    fuzz_count(tmpl, len, '"'));
	}

	/* Half the room: same answer, or PARSE_TOO_LONG. */
	r2 = render(tmpl, len, prefix_len + (out.len - prefix_len) / 2, &small);
	if (r2 == PARSE_OK) {
		FUZZ_ASSERT(r == PARSE_OK && small.len == out.len &&
			    memcmp(small.data, out.data, out.len) == 0);
	} else if (r2 == PARSE_INVALID) {
		FUZZ_ASSERT(r == PARSE_INVALID);
		/* A failed buffer is never sent, so it needs no rollback. */
		FUZZ_ASSERT(small.failed || small.len == prefix_len);
	}
	buf_free(&small);
	buf_free(&out);
}

/* Unescapes one entity at s[*i] ('&'); aborts on anything else. */
static char unescape_entity(const char *s, size_t len, size_t *i)
{
	static const struct {
		const char *text;
		char c;
	} entities[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' },
	};
	size_t k;

	for (k = 0; k < AG_ARRAY_LEN(entities); k++) {
		size_t n = strlen(entities[k].text);

		if (len - *i >= n && memcmp(s + *i, entities[k].text, n) == 0) {
			*i += n;
			return entities[k].c;
		}
	}
	FUZZ_ASSERT(!"'&' that starts no entity");
	return 0;
}

static void check_escape(const char *s, size_t len)
{
	struct buf out;
	size_t i = 0, j = 0;

	buf_init(&out, 8 * len + 1);
	html_escape(&out, s, len);
	FUZZ_ASSERT(!out.failed);
	FUZZ_ASSERT(len == 0 || out.data != NULL);
	while (i < out.len) {
		char c = out.data[i];

		FUZZ_ASSERT(c != '<' && c != '>' && c != '"' && c != '\'');
		if (c == '&')
			c = unescape_entity(out.data, out.len, &i);
		else
			i++;
		FUZZ_ASSERT(j < len && s[j] == c);
		j++;
	}
	FUZZ_ASSERT(j == len);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);

	check_render(text, size);
	check_escape(text, size);
	free(text);
	return 0;
}
