#include "session.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int session_token_new(char cookie_value[SESSION_TOKEN_LEN + 1],
		      uint8_t hash[SHA256_LEN])
{
	uint8_t token[SESSION_TOKEN_BYTES];

	if (crypto_random(token, sizeof(token)) != 0)
		return -1;
	if (b64url_encode(token, sizeof(token), cookie_value,
			  SESSION_TOKEN_LEN + 1) != PARSE_OK)
		return -1;
	crypto_sha256(token, sizeof(token), hash);
	return 0;
}

enum parse_result session_token_hash(const char *text, size_t len,
				     uint8_t hash[SHA256_LEN])
{
	uint8_t token[SESSION_TOKEN_BYTES];
	size_t token_len;

	if (len != SESSION_TOKEN_LEN ||
	    b64url_decode(text, len, token, sizeof(token), &token_len) !=
		    PARSE_OK ||
	    token_len != SESSION_TOKEN_BYTES)
		return PARSE_INVALID;
	crypto_sha256(token, sizeof(token), hash);
	return PARSE_OK;
}

enum parse_result session_bearer_hash(const char *header, size_t len,
				      uint8_t hash[SHA256_LEN])
{
	static const char scheme[] = "Bearer ";
	const size_t scheme_len = sizeof(scheme) - 1;
	const size_t prefix_len = strlen(API_TOKEN_PREFIX);

	if (len < scheme_len || strncasecmp(header, scheme, scheme_len) != 0)
		return PARSE_ABSENT;
	header += scheme_len;
	len -= scheme_len;
	if (len < prefix_len || memcmp(header, API_TOKEN_PREFIX, prefix_len) != 0)
		return PARSE_INVALID;
	return session_token_hash(header + prefix_len, len - prefix_len, hash);
}

void session_fingerprint(const char *user_agent, size_t ua_len,
			 const char *addr, size_t addr_len,
			 uint8_t out[SHA256_LEN])
{
	char text[64], network[80];
	unsigned char bytes[16];
	uint8_t buf[SHA256_LEN * 2];

	snprintf(text, sizeof(text), "%.*s", (int)addr_len, addr);
	if (inet_pton(AF_INET, text, bytes) == 1) {
		snprintf(network, sizeof(network), "%u.%u.%u.0/24", bytes[0],
			 bytes[1], bytes[2]);
	} else if (inet_pton(AF_INET6, text, bytes) == 1) {
		memset(bytes + 8, 0, 8);
		inet_ntop(AF_INET6, bytes, network, sizeof(network));
		strcat(network, "/64");
	} else {
		snprintf(network, sizeof(network), "%s", text);
	}
	/* Hash each part first, so no choice of user agent can imitate
	 * another split between the two. */
	crypto_sha256(user_agent, ua_len, buf);
	crypto_sha256(network, strlen(network), buf + SHA256_LEN);
	crypto_sha256(buf, sizeof(buf), out);
}
