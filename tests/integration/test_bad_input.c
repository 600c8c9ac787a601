/*
 * The bad-input matrix: malformed, oversized and unexpected input for every
 * endpoint, through nginx, and FastCGI requests with params missing sent
 * straight to the daemon. Each input must get a clear 4xx (or, where the
 * endpoint rightly ignores that part, an ordinary answer), never a 5xx;
 * the daemon must still answer /auth/healthz afterwards; nothing this
 * test's user or address owns may change in the database; and the daemon
 * log must hold none of the secrets sent. The number of inputs tried is
 * printed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

TestSuite(bad_input, .timeout = AG_TIMEOUT * 3);

struct bad_case {
	const char *what;
	const char *method;
	const char *path;     /* may hold %s for a long filler */
	const char *header;   /* one extra header line, may hold %s; or NULL */
	const char *body;     /* may hold %s; NULL: no body */
	bool with_csrf;       /* body is prefixed by a valid csrf_token= */
	const char *content_type; /* NULL: form type when there is a body */
	long lo, hi;          /* accepted status range */
};

#define FORM "application/x-www-form-urlencoded"

static const struct bad_case nginx_cases[] = {
	/* cookies on the check (a protected page), whoami, logout, login */
	{"base64 garbage cookie", "GET", "/", "Cookie: authgate=!!notbase64!!", NULL, false, NULL, 401, 401},
	{"oversized cookie", "GET", "/", "Cookie: authgate=%s", NULL, false, NULL, 400, 401},
	{"duplicate cookie", "GET", "/", "Cookie: authgate=a; authgate=b", NULL, false, NULL, 401, 401},
	{"control character in cookie", "GET", "/", "Cookie: authgate=a\x01" "b", NULL, false, NULL, 400, 401},
	{"non-UTF-8 cookie", "GET", "/", "Cookie: authgate=\xff\xfe", NULL, false, NULL, 400, 401},
	{"empty cookie", "GET", "/", "Cookie: authgate=", NULL, false, NULL, 401, 401},
	{"bad cookie on whoami", "GET", "/auth/whoami", "Cookie: authgate=%%zz", NULL, false, NULL, 401, 401},
	{"oversized cookie on whoami", "GET", "/auth/whoami", "Cookie: authgate=%s", NULL, false, NULL, 400, 401},
	{"duplicate cookie on logout form", "GET", "/auth/logout", "Cookie: authgate=a; authgate=b", NULL, false, NULL, 200, 401},
	{"bad cookie on healthz", "GET", "/auth/healthz", "Cookie: authgate=\x01\x02", NULL, false, NULL, 200, 200},
	/* bearer tokens */
	{"bearer garbage", "GET", "/", "Authorization: Bearer !!!", NULL, false, NULL, 401, 401},
	{"oversized bearer", "GET", "/", "Authorization: Bearer agt_%s", NULL, false, NULL, 400, 401},
	{"empty bearer", "GET", "/", "Authorization: Bearer ", NULL, false, NULL, 401, 401},
	{"unknown scheme", "GET", "/", "Authorization: Negotiate abc", NULL, false, NULL, 401, 401},
	/* query strings */
	{"bad percent in next", "GET", "/auth/login?next=%%zz", NULL, NULL, false, NULL, 200, 400},
	{"NUL in next", "GET", "/auth/login?next=%%00/x", NULL, NULL, false, NULL, 200, 400},
	{"oversized next", "GET", "/auth/login?next=/%s", NULL, NULL, false, NULL, 200, 414},
	{"non-UTF-8 query", "GET", "/auth/login?next=%%ff%%fe", NULL, NULL, false, NULL, 200, 400},
	/* login form bodies */
	{"bad percent in username", "POST", "/auth/login", NULL, "&username=%%zz&password=x", true, NULL, 400, 400},
	{"NUL in username", "POST", "/auth/login", NULL, "&username=a%%00b&password=x", true, NULL, 400, 400},
	{"control character in username", "POST", "/auth/login", NULL, "&username=a%%01b&password=x", true, NULL, 400, 400},
	{"non-UTF-8 username", "POST", "/auth/login", NULL, "&username=%%ff%%fe&password=x", true, NULL, 400, 400},
	{"oversized username", "POST", "/auth/login", NULL, "&username=%s&password=x", true, NULL, 400, 413},
	{"oversized password", "POST", "/auth/login", NULL, "&username=u&password=%s", true, NULL, 400, 413},
	{"duplicate username", "POST", "/auth/login", NULL, "&username=a&username=b&password=x", true, NULL, 400, 400},
	{"missing password", "POST", "/auth/login", NULL, "&username=a", true, NULL, 400, 400},
	{"no fields", "POST", "/auth/login", NULL, "&&&&", true, NULL, 400, 400},
	{"not a form", "POST", "/auth/login", NULL, "garbage", false, NULL, 400, 403},
	{"body over the limit", "POST", "/auth/login", NULL, "&username=u&password=x&pad=%s%s%s%s", true, NULL, 413, 413},
	{"text/plain body", "POST", "/auth/login", NULL, "&username=u&password=x", true, "text/plain", 415, 415},
	{"multipart body", "POST", "/auth/login", NULL, "&username=u&password=x", true, "multipart/form-data; boundary=x", 415, 415},
	{"JSON body", "POST", "/auth/login", NULL, "{\"username\":\"u\"}", false, "application/json", 415, 415},
	{"login without CSRF", "POST", "/auth/login", NULL, "username=u&password=x", false, NULL, 403, 403},
	{"logout without CSRF", "POST", "/auth/logout", NULL, "all=1", false, NULL, 403, 403},
	{"logout with bad percent", "POST", "/auth/logout", NULL, "&all=%%zz", true, NULL, 303, 403},
	{"logout text/plain", "POST", "/auth/logout", NULL, "&all=1", true, "text/plain", 415, 415},
	/* methods and paths */
	{"PUT login", "PUT", "/auth/login", NULL, NULL, false, NULL, 405, 405},
	{"DELETE logout", "DELETE", "/auth/logout", NULL, NULL, false, NULL, 405, 405},
	{"POST whoami", "POST", "/auth/whoami", NULL, "x=1", false, NULL, 405, 405},
	{"PATCH healthz", "PATCH", "/auth/healthz", NULL, NULL, false, NULL, 405, 405},
	{"external check", "GET", "/auth/check", NULL, NULL, false, NULL, 404, 404},
	{"unknown path", "GET", "/auth/nope", NULL, NULL, false, NULL, 404, 404},
	{"login subpath", "GET", "/auth/login/extra", NULL, NULL, false, NULL, 404, 404},
	{"dot segments", "GET", "/auth/x/../nope", NULL, NULL, false, NULL, 404, 404},
};

/* A hash of everything this test's user and address own. */
static char *snapshot(const struct ag_user *u, const char *addr)
{
	return ag_sql_value(
		"SELECT md5(concat_ws('|', "
		"(SELECT u::text FROM authgate.users u WHERE id = $1::bigint), "
		"(SELECT string_agg(s::text, ',' ORDER BY s.token_hash) FROM "
		" authgate.sessions s WHERE user_id = $1::bigint), "
		"(SELECT string_agg(f::text, ',' ORDER BY f.scope, f.key) FROM "
		" authgate.login_failures f WHERE key IN (lower($2), $3, 'u', 'a')), "
		"(SELECT count(*) FROM authgate.events e WHERE e.user_id = $1::bigint "
		" OR e.client_addr = $3::inet)))",
		3, u->id, u->name, addr);
}

/* `pattern` with each "%s" replaced by `filler` and "%%" by "%" (caller
 * frees); NULL for NULL. */
static char *expand(const char *pattern, const char *filler)
{
	size_t fill_len = strlen(filler), n = 0;
	char *out;

	if (pattern == NULL)
		return NULL;
	out = malloc(strlen(pattern) * (fill_len + 1) + 1);
	cr_assert_not_null(out);
	for (const char *p = pattern; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			memcpy(out + n, filler, fill_len);
			n += fill_len;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			out[n++] = '%';
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

Test(bad_input, matrix_through_nginx)
{
	struct ag_client c;
	struct ag_user u;
	char *before, *after, *filler;
	size_t tried = 0;
	char secret[40];

	ag_user_new(&u, "bad_input");
	ag_client_init(&c);
	ag_random_hex(secret, 16);
	filler = malloc(5001);
	cr_assert_not_null(filler);
	memset(filler, 'A', 5000);
	filler[5000] = '\0';
	memcpy(filler, secret, strlen(secret));
	before = snapshot(&u, c.source);

	for (size_t i = 0; i < sizeof(nginx_cases) / sizeof(nginx_cases[0]); i++) {
		const struct bad_case *k = &nginx_cases[i];
		char *path = expand(k->path, filler);
		char *header = expand(k->header, filler);
		char *raw = expand(k->body, filler);
		char *token = k->with_csrf ? ag_csrf_token(&c) : NULL;
		char *body = raw == NULL ? NULL
			     : k->with_csrf ? ag_strf("csrf_token=%s%s", token, raw)
					    : ag_strf("%s", raw);
		char *ctype = body == NULL ? NULL
			      : ag_strf("Content-Type: %s",
					k->content_type ? k->content_type : FORM);
		const char *headers[3] = {0};
		size_t n = 0;
		struct ag_response r;

		if (header != NULL)
			headers[n++] = header;
		if (ctype != NULL)
			headers[n++] = ctype;
		ag_request(&c, k->method, path, headers, body,
			   body ? strlen(body) : 0, &r);
		cr_expect(r.status >= k->lo && r.status <= k->hi,
			  "%s: %s %s gave %ld, expected %ld..%ld", k->what,
			  k->method, k->path, r.status, k->lo, k->hi);
		cr_expect(r.status < 500, "%s: a 5xx", k->what);
		ag_response_free(&r);
		cr_expect_eq(ag_status(&c, "/auth/healthz"), 200,
			     "the daemon is unwell after: %s", k->what);
		tried++;
		free(path);
		free(header);
		free(raw);
		free(body);
		free(ctype);
		free(token);
	}
	after = snapshot(&u, c.source);
	cr_expect_str_eq(after, before, "stored data changed");
	{
		size_t len = 0;
		char *log = ag_read_file(ag_env("AUTHGATE_TEST_DAEMON_LOG"), &len);

		cr_expect(!ag_contains(log, len, secret),
			  "a secret sent in bad input reached the daemon log");
		free(log);
	}
	printf("bad_input: %zu inputs through nginx: no 5xx, daemon alive, "
	       "no data changed, nothing secret logged\n", tried);
	free(before);
	free(after);
	free(filler);
	ag_client_free(&c);
}

/* Requests straight to the daemon's FastCGI socket with params missing or
 * empty, as a misconfigured nginx could send them. */
Test(bad_input, fastcgi_params_missing)
{
	static const char *const no_method[] = {"AUTHGATE_ENDPOINT", "login", NULL};
	static const char *const empty_method[] = {
		"AUTHGATE_ENDPOINT", "whoami", "REQUEST_METHOD", "", NULL};
	static const char *const post_no_type[] = {
		"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "POST", NULL};
	static const char *const logout_no_cookie[] = {
		"AUTHGATE_ENDPOINT", "logout", "REQUEST_METHOD", "POST",
		"CONTENT_TYPE", "application/x-www-form-urlencoded", NULL};
	static const char *const check_bare[] = {"AUTHGATE_ENDPOINT", "check", NULL};
	static const char *const unauthorized_bare[] = {
		"AUTHGATE_ENDPOINT", "unauthorized", NULL};
	static const char *const login_no_addr[] = {
		"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "GET",
		"QUERY_STRING", "next=%zz", NULL};
	static const char *const empty_endpoint[] = {
		"AUTHGATE_ENDPOINT", "", "REQUEST_METHOD", "GET", NULL};
	static const struct {
		const char *const *params;
		int lo, hi;
	} fcgi_cases[] = {
		{no_method, 400, 405},        {empty_method, 400, 405},
		{post_no_type, 400, 415},     {logout_no_cookie, 400, 403},
		{check_bare, 401, 401},       {unauthorized_bare, 401, 401},
		{login_no_addr, 200, 400},    {empty_endpoint, 404, 404},
	};
	size_t tried = 0;

	for (size_t i = 0; i < sizeof(fcgi_cases) / sizeof(fcgi_cases[0]); i++) {
		struct ag_fcgi_answer a;
		int status = 0;
		int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

		ag_fcgi_send_request(fd, 1, false, fcgi_cases[i].params);
		ag_fcgi_read_answer(fd, 1, &a);
		cr_assert(a.ended, "case %zu: no answer", i);
		cr_expect(sscanf((char *)a.out.data, "Status: %d", &status) == 1,
			  "case %zu: %s", i, (char *)a.out.data);
		cr_expect(status >= fcgi_cases[i].lo && status <= fcgi_cases[i].hi,
			  "case %zu (%s): status %d", i, fcgi_cases[i].params[1], status);
		free(a.out.data);
		close(fd);
		cr_expect_eq(ag_status(&(struct ag_client){.source = "127.0.0.1"},
				       "/auth/healthz"),
			     200, "the daemon is unwell after case %zu", i);
		tried++;
	}
	printf("bad_input: %zu FastCGI requests with params missing: no 5xx, "
	       "daemon alive\n", tried);
}
