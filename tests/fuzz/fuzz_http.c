/*
 * http_parse_request_head() and http_header_get() over arbitrary bytes.
 *
 * Properties: the result is one of the four, and *out is all zero unless
 * PARSE_OK; PARSE_ABSENT only below HTTP_HEAD_MAX bytes and with no bare
 * CR or LF. On PARSE_OK the head ends in the blank line, holds exactly one
 * CRLF per line and no other CR or LF, every string lies inside it with no
 * CR or LF and the syntax promised (token method and names, '/' target,
 * trimmed values), and the rules across headers hold (one Host, one
 * Content-Length at most, never with Transfer-Encoding, has_body and
 * default keep_alive as specified).
 * A prefix never contradicts the whole: re-parsing buf[0..head_len) gives
 * the same head, shorter prefixes are PARSE_ABSENT, and a prefix that is
 * PARSE_INVALID or PARSE_TOO_LONG stays so with more bytes.
 * http_header_get() agrees with a plain count of the matching names. And
 * the smuggling guards: adding Content-Length plus Transfer-Encoding, or a
 * folded line, to a valid head never yields PARSE_OK.
 */
#include <string.h>

#include "fuzz.h"
#include "http.h"

/* The headers authgate and the framing rules look at. */
static const char *const header_names[] = {
	"host", "content-length", "transfer-encoding", "connection",
	"cookie", "x-original-uri", "x-original-method",
};

static bool is_all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Independent of http.c's helpers on purpose. */
static bool ascii_case_equal(const char *s, size_t len, const char *lit)
{
	size_t i;

	if (strlen(lit) != len)
		return false;
	for (i = 0; i < len; i++) {
		char a = s[i], b = lit[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static bool no_crlf(const char *s, size_t len)
{
	return memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL;
}

static bool is_token(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') ||
		      (c != 0 && memchr(extra, c, sizeof(extra) - 1))))
			return false;
	}
	return true;
}

/* Every LF follows a CR and every CR but a last byte precedes an LF: what
 * PARSE_ABSENT implies, since every line before the last is complete. */
static bool crlf_only(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return false;
		if (s[i] == '\r' && i + 1 < len && s[i + 1] != '\n')
			return false;
	}
	return true;
}

static enum parse_result parse_exact(const char *data, size_t len,
				     struct http_request_head *out)
{
	char *copy = fuzz_dup(data, len);
	enum parse_result r = http_parse_request_head(copy, len, out);

	/* Pointers into `copy` dangle from here: callers compare only
	 * results and lengths. */
	free(copy);
	return r;
}

static size_t count_named(const struct http_request_head *h,
			  const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < h->nheaders; i++)
		n += ascii_case_equal(h->headers[i].name,
				      h->headers[i].name_len, name);
	return n;
}

static void check_ok(const char *buf, size_t len,
		     const struct http_request_head *h)
{
	size_t i, hosts, content_lengths, transfer_encodings;
	bool body = false;

	FUZZ_ASSERT(h->head_len <= len && h->head_len <= HTTP_HEAD_MAX);
	FUZZ_ASSERT(h->head_len >= 4 &&
		    memcmp(buf + h->head_len - 4, "\r\n\r\n", 4) == 0);
	/* One CRLF per line: request line, headers, blank line. */
	FUZZ_ASSERT(fuzz_count(buf, h->head_len, '\n') == h->nheaders + 2);
	FUZZ_ASSERT(fuzz_count(buf, h->head_len, '\r') == h->nheaders + 2);

	FUZZ_ASSERT(h->method == buf);
	FUZZ_ASSERT(fuzz_within(buf, h->head_len, h->method, h->method_len));
	FUZZ_ASSERT(is_token(h->method, h->method_len));
	FUZZ_ASSERT(h->target == h->method + h->method_len + 1);
	FUZZ_ASSERT(fuzz_within(buf, h->head_len, h->target, h->target_len));
	FUZZ_ASSERT(h->target_len > 0 && h->target[0] == '/');
	FUZZ_ASSERT(memchr(h->target, ' ', h->target_len) == NULL);
	FUZZ_ASSERT(no_crlf(h->target, h->target_len));
	FUZZ_ASSERT(h->minor_version == 0 || h->minor_version == 1);
	FUZZ_ASSERT(h->nheaders <= HTTP_MAX_HEADERS);

	for (i = 0; i < h->nheaders; i++) {
		const struct http_header *hd = &h->headers[i];

		FUZZ_ASSERT(fuzz_within(buf, h->head_len, hd->name,
					hd->name_len));
		FUZZ_ASSERT(fuzz_within(buf, h->head_len, hd->value,
					hd->value_len));
		FUZZ_ASSERT(is_token(hd->name, hd->name_len));
		FUZZ_ASSERT(hd->name[hd->name_len] == ':');
		FUZZ_ASSERT(hd->name[-2] == '\r' && hd->name[-1] == '\n');
		FUZZ_ASSERT(no_crlf(hd->value, hd->value_len));
		FUZZ_ASSERT(hd->value > hd->name + hd->name_len);
		if (hd->value_len > 0) {
			char first = hd->value[0];
			char last = hd->value[hd->value_len - 1];

			FUZZ_ASSERT(first != ' ' && first != '\t');
			FUZZ_ASSERT(last != ' ' && last != '\t');
		}
		FUZZ_ASSERT(memchr(hd->value, '\0', hd->value_len) == NULL);
	}

	hosts = count_named(h, "host");
	FUZZ_ASSERT(hosts <= 1 && (hosts == 1 || h->minor_version == 0));
	content_lengths = count_named(h, "content-length");
	transfer_encodings = count_named(h, "transfer-encoding");
	FUZZ_ASSERT(content_lengths <= 1);
	FUZZ_ASSERT(content_lengths == 0 || transfer_encodings == 0);
	FUZZ_ASSERT(transfer_encodings == 0 || h->minor_version == 1);
	for (i = 0; i < h->nheaders; i++) {
		const struct http_header *hd = &h->headers[i];
		size_t j;

		if (!ascii_case_equal(hd->name, hd->name_len,
				      "content-length"))
			continue;
		FUZZ_ASSERT(hd->value_len > 0);
		for (j = 0; j < hd->value_len; j++) {
			FUZZ_ASSERT(hd->value[j] >= '0' && hd->value[j] <= '9');
			body |= hd->value[j] != '0';
		}
	}
	FUZZ_ASSERT(h->has_body == (body || transfer_encodings > 0));
	if (count_named(h, "connection") == 0)
		FUZZ_ASSERT(h->keep_alive == (h->minor_version == 1));

	for (i = 0; i < AG_ARRAY_LEN(header_names); i++) {
		const struct http_header *found = (const struct http_header *)1;
		size_t n = count_named(h, header_names[i]);
		enum parse_result r = http_header_get(h, header_names[i],
						      &found);

		if (n == 0) {
			FUZZ_ASSERT(r == PARSE_ABSENT && found == NULL);
		} else if (n == 1) {
			FUZZ_ASSERT(r == PARSE_OK && found != NULL);
			FUZZ_ASSERT(found >= h->headers &&
				    found < h->headers + h->nheaders);
			FUZZ_ASSERT(ascii_case_equal(found->name,
						     found->name_len,
						     header_names[i]));
		} else {
			FUZZ_ASSERT(r == PARSE_INVALID && found == NULL);
		}
	}
}

/* The head alone, in an exact copy, parses to the same head. */
static void check_reparse(const char *buf, const struct http_request_head *h)
{
	char *copy = fuzz_dup(buf, h->head_len);
	struct http_request_head again;
	size_t i;

	FUZZ_ASSERT(http_parse_request_head(copy, h->head_len, &again) ==
		    PARSE_OK);
	FUZZ_ASSERT(again.head_len == h->head_len);
	FUZZ_ASSERT(again.method_len == h->method_len);
	FUZZ_ASSERT(again.target - copy == h->target - buf);
	FUZZ_ASSERT(again.target_len == h->target_len);
	FUZZ_ASSERT(again.minor_version == h->minor_version);
	FUZZ_ASSERT(again.nheaders == h->nheaders);
	FUZZ_ASSERT(again.keep_alive == h->keep_alive);
	FUZZ_ASSERT(again.has_body == h->has_body);
	for (i = 0; i < h->nheaders; i++) {
		const struct http_header *a = &again.headers[i];
		const struct http_header *b = &h->headers[i];

		FUZZ_ASSERT(a->name - copy == b->name - buf);
		FUZZ_ASSERT(a->name_len == b->name_len);
		FUZZ_ASSERT(a->value - copy == b->value - buf);
		FUZZ_ASSERT(a->value_len == b->value_len);
	}
	free(copy);
}

/* buf[0..k) against the whole buffer's result `r` (and head, if OK). */
static void check_prefix(const char *buf, size_t k,
			 enum parse_result r,
			 const struct http_request_head *h)
{
	struct http_request_head ph;
	enum parse_result pr = parse_exact(buf, k, &ph);

	if (r == PARSE_OK && k < h->head_len)
		FUZZ_ASSERT(pr == PARSE_ABSENT);
	if (r == PARSE_OK && k >= h->head_len)
		FUZZ_ASSERT(pr == PARSE_OK && ph.head_len == h->head_len);
	if (r == PARSE_ABSENT)
		FUZZ_ASSERT(pr == PARSE_ABSENT);
	if (pr == PARSE_INVALID || pr == PARSE_TOO_LONG)
		FUZZ_ASSERT(r == pr);
	if (pr == PARSE_OK)
		FUZZ_ASSERT(r == PARSE_OK && h->head_len == ph.head_len);
}

/* A valid head with `extra` inserted at `at`; the new head's result. */
static enum parse_result parse_with_insert(const char *buf, size_t head_len,
					   size_t at, const char *extra)
{
	size_t extra_len = strlen(extra), new_len = head_len + extra_len;
	char *p = fuzz_alloc(new_len);
	struct http_request_head h;
	enum parse_result r;

	memcpy(p, buf, at);
	memcpy(p + at, extra, extra_len);
	memcpy(p + at + extra_len, buf + at, head_len - at);
	r = http_parse_request_head(p, new_len, &h);
	free(p);
	return r;
}

static void check_smuggling(const char *buf, const struct http_request_head *h)
{
	static const char framing[] =
		"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n";
	static const char fold[] = " x\r\n";
	size_t framing_len = sizeof(framing) - 1, fold_len = sizeof(fold) - 1;
	size_t line_end = (size_t)(h->target - buf) + h->target_len +
			  sizeof(" HTTP/1.x\r\n") - 1;
	enum parse_result r;

	/* Before the blank line: framing conflict, unless the head got too
	 * long (in header count or bytes) first. */
	r = parse_with_insert(buf, h->head_len, h->head_len - 2, framing);
	if (h->nheaders + 2 > HTTP_MAX_HEADERS ||
	    h->head_len + framing_len > HTTP_HEAD_MAX)
		FUZZ_ASSERT(r == PARSE_TOO_LONG);
	else
		FUZZ_ASSERT(r == PARSE_INVALID);

	/* A folded line right after the request line. */
	FUZZ_ASSERT(buf[line_end - 2] == '\r' && buf[line_end - 1] == '\n');
	r = parse_with_insert(buf, h->head_len, line_end, fold);
	FUZZ_ASSERT(r == (line_end + fold_len <= HTTP_HEAD_MAX
				  ? PARSE_INVALID
				  : PARSE_TOO_LONG));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	struct http_request_head head;
	enum parse_result r;

	memset(&head, 0xa5, sizeof(head));
	r = http_parse_request_head(buf, size, &head);
	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_ABSENT || r == PARSE_INVALID ||
		    r == PARSE_TOO_LONG);
	if (r != PARSE_OK)
		FUZZ_ASSERT(is_all_zero(&head, sizeof(head)));
	if (r == PARSE_ABSENT) {
		FUZZ_ASSERT(size < HTTP_HEAD_MAX);
		FUZZ_ASSERT(crlf_only(buf, size));
	}

	if (r == PARSE_OK) {
		check_ok(buf, size, &head);
		check_reparse(buf, &head);
		check_smuggling(buf, &head);
		if (head.head_len > 0)
			check_prefix(buf, head.head_len - 1, r, &head);
	}
	if (size > 0) {
		check_prefix(buf, size - 1, r, &head);
		check_prefix(buf, size / 2, r, &head);
	}
	free(buf);
	return 0;
}
