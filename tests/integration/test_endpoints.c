/* /auth/whoami, /auth/healthz, /auth/logout, unknown paths and methods. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(endpoints, .timeout = AG_TIMEOUT);
TestSuite(logout, .timeout = AG_TIMEOUT);

static bool content_type_is(const struct ag_response *r, const char *type)
{
	const char *ct = ag_header(r, "Content-Type");

	return ct != NULL && strncmp(ct, type, strlen(type)) == 0;
}

/* -------------------------------------------------------------- whoami */

Test(endpoints, whoami_describes_the_session)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *expect;

	ag_user_new(&u, "whoami");
	ag_sql_exec("SELECT authgate.grant_role($1, 'b-role'), "
		    "authgate.grant_role($1, 'a-role')",
		    1, u.name);
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	ag_get(&c, "/auth/whoami", &r);
	cr_assert_eq(r.status, 200, "status %ld", r.status);
	cr_expect(content_type_is(&r, "application/json"), "%s",
		  ag_header(&r, "Content-Type"));
	cr_expect(ag_header(&r, "Cache-Control") != NULL &&
		  strstr(ag_header(&r, "Cache-Control"), "no-store") != NULL);
	expect = ag_strf("\"id\":%s,", u.id);
	cr_expect(ag_body_has(&r, expect), "%s", r.body);
	free(expect);
	expect = ag_strf("\"username\":\"%s\"", u.name);
	cr_expect(ag_body_has(&r, expect), "%s", r.body);
	free(expect);
	expect = ag_strf("\"email\":\"%s\"", u.email);
	cr_expect(ag_body_has(&r, expect), "%s", r.body);
	free(expect);
	cr_expect(ag_body_has(&r, "\"roles\":[\"a-role\",\"b-role\"]"), "%s",
		  r.body);
	cr_expect(ag_body_has(&r, "\"created_at\":\"20"), "%s", r.body);
	cr_expect(ag_body_has(&r, "\"authenticated_at\":\"20"), "%s", r.body);
	cr_expect(ag_body_has(&r, "\"expires_at\":\"20"), "%s", r.body);
	cr_expect(ag_body_has(&r, "\"remember\":false"), "%s", r.body);
	cr_expect(!ag_body_has(&r, ag_session(&c)), "the token is in whoami");
	cr_expect(!ag_body_has(&r, "password"), "%s", r.body);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(endpoints, whoami_without_session_is_401_json)
{
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	ag_get(&c, "/auth/whoami", &r);
	cr_expect_eq(r.status, 401);
	cr_expect(content_type_is(&r, "application/json"), "%s",
		  ag_header(&r, "Content-Type"));
	cr_expect(ag_body_has(&r, "\"error\""), "%s", r.body);
	ag_response_free(&r);
	/* A browser gets the same: whoami is an API. */
	ag_get_html(&c, "/auth/whoami", &r);
	cr_expect_eq(r.status, 401);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(endpoints, healthz)
{
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	ag_get(&c, "/auth/healthz", &r);
	cr_expect_eq(r.status, 200);
	cr_expect(content_type_is(&r, "application/json"));
	cr_expect(ag_body_has(&r, "\"status\":\"ok\""), "%s", r.body);
	ag_response_free(&r);
	ag_request(&c, "HEAD", "/auth/healthz", NULL, NULL, 0, &r);
	cr_expect_eq(r.status, 200, "HEAD: %ld", r.status);
	cr_expect_eq(r.body_len, 0);
	ag_response_free(&r);
	ag_get(&c, "/auth/healthz?live", &r);
	cr_expect_eq(r.status, 200);
	cr_expect(content_type_is(&r, "application/json"));
	cr_expect(ag_body_has(&r, "\"status\":\"live\""), "%s", r.body);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(endpoints, unknown_auth_paths_are_404)
{
	static const char *const paths[] = {
		"/auth/nope", "/auth/", "/auth", "/auth/login/extra",
		"/auth/unauthorized", "/auth/check", "/auth/check?x=1",
		"/auth/whoami/", "/auth/LOGIN",
	};
	struct ag_user u;
	struct ag_client c;

	/* With a session, so that a 404 is not a disguised 401. */
	ag_user_new(&u, "notfound");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ag_response r;

		ag_get(&c, paths[i], &r);
		cr_expect_eq(r.status, 404, "%s: %ld", paths[i], r.status);
		cr_expect(ag_header(&r, "X-Auth-User") == NULL, "%s leaks identity",
			  paths[i]);
		cr_expect(!ag_body_has(&r, u.name), "%s leaks identity", paths[i]);
		ag_response_free(&r);
	}
	ag_client_free(&c);
}

Test(endpoints, wrong_methods_are_405_with_allow)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{"DELETE", "/auth/login", "POST"},
		{"PUT", "/auth/login", "POST"},
		{"PATCH", "/auth/logout", "POST"},
		{"DELETE", "/auth/logout", "POST"},
		{"POST", "/auth/whoami", "GET"},
		{"PUT", "/auth/whoami", "GET"},
		{"POST", "/auth/healthz", "GET"},
		{"DELETE", "/auth/healthz", "GET"},
		{"POST", "/auth/metrics", "GET"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char *const headers[] = {
			"Content-Type: application/x-www-form-urlencoded", NULL};
		struct ag_client c;
		struct ag_response r;
		const char *allow;

		ag_client_init(&c);
		ag_request(&c, cases[i].method, cases[i].path, headers, "a=b", 3,
			   &r);
		cr_expect_eq(r.status, 405, "%s %s: %ld", cases[i].method,
			     cases[i].path, r.status);
		allow = ag_header(&r, "Allow");
		cr_expect(allow != NULL && strstr(allow, cases[i].allow) != NULL,
			  "%s %s: Allow: %s", cases[i].method, cases[i].path,
			  allow);
		cr_expect(allow == NULL || strstr(allow, cases[i].method) == NULL,
			  "%s %s: Allow lists the refused method: %s",
			  cases[i].method, cases[i].path, allow);
		ag_response_free(&r);
		ag_client_free(&c);
	}
}

/* -------------------------------------------------------------- logout */

/* The csrf_token of the logout page (the client must be logged in). */
static char *logout_token(struct ag_client *c)
{
	struct ag_response r;
	char *token;

	ag_get(c, "/auth/logout", &r);
	cr_assert_eq(r.status, 200);
	token = ag_input_value(&r, "csrf_token");
	cr_assert(token != NULL, "no csrf_token on the logout page: %s", r.body);
	ag_response_free(&r);
	return token;
}

Test(logout, get_shows_a_form_and_never_logs_out)
{
	struct ag_user u;
	struct ag_client c, anon;
	struct ag_response r;
	char *token, *path;

	ag_user_new(&u, "lo_get");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	ag_get_html(&c, "/auth/logout", &r);
	cr_assert_eq(r.status, 200);
	cr_expect(content_type_is(&r, "text/html"));
	cr_expect(ag_body_has(&r, "<form method=\"post\" action=\"/auth/logout\">"));
	cr_expect(ag_body_has(&r, "name=\"all\" value=\"1\""));
	cr_expect(ag_body_has(&r, u.name), "the page names the user");
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL,
		  "GET /auth/logout touched the session cookie");
	token = ag_input_value(&r, "csrf_token");
	cr_assert(token != NULL);
	ag_response_free(&r);

	/* Not even with the form's fields in the query. */
	path = ag_strf("/auth/logout?csrf_token=%s&all=1", token);
	ag_get(&c, path, &r);
	cr_expect_eq(r.status, 200);
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL);
	ag_response_free(&r);
	ag_request(&c, "HEAD", path, NULL, NULL, 0, &r);
	ag_response_free(&r);
	cr_expect_eq(ag_status(&c, "/headers"), 200, "GET logged out");
	cr_expect_eq(ag_session_count(&u), 1);

	ag_client_init(&anon);
	ag_get(&anon, "/auth/logout", &r);
	cr_expect_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "not signed in"), "%s", r.body);
	ag_response_free(&r);
	free(path);
	free(token);
	ag_client_free(&c);
	ag_client_free(&anon);
}

Test(logout, post_needs_csrf_and_same_origin)
{
	struct ag_user u;
	struct ag_client c, old;
	struct ag_response r;
	char *token, *body, *session;
	const char *sc;

	ag_user_new(&u, "lo_post");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	session = strdup(ag_session(&c));
	token = logout_token(&c);

	ag_post_form(&c, "/auth/logout", "all=0", NULL, &r);
	cr_expect_eq(r.status, 403, "no token: %ld", r.status);
	ag_response_free(&r);
	ag_post_form(&c, "/auth/logout", "csrf_token=AAAA", NULL, &r);
	cr_expect_eq(r.status, 403, "bad token: %ld", r.status);
	ag_response_free(&r);

	body = ag_form("csrf_token", token, NULL);
	{
		static const char *const evil[] = {"Origin: http://evil.example",
						   NULL};
		static const char *const cross[] = {"Sec-Fetch-Site: cross-site",
						    NULL};

		ag_post_form(&c, "/auth/logout", body, evil, &r);
		cr_expect_eq(r.status, 403, "cross-site Origin: %ld", r.status);
		ag_response_free(&r);
		ag_post_form(&c, "/auth/logout", body, cross, &r);
		cr_expect_eq(r.status, 403, "Sec-Fetch-Site: %ld", r.status);
		ag_response_free(&r);
	}
	cr_expect_eq(ag_status(&c, "/headers"), 200, "refused logout logged out");
	cr_expect_eq(ag_session_count(&u), 1);

	ag_post_form(&c, "/auth/logout", body, NULL, &r);
	cr_expect_eq(r.status, 303, "logout: %ld", r.status);
	cr_expect(ag_header(&r, "Location") != NULL &&
		  strcmp(ag_header(&r, "Location"),
			 "/auth/login?logged_out=1") == 0,
		  "Location: %s", ag_header(&r, "Location"));
	sc = ag_set_cookie(&r, AG_SESSION_COOKIE);
	cr_assert(sc != NULL, "the session cookie is not expired");
	cr_expect(strncmp(sc, "authgate=;", 10) == 0, "%s", sc);
	cr_expect(strstr(sc, "Max-Age=0") != NULL, "%s", sc);
	cr_expect(strstr(sc, "Path=/") != NULL, "%s", sc);
	ag_response_free(&r);
	cr_expect(ag_session(&c) == NULL);

	/* Gone server-side: the old cookie no longer works anywhere. */
	cr_expect_eq(ag_session_count(&u), 0);
	ag_client_with_session(&old, session);
	cr_expect_eq(ag_status(&old, "/headers"), 401);
	cr_expect_eq(ag_status(&old, "/auth/whoami"), 401);
	free(session);
	free(body);
	free(token);
	ag_client_free(&c);
	ag_client_free(&old);
}

Test(logout, single_logout_keeps_other_sessions)
{
	struct ag_user u;
	struct ag_client a, b;
	struct ag_response r;
	char *token, *body;

	ag_user_new(&u, "lo_one");
	ag_client_init(&a);
	ag_client_init(&b);
	ag_login_ok(&a, u.name, u.password);
	ag_login_ok(&b, u.name, u.password);
	token = logout_token(&a);
	body = ag_form("csrf_token", token, NULL);
	ag_post_form(&a, "/auth/logout", body, NULL, &r);
	cr_expect_eq(r.status, 303);
	ag_response_free(&r);
	cr_expect_eq(ag_session_count(&u), 1);
	cr_expect_eq(ag_status(&b, "/headers"), 200);
	free(body);
	free(token);
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(logout, all_ends_every_session_of_the_user)
{
	struct ag_user u, other;
	struct ag_client a, b, o;
	struct ag_response r;
	char *token, *body;

	ag_user_new(&u, "lo_all");
	ag_user_new(&other, "lo_other");
	ag_client_init(&a);
	ag_client_init(&b);
	ag_client_init(&o);
	ag_login_ok(&a, u.name, u.password);
	ag_login_ok(&b, u.name, u.password);
	ag_login_ok(&o, other.name, other.password);
	cr_assert_eq(ag_session_count(&u), 2);

	token = logout_token(&a);
	body = ag_form("csrf_token", token, "all", "1", NULL);
	ag_post_form(&a, "/auth/logout", body, NULL, &r);
	cr_expect_eq(r.status, 303);
	ag_response_free(&r);
	cr_expect_eq(ag_session_count(&u), 0);
	cr_expect_eq(ag_status(&b, "/headers"), 401, "the other browser stays in");
	cr_expect_eq(ag_status(&o, "/headers"), 200, "another user was logged out");
	free(body);
	free(token);
	ag_client_free(&a);
	ag_client_free(&b);
	ag_client_free(&o);
}
