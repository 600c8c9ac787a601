#include "verify.h"

#include <stdio.h>

#include "log.h"
#include "metrics.h"
#include "hashing.h"

static void record_failure(const struct request *req, struct handler_ctx *ctx,
			   const struct verify_attempt *a, const char *reason)
{
	char detail[32];

	snprintf(detail, sizeof(detail), "%s%s", a->reason_prefix, reason);
	if (db_login_failure(ctx->db, a->username, detail, a->client->addr,
			     a->client->agent) != DB_OK)
		log_event(LOG_WARN, req->id, "login_failure_not_recorded",
			  "method", a->method, "user", a->username, NULL);
	log_event(LOG_INFO, req->id, "login_failure", "method", a->method,
		  "user", a->username, "ip", a->client->addr, "reason", reason,
		  NULL);
}

/* Replaces a bcrypt or old-parameter hash after a successful check
 * (compare-and-set: a concurrent set_password wins). */
static void upgrade_hash(const struct request *req, struct handler_ctx *ctx,
			 const struct verify_attempt *a, struct login_user *user)
{
	char fresh[PASSWORD_HASH_MAX];

	if (hashing_hash(a->password, a->password_len, fresh, sizeof(fresh)) != 0 ||
	    db_rehash(ctx->db, user->user_id, user->password_hash, fresh) != DB_OK) {
		log_event(LOG_WARN, req->id, "password_rehash_failed", "user",
			  a->username, NULL);
		return;
	}
	log_event(LOG_INFO, req->id, "password_rehashed", "user", a->username,
		  NULL);
	snprintf(user->password_hash, sizeof(user->password_hash), "%s", fresh);
}

enum verify_result verify_password(const struct request *req,
				   struct handler_ctx *ctx,
				   const struct verify_attempt *a,
				   struct login_user *user, long *retry_after)
{
	enum password_verdict verdict;
	enum db_result found;

	/* Brute-force regulation: --login-max-failures within --login-window
	 * lock the account (or the address) for --login-lockout. */
	if (db_login_throttle(ctx->db, a->username, a->client->addr,
			      a->client->agent, ctx->cfg->login_window,
			      ctx->cfg->login_lockout,
			      ctx->cfg->login_max_failures,
			      ctx->cfg->login_max_address_failures,
			      retry_after) != DB_OK)
		return VERIFY_ERROR;
	if (*retry_after > 0) {
		char seconds[24];

		snprintf(seconds, sizeof(seconds), "%ld", *retry_after);
		log_event(LOG_INFO, req->id, "login_locked", "method", a->method,
			  "user", a->username, "ip", a->client->addr,
			  "retry_after", seconds, NULL);
		metrics_lockout();
		return VERIFY_LOCKED;
	}
	found = db_user_for_login(ctx->db, a->username, user);
	if (found == DB_ERROR)
		return VERIFY_ERROR;
	/* Unknown users pay the same argon2 work as a wrong password. */
	if (found == DB_NOT_FOUND) {
		hashing_burn(a->password, a->password_len);
		record_failure(req, ctx, a, "unknown_user");
		return VERIFY_FAILED;
	}
	verdict = hashing_verify(user->password_hash, a->password,
				  a->password_len);
	if (verdict == PASSWORD_ERROR)
		log_event(LOG_ERROR, req->id, "unknown_hash_format", "user",
			  a->username, NULL);
	if (verdict != PASSWORD_MATCH && verdict != PASSWORD_MATCH_REHASH) {
		record_failure(req, ctx, a, "bad_password");
		return VERIFY_FAILED;
	}
	if (user->disabled) {
		record_failure(req, ctx, a, "disabled");
		return VERIFY_FAILED;
	}
	if (verdict == PASSWORD_MATCH_REHASH)
		upgrade_hash(req, ctx, a, user);
	return VERIFY_OK;
}
