#include "fcgi.h"

#include <string.h>

enum parse_result fcgi_parse_header(const uint8_t *buf, size_t len,
				    struct fcgi_header *out)
{
	if (len < FCGI_HEADER_LEN)
		return PARSE_ABSENT;
	if (buf[0] != FCGI_VERSION_1)
		return PARSE_INVALID;
	out->type = buf[1];
	out->request_id = (uint16_t)(buf[2] << 8 | buf[3]);
	out->content_length = (uint16_t)(buf[4] << 8 | buf[5]);
	out->padding_length = buf[6];
	return PARSE_OK;
}

enum parse_result fcgi_parse_begin_request(const uint8_t *content, size_t len,
					   struct fcgi_begin_request *out)
{
	if (len < sizeof(FCGI_BeginRequestBody))
		return PARSE_INVALID;
	out->role = (uint16_t)(content[0] << 8 | content[1]);
	out->keep_conn = content[2] & FCGI_KEEP_CONN;
	return PARSE_OK;
}

/* Lengths below 128 take one byte; longer ones four with the top bit set. */
static enum parse_result read_length(const uint8_t *buf, size_t len,
				     size_t *pos, size_t *out)
{
	if (*pos >= len)
		return PARSE_INVALID;
	if (!(buf[*pos] & 0x80)) {
		*out = buf[*pos];
		*pos += 1;
		return PARSE_OK;
	}
	if (len - *pos < 4)
		return PARSE_INVALID;
	*out = (size_t)(buf[*pos] & 0x7f) << 24 | (size_t)buf[*pos + 1] << 16 |
	       (size_t)buf[*pos + 2] << 8 | buf[*pos + 3];
	*pos += 4;
	return PARSE_OK;
}

enum parse_result fcgi_next_param(const uint8_t *buf, size_t len, size_t *pos,
				  const uint8_t **name, size_t *name_len,
				  const uint8_t **value, size_t *value_len)
{
	size_t nlen, vlen;

	if (*pos == len)
		return PARSE_ABSENT;
	if (read_length(buf, len, pos, &nlen) != PARSE_OK ||
	    read_length(buf, len, pos, &vlen) != PARSE_OK)
		return PARSE_INVALID;
	if (nlen > len - *pos || vlen > len - *pos - nlen)
		return PARSE_INVALID;
	*name = buf + *pos;
	*name_len = nlen;
	*value = buf + *pos + nlen;
	*value_len = vlen;
	*pos += nlen + vlen;
	return PARSE_OK;
}

static void append_length(struct buf *out, size_t n)
{
	uint8_t bytes[4];

	if (n < 128) {
		bytes[0] = (uint8_t)n;
		buf_append(out, bytes, 1);
		return;
	}
	if (n > 0x7fffffff) {
		out->failed = true;
		return;
	}
	bytes[0] = (uint8_t)(n >> 24 | 0x80);
	bytes[1] = (uint8_t)(n >> 16);
	bytes[2] = (uint8_t)(n >> 8);
	bytes[3] = (uint8_t)n;
	buf_append(out, bytes, 4);
}

void fcgi_append_param(struct buf *out, const char *name, size_t name_len,
		       const char *value, size_t value_len)
{
	append_length(out, name_len);
	append_length(out, value_len);
	buf_append(out, name, name_len);
	buf_append(out, value, value_len);
}

void fcgi_append_header(struct buf *out, uint8_t type, uint16_t request_id,
			uint16_t content_length, uint8_t padding_length)
{
	uint8_t h[FCGI_HEADER_LEN] = {
		FCGI_VERSION_1,
		type,
		(uint8_t)(request_id >> 8),
		(uint8_t)request_id,
		(uint8_t)(content_length >> 8),
		(uint8_t)content_length,
		padding_length,
		0,
	};

	buf_append(out, h, sizeof(h));
}

void fcgi_append_stream(struct buf *out, uint8_t type, uint16_t request_id,
			const void *data, size_t len)
{
	static const uint8_t zeros[8];
	const uint8_t *p = data;

	while (len > 0) {
		uint16_t chunk = len > FCGI_MAX_LENGTH ? FCGI_MAX_LENGTH
						       : (uint16_t)len;
		/* Padding keeps records 8-byte aligned, as the spec recommends. */
		uint8_t padding = (uint8_t)((8 - chunk % 8) % 8);

		fcgi_append_header(out, type, request_id, chunk, padding);
		buf_append(out, p, chunk);
		buf_append(out, zeros, padding);
		p += chunk;
		len -= chunk;
	}
	fcgi_append_header(out, type, request_id, 0, 0);
}

void fcgi_append_end_request(struct buf *out, uint16_t request_id,
			     uint32_t app_status, uint8_t protocol_status)
{
	uint8_t body[8] = {
		(uint8_t)(app_status >> 24), (uint8_t)(app_status >> 16),
		(uint8_t)(app_status >> 8), (uint8_t)app_status,
		protocol_status, 0, 0, 0,
	};

	fcgi_append_header(out, FCGI_END_REQUEST, request_id, sizeof(body), 0);
	buf_append(out, body, sizeof(body));
}
