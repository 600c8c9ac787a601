#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "unit.h"

struct validate_case {
	const char *body;
	size_t len;
	enum parse_result result;
};

static const struct validate_case validate_cases[] = {
	{ S(""), PARSE_OK },
	{ S("a=1"), PARSE_OK },
	{ S("a=1&b=2"), PARSE_OK },
	{ S("a=1&&b=2"), PARSE_OK },
	{ S("a=1&"), PARSE_OK },
	{ S("&"), PARSE_OK },
	{ S("&&&"), PARSE_OK },
	{ S("a"), PARSE_OK },
	{ S("a="), PARSE_OK },
	{ S("=x"), PARSE_OK },
	{ S("a=1=2"), PARSE_OK },
	{ S("a=%41%c3%A9+b"), PARSE_OK },
	{ S("a=x\0y"), PARSE_OK },
	{ S("a=%2"), PARSE_INVALID },
	{ S("a=%"), PARSE_INVALID },
	{ S("a=%zz"), PARSE_INVALID },
	{ S("a=%2&b=1"), PARSE_INVALID },
	{ S("%=1"), PARSE_INVALID },
	{ S("a%=1"), PARSE_INVALID },
	{ S("a=1&b=%"), PARSE_INVALID },
	{ S("a=%%"), PARSE_INVALID },
	{ S("a=%4\0"), PARSE_INVALID },
};

Test(form, validate_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(validate_cases); i++) {
		const struct validate_case *c = &validate_cases[i];
		char *body = dup_exact(c->body, c->len);

		cr_assert_eq(form_validate(body, c->len), c->result,
			     "case %zu", i);
		free(body);
	}
}

Test(form, validate_respects_length)
{
	char *body = dup_exact("a=%4", 4);

	cr_assert_eq(form_validate(body, 4), PARSE_INVALID);
	cr_assert_eq(form_validate(body, 2), PARSE_OK, "\"a=\" alone is fine");
	free(body);
}

struct get_case {
	const char *body;
	size_t len;
	const char *name;
	enum parse_result result;
	const char *value;
	size_t value_len;
};

static const struct get_case get_cases[] = {
	{ S("username=alice&password=x"), "username", PARSE_OK, S("alice") },
	{ S("username=alice&password=x"), "password", PARSE_OK, S("x") },
	{ S("username=alice&password=x"), "remember", PARSE_ABSENT, S("") },
	{ S(""), "a", PARSE_ABSENT, S("") },
	{ S("&&"), "a", PARSE_ABSENT, S("") },
	{ S("a=1&a=2"), "a", PARSE_INVALID, S("") },
	{ S("a=1&a=1"), "a", PARSE_INVALID, S("") },
	{ S("a=1&a"), "a", PARSE_INVALID, S("") },
	{ S("a=1&%61=2"), "a", PARSE_INVALID, S("") },
	{ S("x=1&a=1&x=2"), "a", PARSE_OK, S("1") },
	{ S("a=hello+world"), "a", PARSE_OK, S("hello world") },
	{ S("a=%2B"), "a", PARSE_OK, S("+") },
	{ S("a=%2b%26%3D"), "a", PARSE_OK, S("+&=") },
	{ S("a"), "a", PARSE_OK, S("") },
	{ S("a="), "a", PARSE_OK, S("") },
	{ S("remember&b=2"), "remember", PARSE_OK, S("") },
	{ S("a=1&&b=2&"), "b", PARSE_OK, S("2") },
	{ S("&b=2"), "b", PARSE_OK, S("2") },
	{ S("a=1=2"), "a", PARSE_OK, S("1=2") },
	{ S("b=%zz&a=1"), "a", PARSE_INVALID, S("") },
	{ S("a=1&b=%"), "a", PARSE_INVALID, S("") },
	{ S("my+name=1"), "my name", PARSE_OK, S("1") },
	{ S("my%20name=1"), "my name", PARSE_OK, S("1") },
	{ S("user%5Fname=x"), "user_name", PARSE_OK, S("x") },
	{ S("usernamex=1"), "username", PARSE_ABSENT, S("") },
	{ S("user=1"), "username", PARSE_ABSENT, S("") },
	{ S("Username=1"), "username", PARSE_ABSENT, S("") },
	{ S("a%00=1"), "a", PARSE_ABSENT, S("") },
	{ S("a=%00b"), "a", PARSE_OK, S("\0b") },
	{ S("a=x\0y&b=2"), "a", PARSE_OK, S("x\0y") },
	{ S("a=x\0y&b=2"), "b", PARSE_OK, S("2") },
	{ S("a=%C3%A9"), "a", PARSE_OK, S("\xc3\xa9") },
	{ S("a=\xc3\xa9"), "a", PARSE_OK, S("\xc3\xa9") },
	{ S("next=%2Fok%3Fx%3D1%26y%3D2"), "next", PARSE_OK, S("/ok?x=1&y=2") },
	{ S("=x"), "a", PARSE_ABSENT, S("") },
};

Test(form, get_table)
{
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(get_cases); i++) {
		const struct get_case *c = &get_cases[i];
		char *body = dup_exact(c->body, c->len);
		char out[64];
		size_t out_len = 99;
		enum parse_result r;

		memset(out, 'z', sizeof(out));
		r = form_get(body, c->len, c->name, out, sizeof(out), &out_len);
		cr_assert_eq(r, c->result, "case %zu: result %d, want %d", i,
			     r, c->result);
		cr_assert_eq(out_len, c->value_len, "case %zu: len", i);
		cr_assert_eq(memcmp(out, c->value, out_len), 0, "case %zu", i);
		cr_assert_eq(out[out_len], '\0', "case %zu: NUL", i);
		free(body);
	}
}

Test(form, value_exactly_fits)
{
	char out[6];
	size_t out_len;

	/* Five decoded bytes (one from "+", one from "%41") plus the NUL. */
	cr_assert_eq(form_get("a=ab+%41c", 9, "a", out, sizeof(out), &out_len),
		     PARSE_OK);
	cr_assert_str_eq(out, "ab Ac");
	cr_assert_eq(out_len, 5);
}

Test(form, value_one_too_long)
{
	char out[5];
	size_t out_len = 99;

	cr_assert_eq(form_get("a=ab+%41c", 9, "a", out, sizeof(out), &out_len),
		     PARSE_TOO_LONG);
	cr_assert_eq(out_len, 0);
	cr_assert_str_eq(out, "", "no truncated value is left behind");
}

Test(form, zero_capacity)
{
	size_t out_len;

	cr_assert_eq(form_get("a=", 2, "a", NULL, 0, &out_len),
		     PARSE_TOO_LONG);
	cr_assert_eq(form_get("b=", 2, "a", NULL, 0, &out_len),
		     PARSE_ABSENT);
}

Test(form, duplicate_wins_over_too_long)
{
	char out[2];
	size_t out_len;

	cr_assert_eq(form_get("a=long&a=x", 10, "a", out, sizeof(out),
			      &out_len),
		     PARSE_INVALID);
}

Test(form, empty_body_null_pointer)
{
	char out[4];
	size_t out_len;

	cr_assert_eq(form_validate(NULL, 0), PARSE_OK);
	cr_assert_eq(form_get(NULL, 0, "a", out, sizeof(out), &out_len),
		     PARSE_ABSENT);
}

Test(form, respects_body_length)
{
	/* "a=1&b=2" cut after "a=1&b": b is present with an empty value. */
	char *body = dup_exact("a=1&b=2", 5);
	char out[8];
	size_t out_len;

	cr_assert_eq(form_get(body, 5, "b", out, sizeof(out), &out_len),
		     PARSE_OK);
	cr_assert_eq(out_len, 0);
	free(body);
}

Test(form, query_string_next)
{
	char out[128];
	size_t out_len;
	const char *q = "next=%2Fadmin%2Fusers%3Fpage%3D2";

	cr_assert_eq(form_get(q, strlen(q), "next", out, sizeof(out),
			      &out_len),
		     PARSE_OK);
	cr_assert_str_eq(out, "/admin/users?page=2");
}
