#include <criterion/criterion.h>
#include <string.h>

#include "csrf.h"

static const uint8_t key[CSRF_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t other_key[CSRF_KEY_LEN] = {9, 8, 7};

Test(csrf, token_verifies_only_for_its_cookie_and_key)
{
	char cookie[CSRF_TOKEN_LEN + 1], other[CSRF_TOKEN_LEN + 1];
	char token[CSRF_TOKEN_LEN + 1];

	cr_assert_eq(csrf_cookie_new(cookie), 0);
	cr_assert_eq(csrf_cookie_new(other), 0);
	cr_assert_eq(csrf_form_token(key, cookie, strlen(cookie), token), PARSE_OK);
	cr_assert_eq(strlen(token), CSRF_TOKEN_LEN);
	cr_assert(csrf_verify(key, cookie, strlen(cookie), token, strlen(token)));
	cr_assert(!csrf_verify(key, other, strlen(other), token, strlen(token)),
		  "a token is bound to one browser's cookie");
	cr_assert(!csrf_verify(other_key, cookie, strlen(cookie), token,
			       strlen(token)), "and to the database's key");
	cr_assert(!csrf_verify(key, cookie, strlen(cookie), cookie,
			       strlen(cookie)), "the cookie itself is no token");
	token[5] ^= 1;
	cr_assert(!csrf_verify(key, cookie, strlen(cookie), token, strlen(token)));
	cr_assert(!csrf_verify(key, cookie, strlen(cookie), token, 10));
	cr_assert(!csrf_verify(key, cookie, strlen(cookie), "", 0));
}

Test(csrf, malformed_cookie_gets_no_token)
{
	char token[CSRF_TOKEN_LEN + 1];

	cr_assert_eq(csrf_form_token(key, "abc", 3, token), PARSE_INVALID);
	cr_assert(!csrf_verify(key, "abc", 3, "abc", 3));
}

static struct request post(const char *origin, const char *site, const char *host)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	if (origin)
		r.origin = (struct str){origin, strlen(origin)};
	if (site)
		r.sec_fetch_site = (struct str){site, strlen(site)};
	if (host)
		r.host = (struct str){host, strlen(host)};
	return r;
}

Test(csrf, same_origin_rules)
{
	static const struct {
		const char *origin, *site, *host;
		bool secure, ok;
	} cases[] = {
		{NULL, NULL, "example.com", true, true},
		{"https://example.com", NULL, "example.com", true, true},
		{"http://example.com", NULL, "example.com", true, false},
		{"http://example.com", NULL, "example.com", false, true},
		{"https://example.com:8443", NULL, "example.com:8443", true, true},
		{"https://example.com", NULL, "example.com:8443", true, false},
		{"https://evil.example", NULL, "example.com", true, false},
		{"https://example.com.evil.example", NULL, "example.com", true, false},
		{"null", NULL, "example.com", true, false},
		{"https://example.com", NULL, NULL, true, false},
		{NULL, "same-origin", "example.com", true, true},
		{NULL, "none", "example.com", true, true},
		{NULL, "same-site", "example.com", true, false},
		{NULL, "cross-site", "example.com", true, false},
		{"https://example.com", "cross-site", "example.com", true, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request r = post(cases[i].origin, cases[i].site, cases[i].host);

		cr_assert_eq(csrf_same_origin(&r, cases[i].secure), cases[i].ok,
			     "case %zu", i);
	}
}
