/* /auth/register: self-registration, when --allow-registration is on. */
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "handler.h"
#include "log.h"
#include "pages.h"
#include "hashing.h"
#include "redirect.h"
#include "validate.h"

#define REGISTER_BODY_MAX (16 * 1024) /* matches client_max_body_size */
#define FIELD_MAX (PASSWORD_MAX_LEN + 1)

/* The parsed fields of a registration post. */
struct register_form {
	char username[USERNAME_MAX_LEN + 1];
	char email[EMAIL_MAX_LEN + 1];
	char password[FIELD_MAX + 1], password2[FIELD_MAX + 1];
	size_t username_len, email_len, password_len, password2_len;
	char next[REDIRECT_MAX_LEN + 1];
};

static void not_found(struct response *resp)
{
	handler_json_error(resp, 404, "not_found", "no such endpoint");
}

static void unavailable(struct response *resp)
{
	resp->status = 503;
	pages_message(resp, "Try again later",
		      "Creating an account is not possible right now.");
}

/* The form with `message` (an error when the status, set first, is one)
 * and what was typed, never the passwords. */
static void register_page(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx,
			  const struct register_form *f, const char *message)
{
	char token[CSRF_TOKEN_LEN + 1];

	if (handler_csrf_token(req, resp, ctx, token) != 0) {
		resp->failed = true;
		return;
	}
	pages_register(resp, ctx->cfg, &(struct account_page){
				   .message = message,
				   .error = resp->status >= 400,
				   .username = f->username,
				   .email = f->email,
				   .next = f->next,
				   .csrf_token = token,
			   });
}

void handle_register_form(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx)
{
	struct register_form f = {0};
	char next[REDIRECT_MAX_LEN + 1];
	size_t len = 0;
	enum parse_result r = PARSE_ABSENT;

	if (!ctx->cfg->allow_registration) {
		not_found(resp);
		return;
	}
	if (req->query.ptr != NULL)
		r = form_get(req->query.ptr, req->query.len, "next", next,
			     sizeof(next), &len);
	handler_safe_next(next, r == PARSE_OK ? len : 0, f.next, sizeof(f.next));
	resp->status = 200;
	register_page(req, resp, ctx, &f, "");
}

/* A text field into `out` ("" when absent); PARSE_TOO_LONG when over. */
static enum parse_result read_field(const struct request *req,
				    const char *name, char *out, size_t cap,
				    size_t *len)
{
	enum parse_result r = form_get(req->body.ptr ? req->body.ptr : "",
				       req->body.len, name, out, cap, len);

	if (r != PARSE_OK) {
		out[0] = '\0';
		*len = 0;
	}
	return r;
}

/* Reads the fields; the reason they cannot be used, or NULL. */
static const char *form_problem(const struct request *req,
				struct register_form *f)
{
	char next[REDIRECT_MAX_LEN + 1];
	size_t next_len;
	bool too_long = false;

	handler_safe_next(next,
			  read_field(req, "next", next, sizeof(next), &next_len) ==
					  PARSE_OK
				  ? next_len
				  : 0,
			  f->next, sizeof(f->next));
	if (read_field(req, "username", f->username, sizeof(f->username),
		       &f->username_len) == PARSE_TOO_LONG)
		return "That username is too long (at most 150 bytes).";
	if (read_field(req, "email", f->email, sizeof(f->email),
		       &f->email_len) == PARSE_TOO_LONG)
		return "That email address is too long.";
	too_long = read_field(req, "password", f->password, sizeof(f->password),
			      &f->password_len) == PARSE_TOO_LONG;
	too_long = read_field(req, "password2", f->password2,
			      sizeof(f->password2), &f->password2_len) ==
			   PARSE_TOO_LONG ||
		   too_long;
	if (!validate_utf8(f->email, f->email_len))
		f->email[0] = '\0'; /* never shown back when not text */
	if (f->username_len == 0)
		return "Please choose a username.";
	if (!validate_username(f->username, f->username_len)) {
		f->username[0] = '\0';
		return "That username is not valid: no control characters, "
		       "and no space at either end.";
	}
	if (!validate_email(f->email, f->email_len))
		return "Please enter a valid email address.";
	if (too_long || f->password_len > PASSWORD_MAX_LEN)
		return "Passwords are at most 1024 bytes long.";
	return handler_new_password_problem(f->password, f->password_len,
					    f->password2, f->password2_len);
}

/* The page for an outcome of the database other than "ok" (a status and
 * a message). */
static void refused(const struct request *req, struct response *resp,
		    struct handler_ctx *ctx, const struct register_form *f,
		    const char *outcome)
{
	static const struct {
		const char *outcome;
		int status;
		const char *message;
	} answers[] = {
		/* Telling a taken name apart is inherent to registration;
		 * the per-address limit bounds how fast it can be asked. */
		{"username_taken", 409,
		 "That username is taken. Please choose another one."},
		{"email_taken", 409,
		 "An account with that email address already exists."},
		{"invalid_username", 400,
		 "That username is not valid: no control characters, and no "
		 "space at either end."},
		{"invalid_email", 400, "Please enter a valid email address."},
		{"throttled", 429,
		 "Too many registration attempts from your network. Please "
		 "try again in an hour."},
	};

	log_event(LOG_INFO, req->id, "registration_refused", "user",
		  f->username, "reason", outcome, NULL);
	for (size_t i = 0; i < AG_ARRAY_LEN(answers); i++) {
		if (strcmp(outcome, answers[i].outcome) != 0)
			continue;
		resp->status = answers[i].status;
		if (resp->status == 429)
			response_header(resp, "Retry-After", "3600", 4);
		register_page(req, resp, ctx, f, answers[i].message);
		return;
	}
	unavailable(resp);
}

/* After the checks: creates the user and, unless an operator must
 * approve it, signs the browser in. */
static void create(const struct request *req, struct response *resp,
		   struct handler_ctx *ctx, const struct register_form *f)
{
	struct client_info client;
	char outcome[DB_OUTCOME_MAX], hash[PASSWORD_HASH_MAX];
	bool pending = ctx->cfg->registration_requires_approval;
	int64_t user_id = 0;

	handler_client_info(req, &client);
	/* Cheap checks first: no hashing for a refused attempt. */
	if (db_register_check(ctx->db, f->username, f->email, client.addr,
			      client.agent, ctx->cfg->registration_limit,
			      outcome) != DB_OK) {
		unavailable(resp);
		return;
	}
	if (strcmp(outcome, "ok") != 0) {
		refused(req, resp, ctx, f, outcome);
		return;
	}
	if (hashing_hash(f->password, f->password_len, hash, sizeof(hash)) != 0 ||
	    db_register(ctx->db, f->username, f->email, hash, pending,
			client.addr, client.agent, &user_id, outcome) != DB_OK) {
		unavailable(resp);
		return;
	}
	if (strcmp(outcome, "ok") != 0) {
		refused(req, resp, ctx, f, outcome);
		return;
	}
	log_event(LOG_INFO, req->id, "registered", "user", f->username, "ip",
		  client.addr, "pending", pending ? "true" : "false", NULL);
	if (pending) {
		resp->status = 200;
		pages_message(resp, "Account created",
			      "Your account was created. An operator must "
			      "approve it before you can sign in.");
		return;
	}
	if (handler_start_session(req, resp, ctx, user_id, false, &client,
				  f->next) != 0) {
		/* The account exists: only the automatic sign-in failed. */
		resp->status = 200;
		pages_message(resp, "Account created",
			      "Your account was created. Please sign in.");
	}
}

void handle_register_post(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx)
{
	struct register_form form = {0};
	const char *problem;

	if (!ctx->cfg->allow_registration) {
		not_found(resp);
		return;
	}
	if (!handler_form_body(req, resp, REGISTER_BODY_MAX))
		return;
	problem = form_problem(req, &form);
	if (!handler_form_csrf_ok(req, ctx)) {
		resp->status = 403;
		register_page(req, resp, ctx, &form,
			      "Your form expired or came from another site. "
			      "Please try again.");
	} else if (problem != NULL) {
		resp->status = 400;
		register_page(req, resp, ctx, &form, problem);
	} else {
		create(req, resp, ctx, &form);
	}
	explicit_bzero(&form, sizeof(form));
}
