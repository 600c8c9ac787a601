/* The logout page and its post. */
#include <string.h>

#include "cookie.h"
#include "form.h"
#include "handler.h"
#include "log.h"
#include "pages.h"
#include "session.h"

#define LOGOUT_BODY_MAX 4096

void handle_logout_form(const struct request *req, struct response *resp,
			struct handler_ctx *ctx)
{
	char token[CSRF_TOKEN_LEN + 1];
	struct identity id;

	switch (handler_identify(req, ctx, false, &id)) {
	case AUTH_ERROR:
		resp->status = 503;
		pages_message(resp, "Try again later",
			      "The session store is unavailable.");
		return;
	case AUTH_NONE:
		resp->status = 200;
		pages_message(resp, "Signed out", "You are not signed in.");
		return;
	case AUTH_OK:
		break;
	}
	if (handler_csrf_token(req, resp, ctx, token) != 0) {
		resp->failed = true;
		return;
	}
	resp->status = 200;
	pages_logout(resp, id.username, token);
}

void handle_logout_post(const struct request *req, struct response *resp,
			struct handler_ctx *ctx)
{
	char all[4];
	struct client_info client;
	bool everywhere;
	const char *body = req->body.ptr ? req->body.ptr : "";
	size_t all_len;
	uint8_t hash[SHA256_LEN];
	enum parse_result r;
	struct cookie_spec spec;

	if (!handler_form_body(req, resp, LOGOUT_BODY_MAX))
		return;
	if (!handler_form_csrf_ok(req, ctx)) {
		resp->status = 403;
		pages_message(resp, "Not signed out",
			      "The form expired or came from another site. "
			      "Open the sign-out page and try again.");
		return;
	}
	r = form_get(body, req->body.len, "all", all, sizeof(all), &all_len);
	everywhere = r == PARSE_OK && strcmp(all, "1") == 0;
	handler_client_info(req, &client);
	if (handler_session_hash(req, ctx, hash)) {
		if (db_logout(ctx->db, hash, everywhere,
			      client.addr, client.agent) != DB_OK) {
			/* The session must not outlive a logout the user saw
			 * succeed: report the failure instead. */
			resp->status = 503;
			pages_message(resp, "Not signed out",
				      "The session store is unavailable. "
				      "Please try again.");
			return;
		}
		log_event(LOG_INFO, req->id, "logout", "ip", client.addr, "all",
			  everywhere ? "true" : "false", NULL);
		/* This daemon forgets at once; the others hear of it by
		 * NOTIFY. */
		if (ctx->cache != NULL)
			cache_drop_key(ctx->cache, hash);
	}
	spec = handler_session_cookie(ctx->cfg, 0);
	response_set_cookie(resp, &spec, "");
	/* A fixed flag, never a message: the page picks the text. */
	handler_see_other(resp, "/auth/login?logged_out=1");
}
