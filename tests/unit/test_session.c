#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "session.h"

#define S_BASIC "Basic dXNlcjpwYXNz"

Test(session, new_token_is_43_base64url_chars_and_hash_matches)
{
	char cookie[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SHA256_LEN], again[SHA256_LEN], raw[SESSION_TOKEN_BYTES];
	size_t raw_len;

	cr_assert_eq(session_token_new(cookie, hash), 0);
	cr_assert_eq(strlen(cookie), 43);
	cr_assert_eq(b64url_decode(cookie, 43, raw, sizeof(raw), &raw_len), PARSE_OK);
	cr_assert_eq(raw_len, 32);
	crypto_sha256(raw, raw_len, again);
	cr_assert(memcmp(hash, again, SHA256_LEN) == 0,
		  "the database gets SHA-256 of the raw token bytes");
	cr_assert_eq(session_token_hash(cookie, 43, again), PARSE_OK);
	cr_assert(memcmp(hash, again, SHA256_LEN) == 0);
}

Test(session, tokens_differ)
{
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	uint8_t ha[SHA256_LEN], hb[SHA256_LEN];

	cr_assert_eq(session_token_new(a, ha), 0);
	cr_assert_eq(session_token_new(b, hb), 0);
	cr_assert_str_neq(a, b);
	cr_assert(memcmp(ha, hb, SHA256_LEN) != 0);
}

Test(session, malformed_cookie_values_are_invalid)
{
	static const char *const bad[] = {
		"",
		"short",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 42 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 44 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",  /* '+' */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  /* padding */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",  /* bits set */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ",
	};
	uint8_t hash[SHA256_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(session_token_hash(bad[i], strlen(bad[i]), hash),
			     PARSE_INVALID, "case %zu", i);
	cr_assert_eq(session_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					43, hash), PARSE_OK);
}

Test(session, bearer_header_forms)
{
	static const char token[] = "agt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char header[128];
	uint8_t hash[SHA256_LEN], expected[SHA256_LEN];

	cr_assert_eq(session_token_hash(token + 4, 43, expected), PARSE_OK);
	snprintf(header, sizeof(header), "Bearer %s", token);
	cr_assert_eq(session_bearer_hash(header, strlen(header), hash), PARSE_OK);
	cr_assert(memcmp(hash, expected, SHA256_LEN) == 0);
	snprintf(header, sizeof(header), "bearer %s", token);
	cr_assert_eq(session_bearer_hash(header, strlen(header), hash), PARSE_OK);
	cr_assert_eq(session_bearer_hash(S_BASIC, strlen(S_BASIC), hash),
		     PARSE_ABSENT);
	cr_assert_eq(session_bearer_hash("Bearer", 6, hash), PARSE_ABSENT);
	cr_assert_eq(session_bearer_hash("Bearer ", 7, hash), PARSE_INVALID);
	snprintf(header, sizeof(header), "Bearer %s", token + 4);
	cr_assert_eq(session_bearer_hash(header, strlen(header), hash),
		     PARSE_INVALID, "the agt_ prefix is required");
	snprintf(header, sizeof(header), "Bearer  %s", token);
	cr_assert_eq(session_bearer_hash(header, strlen(header), hash),
		     PARSE_INVALID, "exactly one space");
	snprintf(header, sizeof(header), "Bearer %sA", token);
	cr_assert_eq(session_bearer_hash(header, strlen(header), hash),
		     PARSE_INVALID);
}
