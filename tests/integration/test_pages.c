/* The account pages through nginx: the logged-out flash, /auth/password
 * and /auth/register (on in the test stack). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(pages, .timeout = AG_TIMEOUT);

/* ----------------------------------------------------------- the flash */

Test(pages, logout_redirect_shows_logged_out)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *token, *body;

	ag_user_new(&u, "flash");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	token = ag_csrf_token(&c);
	body = ag_form("csrf_token", token, NULL);
	ag_post_form(&c, "/auth/logout", body, NULL, &r);
	cr_assert_eq(r.status, 303);
	cr_assert_str_eq(ag_header(&r, "Location"), "/auth/login?logged_out=1");
	ag_response_free(&r);

	ag_get_html(&c, "/auth/login?logged_out=1", &r);
	cr_expect_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "You have been logged out."), "%s", r.body);
	ag_response_free(&r);
	/* Only the flag picks the text: nothing from the URL is shown. */
	ag_get_html(&c, "/auth/login?logged_out=%3Cb%3Epwned", &r);
	cr_expect_eq(r.status, 200);
	cr_expect_not(ag_body_has(&r, "logged out"));
	cr_expect_not(ag_body_has(&r, "pwned"));
	ag_response_free(&r);
	free(token);
	free(body);
	ag_client_free(&c);
}

Test(pages, login_page_links_to_registration)
{
	struct ag_client c;
	struct ag_response r;

	ag_client_init(&c);
	ag_get_html(&c, "/auth/login", &r);
	cr_expect(ag_body_has(&r, "<a href=\"/auth/register\">"), "%s", r.body);
	cr_expect_not(ag_body_has(&r, " hidden><a href=\"/auth/register\""));
	ag_response_free(&r);
	ag_client_free(&c);
}

/* ---------------------------------------------------- password change */

static char *hash_of(const struct ag_user *u)
{
	return ag_sql_value("SELECT password_hash FROM authgate.users "
			    "WHERE id = $1", 1, u->id);
}

/* Posts `body` (freed) to `path`; returns the status (answer in `out`
 * unless NULL). */
static long post(struct ag_client *c, const char *path, char *body,
		 struct ag_response *out)
{
	struct ag_response r;
	long status;

	ag_post_form(c, path, body, NULL, &r);
	status = r.status;
	if (out != NULL)
		*out = r;
	else
		ag_response_free(&r);
	free(body);
	return status;
}

/* Posts the password form. A NULL csrf_token posts none. */
static long post_password(struct ag_client *c, const char *csrf_token,
			  const char *old, const char *new1, const char *new2,
			  struct ag_response *out)
{
	char *body = csrf_token != NULL
			     ? ag_form("csrf_token", csrf_token, "old_password",
				       old, "new_password", new1,
				       "new_password2", new2, NULL)
			     : ag_form("old_password", old, "new_password", new1,
				       "new_password2", new2, NULL);

	return post(c, "/auth/password", body, out);
}

Test(pages, password_form_needs_a_session)
{
	struct ag_client c;
	struct ag_response r;
	char *token;

	ag_client_init(&c);
	ag_get_html(&c, "/auth/password", &r);
	cr_expect_eq(r.status, 302);
	cr_expect_str_eq(ag_header(&r, "Location"),
			 "/auth/login?next=%2Fauth%2Fpassword");
	ag_response_free(&r);
	token = ag_csrf_token(&c);
	cr_expect_eq(post_password(&c, token, "a", "bbbbbbbb", "bbbbbbbb", &r),
		     302);
	ag_response_free(&r);
	free(token);
	ag_client_free(&c);
}

Test(pages, password_change_ends_other_sessions)
{
	static const char fresh[] = "a new password, long enough";
	struct ag_user u;
	struct ag_client a, b, c;
	struct ag_response r;
	char *token, *old_hash, *new_hash;

	ag_user_new(&u, "pwchange");
	ag_client_init(&a);
	ag_client_init(&b);
	ag_client_init(&c);
	ag_login_ok(&a, u.name, u.password);
	ag_login_ok(&b, u.name, u.password);
	old_hash = hash_of(&u);

	ag_get_html(&a, "/auth/password", &r);
	cr_assert_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "name=\"old_password\""));
	cr_expect(ag_body_has(&r, u.name));
	ag_response_free(&r);

	token = ag_csrf_token(&a);
	cr_assert_eq(post_password(&a, token, u.password, fresh, fresh, &r), 200,
		     "%s", r.body);
	cr_expect(ag_body_has(&r, "Your password has been changed. 1 other "
				  "session was signed out."), "%s", r.body);
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL,
		  "the session stays the same");
	ag_response_free(&r);

	/* The other session is gone, this one works. */
	cr_expect_eq(ag_status(&b, "/headers"), 401);
	cr_expect_eq(ag_status(&a, "/headers"), 200);
	cr_expect_eq(ag_session_count(&u), 1);
	new_hash = hash_of(&u);
	cr_expect(strncmp(new_hash, "$argon2id$", 10) == 0, "%s", new_hash);
	cr_expect(strcmp(new_hash, old_hash) != 0);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"event = 'password_change' AND user_id = $1",
				1, u.id), 1);
	cr_expect_eq(ag_rows_containing(fresh), 0, "the password is stored");

	cr_expect_eq(ag_login(&c, u.name, u.password, false, NULL, NULL), 401);
	cr_expect_eq(ag_login(&c, u.name, fresh, false, NULL, NULL), 303);
	free(token);
	free(old_hash);
	free(new_hash);
	ag_client_free(&a);
	ag_client_free(&b);
	ag_client_free(&c);
}

/* Bad posts: an answer, a message, and no change. */
Test(pages, password_change_refusals_change_nothing)
{
	static const struct {
		const char *old, *new1, *new2;
		long status;
		const char *message;
	} cases[] = {
		{"WRONG", "new password 1", "new password 1", 401,
		 "Your current password is wrong."},
		{NULL, "new password 1", "new password 2", 400,
		 "The new passwords do not match."},
		{NULL, "short", "short", 400,
		 "The new password must be at least 8 characters long."},
		{NULL, "", "", 400, "Please fill in every field."},
		{NULL, "LONG", "LONG", 400,
		 "Passwords are at most 1024 bytes long."},
	};
	char long_password[1026];
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *token, *before, *after;

	memset(long_password, 'x', sizeof(long_password) - 1);
	long_password[sizeof(long_password) - 1] = '\0';
	ag_user_new(&u, "pwbad");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	token = ag_csrf_token(&c);
	before = hash_of(&u);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *old = cases[i].old ? cases[i].old : u.password;
		const char *n1 = strcmp(cases[i].new1, "LONG") == 0
					 ? long_password : cases[i].new1;
		const char *n2 = strcmp(cases[i].new2, "LONG") == 0
					 ? long_password : cases[i].new2;

		cr_expect_eq(post_password(&c, token, old, n1, n2, &r),
			     cases[i].status, "case %zu: %s", i, r.body);
		cr_expect(ag_body_has(&r, cases[i].message), "case %zu: %s", i,
			  r.body);
		ag_response_free(&r);
	}
	/* Without the CSRF token: 403. */
	cr_expect_eq(post_password(&c, NULL, u.password, "new password 1",
				   "new password 1", NULL), 403);
	after = hash_of(&u);
	cr_expect_str_eq(after, before);
	cr_expect_eq(ag_status(&c, "/headers"), 200);
	/* The wrong password counted as a failed login of the account. */
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.login_failures "
				"WHERE scope = 'user' AND key = lower($1)",
				1, u.name), 1);
	free(token);
	free(before);
	free(after);
	ag_client_free(&c);
}

Test(pages, password_change_is_throttled)
{
	enum { MAX_TRIES = 40 };
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *token;
	long status = 0;
	int tries = 0;

	ag_user_new(&u, "pwlock");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	token = ag_csrf_token(&c);
	while (tries++ < MAX_TRIES) {
		status = post_password(&c, token, "wrong", "new password 1",
				       "new password 1", &r);
		if (status != 401)
			break;
		ag_response_free(&r);
	}
	cr_assert_eq(status, 429, "after %d wrong passwords: %ld", tries, status);
	cr_expect_not_null(ag_header(&r, "Retry-After"));
	cr_expect(ag_body_has(&r, "Too many failed attempts."), "%s", r.body);
	ag_response_free(&r);
	/* Locked means locked: the right password is refused too. */
	cr_expect_eq(post_password(&c, token, u.password, "new password 1",
				   "new password 1", NULL), 429);
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key = lower($1)",
		    1, u.name);
	free(token);
	ag_client_free(&c);
}

/* -------------------------------------------------------- registration */

/* Posts the registration form (csrf_token NULL: none). */
static long post_register(struct ag_client *c, const char *csrf_token,
			  const char *name, const char *email,
			  const char *password, const char *password2,
			  struct ag_response *out)
{
	char *body = ag_form("csrf_token", csrf_token ? csrf_token : "",
			     "username", name, "email", email, "password",
			     password, "password2", password2, "next",
			     "/headers", NULL);

	return post(c, "/auth/register", body, out);
}

static long long users_named(const char *name)
{
	return ag_sql_int("SELECT count(*) FROM authgate.users "
			  "WHERE lower(username) = lower($1)", 1, name);
}

Test(pages, register_creates_and_signs_in)
{
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	char *token, *email;

	ag_user_make(&u, "reg");
	email = ag_strf("%s@example.org", u.name);
	ag_client_init(&c);
	ag_get_html(&c, "/auth/register?next=%2Fheaders", &r);
	cr_assert_eq(r.status, 200);
	cr_expect(ag_body_has(&r, "name=\"email\""));
	cr_expect(ag_body_has(&r, "name=\"next\" value=\"/headers\""));
	ag_response_free(&r);
	token = ag_csrf_token(&c);
	cr_assert_eq(post_register(&c, token, u.name, email, u.password,
				   u.password, &r), 303, "%s", r.body);
	cr_expect_str_eq(ag_header(&r, "Location"), "/headers");
	cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) != NULL);
	ag_response_free(&r);

	ag_get(&c, "/headers", &r);
	cr_expect_eq(r.status, 200);
	cr_expect(ag_body_has(&r, u.name), "%s", r.body);
	ag_response_free(&r);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.users WHERE "
				"username = $1 AND email = $2 AND NOT disabled "
				"AND password_hash LIKE '$argon2id$%'",
				2, u.name, email), 1);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"event = 'register' AND username = $1", 1,
				u.name), 1);
	cr_expect_eq(ag_rows_containing(u.password), 0);
	free(token);
	free(email);
	ag_client_free(&c);
}

Test(pages, register_refuses_taken_names_and_addresses)
{
	struct ag_user u, v;
	struct ag_client c;
	struct ag_response r;
	char *token, *upper_name, *upper_email, *email;

	ag_user_new(&u, "regtaken");
	ag_user_make(&v, "regfree");
	upper_name = ag_strf("%s", u.name);
	for (char *p = upper_name; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	ag_sql_exec("UPDATE authgate.users SET email = $2 WHERE id = $1", 2,
		    u.id, "taken@Example.org");
	upper_email = ag_strf("TAKEN@example.ORG");
	email = ag_strf("%s@example.org", v.name);
	ag_client_init(&c);
	token = ag_csrf_token(&c);

	cr_expect_eq(post_register(&c, token, upper_name, email, v.password,
				   v.password, &r), 409);
	cr_expect(ag_body_has(&r, "That username is taken."), "%s", r.body);
	ag_response_free(&r);
	cr_expect_eq(post_register(&c, token, v.name, upper_email, v.password,
				   v.password, &r), 409);
	cr_expect(ag_body_has(&r, "An account with that email address already "
				  "exists."), "%s", r.body);
	ag_response_free(&r);
	cr_expect_eq(users_named(u.name), 1);
	cr_expect_eq(users_named(v.name), 0);
	free(token);
	free(upper_name);
	free(upper_email);
	free(email);
	ag_client_free(&c);
}

Test(pages, register_refuses_bad_input)
{
	static const struct {
		const char *name, *email, *password, *password2;
		long status;
		const char *message;
	} cases[] = {
		{"NAME", "EMAIL", "short", "short", 400,
		 "The new password must be at least 8 characters long."},
		{"NAME", "EMAIL", "long enough 1", "long enough 2", 400,
		 "The new passwords do not match."},
		{"NAME", "not an address", "long enough", "long enough", 400,
		 "Please enter a valid email address."},
		{" spaced", "EMAIL", "long enough", "long enough", 400,
		 "That username is not valid"},
		{"", "EMAIL", "long enough", "long enough", 400,
		 "Please choose a username."},
	};
	struct ag_user v;
	struct ag_client c;
	struct ag_response r;
	char *token, *email;

	ag_user_make(&v, "regbad");
	email = ag_strf("%s@example.org", v.name);
	ag_client_init(&c);
	token = ag_csrf_token(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = strcmp(cases[i].name, "NAME") == 0
					   ? v.name : cases[i].name;
		const char *mail = strcmp(cases[i].email, "EMAIL") == 0
					   ? email : cases[i].email;

		cr_expect_eq(post_register(&c, token, name, mail,
					   cases[i].password, cases[i].password2,
					   &r), cases[i].status, "case %zu", i);
		cr_expect(ag_body_has(&r, cases[i].message), "case %zu: %s", i,
			  r.body);
		cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL);
		ag_response_free(&r);
	}
	cr_expect_eq(post_register(&c, NULL, v.name, email, v.password,
				   v.password, NULL), 403);
	cr_expect_eq(users_named(v.name), 0);
	free(token);
	free(email);
	ag_client_free(&c);
}
