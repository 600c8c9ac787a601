/* The identity endpoints: check (auth_request), unauthorized, whoami,
 * healthz. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler.h"
#include "json.h"
#include "log.h"
#include "percent.h"
#include "redirect.h"

/* True when `roles` (comma-separated) holds one of `wanted` (separated by
 * spaces); an empty requirement is always met. */
static bool has_any_role(const char *roles, struct str wanted)
{
	size_t i = 0;
	bool any_wanted = false;

	while (wanted.ptr != NULL && i < wanted.len) {
		size_t start, len;

		while (i < wanted.len && wanted.ptr[i] == ' ')
			i++;
		start = i;
		while (i < wanted.len && wanted.ptr[i] != ' ')
			i++;
		len = i - start;
		if (len == 0)
			continue;
		any_wanted = true;
		for (const char *r = roles; *r;) {
			size_t rlen = strcspn(r, ",");

			if (rlen == len && memcmp(r, wanted.ptr + start, len) == 0)
				return true;
			r += rlen;
			if (*r == ',')
				r++;
		}
	}
	return !any_wanted;
}

/* $authgate_fresh: seconds as a plain decimal number, or empty. */
static bool parse_fresh(struct str s, long *seconds)
{
	char text[16];
	char *end;

	*seconds = 0;
	if (s.ptr == NULL || s.len == 0)
		return true;
	if (!handler_copy(s, text, sizeof(text)))
		return false;
	*seconds = strtol(text, &end, 10);
	return *end == '\0' && end != text && *seconds > 0;
}

void handle_check(const struct request *req, struct response *resp,
		  struct handler_ctx *ctx)
{
	struct identity id;
	char user_id[24];
	long fresh;

	if (!parse_fresh(req->fresh, &fresh)) {
		log_msg(LOG_ERROR, req->id,
			"$authgate_fresh must be a number of seconds");
		resp->status = 500;
		return;
	}
	switch (handler_identify(req, ctx, !str_eq(req->passive, "on"), &id)) {
	case AUTH_ERROR:
		/* Fail closed: nginx turns this into a 500, never a pass. */
		resp->status = 503;
		return;
	case AUTH_NONE:
		resp->status = 401;
		return;
	case AUTH_OK:
		break;
	}
	if (fresh > 0 &&
	    (id.stale || (int64_t)time(NULL) - id.authenticated_at > fresh)) {
		response_header(resp, "X-Authgate-Reason", "stale", 5);
		resp->status = 401;
		return;
	}
	if (!has_any_role(id.roles, req->require_role)) {
		resp->status = 403;
		return;
	}
	snprintf(user_id, sizeof(user_id), "%" PRId64, id.user_id);
	resp->status = 200;
	response_header(resp, "X-Auth-User", id.username, strlen(id.username));
	response_header(resp, "X-Auth-User-Id", user_id, strlen(user_id));
	response_header(resp, "X-Auth-Email", id.email, strlen(id.email));
	response_header(resp, "X-Auth-Roles", id.roles, strlen(id.roles));
}

/* Browsers announce HTML in Accept; API clients do not. */
static bool wants_html(struct str accept)
{
	return accept.ptr != NULL &&
	       memmem(accept.ptr, accept.len, "text/html", 9) != NULL;
}

void handle_unauthorized(const struct request *req, struct response *resp,
			 struct handler_ctx *ctx)
{
	static const char prefix[] = "/auth/login?next=";
	/* Refused for staleness: the login page asks for the password again
	 * and refreshes the same session. */
	const char *reauth = str_eq(req->reason, "stale") ? "&reauth=1" : "";
	char location[sizeof(prefix) + 3 * REDIRECT_MAX_LEN + 16];
	size_t encoded_len;

	(void)ctx;
	if (!wants_html(req->accept)) {
		response_header(resp, "WWW-Authenticate",
				"Bearer realm=\"authgate\"", 23);
		handler_json_error(resp, 401, "unauthorized",
				   "authentication required");
		return;
	}
	resp->status = 302;
	memcpy(location, prefix, sizeof(prefix) - 1);
	/* Only a local target survives the login; anything else goes home. */
	if (req->request_uri.ptr != NULL &&
	    redirect_is_local(req->request_uri.ptr, req->request_uri.len) &&
	    percent_encode(req->request_uri.ptr, req->request_uri.len,
			   location + sizeof(prefix) - 1,
			   sizeof(location) - sizeof(prefix) - 15,
			   &encoded_len) == PARSE_OK)
		strcat(location, reauth);
	else
		snprintf(location, sizeof(location), "%s%%2F%s", prefix, reauth);
	response_header(resp, "Location", location, strlen(location));
	response_header(resp, "Cache-Control", "no-store", 8);
}

static void json_time(struct buf *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char text[32];

	gmtime_r(&tt, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(out, "\"%s\"", text);
}

static void json_roles(struct buf *out, const char *roles)
{
	buf_append_str(out, "[");
	for (const char *r = roles; *r;) {
		size_t len = strcspn(r, ",");

		if (r != roles)
			buf_append_str(out, ",");
		json_string(out, r, len);
		r += len;
		if (*r == ',')
			r++;
	}
	buf_append_str(out, "]");
}

void handle_whoami(const struct request *req, struct response *resp,
		   struct handler_ctx *ctx)
{
	struct identity id;
	struct buf *b = &resp->body;
	bool token;

	switch (handler_identify(req, ctx, true, &id)) {
	case AUTH_ERROR:
		handler_json_error(resp, 503, "unavailable",
				   "the session store is unavailable");
		return;
	case AUTH_NONE:
		handler_json_error(resp, 401, "unauthorized",
				   "authentication required");
		return;
	case AUTH_OK:
		break;
	}
	token = id.created_at == 0;
	resp->status = 200;
	resp->content_type = "application/json";
	response_header(resp, "Cache-Control", "no-store", 8);
	buf_printf(b, "{\"id\":%" PRId64 ",\"username\":", id.user_id);
	json_string(b, id.username, strlen(id.username));
	buf_append_str(b, ",\"email\":");
	if (id.email[0] != '\0')
		json_string(b, id.email, strlen(id.email));
	else
		buf_append_str(b, "null");
	buf_append_str(b, ",\"roles\":");
	json_roles(b, id.roles);
	buf_printf(b, ",\"auth\":\"%s\"", token ? "token" : "session");
	if (!token) {
		buf_append_str(b, ",\"session\":{\"created_at\":");
		json_time(b, id.created_at);
		buf_append_str(b, ",\"authenticated_at\":");
		json_time(b, id.authenticated_at);
		buf_append_str(b, ",\"expires_at\":");
		json_time(b, id.expires_at);
		buf_printf(b, ",\"remember\":%s,\"fresh\":%s}",
			   id.remember ? "true" : "false",
			   id.stale ? "false" : "true");
	}
	buf_append_str(b, "}\n");
}

void handle_healthz(const struct request *req, struct response *resp,
		    struct handler_ctx *ctx)
{
	char sync[CACHE_SYNC_MAX + 1] = "";
	const char *cache = "off";
	bool up = db_ping(ctx->db) == DB_OK;

	(void)req;
	if (ctx->cache != NULL) {
		cache = cache_usable(ctx->cache) ? "on" : "reconnecting";
		cache_last_sync(ctx->cache, sync);
	}
	resp->status = up ? 200 : 503;
	resp->content_type = "application/json";
	response_header(resp, "Cache-Control", "no-store", 8);
	buf_printf(&resp->body, "{\"status\":\"%s\",\"database\":%s,\"cache\":\"%s\",\"sync\":",
		   up ? "ok" : "unavailable", up ? "true" : "false", cache);
	json_string(&resp->body, sync, strlen(sync));
	buf_append_str(&resp->body, "}\n");
}
