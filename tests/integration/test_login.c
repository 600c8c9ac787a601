/* GET and POST /auth/login through nginx: the form, sessions, CSRF, bad
 * input, redirects, password hash upgrades. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

TestSuite(login, .timeout = AG_TIMEOUT);

/* An argon2id hash with older parameters (m=8192,t=1,p=1) of this
 * password, made once with libargon2 (argon2id_hash_encoded, salt
 * "authgate-fixture"). */
#define OLD_PARAMS_PASSWORD "old-params-Pa55word"
#define OLD_PARAMS_HASH                                                      \
	"$argon2id$v=19$m=8192,t=1,p=1$YXV0aGdhdGUtZml4dHVyZQ$"              \
	"EJwjDtOJKBT6OeA12ENOrEVqymWxY5MMK83HtXsmvso"

#define CURRENT_PARAMS_PREFIX "$argon2id$v=19$m=19456,t=2,p=1$"

/* True when `s` is AG_TOKEN_LEN base64url characters. */
static bool is_token(const char *s, size_t len)
{
	if (len != AG_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/* True when the Set-Cookie value has attribute `attr` (case-insensitive,
 * whole attribute between semicolons). */
static bool has_attr(const char *set_cookie, const char *attr)
{
	const char *p = strchr(set_cookie, ';');
	size_t n = strlen(attr);

	while (p != NULL) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, attr, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return true;
		p = strchr(p, ';');
	}
	return false;
}

static bool has_attr_prefix(const char *set_cookie, const char *prefix)
{
	const char *p = strchr(set_cookie, ';');

	return p != NULL && strcasestr(p, prefix) != NULL;
}

static char *password_hash_of(const struct ag_user *u)
{
	return ag_sql_value("SELECT password_hash FROM authgate.users "
			    "WHERE username = $1",
			    1, u->name);
}

/* ------------------------------------------------------------ the form */

Test(login, form_has_fields_and_sets_csrf_cookie)
{
	struct ag_client c;
	struct ag_response r;
	const char *csrf;
	char *token, *next;

	ag_client_init(&c);
	ag_get(&c, "/auth/login", &r);
	cr_assert_eq(r.status, 200);
	cr_assert(ag_header(&r, "Content-Type") != NULL &&
		  strncmp(ag_header(&r, "Content-Type"), "text/html", 9) == 0,
		  "content type: %s", ag_header(&r, "Content-Type"));
	cr_expect(ag_body_has(&r, "<form method=\"post\" action=\"/auth/login\">"));
	cr_expect(ag_body_has(&r, "name=\"username\""));
	cr_expect(ag_body_has(&r, "type=\"password\" id=\"password\" name=\"password\""));
	cr_expect(ag_body_has(&r, "type=\"checkbox\" id=\"remember\" name=\"remember\""));
	cr_expect(ag_body_has(&r, "type=\"hidden\" name=\"next\""));
	cr_expect(ag_body_has(&r, "type=\"hidden\" name=\"csrf_token\""));
	cr_expect(!ag_body_has(&r, "Please log in first."),
		  "flash message without next");

	csrf = ag_set_cookie(&r, AG_CSRF_COOKIE);
	cr_assert(csrf != NULL, "no %s cookie set", AG_CSRF_COOKIE);
	cr_expect(has_attr(csrf, "HttpOnly"), "%s", csrf);
	cr_expect(has_attr(csrf, "SameSite=Lax"), "%s", csrf);
	cr_expect(has_attr(csrf, "Path=/"), "%s", csrf);
	cr_expect(!has_attr(csrf, "Secure"), "%s", csrf);

	token = ag_input_value(&r, "csrf_token");
	next = ag_input_value(&r, "next");
	cr_assert(token != NULL);
	cr_expect(is_token(token, strlen(token)), "csrf token '%s'", token);
	cr_expect(next != NULL && strcmp(next, "/") == 0, "next '%s'", next);
	/* The form token is bound to the cookie, not the cookie itself. */
	cr_expect(strcmp(token, ag_jar_get(&c, AG_CSRF_COOKIE)) != 0);
	free(token);
	free(next);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, form_keeps_existing_csrf_cookie)
{
	struct ag_client c;
	struct ag_response r;
	char *first, *second, *cookie;

	ag_client_init(&c);
	first = ag_csrf_token(&c);
	cookie = strdup(ag_jar_get(&c, AG_CSRF_COOKIE));
	ag_get(&c, "/auth/login", &r);
	cr_assert_eq(r.status, 200);
	cr_expect(ag_set_cookie(&r, AG_CSRF_COOKIE) == NULL,
		  "the CSRF cookie was replaced although the browser had one");
	second = ag_input_value(&r, "csrf_token");
	cr_assert(second != NULL);
	cr_expect_str_eq(first, second);
	cr_expect_str_eq(cookie, ag_jar_get(&c, AG_CSRF_COOKIE));
	free(first);
	free(second);
	free(cookie);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, form_with_next_asks_to_log_in)
{
	struct ag_client c;
	struct ag_response r;
	char *next;

	ag_client_init(&c);
	ag_get(&c, "/auth/login?next=%2Faccount%2Fsettings%3Ftab%3D2", &r);
	cr_assert_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "Please log in first."));
	next = ag_input_value(&r, "next");
	cr_assert(next != NULL);
	cr_expect_str_eq(next, "/account/settings?tab=2");
	free(next);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, form_escapes_next)
{
	struct ag_client c;
	struct ag_response r;
	char *next;

	ag_client_init(&c);
	/* next = /x"><script>alert(1)</script>&y='z' : a local path made of
	 * printable ASCII, so it is kept, and must be escaped. */
	ag_get(&c,
	       "/auth/login?next=%2Fx%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	       "%26y%3D%27z%27",
	       &r);
	cr_assert_eq(r.status, 200);
	cr_expect(!ag_body_has(&r, "<script>"), "raw <script> in the page");
	cr_expect(!ag_body_has(&r, "/x\">"), "attribute broken out of");
	next = ag_input_value(&r, "next");
	cr_assert(next != NULL);
	cr_expect_str_eq(next,
			 "/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
			 "&amp;y=&#39;z&#39;");
	free(next);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, form_replaces_foreign_next)
{
	static const char *const targets[] = {
		"%2F%2Fevil.example",          /* //evil.example */
		"%2F%5Cevil.example",          /* /\evil.example */
		"https%3A%2F%2Fevil.example",  /* https://evil.example */
		"%2F%09%2Fevil",               /* /<TAB>/evil */
		"javascript%3Aalert(1)",       /* javascript:alert(1) */
		"evil.example",                /* relative, not a path */
		"%20%2F%2Fevil.example",       /* leading space */
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct ag_client c;
		struct ag_response r;
		char *path = ag_strf("/auth/login?next=%s", targets[i]);
		char *next;

		ag_client_init(&c);
		ag_get(&c, path, &r);
		cr_assert_eq(r.status, 200, "%s: %ld", path, r.status);
		next = ag_input_value(&r, "next");
		cr_assert(next != NULL, "%s: no next input", path);
		cr_expect_str_eq(next, "/", "%s: next kept as '%s'", path, next);
		cr_expect(!ag_body_has(&r, "evil"), "%s: target in the page", path);
		free(next);
		free(path);
		ag_response_free(&r);
		ag_client_free(&c);
	}
}

/* ------------------------------------------------------------- success */

Test(login, success_sets_session_cookie_and_redirects)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	const char *sc, *value;
	size_t value_len;

	ag_user_new(&u, "login_ok");
	ag_client_init(&c);
	cr_assert_eq(ag_login(&c, u.name, u.password, false, "/admin/page?x=1", &r),
		     303, "body: %s", r.body);
	cr_expect(ag_header(&r, "Location") != NULL &&
		  strcmp(ag_header(&r, "Location"), "/admin/page?x=1") == 0,
		  "Location: %s", ag_header(&r, "Location"));
	cr_assert_eq(ag_header_count(&r, "Set-Cookie"), 1,
		     "one Set-Cookie expected (the CSRF cookie existed)");
	sc = ag_set_cookie(&r, AG_SESSION_COOKIE);
	cr_assert(sc != NULL);
	value = sc + strlen(AG_SESSION_COOKIE) + 1;
	value_len = strcspn(value, ";");
	cr_expect(is_token(value, value_len), "cookie value in '%s'", sc);
	cr_expect(has_attr(sc, "Path=/"), "%s", sc);
	cr_expect(has_attr(sc, "HttpOnly"), "%s", sc);
	cr_expect(has_attr(sc, "SameSite=Lax"), "%s", sc);
	cr_expect(!has_attr_prefix(sc, "Max-Age"), "%s", sc);
	cr_expect(!has_attr_prefix(sc, "Expires"), "%s", sc);
	cr_expect(!has_attr(sc, "Secure"), "%s", sc);
	ag_response_free(&r);

	/* The cookie works, and the session row is a plain one. */
	cr_expect_eq(ag_status(&c, "/headers"), 200);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.sessions s "
				"WHERE s.user_id = $1 AND NOT s.remember AND "
				"extract(epoch FROM s.expires_at - s.created_at)"
				"::int = 43200",
				1, u.id),
		     1);
	ag_client_free(&c);
}

Test(login, success_without_next_goes_home)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;

	ag_user_new(&u, "login_home");
	ag_client_init(&c);
	cr_assert_eq(ag_login(&c, u.name, u.password, false, NULL, &r), 303);
	cr_expect(ag_header(&r, "Location") != NULL &&
		  strcmp(ag_header(&r, "Location"), "/") == 0,
		  "Location: %s", ag_header(&r, "Location"));
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, remember_me_sets_max_age)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	const char *sc;

	ag_user_new(&u, "login_remember");
	ag_client_init(&c);
	cr_assert_eq(ag_login(&c, u.name, u.password, true, NULL, &r), 303);
	sc = ag_set_cookie(&r, AG_SESSION_COOKIE);
	cr_assert(sc != NULL);
	cr_expect(has_attr(sc, "Max-Age=2592000"), "%s", sc);
	cr_expect(has_attr(sc, "HttpOnly"), "%s", sc);
	cr_expect(has_attr(sc, "SameSite=Lax"), "%s", sc);
	ag_response_free(&r);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.sessions s "
				"WHERE s.user_id = $1 AND s.remember AND "
				"extract(epoch FROM s.expires_at - s.created_at)"
				"::int = 2592000",
				1, u.id),
		     1);
	cr_expect_eq(ag_status(&c, "/headers"), 200);
	ag_client_free(&c);
}

Test(login, username_is_case_insensitive)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char upper[sizeof(u.name)];

	ag_user_new(&u, "MixedCase");
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)toupper((unsigned char)u.name[i]);
	ag_client_init(&c);
	ag_login_ok(&c, upper, u.password);
	ag_get(&c, "/headers", &r);
	cr_assert_eq(r.status, 200);
	{
		char *line = ag_strf("X-Auth-User: %s\n", u.name);

		cr_expect(ag_body_has(&r, line), "stored spelling expected: %s",
			  r.body);
		free(line);
	}
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, unicode_username_matches_case_and_normal_form)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char hex[13], *id, *typed, *line;

	/* Stored as "Jürgen_<hex>" in NFC (U+00FC); typed in capitals and
	 * decomposed: "JU" U+0308 "RGEN_<hex>". */
	ag_random_hex(hex, 6);
	ag_user_make(&u, "x");
	snprintf(u.name, sizeof(u.name), "J\xc3\xbcrgen_%s", hex);
	snprintf(u.email, sizeof(u.email), "juergen_%s@example.test", hex);
	id = ag_sql_value("SELECT authgate.create_user($1, $2, $3)", 3, u.name,
			  u.password, u.email);
	cr_assert(id != NULL);
	free(id);
	typed = ag_strf("JU\xcc\x88RGEN_%s", hex);
	ag_client_init(&c);
	ag_login_ok(&c, typed, u.password);
	ag_get(&c, "/headers", &r);
	cr_assert_eq(r.status, 200);
	line = ag_strf("X-Auth-User: %s\n", u.name);
	cr_expect(ag_body_has(&r, line), "stored spelling expected: %s", r.body);
	ag_response_free(&r);
	free(line);
	free(typed);
	ag_client_free(&c);
}

/* ------------------------------------------------------------- failure */

/* A failed login: 401, the generic message, no session cookie. Returns
 * the page with the (varying) csrf token and username cut out. */
static void expect_generic_failure(const char *what, const char *username,
				   const char *password)
{
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	cr_expect_eq(ag_login(&c, username, password, false, NULL, &r), 401,
		     "%s: status %ld", what, r.status);
	cr_expect(ag_body_has(&r, "Invalid username or password."),
		  "%s: generic message missing", what);
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL,
		  "%s: session cookie set on failure", what);
	cr_expect(ag_session(&c) == NULL);
	/* Nothing tells the three cases apart. */
	cr_expect(!ag_body_has(&r, "disabled"), "%s", what);
	cr_expect(!ag_body_has(&r, "unknown"), "%s", what);
	cr_expect(!ag_body_has(&r, "no such"), "%s", what);
	ag_response_free(&r);
	ag_client_free(&c);
}

Test(login, failures_are_generic)
{
	struct ag_user u, disabled, ghost;

	ag_user_new(&u, "login_fail");
	ag_user_new(&disabled, "login_off");
	ag_user_make(&ghost, "login_ghost");
	ag_sql_exec("SELECT authgate.disable_user($1)", 1, disabled.name);

	expect_generic_failure("wrong password", u.name, "not-the-password");
	expect_generic_failure("unknown user", ghost.name, ghost.password);
	expect_generic_failure("disabled user", disabled.name, disabled.password);

	cr_expect_eq(ag_session_count(&u), 0);
	cr_expect_eq(ag_session_count(&disabled), 0);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.users "
				"WHERE lower(username) = lower($1)",
				1, ghost.name),
		     0, "a failed login created a user");
}

/* --------------------------------------------------------------- CSRF */

/* Posts a login for `u` with `body_extra` fields as given; expects 403
 * and no session. */
static void expect_forbidden(struct ag_client *c, const char *what,
			     const char *body, const char *const *headers,
			     const struct ag_user *u)
{
	struct ag_response r;

	ag_post_form(c, "/auth/login", body, headers, &r);
	cr_expect_eq(r.status, 403, "%s: status %ld", what, r.status);
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL,
		  "%s: session cookie set", what);
	cr_expect_eq(ag_session_count(u), 0, "%s: session created", what);
	ag_response_free(&r);
}

Test(login, csrf_token_required)
{
	struct ag_user u;
	struct ag_client a, b;
	char *token_a, *token_b, *body, *cookie_a;
	char fake[2 * 32 + 1];

	ag_user_new(&u, "csrf_tok");
	ag_client_init(&a);
	ag_client_init(&b);
	token_a = ag_csrf_token(&a);
	token_b = ag_csrf_token(&b);
	cr_assert_str_neq(token_a, token_b);

	body = ag_form("username", u.name, "password", u.password, NULL);
	expect_forbidden(&a, "no token", body, NULL, &u);
	free(body);

	body = ag_form("username", u.name, "password", u.password,
		       "csrf_token", "", NULL);
	expect_forbidden(&a, "empty token", body, NULL, &u);
	free(body);

	/* 43 characters of the right alphabet, but not the MAC. */
	ag_random_hex(fake, 32);
	fake[AG_TOKEN_LEN] = '\0';
	body = ag_form("username", u.name, "password", u.password,
		       "csrf_token", fake, NULL);
	expect_forbidden(&a, "made-up token", body, NULL, &u);
	free(body);

	/* B's token with A's cookie: bound to another browser. */
	body = ag_form("username", u.name, "password", u.password,
		       "csrf_token", token_b, NULL);
	expect_forbidden(&a, "token of another CSRF cookie", body, NULL, &u);
	free(body);

	/* The refusals below come without a valid CSRF cookie, so their
	 * pages set a new one: keep A's to put it back afterwards. */
	cookie_a = strdup(ag_jar_get(&a, AG_CSRF_COOKIE));
	/* A's token without any CSRF cookie. */
	body = ag_form("username", u.name, "password", u.password,
		       "csrf_token", token_a, NULL);
	{
		static const char *const no_cookie[] = {"Cookie: x=1", NULL};

		expect_forbidden(&a, "no CSRF cookie", body, no_cookie, &u);
	}
	/* A's token with a made-up CSRF cookie. */
	{
		char *line = ag_strf("Cookie: %s=%s", AG_CSRF_COOKIE, fake);
		const char *const headers[] = {line, NULL};

		expect_forbidden(&a, "forged CSRF cookie", body, headers, &u);
		free(line);
	}
	/* Positive control: the same post with A's own cookie works. */
	ag_jar_set(&a, AG_CSRF_COOKIE, cookie_a);
	free(cookie_a);
	{
		struct ag_response r;

		ag_post_form(&a, "/auth/login", body, NULL, &r);
		cr_expect_eq(r.status, 303, "valid token refused: %ld", r.status);
		ag_response_free(&r);
	}
	free(body);
	free(token_a);
	free(token_b);
	ag_client_free(&a);
	ag_client_free(&b);
}

Test(login, csrf_cross_site_refused)
{
	struct ag_user u;
	struct ag_client c;
	char *token, *body, *same_origin;

	ag_user_new(&u, "csrf_site");
	ag_client_init(&c);
	token = ag_csrf_token(&c);
	body = ag_form("csrf_token", token, "username", u.name, "password",
		       u.password, NULL);
	{
		static const char *const evil[] = {"Origin: http://evil.example",
						   NULL};
		static const char *const evil_https[] = {
			"Origin: https://evil.example", NULL};
		static const char *const null_origin[] = {"Origin: null", NULL};
		static const char *const cross[] = {"Sec-Fetch-Site: cross-site",
						    NULL};
		static const char *const same_site[] = {
			"Sec-Fetch-Site: same-site", NULL};

		expect_forbidden(&c, "Origin: http://evil.example", body, evil, &u);
		expect_forbidden(&c, "Origin: https://evil.example", body,
				 evil_https, &u);
		expect_forbidden(&c, "Origin: null", body, null_origin, &u);
		expect_forbidden(&c, "Sec-Fetch-Site: cross-site", body, cross, &u);
		expect_forbidden(&c, "Sec-Fetch-Site: same-site", body, same_site,
				 &u);
	}
	/* Positive control: the site's own origin, as a browser sends it. */
	same_origin = ag_strf("Origin: %s", ag_env("AUTHGATE_TEST_URL"));
	{
		const char *const headers[] = {same_origin,
					       "Sec-Fetch-Site: same-origin", NULL};
		struct ag_response r;

		ag_post_form(&c, "/auth/login", body, headers, &r);
		cr_expect_eq(r.status, 303, "same-origin post refused: %ld",
			     r.status);
		ag_response_free(&r);
	}
	free(same_origin);
	free(body);
	free(token);
	ag_client_free(&c);
}

/* ----------------------------------------------------------- bad input */

struct bad_post {
	const char *what;
	const char *content_type; /* NULL: form */
	char *body;
	long status;
};

Test(login, bad_input_is_refused_without_change)
{
	struct ag_user u;
	struct ag_client c;
	char *token, *before_hash, *after_hash, *big_password, *huge;
	long long events_before;
	struct bad_post posts[20];
	size_t n = 0;

	ag_user_new(&u, "bad_input");
	ag_client_init(&c);
	token = ag_csrf_token(&c);
	before_hash = ag_sql_value("SELECT password_hash || updated_at::text "
				   "|| disabled::text FROM authgate.users "
				   "WHERE id = $1",
				   1, u.id);
	events_before = ag_sql_int("SELECT count(*) FROM authgate.events "
				   "WHERE user_id = $1",
				   1, u.id);

	big_password = malloc(1026);
	cr_assert(big_password != NULL);
	memset(big_password, 'a', 1025);
	big_password[1025] = '\0';
	huge = malloc(17 * 1024 + 1);
	cr_assert(huge != NULL);
	memset(huge, 'b', 17 * 1024);
	huge[17 * 1024] = '\0';

#define FORM(...) ag_form("csrf_token", token, __VA_ARGS__, NULL)
	posts[n++] = (struct bad_post){"missing username", NULL,
				       FORM("password", u.password), 400};
	posts[n++] = (struct bad_post){"empty username", NULL,
				       FORM("username", "", "password",
					    u.password), 400};
	posts[n++] = (struct bad_post){"missing password", NULL,
				       FORM("username", u.name), 400};
	posts[n++] = (struct bad_post){"empty password", NULL,
				       FORM("username", u.name, "password", ""),
				       400};
	posts[n++] = (struct bad_post){
		"control character in username", NULL,
		ag_strf("csrf_token=%s&username=%s%%01&password=%s", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){
		"newline in username", NULL,
		ag_strf("csrf_token=%s&username=%s%%0Aadmin&password=%s", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){
		"C1 control in username", NULL,
		ag_strf("csrf_token=%s&username=%s%%C2%%85&password=%s", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){
		"invalid UTF-8 in username", NULL,
		ag_strf("csrf_token=%s&username=%s%%FF&password=%s", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){
		"overlong UTF-8 in username", NULL,
		ag_strf("csrf_token=%s&username=%%C0%%AF%s&password=%s", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){"password over 1024 bytes", NULL,
				       FORM("username", u.name, "password",
					    big_password),
				       400};
	posts[n++] = (struct bad_post){
		"malformed percent-encoding", NULL,
		ag_strf("csrf_token=%s&username=%s%%zz&password=%s", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){
		"truncated percent-encoding", NULL,
		ag_strf("csrf_token=%s&username=%s&password=%s%%4", token,
			u.name, u.password),
		400};
	posts[n++] = (struct bad_post){
		"text/plain", "Content-Type: text/plain",
		FORM("username", u.name, "password", u.password), 415};
	posts[n++] = (struct bad_post){
		"JSON", "Content-Type: application/json",
		ag_strf("{\"username\":\"%s\",\"password\":\"%s\","
			"\"csrf_token\":\"%s\"}",
			u.name, u.password, token),
		415};
	posts[n++] = (struct bad_post){
		"multipart", "Content-Type: multipart/form-data; boundary=x",
		FORM("username", u.name, "password", u.password), 415};
	posts[n++] = (struct bad_post){"body over 16 KiB", NULL,
				       FORM("username", u.name, "password",
					    u.password, "filler", huge),
				       413};
#undef FORM

	for (size_t i = 0; i < n; i++) {
		struct ag_response r;

		if (posts[i].content_type != NULL) {
			const char *const headers[] = {posts[i].content_type,
						       NULL};

			ag_request(&c, "POST", "/auth/login", headers,
				   posts[i].body, strlen(posts[i].body), &r);
		} else {
			ag_post_form(&c, "/auth/login", posts[i].body, NULL, &r);
		}
		cr_expect_eq(r.status, posts[i].status,
			     "%s: expected %ld, got %ld", posts[i].what,
			     posts[i].status, r.status);
		cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL,
			  "%s: session cookie set", posts[i].what);
		cr_expect(!ag_body_has(&r, u.password),
			  "%s: the password is echoed in the page", posts[i].what);
		ag_response_free(&r);
		free(posts[i].body);
	}

	cr_expect_eq(ag_session_count(&u), 0);
	after_hash = ag_sql_value("SELECT password_hash || updated_at::text "
				  "|| disabled::text FROM authgate.users "
				  "WHERE id = $1",
				  1, u.id);
	cr_expect_str_eq(after_hash, before_hash, "the user row changed");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events "
				"WHERE user_id = $1",
				1, u.id),
		     events_before, "bad input was recorded as an event");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events "
				"WHERE client_addr = $1::inet",
				1, c.source),
		     0, "bad input from this client was recorded");

	/* Positive control at the limit: a 1024-byte password is hashed and
	 * simply wrong. */
	{
		struct ag_response r;
		struct ag_client other;

		big_password[1024] = '\0';
		ag_client_init(&other);
		cr_expect_eq(ag_login(&other, u.name, big_password, false, NULL,
				      &r),
			     401, "1024-byte password: %ld", r.status);
		ag_response_free(&r);
		ag_client_free(&other);
	}
	free(big_password);
	free(huge);
	free(before_hash);
	free(after_hash);
	free(token);
	ag_client_free(&c);
}

Test(login, next_never_leaves_the_site)
{
	static const char *const targets[] = {
		"//evil.example",
		"/\\evil.example",
		"https://evil.example",
		"http://evil.example/",
		"/\t/evil.example",
		"/\n/evil.example",
		"javascript:alert(1)",
		" //evil.example",
		"\\\\evil.example",
	};
	struct ag_user u;

	ag_user_new(&u, "next_redirect");
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct ag_client c;
		struct ag_response r;
		const char *loc;

		ag_client_init(&c);
		cr_expect_eq(ag_login(&c, u.name, u.password, false, targets[i], &r),
			     303, "next '%s': status %ld", targets[i], r.status);
		loc = ag_header(&r, "Location");
		cr_expect(loc != NULL && strcmp(loc, "/") == 0,
			  "next '%s' gave Location '%s'", targets[i], loc);
		ag_response_free(&r);
		ag_client_free(&c);
	}
}

/* -------------------------------------------------------------- tokens */

Test(login, every_login_issues_a_new_token)
{
	struct ag_user u;
	struct ag_client c, planted, check;
	char *first, attacker[AG_TOKEN_LEN + 1];
	struct ag_response r;

	ag_user_new(&u, "fixation");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	first = strdup(ag_session(&c));
	ag_login_ok(&c, u.name, u.password);
	cr_expect_str_neq(first, ag_session(&c), "the same token twice");

	/* Session fixation: a cookie the attacker planted before the login
	 * is never the one the login hands out. */
	{
		char hex[65];

		ag_random_hex(hex, 32);
		memcpy(attacker, hex, AG_TOKEN_LEN);
		attacker[AG_TOKEN_LEN] = '\0';
	}
	ag_client_init(&planted);
	ag_jar_set(&planted, AG_SESSION_COOKIE, attacker);
	cr_assert_eq(ag_login(&planted, u.name, u.password, false, NULL, &r), 303);
	cr_assert(ag_set_cookie(&r, AG_SESSION_COOKIE) != NULL,
		  "no new cookie over the planted one");
	cr_expect_str_neq(ag_session(&planted), attacker);
	ag_response_free(&r);
	ag_client_with_session(&check, attacker);
	cr_expect_eq(ag_status(&check, "/headers"), 401,
		     "the planted cookie became a session");
	cr_expect_eq(ag_status(&planted, "/headers"), 200);
	free(first);
	ag_client_free(&c);
	ag_client_free(&planted);
	ag_client_free(&check);
}

Test(login, only_token_hash_is_stored)
{
	struct ag_user u;
	struct ag_client c;
	const char *token;
	char *hex;

	ag_user_new(&u, "token_hash");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	token = ag_session(&c);
	cr_assert(is_token(token, strlen(token)));

	/* token_hash = SHA-256 of the 32 bytes the cookie encodes. */
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.sessions "
				"WHERE user_id = $1 AND token_hash = "
				"sha256(decode(translate($2, '-_', '+/') || '=', "
				"'base64'))",
				2, u.id, token),
		     1, "no session row with sha256(token)");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.sessions "
				"WHERE user_id = $1",
				1, u.id),
		     1);
	/* Neither the cookie text nor its raw bytes are stored anywhere. */
	hex = ag_sql_value("SELECT encode(decode(translate($1, '-_', '+/') || "
			   "'=', 'base64'), 'hex')",
			   1, token);
	cr_assert(hex != NULL && strlen(hex) == 64);
	cr_expect_eq(ag_rows_containing(token), 0, "the cookie value is stored");
	cr_expect_eq(ag_rows_containing(hex), 0, "the raw token is stored");
	cr_expect_eq(ag_rows_containing(u.password), 0, "the password is stored");
	free(hex);
	ag_client_free(&c);
}

/* ---------------------------------------------------- hash upgrades */

Test(login, bcrypt_hash_upgraded_to_argon2id)
{
	struct ag_user u;
	struct ag_client c, again, wrong;
	char *hash;
	struct ag_response r;

	ag_user_new(&u, "upgrade_bcrypt");
	hash = password_hash_of(&u);
	cr_assert(hash != NULL && strncmp(hash, "$2a$", 4) == 0,
		  "create_user made '%s'", hash);
	free(hash);

	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	hash = password_hash_of(&u);
	cr_expect(hash != NULL &&
		  strncmp(hash, CURRENT_PARAMS_PREFIX,
			  strlen(CURRENT_PARAMS_PREFIX)) == 0,
		  "after login: '%s'", hash);
	free(hash);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"user_id = $1 AND event = 'password_rehashed'",
				1, u.id),
		     1);

	/* The same password still works, a wrong one still does not. */
	ag_client_init(&again);
	ag_login_ok(&again, u.name, u.password);
	ag_client_init(&wrong);
	cr_expect_eq(ag_login(&wrong, u.name, "Pw-wrong", false, NULL, &r), 401);
	ag_response_free(&r);
	ag_client_free(&c);
	ag_client_free(&again);
	ag_client_free(&wrong);
}

Test(login, old_argon2id_parameters_upgraded)
{
	struct ag_user u;
	struct ag_client c, again;
	char *id, *hash;

	ag_user_make(&u, "upgrade_argon2");
	id = ag_sql_value("SELECT authgate.create_user_with_hash($1, $2, $3)", 3,
			  u.name, OLD_PARAMS_HASH, u.email);
	cr_assert(id != NULL);
	free(id);

	ag_client_init(&c);
	ag_login_ok(&c, u.name, OLD_PARAMS_PASSWORD);
	hash = password_hash_of(&u);
	cr_expect(hash != NULL &&
		  strncmp(hash, CURRENT_PARAMS_PREFIX,
			  strlen(CURRENT_PARAMS_PREFIX)) == 0,
		  "after login: '%s'", hash);
	cr_expect(hash != NULL && strcmp(hash, OLD_PARAMS_HASH) != 0);
	free(hash);
	ag_client_init(&again);
	ag_login_ok(&again, u.name, OLD_PARAMS_PASSWORD);
	ag_client_free(&c);
	ag_client_free(&again);
}

/*
 * bcrypt reads only the first 72 bytes of a password, which is why
 * create_user() refuses longer ones. The login must not turn that into a
 * second password: the stored password plus anything appended is a wrong
 * password, and it must never become the upgraded argon2id hash.
 */
Test(login, bcrypt_password_is_not_truncated)
{
	struct ag_user u;
	struct ag_client c, again;
	struct ag_response r;
	char password[73], *longer, *id;
	char hex[73];

	ag_user_make(&u, "bcrypt72");
	ag_random_hex(hex, 36);
	memcpy(password, hex, 72);
	password[72] = '\0';
	id = ag_sql_value("SELECT authgate.create_user($1, $2, $3)", 3, u.name,
			  password, u.email);
	cr_assert(id != NULL);
	free(id);
	longer = ag_strf("%s-and-more", password);

	ag_client_init(&c);
	cr_expect_eq(ag_login(&c, u.name, longer, false, NULL, &r), 401,
		     "a longer password than the user's was accepted: %ld",
		     r.status);
	ag_response_free(&r);
	/* Whatever happened, the user's own password must still work. */
	ag_client_init(&again);
	cr_expect_eq(ag_login(&again, u.name, password, false, NULL, &r), 303,
		     "the user's real password no longer works: %ld", r.status);
	ag_response_free(&r);
	free(longer);
	ag_client_free(&c);
	ag_client_free(&again);
}

/* ---------------------------------------------------------- brute force */

/* SPEC: failed logins are counted per account; past the limit the answer
 * is 429 with Retry-After, without hashing. The limit is the daemon's;
 * 40 failures are past any sensible one. */
Test(login, repeated_failures_are_throttled)
{
	enum { MAX_TRIES = 40 };
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	long status = 0;
	int tries = 0;

	ag_user_new(&u, "throttle");
	ag_client_init(&c);
	while (tries < MAX_TRIES) {
		char wrong[32];

		snprintf(wrong, sizeof(wrong), "wrong-%d", tries);
		status = ag_login(&c, u.name, wrong, false, NULL, &r);
		tries++;
		if (status != 401)
			break;
		ag_response_free(&r);
	}
	if (status != 429) {
		ag_response_free(&r);
		ag_client_free(&c);
		cr_assert_fail("after %d failed logins: status %ld (no 429)",
			       tries, status);
	}
	cr_expect(ag_header(&r, "Retry-After") != NULL &&
		  atol(ag_header(&r, "Retry-After")) > 0,
		  "Retry-After: %s", ag_header(&r, "Retry-After"));
	cr_expect(ag_body_has(&r, "Too many failed attempts. Try again in "),
		  "%s", r.body);
	ag_response_free(&r);
	/* Locked means locked: the right password is refused too. */
	cr_expect_eq(ag_login(&c, u.name, u.password, false, NULL, &r), 429);
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL);
	ag_response_free(&r);
	cr_expect_eq(ag_session_count(&u), 0);
	ag_client_free(&c);
}
