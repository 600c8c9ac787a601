/* authgate.events records what happened, and no secret ever reaches the
 * database or the daemon's log. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(audit, .timeout = AG_TIMEOUT);

/* Secrets a test used, to look for afterwards. */
struct secrets {
	char *items[32];
	size_t n;
};

static void keep(struct secrets *s, const char *secret)
{
	cr_assert(s->n < sizeof(s->items) / sizeof(s->items[0]));
	cr_assert(secret != NULL && secret[0] != '\0');
	s->items[s->n] = strdup(secret);
	cr_assert(s->items[s->n] != NULL);
	s->n++;
}

static void keep_cookies(struct secrets *s, const struct ag_client *c)
{
	if (ag_jar_get(c, AG_SESSION_COOKIE))
		keep(s, ag_jar_get(c, AG_SESSION_COOKIE));
	if (ag_jar_get(c, AG_CSRF_COOKIE))
		keep(s, ag_jar_get(c, AG_CSRF_COOKIE));
}

static void free_secrets(struct secrets *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	s->n = 0;
}

static long long events(const char *user_id, const char *event,
			const char *detail)
{
	if (detail != NULL)
		return ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				  "user_id = $1 AND event = $2 AND detail = $3",
				  3, user_id, event, detail);
	return ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
			  "user_id = $1 AND event = $2",
			  2, user_id, event);
}

static void logout(struct ag_client *c, bool all)
{
	struct ag_response r;
	char *token, *body;

	ag_get(c, "/auth/logout", &r);
	cr_assert_eq(r.status, 200);
	token = ag_input_value(&r, "csrf_token");
	cr_assert(token != NULL);
	ag_response_free(&r);
	body = all ? ag_form("csrf_token", token, "all", "1", NULL)
		   : ag_form("csrf_token", token, NULL);
	ag_post_form(c, "/auth/logout", body, NULL, &r);
	cr_assert_eq(r.status, 303, "logout: %ld", r.status);
	ag_response_free(&r);
	free(body);
	free(token);
}

Test(audit, events_record_the_lifecycle)
{
	struct ag_user u, ghost;
	struct ag_client a, b;
	struct secrets s = {0};
	struct ag_response r;

	ag_user_new(&u, "audit");
	ag_user_make(&ghost, "audit_ghost");
	keep(&s, u.password);
	keep(&s, ghost.password);
	keep(&s, "Wrong-Pw-audit-7d1f");
	keep(&s, "Changed-Pw-audit-9c2e");
	ag_client_init(&a);
	ag_client_init(&b);

	/* Failed logins, each with its reason. */
	cr_assert_eq(ag_login(&a, u.name, "Wrong-Pw-audit-7d1f", false, NULL,
			      NULL),
		     401);
	cr_expect_eq(events(u.id, "login_failed", "bad_password"), 1);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"user_id = $1 AND event = 'login_failed' AND "
				"client_addr = $2::inet",
				2, u.id, a.source),
		     1, "the client address is not recorded");
	cr_assert_eq(ag_login(&a, ghost.name, ghost.password, false, NULL, NULL),
		     401);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"username = $1 AND event = 'login_failed' AND "
				"detail = 'unknown_user'",
				1, ghost.name),
		     1);

	/* Login and logout. */
	ag_login_ok(&a, u.name, u.password);
	keep_cookies(&s, &a);
	cr_expect_eq(events(u.id, "login", NULL), 1);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"user_id = $1 AND event = 'login' AND "
				"client_addr = $2::inet",
				2, u.id, a.source),
		     1);
	logout(&a, false);
	cr_expect_eq(events(u.id, "logout", NULL), 1);

	/* Logout everywhere. */
	ag_login_ok(&a, u.name, u.password);
	ag_login_ok(&b, u.name, u.password);
	keep_cookies(&s, &a);
	keep_cookies(&s, &b);
	logout(&a, true);
	cr_expect_eq(events(u.id, "logout_all", NULL), 1);

	/* The operator functions. */
	ag_login_ok(&a, u.name, u.password);
	keep_cookies(&s, &a);
	ag_sql_exec("SELECT authgate.revoke_sessions($1)", 1, u.name);
	cr_expect_eq(events(u.id, "sessions_revoked", NULL), 1);
	ag_sql_exec("SELECT authgate.set_password($1, 'Changed-Pw-audit-9c2e')",
		    1, u.name);
	cr_expect_eq(events(u.id, "password_changed", NULL), 1);
	ag_sql_exec("SELECT authgate.disable_user($1)", 1, u.name);
	cr_expect_eq(events(u.id, "user_disabled", NULL), 1);
	cr_assert_eq(ag_login(&a, u.name, "Changed-Pw-audit-9c2e", false, NULL,
			      &r),
		     401);
	ag_response_free(&r);
	cr_expect_eq(events(u.id, "login_failed", "disabled"), 1);
	ag_sql_exec("SELECT authgate.delete_user($1)", 1, u.name);
	cr_expect_eq(events(u.id, "user_deleted", NULL), 1);

	/* No row anywhere holds a password or a cookie value. */
	for (size_t i = 0; i < s.n; i++)
		cr_expect_eq(ag_rows_containing(s.items[i]), 0,
			     "secret #%zu is stored in the database", i);
	free_secrets(&s);
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(audit, daemon_log_holds_no_secret)
{
	struct ag_user u;
	struct ag_client a, b, c;
	struct secrets s = {0};
	struct ag_response r;
	char *api_token, *log, *body, *csrf;
	const char *log_path = ag_env_or_skip("AUTHGATE_TEST_DAEMON_LOG");
	size_t log_len;

	ag_user_new(&u, "logscan");
	keep(&s, u.password);
	keep(&s, "Wrong-Pw-logscan-31ab");
	ag_client_init(&a);
	ag_client_init(&b);
	ag_client_init(&c);

	/* Successful and failed logins, remember-me, a hash upgrade. */
	ag_login_ok(&a, u.name, u.password);
	keep_cookies(&s, &a);
	cr_assert_eq(ag_login(&b, u.name, "Wrong-Pw-logscan-31ab", false, NULL,
			      NULL),
		     401);
	cr_assert_eq(ag_login(&b, u.name, u.password, true, NULL, NULL), 303);
	keep_cookies(&s, &b);

	/* Refused posts that carry the password. */
	csrf = ag_csrf_token(&c);
	keep(&s, csrf);
	keep_cookies(&s, &c);
	body = ag_strf("csrf_token=%s&username=%s%%01&password=%s", csrf, u.name,
		       u.password);
	ag_post_form(&c, "/auth/login", body, NULL, &r);
	cr_expect_eq(r.status, 400);
	ag_response_free(&r);
	free(body);
	body = ag_form("csrf_token", "forged", "username", u.name, "password",
		       u.password, NULL);
	ag_post_form(&c, "/auth/login", body, NULL, &r);
	cr_expect_eq(r.status, 403);
	ag_response_free(&r);
	free(body);

	/* An API token, good and bad. */
	api_token = ag_sql_value("SELECT authgate.create_api_token($1, 'log', "
				 "interval '1 hour')",
				 1, u.name);
	cr_assert(api_token != NULL);
	ag_secret(api_token);
	keep(&s, api_token);
	keep(&s, api_token + 4);
	{
		char *line = ag_strf("Authorization: Bearer %s", api_token);
		char *bad = ag_strf("Authorization: Bearer %.46sX", api_token);
		const char *const good[] = {line, NULL};
		const char *const wrong[] = {bad, NULL};

		ag_get_with(&c, "/headers", good, &r);
		cr_expect_eq(r.status, 200);
		ag_response_free(&r);
		ag_get_with(&c, "/headers", wrong, &r);
		cr_expect_eq(r.status, 401);
		ag_response_free(&r);
		free(line);
		free(bad);
	}

	/* Checks with good and mangled cookies, and a logout. */
	cr_expect_eq(ag_status(&a, "/headers"), 200);
	{
		char *mangled = ag_strf("Cookie: authgate=%.42sZ",
					ag_session(&a));
		const char *const headers[] = {mangled, NULL};

		ag_get_with(&c, "/headers", headers, &r);
		cr_expect_eq(r.status, 401);
		ag_response_free(&r);
		free(mangled);
	}
	logout(&a, false);

	log = ag_read_file(log_path, &log_len);
	cr_assert(log != NULL, "cannot read %s", log_path);
	cr_assert(log_len > 0, "the daemon log is empty");
	for (size_t i = 0; i < s.n; i++)
		cr_expect(!ag_contains(log, log_len, s.items[i]),
			  "secret #%zu (%.6s...) is in the daemon log", i,
			  s.items[i]);
	free(log);
	free(api_token);
	free(csrf);
	free_secrets(&s);
	ag_client_free(&a);
	ag_client_free(&b);
	ag_client_free(&c);
}

/* A cookie of a session past its idle timeout: 401, recorded once as
 * session_expired (a second use records nothing). */
Test(audit, expired_session_use_is_recorded)
{
	struct ag_client c;
	struct ag_user u;

	ag_user_new(&u, "audit_dead");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	cr_assert_eq(ag_status(&c, "/"), 200);
	ag_sql_exec("UPDATE authgate.sessions SET last_seen = now() - "
		    "interval '3 hours' WHERE user_id = $1", 1, u.id);
	cr_expect_eq(ag_status(&c, "/"), 401);
	cr_expect_eq(events(u.id, "session_expired", "used_after=idle"), 1);
	cr_expect_eq(ag_status(&c, "/"), 401);
	cr_expect_eq(events(u.id, "session_expired", NULL), 1,
		     "a second use was recorded again");
	ag_client_free(&c);
}

/* Events are logfmt lines: a username holding a quote, a space and '='
 * stays inside its quoted value and cannot add a pair of its own. */
Test(audit, log_lines_are_logfmt_events)
{
	const char *log_path = ag_env_or_skip("AUTHGATE_TEST_DAEMON_LOG");
	struct ag_user u;
	struct ag_client c;
	char *log, *expected, *escaped, *forged;
	size_t log_len;

	/* No email: one is made from the name, and this is not one. */
	ag_user_make(&u, "\"ev il\" level=error user=admin");
	ag_sql_exec("SELECT authgate.create_user($1, $2)", 2, u.name,
		    u.password);
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	/* The daemon writes the line before it answers. */
	log = ag_read_file(log_path, &log_len);
	cr_assert(log != NULL, "cannot read %s", log_path);
	escaped = ag_strf("\\\"ev il\\\" level=error user=admin%s",
			  u.name + strlen("\"ev il\" level=error user=admin"));
	expected = ag_strf(" user=\"%s\" ip=", escaped);
	cr_expect(ag_contains(log, log_len, expected), "no %s in the log",
		  expected);
	cr_expect(ag_contains(log, log_len, "level=info event=login_success req="));
	forged = ag_strf(" user=admin%s ",
			 u.name + strlen("\"ev il\" level=error user=admin"));
	cr_expect(!ag_contains(log, log_len, forged), "a forged pair: %s", forged);
	free(forged);
	free(expected);
	free(escaped);
	free(log);
	ag_client_free(&c);
}
