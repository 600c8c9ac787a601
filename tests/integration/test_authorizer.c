/*
 * The FastCGI AUTHORIZER role (lighttpd's mod_fastcgi in authorizer mode,
 * Apache's mod_authnz_fcgi), spoken to the daemon's socket directly in the
 * shapes both servers send: lighttpd closes PARAMS and STDIN, Apache sends
 * no STDIN at all. The whole flow through a real lighttpd is
 * tests/lighttpd/test_lighttpd.sh.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

TestSuite(authorizer, .timeout = AG_TIMEOUT);

/* One authorizer request; `stdin_record`: close an (empty) STDIN as
 * lighttpd does. Returns the whole STDOUT; the caller frees. */
static char *authorize(const char *const *pairs, bool stdin_record)
{
	const uint8_t begin[8] = {0, FCGI_AUTHORIZER, 0};
	struct ag_bytes b = {0}, params = {0};
	struct ag_fcgi_answer a;
	int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

	ag_fcgi_record(&b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
	ag_fcgi_params_encode(&params, pairs);
	ag_fcgi_record(&b, FCGI_PARAMS, 1, params.data, (uint16_t)params.len);
	ag_fcgi_record(&b, FCGI_PARAMS, 1, NULL, 0);
	if (stdin_record)
		ag_fcgi_record(&b, FCGI_STDIN, 1, NULL, 0);
	ag_send_bytes(fd, b.data, b.len);
	ag_fcgi_read_answer(fd, 1, &a);
	cr_assert(a.ended, "no complete answer within %d s", RECV_TIMEOUT);
	cr_assert_eq(a.protocol_status, 0);
	/* Neither server asks to keep the connection. */
	cr_expect(ag_peer_closed(fd), "connection left open without KEEP_CONN");
	close(fd);
	free(b.data);
	free(params.data);
	return (char *)a.out.data;
}

static bool has(const char *out, const char *needle)
{
	return strstr(out, needle) != NULL;
}

/* authorize() that must answer `status` (the line's start, "Status: 200"). */
static char *authorize_expect(const char *const *pairs, bool stdin_record,
			      const char *status)
{
	char *out = authorize(pairs, stdin_record);

	cr_assert(strncmp(out, status, strlen(status)) == 0,
		  "expected %s: %s", status, out);
	return out;
}

/* A session of a fresh user, logged in through nginx; `cookie` gets the
 * HTTP_COOKIE value, freed by the caller. */
static void logged_in(struct ag_user *u, char **cookie)
{
	struct ag_client c;

	ag_client_init(&c);
	ag_user_new(u, "authz");
	ag_login_ok(&c, u->name, u->password);
	*cookie = ag_strf("%s=%s", AG_SESSION_COOKIE, ag_session(&c));
	ag_client_free(&c);
}

Test(authorizer, browser_without_session_is_sent_to_login)
{
	const char *const params[] = {
		"REQUEST_METHOD", "GET",
		"REQUEST_URI", "/account/page?tab=1",
		"HTTP_ACCEPT", "text/html,application/xhtml+xml",
		NULL,
	};
	char *out = authorize_expect(params, true, "Status: 302");

	cr_expect(has(out, "Location: /auth/login?next=%2Faccount%2Fpage%3Ftab%3D1\r\n"),
		  "%s", out);
	cr_expect(!has(out, "Variable-"), "%s", out);
	free(out);
}

Test(authorizer, api_client_without_session_gets_401_json)
{
	/* The endpoint param of a responder location changes nothing: the
	 * role alone makes this a check. */
	const char *const params[] = {
		"AUTHGATE_ENDPOINT", "login",
		"REQUEST_METHOD", "POST",
		"REQUEST_URI", "/api/items",
		"HTTP_ACCEPT", "application/json",
		NULL,
	};
	char *out = authorize_expect(params, true, "Status: 401");

	cr_expect(has(out, "WWW-Authenticate: Bearer realm=\"authgate\""), "%s", out);
	cr_expect(has(out, "\"error\":\"unauthorized\""), "%s", out);
	free(out);
}

Test(authorizer, session_gives_identity_as_variables)
{
	struct ag_user u;
	char *cookie, *out, *line;

	logged_in(&u, &cookie);
	{
		const char *const params[] = {
			"REQUEST_METHOD", "GET",
			"REQUEST_URI", "/account/",
			"HTTP_COOKIE", cookie,
			NULL,
		};

		/* Apache's shape: no STDIN record at all. */
		out = authorize_expect(params, false, "Status: 200");
	}
	line = ag_strf("Variable-AUTH_USER: %s\r\n", u.name);
	cr_expect(has(out, line), "%s", out);
	free(line);
	line = ag_strf("Variable-AUTH_USER_ID: %s\r\n", u.id);
	cr_expect(has(out, line), "%s", out);
	free(line);
	line = ag_strf("Variable-AUTH_EMAIL: %s\r\n", u.email);
	cr_expect(has(out, line), "%s", out);
	free(line);
	cr_expect(has(out, "Variable-AUTH_ROLES: \r\n"), "%s", out);
	cr_expect(!has(out, "X-Auth-"), "%s", out);
	free(out);
	free(cookie);
}

Test(authorizer, role_requirement_from_a_param)
{
	struct ag_user u;
	char *cookie, *out;

	logged_in(&u, &cookie);
	{
		const char *const params[] = {
			"REQUEST_URI", "/admin/",
			"HTTP_COOKIE", cookie,
			"AUTHGATE_REQUIRE_ROLE", "admin ops",
			NULL,
		};

		out = authorize_expect(params, true, "Status: 403");
		cr_expect(!has(out, "Variable-"), "%s", out);
		free(out);
		ag_sql_exec("SELECT authgate.grant_role($1, 'ops')", 1, u.name);
		out = authorize_expect(params, true, "Status: 200");
		cr_expect(has(out, "Variable-AUTH_ROLES: ops\r\n"), "%s", out);
		free(out);
	}
	free(cookie);
}

Test(authorizer, bearer_token_is_accepted)
{
	struct ag_user u;
	char *token, *auth, *out;

	ag_user_new(&u, "authz");
	token = ag_sql_value("SELECT authgate.create_api_token($1, 'ci', '1 hour')",
			     1, u.name);
	cr_assert(token != NULL);
	auth = ag_strf("Bearer %s", token);
	{
		const char *const params[] = {
			"REQUEST_URI", "/api/items",
			"HTTP_AUTHORIZATION", auth,
			NULL,
		};

		out = authorize_expect(params, true, "Status: 200");
	}
	cr_expect(has(out, u.name), "%s", out);
	free(out);
	free(auth);
	free(token);
}

/* Sends the check as mod_authnz_fcgi does in `apache_role`'s phase and
 * expects `status`. */
static char *authorize_apache(const char *cookie, const char *apache_role,
			      const char *status)
{
	const char *const params[] = {
		"REQUEST_URI", "/account/",
		"HTTP_COOKIE", cookie,
		"FCGI_ROLE", "AUTHORIZER",
		"FCGI_APACHE_ROLE", apache_role,
		NULL,
	};

	return authorize_expect(params, false, status);
}

Test(authorizer, apache_check_user_id_mode_is_served)
{
	/* AuthnzFcgiCheckAuthnProvider: Apache takes the user from
	 * UserExpr "%{reqenv:AUTH_USER}", so the answer names it. */
	struct ag_user u;
	char *cookie, *out, *line;

	logged_in(&u, &cookie);
	out = authorize_apache(cookie, "AUTHENTICATOR", "Status: 200");
	line = ag_strf("Variable-AUTH_USER: %s\r\n", u.name);
	cr_expect(has(out, line), "%s", out);
	free(line);
	free(out);
	free(cookie);
}

Test(authorizer, apache_require_phase_is_refused)
{
	/* As a Require provider the user was named by another module (HTTP
	 * Basic, say): a valid session must not vouch for that name. */
	struct ag_user u;
	char *cookie, *out;

	logged_in(&u, &cookie);
	out = authorize_apache(cookie, "AUTHORIZER", "Status: 500");
	cr_expect(!has(out, "Variable-"), "%s", out);
	free(out);
	free(cookie);
}

Test(authorizer, basic_password_from_the_server_is_refused)
{
	/* mod_authnz_fcgi as an AuthBasicProvider sends the Basic user and
	 * password and would believe the Basic user name on a 200. */
	struct ag_user u;
	char *cookie, *out, password[33];

	ag_random_hex(password, 16);
	logged_in(&u, &cookie);
	{
		const char *const params[] = {
			"REQUEST_URI", "/account/",
			"HTTP_COOKIE", cookie,
			"REMOTE_USER", "admin",
			"REMOTE_PASSWD", password,
			NULL,
		};

		out = authorize_expect(params, false, "Status: 500");
	}
	cr_expect(!has(out, "Variable-"), "%s", out);
	free(out);
	free(cookie);
	/* The password given to the daemon is never logged: looked for here
	 * when this stack has the log file, and by secrets.not_in_logs. */
	ag_secret(password);
	if (getenv("AUTHGATE_TEST_DAEMON_LOG") != NULL) {
		size_t len;
		char *log = ag_read_file(ag_env("AUTHGATE_TEST_DAEMON_LOG"), &len);

		cr_expect(!ag_contains(log, len, password));
		free(log);
	}
}

Test(authorizer, filter_role_is_unknown)
{
	const uint8_t begin[8] = {0, FCGI_FILTER, 0};
	struct ag_bytes b = {0};
	struct ag_fcgi_answer a;
	int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

	ag_fcgi_record(&b, FCGI_BEGIN_REQUEST, 7, begin, sizeof(begin));
	ag_send_bytes(fd, b.data, b.len);
	ag_fcgi_read_answer(fd, 7, &a);
	cr_assert(a.ended);
	cr_expect_eq(a.protocol_status, FCGI_UNKNOWN_ROLE);
	cr_expect_eq(a.out.len, 0);
	free(a.out.data);
	free(b.data);
	close(fd);
}

Test(authorizer, stale_session_asks_for_the_password_again)
{
	struct ag_user u;
	char *cookie, *out, *addr;

	logged_in(&u, &cookie);
	/* The login's own client (the harness logs in from varied loopback
	 * addresses, without a User-Agent), or session protection would
	 * make the session stale at once. */
	addr = ag_sql_value("SELECT host(client_addr) FROM authgate.events "
			    "WHERE event = 'login' AND user_id = $1",
			    1, u.id);
	cr_assert(addr != NULL);
	{
		const char *const params[] = {
			"REQUEST_URI", "/account/",
			"HTTP_COOKIE", cookie,
			"HTTP_ACCEPT", "text/html",
			"REMOTE_ADDR", addr,
			"AUTHGATE_FRESH", "300",
			NULL,
		};

		out = authorize_expect(params, true, "Status: 200");
		free(out);
		/* Not older than the password, which would end the session. */
		ag_sql_exec("UPDATE authgate.users SET password_changed_at = "
			    "now() - interval '1 day' WHERE id = $1",
			    1, u.id);
		ag_sql_exec("UPDATE authgate.sessions SET authenticated_at = "
			    "now() - interval '330 seconds' WHERE user_id = $1",
			    1, u.id);
		out = authorize_expect(params, true, "Status: 302");
		cr_expect(has(out, "Location: /auth/login?next=%2Faccount%2F&reauth=1\r\n"),
			  "%s", out);
		cr_expect(!has(out, "Variable-"), "%s", out);
		free(out);
	}
	free(addr);
	free(cookie);
}
