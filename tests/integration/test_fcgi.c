/*
 * The daemon's FastCGI socket spoken to directly (a minimal client of our
 * own), and many concurrent requests through nginx: more connections than
 * the daemon has threads (the stack runs --threads 2), idle kept-alive
 * connections, a client that stops half-way.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

TestSuite(fcgi, .timeout = AG_TIMEOUT);

/* FastCGI 1.0 (the specification's names and numbers). */
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_STDERR 7
#define FCGI_RESPONDER 1
#define FCGI_KEEP_CONN 1
#define FCGI_HEADER_LEN 8

/* Seconds a read may wait before the test calls the daemon stalled. */
#define RECV_TIMEOUT 5

/* A growable byte buffer for records. */
struct bytes {
	uint8_t *data;
	size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *data, size_t len)
{
	if (b->cap - b->len < len) {
		size_t cap = (b->cap + len) * 2;
		uint8_t *bigger = realloc(b->data, cap);

		cr_assert(bigger != NULL, "out of memory");
		b->data = bigger;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void record(struct bytes *b, uint8_t type, uint16_t id,
		   const void *content, uint16_t len)
{
	uint8_t h[FCGI_HEADER_LEN] = {FCGI_VERSION_1,
				      type,
				      (uint8_t)(id >> 8),
				      (uint8_t)id,
				      (uint8_t)(len >> 8),
				      (uint8_t)len,
				      0,
				      0};

	bytes_add(b, h, sizeof(h));
	if (len > 0)
		bytes_add(b, content, len);
}

static void name_value_len(struct bytes *b, size_t len)
{
	if (len < 128) {
		uint8_t one = (uint8_t)len;

		bytes_add(b, &one, 1);
	} else {
		uint8_t four[4] = {(uint8_t)(0x80 | (len >> 24)),
				   (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				   (uint8_t)len};

		bytes_add(b, four, 4);
	}
}

/* Encodes NULL-terminated name, value pairs as FastCGI params. */
static void params_encode(struct bytes *b, const char *const *pairs)
{
	for (size_t i = 0; pairs[i] != NULL; i += 2) {
		name_value_len(b, strlen(pairs[i]));
		name_value_len(b, strlen(pairs[i + 1]));
		bytes_add(b, pairs[i], strlen(pairs[i]));
		bytes_add(b, pairs[i + 1], strlen(pairs[i + 1]));
	}
}

/* BEGIN_REQUEST, PARAMS, empty PARAMS, empty STDIN. */
static void request_encode(struct bytes *b, uint16_t id, bool keep_conn,
			   const char *const *pairs)
{
	uint8_t begin[8] = {0, FCGI_RESPONDER, keep_conn ? FCGI_KEEP_CONN : 0};
	struct bytes params = {0};

	record(b, FCGI_BEGIN_REQUEST, id, begin, sizeof(begin));
	params_encode(&params, pairs);
	cr_assert(params.len < 65536);
	record(b, FCGI_PARAMS, id, params.data, (uint16_t)params.len);
	record(b, FCGI_PARAMS, id, NULL, 0);
	record(b, FCGI_STDIN, id, NULL, 0);
	free(params.data);
}

static const char *const healthz[] = {
	"AUTHGATE_ENDPOINT", "healthz", "REQUEST_METHOD", "GET",
	"REQUEST_URI",       "/auth/healthz", NULL,
};

static int fcgi_connect(void)
{
	const char *addr = ag_env("AUTHGATE_TEST_FCGI");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {RECV_TIMEOUT, 0};
	int fd;

	cr_assert(strncmp(addr, "unix:", 5) == 0,
		  "AUTHGATE_TEST_FCGI must be unix:/path, not %s", addr);
	cr_assert(strlen(addr + 5) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, addr + 5);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		  "connect %s: %s", addr, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_bytes(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		cr_assert(n > 0, "send: %s", n < 0 ? strerror(errno) : "closed");
		p += n;
		len -= (size_t)n;
	}
}

/* Reads exactly `len` bytes; false on timeout or end of stream. */
static bool recv_exact(int fd, void *data, size_t len)
{
	uint8_t *p = data;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* One response: what STDOUT carried, and whether END_REQUEST came. */
struct fcgi_answer {
	struct bytes out;
	bool ended;
	uint8_t protocol_status;
};

/* Reads records of request `id` until END_REQUEST (or a stall / EOF, then
 * ended is false). */
static void read_answer(int fd, uint16_t id, struct fcgi_answer *a)
{
	memset(a, 0, sizeof(*a));
	for (;;) {
		uint8_t h[FCGI_HEADER_LEN], content[65536 + 256];
		size_t clen, plen;
		uint16_t rid;

		if (!recv_exact(fd, h, sizeof(h)))
			return;
		rid = (uint16_t)(h[2] << 8 | h[3]);
		clen = (size_t)(h[4] << 8 | h[5]);
		plen = h[6];
		if (!recv_exact(fd, content, clen + plen))
			return;
		cr_assert_eq(h[0], FCGI_VERSION_1, "bad record version");
		if (rid != id)
			continue;
		if (h[1] == FCGI_STDOUT)
			bytes_add(&a->out, content, clen);
		if (h[1] == FCGI_END_REQUEST) {
			a->ended = true;
			a->protocol_status = clen >= 5 ? content[4] : 0xff;
			bytes_add(&a->out, "", 1); /* NUL-terminate */
			a->out.len--;
			return;
		}
	}
}

/* Expects a complete healthz answer on `fd`. */
static void expect_healthz(int fd, uint16_t id, const char *what)
{
	struct fcgi_answer a;

	read_answer(fd, id, &a);
	cr_assert(a.ended, "%s: no complete answer within %d s", what,
		  RECV_TIMEOUT);
	cr_expect_eq(a.protocol_status, 0, "%s: protocol status %d", what,
		     a.protocol_status);
	cr_expect(a.out.len > 0 &&
		  strncmp((char *)a.out.data, "Status: 200", 11) == 0,
		  "%s: %.*s", what, (int)a.out.len, (char *)a.out.data);
	cr_expect(ag_contains((char *)a.out.data, a.out.len,
			      "{\"status\":\"ok\"}"),
		  "%s: body %.*s", what, (int)a.out.len, (char *)a.out.data);
	free(a.out.data);
}

static void send_request(int fd, uint16_t id, bool keep_conn,
			 const char *const *pairs)
{
	struct bytes b = {0};

	request_encode(&b, id, keep_conn, pairs);
	send_bytes(fd, b.data, b.len);
	free(b.data);
}

/* True when the peer has closed `fd` (EOF within the receive timeout). */
static bool peer_closed(int fd)
{
	uint8_t byte;
	ssize_t n;

	do
		n = recv(fd, &byte, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

Test(fcgi, keep_conn_serves_several_requests)
{
	int fd = fcgi_connect();

	for (uint16_t id = 1; id <= 3; id++) {
		send_request(fd, id, true, healthz);
		expect_healthz(fd, id, "kept-alive request");
	}
	close(fd);
}

Test(fcgi, without_keep_conn_the_daemon_closes)
{
	int fd = fcgi_connect();

	send_request(fd, 1, false, healthz);
	expect_healthz(fd, 1, "request without FCGI_KEEP_CONN");
	cr_expect(peer_closed(fd), "connection left open without KEEP_CONN");
	close(fd);
}

Test(fcgi, more_connections_than_threads)
{
	enum { CONNS = 16 };
	int fds[CONNS];

	for (int i = 0; i < CONNS; i++)
		fds[i] = fcgi_connect();
	/* One complete request on each... */
	for (int i = 0; i < CONNS; i++)
		send_request(fds[i], 1, true, healthz);
	for (int i = 0; i < CONNS; i++) {
		char what[32];

		snprintf(what, sizeof(what), "connection %d, first", i);
		expect_healthz(fds[i], 1, what);
	}
	/* ... all kept open and idle, then a second one in reverse order. */
	for (int i = CONNS - 1; i >= 0; i--) {
		char what[32];

		send_request(fds[i], 2, true, healthz);
		snprintf(what, sizeof(what), "connection %d, second", i);
		expect_healthz(fds[i], 2, what);
	}
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
}

Test(fcgi, half_sent_request_blocks_nobody)
{
	struct bytes whole = {0}, params = {0};
	int stalled[3];
	size_t cut;

	/* BEGIN_REQUEST and half of the PARAMS record, then silence, on
	 * more connections than the daemon has threads. */
	request_encode(&whole, 1, true, healthz);
	params_encode(&params, healthz);
	cut = 2 * FCGI_HEADER_LEN + 8 + params.len / 2;
	cr_assert(cut < whole.len);
	for (int i = 0; i < 3; i++) {
		stalled[i] = fcgi_connect();
		send_bytes(stalled[i], whole.data, cut);
	}
	for (int round = 0; round < 4; round++) {
		char what[32];
		int other = fcgi_connect();

		send_request(other, 7, true, healthz);
		snprintf(what, sizeof(what), "other connection %d", round);
		expect_healthz(other, 7, what);
		close(other);
	}
	/* The stalled requests still complete when their rest arrives. */
	for (int i = 0; i < 3; i++) {
		send_bytes(stalled[i], whole.data + cut, whole.len - cut);
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
	struct fcgi_answer a;
	int fd = fcgi_connect();

	send_request(fd, 1, true, unknown);
	read_answer(fd, 1, &a);
	cr_assert(a.ended);
	cr_expect(strncmp((char *)a.out.data, "Status: 404", 11) == 0, "%s",
		  (char *)a.out.data);
	free(a.out.data);
	send_request(fd, 2, true, none);
	read_answer(fd, 2, &a);
	cr_assert(a.ended);
	cr_expect(strncmp((char *)a.out.data, "Status: 404", 11) == 0, "%s",
		  (char *)a.out.data);
	free(a.out.data);
	close(fd);
}

Test(fcgi, garbage_closes_only_that_connection)
{
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	int bad = fcgi_connect(), good;
	struct bytes b = {0};

	send_bytes(bad, garbage, sizeof(garbage) - 1);
	cr_expect(peer_closed(bad), "garbage was not refused");
	close(bad);

	/* Params whose lengths run past the record: refused, not crashed. */
	bad = fcgi_connect();
	{
		uint8_t begin[8] = {0, FCGI_RESPONDER, FCGI_KEEP_CONN};
		uint8_t lying[] = {0x7f, 0x7f, 'A', 'B'};
		struct fcgi_answer a;

		record(&b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
		record(&b, FCGI_PARAMS, 1, lying, sizeof(lying));
		record(&b, FCGI_PARAMS, 1, NULL, 0);
		record(&b, FCGI_STDIN, 1, NULL, 0);
		send_bytes(bad, b.data, b.len);
		read_answer(bad, 1, &a);
		if (a.ended)
			cr_expect(strncmp((char *)a.out.data, "Status: 4", 9) == 0,
				  "malformed params: %s", (char *)a.out.data);
		free(a.out.data);
		close(bad);
		free(b.data);
	}

	good = fcgi_connect();
	send_request(good, 1, true, healthz);
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
