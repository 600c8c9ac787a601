/* HTTP/1.1 request heads (RFC 9112), strictly. */
#include "http.h"

#include <string.h>

/* tchar of RFC 9110 section 5.6.2. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

static bool is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* field-vchar / SP / HTAB of RFC 9110 section 5.5: no CTL but HTAB. */
/*
 * Field-value bytes. NUL, CR and LF are refused (RFC 9110 section 5.5:
 * they could end a line or a string early). Other control characters are
 * invalid too but harmless to framing, and nginx forwards them from a
 * client's Cookie or User-Agent into the auth_request subrequest: refusing
 * them here would answer 400, which nginx turns into a 500 for that
 * client, where a malformed cookie must just be a 401.
 */
static bool is_value_char(unsigned char c)
{
	return c != '\0' && c != '\r' && c != '\n';
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of s[0..len) and NUL-terminated `lit`;
 * not strncasecmp(), whose answer depends on the locale. */
static bool equals_ignore_case(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lit[i] == '\0' ||
		    ascii_lower((unsigned char)s[i]) !=
			    ascii_lower((unsigned char)lit[i]))
			return false;
	return lit[len] == '\0';
}

static bool header_is(const struct http_header *h, const char *name)
{
	return equals_ignore_case(h->name, h->name_len, name);
}

/*
 * Finds the line starting at `pos` in buf[0..limit): PARSE_OK when its
 * CRLF is there, with the content (CRLF excluded) *line_len bytes long;
 * PARSE_ABSENT when the line runs to `limit` (including a CR as the last
 * byte, whose LF may be next); PARSE_INVALID for a bare CR or bare LF.
 */
static enum parse_result next_line(const char *buf, size_t limit, size_t pos,
				   size_t *line_len)
{
	const char *cr;
	size_t end;

	if (pos >= limit)
		return PARSE_ABSENT; /* also: memchr() must not get a NULL buf */
	cr = memchr(buf + pos, '\r', limit - pos);
	end = cr != NULL ? (size_t)(cr - buf) : limit;
	if (memchr(buf + pos, '\n', end - pos) != NULL)
		return PARSE_INVALID;
	if (cr == NULL || end + 1 == limit)
		return PARSE_ABSENT;
	if (buf[end + 1] != '\n')
		return PARSE_INVALID;
	*line_len = end - pos;
	return PARSE_OK;
}

/* `METHOD SP TARGET SP HTTP/1.x`, the CRLF already removed. */
static enum parse_result parse_request_line(const char *line, size_t len,
					    struct http_request_head *out)
{
	static const char version[] = " HTTP/1.";
	const size_t version_len = sizeof(version) - 1 + 1; /* + the minor */
	const char *space = memchr(line, ' ', len);
	const char *rest, *v;
	size_t rest_len, i;

	if (space == NULL || !is_token(line, (size_t)(space - line)))
		return PARSE_INVALID;
	out->method = line;
	out->method_len = (size_t)(space - line);

	rest = space + 1;
	rest_len = len - out->method_len - 1;
	if (rest_len < version_len + 1)
		return PARSE_INVALID;
	v = rest + rest_len - version_len;
	if (memcmp(v, version, version_len - 1) != 0)
		return PARSE_INVALID;
	if (v[version_len - 1] == '0')
		out->minor_version = 0;
	else if (v[version_len - 1] == '1')
		out->minor_version = 1;
	else
		return PARSE_INVALID;

	/* Visible ASCII only, so a second space anywhere is refused here. */
	out->target = rest;
	out->target_len = rest_len - version_len;
	if (out->target[0] != '/')
		return PARSE_INVALID;
	for (i = 0; i < out->target_len; i++) {
		unsigned char c = (unsigned char)out->target[i];

		if (c < 0x21 || c > 0x7e)
			return PARSE_INVALID;
	}
	return PARSE_OK;
}

/*
 * `NAME ":" OWS VALUE OWS`, the CRLF already removed. The name must end at
 * the colon: "Content-Length : 5" is refused, not read as Content-Length
 * (RFC 9112 section 5.1), and a line starting with SP or HTAB (obsolete
 * folding) fails the token check.
 */
static enum parse_result parse_header_line(const char *line, size_t len,
					   struct http_header *out)
{
	const char *colon = memchr(line, ':', len);
	const char *value;
	size_t value_len, i;

	if (colon == NULL || !is_token(line, (size_t)(colon - line)))
		return PARSE_INVALID;
	value = colon + 1;
	value_len = len - (size_t)(colon - line) - 1;
	for (i = 0; i < value_len; i++)
		if (!is_value_char((unsigned char)value[i]))
			return PARSE_INVALID;
	while (value_len > 0 && is_ows(value[0])) {
		value++;
		value_len--;
	}
	while (value_len > 0 && is_ows(value[value_len - 1]))
		value_len--;

	out->name = line;
	out->name_len = (size_t)(colon - line);
	out->value = value;
	out->value_len = value_len;
	return PARSE_OK;
}

/*
 * Reads the options of one Connection header value (RFC 9110 section 7.6.1:
 * a comma-separated list of tokens; empty elements are allowed and
 * skipped, section 5.6.1).
 */
static enum parse_result scan_connection(const struct http_header *h,
					 bool *wants_close,
					 bool *wants_keep_alive)
{
	const char *p = h->value, *end = h->value + h->value_len;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *elem_end = comma ? comma : end;
		size_t elem_len;

		while (p < elem_end && is_ows(*p))
			p++;
		elem_len = (size_t)(elem_end - p);
		while (elem_len > 0 && is_ows(p[elem_len - 1]))
			elem_len--;
		if (elem_len > 0) {
			if (!is_token(p, elem_len))
				return PARSE_INVALID;
			if (equals_ignore_case(p, elem_len, "close"))
				*wants_close = true;
			else if (equals_ignore_case(p, elem_len, "keep-alive"))
				*wants_keep_alive = true;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return PARSE_OK;
}

/*
 * The rules that span headers, once the head is complete: Host (RFC 9112
 * section 3.2), message framing (section 6) and persistence (section 9.3).
 */
static enum parse_result check_head(struct http_request_head *out)
{
	const struct http_header *content_length = NULL;
	bool transfer_encoding = false, wants_close = false;
	bool wants_keep_alive = false;
	size_t hosts = 0, i;

	for (i = 0; i < out->nheaders; i++) {
		const struct http_header *h = &out->headers[i];

		if (header_is(h, "content-length")) {
			/* Even an identical repeat is refused: section 6.3
			 * allows it, but nothing legitimate sends one. */
			if (content_length != NULL)
				return PARSE_INVALID;
			content_length = h;
		} else if (header_is(h, "transfer-encoding")) {
			transfer_encoding = true;
		} else if (header_is(h, "host")) {
			hosts++;
		} else if (header_is(h, "connection")) {
			if (scan_connection(h, &wants_close,
					    &wants_keep_alive) != PARSE_OK)
				return PARSE_INVALID;
		}
	}
	if (hosts > 1 || (hosts == 0 && out->minor_version == 1))
		return PARSE_INVALID;

	/* Both framings at once is the classic smuggling vector; and an
	 * HTTP/1.0 message with Transfer-Encoding has faulty framing
	 * (section 6.1). */
	if (transfer_encoding &&
	    (content_length != NULL || out->minor_version == 0))
		return PARSE_INVALID;
	if (content_length != NULL) {
		if (content_length->value_len == 0)
			return PARSE_INVALID;
		/* Digits only, compared to zero without conversion so that
		 * no length can overflow. */
		for (i = 0; i < content_length->value_len; i++) {
			char c = content_length->value[i];

			if (c < '0' || c > '9')
				return PARSE_INVALID;
			if (c != '0')
				out->has_body = true;
		}
	}
	if (transfer_encoding)
		out->has_body = true;

	if (wants_close)
		out->keep_alive = false;
	else
		out->keep_alive = out->minor_version == 1 || wants_keep_alive;
	return PARSE_OK;
}

static enum parse_result parse_head(const char *buf, size_t len,
				    struct http_request_head *out)
{
	/* Never look past HTTP_HEAD_MAX bytes, so a head that completes
	 * only after them is PARSE_TOO_LONG whatever follows. */
	size_t limit = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	size_t pos = 0, line_len = 0;
	enum parse_result r;

	for (;;) {
		r = next_line(buf, limit, pos, &line_len);
		if (r == PARSE_ABSENT)
			return len >= HTTP_HEAD_MAX ? PARSE_TOO_LONG
						    : PARSE_ABSENT;
		if (r != PARSE_OK)
			return r;
		if (pos == 0) {
			/* An empty first line fails here too: no leading
			 * CRLFs (see http.h). */
			r = parse_request_line(buf, line_len, out);
		} else if (line_len == 0) {
			out->head_len = pos + 2;
			return check_head(out);
		} else if (out->nheaders == HTTP_MAX_HEADERS) {
			return PARSE_TOO_LONG;
		} else {
			r = parse_header_line(buf + pos, line_len,
					      &out->headers[out->nheaders]);
			out->nheaders++;
		}
		if (r != PARSE_OK)
			return r;
		pos += line_len + 2;
	}
}

enum parse_result http_parse_request_head(const char *buf, size_t len,
					  struct http_request_head *out)
{
	enum parse_result r;

	memset(out, 0, sizeof(*out));
	r = parse_head(buf, len, out);
	if (r != PARSE_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

static const char *moved(const char *p, const char *from, const char *to)
{
	return p != NULL ? to + (p - from) : NULL;
}

void http_head_rebase(struct http_request_head *head, const char *from,
		      const char *to)
{
	head->method = moved(head->method, from, to);
	head->target = moved(head->target, from, to);
	for (size_t i = 0; i < head->nheaders; i++) {
		head->headers[i].name = moved(head->headers[i].name, from, to);
		head->headers[i].value = moved(head->headers[i].value, from, to);
	}
}

enum parse_result http_header_get(const struct http_request_head *head,
				  const char *name,
				  const struct http_header **out)
{
	const struct http_header *found = NULL;
	size_t i;

	*out = NULL;
	for (i = 0; i < head->nheaders; i++) {
		if (!header_is(&head->headers[i], name))
			continue;
		if (found != NULL)
			return PARSE_INVALID;
		found = &head->headers[i];
	}
	if (found == NULL)
		return PARSE_ABSENT;
	*out = found;
	return PARSE_OK;
}
