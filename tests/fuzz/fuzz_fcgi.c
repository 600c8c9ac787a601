/*
 * The FastCGI record codec over arbitrary bytes: fcgi_parse_header() and
 * fcgi_parse_begin_request() on the first eight bytes, fcgi_next_param()
 * walking the whole input as a
 * PARAMS stream, and the encoders read back by the parsers.
 *
 * Properties: the header fields are the big-endian bytes the spec says;
 * every name and value the walk returns lies inside the buffer and the
 * walk always moves forward and ends; re-encoding the pairs with
 * fcgi_append_param() parses back to the same pairs; fcgi_append_header()
 * parses back to its fields; fcgi_append_stream() of the input parses back
 * to records of at most FCGI_MAX_LENGTH bytes, 8-byte aligned, whose
 * contents are the input, closed by an empty record.
 */
#include <string.h>

#include "buf.h"
#include "fcgi.h"
#include "fuzz.h"

#define MAX_PAIRS 64

struct pair {
	const uint8_t *name, *value;
	size_t name_len, value_len;
};

static void check_header(const uint8_t *in, size_t len)
{
	struct fcgi_header h;
	struct buf out;
	uint8_t *copy;
	enum parse_result r;

	r = fcgi_parse_header(in, len, &h);
	if (len < FCGI_HEADER_LEN) {
		FUZZ_ASSERT(r == PARSE_ABSENT);
		return;
	}
	if (in[0] != FCGI_VERSION_1) {
		FUZZ_ASSERT(r == PARSE_INVALID);
		return;
	}
	FUZZ_ASSERT(r == PARSE_OK);
	FUZZ_ASSERT(h.type == in[1]);
	FUZZ_ASSERT(h.request_id == (in[2] << 8 | in[3]));
	FUZZ_ASSERT(h.content_length == (in[4] << 8 | in[5]));
	FUZZ_ASSERT(h.padding_length == in[6]);

	/* Encode the fields again; the reserved byte is written as 0. */
	buf_init(&out, FCGI_HEADER_LEN);
	fcgi_append_header(&out, h.type, h.request_id, h.content_length,
			   h.padding_length);
	FUZZ_ASSERT(!out.failed && out.len == FCGI_HEADER_LEN);
	FUZZ_ASSERT(memcmp(out.data, in, FCGI_HEADER_LEN - 1) == 0 &&
		    out.data[FCGI_HEADER_LEN - 1] == 0);
	copy = (uint8_t *)fuzz_dup(out.data, out.len);
	buf_free(&out);
	{
		struct fcgi_header back;

		r = fcgi_parse_header(copy, FCGI_HEADER_LEN, &back);
		FUZZ_ASSERT(r == PARSE_OK && back.type == h.type &&
			    back.request_id == h.request_id &&
			    back.content_length == h.content_length &&
			    back.padding_length == h.padding_length);
	}
	free(copy);
}

/* Walks `buf` as PARAMS; fills up to MAX_PAIRS pairs, returns the count
 * and the final result (PARSE_ABSENT at a clean end). */
static size_t walk_params(const uint8_t *buf, size_t len, struct pair *pairs,
			  enum parse_result *end)
{
	size_t pos = 0, n = 0;

	for (;;) {
		struct pair p;
		size_t before = pos;
		enum parse_result r;

		r = fcgi_next_param(buf, len, &pos, &p.name, &p.name_len,
				    &p.value, &p.value_len);
		FUZZ_ASSERT(r == PARSE_OK || r == PARSE_ABSENT ||
			    r == PARSE_INVALID);
		if (r != PARSE_OK) {
			if (r == PARSE_ABSENT)
				FUZZ_ASSERT(pos == len);
			*end = r;
			return n;
		}
		FUZZ_ASSERT(pos > before && pos <= len);
		FUZZ_ASSERT(fuzz_within(buf, len, p.name, p.name_len));
		FUZZ_ASSERT(fuzz_within(buf, len, p.value, p.value_len));
		FUZZ_ASSERT(p.value == p.name + p.name_len);
		FUZZ_ASSERT(p.value + p.value_len == buf + pos);
		if (n < MAX_PAIRS)
			pairs[n] = p;
		n++;
	}
}

static void check_params(const uint8_t *in, size_t len)
{
	struct pair pairs[MAX_PAIRS], back[MAX_PAIRS];
	size_t n, n_back, i;
	enum parse_result end, end_back;
	struct buf out;
	uint8_t *encoded;

	n = walk_params(in, len, pairs, &end);
	if (n > MAX_PAIRS)
		n = MAX_PAIRS;

	buf_init(&out, 2 * len + 8 * MAX_PAIRS + 1);
	for (i = 0; i < n; i++)
		fcgi_append_param(&out, (const char *)pairs[i].name,
				  pairs[i].name_len,
				  (const char *)pairs[i].value,
				  pairs[i].value_len);
	FUZZ_ASSERT(!out.failed);
	encoded = (uint8_t *)fuzz_dup(out.data, out.len);
	n_back = walk_params(encoded, out.len, back, &end_back);
	FUZZ_ASSERT(end_back == PARSE_ABSENT && n_back == n);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(back[i].name_len == pairs[i].name_len &&
			    back[i].value_len == pairs[i].value_len);
		FUZZ_ASSERT(memcmp(back[i].name, pairs[i].name,
				   pairs[i].name_len) == 0);
		FUZZ_ASSERT(memcmp(back[i].value, pairs[i].value,
				   pairs[i].value_len) == 0);
	}
	free(encoded);
	buf_free(&out);
}

static void check_stream(const uint8_t *in, size_t len)
{
	struct buf out;
	uint8_t *records;
	size_t pos = 0, content = 0;
	bool closed = false;

	buf_init(&out, 2 * len + 64);
	fcgi_append_stream(&out, FCGI_STDOUT, 7, in, len);
	FUZZ_ASSERT(!out.failed && out.data != NULL);
	records = (uint8_t *)fuzz_dup(out.data, out.len);
	while (!closed) {
		struct fcgi_header h;
		size_t body;

		FUZZ_ASSERT(fcgi_parse_header(records + pos, out.len - pos,
					      &h) == PARSE_OK);
		FUZZ_ASSERT(h.type == FCGI_STDOUT && h.request_id == 7);
		pos += FCGI_HEADER_LEN;
		body = (size_t)h.content_length + h.padding_length;
		FUZZ_ASSERT(body <= out.len - pos && body % 8 == 0);
		FUZZ_ASSERT(h.content_length <= len - content);
		FUZZ_ASSERT(h.content_length == 0 ||
			    memcmp(records + pos, in + content,
				   h.content_length) == 0);
		content += h.content_length;
		pos += body;
		closed = h.content_length == 0;
	}
	FUZZ_ASSERT(content == len && pos == out.len);
	free(records);
	buf_free(&out);
}

/* A BEGIN_REQUEST body: the role as sent, the keep-connection bit, and
 * nothing shorter than the spec's eight bytes. */
static void check_begin_request(const uint8_t *in, size_t len)
{
	struct fcgi_begin_request begin;
	enum parse_result r = fcgi_parse_begin_request(in, len, &begin);

	if (len < 8) {
		FUZZ_ASSERT(r == PARSE_INVALID);
		return;
	}
	FUZZ_ASSERT(r == PARSE_OK);
	FUZZ_ASSERT(begin.role == (in[0] << 8 | in[1]));
	FUZZ_ASSERT(begin.keep_conn == ((in[2] & FCGI_KEEP_CONN) != 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = (uint8_t *)fuzz_dup(data, size);

	check_header(in, size);
	check_begin_request(in, size);
	check_params(in, size);
	check_stream(in, size);
	free(in);
	return 0;
}
