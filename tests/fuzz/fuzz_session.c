/*
 * session_token_hash() and session_bearer_hash() over arbitrary cookie
 * values and Authorization headers.
 *
 * Properties: a cookie value is accepted exactly when it is the canonical
 * base64url text of 32 bytes, and then its hash is SHA-256 of those bytes;
 * an Authorization value is PARSE_ABSENT exactly when it does not start
 * with "Bearer " (any case), and when accepted it is
 * "Bearer agt_" + a valid token whose hash it gives. The input is also
 * tried behind "Bearer agt_", so the token path is reached often.
 */
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "crypto.h"
#include "fuzz.h"
#include "session.h"

static const char bearer[] = "Bearer ";

/* Hash check of a cookie value, against b64url_decode() + SHA-256. */
static void check_token(const char *text, size_t len)
{
	uint8_t hash[SHA256_LEN], want[SHA256_LEN], raw[SESSION_TOKEN_BYTES];
	size_t raw_len = 0;
	bool decodes;
	enum parse_result r;

	r = session_token_hash(text, len, hash);
	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_INVALID);
	decodes = len == SESSION_TOKEN_LEN &&
		  b64url_decode(text, len, raw, sizeof(raw), &raw_len) ==
			  PARSE_OK &&
		  raw_len == SESSION_TOKEN_BYTES;
	FUZZ_ASSERT((r == PARSE_OK) == decodes);
	if (r == PARSE_OK) {
		crypto_sha256(raw, sizeof(raw), want);
		FUZZ_ASSERT(memcmp(hash, want, SHA256_LEN) == 0);
	}
}

static void check_bearer(const char *header, size_t len)
{
	size_t scheme_len = sizeof(bearer) - 1;
	size_t prefix_len = scheme_len + strlen(API_TOKEN_PREFIX);
	uint8_t hash[SHA256_LEN], want[SHA256_LEN];
	bool is_bearer = len >= scheme_len &&
			 strncasecmp(header, bearer, scheme_len) == 0;
	enum parse_result r;

	r = session_bearer_hash(header, len, hash);
	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_ABSENT || r == PARSE_INVALID);
	FUZZ_ASSERT((r == PARSE_ABSENT) == !is_bearer);
	if (r != PARSE_OK)
		return;
	FUZZ_ASSERT(len >= prefix_len &&
		    memcmp(header + scheme_len, API_TOKEN_PREFIX,
			   prefix_len - scheme_len) == 0);
	FUZZ_ASSERT(session_token_hash(header + prefix_len, len - prefix_len,
				       want) == PARSE_OK);
	FUZZ_ASSERT(memcmp(hash, want, SHA256_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size), *header;
	size_t len;

	check_token(text, size);
	check_bearer(text, size);

	header = fuzz_prefixed("Bearer " API_TOKEN_PREFIX, data, size, &len);
	check_bearer(header, len);
	free(header);
	free(text);
	return 0;
}
