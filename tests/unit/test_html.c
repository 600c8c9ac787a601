#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "unit.h"

struct escape_case {
	const char *in;
	size_t len;
	const char *out;
	size_t out_len;
};

static const struct escape_case escape_cases[] = {
	{ S(""), S("") },
	{ S("plain text"), S("plain text") },
	{ S("<"), S("&lt;") },
	{ S(">"), S("&gt;") },
	{ S("&"), S("&amp;") },
	{ S("\""), S("&quot;") },
	{ S("'"), S("&#39;") },
	{ S("a<b>&\"'c"), S("a&lt;b&gt;&amp;&quot;&#39;c") },
	{ S("&amp;"), S("&amp;amp;") },
	{ S("<script>alert('x')</script>"),
	  S("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") },
	{ S("\" onmouseover=\"x"), S("&quot; onmouseover=&quot;x") },
	{ S("caf\xc3\xa9 \xe2\x82\xac"), S("caf\xc3\xa9 \xe2\x82\xac") },
	{ S("a\0<"), S("a\0&lt;") },
	{ S("{{next}}"), S("{{next}}") },
};

Test(html, escape_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		char *in = dup_exact(c->in, c->len);
		struct buf b;

		buf_init(&b, 1024);
		buf_append(&b, "", 0);
		html_escape(&b, in, c->len);
		cr_assert(!b.failed, "case %zu", i);
		cr_assert_eq(b.len, c->out_len, "case %zu: len %zu", i, b.len);
		cr_assert_eq(memcmp(b.data, c->out, b.len), 0, "case %zu", i);
		buf_free(&b);
		free(in);
	}
}

Test(html, escape_appends_to_content)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append_str(&b, "<p>");
	html_escape(&b, "a&b", 3);
	buf_append_str(&b, "</p>");
	cr_assert_str_eq(b.data, "<p>a&amp;b</p>");
	buf_free(&b);
}

Test(html, escape_empty_null_pointer)
{
	struct buf b;

	buf_init(&b, 16);
	buf_append_str(&b, "x");
	html_escape(&b, NULL, 0);
	cr_assert(!b.failed);
	cr_assert_str_eq(b.data, "x");
	buf_free(&b);
}

Test(html, escape_overflow_sets_failed)
{
	struct buf b;

	buf_init(&b, 8);
	html_escape(&b, "<<<", 3);
	cr_assert(b.failed);
	buf_free(&b);
}

static const struct html_var vars[] = {
	{ "next", "/ok?a=1&b=2" },
	{ "csrf_token", "tok-123_x" },
	{ "message", "Please log in first." },
	{ "evil", "<script>alert(\"x\" + 'y')</script>&" },
	{ "empty", "" },
	{ "null", NULL },
	{ "braces", "{{next}}" },
	{ "next", "second definition" },
};

struct render_case {
	const char *tmpl;
	size_t len;
	enum parse_result result;
	const char *out;
};

static const struct render_case render_cases[] = {
	{ S(""), PARSE_OK, "" },
	{ S("no placeholders <b>here</b>"), PARSE_OK,
	  "no placeholders <b>here</b>" },
	{ S("{{next}}"), PARSE_OK, "/ok?a=1&amp;b=2" },
	{ S("<a href=\"{{next}}\">go</a>"), PARSE_OK,
	  "<a href=\"/ok?a=1&amp;b=2\">go</a>" },
	{ S("{{csrf_token}}|{{message}}"), PARSE_OK,
	  "tok-123_x|Please log in first." },
	{ S("{{message}}{{message}}"), PARSE_OK,
	  "Please log in first.Please log in first." },
	{ S("x{{evil}}y"), PARSE_OK,
	  "x&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt;"
	  "&amp;y" },
	{ S("[{{empty}}]"), PARSE_OK, "[]" },
	{ S("[{{null}}]"), PARSE_OK, "[]" },
	{ S("{{braces}}"), PARSE_OK, "{{next}}" },
	{ S("{ next } } {"), PARSE_OK, "{ next } } {" },
	{ S("a}}b"), PARSE_OK, "a}}b" },
	{ S("abc{"), PARSE_OK, "abc{" },
	{ S("{x}{{next}}"), PARSE_OK, "{x}/ok?a=1&amp;b=2" },
	{ S("{{unknown}}"), PARSE_INVALID, NULL },
	{ S("{{nex}}"), PARSE_INVALID, NULL },
	{ S("{{nextx}}"), PARSE_INVALID, NULL },
	{ S("{{Next}}"), PARSE_INVALID, NULL },
	{ S("{{ next }}"), PARSE_INVALID, NULL },
	{ S("{{next }}"), PARSE_INVALID, NULL },
	{ S("{{next-x}}"), PARSE_INVALID, NULL },
	{ S("{{next1}}"), PARSE_INVALID, NULL },
	{ S("{{}}"), PARSE_INVALID, NULL },
	{ S("{{{next}}}"), PARSE_INVALID, NULL },
	{ S("{{next"), PARSE_INVALID, NULL },
	{ S("{{next}"), PARSE_INVALID, NULL },
	{ S("{{next} }"), PARSE_INVALID, NULL },
	{ S("{{"), PARSE_INVALID, NULL },
	{ S("abc{{"), PARSE_INVALID, NULL },
	{ S("ok {{next}} then {{typo}}"), PARSE_INVALID, NULL },
	{ S("{{ne\0xt}}"), PARSE_INVALID, NULL },
};

Test(html, render_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(render_cases); i++) {
		const struct render_case *c = &render_cases[i];
		char *tmpl = dup_exact(c->tmpl, c->len);
		struct buf b;
		enum parse_result r;

		buf_init(&b, 4096);
		r = html_render(&b, tmpl, c->len, vars, AG_ARRAY_LEN(vars));
		cr_assert_eq(r, c->result, "case %zu: result %d, want %d", i,
			     r, c->result);
		cr_assert(!b.failed, "case %zu", i);
		if (c->out) {
			cr_assert_eq(b.len, strlen(c->out), "case %zu", i);
			cr_assert_str_eq(b.data, c->out, "case %zu", i);
		} else {
			cr_assert_eq(b.len, 0, "case %zu: rolled back", i);
		}
		buf_free(&b);
		free(tmpl);
	}
}

Test(html, render_keeps_nul_in_text)
{
	struct buf b;

	buf_init(&b, 100);
	cr_assert_eq(html_render(&b, "a\0{{next}}", 10, vars,
				 AG_ARRAY_LEN(vars)),
		     PARSE_OK);
	cr_assert_eq(b.len, 17);
	cr_assert_eq(memcmp(b.data, "a\0/ok?a=1&amp;b=2", 17), 0);
	buf_free(&b);
}

Test(html, render_unterminated_at_length_boundary)
{
	/* "{{next}}" cut after "{{next}": the last '}' is outside len. */
	char *tmpl = dup_exact("{{next}}", 8);
	struct buf b;

	buf_init(&b, 100);
	cr_assert_eq(html_render(&b, tmpl, 7, vars, AG_ARRAY_LEN(vars)),
		     PARSE_INVALID);
	cr_assert_eq(html_render(&b, tmpl, 8, vars, AG_ARRAY_LEN(vars)),
		     PARSE_OK);
	cr_assert_str_eq(b.data, "/ok?a=1&amp;b=2");
	buf_free(&b);
	free(tmpl);
}

Test(html, render_invalid_rolls_back_to_previous_content)
{
	struct buf b;
	const char *t = "<p>{{message}}</p>{{bogus}}";

	buf_init(&b, 1000);
	buf_append_str(&b, "prefix:");
	cr_assert_eq(html_render(&b, t, strlen(t), vars, AG_ARRAY_LEN(vars)),
		     PARSE_INVALID);
	cr_assert_str_eq(b.data, "prefix:");
	cr_assert_eq(b.len, 7);
	buf_free(&b);
}

Test(html, render_appends_after_content)
{
	struct buf b;

	buf_init(&b, 1000);
	buf_append_str(&b, "<!doctype html>");
	cr_assert_eq(html_render(&b, "{{message}}", 11, vars,
				 AG_ARRAY_LEN(vars)),
		     PARSE_OK);
	cr_assert_str_eq(b.data, "<!doctype html>Please log in first.");
	buf_free(&b);
}

Test(html, render_first_duplicate_var_wins)
{
	struct buf b;

	buf_init(&b, 1000);
	cr_assert_eq(html_render(&b, "{{next}}", 8, vars, AG_ARRAY_LEN(vars)),
		     PARSE_OK);
	cr_assert_str_eq(b.data, "/ok?a=1&amp;b=2");
	buf_free(&b);
}

Test(html, render_no_vars)
{
	struct buf b;

	buf_init(&b, 1000);
	cr_assert_eq(html_render(&b, "static", 6, NULL, 0), PARSE_OK);
	cr_assert_str_eq(b.data, "static");
	cr_assert_eq(html_render(&b, "{{next}}", 8, NULL, 0), PARSE_INVALID);
	cr_assert_str_eq(b.data, "static");
	buf_free(&b);
}

Test(html, render_too_big_for_buffer)
{
	struct buf b;

	buf_init(&b, 10);
	cr_assert_eq(html_render(&b, "{{evil}}", 8, vars, AG_ARRAY_LEN(vars)),
		     PARSE_TOO_LONG);
	cr_assert(b.failed);
	buf_free(&b);
}

Test(html, render_exactly_fits_buffer)
{
	struct buf b;

	/* "/ok?a=1&amp;b=2" is 15 bytes. */
	buf_init(&b, 15);
	cr_assert_eq(html_render(&b, "{{next}}", 8, vars, AG_ARRAY_LEN(vars)),
		     PARSE_OK);
	cr_assert_eq(b.len, 15);
	buf_free(&b);

	buf_init(&b, 14);
	cr_assert_eq(html_render(&b, "{{next}}", 8, vars, AG_ARRAY_LEN(vars)),
		     PARSE_TOO_LONG);
	buf_free(&b);
}
