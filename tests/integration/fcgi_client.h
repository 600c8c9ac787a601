/*
 * A minimal FastCGI client of the tests' own (not the daemon's codec), to
 * speak to a daemon's socket directly: which daemon answers is then known,
 * and the protocol itself can be exercised.
 */
#ifndef AUTHGATE_TEST_FCGI_CLIENT_H
#define AUTHGATE_TEST_FCGI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FastCGI 1.0 (the specification's names and numbers). */
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_STDERR 7
#define FCGI_RESPONDER 1
#define FCGI_AUTHORIZER 2
#define FCGI_FILTER 3
#define FCGI_UNKNOWN_ROLE 3 /* END_REQUEST protocol status */
#define FCGI_KEEP_CONN 1
#define FCGI_HEADER_LEN 8

/* Seconds a read may wait before the test calls the daemon stalled. */
#define RECV_TIMEOUT 5

/* A growable byte buffer for records. */
struct ag_bytes {
	uint8_t *data;
	size_t len, cap;
};

/* One response: what STDOUT carried, and whether END_REQUEST came. */
struct ag_fcgi_answer {
	struct ag_bytes out;
	bool ended;
	uint8_t protocol_status;
};

/* Appends bytes; fails the test when out of memory. */
void ag_bytes_add(struct ag_bytes *b, const void *data, size_t len);

/* Appends one record (no padding). */
void ag_fcgi_record(struct ag_bytes *b, uint8_t type, uint16_t id,
		    const void *content, uint16_t len);

/* Encodes NULL-terminated name, value pairs as FastCGI params. */
void ag_fcgi_params_encode(struct ag_bytes *b, const char *const *pairs);

/* BEGIN_REQUEST, PARAMS from NULL-terminated name, value pairs, empty
 * PARAMS, empty STDIN. */
void ag_fcgi_request_encode(struct ag_bytes *b, uint16_t id, bool keep_conn,
			    const char *const *pairs);

/* Connects to "unix:/path" or HOST:PORT with RECV_TIMEOUT send/receive
 * timeouts. */
int ag_fcgi_connect(const char *addr);

void ag_send_bytes(int fd, const void *data, size_t len);

/* Reads exactly `len` bytes; false on timeout or end of stream. */
bool ag_recv_exact(int fd, void *data, size_t len);

/* Reads records of request `id` until END_REQUEST (or a stall / EOF, then
 * ended is false). The caller frees a->out.data. */
void ag_fcgi_read_answer(int fd, uint16_t id, struct ag_fcgi_answer *a);

void ag_fcgi_send_request(int fd, uint16_t id, bool keep_conn,
			  const char *const *pairs);

/* True when the peer has closed `fd` (EOF within the receive timeout). */
bool ag_peer_closed(int fd);

/* Reads what the peer sends until it closes, keeping the end of it in
 * `out` (NUL-terminated); false on a stall. */
bool ag_read_until_closed(int fd, char *out, size_t cap);

/* One HTTP/1.1 check on a daemon's socket `fd`, with the Cookie header
 * `cookie` (none when NULL), as nginx's snippet sends it; the answer's
 * head (a check's answer has no body) in `out`. */
void ag_http_check(int fd, const char *cookie, char *out, size_t cap);

/* The two halves of ag_http_check(), to have several checks in flight at
 * once; `passive`: as from a $authgate_passive location. */
void ag_http_check_send(int fd, const char *cookie, bool passive);
void ag_http_check_read(int fd, char *out, size_t cap);

#endif
