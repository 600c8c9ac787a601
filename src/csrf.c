#include "csrf.h"

#include <string.h>

#include "b64.h"
#include "crypto.h"

int csrf_cookie_new(char value[CSRF_TOKEN_LEN + 1])
{
	uint8_t unused_hash[SHA256_LEN];

	return session_token_new(value, unused_hash);
}

enum parse_result csrf_form_token(const uint8_t key[CSRF_KEY_LEN],
				  const char *cookie, size_t cookie_len,
				  char out[CSRF_TOKEN_LEN + 1])
{
	/* The domain label keeps this MAC apart from any other use of the key. */
	static const char label[] = "authgate-csrf-v1:";
	uint8_t message[sizeof(label) - 1 + CSRF_TOKEN_LEN];
	uint8_t mac[SHA256_LEN];
	uint8_t unused_hash[SHA256_LEN];

	if (session_token_hash(cookie, cookie_len, unused_hash) != PARSE_OK)
		return PARSE_INVALID;
	memcpy(message, label, sizeof(label) - 1);
	memcpy(message + sizeof(label) - 1, cookie, cookie_len);
	crypto_hmac_sha256(key, CSRF_KEY_LEN, message,
			   sizeof(label) - 1 + cookie_len, mac);
	return b64url_encode(mac, sizeof(mac), out, CSRF_TOKEN_LEN + 1);
}

bool csrf_verify(const uint8_t key[CSRF_KEY_LEN], const char *cookie,
		 size_t cookie_len, const char *form_token,
		 size_t form_token_len)
{
	char expected[CSRF_TOKEN_LEN + 1];

	if (form_token_len != CSRF_TOKEN_LEN ||
	    csrf_form_token(key, cookie, cookie_len, expected) != PARSE_OK)
		return false;
	return crypto_equal(expected, form_token, CSRF_TOKEN_LEN);
}

static bool origin_is(struct str origin, const char *scheme, struct str host)
{
	size_t scheme_len = strlen(scheme);

	return origin.len == scheme_len + host.len &&
	       memcmp(origin.ptr, scheme, scheme_len) == 0 &&
	       memcmp(origin.ptr + scheme_len, host.ptr, host.len) == 0;
}

bool csrf_same_origin(const struct request *req, bool secure)
{
	if (req->sec_fetch_site.ptr != NULL &&
	    !str_eq(req->sec_fetch_site, "same-origin") &&
	    !str_eq(req->sec_fetch_site, "none"))
		return false;
	if (req->origin.ptr == NULL)
		return true;
	if (req->host.ptr == NULL || req->host.len == 0)
		return false;
	if (origin_is(req->origin, "https://", req->host))
		return true;
	return !secure && origin_is(req->origin, "http://", req->host);
}
