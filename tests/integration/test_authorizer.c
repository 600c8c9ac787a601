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
	char *out = authorize(params, true);

	cr_assert(strncmp(out, "Status: 302", 11) == 0, "%s", out);
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
	char *out = authorize(params, true);

	cr_assert(strncmp(out, "Status: 401", 11) == 0, "%s", out);
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
		out = authorize(params, false);
	}
	cr_assert(strncmp(out, "Status: 200", 11) == 0, "%s", out);
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

		out = authorize(params, true);
		cr_assert(strncmp(out, "Status: 403", 11) == 0, "%s", out);
		cr_expect(!has(out, "Variable-"), "%s", out);
		free(out);
		ag_sql_exec("SELECT authgate.grant_role($1, 'ops')", 1, u.name);
		out = authorize(params, true);
		cr_assert(strncmp(out, "Status: 200", 11) == 0, "%s", out);
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

		out = authorize(params, true);
	}
	cr_assert(strncmp(out, "Status: 200", 11) == 0, "%s", out);
	cr_expect(has(out, u.name), "%s", out);
	free(out);
	free(auth);
	free(token);
}

Test(authorizer, split_apache_phases_are_refused)
{
	/* With FCGI_APACHE_ROLE set, Apache would take the user from HTTP
	 * Basic: a valid session must not vouch for a name the client
	 * chose. */
	struct ag_user u;
	char *cookie, *out;

	logged_in(&u, &cookie);
	{
		const char *const params[] = {
			"REQUEST_URI", "/account/",
			"HTTP_COOKIE", cookie,
			"FCGI_APACHE_ROLE", "AUTHENTICATOR",
			"REMOTE_USER", "admin",
			NULL,
		};

		out = authorize(params, false);
	}
	cr_assert(strncmp(out, "Status: 500", 11) == 0, "%s", out);
	cr_expect(!has(out, "Variable-"), "%s", out);
	free(out);
	free(cookie);
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
