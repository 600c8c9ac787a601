/*
 * Memory: a load burst against a daemon of the AddressSanitizer build,
 * whose LeakSanitizer looks for leaks when it exits. This file is compiled
 * in that build only (CMakeLists.txt), where this build's daemon
 * (AUTHGATE_BUILD_DAEMON) is instrumented; elsewhere the case would prove
 * nothing. It runs alone (RUN_SERIAL): it keeps both cores busy.
 *
 * The burst: 1000 logins (8 at a time, so both hashing threads stay busy)
 * of 8 users, and while they hash 5000 checks on a kept-alive FastCGI
 * connection (cookies, Bearer tokens, HTTP Basic that must be hashed,
 * sessions that were logged out), plus 125 HTTP/1.1 checks, 125 whoami
 * calls, 124 logouts and 125 bad requests of 9 kinds, with a session cache
 * smaller than the sessions in use. Then SIGTERM: zero leaks and zero
 * errors means exit status 0 and no sanitizer report on stderr. On the
 * 2-core development machine the burst takes about 25 s, 45 s while
 * another test run shares the cores (the figures are printed).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base64.h"
#include "fcgi_client.h"
#include "harness.h"
#include "private_daemon.h"

TestSuite(memory, .timeout = 300);

#define USERS 8
#define ROUNDS 125
#define LOGINS_AT_ONCE 8     /* ROUNDS x 8 = 1000 logins */
#define CHECKS_PER_ROUND 40  /* ROUNDS x 40 = 5000 checks */
#define KEPT 96              /* sessions checked again and again */
#define LOGIN_ADDR "192.0.2.150"
#define FAILURE_ADDR "192.0.2.151"
#define FORM "application/x-www-form-urlencoded"

/* Requests of one kind, and the first answer that was not as expected. */
struct tally {
	const char *what;
	long count, unexpected;
	char first[300];
};

static void tally(struct tally *t, bool expected, const char *answer)
{
	t->count++;
	if (!expected && t->unexpected++ == 0)
		snprintf(t->first, sizeof(t->first), "%s",
			 answer ? answer : "(no answer)");
}

static void expect_none_unexpected(const struct tally *t)
{
	cr_expect_eq(t->unexpected, 0, "%ld of %ld %s unexpected; the first: %s",
		     t->unexpected, t->count, t->what, t->first);
}

/* A kept-alive FastCGI connection and its last request id. */
struct kept {
	int fd;
	uint16_t id;
};

/* One request on the kept-alive connection; its status, 0 when no answer
 * came, and the answer in *answer (caller frees) when wanted. */
static int kept_call(struct kept *k, const char *const *params, char **answer)
{
	struct ag_fcgi_answer a;
	int status = 0;

	k->id = (uint16_t)(k->id % 60000 + 1);
	ag_fcgi_send_request(k->fd, k->id, true, params);
	ag_fcgi_read_answer(k->fd, k->id, &a);
	if (a.ended)
		status = status_of((char *)a.out.data);
	if (answer != NULL)
		*answer = (char *)a.out.data;
	else
		free(a.out.data);
	return status;
}

/* A check with `cookie` (a Cookie header), or `authorization` (with
 * AUTHGATE_BASIC on when `basic`). */
static int kept_check(struct kept *k, const char *cookie,
		      const char *authorization, bool basic)
{
	const char *params[16] = {
		"AUTHGATE_ENDPOINT", "check", "REQUEST_METHOD", "GET",
		"REQUEST_URI", "/private", "REMOTE_ADDR", LOGIN_ADDR,
	};
	size_t n = 8;

	if (cookie != NULL) {
		params[n++] = "HTTP_COOKIE";
		params[n++] = cookie;
	}
	if (authorization != NULL) {
		params[n++] = "HTTP_AUTHORIZATION";
		params[n++] = authorization;
	}
	if (basic) {
		params[n++] = "AUTHGATE_BASIC";
		params[n++] = "on";
	}
	params[n] = NULL;
	return kept_call(k, params, NULL);
}

/* A POST on a connection of its own; the answer (caller frees). */
static char *post(const char *addr, const char *endpoint, const char *cookie,
		  const char *body)
{
	char *length = ag_strf("%zu", strlen(body)), *answer;
	const char *const params[] = {
		"AUTHGATE_ENDPOINT", endpoint, "REQUEST_METHOD", "POST",
		"CONTENT_TYPE", FORM, "CONTENT_LENGTH", length,
		"HTTP_COOKIE", cookie, "REMOTE_ADDR", FAILURE_ADDR, NULL,
	};

	answer = fcgi_call(addr, params, body);
	free(length);
	return answer;
}

/* The logout page for `cookie` (the session), then its form posted: the
 * status of the post. */
static int logout(const char *addr, const char *cookie)
{
	const char *const get[] = {
		"AUTHGATE_ENDPOINT", "logout", "REQUEST_METHOD", "GET",
		"HTTP_COOKIE", cookie, NULL,
	};
	char *page = fcgi_call(addr, get, NULL), *cookies, *body, *answer;
	struct csrf_pair pair;
	int status;

	csrf_pair_of(&pair, page);
	cookies = ag_strf("%s; %s", cookie, pair.cookie_header);
	body = ag_form("csrf_token", pair.token, NULL);
	answer = post(addr, "logout", cookies, body);
	status = status_of(answer);
	free(answer);
	free(body);
	free(cookies);
	csrf_pair_free(&pair);
	free(page);
	return status;
}

/* Bad requests of every layer, one a round; each must get a 4xx. */
static const char *const unknown_endpoint[] = {
	"AUTHGATE_ENDPOINT", "nope", "REQUEST_METHOD", "GET", NULL,
};
static const char *const unknown_method[] = {
	"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "PUT", NULL,
};
static const char *const malformed_cookies[] = {
	"AUTHGATE_ENDPOINT", "whoami", "REQUEST_METHOD", "GET", "HTTP_COOKIE",
	AG_SESSION_COOKIE "=%%%; " AG_SESSION_COOKIE
	"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
};
static const char *const *const bad_gets[] = {
	unknown_endpoint, unknown_method, malformed_cookies,
};
/* endpoint, Cookie header, body */
static const char *const bad_posts[][3] = {
	{"login", "", "username=a&password=b"},
	{"login", AG_CSRF_COOKIE "=%zz", "csrf_token=%zz&username=%ff%00&password="},
	{"logout", AG_SESSION_COOKIE "=x", "all=1"},
};
#define NGETS (sizeof(bad_gets) / sizeof(*bad_gets))
#define NPOSTS (sizeof(bad_posts) / sizeof(*bad_posts))

/* Params whose lengths run past their record; the socket. */
static int lying_params(const char *addr)
{
	static const uint8_t lying[] = {0x7f, 0x7f, 'A', 'B'};
	uint8_t begin[8] = {0, FCGI_RESPONDER, 0};
	struct ag_bytes b = {0};
	int fd = ag_fcgi_connect(addr);

	ag_fcgi_record(&b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
	ag_fcgi_record(&b, FCGI_PARAMS, 1, lying, sizeof(lying));
	ag_fcgi_record(&b, FCGI_PARAMS, 1, NULL, 0);
	ag_fcgi_record(&b, FCGI_STDIN, 1, NULL, 0);
	ag_send_bytes(fd, b.data, b.len);
	free(b.data);
	return fd;
}

/* Bad request number `which` (cycling through them all); its status. */
static int bad_request(const char *addr, size_t which, const char *victim)
{
	static char oversized[20000];
	char *answer;
	int status;

	which %= NGETS + NPOSTS + 3;
	if (which < NGETS) {
		answer = fcgi_call(addr, bad_gets[which], NULL);
	} else if (which < NGETS + NPOSTS) {
		which -= NGETS;
		answer = post(addr, bad_posts[which][0], bad_posts[which][1],
			      bad_posts[which][2]);
	} else if (which == NGETS + NPOSTS) {
		memset(oversized, 'a', sizeof(oversized) - 1);
		answer = post(addr, "login", "", oversized);
	} else if (which == NGETS + NPOSTS + 1) {
		/* 401, then 429 once the account is locked. */
		answer = login_post(addr, victim, "not the password",
				    FAILURE_ADDR);
	} else {
		answer = fcgi_answer(lying_params(addr));
	}
	status = status_of(answer);
	free(answer);
	return status;
}

/* The burst's state: the daemon's address, two kept-alive connections,
 * the credentials in use, and what was sent. */
struct burst {
	const char *addr;
	struct kept fcgi;
	int http_fd;
	char *cookie[KEPT]; /* "authgate=..." of recent logins, or NULL */
	bool logged_out[KEPT];
	char *bearer, *basic[2];
	const char *victim;
	struct tally logins, checks, http, whoamis, logouts, bads;
};

/* CHECKS_PER_ROUND checks: mostly of kept sessions (401 once logged out),
 * some with a Bearer token or HTTP Basic. */
static void burst_checks(struct burst *b, int round)
{
	for (int i = 0; i < CHECKS_PER_ROUND; i++) {
		int slot = (round * CHECKS_PER_ROUND + i) % KEPT;
		int status, expected = 200;
		char why[64];

		if (i % 10 == 0) {
			status = kept_check(&b->fcgi, NULL, b->bearer, false);
		} else if (i % 20 == 1) {
			/* Two users for a cache of one: hashed on the
			 * hashing threads every time. */
			status = kept_check(&b->fcgi, NULL, b->basic[i / 20 % 2],
					    true);
		} else {
			status = kept_check(&b->fcgi, b->cookie[slot], NULL,
					    false);
			if (b->cookie[slot] == NULL || b->logged_out[slot])
				expected = 401;
		}
		snprintf(why, sizeof(why), "check %d.%d: %d, not %d", round, i,
			 status, expected);
		tally(&b->checks, status == expected, why);
	}
}

/* The answers to the round's logins: their sessions replace older ones. */
static void burst_logins_answered(struct burst *b, int round, const int *fds)
{
	for (int i = 0; i < LOGINS_AT_ONCE; i++) {
		int slot = (round * LOGINS_AT_ONCE + i) % KEPT;
		char *answer = fcgi_answer(fds[i]);
		char *session = set_cookie(answer, AG_SESSION_COOKIE);

		tally(&b->logins, status_of(answer) == 303 && session, answer);
		free(b->cookie[slot]);
		b->cookie[slot] = NULL;
		if (session != NULL)
			b->cookie[slot] = ag_strf("%s=%s", AG_SESSION_COOKIE,
						  session);
		b->logged_out[slot] = false;
		free(session);
		free(answer);
	}
}

/* A whoami and an HTTP check of the round's first session, a logout of
 * the round before's last one, and a bad request. */
static void burst_extras(struct burst *b, int round)
{
	int slot = (round * LOGINS_AT_ONCE) % KEPT, status;
	const char *cookie = b->cookie[slot];
	const char *const whoami[] = {
		"AUTHGATE_ENDPOINT", "whoami", "REQUEST_METHOD", "GET",
		"HTTP_COOKIE", cookie ? cookie : "", NULL,
	};
	char *answer = NULL, head[2048], why[64];

	status = kept_call(&b->fcgi, whoami, &answer);
	tally(&b->whoamis, status == 200 && strstr(answer, "\"username\""),
	      answer);
	free(answer);
	ag_http_check(b->http_fd, cookie, head, sizeof(head));
	tally(&b->http, strncmp(head, "HTTP/1.1 200 ", 13) == 0, head);

	slot = (slot + KEPT - 1) % KEPT;
	if (b->cookie[slot] != NULL) {
		status = logout(b->addr, b->cookie[slot]);
		snprintf(why, sizeof(why), "logout %d: %d", round, status);
		tally(&b->logouts, status == 303, why);
		b->logged_out[slot] = true;
	}

	status = bad_request(b->addr, (size_t)round, b->victim);
	snprintf(why, sizeof(why), "bad request %d: %d", round, status);
	tally(&b->bads, status >= 400 && status < 500, why);
}

Test(memory, burst_under_leak_sanitizer)
{
	static const char *const extra[] = {
		"--threads", "2", "--hash-threads", "2",
		"--session-cache-size", "64", "--basic-cache-size", "1",
		"--login-max-failures", "3", NULL,
	};
	struct burst b = {
		.logins = {.what = "logins"}, .checks = {.what = "checks"},
		.http = {.what = "HTTP checks"},
		.whoamis = {.what = "whoami calls"},
		.logouts = {.what = "logouts"}, .bads = {.what = "bad requests"},
	};
	struct private_daemon d;
	struct ag_user users[USERS], victim;
	char *token;
	double started, burst, stopped;

	/* The daemon is this build's: make sure it is instrumented, and that
	 * a leak or an error would change its exit status. */
	cr_assert_eq(ag_shell("ASAN_OPTIONS=help=1 '" AUTHGATE_BUILD_DAEMON
			      "' version 2>&1 | grep -q detect_leaks"), 0,
		     AUTHGATE_BUILD_DAEMON " is not an AddressSanitizer build");
	setenv("ASAN_OPTIONS", "detect_leaks=1:exitcode=86", 1);
	setenv("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1", 1);

	for (int i = 0; i < USERS; i++)
		ag_user_new(&users[i], "burst");
	ag_user_new(&victim, "burst_victim");
	b.victim = victim.name;
	token = ag_sql_value("SELECT authgate.create_api_token($1, 'burst', "
			     "interval '1 hour')", 1, users[0].name);
	ag_secret(token);
	b.bearer = ag_strf("Bearer %s", token);
	for (int i = 0; i < 2; i++) {
		char *pair = ag_strf("%s:%s", users[i].name, users[i].password);
		char b64[TEST_BASE64_LEN(160) + 1];

		cr_assert(strlen(pair) < 160);
		test_base64(pair, strlen(pair), b64);
		b.basic[i] = ag_strf("Basic %s", b64);
		free(pair);
	}

	daemon_start_binary(&d, AUTHGATE_BUILD_DAEMON, extra);
	b.addr = d.addr;
	b.fcgi.fd = ag_fcgi_connect(d.addr);
	b.http_fd = ag_fcgi_connect(d.addr);
	started = ag_now();
	for (int round = 0; round < ROUNDS; round++) {
		int fds[LOGINS_AT_ONCE];

		for (int i = 0; i < LOGINS_AT_ONCE; i++) {
			const struct ag_user *u = &users[(round + i) % USERS];

			fds[i] = login_send(d.addr, u->name, u->password,
					    LOGIN_ADDR);
		}
		burst_checks(&b, round); /* while the logins hash */
		burst_logins_answered(&b, round, fds);
		burst_extras(&b, round);
	}
	burst = ag_now() - started;
	close(b.fcgi.fd);
	close(b.http_fd);
	daemon_stop(&d);
	stopped = ag_now() - started - burst;

	expect_none_unexpected(&b.logins);
	expect_none_unexpected(&b.checks);
	expect_none_unexpected(&b.http);
	expect_none_unexpected(&b.whoamis);
	expect_none_unexpected(&b.logouts);
	expect_none_unexpected(&b.bads);
	cr_expect_geq(b.logins.count, 1000);
	cr_expect_geq(b.checks.count + b.http.count, 5000);
	fprintf(stderr, "memory burst: %ld logins, %ld checks over FastCGI and "
		"%ld over HTTP, %ld whoami, %ld logouts, %ld bad requests in "
		"%.1f s; exit and leak check %.1f s\n", b.logins.count,
		b.checks.count, b.http.count, b.whoamis.count, b.logouts.count,
		b.bads.count, burst, stopped);

	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN "
		    "(lower($1), $2)", 2, victim.name, FAILURE_ADDR);
	for (int i = 0; i < KEPT; i++)
		free(b.cookie[i]);
	free(b.basic[0]);
	free(b.basic[1]);
	free(b.bearer);
	free(token);
}
