/* HTTP Basic credentials (RFC 7617). */
#include "basic.h"

#include <string.h>
#include <strings.h>

static const char scheme[] = "Basic ";

enum parse_result basic_parse(const char *header, size_t len,
			      struct basic_credentials *out)
{
	const size_t scheme_len = sizeof(scheme) - 1;
	uint8_t decoded[B64_DECODED_MAX(BASIC_ENCODED_MAX)];
	const char *text = (const char *)decoded, *colon;
	size_t decoded_len = 0, user_len, pass_len;
	enum parse_result r;

	memset(out, 0, sizeof(*out));
	if (len < scheme_len || strncasecmp(header, scheme, scheme_len) != 0)
		return PARSE_ABSENT;
	header += scheme_len;
	len -= scheme_len;
	if (len > BASIC_ENCODED_MAX)
		return PARSE_TOO_LONG;
	r = b64_decode(header, len, decoded, sizeof(decoded), &decoded_len);
	if (r != PARSE_OK)
		goto out;
	r = PARSE_INVALID;
	colon = memchr(text, ':', decoded_len);
	if (colon == NULL)
		goto out;
	user_len = (size_t)(colon - text);
	pass_len = decoded_len - user_len - 1;
	if (user_len > USERNAME_MAX_LEN || pass_len > PASSWORD_MAX_LEN) {
		r = PARSE_TOO_LONG;
		goto out;
	}
	if (!validate_username(text, user_len) ||
	    !validate_password(colon + 1, pass_len) ||
	    !validate_utf8(colon + 1, pass_len))
		goto out;
	memcpy(out->username, text, user_len);
	out->username_len = user_len;
	memcpy(out->password, colon + 1, pass_len);
	out->password_len = pass_len;
	r = PARSE_OK;
out:
	explicit_bzero(decoded, sizeof(decoded));
	return r;
}
