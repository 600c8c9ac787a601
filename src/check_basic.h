/*
 * HTTP Basic for /auth/check on locations with `set $authgate_basic on;`
 * (clients without cookies: git, WebDAV, scripts). A verified user:password
 * is remembered in ctx->basic_cache under an HMAC of the credentials with
 * the per-process ctx->basic_key, for --basic-cache-ttl seconds, so the
 * password is not hashed on every request; NOTIFY user:<id> (password
 * change, disable, delete, roles) drops it at once.
 */
#ifndef AUTHGATE_CHECK_BASIC_H
#define AUTHGATE_CHECK_BASIC_H

#include <stdbool.h>

#include "handler.h"

/*
 * False when Basic does not apply (no $authgate_basic, or no Basic
 * Authorization header): identify by token or cookie instead. Otherwise
 * true, with `*result`:
 *   AUTH_OK     `out` is the user (authenticated_at: now);
 *   AUTH_NONE   malformed, wrong, unknown, disabled, or locked (then
 *               `resp` carries X-Authgate-Reason: locked and
 *               X-Authgate-Retry-After);
 *   AUTH_ERROR  the database did not answer.
 * On a cache miss away from a hashing thread it sets ctx->defer, and
 * `resp` holds the answer for when the hashers are busy (401, reason
 * "busy").
 */
bool check_basic(const struct request *req, struct handler_ctx *ctx,
		 struct response *resp, struct identity *out,
		 enum auth_result *result) AG_MUST_CHECK;

#endif
