/* basic_parse(): the Authorization Basic header. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base64.h"
#include "basic.h"
#include "unit.h"

/* "Basic " + base64 of `raw`, in a new string (caller frees). */
static char *basic_header(const char *raw, size_t len)
{
	char *out = malloc(6 + TEST_BASE64_LEN(len) + 1);

	cr_assert_not_null(out);
	memcpy(out, "Basic ", 6);
	test_base64(raw, len, out + 6);
	return out;
}

/* Parses "Basic base64(raw)" from an exact-length heap copy. */
static enum parse_result parse_raw(const char *raw, size_t len,
				   struct basic_credentials *out)
{
	char *header = basic_header(raw, len);
	size_t header_len = strlen(header);
	char *exact = dup_exact(header, header_len);
	enum parse_result r = basic_parse(exact, header_len, out);

	free(exact);
	free(header);
	return r;
}

Test(basic, rfc7617_example)
{
	struct basic_credentials c;

	/* RFC 7617 section 2: Aladdin / open sesame. */
	cr_assert_eq(basic_parse(S("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &c),
		     PARSE_OK);
	cr_assert_str_eq(c.username, "Aladdin");
	cr_assert_eq(c.username_len, 7);
	cr_assert_str_eq(c.password, "open sesame");
	cr_assert_eq(c.password_len, 11);
}

Test(basic, scheme_is_case_insensitive)
{
	struct basic_credentials c;

	cr_assert_eq(basic_parse(S("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &c),
		     PARSE_OK);
	cr_assert_eq(basic_parse(S("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &c),
		     PARSE_OK);
	cr_assert_str_eq(c.username, "Aladdin");
}

Test(basic, other_schemes_are_absent)
{
	static const char *const others[] = {
		"", "Bearer agt_x", "Basic", "Basi", "Digest username=\"a\"",
		"BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Negotiate abc",
	};
	struct basic_credentials c;

	for (size_t i = 0; i < AG_ARRAY_LEN(others); i++) {
		size_t len = strlen(others[i]);
		char *in = dup_exact(others[i], len);

		cr_assert_eq(basic_parse(in, len, &c), PARSE_ABSENT, "case %zu", i);
		free(in);
	}
}

Test(basic, malformed_encodings_are_invalid)
{
	static const char *const bad[] = {
		"Basic ",                                 /* nothing */
		"Basic  QWxhZGRpbjpvcGVuIHNlc2FtZQ==",   /* two spaces */
		"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",      /* no padding */
		"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== ",   /* trailing space */
		"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\t",
		"Basic QWxhZGRpbjpvcGVu*HNlc2FtZQ==",
		"Basic QWxhZGRpbg==",                     /* "Aladdin": no colon */
	};
	struct basic_credentials c;

	for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++) {
		size_t len = strlen(bad[i]);
		char *in = dup_exact(bad[i], len);

		cr_assert_eq(basic_parse(in, len, &c), PARSE_INVALID, "case %zu: %s",
			     i, bad[i]);
		cr_assert_str_eq(c.username, "", "case %zu", i);
		cr_assert_str_eq(c.password, "", "case %zu", i);
		free(in);
	}
}

/* One row: the decoded credentials and the expected result. */
struct raw_case {
	const char *raw;
	size_t len;
	enum parse_result want;
};

Test(basic, credential_rules)
{
	static const struct raw_case cases[] = {
		{ S("alice:secret"), PARSE_OK },
		{ S("alice:pass:with:colons"), PARSE_OK },  /* first colon splits */
		{ S("j\xc3\xb6rg:p\xc3\xa4ss"), PARSE_OK },   /* UTF-8 */
		{ S("alice:pass word"), PARSE_OK },
		{ S(":secret"), PARSE_INVALID },             /* empty user */
		{ S("alice:"), PARSE_INVALID },              /* empty password */
		{ S(":"), PARSE_INVALID },
		{ S("al\x01ice:secret"), PARSE_INVALID },    /* control character */
		{ S("al\x7fice:secret"), PARSE_INVALID },    /* DEL */
		{ S("al\xc2\x85ice:secret"), PARSE_INVALID }, /* C1 control */
		{ S(" alice:secret"), PARSE_INVALID },       /* leading space */
		{ S("alice :secret"), PARSE_INVALID },       /* trailing space */
		{ S("al\xffice:secret"), PARSE_INVALID },    /* not UTF-8 */
		{ S("alice:sec\xffret"), PARSE_INVALID },
		{ S("alice:sec\xc0\xafret"), PARSE_INVALID }, /* overlong */
		{ S("alice:sec\0ret"), PARSE_INVALID },      /* NUL */
		{ S("al\0ice:secret"), PARSE_INVALID },
	};
	struct basic_credentials c;

	for (size_t i = 0; i < AG_ARRAY_LEN(cases); i++)
		cr_assert_eq(parse_raw(cases[i].raw, cases[i].len, &c),
			     cases[i].want, "case %zu", i);
	cr_assert_eq(parse_raw(S("alice:pass:with:colons"), &c), PARSE_OK);
	cr_assert_str_eq(c.username, "alice");
	cr_assert_str_eq(c.password, "pass:with:colons");
}

Test(basic, length_limits)
{
	char raw[USERNAME_MAX_LEN + 2 + PASSWORD_MAX_LEN + 2];
	struct basic_credentials c;

	/* The longest username and password are accepted... */
	memset(raw, 'u', USERNAME_MAX_LEN);
	raw[USERNAME_MAX_LEN] = ':';
	memset(raw + USERNAME_MAX_LEN + 1, 'p', PASSWORD_MAX_LEN);
	cr_assert_eq(parse_raw(raw, USERNAME_MAX_LEN + 1 + PASSWORD_MAX_LEN, &c),
		     PARSE_OK);
	cr_assert_eq(c.username_len, USERNAME_MAX_LEN);
	cr_assert_eq(c.password_len, PASSWORD_MAX_LEN);

	/* ...one byte more of either is too long. */
	memset(raw, 'u', USERNAME_MAX_LEN + 1);
	raw[USERNAME_MAX_LEN + 1] = ':';
	memcpy(raw + USERNAME_MAX_LEN + 2, "secret", 6);
	cr_assert_eq(parse_raw(raw, USERNAME_MAX_LEN + 8, &c), PARSE_TOO_LONG);
	memcpy(raw, "alice:", 6);
	memset(raw + 6, 'p', PASSWORD_MAX_LEN + 1);
	cr_assert_eq(parse_raw(raw, 6 + PASSWORD_MAX_LEN + 1, &c), PARSE_TOO_LONG);
	cr_assert_str_eq(c.password, "");
}

Test(basic, oversized_header_is_refused_unread)
{
	size_t len = 6 + BASIC_ENCODED_MAX + 4;
	char *header = malloc(len);

	cr_assert_not_null(header);
	memcpy(header, "Basic ", 6);
	/* Not even valid base64: the length alone decides. */
	memset(header + 6, '*', len - 6);
	{
		struct basic_credentials c;

		cr_assert_eq(basic_parse(header, len, &c), PARSE_TOO_LONG);
	}
	free(header);
}
