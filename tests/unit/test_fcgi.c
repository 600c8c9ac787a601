#include <criterion/criterion.h>
#include <string.h>

#include "fcgi.h"

Test(fcgi, header_round_trip)
{
	struct buf b;
	struct fcgi_header h;

	buf_init(&b, 64);
	fcgi_append_header(&b, FCGI_PARAMS, 0x1234, 0xabcd, 7);
	cr_assert_eq(b.len, FCGI_HEADER_LEN);
	cr_assert_eq(fcgi_parse_header((const uint8_t *)b.data, b.len, &h), PARSE_OK);
	cr_assert_eq(h.type, FCGI_PARAMS);
	cr_assert_eq(h.request_id, 0x1234);
	cr_assert_eq(h.content_length, 0xabcd);
	cr_assert_eq(h.padding_length, 7);
	buf_free(&b);
}

Test(fcgi, header_needs_eight_bytes_and_version_one)
{
	const uint8_t v1[8] = {1, FCGI_STDIN, 0, 1, 0, 0, 0, 0};
	const uint8_t v2[8] = {2, FCGI_STDIN, 0, 1, 0, 0, 0, 0};
	struct fcgi_header h;

	for (size_t len = 0; len < 8; len++)
		cr_assert_eq(fcgi_parse_header(v1, len, &h), PARSE_ABSENT);
	cr_assert_eq(fcgi_parse_header(v1, 8, &h), PARSE_OK);
	cr_assert_eq(fcgi_parse_header(v2, 8, &h), PARSE_INVALID);
}

Test(fcgi, params_short_and_long_lengths)
{
	char long_value[300];
	struct buf b;
	const uint8_t *name, *value;
	size_t pos = 0, name_len, value_len;

	memset(long_value, 'v', sizeof(long_value));
	buf_init(&b, 4096);
	fcgi_append_param(&b, "REQUEST_METHOD", 14, "GET", 3);
	fcgi_append_param(&b, "HTTP_COOKIE", 11, long_value, sizeof(long_value));
	fcgi_append_param(&b, "EMPTY", 5, "", 0);
	/* 1+1+14+3, then 1+4 length bytes for the 300-byte value. */
	cr_assert_eq(b.len, 19 + 1 + 4 + 11 + 300 + 1 + 1 + 5);

	cr_assert_eq(fcgi_next_param((const uint8_t *)b.data, b.len, &pos, &name,
				     &name_len, &value, &value_len), PARSE_OK);
	cr_assert_eq(name_len, 14);
	cr_assert(memcmp(name, "REQUEST_METHOD", 14) == 0);
	cr_assert_eq(value_len, 3);
	cr_assert_eq(fcgi_next_param((const uint8_t *)b.data, b.len, &pos, &name,
				     &name_len, &value, &value_len), PARSE_OK);
	cr_assert_eq(value_len, 300);
	cr_assert(memcmp(value, long_value, 300) == 0);
	cr_assert_eq(fcgi_next_param((const uint8_t *)b.data, b.len, &pos, &name,
				     &name_len, &value, &value_len), PARSE_OK);
	cr_assert_eq(name_len, 5);
	cr_assert_eq(value_len, 0);
	cr_assert_eq(fcgi_next_param((const uint8_t *)b.data, b.len, &pos, &name,
				     &name_len, &value, &value_len), PARSE_ABSENT);
	buf_free(&b);
}

Test(fcgi, params_truncated_anywhere_is_invalid)
{
	struct buf b;
	const uint8_t *name, *value;
	size_t name_len, value_len;

	buf_init(&b, 4096);
	fcgi_append_param(&b, "NAME", 4, "value", 5);
	/* Every strict prefix but the empty one is a broken pair. */
	for (size_t len = 1; len < b.len; len++) {
		size_t pos = 0;

		cr_assert_eq(fcgi_next_param((const uint8_t *)b.data, len, &pos,
					     &name, &name_len, &value, &value_len),
			     PARSE_INVALID, "prefix of %zu bytes", len);
	}
	buf_free(&b);
}

Test(fcgi, params_huge_declared_length_is_invalid)
{
	/* A four-byte length of 2^31-1 with almost no data behind it. */
	const uint8_t bytes[] = {0xff, 0xff, 0xff, 0xff, 0x01, 'a', 'b'};
	const uint8_t *name, *value;
	size_t pos = 0, name_len, value_len;

	cr_assert_eq(fcgi_next_param(bytes, sizeof(bytes), &pos, &name, &name_len,
				     &value, &value_len), PARSE_INVALID);
}

/* Walks a stream of records and returns the concatenated content of
 * records of `type`, checking alignment and the closing empty record. */
static size_t collect_stream(const struct buf *b, uint8_t type, char *out,
			     size_t cap, bool *closed)
{
	size_t pos = 0, n = 0;

	*closed = false;
	while (pos < b->len) {
		struct fcgi_header h;

		cr_assert_eq(fcgi_parse_header((const uint8_t *)b->data + pos,
					       b->len - pos, &h), PARSE_OK);
		cr_assert_eq((h.content_length + h.padding_length) % 8, 0,
			     "records are 8-byte aligned");
		if (h.type == type) {
			cr_assert(!*closed, "nothing after the empty record");
			if (h.content_length == 0)
				*closed = true;
			cr_assert(n + h.content_length <= cap);
			memcpy(out + n, b->data + pos + FCGI_HEADER_LEN,
			       h.content_length);
			n += h.content_length;
		}
		pos += FCGI_HEADER_LEN + h.content_length + h.padding_length;
	}
	cr_assert_eq(pos, b->len);
	return n;
}

Test(fcgi, stream_splits_at_max_length)
{
	static char data[FCGI_MAX_LENGTH * 2 + 10], back[sizeof(data)];
	struct buf b;
	bool closed;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	buf_init(&b, 4 * sizeof(data));
	fcgi_append_stream(&b, FCGI_STDOUT, 3, data, sizeof(data));
	cr_assert_eq(collect_stream(&b, FCGI_STDOUT, back, sizeof(back), &closed),
		     sizeof(data));
	cr_assert(closed);
	cr_assert(memcmp(data, back, sizeof(data)) == 0);
	buf_free(&b);
}

Test(fcgi, empty_stream_is_one_empty_record)
{
	struct buf b;

	buf_init(&b, 64);
	fcgi_append_stream(&b, FCGI_STDOUT, 1, "", 0);
	cr_assert_eq(b.len, FCGI_HEADER_LEN);
	buf_free(&b);
}

Test(fcgi, end_request_record)
{
	struct buf b;
	struct fcgi_header h;
	const uint8_t *body;

	buf_init(&b, 64);
	fcgi_append_end_request(&b, 9, 0x01020304, FCGI_CANT_MPX_CONN);
	cr_assert_eq(b.len, 16);
	cr_assert_eq(fcgi_parse_header((const uint8_t *)b.data, b.len, &h), PARSE_OK);
	cr_assert_eq(h.type, FCGI_END_REQUEST);
	cr_assert_eq(h.request_id, 9);
	cr_assert_eq(h.content_length, 8);
	body = (const uint8_t *)b.data + 8;
	cr_assert_eq(body[0], 1);
	cr_assert_eq(body[3], 4);
	cr_assert_eq(body[4], FCGI_CANT_MPX_CONN);
	buf_free(&b);
}

Test(fcgi, begin_request_roles_and_keep_conn)
{
	static const struct {
		uint8_t bytes[8];
		uint16_t role;
		bool keep_conn;
	} cases[] = {
		{{0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0}, FCGI_RESPONDER, false},
		{{0, FCGI_RESPONDER, FCGI_KEEP_CONN, 0, 0, 0, 0, 0},
		 FCGI_RESPONDER, true},
		/* lighttpd's authorizer: flags 0, the connection is closed. */
		{{0, FCGI_AUTHORIZER, 0, 0, 0, 0, 0, 0}, FCGI_AUTHORIZER, false},
		{{0, FCGI_FILTER, 0, 0, 0, 0, 0, 0}, FCGI_FILTER, false},
		/* Unknown roles come back as sent, high byte included. */
		{{0x01, 0x02, 0, 0, 0, 0, 0, 0}, 0x0102, false},
		/* Only the low bit of flags is defined; others are ignored. */
		{{0, FCGI_AUTHORIZER, 0xfe, 0, 0, 0, 0, 0}, FCGI_AUTHORIZER, false},
		{{0, FCGI_AUTHORIZER, 0xff, 0, 0, 0, 0, 0}, FCGI_AUTHORIZER, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fcgi_begin_request begin = {0};

		cr_assert_eq(fcgi_parse_begin_request(cases[i].bytes, 8, &begin),
			     PARSE_OK, "case %zu", i);
		cr_assert_eq(begin.role, cases[i].role, "case %zu", i);
		cr_assert_eq(begin.keep_conn, cases[i].keep_conn, "case %zu", i);
	}
}

Test(fcgi, begin_request_shorter_than_eight_bytes_is_invalid)
{
	const uint8_t bytes[16] = {0, FCGI_AUTHORIZER, FCGI_KEEP_CONN};
	struct fcgi_begin_request begin;

	for (size_t len = 0; len < 8; len++)
		cr_assert_eq(fcgi_parse_begin_request(bytes, len, &begin),
			     PARSE_INVALID, "%zu bytes", len);
	/* A longer body is allowed; the extra bytes are not read. */
	cr_assert_eq(fcgi_parse_begin_request(bytes, sizeof(bytes), &begin),
		     PARSE_OK);
	cr_assert_eq(begin.role, FCGI_AUTHORIZER);
	cr_assert(begin.keep_conn);
}
