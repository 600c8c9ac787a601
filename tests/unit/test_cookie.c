#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "unit.h"

struct cookie_case {
	const char *header;
	size_t len;
	const char *name;
	enum parse_result result;
	const char *value;
	size_t value_len;
};

static const struct cookie_case cookie_cases[] = {
	{ S("authgate=xyz"), "authgate", PARSE_OK, S("xyz") },
	{ S("a=1; authgate=xyz"), "authgate", PARSE_OK, S("xyz") },
	{ S("a=1;authgate=xyz;b=2"), "authgate", PARSE_OK, S("xyz") },
	{ S("a=1 ;  authgate=xyz  ; b=2"), "authgate", PARSE_OK, S("xyz") },
	{ S("  authgate = xyz  "), "authgate", PARSE_OK, S("xyz") },
	{ S("\tauthgate=xyz\t"), "authgate", PARSE_OK, S("xyz") },
	{ S("authgate=x y"), "authgate", PARSE_OK, S("x y") },
	{ S("authgate=\"xyz\""), "authgate", PARSE_OK, S("xyz") },
	{ S("authgate= \"xyz\" ; b=1"), "authgate", PARSE_OK, S("xyz") },
	{ S("authgate=\"\""), "authgate", PARSE_OK, S("") },
	{ S("authgate=\""), "authgate", PARSE_OK, S("\"") },
	{ S("authgate=\"xyz"), "authgate", PARSE_OK, S("\"xyz") },
	{ S("authgate=xyz\""), "authgate", PARSE_OK, S("xyz\"") },
	{ S("authgate="), "authgate", PARSE_OK, S("") },
	{ S("authgate=;b=1"), "authgate", PARSE_OK, S("") },
	{ S("authgate=a=b"), "authgate", PARSE_OK, S("a=b") },
	{ S("authgate_csrf=abc"), "authgate", PARSE_ABSENT, S("") },
	{ S("authgate_csrf=abc; authgate=xyz"), "authgate", PARSE_OK,
	  S("xyz") },
	{ S("authgate=xyz; authgate_csrf=abc"), "authgate_csrf", PARSE_OK,
	  S("abc") },
	{ S("authgate=xyz"), "authgate_csrf", PARSE_ABSENT, S("") },
	{ S("xauthgate=1"), "authgate", PARSE_ABSENT, S("") },
	{ S("authgat=1"), "authgate", PARSE_ABSENT, S("") },
	{ S("Authgate=1"), "authgate", PARSE_ABSENT, S("") },
	{ S("AUTHGATE=1; authgate=2"), "authgate", PARSE_OK, S("2") },
	{ S("authgate=a; authgate=b"), "authgate", PARSE_INVALID, S("") },
	{ S("authgate=a; authgate=a"), "authgate", PARSE_INVALID, S("") },
	{ S("authgate=a;authgate="), "authgate", PARSE_INVALID, S("") },
	{ S("authgate=a; x=1;  authgate =b"), "authgate", PARSE_INVALID,
	  S("") },
	{ S("authgate; a=1"), "authgate", PARSE_ABSENT, S("") },
	{ S("authgate; authgate=x"), "authgate", PARSE_OK, S("x") },
	{ S("foo; authgate=x; bar"), "authgate", PARSE_OK, S("x") },
	{ S(""), "authgate", PARSE_ABSENT, S("") },
	{ S(";;;"), "authgate", PARSE_ABSENT, S("") },
	{ S(" ; ; "), "authgate", PARSE_ABSENT, S("") },
	{ S("=x"), "authgate", PARSE_ABSENT, S("") },
	{ S("__Host-authgate=v"), "__Host-authgate", PARSE_OK, S("v") },
	{ S("__Host-authgate=v; authgate=w"), "authgate", PARSE_OK, S("w") },
	{ S("a=\0; authgate=xyz"), "authgate", PARSE_OK, S("xyz") },
	{ S("authgate=x\0y"), "authgate", PARSE_OK, S("x\0y") },
	{ S("auth\0gate=x"), "auth", PARSE_ABSENT, S("") },
	{ S("authgate=\xc3\xa9\xff"), "authgate", PARSE_OK, S("\xc3\xa9\xff") },
};

Test(cookie, table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(cookie_cases); i++) {
		const struct cookie_case *c = &cookie_cases[i];
		char *header = dup_exact(c->header, c->len);
		const char *value = (const char *)1;
		size_t value_len = 99;
		enum parse_result r;

		r = cookie_get(header, c->len, c->name, &value, &value_len);
		cr_assert_eq(r, c->result, "case %zu: result %d, want %d", i,
			     r, c->result);
		cr_assert_eq(value_len, c->value_len, "case %zu: len", i);
		if (r == PARSE_OK) {
			cr_assert(value >= header &&
				  value + value_len <= header + c->len,
				  "case %zu: value borrowed from header", i);
			cr_assert_eq(memcmp(value, c->value, value_len), 0,
				     "case %zu", i);
		} else {
			cr_assert_null(value, "case %zu", i);
		}
		free(header);
	}
}

Test(cookie, duplicate_name_is_invalid)
{
	const char *h = "authgate=session1; other=1; authgate=tossed";
	const char *value;
	size_t value_len;

	cr_assert_eq(cookie_get(h, strlen(h), "authgate", &value, &value_len),
		     PARSE_INVALID);
	cr_assert_eq(cookie_get(h, strlen(h), "other", &value, &value_len),
		     PARSE_OK, "a duplicate of another name does not matter");
}

Test(cookie, respects_header_length)
{
	/* The value is cut at len; the rest of the string is not read. */
	char *h = dup_exact("authgate=abcdef", 12);
	const char *value;
	size_t value_len;

	cr_assert_eq(cookie_get(h, 12, "authgate", &value, &value_len),
		     PARSE_OK);
	cr_assert_eq(value_len, 3);
	cr_assert_eq(memcmp(value, "abc", 3), 0);
	free(h);
}

Test(cookie, name_cut_by_length_is_absent)
{
	char *h = dup_exact("authgate=x", 7);
	const char *value;
	size_t value_len;

	cr_assert_eq(cookie_get(h, 7, "authgate", &value, &value_len),
		     PARSE_ABSENT);
	free(h);
}

Test(cookie, empty_header_null_pointer)
{
	const char *value;
	size_t value_len;

	cr_assert_eq(cookie_get(NULL, 0, "authgate", &value, &value_len),
		     PARSE_ABSENT);
}

Test(cookie, long_header_many_pairs)
{
	char h[4096];
	size_t len = 0, i;
	const char *value;
	size_t value_len;

	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(h + len, sizeof(h) - len, "c%zu=%zu; ",
					i, i);
	len += (size_t)snprintf(h + len, sizeof(h) - len, "authgate=tok");
	cr_assert_lt(len, sizeof(h));
	cr_assert_eq(cookie_get(h, len, "authgate", &value, &value_len),
		     PARSE_OK);
	cr_assert_eq(value_len, 3);
	cr_assert_eq(memcmp(value, "tok", 3), 0);
	cr_assert_eq(cookie_get(h, len, "c199", &value, &value_len), PARSE_OK);
	cr_assert_eq(memcmp(value, "199", 3), 0);
}
