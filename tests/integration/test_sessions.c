/* Session lifetime: revocation through the operator SQL functions, idle
 * and absolute expiry, remember-me, passive checks, fresh logins. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(revoke, .timeout = AG_TIMEOUT);
TestSuite(expiry, .timeout = AG_TIMEOUT);

/* A current-parameter argon2id hash of this password, made once with
 * libargon2 (salt "authgate-fixture"), as `authgate hash-password` would. */
#define FIXTURE_PASSWORD "fixture-Pa55word-2"
#define FIXTURE_HASH                                                         \
	"$argon2id$v=19$m=19456,t=2,p=1$YXV0aGdhdGUtZml4dHVyZQ$"             \
	"uAHh8iQ4Jd4nH6dRZGEJBU4gUVJr3Fck5MkwHV+uK0Y"

/* Logs `u` in on two independent clients (two browsers). */
static void two_sessions(const struct ag_user *u, struct ag_client *a,
			 struct ag_client *b)
{
	ag_client_init(a);
	ag_client_init(b);
	ag_login_ok(a, u->name, u->password);
	ag_login_ok(b, u->name, u->password);
	cr_assert_eq(ag_status(a, "/headers"), 200);
	cr_assert_eq(ag_status(b, "/headers"), 200);
	cr_assert_eq(ag_session_count(u), 2);
}

static long login_status(const char *username, const char *password)
{
	struct ag_client c;
	long status;

	ag_client_init(&c);
	status = ag_login(&c, username, password, false, NULL, NULL);
	ag_client_free(&c);
	return status;
}

/* -------------------------------------------------------------- revoke */

Test(revoke, set_password_ends_sessions)
{
	struct ag_user u;
	struct ag_client a, b;

	ag_user_new(&u, "rv_setpw");
	two_sessions(&u, &a, &b);
	ag_sql_exec("SELECT authgate.set_password($1, 'Brand-new-pw-1')", 1,
		    u.name);
	cr_expect_eq(ag_status(&a, "/headers"), 401);
	cr_expect_eq(ag_status(&b, "/headers"), 401);
	cr_expect_eq(ag_session_count(&u), 0);
	cr_expect_eq(login_status(u.name, u.password), 401, "old password");
	cr_expect_eq(login_status(u.name, "Brand-new-pw-1"), 303, "new password");
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(revoke, set_password_hash_ends_sessions)
{
	struct ag_user u;
	struct ag_client a, b;

	ag_user_new(&u, "rv_sethash");
	two_sessions(&u, &a, &b);
	ag_sql_exec("SELECT authgate.set_password_hash($1, $2)", 2, u.name,
		    FIXTURE_HASH);
	cr_expect_eq(ag_status(&a, "/headers"), 401);
	cr_expect_eq(ag_status(&b, "/headers"), 401);
	cr_expect_eq(login_status(u.name, u.password), 401, "old password");
	cr_expect_eq(login_status(u.name, FIXTURE_PASSWORD), 303, "new password");
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(revoke, hash_from_another_user_works)
{
	struct ag_user donor, u;
	struct ag_client c;
	char *hash, *id;

	/* create_user_with_hash takes what a login stored for another user
	 * (an argon2id PHC string made by the daemon). */
	ag_user_new(&donor, "rv_donor");
	ag_client_init(&c);
	ag_login_ok(&c, donor.name, donor.password);
	hash = ag_sql_value("SELECT password_hash FROM authgate.users "
			    "WHERE id = $1",
			    1, donor.id);
	cr_assert(hash != NULL && strncmp(hash, "$argon2id$", 10) == 0);
	ag_user_make(&u, "rv_withhash");
	id = ag_sql_value("SELECT authgate.create_user_with_hash($1, $2, $3)", 3,
			  u.name, hash, u.email);
	cr_assert(id != NULL);
	cr_expect_eq(login_status(u.name, donor.password), 303);
	cr_expect_eq(login_status(u.name, "something-else"), 401);
	free(id);
	free(hash);
	ag_client_free(&c);
}

Test(revoke, disable_and_enable_user)
{
	struct ag_user u;
	struct ag_client a, b;

	ag_user_new(&u, "rv_disable");
	two_sessions(&u, &a, &b);
	ag_sql_exec("SELECT authgate.disable_user($1)", 1, u.name);
	cr_expect_eq(ag_status(&a, "/headers"), 401);
	cr_expect_eq(ag_status(&b, "/headers"), 401);
	cr_expect_eq(login_status(u.name, u.password), 401, "disabled login");

	ag_sql_exec("SELECT authgate.enable_user($1)", 1, u.name);
	/* Sessions ended by disable_user stay ended. */
	cr_expect_eq(ag_status(&a, "/headers"), 401);
	cr_expect_eq(login_status(u.name, u.password), 303, "enabled login");
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(revoke, disabled_flag_alone_denies)
{
	struct ag_user u;
	struct ag_client c;

	/* Even a row flagged disabled by hand (sessions left in place) must
	 * not pass a check. */
	ag_user_new(&u, "rv_flag");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	ag_sql_exec("UPDATE authgate.users SET disabled = true WHERE id = $1", 1,
		    u.id);
	cr_expect_eq(ag_session_count(&u), 1);
	cr_expect_eq(ag_status(&c, "/headers"), 401);
	ag_client_free(&c);
}

Test(revoke, delete_user_ends_sessions)
{
	struct ag_user u;
	struct ag_client a, b;

	ag_user_new(&u, "rv_delete");
	two_sessions(&u, &a, &b);
	ag_sql_exec("SELECT authgate.delete_user($1)", 1, u.name);
	cr_expect_eq(ag_status(&a, "/headers"), 401);
	cr_expect_eq(ag_status(&b, "/headers"), 401);
	cr_expect_eq(login_status(u.name, u.password), 401);
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(revoke, revoke_sessions_logs_out_everywhere)
{
	struct ag_user u, other;
	struct ag_client a, b, o;

	ag_user_new(&u, "rv_sessions");
	ag_user_new(&other, "rv_bystander");
	two_sessions(&u, &a, &b);
	ag_client_init(&o);
	ag_login_ok(&o, other.name, other.password);
	cr_expect_eq(ag_sql_int("SELECT authgate.revoke_sessions($1)", 1, u.name),
		     2);
	cr_expect_eq(ag_status(&a, "/headers"), 401);
	cr_expect_eq(ag_status(&b, "/headers"), 401);
	cr_expect_eq(ag_status(&o, "/headers"), 200, "another user was logged out");
	cr_expect_eq(login_status(u.name, u.password), 303, "can log in again");
	ag_client_free(&a);
	ag_client_free(&b);
	ag_client_free(&o);
}

/* -------------------------------------------------------------- expiry */

static void backdate(const struct ag_client *c, const char *column,
		     const char *seconds)
{
	char *sql = ag_strf("UPDATE authgate.sessions SET %s = now() - "
			    "make_interval(secs => $2::int) WHERE token_hash = "
			    "sha256(decode(translate($1, '-_', '+/') || '=', "
			    "'base64'))",
			    column);
	PGresult *res = ag_sql(sql, 2, ag_session(c), seconds);

	cr_assert_str_eq(PQcmdTuples(res), "1", "no session row to backdate");
	PQclear(res);
	free(sql);
}

/* Seconds since last_seen of the client's session. */
static long long idle_seconds(const struct ag_client *c)
{
	return ag_sql_int("SELECT extract(epoch FROM now() - last_seen)::bigint "
			  "FROM authgate.sessions WHERE token_hash = "
			  "sha256(decode(translate($1, '-_', '+/') || '=', "
			  "'base64'))",
			  1, ag_session(c));
}

Test(expiry, idle_timeout)
{
	struct ag_user u;
	struct ag_client c;

	ag_user_new(&u, "ex_idle");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	backdate(&c, "last_seen", "7000");
	cr_expect_eq(ag_status(&c, "/headers"), 200, "idle 7000 s of 7200");
	/* That check was activity. */
	cr_expect_lt(idle_seconds(&c), 60);
	backdate(&c, "last_seen", "7300");
	cr_expect_eq(ag_status(&c, "/headers"), 401, "idle 7300 s of 7200");
	ag_client_free(&c);
}

Test(expiry, absolute_lifetime)
{
	struct ag_user u;
	struct ag_client c;

	ag_user_new(&u, "ex_abs");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	ag_sql_exec("UPDATE authgate.sessions SET expires_at = now() - "
		    "interval '1 second' WHERE user_id = $1",
		    1, u.id);
	cr_expect_eq(ag_status(&c, "/headers"), 401);
	ag_client_free(&c);
}

Test(expiry, remember_ignores_idle_not_lifetime)
{
	struct ag_user u;
	struct ag_client c;

	ag_user_new(&u, "ex_remember");
	ag_client_init(&c);
	cr_assert_eq(ag_login(&c, u.name, u.password, true, NULL, NULL), 303);
	backdate(&c, "last_seen", "86400");
	cr_expect_eq(ag_status(&c, "/headers"), 200,
		     "a remembered session expired when idle");
	ag_sql_exec("UPDATE authgate.sessions SET expires_at = now() - "
		    "interval '1 second' WHERE user_id = $1",
		    1, u.id);
	cr_expect_eq(ag_status(&c, "/headers"), 401,
		     "a remembered session outlived its lifetime");
	ag_client_free(&c);
}

Test(expiry, passive_checks_are_not_activity)
{
	struct ag_user u;
	struct ag_client c;
	char *before, *after;

	ag_user_new(&u, "ex_passive");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	backdate(&c, "last_seen", "600");
	before = ag_sql_value("SELECT last_seen::text FROM authgate.sessions "
			      "WHERE user_id = $1",
			      1, u.id);
	cr_expect_eq(ag_status(&c, "/poll/headers"), 200);
	cr_expect_eq(ag_status(&c, "/poll/headers"), 200);
	after = ag_sql_value("SELECT last_seen::text FROM authgate.sessions "
			     "WHERE user_id = $1",
			     1, u.id);
	cr_assert(before != NULL && after != NULL);
	cr_expect_str_eq(after, before, "a passive check moved last_seen");

	/* An ordinary check is activity. */
	cr_expect_eq(ag_status(&c, "/headers"), 200);
	cr_expect_lt(idle_seconds(&c), 60, "last_seen not updated by /headers");

	/* Polling does not keep an idle session alive. */
	backdate(&c, "last_seen", "7300");
	cr_expect_eq(ag_status(&c, "/poll/headers"), 401);
	free(before);
	free(after);
	ag_client_free(&c);
}

Test(expiry, fresh_login_required)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;

	ag_user_new(&u, "ex_fresh");
	/* The password itself is older than the session: only freshness
	 * can fail below. */
	ag_sql_exec("UPDATE authgate.users SET password_changed_at = now() - "
		    "interval '1 day' WHERE id = $1",
		    1, u.id);
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	cr_expect_eq(ag_status(&c, "/account/headers"), 200, "fresh session");

	backdate(&c, "authenticated_at", "330");
	cr_expect_eq(ag_status(&c, "/account/headers"), 401, "stale session");
	ag_get_html(&c, "/account/headers", &r);
	cr_expect_eq(r.status, 302, "browser with a stale session: %ld", r.status);
	cr_expect(ag_header(&r, "Location") != NULL &&
		  strcmp(ag_header(&r, "Location"),
			 "/auth/login?next=%2Faccount%2Fheaders&reauth=1") == 0,
		  "Location: %s", ag_header(&r, "Location"));
	ag_response_free(&r);
	/* Freshness matters only where it is required. */
	cr_expect_eq(ag_status(&c, "/headers"), 200);

	/* Entering the password again makes it fresh. */
	ag_login_ok(&c, u.name, u.password);
	cr_expect_eq(ag_status(&c, "/account/headers"), 200, "after a new login");
	ag_client_free(&c);
}

/* Flask-Login's refresh flow: the login page asks the signed-in user for
 * the password only, and the same session becomes fresh again. */
Test(expiry, reauthentication_refreshes_the_same_session)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *session, *token, *body, *username, *reauth;

	ag_user_new(&u, "ex_reauth");
	/* A session authenticated before the last password change is void:
	 * make the password older, so that only freshness is at stake. */
	ag_sql_exec("UPDATE authgate.users SET password_changed_at = now() - "
		    "interval '1 day' WHERE id = $1",
		    1, u.id);
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	session = strdup(ag_session(&c));
	backdate(&c, "authenticated_at", "400");
	cr_assert_eq(ag_status(&c, "/account/headers"), 401);

	ag_get_html(&c, "/auth/login?next=%2Faccount%2Fheaders&reauth=1", &r);
	cr_expect_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "Please reauthenticate to access this page."),
		  "%s", r.body);
	username = ag_input_value(&r, "username");
	reauth = ag_input_value(&r, "reauth");
	token = ag_input_value(&r, "csrf_token");
	cr_expect(username != NULL && strcmp(username, u.name) == 0,
		  "username prefilled: %s", username);
	cr_expect(reauth != NULL && strcmp(reauth, "1") == 0);
	ag_response_free(&r);

	body = ag_form("csrf_token", token, "username", u.name, "password",
		       u.password, "next", "/account/headers", "reauth", "1", NULL);
	ag_post_form(&c, "/auth/login", body, NULL, &r);
	cr_expect_eq(r.status, 303);
	cr_expect_null(ag_set_cookie(&r, AG_SESSION_COOKIE),
		       "the same session goes on: no new cookie");
	ag_response_free(&r);
	cr_expect_str_eq(ag_session(&c), session);
	cr_expect_eq(ag_session_count(&u), 1, "no second session");
	cr_expect_eq(ag_status(&c, "/account/headers"), 200, "fresh again");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events "
				"WHERE event = 'reauthenticated' AND user_id = $1",
				1, u.id), 1);
	free(session);
	free(token);
	free(body);
	free(username);
	free(reauth);
	ag_client_free(&c);
}

/* Without the re-authentication form, a login while signed in is a new
 * login: a new token (no fixation), the old session stays as it was. */
Test(expiry, plain_login_while_signed_in_makes_a_new_session)
{
	struct ag_user u;
	struct ag_client c;
	char *first;

	ag_user_new(&u, "ex_relogin");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	first = strdup(ag_session(&c));
	ag_login_ok(&c, u.name, u.password);
	cr_expect_str_neq(ag_session(&c), first);
	cr_expect_eq(ag_session_count(&u), 2);
	free(first);
	ag_client_free(&c);
}

/* Session protection "basic" (the stack's default): the same cookie from
 * another browser still works but is not fresh any more. */
Test(expiry, protection_basic_marks_another_client_not_fresh)
{
	static const char *const other_browser[] = {
		"User-Agent: SomethingElse/1.0", NULL,
	};
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;

	ag_user_new(&u, "ex_protect");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	cr_expect_eq(ag_status(&c, "/account/headers"), 200, "fresh at first");
	ag_get_with(&c, "/headers", other_browser, &r);
	cr_expect_eq(r.status, 200, "the session still works");
	ag_response_free(&r);
	ag_get_with(&c, "/account/headers", other_browser, &r);
	cr_expect_eq(r.status, 401, "but is not fresh: %ld", r.status);
	ag_response_free(&r);
	cr_expect_eq(ag_status(&c, "/account/headers"), 401,
		     "not fresh for the first browser either");
	ag_get(&c, "/auth/whoami", &r);
	cr_expect(ag_body_has(&r, "\"fresh\":false"), "%s", r.body);
	ag_response_free(&r);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"event = 'session_protection' AND user_id = $1 "
				"AND detail = 'stale'", 1, u.id), 1);
	ag_client_free(&c);
}
