/*
 * proxy_list_parse() and proxy_client_addr() over arbitrary bytes: the
 * input is tried as a --trusted-proxies list and as an X-Forwarded-For
 * value.
 *
 * Properties: a list parses to OK with at most PROXY_NETS_MAX entries, or
 * fails with none; the client address is the direct peer itself, or a
 * slice of the header that holds no ',' or blank and is an address; an
 * untrusted peer's header is never used; every one of a parsed list's own
 * entries is inside that list.
 */
#include <string.h>

#include "fuzz.h"
#include "proxy.h"

static const char trusted_peer[] = "10.0.0.1", untrusted_peer[] = "203.0.113.9";

static void as_forwarded(const char *hdr, size_t len)
{
	struct proxy_list list, any;
	const char *out;
	size_t out_len;

	FUZZ_ASSERT(proxy_list_parse("10.0.0.0/8,2001:db8::/32", 24, &list) == PARSE_OK);
	FUZZ_ASSERT(proxy_list_parse("0.0.0.0/0 ::/0", 14, &any) == PARSE_OK);

	proxy_client_addr(&list, untrusted_peer, sizeof(untrusted_peer) - 1, hdr,
			  len, &out, &out_len);
	FUZZ_ASSERT(out == untrusted_peer);

	proxy_client_addr(&list, trusted_peer, sizeof(trusted_peer) - 1, hdr, len,
			  &out, &out_len);
	if (out != trusted_peer) {
		FUZZ_ASSERT(fuzz_within(hdr, len, out, out_len));
		FUZZ_ASSERT(memchr(out, ',', out_len) == NULL);
		FUZZ_ASSERT(memchr(out, ' ', out_len) == NULL);
		FUZZ_ASSERT(proxy_list_contains(&any, out, out_len));
	}
}

static void as_list(const char *text, size_t len)
{
	struct proxy_list list;
	enum parse_result r = proxy_list_parse(text, len, &list);

	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_INVALID || r == PARSE_TOO_LONG);
	FUZZ_ASSERT(list.count <= PROXY_NETS_MAX);
	FUZZ_ASSERT(r == PARSE_OK || list.count == 0);
	/* A plain address in the list (no '/') is inside it. */
	if (r == PARSE_OK && len < 64 && memchr(text, '/', len) == NULL &&
	    memchr(text, ',', len) == NULL && memchr(text, ' ', len) == NULL &&
	    memchr(text, '\t', len) == NULL && len > 0)
		FUZZ_ASSERT(proxy_list_contains(&list, text, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);

	as_list(text, size);
	as_forwarded(text, size);
	free(text);
	return 0;
}
