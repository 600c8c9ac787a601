#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "validate.h"
#include "unit.h"

static const struct bool_case utf8_cases[] = {
	{ S(""), true },
	{ S("abc"), true },
	{ S("\0"), true },
	{ S("\x7f"), true },
	{ S("\xc2\x80"), true },         /* U+0080 */
	{ S("\xc3\xa9"), true },         /* é */
	{ S("\xdf\xbf"), true },         /* U+07FF */
	{ S("\xe0\xa0\x80"), true },     /* U+0800 */
	{ S("\xe2\x82\xac"), true },     /* € */
	{ S("\xed\x9f\xbf"), true },     /* U+D7FF, just below surrogates */
	{ S("\xee\x80\x80"), true },     /* U+E000, just above */
	{ S("\xef\xbf\xbf"), true },     /* U+FFFF */
	{ S("\xf0\x90\x80\x80"), true }, /* U+10000 */
	{ S("\xf0\x9f\x94\x91"), true }, /* 🔑 */
	{ S("\xf4\x8f\xbf\xbf"), true }, /* U+10FFFF */
	{ S("\xe7\x94\xa8\xe6\x88\xb7"), true },
	{ S("\xc0\x80"), false },         /* overlong NUL */
	{ S("\xc0\xaf"), false },         /* overlong '/' */
	{ S("\xc1\xbf"), false },
	{ S("\xe0\x80\x80"), false },     /* overlong 3-byte */
	{ S("\xe0\x9f\xbf"), false },
	{ S("\xf0\x80\x80\x80"), false }, /* overlong 4-byte */
	{ S("\xf0\x8f\xbf\xbf"), false },
	{ S("\xed\xa0\x80"), false },     /* U+D800 */
	{ S("\xed\xbf\xbf"), false },     /* U+DFFF */
	{ S("\xed\xa0\x80\xed\xb0\x80"), false }, /* CESU-8 pair */
	{ S("\xf4\x90\x80\x80"), false }, /* U+110000 */
	{ S("\xf5\x80\x80\x80"), false },
	{ S("\xf7\xbf\xbf\xbf"), false },
	{ S("\xf8\x88\x80\x80\x80"), false },
	{ S("\xfe"), false },
	{ S("\xff"), false },
	{ S("\x80"), false },             /* lone continuation */
	{ S("\xbf"), false },
	{ S("a\x80" "b"), false },
	{ S("\xc3"), false },             /* truncated */
	{ S("a\xc3"), false },
	{ S("\xe2\x82"), false },
	{ S("\xf0\x9f\x94"), false },
	{ S("\xc3\x41"), false },         /* bad continuation */
	{ S("\xc3\xc3\xa9"), false },
	{ S("\xe2\x28\xa1"), false },
	{ S("\xe2\x82\x41"), false },
	{ S("\xf0\x9f\x41\x91"), false },
	{ S("\xf0\x9f\x94\x41"), false },
	{ S("\xc3\xa9\xc3"), false },
};

Test(validate, utf8_table)
{
	check_bool_cases(validate_utf8, utf8_cases, AG_ARRAY_LEN(utf8_cases));
}

Test(validate, utf8_truncated_by_length)
{
	/* A complete € in memory, but len stops inside it. */
	char *s = dup_exact("\xe2\x82\xac", 3);

	cr_assert(validate_utf8(s, 3));
	cr_assert_not(validate_utf8(s, 2));
	cr_assert_not(validate_utf8(s, 1));
	cr_assert(validate_utf8(s, 0));
	free(s);
}

Test(validate, utf8_every_two_byte_lead)
{
	unsigned lead;

	/* C0 and C1 only make overlongs; C2..DF are the real two-byte leads. */
	for (lead = 0xc0; lead <= 0xdf; lead++) {
		char s[2] = { (char)lead, (char)0x80 };

		cr_assert_eq(validate_utf8(s, 2), lead >= 0xc2, "lead %#x",
			     lead);
	}
}

static const struct bool_case username_cases[] = {
	{ S("alice"), true },
	{ S("a"), true },
	{ S("Alice Smith"), true },
	{ S("alice@example.com"), true },
	{ S("jos\xc3\xa9"), true },
	{ S("\xe7\x94\xa8\xe6\x88\xb7"), true },
	{ S("\xf0\x9f\x94\x91"), true },
	{ S("a\xc2\xa0" "b"), true },    /* U+00A0 is not a control */
	{ S("a\xc2\xa1"), true },        /* U+00A1, first after C1 */
	{ S("~!#$%^&*()"), true },
	{ S(""), false },
	{ S(" "), false },
	{ S(" alice"), false },
	{ S("alice "), false },
	{ S("  "), false },
	{ S("al\tice"), false },
	{ S("al\nice"), false },
	{ S("alice\r\n"), false },
	{ S("\x1f" "a"), false },
	{ S("a\x7f"), false },
	{ S("al\0ice"), false },
	{ S("alice\0"), false },
	{ S("a\xc2\x85" "b"), false },   /* U+0085 NEL */
	{ S("a\xc2\x80"), false },       /* U+0080 */
	{ S("\xc2\x9f" "a"), false },    /* U+009F */
	{ S("\xff"), false },
	{ S("a\xc0\xaf"), false },
	{ S("\xed\xa0\x80"), false },
	{ S("\xf4\x90\x80\x80"), false },
	{ S("alice\xc3"), false },
};

Test(validate, username_table)
{
	check_bool_cases(validate_username, username_cases,
			 AG_ARRAY_LEN(username_cases));
}

Test(validate, username_length_boundaries)
{
	char s[USERNAME_MAX_LEN + 1];

	memset(s, 'a', sizeof(s));
	cr_assert_eq(USERNAME_MAX_LEN, 150);
	cr_assert(validate_username(s, USERNAME_MAX_LEN - 1));
	cr_assert(validate_username(s, USERNAME_MAX_LEN));
	cr_assert_not(validate_username(s, USERNAME_MAX_LEN + 1));
}

Test(validate, username_length_counts_bytes)
{
	char s[USERNAME_MAX_LEN + 2];
	size_t i;

	/* 75 two-byte characters are exactly 150 bytes. */
	for (i = 0; i < 75; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	cr_assert(validate_username(s, 150));

	/* 148 + é = 150 bytes; 149 + é = 151 bytes. */
	memset(s, 'a', sizeof(s));
	memcpy(s + 148, "\xc3\xa9", 2);
	cr_assert(validate_username(s, 150));
	memset(s, 'a', sizeof(s));
	memcpy(s + 149, "\xc3\xa9", 2);
	cr_assert_not(validate_username(s, 151));
}

Test(validate, username_every_c1_control)
{
	unsigned second;

	for (second = 0x80; second <= 0xbf; second++) {
		char s[3] = { 'a', (char)0xc2, (char)second };

		cr_assert_eq(validate_username(s, 3), second >= 0xa0,
			     "U+00%02X", second);
	}
}

Test(validate, username_every_c0_control)
{
	unsigned c;

	for (c = 0; c < 0x20; c++) {
		char s[3] = { 'a', (char)c, 'b' };

		cr_assert_not(validate_username(s, 3), "byte %#x", c);
	}
}

Test(validate, password_table)
{
	static const struct bool_case cases[] = {
		{ S("x"), true },
		{ S("correct horse battery staple"), true },
		{ S(" "), true },
		{ S(" leading and trailing "), true },
		{ S("tab\there"), true },
		{ S("\xff\xfe not utf-8"), true },
		{ S(""), false },
		{ S("\0"), false },
		{ S("pa\0ss"), false },
		{ S("pass\0"), false },
	};

	check_bool_cases(validate_password, cases, AG_ARRAY_LEN(cases));
}

Test(validate, password_length_boundaries)
{
	char *s = malloc(PASSWORD_MAX_LEN + 1);

	cr_assert_not_null(s);
	memset(s, 'p', PASSWORD_MAX_LEN + 1);
	cr_assert_eq(PASSWORD_MAX_LEN, 1024);
	cr_assert(validate_password(s, PASSWORD_MAX_LEN - 1));
	cr_assert(validate_password(s, PASSWORD_MAX_LEN));
	cr_assert_not(validate_password(s, PASSWORD_MAX_LEN + 1));
	s[PASSWORD_MAX_LEN - 1] = '\0';
	cr_assert_not(validate_password(s, PASSWORD_MAX_LEN));
	free(s);
}

Test(validate, email)
{
	static const struct bool_case cases[] = {
		{ S("a@b"), true },
		{ S("alice@example.org"), true },
		{ S("Zoë@exämple.org"), true },
		{ S("@example.org"), false },
		{ S("alice.example.org"), false },
		{ S("a@"), false },
		{ S("al ice@example.org"), false },
		{ S("alice@example.org\n"), false },
		{ S("alice@exa\x7fmple.org"), false },
		{ S("alice@exa\xc2\x85mple.org"), false },
		{ S("alice@exa\xffmple.org"), false },
		{ S("alice@exa\0mple.org"), false },
	};

	check_bool_cases(validate_email, cases, AG_ARRAY_LEN(cases));
}

Test(validate, email_length_boundaries)
{
	char s[EMAIL_MAX_LEN + 2];

	memset(s, 'e', sizeof(s));
	s[1] = '@';
	cr_assert(validate_email(s, EMAIL_MAX_LEN));
	cr_assert_not(validate_email(s, EMAIL_MAX_LEN + 1));
	cr_assert_not(validate_email(s, 2));
}

Test(validate, new_password_counts_characters)
{
	static const struct bool_case cases[] = {
		{ S("12345678"), true },
		{ S("1234567"), false },
		/* 7 characters in 14 bytes; 8 characters in 16. */
		{ S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), false },
		{ S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), true },
		/* Not UTF-8: bytes count. */
		{ S("\xff\xff\xff\xff\xff\xff\xff\xff"), true },
		{ S("1234\0" "5678"), false },
		{ S(""), false },
	};

	check_bool_cases(validate_new_password, cases, AG_ARRAY_LEN(cases));
}
