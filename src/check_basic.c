#include "check_basic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic.h"
#include "log.h"
#include "verify.h"

/* The cache key: HMAC-SHA256 under the process's random key of the
 * username, a NUL (which no username holds) and the password. Without the
 * key it says nothing about the password, and it dies with the process. */
static void credentials_key(const struct handler_ctx *ctx,
			    const struct basic_credentials *c,
			    uint8_t key[SHA256_LEN])
{
	char text[sizeof(c->username) + sizeof(c->password)];
	size_t len = c->username_len + 1 + c->password_len;

	memcpy(text, c->username, c->username_len + 1);
	memcpy(text + c->username_len + 1, c->password, c->password_len);
	crypto_hmac_sha256(ctx->basic_key, BASIC_KEY_LEN, text, len, key);
	explicit_bzero(text, sizeof(text));
}

static void refuse_locked(struct response *resp, long retry_after)
{
	char seconds[24];

	snprintf(seconds, sizeof(seconds), "%ld", retry_after);
	response_header(resp, "X-Authgate-Reason", "locked", 6);
	response_header(resp, "X-Authgate-Retry-After", seconds, strlen(seconds));
}

/* The password check proper, on a hashing thread. */
static enum auth_result verify(const struct request *req,
			       struct handler_ctx *ctx,
			       const struct basic_credentials *c,
			       const uint8_t key[SHA256_LEN],
			       struct response *resp, struct identity *out)
{
	/* Read before the user's hash is: an invalidation that overtakes
	 * this check keeps its answer out of the cache. */
	uint64_t epoch = ctx->basic_cache ? cache_epoch(ctx->basic_cache) : 0;
	struct client_info client;
	struct login_user user;
	long retry_after = 0;
	enum db_result r = DB_NOT_FOUND;

	handler_client_info(req, &client);
	/* The user may change between the hash being read and the success
	 * being recorded (set_password, disable_user, or another check
	 * upgrading a bcrypt hash at the same moment): then check once more
	 * against what is stored now. */
	for (int attempt = 0; attempt < 2 && r == DB_NOT_FOUND; attempt++) {
		switch (verify_password(req, ctx,
					&(struct verify_attempt){
						.username = c->username,
						.password = c->password,
						.password_len = c->password_len,
						.method = "basic",
						.reason_prefix = "basic_",
						.client = &client,
					},
					&user, &retry_after)) {
		case VERIFY_ERROR:
			return AUTH_ERROR;
		case VERIFY_LOCKED:
			refuse_locked(resp, retry_after);
			return AUTH_NONE;
		case VERIFY_FAILED:
			return AUTH_NONE;
		case VERIFY_OK:
			break;
		}
		/* Only if the hash just verified is still the user's, and
		 * the user still enabled. */
		r = db_basic_login(ctx->db, user.user_id, user.password_hash,
				   client.addr, client.agent, out);
		explicit_bzero(user.password_hash, sizeof(user.password_hash));
	}
	if (r != DB_OK)
		return r == DB_ERROR ? AUTH_ERROR : AUTH_NONE;
	if (ctx->basic_cache != NULL)
		cache_put(ctx->basic_cache, key, out, (int64_t)time(NULL), epoch);
	log_event(LOG_INFO, req->id, "basic_login", "user", c->username, NULL);
	return AUTH_OK;
}

bool check_basic(const struct request *req, struct handler_ctx *ctx,
		 struct response *resp, struct identity *out,
		 enum auth_result *result)
{
	struct basic_credentials creds;
	uint8_t key[SHA256_LEN] = {0};
	int64_t now = (int64_t)time(NULL);
	enum parse_result p;

	if (!str_eq(req->basic, "on") || req->authorization.ptr == NULL)
		return false;
	p = basic_parse(req->authorization.ptr, req->authorization.len, &creds);
	if (p == PARSE_ABSENT)
		return false;
	*result = AUTH_NONE;
	if (p != PARSE_OK) {
		log_event(LOG_INFO, req->id, "basic_malformed", NULL);
		return true;
	}
	if (ctx->basic_cache != NULL)
		credentials_key(ctx, &creds, key);
	if (ctx->basic_cache != NULL &&
	    cache_get(ctx->basic_cache, ctx->cache_round, key, now,
		      out)) {
		*result = AUTH_OK;
	} else if (!ctx->on_hasher) {
		ctx->defer = true;
		response_header(resp, "X-Authgate-Reason", "busy", 4);
		resp->status = 401;
	} else {
		*result = verify(req, ctx, &creds, key, resp, out);
	}
	/* The password came with this very request: Basic is always a
	 * fresh proof ($authgate_fresh). */
	out->authenticated_at = now;
	out->stale = false;
	explicit_bzero(&creds, sizeof(creds));
	return true;
}
