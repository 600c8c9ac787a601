/*
 * The session cache of every daemon against changes made in SQL: the stack
 * runs two daemons behind one upstream, and each is asked directly over
 * FastCGI, so "both daemons refuse it on the next check" is what is shown,
 * the next check being the first after the NOTIFY arrived.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

TestSuite(cache, .timeout = AG_TIMEOUT);

#define MAX_DAEMONS 4

/* The daemons' FastCGI addresses from AUTHGATE_TEST_FCGI_ALL. */
static size_t daemon_addrs(char addrs[MAX_DAEMONS][256])
{
	char *list = strdup(ag_env("AUTHGATE_TEST_FCGI_ALL")), *save = NULL;
	size_t n = 0;

	for (char *a = strtok_r(list, " ", &save); a && n < MAX_DAEMONS;
	     a = strtok_r(NULL, " ", &save))
		snprintf(addrs[n++], 256, "%s", a);
	free(list);
	if (n < 2)
		ag_skip("AUTHGATE_TEST_FCGI_ALL names one daemon: these cases "
			"need two (scripts/dev stack start --daemons 2)");
	return n;
}

/* The status of one auth_request check sent straight to a daemon. */
static int check_on(const char *addr, const char *session, const char *role)
{
	char *cookie = ag_strf("%s=%s", AG_SESSION_COOKIE, session);
	const char *const params[] = {
		"AUTHGATE_ENDPOINT", "check",
		"REQUEST_METHOD", "GET",
		"REQUEST_URI", "/private",
		"HTTP_COOKIE", cookie,
		"AUTHGATE_REQUIRE_ROLE", role ? role : "",
		NULL,
	};
	struct ag_fcgi_answer a;
	int fd = ag_fcgi_connect(addr), status = -1;

	ag_fcgi_send_request(fd, 1, false, params);
	ag_fcgi_read_answer(fd, 1, &a);
	cr_assert(a.ended, "%s: no answer", addr);
	cr_assert(sscanf((char *)a.out.data, "Status: %d", &status) == 1,
		  "%s: %.*s", addr, (int)a.out.len, (char *)a.out.data);
	free(a.out.data);
	free(cookie);
	close(fd);
	return status;
}

/* Logs in through nginx and makes every daemon cache the session. */
static void cached_session(struct ag_client *c, struct ag_user *u,
			   char addrs[MAX_DAEMONS][256], size_t n)
{
	ag_client_init(c);
	ag_user_new(u, "cache");
	ag_login_ok(c, u->name, u->password);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(check_on(addrs[i], ag_session(c), NULL), 200);
		cr_assert_eq(check_on(addrs[i], ag_session(c), NULL), 200);
	}
}

/* Applies `sql` (one parameter: the username) and expects every daemon to
 * answer `expected` to its next check once the change's NOTIFY has reached
 * it (a check racing the NOTIFY can still be answered from the cache). */
static void revoked_everywhere(const char *sql, const char *role, int expected)
{
	char addrs[MAX_DAEMONS][256];
	size_t n = daemon_addrs(addrs);
	struct ag_client c;
	struct ag_user u;

	cached_session(&c, &u, addrs, n);
	if (role != NULL) {
		ag_sql_exec("SELECT authgate.grant_role($1, $2)", 2, u.name, role);
		ag_daemons_sync();
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(check_on(addrs[i], ag_session(&c), role), 200,
				     "daemon %zu: role granted", i + 1);
	}
	ag_sql_exec(sql, 1, u.name);
	ag_daemons_sync();
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(check_on(addrs[i], ag_session(&c), role), expected,
			     "daemon %zu after: %s", i + 1, sql);
	ag_client_free(&c);
}

Test(cache, revoke_sessions_reaches_every_daemon)
{
	revoked_everywhere("SELECT authgate.revoke_sessions($1)", NULL, 401);
}

Test(cache, disable_user_reaches_every_daemon)
{
	revoked_everywhere("SELECT authgate.disable_user($1)", NULL, 401);
}

Test(cache, delete_user_reaches_every_daemon)
{
	revoked_everywhere("SELECT authgate.delete_user($1)", NULL, 401);
}

Test(cache, set_password_reaches_every_daemon)
{
	revoked_everywhere("SELECT authgate.set_password($1, 'another password 1')",
			   NULL, 401);
}

Test(cache, revoke_role_reaches_every_daemon)
{
	revoked_everywhere("SELECT authgate.revoke_role($1, 'ops')", "ops", 403);
}

Test(cache, plain_sql_update_reaches_every_daemon)
{
	revoked_everywhere("UPDATE authgate.users SET disabled = true "
			   "WHERE lower(username) = lower($1)", NULL, 401);
}

Test(cache, rename_reaches_every_daemon)
{
	char addrs[MAX_DAEMONS][256];
	size_t n = daemon_addrs(addrs);
	struct ag_client c;
	struct ag_user u;
	struct ag_response r;
	char *renamed;

	cached_session(&c, &u, addrs, n);
	renamed = ag_strf("%s_renamed", u.name);
	ag_sql_exec("UPDATE authgate.users SET username = $2 "
		    "WHERE lower(username) = lower($1)", 2, u.name, renamed);
	/* Through nginx, on both upstream servers in turn. */
	for (size_t i = 0; i < 2 * n; i++) {
		ag_get(&c, "/headers", &r);
		cr_expect(ag_body_has(&r, renamed), "request %zu: %s", i, r.body);
		ag_response_free(&r);
	}
	free(renamed);
	ag_client_free(&c);
}

Test(cache, logout_reaches_every_daemon)
{
	char addrs[MAX_DAEMONS][256];
	size_t n = daemon_addrs(addrs);
	struct ag_client c;
	struct ag_user u;
	struct ag_response r;
	char *token, *body, *session;

	cached_session(&c, &u, addrs, n);
	session = strdup(ag_session(&c));
	ag_get(&c, "/auth/logout", &r);
	token = ag_input_value(&r, "csrf_token");
	ag_response_free(&r);
	cr_assert_not_null(token);
	body = ag_form("csrf_token", token, NULL);
	ag_post_form(&c, "/auth/logout", body, NULL, &r);
	cr_assert_eq(r.status, 303);
	ag_response_free(&r);
	ag_daemons_sync();
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(check_on(addrs[i], session, NULL), 401,
			     "daemon %zu still accepts a logged-out session", i + 1);
	free(session);
	free(token);
	free(body);
	ag_client_free(&c);
}

/*
 * While a daemon's listening connection is gone, a notification can be
 * missed: its cache must then be emptied and bypassed. The listener
 * connections are terminated from SQL; once each daemon has logged the loss
 * (the condition waited on), a revocation is made and must still be seen.
 */
Test(cache, lost_listener_bypasses_the_cache)
{
	char addrs[MAX_DAEMONS][256];
	size_t n = daemon_addrs(addrs);
	const char *log_path = ag_env_or_skip("AUTHGATE_TEST_DAEMON_LOG");
	struct ag_client c;
	struct ag_user u;
	size_t before_len, after_len;
	char *before = ag_read_file(log_path, &before_len), *after = NULL;
	long long terminated;
	double deadline;

	cr_assert_not_null(before);
	cached_session(&c, &u, addrs, n);
	terminated = ag_sql_int(
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
		"WHERE application_name = 'authgate' AND query = 'LISTEN authgate'",
		0);
	cr_assert_geq(terminated, (long long)n, "one listener per daemon");
	deadline = ag_now() + AG_TIMEOUT / 2;
	for (;;) {
		size_t losses = 0;
		const char *p;

		free(after);
		after = ag_read_file(log_path, &after_len);
		for (p = after + before_len;
		     (p = strstr(p, "lost the cache invalidation connection"));
		     p++)
			losses++;
		if (losses >= n)
			break;
		cr_assert(ag_now() < deadline, "daemons did not notice (%zu of %zu)",
			  losses, n);
		ag_pause(0.05);
	}
	ag_sql_exec("SELECT authgate.revoke_sessions($1)", 1, u.name);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(check_on(addrs[i], ag_session(&c), NULL), 401,
			     "daemon %zu served a revoked session from its cache",
			     i + 1);
	free(before);
	free(after);
	ag_client_free(&c);
}
