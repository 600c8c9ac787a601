/* The endpoints for monitoring: healthz (readiness and liveness) and
 * metrics. */
#include <string.h>

#include "form.h"
#include "handler.h"
#include "json.h"
#include "metrics.h"

/* `live` given (any value, "?live" or "?live=1"). */
static bool wants_live(struct str query)
{
	char value[8];
	size_t len;

	return query.ptr != NULL &&
	       form_get(query.ptr, query.len, "live", value, sizeof(value),
			&len) != PARSE_ABSENT;
}

/*
 * /auth/healthz?live: the daemon's event loop answers (no database
 * involved), for a restart decision. /auth/healthz: ready to serve, i.e.
 * the database answers with a current schema. The cache state is shown
 * but never makes the daemon unready: while the listener reconnects the
 * cache is bypassed and every check asks the database.
 */
void handle_healthz(const struct request *req, struct response *resp,
		    struct handler_ctx *ctx)
{
	char sync[CACHE_SYNC_MAX + 1] = "";
	const char *cache = "off";
	bool up;

	resp->content_type = "application/json";
	response_header(resp, "Cache-Control", "no-store", 8);
	if (wants_live(req->query)) {
		resp->status = 200;
		buf_append_str(&resp->body, "{\"status\":\"live\"}\n");
		return;
	}
	up = db_ping(ctx->db) == DB_OK;
	if (ctx->cache != NULL) {
		cache = cache_usable(ctx->cache) ? "on" : "reconnecting";
		cache_last_sync(ctx->cache, sync);
	}
	resp->status = up ? 200 : 503;
	buf_printf(&resp->body, "{\"status\":\"%s\",\"database\":%s,\"cache\":\"%s\",\"sync\":",
		   up ? "ok" : "unavailable", up ? "true" : "false", cache);
	json_string(&resp->body, sync, strlen(sync));
	buf_append_str(&resp->body, "}\n");
}

/* Only for the addresses of --metrics-allow: counters tell an outsider
 * how many users log in and fail, which is no one else's business. */
void handle_metrics(const struct request *req, struct response *resp,
		    struct handler_ctx *ctx)
{
	struct metrics_snapshot m;

	if (!cidr_list_contains(&ctx->cfg->metrics_allow, req->remote_addr.ptr,
				req->remote_addr.len)) {
		handler_json_error(resp, 403, "forbidden",
				   "metrics are not served to this address");
		return;
	}
	metrics_snapshot(&m);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	response_header(resp, "Cache-Control", "no-store", 8);
	metrics_render(&m, &resp->body);
}
