/*
 * FastCGI record codec (FastCGI 1.0 specification), pure functions on
 * buffers. libfcgi's fastcgi.h supplies the protocol constants; its fcgiapp
 * layer is not used because it binds a thread to each kept-alive connection
 * (see server.c).
 */
#ifndef AUTHGATE_FCGI_H
#define AUTHGATE_FCGI_H

#include <fastcgi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "common.h"

struct fcgi_header {
	uint8_t type;
	uint16_t request_id;
	uint16_t content_length;
	uint8_t padding_length;
};

/*
 * Parses the 8-byte record header at `buf`. PARSE_ABSENT when fewer than
 * FCGI_HEADER_LEN bytes are available, PARSE_INVALID for a version other
 * than 1.
 */
enum parse_result fcgi_parse_header(const uint8_t *buf, size_t len,
				    struct fcgi_header *out) AG_MUST_CHECK;

/* The body of a BEGIN_REQUEST record. */
struct fcgi_begin_request {
	uint16_t role;  /* FCGI_RESPONDER, FCGI_AUTHORIZER, FCGI_FILTER, ... */
	bool keep_conn; /* the server keeps the connection after the request */
};

/*
 * Parses a BEGIN_REQUEST body (`len` bytes of content). PARSE_INVALID when
 * shorter than the 8 bytes the specification fixes. The role is returned
 * as sent, known or not: the caller refuses the ones it does not play.
 */
enum parse_result fcgi_parse_begin_request(const uint8_t *content, size_t len,
					   struct fcgi_begin_request *out)
	AG_MUST_CHECK;

/*
 * Reads the name-value pair at `*pos` in a complete PARAMS stream `buf`
 * and advances `*pos`. Names and values point into `buf`. PARSE_ABSENT at
 * the end of the stream, PARSE_INVALID when a length runs past the end.
 */
enum parse_result fcgi_next_param(const uint8_t *buf, size_t len, size_t *pos,
				  const uint8_t **name, size_t *name_len,
				  const uint8_t **value,
				  size_t *value_len) AG_MUST_CHECK;

/* Appends one name-value pair in PARAMS encoding (used by tests and
 * GET_VALUES_RESULT). */
void fcgi_append_param(struct buf *out, const char *name, size_t name_len,
		       const char *value, size_t value_len);

/* Appends a record header. */
void fcgi_append_header(struct buf *out, uint8_t type, uint16_t request_id,
			uint16_t content_length, uint8_t padding_length);

/*
 * Appends `data` as a stream of records of `type` (STDOUT, PARAMS, ...),
 * split at FCGI_MAX_LENGTH and padded to 8 bytes, followed by the empty
 * record that closes the stream.
 */
void fcgi_append_stream(struct buf *out, uint8_t type, uint16_t request_id,
			const void *data, size_t len);

/* Appends an END_REQUEST record. */
void fcgi_append_end_request(struct buf *out, uint16_t request_id,
			     uint32_t app_status, uint8_t protocol_status);

#endif
