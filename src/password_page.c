/* /auth/password: a signed-in user changes their password. */
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "handler.h"
#include "log.h"
#include "pages.h"
#include "hashing.h"
#include "validate.h"

#define PASSWORD_BODY_MAX (16 * 1024) /* matches client_max_body_size */
#define FIELD_MAX (PASSWORD_MAX_LEN + 1)

/* Where a browser without a session is sent: back here after login. */
static const char login_first[] = "/auth/login?next=%2Fauth%2Fpassword";

static void send_to_login(struct response *resp)
{
	response_header(resp, "Location", login_first, strlen(login_first));
	response_header(resp, "Cache-Control", "no-store", 8);
	resp->status = 302;
}

static void unavailable(struct response *resp)
{
	resp->status = 503;
	pages_message(resp, "Try again later",
		      "Changing the password is not possible right now.");
}

/* The form with `message`, an error when the status (set first) is one. */
static void password_page(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx, const char *username,
			  const char *message)
{
	char token[CSRF_TOKEN_LEN + 1];

	if (handler_csrf_token(req, resp, ctx, token) != 0) {
		resp->failed = true;
		return;
	}
	pages_password(resp, ctx->cfg, &(struct account_page){
				   .message = message,
				   .error = resp->status >= 400,
				   .username = username,
				   .csrf_token = token,
			   });
}

/* The browser's session; otherwise fills `resp` (login or 503) and
 * returns false. */
static bool signed_in(const struct request *req, struct response *resp,
		      struct handler_ctx *ctx, uint8_t hash[SHA256_LEN],
		      struct identity *id)
{
	switch (handler_current_session(req, ctx, false, hash, id)) {
	case AUTH_ERROR:
		unavailable(resp);
		return false;
	case AUTH_NONE:
		send_to_login(resp);
		return false;
	case AUTH_OK:
		break;
	}
	return true;
}

void handle_password_form(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx)
{
	uint8_t hash[SHA256_LEN];
	struct identity id;

	if (!signed_in(req, resp, ctx, hash, &id))
		return;
	resp->status = 200;
	password_page(req, resp, ctx, id.username, "");
}

/* The three password fields of the post. */
struct password_form {
	char old[FIELD_MAX + 1], new1[FIELD_MAX + 1], new2[FIELD_MAX + 1];
	size_t old_len, new1_len, new2_len;
};

/* A field into `out`; false when it is absent, empty or over the limit
 * (*too_long tells the last apart). */
static bool read_field(const struct request *req, const char *name,
		       char *out, size_t *len, bool *too_long)
{
	enum parse_result r = form_get(req->body.ptr ? req->body.ptr : "",
				       req->body.len, name, out, FIELD_MAX + 1,
				       len);

	if (r == PARSE_TOO_LONG || (r == PARSE_OK && *len > PASSWORD_MAX_LEN))
		*too_long = true;
	if (r != PARSE_OK)
		*len = 0;
	return r == PARSE_OK && *len > 0 && *len <= PASSWORD_MAX_LEN;
}

/* The reason the fields cannot be used, or NULL when they can. */
static const char *form_problem(const struct request *req,
				struct password_form *f)
{
	bool too_long = false;
	bool all = read_field(req, "old_password", f->old, &f->old_len, &too_long);

	all = read_field(req, "new_password", f->new1, &f->new1_len, &too_long) &&
	      all;
	all = read_field(req, "new_password2", f->new2, &f->new2_len, &too_long) &&
	      all;
	if (too_long)
		return "Passwords are at most 1024 bytes long.";
	if (!all)
		return "Please fill in every field.";
	if (!validate_password(f->old, f->old_len))
		return "Your current password is wrong.";
	return handler_new_password_problem(f->new1, f->new1_len, f->new2,
					    f->new2_len);
}

/* After the checks: verifies the old password, stores the new one. */
static void change(const struct request *req, struct response *resp,
		   struct handler_ctx *ctx, const struct identity *id,
		   const uint8_t session_hash[SHA256_LEN],
		   const struct password_form *f)
{
	struct client_info client;
	struct login_user user = {0};
	char fresh[PASSWORD_HASH_MAX], message[160];
	enum password_verdict verdict;
	long retry_after, ended;

	handler_client_info(req, &client);
	/* The same regulation as the login form: a stolen session must not
	 * become a way to guess the password. */
	if (db_login_throttle(ctx->db, id->username, client.addr, client.agent,
			      ctx->cfg->login_window, ctx->cfg->login_lockout,
			      ctx->cfg->login_max_failures,
			      ctx->cfg->login_max_address_failures,
			      &retry_after) != DB_OK ||
	    db_user_for_login(ctx->db, id->username, &user) == DB_ERROR) {
		unavailable(resp);
		return;
	}
	if (retry_after > 0) {
		handler_locked(resp, retry_after, message, sizeof(message));
		password_page(req, resp, ctx, id->username, message);
		return;
	}
	verdict = user.user_id == id->user_id
			  ? hashing_verify(user.password_hash, f->old, f->old_len)
			  : PASSWORD_MISMATCH;
	if (verdict != PASSWORD_MATCH && verdict != PASSWORD_MATCH_REHASH) {
		if (db_login_failure(ctx->db, id->username, "password_change",
				     client.addr, client.agent) != DB_OK)
			log_event(LOG_WARN, req->id,
				  "password_change_failure_not_recorded",
				  "user", id->username, NULL);
		log_event(LOG_INFO, req->id, "password_change_refused", "user",
			  id->username, "ip", client.addr, "reason",
			  "bad_password", NULL);
		resp->status = 401;
		password_page(req, resp, ctx, id->username,
			      "Your current password is wrong.");
		return;
	}
	if (hashing_hash(f->new1, f->new1_len, fresh, sizeof(fresh)) != 0) {
		unavailable(resp);
		return;
	}
	switch (db_change_password(ctx->db, session_hash, id->user_id,
				   user.password_hash, fresh, client.addr,
				   client.agent, &ended)) {
	case DB_ERROR:
		unavailable(resp);
		return;
	case DB_NOT_FOUND:
		resp->status = 409;
		password_page(req, resp, ctx, id->username,
			      "The password was changed elsewhere meanwhile. "
			      "Nothing was changed here.");
		return;
	default:
		break;
	}
	/* This daemon refuses the ended sessions at once; the others hear
	 * of them by NOTIFY. */
	if (ctx->cache != NULL)
		cache_drop_user(ctx->cache, id->user_id);
	snprintf(message, sizeof(message), "%ld", ended);
	log_event(LOG_INFO, req->id, "password_changed", "user", id->username,
		  "ip", client.addr, "sessions_ended", message, NULL);
	snprintf(message, sizeof(message),
		 "Your password has been changed. %ld other session%s signed "
		 "out.", ended, ended == 1 ? " was" : "s were");
	resp->status = 200;
	password_page(req, resp, ctx, id->username, message);
}

void handle_password_post(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx)
{
	struct password_form form;
	uint8_t hash[SHA256_LEN];
	struct identity id;
	const char *problem;

	if (!handler_form_body(req, resp, PASSWORD_BODY_MAX) ||
	    !signed_in(req, resp, ctx, hash, &id))
		return;
	if (!handler_form_csrf_ok(req, ctx)) {
		resp->status = 403;
		password_page(req, resp, ctx, id.username,
			      "Your form expired or came from another site. "
			      "Please try again.");
		return;
	}
	problem = form_problem(req, &form);
	if (problem != NULL) {
		resp->status = 400;
		password_page(req, resp, ctx, id.username, problem);
	} else {
		change(req, resp, ctx, &id, hash, &form);
	}
	explicit_bzero(&form, sizeof(form));
}
