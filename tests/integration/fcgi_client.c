#include "fcgi_client.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

void ag_bytes_add(struct ag_bytes *b, const void *data, size_t len)
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

void ag_fcgi_record(struct ag_bytes *b, uint8_t type, uint16_t id,
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

	ag_bytes_add(b, h, sizeof(h));
	if (len > 0)
		ag_bytes_add(b, content, len);
}

static void name_value_len(struct ag_bytes *b, size_t len)
{
	if (len < 128) {
		uint8_t one = (uint8_t)len;

		ag_bytes_add(b, &one, 1);
	} else {
		uint8_t four[4] = {(uint8_t)(0x80 | (len >> 24)),
				   (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				   (uint8_t)len};

		ag_bytes_add(b, four, 4);
	}
}

/* Encodes NULL-terminated name, value pairs as FastCGI params. */
void ag_fcgi_params_encode(struct ag_bytes *b, const char *const *pairs)
{
	for (size_t i = 0; pairs[i] != NULL; i += 2) {
		name_value_len(b, strlen(pairs[i]));
		name_value_len(b, strlen(pairs[i + 1]));
		ag_bytes_add(b, pairs[i], strlen(pairs[i]));
		ag_bytes_add(b, pairs[i + 1], strlen(pairs[i + 1]));
	}
}

/* BEGIN_REQUEST, PARAMS, empty PARAMS, empty STDIN. */
void ag_fcgi_request_encode(struct ag_bytes *b, uint16_t id, bool keep_conn,
			   const char *const *pairs)
{
	uint8_t begin[8] = {0, FCGI_RESPONDER, keep_conn ? FCGI_KEEP_CONN : 0};
	struct ag_bytes params = {0};

	ag_fcgi_record(b, FCGI_BEGIN_REQUEST, id, begin, sizeof(begin));
	ag_fcgi_params_encode(&params, pairs);
	cr_assert(params.len < 65536);
	ag_fcgi_record(b, FCGI_PARAMS, id, params.data, (uint16_t)params.len);
	ag_fcgi_record(b, FCGI_PARAMS, id, NULL, 0);
	ag_fcgi_record(b, FCGI_STDIN, id, NULL, 0);
	free(params.data);
}

/* A TCP connection to HOST:PORT (a docker-compose stack's authgate:9000). */
static int connect_tcp(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char *host;
	int fd, rc;

	cr_assert(colon != NULL, "FastCGI address %s: unix:/path or HOST:PORT",
		  addr);
	host = ag_strf("%.*s", (int)(colon - addr), addr);
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	cr_assert(rc == 0, "%s: %s", addr, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert(connect(fd, res->ai_addr, res->ai_addrlen) == 0,
		  "connect %s: %s", addr, strerror(errno));
	freeaddrinfo(res);
	free(host);
	return fd;
}

int ag_fcgi_connect(const char *addr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {RECV_TIMEOUT, 0};
	int fd;

	/* Raw requests see the daemons' caches like nginx's do. */
	ag_daemons_catch_up();
	if (strncmp(addr, "unix:", 5) != 0) {
		fd = connect_tcp(addr);
	} else {
		cr_assert(strlen(addr + 5) < sizeof(sa.sun_path));
		strcpy(sa.sun_path, addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert(fd >= 0, "socket: %s", strerror(errno));
		cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
			  "connect %s: %s", addr, strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

void ag_send_bytes(int fd, const void *data, size_t len)
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
bool ag_recv_exact(int fd, void *data, size_t len)
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

/* Reads records of request `id` until END_REQUEST (or a stall / EOF, then
 * ended is false). */
void ag_fcgi_read_answer(int fd, uint16_t id, struct ag_fcgi_answer *a)
{
	memset(a, 0, sizeof(*a));
	for (;;) {
		uint8_t h[FCGI_HEADER_LEN], content[65536 + 256];
		size_t clen, plen;
		uint16_t rid;

		if (!ag_recv_exact(fd, h, sizeof(h)))
			return;
		rid = (uint16_t)(h[2] << 8 | h[3]);
		clen = (size_t)(h[4] << 8 | h[5]);
		plen = h[6];
		if (!ag_recv_exact(fd, content, clen + plen))
			return;
		cr_assert_eq(h[0], FCGI_VERSION_1, "bad record version");
		if (rid != id)
			continue;
		if (h[1] == FCGI_STDOUT)
			ag_bytes_add(&a->out, content, clen);
		if (h[1] == FCGI_END_REQUEST) {
			a->ended = true;
			a->protocol_status = clen >= 5 ? content[4] : 0xff;
			ag_bytes_add(&a->out, "", 1); /* NUL-terminate */
			a->out.len--;
			return;
		}
	}
}

void ag_fcgi_send_request(int fd, uint16_t id, bool keep_conn,
			 const char *const *pairs)
{
	struct ag_bytes b = {0};

	ag_fcgi_request_encode(&b, id, keep_conn, pairs);
	ag_send_bytes(fd, b.data, b.len);
	free(b.data);
}

/* True when the peer has closed `fd` (EOF within the receive timeout). */
bool ag_peer_closed(int fd)
{
	uint8_t byte;
	ssize_t n;

	do
		n = recv(fd, &byte, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

bool ag_read_until_closed(int fd, char *out, size_t cap)
{
	size_t n = 0;

	for (;;) {
		ssize_t got = recv(fd, out + n, cap - 1 - n, 0);

		if (got == 0) {
			out[n] = '\0';
			return true;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return false;
		n += (size_t)got;
		if (n == cap - 1)
			n = 0; /* keep reading; only the end matters */
	}
}

void ag_http_check_send(int fd, const char *cookie, bool passive)
{
	char *request = ag_strf("GET /auth/check HTTP/1.1\r\nHost: authgate\r\n"
				"X-Authgate-Endpoint: check\r\n%s"
				"X-Original-URI: /private\r\n%s%s%s\r\n",
				passive ? "X-Authgate-Passive: on\r\n" : "",
				cookie ? "Cookie: " : "", cookie ? cookie : "",
				cookie ? "\r\n" : "");

	ag_send_bytes(fd, request, strlen(request));
	free(request);
}

void ag_http_check_read(int fd, char *out, size_t cap)
{
	size_t n = 0;

	/* The checks answer with no body: the head ends the answer. */
	while (n + 1 < cap) {
		ssize_t got = recv(fd, out + n, 1, 0);

		cr_assert(got == 1, "no complete HTTP answer");
		n++;
		out[n] = '\0';
		if (n >= 4 && strcmp(out + n - 4, "\r\n\r\n") == 0)
			return;
	}
	cr_assert_fail("HTTP answer too long");
}

void ag_http_check(int fd, const char *cookie, char *out, size_t cap)
{
	ag_http_check_send(fd, cookie, false);
	ag_http_check_read(fd, out, cap);
}
