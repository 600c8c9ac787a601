/*
 * HTTP Basic on $authgate_basic locations (/dav/ in nginx/example.conf),
 * through real nginx: the challenge, identity headers, the credential
 * cache, revocation by SQL, brute-force locks and malformed headers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../base64.h"
#include "harness.h"

TestSuite(basic_auth, .timeout = AG_TIMEOUT);

/* "Authorization: Basic " + base64 of `raw` (len bytes); caller frees. */
static char *basic_header_raw(const char *raw, size_t len)
{
	static const char prefix[] = "Authorization: Basic ";
	char *out = malloc(sizeof(prefix) + TEST_BASE64_LEN(len));

	cr_assert_not_null(out);
	memcpy(out, prefix, sizeof(prefix) - 1);
	test_base64(raw, len, out + sizeof(prefix) - 1);
	return out;
}

static char *basic_header(const char *user, const char *password)
{
	char *raw = ag_strf("%s:%s", user, password);
	char *header = basic_header_raw(raw, strlen(raw));

	free(raw);
	return header;
}

/* GET `path` as an API client with these credentials; the answer goes to
 * `out`. */
static void get_basic(struct ag_client *c, const char *path, const char *user,
		      const char *password, struct ag_response *out)
{
	char *header = basic_header(user, password);
	const char *headers[] = {header, NULL};

	ag_get_with(c, path, headers, out);
	free(header);
}

static long status_basic(struct ag_client *c, const char *path,
			 const char *user, const char *password)
{
	struct ag_response r;
	long status;

	get_basic(c, path, user, password, &r);
	status = r.status;
	ag_response_free(&r);
	return status;
}

/* Expects `times` requests with these credentials to answer `status`. */
static void expect_statuses(struct ag_client *c, const char *user,
			    const char *password, int times, long status)
{
	for (int i = 0; i < times; i++)
		cr_assert_eq(status_basic(c, "/dav/headers", user, password),
			     status, "request %d", i);
}

/* Events of `event` for the user (and detail, when not NULL). */
static long long events(const struct ag_user *u, const char *event,
			const char *detail)
{
	return ag_sql_int("SELECT count(*) FROM authgate.events "
			  "WHERE username = $1 AND event = $2 "
			  "AND ($3::text IS NULL OR detail = $3)",
			  3, u->name, event, detail);
}

static void expect_challenge(const struct ag_response *r)
{
	const char *challenge = ag_header(r, "WWW-Authenticate");

	cr_assert_eq(r->status, 401, "status %ld: %s", r->status, r->body);
	cr_assert_not_null(challenge, "no WWW-Authenticate through nginx");
	cr_expect_str_eq(challenge, "Basic realm=\"authgate\", charset=\"UTF-8\"");
}

Test(basic_auth, no_credentials_get_the_challenge)
{
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	ag_get(&c, "/dav/headers", &r);
	expect_challenge(&r);
	cr_expect(ag_body_has(&r, "\"unauthorized\""), "%s", r.body);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(basic_auth, browser_without_credentials_goes_to_the_login_form)
{
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	ag_get_html(&c, "/dav/headers", &r);
	cr_assert_eq(r.status, 302);
	cr_expect_not_null(strstr(ag_header(&r, "Location"),
				  "/auth/login?next=%2Fdav%2Fheaders"));
	cr_expect_null(ag_header(&r, "WWW-Authenticate"));
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(basic_auth, right_password_passes_the_identity)
{
	struct ag_client c;
	struct ag_response r;
	struct ag_user u;
	char *line;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	get_basic(&c, "/dav/headers", u.name, u.password, &r);
	cr_assert_eq(r.status, 200, "status %ld: %s", r.status, r.body);
	line = ag_strf("X-Auth-User: %s\nX-Auth-User-Id: %s\nX-Auth-Email: %s\n",
		       u.name, u.id, u.email);
	cr_expect(ag_body_has(&r, line), "%s", r.body);
	free(line);
	/* No session is made: the client sends its password every time. */
	cr_expect_null(ag_header(&r, "Set-Cookie"));
	cr_expect_eq(ag_session_count(&u), 0);
	cr_expect_eq(events(&u, "basic_login", NULL), 1);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(basic_auth, wrong_or_unknown_is_refused_and_recorded)
{
	struct ag_client c;
	struct ag_response r;
	struct ag_user u, ghost;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	get_basic(&c, "/dav/headers", u.name, "not the password", &r);
	expect_challenge(&r);
	ag_response_free(&r);
	cr_expect_eq(events(&u, "login_failed", "basic_bad_password"), 1);

	ag_user_make(&ghost, "ghost");
	get_basic(&c, "/dav/headers", ghost.name, ghost.password, &r);
	expect_challenge(&r);
	ag_response_free(&r);
	cr_expect_eq(events(&ghost, "login_failed", "basic_unknown_user"), 1);
	/* Never the password, in any table. */
	cr_expect_eq(ag_rows_containing("not the password"), 0);
	cr_expect_eq(ag_rows_containing(ghost.password), 0);
	ag_client_free(&c);
}

Test(basic_auth, verified_credentials_are_served_from_memory)
{
	struct ag_client c;
	struct ag_user u;
	long long verified = 0, streak = 0;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	/*
	 * Each daemon verifies and remembers. A verification overtaken by
	 * some invalidation (other tests' changes arrive all the time) is not
	 * remembered, so wait for a run of requests that needed no
	 * verification at all: without the cache there is none.
	 */
	for (int i = 0; i < 40 && streak < 10; i++) {
		long long now;

		cr_assert_eq(status_basic(&c, "/dav/headers", u.name, u.password),
			     200, "request %d", i);
		now = events(&u, "basic_login", NULL);
		streak = now == verified ? streak + 1 : 0;
		verified = now;
	}
	cr_expect_eq(streak, 10, "every request verified the password again "
		     "(%lld verifications)", verified);
	/* A wrong password is never answered from memory. */
	cr_expect_eq(status_basic(&c, "/dav/headers", u.name, "wrong"), 401);
	cr_expect_eq(events(&u, "login_failed", "basic_bad_password"), 1);
	ag_client_free(&c);
}

Test(basic_auth, parallel_first_requests_all_pass)
{
	struct ag_client c;
	struct ag_response r[6];
	struct ag_user u;
	char *header;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	/* A client's first requests at once, on a bcrypt hash from
	 * create_user: each verification upgrades it, and only one upgrade
	 * wins; the others must still let the right password in. */
	header = basic_header(u.name, u.password);
	{
		const char *headers[] = {header, NULL};

		ag_parallel(&c, "GET", "/dav/headers", headers, NULL, 6, r);
	}
	for (size_t i = 0; i < 6; i++) {
		cr_expect_eq(r[i].status, 200, "request %zu: %ld", i, r[i].status);
		ag_response_free(&r[i]);
	}
	free(header);
	cr_expect_eq(events(&u, "login_failed", NULL), 0);
	ag_client_free(&c);
}

Test(basic_auth, revocations_end_it_at_once)
{
	/* What ends the user's access in SQL; what gives it back (NULL:
	 * nothing), and the password that then works. */
	static const struct {
		const char *revoke, *restore, *password_after;
	} cases[] = {
		{"SELECT authgate.set_password($1, 'another passphrase')", NULL,
		 "another passphrase"},
		{"SELECT authgate.disable_user($1)",
		 "SELECT authgate.enable_user($1)", NULL},
		{"SELECT authgate.delete_user($1)", NULL, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ag_client c;
		struct ag_user u;

		ag_client_init(&c);
		ag_user_new(&u, "basic");
		expect_statuses(&c, u.name, u.password, 3, 200);
		ag_sql_exec(cases[i].revoke, 1, u.name);
		/* Also on the daemons that remembered the password. */
		expect_statuses(&c, u.name, u.password, 3, 401);
		if (cases[i].restore != NULL)
			ag_sql_exec(cases[i].restore, 1, u.name);
		if (cases[i].restore != NULL || cases[i].password_after != NULL)
			expect_statuses(&c, u.name,
					cases[i].password_after
						? cases[i].password_after
						: u.password,
					1, 200);
		ag_client_free(&c);
	}
}

Test(basic_auth, roles_are_required_too)
{
	struct ag_client c;
	struct ag_user u;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	cr_expect_eq(status_basic(&c, "/dav/admin/headers", u.name, u.password),
		     403);
	ag_sql_exec("SELECT authgate.grant_role($1, 'admin')", 1, u.name);
	cr_expect_eq(status_basic(&c, "/dav/admin/headers", u.name, u.password),
		     200);
	ag_client_free(&c);
}

Test(basic_auth, failures_lock_the_account)
{
	struct ag_client c;
	struct ag_response r;
	struct ag_user u;
	const char *retry;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	/* --login-max-failures (5 in the test stack, the default). */
	expect_statuses(&c, u.name, "guess", 5, 401);
	get_basic(&c, "/dav/headers", u.name, u.password, &r);
	cr_assert_eq(r.status, 429, "status %ld: %s", r.status, r.body);
	retry = ag_header(&r, "Retry-After");
	cr_assert_not_null(retry);
	cr_expect(atol(retry) > 0 && atol(retry) <= 900, "Retry-After: %s", retry);
	ag_response_free(&r);
	cr_expect_geq(events(&u, "login_locked", NULL), 1);
	/* The login form shares the lock. */
	cr_expect_eq(ag_login(&c, u.name, u.password, false, NULL, NULL), 429);
	ag_client_free(&c);
}

Test(basic_auth, ignored_where_not_switched_on)
{
	struct ag_client c;
	struct ag_response r;
	struct ag_user u;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	get_basic(&c, "/headers", u.name, u.password, &r);
	cr_expect_eq(r.status, 401);
	cr_expect_str_eq(ag_header(&r, "WWW-Authenticate"), "Bearer realm=\"authgate\"");
	ag_response_free(&r);
	cr_expect_eq(events(&u, "basic_login", NULL), 0);
	cr_expect_eq(events(&u, "login_failed", NULL), 0);
	ag_client_free(&c);
}

Test(basic_auth, a_session_cookie_works_too)
{
	struct ag_client c;
	struct ag_response r;
	struct ag_user u;

	ag_client_init(&c);
	ag_user_new(&u, "basic");
	ag_login_ok(&c, u.name, u.password);
	ag_get(&c, "/dav/headers", &r);
	cr_expect_eq(r.status, 200, "status %ld: %s", r.status, r.body);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(basic_auth, malformed_headers_are_400_and_change_nothing)
{
	static const char *const headers[] = {
		"Authorization: Basic !!!!",
		"Authorization: Basic Zg=",
		"Authorization: Basic bm9jb2xvbg==", /* "nocolon" */
		"Authorization: Basic OnNlY3JldA==", /* ":secret" */
		"Authorization: Basic YWxpY2U6",     /* "alice:" */
	};
	char username_with_control[] = "al\x01ice:secret";
	char *long_password, *raw;
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		const char *list[] = {headers[i], NULL};

		ag_get_with(&c, "/dav/headers", list, &r);
		cr_expect_eq(r.status, 400, "%s: status %ld", headers[i], r.status);
		ag_response_free(&r);
	}
	raw = basic_header_raw(username_with_control,
			       strlen(username_with_control));
	{
		const char *list[] = {raw, NULL};

		ag_get_with(&c, "/dav/headers", list, &r);
		cr_expect_eq(r.status, 400, "control character: %ld", r.status);
		ag_response_free(&r);
	}
	free(raw);
	/* Passwords over 1024 bytes are refused before hashing. */
	long_password = malloc(1026);
	cr_assert_not_null(long_password);
	memset(long_password, 'p', 1025);
	long_password[1025] = '\0';
	get_basic(&c, "/dav/headers", "alice", long_password, &r);
	cr_expect_eq(r.status, 400, "long password: %ld", r.status);
	ag_response_free(&r);
	free(long_password);
	/* Nothing recorded for this client: no failure counted, no event. */
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events "
				"WHERE client_addr = $1::inet", 1, c.source), 0);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.login_failures "
				"WHERE key = $1", 1, c.source), 0);
	ag_client_free(&c);
}
