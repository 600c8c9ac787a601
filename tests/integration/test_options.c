/*
 * Options that change behaviour, on a daemon of the test's own
 * (private_daemon.h): started from AUTHGATE_TEST_BINARY on a private
 * socket, against the stack's database, and spoken to over FastCGI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "harness.h"
#include "private_daemon.h"

TestSuite(options, .timeout = AG_TIMEOUT);

/* A browser's view of a private daemon: its client address, and the CSRF
 * cookie and form token from a GET of `endpoint` (login unless the form
 * is elsewhere). */
struct fcgi_browser {
	const char *addr;
	char *cookie_header;
	char *token;
};

/* GET of `endpoint` with `query`; the answer (caller frees). */
static char *fcgi_get(const struct private_daemon *d,
		      const struct fcgi_browser *b, const char *endpoint,
		      const char *query)
{
	const char *const get[] = {
		"AUTHGATE_ENDPOINT", endpoint, "REQUEST_METHOD", "GET",
		"QUERY_STRING", query, "REMOTE_ADDR", b->addr,
		"HTTP_COOKIE", b->cookie_header ? b->cookie_header : "", NULL,
	};

	return fcgi_call(d->addr, get, NULL);
}

static void browser_open(struct fcgi_browser *b,
			 const struct private_daemon *d, const char *addr)
{
	struct csrf_pair pair;
	char *form;

	b->addr = addr;
	b->cookie_header = NULL;
	form = fcgi_get(d, b, "login", "");
	csrf_pair_of(&pair, form);
	b->cookie_header = pair.cookie_header;
	b->token = pair.token;
	free(form);
}

static void browser_close(struct fcgi_browser *b)
{
	free(b->cookie_header);
	free(b->token);
}

/* A form post to `endpoint`; the answer (caller frees). */
static char *fcgi_post(const struct private_daemon *d,
		       const struct fcgi_browser *b, const char *endpoint,
		       const char *body)
{
	char *length = ag_strf("%zu", strlen(body)), *answer;
	const char *const post[] = {
		"AUTHGATE_ENDPOINT", endpoint, "REQUEST_METHOD", "POST",
		"CONTENT_TYPE", "application/x-www-form-urlencoded",
		"CONTENT_LENGTH", length, "HTTP_COOKIE", b->cookie_header,
		"REMOTE_ADDR", b->addr, NULL,
	};

	answer = fcgi_call(d->addr, post, body);
	free(length);
	return answer;
}

Test(options, login_max_failures_sets_the_lock)
{
	static const char *const extra[] = {
		"--login-max-failures", "2", "--login-lockout", "600", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user u;
	char *body, *answer;

	ag_user_new(&u, "opt_lock");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.77");
	body = ag_form("csrf_token", b.token, "username", u.name, "password",
		       "wrong password", NULL);
	for (int i = 0; i < 2; i++) {
		answer = fcgi_post(&d, &b, "login", body);
		cr_expect_eq(status_of(answer), 401, "failure %d", i + 1);
		free(answer);
	}
	answer = fcgi_post(&d, &b, "login", body);
	cr_expect_eq(status_of(answer), 429, "locked after 2: %s", answer);
	cr_expect_not_null(strstr(answer, "Retry-After: "), "%s", answer);
	free(answer);
	daemon_stop(&d);
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN "
		    "(lower($1), '192.0.2.77')", 1, u.name);
	browser_close(&b);
	free(body);
}

static long retry_after_of(const char *answer)
{
	const char *p = strstr(answer, "Retry-After: ");

	cr_assert_not_null(p, "no Retry-After in %s", answer);
	return strtol(p + strlen("Retry-After: "), NULL, 10);
}

Test(options, login_window_and_lockout)
{
	static const char *const extra[] = {
		"--login-max-failures", "2", "--login-window", "60",
		"--login-lockout", "600", NULL,
	};
	static const char *const addr = "192.0.2.77";
	struct private_daemon d;
	struct ag_user u;
	char *answer;
	long retry;

	ag_user_new(&u, "opt_lock");
	daemon_start(&d, extra);

	/* one failure, then the 60 s window passes: it no longer counts */
	answer = login_post(d.addr, u.name, "wrong password", addr);
	cr_expect_eq(status_of(answer), 401, "%s", answer);
	free(answer);
	ag_sql_exec("UPDATE authgate.login_failures SET first_at = first_at - "
		    "interval '61 seconds', last_at = last_at - interval '61 seconds' "
		    "WHERE scope = 'user' AND key = lower($1)", 1, u.name);
	answer = login_post(d.addr, u.name, "wrong password", addr);
	cr_expect_eq(status_of(answer), 401, "a failure outside the window counted: %s",
		     answer);
	free(answer);

	/* the second failure within the window locks for the lockout, not the
	 * window */
	answer = login_post(d.addr, u.name, "wrong password", addr);
	cr_expect_eq(status_of(answer), 401, "%s", answer);
	free(answer);
	answer = login_post(d.addr, u.name, u.password, addr);
	cr_expect_eq(status_of(answer), 429, "not locked after 2: %s", answer);
	retry = retry_after_of(answer);
	cr_expect(retry > 60 && retry <= 600,
		  "Retry-After %ld is not the 600 s lockout", retry);
	free(answer);

	/* an operator lifts the lock at once */
	cr_expect_eq(ag_sql_int("SELECT authgate.unlock_user($1)::int", 1, u.name), 1);
	answer = login_post(d.addr, u.name, u.password, addr);
	cr_expect_eq(status_of(answer), 303, "still locked after unlock_user: %s",
		     answer);
	free(answer);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.login_failures "
				"WHERE scope = 'user' AND key = lower($1)", 1, u.name),
		     0, "a successful login left the account's count");
	daemon_stop(&d);
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN "
		    "(lower($1), $2)", 2, u.name, addr);
}

/* ---------------------------------------------------------- the pages */

Test(options, login_template_message_and_app_name_are_escaped)
{
	static const char *const extra[] = {
		"--login-template", AUTHGATE_SOURCE_DIR "/docs/login-template.html",
		"--login-message", "Members <b>only</b> & friends",
		"--app-name", "Acme <script>alert(1)</script>", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b = {.addr = "192.0.2.78"};
	char *answer;

	daemon_start(&d, extra);
	answer = fcgi_get(&d, &b, "login",
			  "next=%2Fx%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E");
	cr_expect_eq(status_of(answer), 200, "%s", answer);
	/* The example template's own text, so it is the page served. */
	cr_expect_not_null(strstr(answer, "No account yet? Register"), "%s", answer);
	cr_expect_not_null(strstr(answer, "<p class=\"brand\">Acme &lt;script&gt;"
					  "alert(1)&lt;/script&gt;</p>"), "%s", answer);
	cr_expect_not_null(strstr(answer, "<title>Sign in to Acme &lt;script&gt;"),
			   "%s", answer);
	cr_expect_not_null(strstr(answer, "Members &lt;b&gt;only&lt;/b&gt; "
					  "&amp; friends"), "%s", answer);
	cr_expect_not_null(strstr(answer, "value=\"/x&quot;&gt;&lt;script&gt;"),
			   "%s", answer);
	cr_expect_null(strstr(answer, "<script>"), "%s", answer);
	/* Registration is off here: the link is hidden. */
	cr_expect_not_null(strstr(answer, "<p hidden><a href=\"\">"), "%s", answer);
	free(answer);
	daemon_stop(&d);
}

/* Runs the daemon with `args` (shell words) and returns its stderr; it
 * must exit 1 without serving. */
static char *startup_error(const char *args)
{
	char dir[] = "/tmp/authgate-tpl.XXXXXX";
	char *out, *cmd, *text;
	int status;

	cr_assert_not_null(mkdtemp(dir));
	out = ag_strf("%s/stderr", dir);
	cmd = ag_strf("cd %s && '%s' --listen unix:%s/d.sock --db '%s' %s 2>%s",
		      dir, ag_env("AUTHGATE_TEST_BINARY"), dir,
		      ag_env("AUTHGATE_TEST_DAEMON_DB"), args, out);
	status = ag_shell(cmd);
	cr_expect_eq(status, 1, "exit status %d of %s", status, cmd);
	text = ag_read_file(out, NULL);
	cr_assert_not_null(text);
	unlink(out);
	rmdir(dir);
	free(out);
	free(cmd);
	return text;
}

Test(options, bad_login_template_stops_the_start)
{
	static const struct {
		const char *content, *error;
	} cases[] = {
		{"<form>{{csrf_token}}{{nope}}</form>",
		 "unknown placeholder {{nope}}"},
		{"<form>{{csrf_token}}{{next</form>",
		 "malformed placeholder at byte 20"},
		{"<form>{{next}}</form>", "no {{csrf_token}}"},
	};
	char *path = ag_strf("/tmp/authgate-tpl-%d.html", (int)getpid());
	char *text;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");
		char *args = ag_strf("--login-template %s", path);
		char *want = ag_strf("authgate: login-template %s: %s", path,
				     cases[i].error);

		cr_assert_not_null(f);
		fputs(cases[i].content, f);
		fclose(f);
		text = startup_error(args);
		cr_expect_not_null(strstr(text, want), "case %zu: %s", i, text);
		free(text);
		free(args);
		free(want);
	}
	unlink(path);
	free(path);
	text = startup_error("--login-template /nonexistent/login.html");
	cr_expect_not_null(strstr(text, "login-template /nonexistent/login.html: "
					"No such file or directory"), "%s", text);
	free(text);
}

/* Registers `name` through a private daemon; the answer (caller frees). */
static char *fcgi_register(const struct private_daemon *d,
			   const struct fcgi_browser *b, const char *name,
			   const char *password)
{
	char *email = ag_strf("%s@example.org", name);
	char *body = ag_form("csrf_token", b->token, "username", name, "email",
			     email, "password", password, "password2", password,
			     NULL);
	char *answer = fcgi_post(d, b, "register", body);

	free(email);
	free(body);
	return answer;
}

Test(options, registration_is_off_by_default)
{
	static const char *const extra[] = {NULL};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user v;
	char *answer;

	ag_user_make(&v, "opt_noreg");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.79");
	answer = fcgi_get(&d, &b, "register", "");
	cr_expect_eq(status_of(answer), 404, "%s", answer);
	free(answer);
	answer = fcgi_register(&d, &b, v.name, v.password);
	cr_expect_eq(status_of(answer), 404, "%s", answer);
	free(answer);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.users "
				"WHERE username = $1", 1, v.name), 0);
	daemon_stop(&d);
	browser_close(&b);
}

Test(options, registration_can_require_approval)
{
	static const char *const extra[] = {
		"--allow-registration", "on",
		"--registration-requires-approval", "on", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user v;
	struct ag_client c;
	char *answer;

	ag_user_make(&v, "opt_approve");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.80");
	answer = fcgi_register(&d, &b, v.name, v.password);
	cr_expect_eq(status_of(answer), 200, "%s", answer);
	cr_expect_not_null(strstr(answer, "An operator must approve it"), "%s",
			   answer);
	cr_expect_null(set_cookie(answer, AG_SESSION_COOKIE), "%s", answer);
	free(answer);
	daemon_stop(&d);
	cr_assert_eq(ag_sql_int("SELECT count(*) FROM authgate.users WHERE "
				"username = $1 AND disabled", 1, v.name), 1);

	/* Through the stack: refused until an operator enables the user. */
	ag_client_init(&c);
	cr_expect_eq(ag_login(&c, v.name, v.password, false, NULL, NULL), 401);
	ag_sql_exec("SELECT authgate.enable_user($1)", 1, v.name);
	cr_expect_eq(ag_login(&c, v.name, v.password, false, NULL, NULL), 303);
	ag_client_free(&c);
	browser_close(&b);
}

Test(options, registration_limit_per_address)
{
	static const char *const extra[] = {
		"--allow-registration", "on", "--registration-limit", "2", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user v[3];
	char *answer;

	/* The limit counts the last hour's events of the address. */
	ag_sql_exec("DELETE FROM authgate.events WHERE client_addr = $1", 1,
		    "192.0.2.81");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.81");
	for (int i = 0; i < 3; i++) {
		ag_user_make(&v[i], "opt_limit");
		answer = fcgi_register(&d, &b, v[i].name, v[i].password);
		cr_expect_eq(status_of(answer), i < 2 ? 303 : 429, "attempt %d: %s",
			     i + 1, answer);
		free(answer);
	}
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.users "
				"WHERE username = $1", 1, v[2].name), 0);
	daemon_stop(&d);
	browser_close(&b);
}

/* --audit-retention: the janitor (which runs at start) deletes events
 * older than that many days and keeps younger ones. */
Test(options, audit_retention_purges_old_events)
{
	static const char *const extra[] = {"--audit-retention", "2", NULL};
	struct private_daemon d;
	char hex[9], *old_name, *young_name;
	double deadline = ag_now() + AG_TIMEOUT / 2;

	ag_random_hex(hex, 4);
	old_name = ag_strf("retention_old_%s", hex);
	young_name = ag_strf("retention_young_%s", hex);
	ag_sql_exec("INSERT INTO authgate.events (at, event, username) VALUES "
		    "(now() - interval '3 days', 'test_event', $1), "
		    "(now() - interval '1 day', 'test_event', $2)",
		    2, old_name, young_name);
	daemon_start(&d, extra);
	while (ag_sql_int("SELECT count(*) FROM authgate.events WHERE username = $1",
			  1, old_name) != 0) {
		cr_assert(ag_now() < deadline,
			  "the 3-day-old event outlived a 2-day retention");
		ag_pause(0.05);
	}
	daemon_stop(&d);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"username = $1", 1, young_name), 1,
		     "a 1-day-old event was purged");
	ag_sql_exec("DELETE FROM authgate.events WHERE username = $1", 1, young_name);
	free(old_name);
	free(young_name);
}

/* --hash-wait: a login that waited longer than that for the (single)
 * hashing thread is answered 503 with Retry-After, without being hashed.
 * The test holds a lock the first login's database work needs, so that
 * login occupies the thread until --db-timeout (3 s) ends its statement,
 * while the second one waits in the queue past the 1 s bound. */
Test(options, hash_wait_bounds_the_queue)
{
	static const char *const extra[] = {
		"--hash-threads", "1", "--hash-wait", "1", "--db-timeout", "3",
		NULL,
	};
	struct private_daemon d;
	struct ag_user a, b;
	PGconn *holder;
	int fd_a, fd_b, busy = 0, timed_out = 0;
	char *answers[2];

	ag_user_new(&a, "opt_wait_a");
	ag_user_new(&b, "opt_wait_b");
	daemon_start(&d, extra);
	holder = table_lock("authgate.login_failures");

	fd_a = login_send(d.addr, a.name, a.password, "192.0.2.91");
	/* the first login is with the hasher, waiting for the lock */
	cr_assert(daemon_statements_wait("daemon_login_throttle", 1,
					 AG_TIMEOUT / 2),
		  "the first login never blocked");
	fd_b = login_send(d.addr, b.name, b.password, "192.0.2.92");
	answers[0] = fcgi_answer(fd_a);
	answers[1] = fcgi_answer(fd_b);
	table_unlock(holder);

	for (int i = 0; i < 2; i++) {
		cr_expect_eq(status_of(answers[i]), 503, "%s", answers[i]);
		if (strstr(answers[i], "\"busy\"") != NULL) {
			busy++;
			cr_expect_eq(retry_after_of(answers[i]), 1, "%s", answers[i]);
		} else {
			timed_out++;
		}
		free(answers[i]);
	}
	cr_expect_eq(busy, 1, "the queued login was not answered busy");
	cr_expect_eq(timed_out, 1, "the blocked login");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"username IN ($1, $2) AND event <> 'user_created'",
				2, a.name, b.name),
		     0, "something was recorded for a refused login");

	/* the thread is free again: a login goes through */
	answers[0] = login_post(d.addr, b.name, b.password, "192.0.2.92");
	cr_expect_eq(status_of(answers[0]), 303, "%s", answers[0]);
	free(answers[0]);
	daemon_stop(&d);
}

Test(options, metrics_allow_limits_who_reads_metrics)
{
	static const char *const extra[] = {
		"--metrics-allow", "10.0.0.0/8, 2001:db8::/32", NULL,
	};
	static const char *const from[][2] = {
		{"127.0.0.1", "403"}, {"::1", "403"}, {"11.0.0.1", "403"},
		{"10.200.0.1", "200"}, {"2001:db8::7", "200"},
		{"::ffff:10.0.0.1", "200"}, {"not an address", "403"},
	};
	struct private_daemon d;

	daemon_start(&d, extra);
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		const char *const params[] = {
			"AUTHGATE_ENDPOINT", "metrics", "REQUEST_METHOD", "GET",
			"REMOTE_ADDR", from[i][0], NULL,
		};
		char *answer = fcgi_call(d.addr, params, NULL);
		bool allowed = strcmp(from[i][1], "200") == 0;

		cr_expect_eq(status_of(answer), atoi(from[i][1]), "from %s: %s",
			     from[i][0], answer);
		cr_expect_eq(strstr(answer, "authgate_checks_total") != NULL,
			     allowed, "from %s: %s", from[i][0], answer);
		free(answer);
	}
	{
		/* No REMOTE_ADDR at all: refused. */
		const char *const params[] = {
			"AUTHGATE_ENDPOINT", "metrics", "REQUEST_METHOD", "GET",
			NULL,
		};
		char *answer = fcgi_call(d.addr, params, NULL);

		cr_expect_eq(status_of(answer), 403, "%s", answer);
		free(answer);
	}
	daemon_stop(&d);
}
