/* The login form and its post. */
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "handler.h"
#include "log.h"
#include "metrics.h"
#include "pages.h"
#include "password.h"
#include "redirect.h"
#include "session.h"
#include "validate.h"
#include "verify.h"

#define LOGIN_BODY_MAX (16 * 1024) /* matches client_max_body_size */
#define FIELD_MAX (PASSWORD_MAX_LEN + 1)

static const char generic_failure[] = "Invalid username or password.";

/* Renders the form with `message`, shown as an error when the status
 * (set by the caller first) is one. */
static void login_page_with(const struct request *req, struct response *resp,
			    struct handler_ctx *ctx, const char *message,
			    const char *username, const char *next, bool reauth)
{
	char token[CSRF_TOKEN_LEN + 1];

	if (handler_csrf_token(req, resp, ctx, token) != 0) {
		resp->failed = true;
		return;
	}
	pages_login(resp, ctx->cfg, &(struct login_page){
				  .message = message,
				  .error = resp->status >= 400,
				  .username = username,
				  .next = next,
				  .csrf_token = token,
				  .reauth = reauth,
			  });
}

static void login_page(const struct request *req, struct response *resp,
		       struct handler_ctx *ctx, const char *message,
		       const char *username, const char *next)
{
	login_page_with(req, resp, ctx, message, username, next, false);
}

/* Whether a query string or form body carries NAME=1. */
static bool query_flag(struct str fields, const char *name)
{
	char value[8];
	size_t len;

	return fields.ptr != NULL &&
	       form_get(fields.ptr, fields.len, name, value, sizeof(value),
			&len) == PARSE_OK &&
	       strcmp(value, "1") == 0;
}

/* reauth=1: a link to the re-authentication form, or a post from it. */
static bool reauth_flag(struct str fields)
{
	return query_flag(fields, "reauth");
}

void handle_login_form(const struct request *req, struct response *resp,
		       struct handler_ctx *ctx)
{
	uint8_t hash[SHA256_LEN];
	struct identity id;
	char next_raw[REDIRECT_MAX_LEN + 1], next[REDIRECT_MAX_LEN + 1];
	size_t next_len = 0;
	enum parse_result r = PARSE_ABSENT;

	if (req->query.ptr != NULL)
		r = form_get(req->query.ptr, req->query.len, "next", next_raw,
			     sizeof(next_raw), &next_len);
	if (r == PARSE_INVALID) {
		resp->status = 400;
		pages_message(resp, "Bad request", "The link is malformed.");
		return;
	}
	handler_safe_next(next_raw, r == PARSE_OK ? next_len : 0, next, sizeof(next));
	resp->status = 200;
	/* Sent back for a fresh password (Flask-Login's needs_refresh): the
	 * signed-in user only has to type the password. */
	if (reauth_flag(req->query) &&
	    handler_current_session(req, ctx, false, hash, &id) == AUTH_OK) {
		login_page_with(req, resp, ctx,
				"Please reauthenticate to access this page.",
				id.username, next, true);
		return;
	}
	/* Being sent here with a target means a protected page was refused;
	 * the flag marks the logout's redirect. Either picks a fixed text. */
	login_page(req, resp, ctx,
		   query_flag(req->query, "logged_out") ? "You have been logged out."
		   : r == PARSE_OK			 ? ctx->cfg->login_message
							 : "",
		   "", next);
}

static bool is_checked(const char *value)
{
	return strcmp(value, "on") == 0 || strcmp(value, "1") == 0 ||
	       strcmp(value, "true") == 0 || strcmp(value, "yes") == 0;
}

/* The parsed fields of a login post. */
struct login_form {
	char username[USERNAME_MAX_LEN + 1];
	char password[FIELD_MAX + 1];
	size_t password_len;
	char next[REDIRECT_MAX_LEN + 1];
	bool remember;
};

/*
 * Parses and validates the body; on a bad request fills `resp` (4xx) and
 * returns false.
 */
static bool read_login_form(const struct request *req, struct response *resp,
			    struct handler_ctx *ctx, struct login_form *f)
{
	char value[REDIRECT_MAX_LEN + 1];
	size_t len, username_len = 0;
	const char *body = req->body.ptr ? req->body.ptr : "";
	enum parse_result r;

	if (!handler_form_body(req, resp, LOGIN_BODY_MAX))
		return false;
	r = form_get(body, req->body.len, "next", value, sizeof(value), &len);
	handler_safe_next(value, r == PARSE_OK ? len : 0, f->next, sizeof(f->next));

	if (!handler_form_csrf_ok(req, ctx)) {
		resp->status = 403;
		login_page(req, resp, ctx,
			   "Your form expired or came from another site. "
			   "Please try again.", "", f->next);
		return false;
	}

	r = form_get(body, req->body.len, "remember", value, sizeof(value), &len);
	f->remember = r == PARSE_OK && is_checked(value);

	r = form_get(body, req->body.len, "username", f->username,
		     sizeof(f->username), &username_len);
	if (r != PARSE_OK) {
		f->username[0] = '\0';
		if (r != PARSE_TOO_LONG)
			username_len = 0;
	}
	if (r == PARSE_OK && username_len > 0 &&
	    !validate_username(f->username, username_len)) {
		resp->status = 400;
		login_page(req, resp, ctx, "That username is not valid.", "",
			   f->next);
		return false;
	}
	if (r == PARSE_TOO_LONG) {
		resp->status = 400;
		login_page(req, resp, ctx, "That username is too long.", "",
			   f->next);
		return false;
	}
	r = form_get(body, req->body.len, "password", f->password,
		     sizeof(f->password), &f->password_len);
	if (r == PARSE_TOO_LONG || (r == PARSE_OK &&
				    f->password_len > PASSWORD_MAX_LEN)) {
		resp->status = 400;
		login_page(req, resp, ctx,
			   "Passwords are at most 1024 bytes long.", f->username,
			   f->next);
		return false;
	}
	if (r != PARSE_OK || username_len == 0 ||
	    !validate_password(f->password, f->password_len)) {
		resp->status = 400;
		login_page(req, resp, ctx,
			   "Please enter your username and password.",
			   f->username, f->next);
		return false;
	}
	return true;
}

/* The database did not answer. */
static void unavailable(struct response *resp)
{
	metrics_login(LOGIN_ERROR);
	resp->status = 503;
	pages_message(resp, "Try again later",
		      "Signing in is not possible right now.");
}

static void login_failed(const struct request *req, struct response *resp,
			 struct handler_ctx *ctx, const struct login_form *f)
{
	metrics_login(LOGIN_FAILURE);
	resp->status = 401;
	login_page(req, resp, ctx, generic_failure, f->username, f->next);
}

/* Locked by too many failures: answered without hashing anything. */
static void locked_out(const struct request *req, struct response *resp,
		       struct handler_ctx *ctx, const struct login_form *f,
		       long retry_after)
{
	char message[128];

	handler_locked(resp, retry_after, message, sizeof(message));
	login_page(req, resp, ctx, message, f->username, f->next);
}

/*
 * A password entered by the user the browser is already signed in as
 * refreshes that session (Flask-Login's confirm_login) rather than making
 * a new one. DB_NOT_FOUND when there is no such session: log in anew.
 */
static enum db_result reauthenticate(const struct request *req,
				     struct handler_ctx *ctx, int64_t user_id,
				     const struct client_info *client,
				     const uint8_t fingerprint[SHA256_LEN])
{
	uint8_t hash[SHA256_LEN];
	struct identity current;
	enum db_result r;

	/* Only from the re-authentication form: any other login makes a new
	 * token, as every login must. */
	if (!reauth_flag(req->body) ||
	    handler_current_session(req, ctx, false, hash, &current) != AUTH_OK ||
	    current.user_id != user_id)
		return DB_NOT_FOUND;
	r = db_reauthenticate(ctx->db, hash, user_id, client->addr,
			      client->agent, fingerprint);
	if (r == DB_OK) {
		if (ctx->cache != NULL)
			cache_drop_key(ctx->cache, hash);
		log_event(LOG_INFO, req->id, "reauthenticated", "user",
			  current.username, "ip", client->addr, NULL);
	}
	return r;
}

void handle_login_post(const struct request *req, struct response *resp,
		       struct handler_ctx *ctx)
{
	struct login_form form;
	struct login_user user;
	struct client_info client;
	uint8_t fingerprint[SHA256_LEN];
	long retry_after;

	if (!read_login_form(req, resp, ctx, &form)) {
		metrics_login(LOGIN_INVALID);
		goto out;
	}
	handler_client_info(req, &client);
	switch (verify_password(req, ctx,
				&(struct verify_attempt){
					.username = form.username,
					.password = form.password,
					.password_len = form.password_len,
					.method = "login",
					.reason_prefix = "",
					.client = &client,
				},
				&user, &retry_after)) {
	case VERIFY_ERROR:
		unavailable(resp);
		goto out;
	case VERIFY_LOCKED:
		locked_out(req, resp, ctx, &form, retry_after);
		goto out;
	case VERIFY_FAILED:
		login_failed(req, resp, ctx, &form);
		goto out;
	case VERIFY_OK:
		break;
	}
	handler_fingerprint(req, fingerprint);
	switch (reauthenticate(req, ctx, user.user_id, &client, fingerprint)) {
	case DB_OK:
		metrics_login(LOGIN_SUCCESS);
		handler_see_other(resp, form.next);
		goto out;
	case DB_ERROR:
		unavailable(resp);
		goto out;
	default:
		break;
	}
	if (handler_start_session(req, resp, ctx, user.user_id, form.remember,
				  &client, form.next) != 0) {
		unavailable(resp);
		goto out;
	}
	log_event(LOG_INFO, req->id, "login_success", "user", form.username,
		  "ip", client.addr, "remember", form.remember ? "true" : "false",
		  NULL);
	metrics_login(LOGIN_SUCCESS);
out:
	explicit_bzero(&form, sizeof(form));
}
