#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

struct json_case {
	const char *in;
	size_t len;
	const char *out;
};

static const struct json_case json_cases[] = {
	{ S(""), "\"\"" },
	{ S("alice"), "\"alice\"" },
	{ S("a\"b"), "\"a\\\"b\"" },
	{ S("a\\b"), "\"a\\\\b\"" },
	{ S("\\\""), "\"\\\\\\\"\"" },
	{ S("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"" },
	{ S("\0"), "\"\\u0000\"" },
	{ S("a\0b"), "\"a\\u0000b\"" },
	{ S("\x01"), "\"\\u0001\"" },
	{ S("\x1b[31m"), "\"\\u001b[31m\"" },
	{ S("\x1f"), "\"\\u001f\"" },
	{ S("\x7f"), "\"\\u007f\"" },
	{ S("<"), "\"\\u003c\"" },
	{ S(">"), "\"\\u003e\"" },
	{ S("&"), "\"\\u0026\"" },
	{ S("'"), "\"\\u0027\"" },
	{ S("</script><!--"), "\"\\u003c/script\\u003e\\u003c!--\"" },
	{ S("/"), "\"/\"" },
	{ S("admin,staff"), "\"admin,staff\"" },
	{ S("caf\xc3\xa9 \xf0\x9f\x94\x91"),
	  "\"caf\xc3\xa9 \xf0\x9f\x94\x91\"" },
	{ S("\xe2\x80\xa8"), "\"\xe2\x80\xa8\"" },
};

Test(json, string_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(json_cases); i++) {
		const struct json_case *c = &json_cases[i];
		char *in = dup_exact(c->in, c->len);
		struct buf b;

		buf_init(&b, 1024);
		json_string(&b, in, c->len);
		cr_assert(!b.failed, "case %zu", i);
		cr_assert_str_eq(b.data, c->out, "case %zu", i);
		cr_assert_eq(b.len, strlen(c->out), "case %zu", i);
		buf_free(&b);
		free(in);
	}
}

Test(json, no_raw_control_or_html_bytes_in_output)
{
	char in[128];
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	buf_init(&b, 4096);
	json_string(&b, in, sizeof(in));
	cr_assert(!b.failed);
	cr_assert_eq(b.data[0], '"');
	cr_assert_eq(b.data[b.len - 1], '"');
	for (i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		cr_assert(c >= 0x20 && c != 0x7f && c != '<' && c != '>' &&
				  c != '&' && c != '\'',
			  "raw byte %#x at %zu", c, i);
	}
	buf_free(&b);
}

Test(json, appends_to_object)
{
	struct buf b;

	buf_init(&b, 1024);
	buf_append_str(&b, "{\"user\":");
	json_string(&b, "bob", 3);
	buf_append_str(&b, "}");
	cr_assert_str_eq(b.data, "{\"user\":\"bob\"}");
	buf_free(&b);
}

Test(json, overflow_sets_failed)
{
	struct buf b;

	/* "\u003c" is 6 bytes plus 2 quotes: 8 fits, 7 does not. */
	buf_init(&b, 8);
	json_string(&b, "<", 1);
	cr_assert(!b.failed);
	cr_assert_str_eq(b.data, "\"\\u003c\"");
	buf_free(&b);

	buf_init(&b, 7);
	json_string(&b, "<", 1);
	cr_assert(b.failed);
	buf_free(&b);
}

Test(json, empty_null_pointer)
{
	struct buf b;

	buf_init(&b, 16);
	json_string(&b, NULL, 0);
	cr_assert_str_eq(b.data, "\"\"");
	buf_free(&b);
}
