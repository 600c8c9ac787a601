#include "handler.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cookie.h"
#include "form.h"
#include "json.h"
#include "log.h"
#include "pages.h"
#include "redirect.h"
#include "session.h"
#include "validate.h"

bool handler_copy(struct str s, char *out, size_t cap)
{
	if (s.ptr == NULL || s.len >= cap) {
		out[0] = '\0';
		return false;
	}
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return true;
}

void handler_safe_next(const char *candidate, size_t len, char *out,
		       size_t cap)
{
	if (len > 0 && len < cap && redirect_is_local(candidate, len)) {
		memcpy(out, candidate, len);
		out[len] = '\0';
	} else {
		strcpy(out, "/");
	}
}

static bool is_form_content_type(struct str ct)
{
	static const char form_type[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form_type) - 1;

	return ct.ptr != NULL && ct.len >= n &&
	       strncasecmp(ct.ptr, form_type, n) == 0 &&
	       (ct.len == n || ct.ptr[n] == ';' || ct.ptr[n] == ' ');
}

bool handler_form_body(const struct request *req, struct response *resp,
		       size_t max)
{
	if (!is_form_content_type(req->content_type)) {
		resp->status = 415;
		pages_message(resp, "Unsupported form",
			      "The form must be posted as "
			      "application/x-www-form-urlencoded.");
		return false;
	}
	if (req->body.len > max ||
	    form_validate(req->body.ptr ? req->body.ptr : "", req->body.len) !=
		    PARSE_OK) {
		resp->status = req->body.len > max ? 413 : 400;
		pages_message(resp, "Bad request", "The form is malformed.");
		return false;
	}
	return true;
}

void handler_see_other(struct response *resp, const char *location)
{
	response_header(resp, "Location", location, strlen(location));
	response_header(resp, "Cache-Control", "no-store", 8);
	resp->status = 303;
}

int handler_start_session(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx, int64_t user_id,
			  bool remember, const struct client_info *client,
			  const char *next)
{
	char cookie[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SHA256_LEN], fingerprint[SHA256_LEN];
	struct cookie_spec spec;
	int status = -1;

	handler_fingerprint(req, fingerprint);
	if (session_token_new(cookie, hash) == 0 &&
	    db_login_success(ctx->db, user_id, hash,
			     remember ? ctx->cfg->remember_lifetime
				      : ctx->cfg->session_lifetime,
			     remember, client->addr, client->agent,
			     fingerprint) == DB_OK) {
		spec = handler_session_cookie(
			ctx->cfg, remember ? ctx->cfg->remember_lifetime : -1);
		response_set_cookie(resp, &spec, cookie);
		handler_see_other(resp, next);
		status = 0;
	}
	explicit_bzero(cookie, sizeof(cookie));
	return status;
}

const char *handler_new_password_problem(const char *password, size_t len,
					 const char *again, size_t again_len)
{
	if (!validate_new_password(password, len))
		return "The new password must be at least 8 characters long.";
	if (len != again_len || memcmp(password, again, len) != 0)
		return "The new passwords do not match.";
	return NULL;
}

void handler_locked(struct response *resp, long retry_after, char *message,
		    size_t cap)
{
	char seconds[24];
	long minutes = (retry_after + 59) / 60;

	snprintf(seconds, sizeof(seconds), "%ld", retry_after);
	snprintf(message, cap,
		 "Too many failed attempts. Try again in %ld minute%s.", minutes,
		 minutes == 1 ? "" : "s");
	resp->status = 429;
	response_header(resp, "Retry-After", seconds, strlen(seconds));
}

bool handler_form_csrf_ok(const struct request *req, struct handler_ctx *ctx)
{
	char token[CSRF_TOKEN_LEN + 2];
	size_t len = 0;
	enum parse_result r = form_get(req->body.ptr ? req->body.ptr : "",
				       req->body.len, "csrf_token", token,
				       sizeof(token), &len);

	return handler_csrf_ok(req, ctx,
			       (struct str){r == PARSE_OK ? token : NULL, len});
}

void handler_client_info(const struct request *req, struct client_info *out)
{
	size_t len = req->user_agent.len;

	handler_copy(req->remote_addr, out->addr, sizeof(out->addr));
	out->agent[0] = '\0';
	if (req->user_agent.ptr == NULL)
		return;
	if (len >= sizeof(out->agent)) {
		len = sizeof(out->agent) - 1;
		/* Cut before a UTF-8 continuation byte, not inside a character. */
		while (len > 0 && ((unsigned char)req->user_agent.ptr[len] & 0xc0) == 0x80)
			len--;
	}
	/* PostgreSQL refuses text that is not UTF-8; record none then. */
	if (validate_utf8(req->user_agent.ptr, len)) {
		memcpy(out->agent, req->user_agent.ptr, len);
		out->agent[len] = '\0';
	}
}

void handler_fingerprint(const struct request *req, uint8_t out[SHA256_LEN])
{
	session_fingerprint(req->user_agent.ptr ? req->user_agent.ptr : "",
			    req->user_agent.len,
			    req->remote_addr.ptr ? req->remote_addr.ptr : "",
			    req->remote_addr.len, out);
}

void handler_json_error(struct response *resp, int status, const char *code,
			const char *message)
{
	resp->status = status;
	resp->content_type = "application/json";
	response_header(resp, "Cache-Control", "no-store", 8);
	buf_append_str(&resp->body, "{\"error\":");
	json_string(&resp->body, code, strlen(code));
	buf_append_str(&resp->body, ",\"message\":");
	json_string(&resp->body, message, strlen(message));
	buf_append_str(&resp->body, "}\n");
}

/* A session or API token by its hash: from the cache when it holds a
 * recent answer, else from the database (and then cached). */
static enum auth_result identify_hash(struct handler_ctx *ctx,
				      const uint8_t hash[SHA256_LEN], bool token,
				      bool touch, struct identity *out)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t epoch = 0;
	/* A passive check asks for a touch interval no session reaches, so
	 * it records no activity. */
	long touch_seconds = touch ? ctx->cfg->touch_interval
				   : ctx->cfg->session_idle + 1;
	struct session_lookup *lookup = token ? NULL : ctx->lookup;
	enum db_result r;

	if (ctx->cache != NULL) {
		if (cache_get(ctx->cache, ctx->cache_round, hash, now, out))
			return AUTH_OK;
		epoch = cache_epoch(ctx->cache);
	}
	if (lookup != NULL && !lookup->done) {
		lookup->wanted = true;
		lookup->cache_epoch = epoch;
		memcpy(lookup->check.token_hash, hash, SHA256_LEN);
		lookup->check.touch_seconds = touch_seconds;
		return AUTH_ERROR; /* no answer yet: handler_waiting() */
	}
	if (lookup != NULL &&
	    memcmp(lookup->check.token_hash, hash, SHA256_LEN) == 0 &&
	    lookup->check.touch_seconds == touch_seconds) {
		/* The epoch from before the question: an invalidation that
		 * came while it was asked keeps the answer out of the cache. */
		epoch = lookup->cache_epoch;
		r = lookup->check.result;
		if (r == DB_OK)
			*out = lookup->check.id;
	} else if (token) {
		r = db_check_api_token(ctx->db, hash, out);
	} else {
		r = db_check_session(ctx->db, hash, ctx->cfg->session_idle,
				     touch_seconds, out);
	}
	if (r == DB_ERROR)
		return AUTH_ERROR;
	if (r == DB_NOT_FOUND)
		return AUTH_NONE;
	/* Only a touching check caches: the entry's expiry is what makes
	 * the next re-check (and activity write) happen on time. */
	if (ctx->cache != NULL && touch)
		cache_put(ctx->cache, hash, out, now, epoch);
	return AUTH_OK;
}

bool handler_session_hash(const struct request *req, struct handler_ctx *ctx,
			  uint8_t hash[SHA256_LEN])
{
	const char *value;
	size_t value_len;

	return req->cookie.ptr != NULL &&
	       cookie_get(req->cookie.ptr, req->cookie.len, ctx->cfg->cookie_name,
			  &value, &value_len) == PARSE_OK &&
	       session_token_hash(value, value_len, hash) == PARSE_OK;
}

/*
 * Session protection (Flask-Login's): a session used by a client whose
 * fingerprint differs from the one at login is marked not fresh (basic)
 * or ended (strong). AUTH_NONE when it ended.
 */
static enum auth_result protect_session(const struct request *req,
					struct handler_ctx *ctx,
					const uint8_t hash[SHA256_LEN],
					struct identity *id)
{
	enum session_protection mode = ctx->cfg->session_protection;
	struct client_info client;
	uint8_t fingerprint[SHA256_LEN];

	if (mode == PROTECTION_OFF || !id->has_fingerprint)
		return AUTH_OK;
	handler_fingerprint(req, fingerprint);
	if (crypto_equal(fingerprint, id->fingerprint, SHA256_LEN))
		return AUTH_OK;
	if (mode == PROTECTION_STRONG || !id->stale) {
		handler_client_info(req, &client);
		if (db_session_mismatch(ctx->db, hash, mode == PROTECTION_STRONG,
					client.addr, client.agent) != DB_OK)
			return AUTH_ERROR;
		if (ctx->cache != NULL)
			cache_drop_key(ctx->cache, hash);
		log_event(LOG_INFO, req->id, "session_other_client", "user",
			  id->username, "ip", client.addr, "action",
			  mode == PROTECTION_STRONG ? "ended" : "not_fresh",
			  NULL);
	}
	if (mode == PROTECTION_STRONG)
		return AUTH_NONE;
	id->stale = true;
	return AUTH_OK;
}

enum auth_result handler_current_session(const struct request *req,
					 struct handler_ctx *ctx, bool touch,
					 uint8_t hash[SHA256_LEN],
					 struct identity *out)
{
	enum auth_result r;

	if (!handler_session_hash(req, ctx, hash))
		return AUTH_NONE;
	r = identify_hash(ctx, hash, false, touch, out);
	return r == AUTH_OK ? protect_session(req, ctx, hash, out) : r;
}

enum auth_result handler_identify(const struct request *req,
				  struct handler_ctx *ctx, bool touch,
				  struct identity *out)
{
	uint8_t hash[SHA256_LEN];

	if (req->authorization.ptr != NULL) {
		switch (session_bearer_hash(req->authorization.ptr,
					    req->authorization.len, hash)) {
		case PARSE_OK:
			return identify_hash(ctx, hash, true, true, out);
		case PARSE_ABSENT:
			break; /* another scheme: fall back to the cookie */
		default:
			return AUTH_NONE;
		}
	}
	return handler_current_session(req, ctx, touch, hash, out);
}

struct cookie_spec handler_session_cookie(const struct config *cfg,
					  long max_age)
{
	return (struct cookie_spec){
		.name = cfg->cookie_name,
		.secure = cfg->cookie_secure,
		.max_age = max_age,
	};
}

struct cookie_spec handler_csrf_cookie(const struct config *cfg)
{
	return (struct cookie_spec){
		.name = cfg->csrf_cookie_name,
		.secure = cfg->cookie_secure,
		.max_age = -1,
	};
}

int handler_csrf_token(const struct request *req, struct response *resp,
		       struct handler_ctx *ctx, char token[CSRF_TOKEN_LEN + 1])
{
	struct cookie_spec spec = handler_csrf_cookie(ctx->cfg);
	char fresh[CSRF_TOKEN_LEN + 1];
	const char *value;
	size_t value_len;

	if (req->cookie.ptr != NULL &&
	    cookie_get(req->cookie.ptr, req->cookie.len, spec.name, &value,
		       &value_len) == PARSE_OK &&
	    csrf_form_token(ctx->csrf_key, value, value_len, token) == PARSE_OK)
		return 0;
	if (csrf_cookie_new(fresh) != 0 ||
	    csrf_form_token(ctx->csrf_key, fresh, strlen(fresh), token) !=
		    PARSE_OK)
		return -1;
	response_set_cookie(resp, &spec, fresh);
	return 0;
}

static void post_refused(const struct request *req, const char *reason)
{
	char ip[64];

	handler_copy(req->remote_addr, ip, sizeof(ip));
	log_event(LOG_INFO, req->id, "post_refused", "ip", ip, "reason", reason,
		  NULL);
}

bool handler_csrf_ok(const struct request *req, struct handler_ctx *ctx,
		     struct str form_token)
{
	struct cookie_spec spec = handler_csrf_cookie(ctx->cfg);
	const char *value;
	size_t value_len;

	if (!csrf_same_origin(req, ctx->cfg->cookie_secure)) {
		post_refused(req, "cross_site");
		return false;
	}
	if (req->cookie.ptr == NULL ||
	    cookie_get(req->cookie.ptr, req->cookie.len, spec.name, &value,
		       &value_len) != PARSE_OK ||
	    form_token.ptr == NULL ||
	    !csrf_verify(ctx->csrf_key, value, value_len, form_token.ptr,
			 form_token.len)) {
		post_refused(req, "csrf_token");
		return false;
	}
	return true;
}
