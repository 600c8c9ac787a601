/*
 * Fail closed: PostgreSQL stops, restarts or hangs under a running daemon,
 * and daemons stop and start while requests are in flight. These cases
 * stop the stack's database or hold its session table locked, so they
 * must not run beside any other case (ctest marks suite `faults`
 * RUN_SERIAL).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "metrics_scrape.h"
#include "private_daemon.h"

/* Polls `conninfo` until PostgreSQL accepts connections; false after
 * `seconds`. */
static bool database_up(const char *conninfo, double seconds)
{
	double deadline = ag_now() + seconds;

	while (PQping(conninfo) != PQPING_OK) {
		if (ag_now() > deadline)
			return false;
		ag_pause(0.1);
	}
	return true;
}

/*
 * One round: 16 checks with the session of `session` and 4 logins of `u`,
 * each group at once (concurrency reaches every daemon thread and hashing
 * thread). True when all succeed; with `report`, each failure is also a
 * failed expectation.
 */
static bool serve_round(const struct ag_user *u, struct ag_client *session,
			bool report)
{
	static const char *const form[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL};
	struct ag_client c;
	struct ag_response r[16];
	char *token, *body;
	bool ok = true;

	ag_parallel(session, "GET", "/headers", NULL, NULL, 16, r);
	for (int i = 0; i < 16; i++) {
		ok = ok && r[i].status == 200;
		if (report)
			cr_expect_eq(r[i].status, 200, "check %d: %ld", i,
				     r[i].status);
		ag_response_free(&r[i]);
	}
	ag_client_init(&c);
	token = ag_csrf_token(&c);
	body = ag_form("csrf_token", token, "username", u->name, "password",
		       u->password, NULL);
	ag_parallel(&c, "POST", "/auth/login", form, body, 4, r);
	for (int i = 0; i < 4; i++) {
		ok = ok && r[i].status == 303;
		if (report)
			cr_expect_eq(r[i].status, 303, "login %d: %ld", i,
				     r[i].status);
		ag_response_free(&r[i]);
	}
	free(body);
	free(token);
	ag_client_free(&c);
	return ok;
}

/* A login of `u` on `c` (retried until `deadline`), then `rounds` rounds
 * in a row that succeed; false when that takes past `deadline`. */
static bool all_threads_serve(const struct ag_user *u, int rounds,
			      double seconds)
{
	double deadline = ag_now() + seconds;
	struct ag_client c;
	int good = 0;

	ag_client_init(&c);
	while (ag_login(&c, u->name, u->password, false, NULL, NULL) != 303) {
		if (ag_now() > deadline)
			return false;
		ag_pause(0.1);
	}
	while (good < rounds && ag_now() < deadline)
		good = serve_round(u, &c, false) ? good + 1 : 0;
	ag_client_free(&c);
	return good >= rounds;
}

/* Starts PostgreSQL again whatever happened in the case, and gets every
 * daemon thread past its broken connection (the daemon reconnects on the
 * first statement that fails), so that a failure here never spills into
 * the cases that run after this one. */
static void restart_database(void)
{
	const char *start = getenv("AUTHGATE_TEST_DB_START");
	const char *conninfo = getenv("AUTHGATE_TEST_DB");
	struct ag_user u;

	if (start == NULL || conninfo == NULL ||
	    getenv("AUTHGATE_TEST_URL") == NULL)
		return;
	if (PQping(conninfo) != PQPING_OK) {
		char *quiet = ag_strf("%s >/dev/null", start);

		(void)ag_shell(quiet);
		free(quiet);
	}
	if (!database_up(conninfo, 30))
		return;
	ag_user_new(&u, "fault_warmup");
	(void)all_threads_serve(&u, 3, 30);
}

/* Only a stack that can stop and start its database runs this suite. */
static void need_database_control(void)
{
	ag_env_or_skip("AUTHGATE_TEST_DB_STOP");
	ag_env_or_skip("AUTHGATE_TEST_DB_START");
}

TestSuite(faults, .timeout = 120, .init = need_database_control,
	  .fini = restart_database);

Test(faults, database_down_fails_closed_and_recovers)
{
	struct ag_user u;
	struct ag_client c, fresh;
	struct ag_response r;
	struct ag_scrape before, after;
	char *stop;
	long status = 0;
	double deadline;
	int tries = 0;

	ag_user_new(&u, "fault");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	cr_assert_eq(ag_status(&c, "/headers"), 200);
	ag_client_init(&fresh);
	{
		/* A login form fetched before the outage: its post needs the
		 * database. */
		char *token = ag_csrf_token(&fresh);

		free(token);
	}

	/* The test's own connection must not keep the server from
	 * stopping. */
	ag_db_close();
	ag_metrics_scrape_all(&before);
	stop = ag_strf("%s >/dev/null 2>&1", ag_env("AUTHGATE_TEST_DB_STOP"));
	cr_assert_eq(ag_shell(stop), 0, "AUTHGATE_TEST_DB_STOP failed");
	free(stop);

	/* A valid cookie gets nothing: the daemon says 503 and nginx's
	 * auth_request turns that into a 500. */
	ag_get(&c, "/headers", &r);
	cr_expect_neq(r.status, 200, "a check passed without the database");
	cr_expect_eq(r.status, 500, "check with the database down: %ld", r.status);
	cr_expect(!ag_body_has(&r, "X-Auth-User"), "the upstream was reached");
	cr_expect(ag_body_has(&r, "Sign-in is temporarily unavailable"),
		  "not the snippet's @authgate_unavailable page: %s", r.body);
	ag_response_free(&r);
	ag_get_html(&c, "/headers", &r);
	cr_expect(r.status != 200 && r.status != 302,
		  "browser check with the database down: %ld", r.status);
	ag_response_free(&r);
	ag_get(&c, "/auth/whoami", &r);
	cr_expect_eq(r.status, 503, "whoami with the database down: %ld",
		     r.status);
	ag_response_free(&r);

	ag_get(&c, "/auth/healthz", &r);
	cr_expect_eq(r.status, 503, "healthz with the database down: %ld",
		     r.status);
	cr_expect(!ag_body_has(&r, "\"ok\""), "%s", r.body);
	ag_response_free(&r);
	cr_expect_eq(ag_status(&c, "/auth/healthz?live"), 200,
		     "liveness needs no database");

	/* Logins are refused, not failed as bad passwords, and set no
	 * cookie. */
	{
		char *token = ag_csrf_token(&fresh);
		char *body = ag_form("csrf_token", token, "username", u.name,
				     "password", u.password, NULL);

		ag_post_form(&fresh, "/auth/login", body, NULL, &r);
		cr_expect_eq(r.status, 503, "login with the database down: %ld",
			     r.status);
		cr_expect(ag_set_cookie(&r, AG_SESSION_COOKIE) == NULL);
		ag_response_free(&r);
		free(body);
		free(token);
	}

	/* The daemon is still there: a 503 is its answer (nginx says 502
	 * when nothing listens). Again, to be sure it survived the first. */
	cr_expect_eq(ag_status(&c, "/auth/healthz"), 503);

	stop = ag_strf("%s >/dev/null", ag_env("AUTHGATE_TEST_DB_START"));
	cr_assert_eq(ag_shell(stop), 0, "AUTHGATE_TEST_DB_START failed");
	free(stop);

	/* Recovery: the same cookie works again once the daemon has
	 * reconnected (polled, at most 30 s). */
	deadline = ag_now() + 30;
	do {
		if (tries++ > 0)
			ag_pause(0.2);
		status = ag_status(&c, "/headers");
	} while (status != 200 && ag_now() < deadline);
	cr_expect_eq(status, 200, "no recovery after %d tries: last status %ld",
		     tries, status);
	cr_expect_eq(ag_status(&c, "/auth/healthz"), 200);
	ag_get(&c, "/headers", &r);
	cr_expect(ag_body_has(&r, u.name), "identity after recovery: %s", r.body);
	ag_response_free(&r);

	/* The outage shows in the metrics, which need no database. */
	ag_metrics_scrape_all(&after);
	cr_expect_gt(ag_metric(&after, "authgate_db_errors_total"),
		     ag_metric(&before, "authgate_db_errors_total"));
	cr_expect_gt(ag_metric(&after, "authgate_db_reconnects_total"),
		     ag_metric(&before, "authgate_db_reconnects_total"));
	cr_expect_gt(ag_metric(&after, "authgate_checks_total{outcome=\"error\"}"),
		     ag_metric(&before, "authgate_checks_total{outcome=\"error\"}"));
	cr_expect_gt(ag_metric(&after, "authgate_logins_total{outcome=\"error\"}"),
		     ag_metric(&before, "authgate_logins_total{outcome=\"error\"}"));
	ag_client_free(&c);
	ag_client_free(&fresh);
}

/*
 * After PostgreSQL restarts (a failover, an upgrade), the daemon's
 * connections are broken. Once the database answers again, requests must
 * succeed at the first try: the daemon is expected to notice the broken
 * connection and reconnect within the request, not to fail one request per
 * thread first.
 */
Test(faults, first_requests_after_database_restart_succeed)
{
	struct ag_user u;
	struct ag_client c;
	const char *conninfo = ag_env("AUTHGATE_TEST_DB");
	char *cmd;

	ag_user_new(&u, "fault_restart");
	/* Every thread has a working connection before the restart. */
	cr_assert(all_threads_serve(&u, 1, 30));
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);

	ag_db_close();
	cmd = ag_strf("%s >/dev/null 2>&1", ag_env("AUTHGATE_TEST_DB_STOP"));
	cr_assert_eq(ag_shell(cmd), 0, "AUTHGATE_TEST_DB_STOP failed");
	free(cmd);
	cmd = ag_strf("%s >/dev/null", ag_env("AUTHGATE_TEST_DB_START"));
	cr_assert_eq(ag_shell(cmd), 0, "AUTHGATE_TEST_DB_START failed");
	free(cmd);
	cr_assert(database_up(conninfo, 30), "PostgreSQL did not come back");

	/* No retries: every request counts. */
	(void)serve_round(&u, &c, true);
	ag_client_free(&c);
}

/* ------------------------------------------------ a database that hangs */

/* The private daemon's --db-timeout, and how much later than it an answer
 * may come (the daemon's own work, a loaded machine, a sanitizer build). */
#define SLOW_DB_TIMEOUT 2
#define ANSWER_MARGIN 2.0
#define TEXT(x) TEXT_(x)
#define TEXT_(x) #x

/* How many checks go at once while the database hangs: fewer than the
 * daemon's threads (6), so none waits for another's timeout. */
#define CHECKS_AT_ONCE 4

/* Logs `u` in through private daemon `d` from `remote_addr`; returns the
 * session cookie's value (caller frees). */
static char *private_login(const struct private_daemon *d,
			   const struct ag_user *u, const char *remote_addr)
{
	char *answer = login_post(d->addr, u->name, u->password, remote_addr);
	char *session = set_cookie(answer, AG_SESSION_COOKIE);

	cr_assert_eq(status_of(answer), 303, "%s", answer);
	cr_assert_not_null(session, "%s", answer);
	free(answer);
	return session;
}

/* A check of `session` on `d`: the answer, expected `status` (and the
 * user's name in it on 200). */
static void expect_check(const struct private_daemon *d, const char *session,
			 const struct ag_user *u, int status)
{
	char *answer = fcgi_answer(check_send(d->addr, session));

	cr_expect_eq(status_of(answer), status, "%s", answer);
	if (status == 200)
		cr_expect_not_null(strstr(answer, u->name), "%s", answer);
	free(answer);
}

/*
 * Every check is answered while the session table is locked (every
 * statement on it waits), with 503 before --db-timeout plus a margin, and
 * the checks succeed again by themselves once the lock goes. Through
 * nginx, the same hang is a 500 (the @authgate_unavailable page), never
 * the page behind it.
 */
Test(faults, slow_database_fails_closed_within_the_timeout)
{
	static const char *const extra[] = {
		"--db-timeout", TEXT(SLOW_DB_TIMEOUT), "--session-cache", "off",
		"--threads", "6", NULL,
	};
	struct private_daemon d;
	struct ag_user u;
	struct ag_client c;
	struct ag_response r;
	PGconn *holder;
	char *session, *cookie, *answer;
	double released, longest = 0, recovery;
	int status = 0;

	ag_user_new(&u, "fault_slow");
	daemon_start(&d, extra);
	session = private_login(&d, &u, "192.0.2.101");
	expect_check(&d, session, &u, 200);
	ag_client_init(&c);
	ag_client_with_session(&c, session);
	cookie = ag_strf("%s=%s", AG_SESSION_COOKIE, session);

	holder = table_lock("authgate.sessions");
	/* Rounds of checks at once; the first also has a whoami, which says
	 * why, and a login, which waits for its session's insert. */
	for (int round = 0; round < 3; round++) {
		static const char *const what[] = {"whoami", "login", "check"};
		int fds[CHECKS_AT_ONCE + 2], n = 0, kind[CHECKS_AT_ONCE + 2];
		double sent = ag_now();

		if (round == 0) {
			const char *const whoami[] = {
				"AUTHGATE_ENDPOINT", "whoami", "REQUEST_METHOD",
				"GET", "HTTP_COOKIE", cookie, NULL,
			};

			fds[n] = fcgi_send(d.addr, whoami, NULL);
			kind[n++] = 0;
			fds[n] = login_send(d.addr, u.name, u.password,
					    "192.0.2.101");
			kind[n++] = 1;
		}
		for (int i = 0; i < CHECKS_AT_ONCE; i++) {
			fds[n] = check_send(d.addr, session);
			kind[n++] = 2;
		}
		/* A request thread asks for the sessions of the checks it
		 * has at once in one statement: one waiting statement or
		 * several, depending on how the checks spread over them. In
		 * the later rounds a thread that has just seen a statement
		 * run out of time may refuse its checks without asking (for a
		 * second), so only the first round must be seen waiting. */
		if (round == 0)
			cr_expect(daemon_statements_wait("daemon_check_session",
							 1, SLOW_DB_TIMEOUT),
				  "the checks never waited for the lock");
		for (int i = 0; i < n; i++) {
			double took;

			answer = fcgi_answer(fds[i]);
			took = ag_now() - sent;
			longest = took > longest ? took : longest;
			cr_expect_eq(status_of(answer), 503, "%s %d.%d: %s",
				     what[kind[i]], round, i, answer);
			cr_expect_null(strstr(answer, "X-Auth-User"), "%s", answer);
			cr_expect_null(set_cookie(answer, AG_SESSION_COOKIE),
				       "%s", answer);
			if (kind[i] == 0)
				cr_expect_not_null(strstr(answer, "\"unavailable\""),
						   "%s", answer);
			cr_expect_leq(took, SLOW_DB_TIMEOUT + ANSWER_MARGIN,
				      "%s %d.%d answered after %.2f s",
				      what[kind[i]], round, i, took);
			free(answer);
		}
	}

	/* nginx in front of the stack's daemons, which have never seen this
	 * session (so no cache answers for the database): refused. */
	ag_get(&c, "/headers", &r);
	cr_expect_eq(r.status, 500, "through nginx: %ld", r.status);
	cr_expect(!ag_body_has(&r, u.name), "the upstream was reached: %s", r.body);
	ag_response_free(&r);

	table_unlock(holder);
	released = ag_now();
	do {
		char *a = fcgi_answer(check_send(d.addr, session));

		status = status_of(a);
		free(a);
		if (status != 200)
			ag_pause(0.05);
	} while (status != 200 && ag_now() - released < 10);
	recovery = ag_now() - released;
	cr_expect_eq(status, 200, "no recovery within 10 s: %d", status);
	expect_check(&d, session, &u, 200);
	cr_expect_eq(ag_status(&c, "/headers"), 200, "through nginx after");
	free(private_login(&d, &u, "192.0.2.101"));
	fprintf(stderr, "slow database: --db-timeout %d s, slowest refusal "
		"%.2f s, checks back %.2f s after the lock went\n",
		SLOW_DB_TIMEOUT, longest, recovery);
	daemon_stop(&d);
	ag_client_free(&c);
	free(cookie);
	free(session);
}

/* A login page of `bytes` bytes (more than a socket buffer holds), which
 * ends with BIG_PAGE_END; returns its path (caller unlinks and frees). */
#define BIG_PAGE_END "<!-- the end of the page -->"
static char *big_login_template(size_t bytes)
{
	static const char head[] =
		"<!DOCTYPE html><form method=\"post\"><input type=\"hidden\" "
		"name=\"csrf_token\" value=\"{{csrf_token}}\"></form><!--";
	char *path = ag_strf("/tmp/authgate-big-%d.html", (int)getpid());
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(head, f);
	for (size_t n = strlen(head); n < bytes; n++)
		fputc('.', f);
	fputs("-->" BIG_PAGE_END, f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/*
 * SIGTERM while a check (on a request thread) and two logins (on the
 * hashing threads) wait for the database: the daemon stops taking work
 * but answers all three in full once the database does, then exits 0.
 * The failed login's answer, the login page, is made larger than the
 * socket's buffer, so it is written in several goes.
 */
Test(faults, sigterm_drains_requests_in_flight)
{
	struct private_daemon d;
	struct ag_user u;
	PGconn *holder;
	char *page = big_login_template(240 * 1024);
	char *session, *answer, *second;
	int login_fd, failure_fd, check_fd;
	const char *const extra[] = {
		"--db-timeout", "10", "--session-cache", "off", "--threads", "2",
		"--hash-threads", "2", "--login-template", page, NULL,
	};

	ag_user_new(&u, "fault_drain");
	daemon_start(&d, extra);
	session = private_login(&d, &u, "192.0.2.102");

	holder = table_lock("authgate.sessions, authgate.login_failures");
	login_fd = login_send(d.addr, u.name, u.password, "192.0.2.102");
	failure_fd = login_send(d.addr, u.name, "not the password",
				"192.0.2.104");
	check_fd = check_send(d.addr, session);
	cr_assert(daemon_statements_wait("daemon_login_throttle", 2, 5),
		  "the logins never waited for the lock");
	cr_assert(daemon_statements_wait("daemon_check_session", 1, 5),
		  "the check never waited for the lock");
	cr_assert_eq(kill(d.pid, SIGTERM), 0);
	cr_assert(daemon_log_waits_for(&d, "event=stopping", 5),
		  "the daemon did not log that it is stopping");
	table_unlock(holder);

	answer = fcgi_answer(check_fd);
	cr_expect_eq(status_of(answer), 200, "the check in flight: %s", answer);
	cr_expect_not_null(strstr(answer, u.name), "%s", answer);
	free(answer);
	answer = fcgi_answer(login_fd);
	cr_expect_eq(status_of(answer), 303, "the login in flight: %s", answer);
	second = set_cookie(answer, AG_SESSION_COOKIE);
	cr_expect_not_null(second, "%s", answer);
	free(answer);
	answer = fcgi_answer(failure_fd);
	cr_expect_eq(status_of(answer), 401, "the failed login in flight: %.300s",
		     answer);
	cr_expect_not_null(strstr(answer, BIG_PAGE_END),
			   "the page was cut after %zu bytes", strlen(answer));
	free(answer);
	daemon_stop(&d);
	cr_expect_eq(ag_session_count(&u), 2,
		     "the drained login's session is not stored");
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN "
		    "(lower($1), '192.0.2.104')", 1, u.name);
	unlink(page);
	free(page);
	free(second);
	free(session);
}

/*
 * Sessions and the CSRF key live in PostgreSQL: after a daemon restarts,
 * the cookie it issued is still accepted, and a login form fetched before
 * the restart can still be posted.
 */
Test(faults, daemon_restart_keeps_sessions)
{
	static const char *const extra[] = {NULL};
	struct private_daemon d;
	struct ag_user u;
	struct csrf_pair form;
	char *session, *answer;

	ag_user_new(&u, "fault_keep");
	daemon_start(&d, extra);
	session = private_login(&d, &u, "192.0.2.103");
	expect_check(&d, session, &u, 200);
	login_form(&form, d.addr, "192.0.2.103");
	daemon_stop(&d);

	daemon_start(&d, extra);
	expect_check(&d, session, &u, 200);
	answer = fcgi_answer(login_send_with(d.addr, &form, u.name, u.password,
					     "192.0.2.103"));
	cr_expect_eq(status_of(answer), 303, "a form from before the restart: %s",
		     answer);
	free(answer);
	daemon_stop(&d);
	csrf_pair_free(&form);
	free(session);
}
