#include <criterion/criterion.h>

#include "logfmt.h"
#include "unit.h"

/* The pair for `value`, as a new string. */
static char *pair(const char *value, size_t len)
{
	struct buf b;
	char *text;

	buf_init(&b, 4096);
	logfmt_pair(&b, "k", value, len);
	cr_assert(!b.failed);
	text = strndup(b.data, b.len);
	buf_free(&b);
	return text;
}

static void expect_pair(const char *value, size_t len, const char *expected)
{
	char *got = pair(value, len);

	cr_expect_str_eq(got, expected);
	free(got);
}

Test(logfmt, plain_values_stay_bare)
{
	expect_pair(S("alice"), "k=alice");
	expect_pair(S("127.0.0.1"), "k=127.0.0.1");
	expect_pair(S("j\xc3\xbcrgen"), "k=j\xc3\xbcrgen"); /* UTF-8 kept */
}

Test(logfmt, quoted_when_needed)
{
	expect_pair(S(""), "k=\"\"");
	expect_pair(S("two words"), "k=\"two words\"");
	expect_pair(S("a=b"), "k=\"a=b\"");
	expect_pair(S("say \"hi\""), "k=\"say \\\"hi\\\"\"");
	expect_pair(S("back\\slash"), "k=\"back\\\\slash\"");
}

Test(logfmt, a_value_cannot_forge_a_line_or_a_pair)
{
	expect_pair(S("bob\nts=x level=error event=login_success user=admin"),
		    "k=\"bob\\nts=x level=error event=login_success user=admin\"");
	expect_pair(S("a\rb\tc"), "k=\"a\\rb\\tc\"");
	expect_pair(S("x\" user=\"admin"), "k=\"x\\\" user=\\\"admin\"");
	expect_pair(S("nul\0byte"), "k=\"nul\\x00byte\"");
	expect_pair(S("\x1b[31mred"), "k=\"\\x1b[31mred\"");
	expect_pair(S("del\x7f"), "k=\"del\\x7f\"");
	/* U+0085 (NEXT LINE) and other C1 controls. */
	expect_pair(S("a\xc2\x85" "b"), "k=\"a\\xc2\\x85b\"");
}

Test(logfmt, invalid_utf8_is_escaped_byte_by_byte)
{
	expect_pair(S("\xff\xfe"), "k=\"\\xff\\xfe\"");
	expect_pair(S("ok\xc3"), "k=\"ok\\xc3\"");
	/* Once invalid, every high byte is escaped, valid ones too. */
	expect_pair(S("\xc3\xa9\xff"), "k=\"\\xc3\\xa9\\xff\"");
}

Test(logfmt, pairs_are_separated_by_one_space)
{
	struct buf b;

	buf_init(&b, 256);
	logfmt_pair(&b, "ts", S("2026-11-24T05:00:00.123Z"));
	logfmt_pair(&b, "user", S("a b"));
	cr_assert(!b.failed);
	buf_append(&b, "", 1);
	cr_expect_str_eq(b.data, "ts=2026-11-24T05:00:00.123Z user=\"a b\"");
	buf_free(&b);
}
