/* Protected locations through nginx's auth_request: redirects, identity
 * headers, roles, malformed cookies, API tokens. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(check, .timeout = AG_TIMEOUT);
TestSuite(tokens, .timeout = AG_TIMEOUT);

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Percent-decodes `s` (no '+' rule); NULL when malformed. Caller frees. */
static char *percent_decode(const char *s)
{
	size_t len = strlen(s), n = 0;
	char *out = malloc(len + 1);

	cr_assert(out != NULL);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (len - i < 3) {
				free(out);
				return NULL;
			}
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

/* The line "Name: value\n" the demo app echoes. */
static bool echoed(const struct ag_response *r, const char *name,
		   const char *value)
{
	char *line = ag_strf("%s: %s\n", name, value);
	bool found = ag_body_has(r, line);

	free(line);
	return found;
}

/* Expects the demo app to have received exactly this identity. */
static void expect_identity(const struct ag_response *r,
			    const struct ag_user *u, const char *roles)
{
	cr_expect(echoed(r, "X-Auth-User", u->name), "user: %s", r->body);
	cr_expect(echoed(r, "X-Auth-User-Id", u->id), "id: %s", r->body);
	cr_expect(echoed(r, "X-Auth-Email", u->email), "email: %s", r->body);
	cr_expect(echoed(r, "X-Auth-Roles", roles), "roles: %s", r->body);
}

/* ---------------------------------------------------------- no session */

Test(check, browser_without_session_is_sent_to_login)
{
	static const char uri[] = "/account/x?a=1&b=c%20d&next=/evil";
	struct ag_client c;
	struct ag_response r;
	const char *loc;
	char *decoded;

	ag_client_init(&c);
	ag_get_html(&c, uri, &r);
	cr_assert_eq(r.status, 302, "status %ld", r.status);
	loc = ag_header(&r, "Location");
	cr_assert(loc != NULL);
	cr_assert(strncmp(loc, "/auth/login?next=", 17) == 0, "Location: %s", loc);
	/* The whole original URI, query included, as one encoded value. */
	cr_expect(strpbrk(loc + 17, "&?=/ ") == NULL,
		  "next is not fully percent-encoded: %s", loc);
	decoded = percent_decode(loc + 17);
	cr_assert(decoded != NULL, "malformed encoding: %s", loc);
	cr_expect_str_eq(decoded, uri);
	free(decoded);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(check, browser_flow_returns_to_the_page)
{
	static const char uri[] = "/headers?a=1&b=c%20d";
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *login_url, *next, *token, *body;

	ag_user_new(&u, "flow");
	ag_client_init(&c);
	ag_get_html(&c, uri, &r);
	cr_assert_eq(r.status, 302);
	login_url = strdup(ag_header(&r, "Location"));
	ag_response_free(&r);

	ag_get_html(&c, login_url, &r);
	cr_assert_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "Please log in first."));
	next = ag_input_value(&r, "next");
	token = ag_input_value(&r, "csrf_token");
	cr_assert(next != NULL && token != NULL);
	/* The hidden field holds the URI HTML-escaped. */
	cr_expect_str_eq(next, "/headers?a=1&amp;b=c%20d");
	ag_response_free(&r);

	body = ag_form("csrf_token", token, "next", "/headers?a=1&b=c%20d",
		       "username", u.name, "password", u.password, NULL);
	ag_post_form(&c, "/auth/login", body, NULL, &r);
	cr_assert_eq(r.status, 303);
	cr_expect(ag_header(&r, "Location") != NULL &&
		  strcmp(ag_header(&r, "Location"), uri) == 0,
		  "Location: %s", ag_header(&r, "Location"));
	ag_response_free(&r);

	ag_get_html(&c, uri, &r);
	cr_expect_eq(r.status, 200);
	expect_identity(&r, &u, "");
	ag_response_free(&r);
	free(body);
	free(login_url);
	free(next);
	free(token);
	ag_client_free(&c);
}

Test(check, api_client_without_session_gets_401_json)
{
	static const char *const json[] = {"Accept: application/json", NULL};
	static const char *const paths[] = {"/", "/headers", "/admin/headers",
					    "/account/headers", "/poll/headers"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ag_client c;
		struct ag_response r;
		const char *ct, *www;

		ag_client_init(&c);
		ag_get_with(&c, paths[i], json, &r);
		cr_expect_eq(r.status, 401, "%s: %ld", paths[i], r.status);
		ct = ag_header(&r, "Content-Type");
		cr_expect(ct != NULL && strncmp(ct, "application/json", 16) == 0,
			  "%s: content type %s", paths[i], ct);
		cr_expect(ag_body_has(&r, "\"error\""), "%s: body %s", paths[i],
			  r.body);
		www = ag_header(&r, "WWW-Authenticate");
		cr_expect(www != NULL && strncmp(www, "Bearer", 6) == 0,
			  "%s: WWW-Authenticate %s", paths[i], www);
		cr_expect(ag_header(&r, "Location") == NULL);
		ag_response_free(&r);
		ag_client_free(&c);
	}
}

Test(check, public_location_needs_no_session)
{
	struct ag_client c;

	ag_client_init(&c);
	cr_expect_eq(ag_status(&c, "/public/"), 200);
	cr_expect_eq(ag_status(&c, "/public/headers"), 200);
	ag_client_free(&c);
}

/* ------------------------------------------------------------ identity */

Test(check, identity_headers_reach_upstream)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;

	ag_user_new(&u, "identity");
	ag_sql_exec("SELECT authgate.grant_role($1, 'zeta'), "
		    "authgate.grant_role($1, 'alpha'), "
		    "authgate.grant_role($1, 'Mid.role')",
		    1, u.name);
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	ag_get(&c, "/headers", &r);
	cr_assert_eq(r.status, 200, "status %ld", r.status);
	expect_identity(&r, &u, "Mid.role,alpha,zeta");
	ag_response_free(&r);

	/* Every protected location passes the identity on. */
	ag_get(&c, "/poll/headers", &r);
	cr_assert_eq(r.status, 200);
	expect_identity(&r, &u, "Mid.role,alpha,zeta");
	ag_response_free(&r);
	ag_get(&c, "/account/headers", &r);
	cr_assert_eq(r.status, 200);
	expect_identity(&r, &u, "Mid.role,alpha,zeta");
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(check, client_identity_headers_never_reach_upstream)
{
	static const char *const spoof[] = {
		"X-Auth-User: mallory",
		"X-Auth-User-Id: 1",
		"X-Auth-Email: mallory@evil.example",
		"X-Auth-Roles: admin,root",
		NULL,
	};
	static const char *const paths[] = {"/headers", "/poll/headers",
					    "/account/headers"};
	struct ag_user u;
	struct ag_client anon, c;
	struct ag_response r;

	/* Without a session, on the public location. */
	ag_client_init(&anon);
	ag_get_with(&anon, "/public/headers", spoof, &r);
	cr_assert_eq(r.status, 200);
	cr_expect(!ag_body_has(&r, "mallory"), "public: %s", r.body);
	cr_expect(!ag_body_has(&r, "admin"), "public: %s", r.body);
	cr_expect(!ag_body_has(&r, "X-Auth-User-Id: 1\n"), "public: %s", r.body);
	ag_response_free(&r);
	/* ... and refused on a protected one. */
	ag_get_with(&anon, "/headers", spoof, &r);
	cr_expect_eq(r.status, 401);
	ag_response_free(&r);

	/* With a session: the checked identity replaces the client's. */
	ag_user_new(&u, "spoof");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ag_get_with(&c, paths[i], spoof, &r);
		cr_assert_eq(r.status, 200, "%s: %ld", paths[i], r.status);
		cr_expect(!ag_body_has(&r, "mallory"), "%s: %s", paths[i], r.body);
		cr_expect(!ag_body_has(&r, "admin"), "%s: %s", paths[i], r.body);
		expect_identity(&r, &u, "");
		ag_response_free(&r);
	}
	/* A client-sent role grants nothing. */
	ag_get_with(&c, "/admin/headers", spoof, &r);
	cr_expect_eq(r.status, 403, "spoofed X-Auth-Roles reached /admin/: %ld",
		     r.status);
	ag_response_free(&r);
	ag_client_free(&anon);
	ag_client_free(&c);
}

Test(check, admin_role_required_and_revocable)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;

	ag_user_new(&u, "roles");
	ag_sql_exec("SELECT authgate.grant_role($1, 'staff')", 1, u.name);
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);

	cr_expect_eq(ag_status(&c, "/admin/headers"), 403,
		     "no admin role yet");
	ag_get_html(&c, "/admin/headers", &r);
	cr_expect_eq(r.status, 403, "a browser is not sent to log in again");
	ag_response_free(&r);

	ag_sql_exec("SELECT authgate.grant_role($1, 'admin')", 1, u.name);
	ag_get(&c, "/admin/headers", &r);
	cr_expect_eq(r.status, 200, "after grant_role: %ld", r.status);
	expect_identity(&r, &u, "admin,staff");
	ag_response_free(&r);

	ag_sql_exec("SELECT authgate.revoke_role($1, 'admin')", 1, u.name);
	cr_expect_eq(ag_status(&c, "/admin/headers"), 403, "after revoke_role");
	cr_expect_eq(ag_status(&c, "/headers"), 200, "the session itself stays");
	ag_client_free(&c);
}

/* ----------------------------------------------------- malformed cookies */

Test(check, malformed_cookies_are_401_never_5xx)
{
	struct ag_user u;
	struct ag_client c;
	char *row_before, *row_after, *valid, *long_value;
	char hex[65];
	char *cookies[24];
	size_t n = 0;

	ag_user_new(&u, "bad_cookie");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	valid = strdup(ag_session(&c));
	ag_random_hex(hex, 32);
	long_value = malloc(5001);
	cr_assert(long_value != NULL);
	memset(long_value, 'A', 5000);
	long_value[5000] = '\0';

	cookies[n++] = ag_strf("Cookie: authgate=garbage");
	cookies[n++] = ag_strf("Cookie: authgate=");
	cookies[n++] = ag_strf("Cookie: authgate");
	cookies[n++] = ag_strf("Cookie: authgate=%.42s", valid);
	cookies[n++] = ag_strf("Cookie: authgate=%sA", valid);
	cookies[n++] = ag_strf("Cookie: authgate=%.42s!", valid);
	cookies[n++] = ag_strf("Cookie: authgate=%.42s+", valid);
	cookies[n++] = ag_strf("Cookie: authgate=%.43s", hex);
	cookies[n++] = ag_strf("Cookie: authgate=%s", long_value);
	cookies[n++] = ag_strf("Cookie: authgate=a; authgate=b");
	cookies[n++] = ag_strf("Cookie: authgate=%s; authgate=garbage", valid);
	cookies[n++] = ag_strf("Cookie: authgate=garbage; authgate=%s", valid);
	cookies[n++] = ag_strf("Cookie: authgate=%s; authgate=%s", valid, valid);
	cookies[n++] = ag_strf("Cookie: Authgate=%s", valid);
	cookies[n++] = ag_strf("Cookie: AUTHGATE=%s", valid);
	cookies[n++] = ag_strf("Cookie: xauthgate=%s", valid);
	cookies[n++] = ag_strf("Cookie: authgate_csrf=%s", valid);
	cookies[n++] = ag_strf("Cookie: ;;;=;authgate==%s", valid);
	cookies[n++] = ag_strf("Cookie: authgate=%%%.40s", valid);

	row_before = ag_sql_value("SELECT s::text FROM authgate.sessions s "
				  "WHERE user_id = $1",
				  1, u.id);
	for (size_t i = 0; i < n; i++) {
		const char *const headers[] = {cookies[i], NULL};
		struct ag_response r;

		ag_get_with(&c, "/headers", headers, &r);
		cr_expect_eq(r.status, 401, "[%zu] %.80s: status %ld", i,
			     cookies[i], r.status);
		ag_response_free(&r);
		ag_request(&c, "GET", "/auth/whoami", headers, NULL, 0, &r);
		cr_expect_eq(r.status, 401, "[%zu] whoami %.80s: status %ld", i,
			     cookies[i], r.status);
		ag_response_free(&r);
		free(cookies[i]);
	}
	/* A cookie header too large for nginx: a 4xx, not a crash. */
	{
		char *huge = malloc(40001);
		const char *const headers[] = {huge, NULL};
		struct ag_response r;

		cr_assert(huge != NULL);
		strcpy(huge, "Cookie: authgate=");
		memset(huge + 17, 'A', 40000 - 17);
		huge[40000] = '\0';
		ag_get_with(&c, "/headers", headers, &r);
		cr_expect(r.status >= 400 && r.status < 500,
			  "huge cookie: status %ld", r.status);
		ag_response_free(&r);
		free(huge);
	}
	row_after = ag_sql_value("SELECT s::text FROM authgate.sessions s "
				 "WHERE user_id = $1",
				 1, u.id);
	cr_assert(row_before != NULL && row_after != NULL);
	cr_expect_str_eq(row_after, row_before, "bad cookies changed the session");
	/* Positive control: the valid cookie alone still works. */
	cr_expect_eq(ag_status(&c, "/headers"), 200);
	free(row_before);
	free(row_after);
	free(valid);
	free(long_value);
	ag_client_free(&c);
}

/* ----------------------------------------------------------- API tokens */

static char *new_token(const struct ag_user *u, const char *name)
{
	char *token = ag_sql_value("SELECT authgate.create_api_token($1, $2, "
				   "interval '1 hour')",
				   2, u->name, name);

	cr_assert(token != NULL, "create_api_token returned nothing");
	ag_secret(token);
	return token;
}

/* Status of GET `path` with `Authorization: Bearer <token>`. */
static long bearer_status(const char *token, const char *path)
{
	char *line = ag_strf("Authorization: Bearer %s", token);
	const char *const headers[] = {line, NULL};
	struct ag_client c;
	struct ag_response r;
	long status;

	ag_client_init(&c);
	ag_get_with(&c, path, headers, &r);
	status = r.status;
	ag_response_free(&r);
	ag_client_free(&c);
	free(line);
	return status;
}

Test(tokens, bearer_token_identifies_the_user)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *token, *line;

	ag_user_new(&u, "api");
	ag_sql_exec("SELECT authgate.grant_role($1, 'ci')", 1, u.name);
	token = new_token(&u, "ci");
	cr_expect(strncmp(token, "agt_", 4) == 0 && strlen(token) == 4 + 43,
		  "token format: %s", token);
	line = ag_strf("Authorization: Bearer %s", token);
	{
		const char *const headers[] = {line, NULL};

		ag_client_init(&c);
		ag_get_with(&c, "/headers", headers, &r);
		cr_assert_eq(r.status, 200, "status %ld", r.status);
		expect_identity(&r, &u, "ci");
		ag_response_free(&r);
		ag_request(&c, "GET", "/auth/whoami", headers, NULL, 0, &r);
		cr_expect_eq(r.status, 200);
		cr_expect(ag_body_has(&r, "\"auth\":\"token\""), "%s", r.body);
		ag_response_free(&r);
		cr_expect(ag_session(&c) == NULL, "a token login set a cookie");
	}
	/* Only its hash is stored. */
	cr_expect_eq(ag_rows_containing(token + 4), 0, "the token is stored");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.api_tokens "
				"WHERE user_id = $1 AND token_hash = sha256(decode("
				"translate($2, '-_', '+/') || '=', 'base64'))",
				2, u.id, token + 4),
		     1);
	free(line);
	free(token);
	ag_client_free(&c);
}

Test(tokens, malformed_or_unknown_tokens_are_401)
{
	char hex[65], *unknown, *valid, *almost;
	struct ag_user u;
	const char *bad[8];
	size_t n = 0;

	ag_user_new(&u, "api_bad");
	valid = new_token(&u, "ci");
	ag_random_hex(hex, 32);
	unknown = ag_strf("agt_%.43s", hex);
	almost = ag_strf("%.*s", (int)strlen(valid) - 1, valid);
	bad[n++] = "";
	bad[n++] = "agt_";
	bad[n++] = "agt_short";
	bad[n++] = unknown;
	bad[n++] = almost;
	bad[n++] = valid + 4; /* without the prefix */
	bad[n++] = "agt_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(bearer_status(bad[i], "/headers"), 401,
			     "token '%s' accepted", bad[i]);
	/* Positive control. */
	cr_expect_eq(bearer_status(valid, "/headers"), 200);
	free(unknown);
	free(valid);
	free(almost);
}

Test(tokens, revoked_expired_or_disabled_tokens_are_401)
{
	struct ag_user u, v;
	char *a, *b, *d;

	ag_user_new(&u, "api_revoke");
	a = new_token(&u, "one");
	b = new_token(&u, "two");
	cr_assert_eq(bearer_status(a, "/headers"), 200);
	cr_assert_eq(bearer_status(b, "/headers"), 200);

	ag_sql_exec("SELECT authgate.revoke_api_token($1, 'one')", 1, u.name);
	cr_expect_eq(bearer_status(a, "/headers"), 401, "after revoke_api_token");
	cr_expect_eq(bearer_status(b, "/headers"), 200, "the other token");

	ag_sql_exec("UPDATE authgate.api_tokens SET expires_at = now() - "
		    "interval '1 second' WHERE user_id = $1 AND name = 'two'",
		    1, u.id);
	cr_expect_eq(bearer_status(b, "/headers"), 401, "after expiry");

	ag_user_new(&v, "api_disable");
	d = new_token(&v, "ci");
	cr_assert_eq(bearer_status(d, "/headers"), 200);
	ag_sql_exec("SELECT authgate.disable_user($1)", 1, v.name);
	cr_expect_eq(bearer_status(d, "/headers"), 401, "after disable_user");
	ag_sql_exec("SELECT authgate.enable_user($1)", 1, v.name);
	cr_expect_eq(bearer_status(d, "/headers"), 200, "after enable_user");
	ag_sql_exec("SELECT authgate.delete_user($1)", 1, v.name);
	cr_expect_eq(bearer_status(d, "/headers"), 401, "after delete_user");
	free(a);
	free(b);
	free(d);
}

/* A POST with a body to a protected page: the check subrequest carries no
 * body (the snippet drops Content-Length), and the answer is the same as
 * for a GET, again and again on kept-alive upstream connections. */
Test(check, protected_post_with_a_body)
{
	struct ag_client c;
	struct ag_user u;
	struct ag_response r;

	ag_client_init(&c);
	ag_user_new(&u, "post");
	ag_post_form(&c, "/headers", "a=1&b=2", NULL, &r);
	cr_expect_eq(r.status, 401, "no session: %ld", r.status);
	ag_response_free(&r);
	ag_login_ok(&c, u.name, u.password);
	for (int i = 0; i < 4; i++) {
		ag_post_form(&c, "/headers", "a=1&b=2", NULL, &r);
		cr_expect_eq(r.status, 200, "post %d: %ld", i, r.status);
		cr_expect(ag_body_has(&r, u.name), "%s", r.body);
		ag_response_free(&r);
	}
	ag_client_free(&c);
}
