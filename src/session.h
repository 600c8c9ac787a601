/* Session and API tokens: creation and the hashes the database stores. */
#ifndef AUTHGATE_SESSION_H
#define AUTHGATE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "common.h"
#include "crypto.h"

#define SESSION_TOKEN_BYTES 32 /* 256 bits from the kernel CSPRNG */
#define SESSION_TOKEN_LEN B64URL_LEN(SESSION_TOKEN_BYTES) /* 43 characters */
#define API_TOKEN_PREFIX "agt_"

/*
 * A fresh token: `cookie_value` gets its base64url text (NUL-terminated),
 * `hash` the SHA-256 of the raw bytes, which is all the database sees.
 * 0 or -1 (no randomness).
 */
int session_token_new(char cookie_value[SESSION_TOKEN_LEN + 1],
		      uint8_t hash[SHA256_LEN]) AG_MUST_CHECK;

/*
 * Hash of a token given as text (a cookie value): PARSE_INVALID unless it
 * is exactly SESSION_TOKEN_LEN base64url characters.
 */
enum parse_result session_token_hash(const char *text, size_t len,
				     uint8_t hash[SHA256_LEN]) AG_MUST_CHECK;

/*
 * Hash of the API token in an Authorization header value
 * "Bearer agt_<43 chars>" (scheme case-insensitive, one space).
 * PARSE_ABSENT when the header is not a Bearer one, PARSE_INVALID when the
 * token is malformed.
 */
enum parse_result session_bearer_hash(const char *header, size_t len,
				      uint8_t hash[SHA256_LEN]) AG_MUST_CHECK;

/*
 * Session protection's fingerprint of a client: SHA-256 of its user agent
 * and its network (IPv4 /24, IPv6 /64), so that moving within one network
 * (DHCP, privacy addresses) keeps it, while another browser or network
 * changes it. An address that does not parse counts as itself.
 */
void session_fingerprint(const char *user_agent, size_t ua_len,
			 const char *addr, size_t addr_len,
			 uint8_t out[SHA256_LEN]);

#endif
