/*
 * The daemon's FastCGI socket spoken to directly (a minimal client of our
 * own), and many concurrent requests through nginx: more connections than
 * the daemon has threads (the stack runs the default, half the cores, so
 * 16 connections are more up to 32 cores), idle kept-alive connections, a
 * client that stops half-way.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

TestSuite(fcgi, .timeout = AG_TIMEOUT);

static const char *const healthz[] = {
	"AUTHGATE_ENDPOINT", "healthz", "REQUEST_METHOD", "GET",
	"REQUEST_URI",       "/auth/healthz", NULL,
};

/* Expects a complete healthz answer on `fd`. */
static void expect_healthz(int fd, uint16_t id, const char *what)
{
	struct ag_fcgi_answer a;

	ag_fcgi_read_answer(fd, id, &a);
	cr_assert(a.ended, "%s: no complete answer within %d s", what,
		  RECV_TIMEOUT);
	cr_expect_eq(a.protocol_status, 0, "%s: protocol status %d", what,
		     a.protocol_status);
	cr_expect(a.out.len > 0 &&
		  strncmp((char *)a.out.data, "Status: 200", 11) == 0,
		  "%s: %.*s", what, (int)a.out.len, (char *)a.out.data);
	cr_expect(ag_contains((char *)a.out.data, a.out.len,
			      "\"status\":\"ok\""),
		  "%s: body %.*s", what, (int)a.out.len, (char *)a.out.data);
	free(a.out.data);
}

Test(fcgi, keep_conn_serves_several_requests)
{
	int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

	for (uint16_t id = 1; id <= 3; id++) {
		ag_fcgi_send_request(fd, id, true, healthz);
		expect_healthz(fd, id, "kept-alive request");
	}
	close(fd);
}

Test(fcgi, without_keep_conn_the_daemon_closes)
{
	int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

	ag_fcgi_send_request(fd, 1, false, healthz);
	expect_healthz(fd, 1, "request without FCGI_KEEP_CONN");
	cr_expect(ag_peer_closed(fd), "connection left open without KEEP_CONN");
	close(fd);
}

Test(fcgi, more_connections_than_threads)
{
	enum { CONNS = 16 };
	int fds[CONNS];

	for (int i = 0; i < CONNS; i++)
		fds[i] = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));
	/* One complete request on each... */
	for (int i = 0; i < CONNS; i++)
		ag_fcgi_send_request(fds[i], 1, true, healthz);
	for (int i = 0; i < CONNS; i++) {
		char what[32];

		snprintf(what, sizeof(what), "connection %d, first", i);
		expect_healthz(fds[i], 1, what);
	}
	/* ... all kept open and idle, then a second one in reverse order. */
	for (int i = CONNS - 1; i >= 0; i--) {
		char what[32];

		ag_fcgi_send_request(fds[i], 2, true, healthz);
		snprintf(what, sizeof(what), "connection %d, second", i);
		expect_healthz(fds[i], 2, what);
	}
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
}

Test(fcgi, half_sent_request_blocks_nobody)
{
	struct ag_bytes whole = {0}, params = {0};
	int stalled[3];
	size_t cut;

	/* BEGIN_REQUEST and half of the PARAMS record, then silence, on
	 * more connections than the daemon has threads. */
	ag_fcgi_request_encode(&whole, 1, true, healthz);
	ag_fcgi_params_encode(&params, healthz);
	cut = 2 * FCGI_HEADER_LEN + 8 + params.len / 2;
	cr_assert(cut < whole.len);
	for (int i = 0; i < 3; i++) {
		stalled[i] = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));
		ag_send_bytes(stalled[i], whole.data, cut);
	}
	for (int round = 0; round < 4; round++) {
		char what[32];
		int other = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

		ag_fcgi_send_request(other, 7, true, healthz);
		snprintf(what, sizeof(what), "other connection %d", round);
		expect_healthz(other, 7, what);
		close(other);
	}
	/* The stalled requests still complete when their rest arrives. */
	for (int i = 0; i < 3; i++) {
		ag_send_bytes(stalled[i], whole.data + cut, whole.len - cut);
		expect_healthz(stalled[i], 1, "the stalled request, completed");
		close(stalled[i]);
	}
	free(whole.data);
	free(params.data);
}

Test(fcgi, unknown_endpoint_is_404)
{
	static const char *const unknown[] = {
		"AUTHGATE_ENDPOINT", "nope", "REQUEST_METHOD", "GET", NULL,
	};
	static const char *const none[] = {"REQUEST_METHOD", "GET", NULL};
	struct ag_fcgi_answer a;
	int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

	ag_fcgi_send_request(fd, 1, true, unknown);
	ag_fcgi_read_answer(fd, 1, &a);
	cr_assert(a.ended);
	cr_expect(strncmp((char *)a.out.data, "Status: 404", 11) == 0, "%s",
		  (char *)a.out.data);
	free(a.out.data);
	ag_fcgi_send_request(fd, 2, true, none);
	ag_fcgi_read_answer(fd, 2, &a);
	cr_assert(a.ended);
	cr_expect(strncmp((char *)a.out.data, "Status: 404", 11) == 0, "%s",
		  (char *)a.out.data);
	free(a.out.data);
	close(fd);
}

/* The check endpoint also speaks HTTP/1.1 on the same socket (nginx keeps
 * HTTP upstream connections for auth subrequests), one connection serving
 * several checks. */
Test(fcgi, http_checks_share_a_kept_connection)
{
	struct ag_client c;
	struct ag_user u;
	char *cookie, head[2048];
	int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));

	ag_client_init(&c);
	ag_user_new(&u, "http");
	ag_login_ok(&c, u.name, u.password);
	cookie = ag_strf("%s=%s", AG_SESSION_COOKIE, ag_session(&c));

	ag_http_check(fd, NULL, head, sizeof(head));
	cr_expect(strncmp(head, "HTTP/1.1 401 ", 13) == 0, "%s", head);
	cr_expect_not_null(strstr(head, "Content-Length: 0\r\n"), "%s", head);
	for (int i = 0; i < 3; i++) {
		ag_http_check(fd, cookie, head, sizeof(head));
		cr_expect(strncmp(head, "HTTP/1.1 200 ", 13) == 0, "%s", head);
		cr_expect_not_null(strstr(head, u.name), "%s", head);
		cr_expect_null(strstr(head, "Connection: close"), "%s", head);
	}
	/* The same connection then carries a FastCGI request. */
	ag_fcgi_send_request(fd, 1, true, healthz);
	expect_healthz(fd, 1, "FastCGI after HTTP");
	close(fd);
	free(cookie);
	ag_client_free(&c);
}

/*
 * Checks that reach the daemon at once are asked of the database together
 * (one statement per batch): each must still get its own session's
 * answer. Passive checks are never answered from the cache, so every
 * round asks the database; a few unknown sessions are mixed in.
 */
Test(fcgi, concurrent_checks_get_their_own_answers)
{
	enum { USERS = 12, UNKNOWN = 4, ALL = USERS + UNKNOWN, ROUNDS = 5 };
	struct ag_user users[USERS];
	char *cookies[ALL], head[2048];
	int fds[ALL];

	for (int i = 0; i < USERS; i++) {
		struct ag_client c;

		ag_client_init(&c);
		ag_user_new(&users[i], "batch");
		ag_login_ok(&c, users[i].name, users[i].password);
		cookies[i] = ag_strf("%s=%s", AG_SESSION_COOKIE, ag_session(&c));
		ag_client_free(&c);
	}
	for (int i = USERS; i < ALL; i++) {
		char token[45];

		/* 43 base64url characters, like a real token's 32 bytes (the
		 * last one with its two spare bits clear) */
		ag_random_hex(token, 22);
		token[42] = 'A';
		token[43] = '\0';
		cookies[i] = ag_strf("%s=%s", AG_SESSION_COOKIE, token);
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* Every request is sent before any answer is read, each on its
		 * own connection, in an order that changes every round. */
		for (int k = 0; k < ALL; k++) {
			int i = (k * 5 + round) % ALL;

			fds[i] = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));
			ag_http_check_send(fds[i], cookies[i], true);
		}
		for (int i = 0; i < ALL; i++) {
			ag_http_check_read(fds[i], head, sizeof(head));
			close(fds[i]);
			if (i < USERS) {
				char *who = ag_strf("\r\nX-Auth-User: %s\r\n",
						    users[i].name);

				cr_expect(strncmp(head, "HTTP/1.1 200 ", 13) == 0 &&
						  strstr(head, who) != NULL,
					  "round %d, session %d: %s", round, i, head);
				free(who);
			} else {
				cr_expect(strncmp(head, "HTTP/1.1 401 ", 13) == 0,
					  "round %d, unknown session %d: %s",
					  round, i, head);
			}
		}
	}
	for (int i = 0; i < ALL; i++)
		free(cookies[i]);
}

Test(fcgi, http_smuggling_shapes_are_refused)
{
	static const char *const bad[] = {
		"GET /auth/check HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		"Transfer-Encoding: chunked\r\n\r\n",
		"GET /auth/check HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET /auth/check HTTP/1.1\nHost: a\n\n",
		"GET /auth/check HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\n"
		"Cookie: b=2\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));
		char answer[512];

		ag_send_bytes(fd, bad[i], strlen(bad[i]));
		cr_expect(ag_read_until_closed(fd, answer, sizeof(answer)),
			  "case %zu: connection kept", i);
		cr_expect(strncmp(answer, "HTTP/1.1 400 ", 13) == 0,
			  "case %zu: %s", i, answer);
		close(fd);
	}
}

Test(fcgi, garbage_closes_only_that_connection)
{
	/* Neither a FastCGI record (first byte 1) nor HTTP. */
	static const uint8_t garbage[] = "\x7fnot a protocol\r\n\r\n";
	int bad = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI")), good;
	struct ag_bytes b = {0};
	char answer[512];

	ag_send_bytes(bad, garbage, sizeof(garbage) - 1);
	cr_expect(ag_read_until_closed(bad, answer, sizeof(answer)),
		  "garbage was not refused");
	cr_expect(strncmp(answer, "HTTP/1.1 400 ", 13) == 0, "%s", answer);
	close(bad);

	/* Params whose lengths run past the record: refused, not crashed. */
	bad = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));
	{
		uint8_t begin[8] = {0, FCGI_RESPONDER, FCGI_KEEP_CONN};
		uint8_t lying[] = {0x7f, 0x7f, 'A', 'B'};
		struct ag_fcgi_answer a;

		ag_fcgi_record(&b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
		ag_fcgi_record(&b, FCGI_PARAMS, 1, lying, sizeof(lying));
		ag_fcgi_record(&b, FCGI_PARAMS, 1, NULL, 0);
		ag_fcgi_record(&b, FCGI_STDIN, 1, NULL, 0);
		ag_send_bytes(bad, b.data, b.len);
		ag_fcgi_read_answer(bad, 1, &a);
		if (a.ended)
			cr_expect(strncmp((char *)a.out.data, "Status: 4", 9) == 0,
				  "malformed params: %s", (char *)a.out.data);
		free(a.out.data);
		close(bad);
		free(b.data);
	}

	good = ag_fcgi_connect(ag_env("AUTHGATE_TEST_FCGI"));
	ag_fcgi_send_request(good, 1, true, healthz);
	expect_healthz(good, 1, "after garbage elsewhere");
	close(good);
}

/* ------------------------------------------------- through nginx, at once */

Test(fcgi, nginx_concurrent_checks)
{
	enum { N = 32 };
	struct ag_user u;
	struct ag_client c;
	struct ag_response r[N];
	char *expect;

	ag_user_new(&u, "concurrent");
	ag_client_init(&c);
	ag_login_ok(&c, u.name, u.password);
	expect = ag_strf("X-Auth-User: %s\n", u.name);
	ag_parallel(&c, "GET", "/headers", NULL, NULL, N, r);
	for (int i = 0; i < N; i++) {
		cr_expect_eq(r[i].status, 200, "request %d: status %ld", i,
			     r[i].status);
		cr_expect(ag_body_has(&r[i], expect), "request %d: body %s", i,
			  r[i].body);
		ag_response_free(&r[i]);
	}
	free(expect);
	ag_client_free(&c);
}

Test(fcgi, concurrent_logins)
{
	enum { N = 8 };
	struct ag_user u;
	struct ag_client c;
	struct ag_response r[N];
	char *token, *body;

	/* More logins at once than the daemon has hashing threads. */
	ag_user_new(&u, "concurrent_login");
	ag_client_init(&c);
	cr_assert_eq(ag_login(&c, u.name, u.password, false, NULL, NULL), 303);
	ag_jar_clear(&c);
	token = ag_csrf_token(&c);
	body = ag_form("csrf_token", token, "username", u.name, "password",
		       u.password, NULL);
	{
		static const char *const form[] = {
			"Content-Type: application/x-www-form-urlencoded", NULL};

		ag_parallel(&c, "POST", "/auth/login", form, body, N, r);
	}
	for (int i = 0; i < N; i++) {
		cr_expect_eq(r[i].status, 303, "login %d: status %ld", i,
			     r[i].status);
		cr_expect(ag_set_cookie(&r[i], AG_SESSION_COOKIE) != NULL,
			  "login %d: no cookie", i);
		ag_response_free(&r[i]);
	}
	cr_expect_eq(ag_session_count(&u), N + 1);
	free(body);
	free(token);
	ag_client_free(&c);
}
