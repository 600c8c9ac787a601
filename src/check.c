/* The identity endpoints: check (auth_request), the FastCGI authorizer
 * role, unauthorized, whoami. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic.h"
#include "check_basic.h"
#include "handler.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
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

/* $authgate_fresh and the lock's retry time: seconds as a plain positive
 * decimal number, or empty (0). */
static bool parse_seconds(struct str s, long *seconds)
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

/*
 * The decision behind /auth/check and the FastCGI authorizer: 200 with
 * `id` filled, 401 (`*stale` when only the password is too old), 403, or
 * 500/503 when the check cannot be made (always a refusal).
 *
 * `basic_resp`: HTTP Basic is accepted (nginx's $authgate_basic, for
 * /auth/check only, whose refusals @authgate_login turns into the
 * challenge); it may get the reason of a refusal. When a password must
 * be hashed, ctx->defer is set and the status is the answer for when the
 * hashing threads are all busy.
 */
static int decide(const struct request *req, struct handler_ctx *ctx,
		  struct response *basic_resp, struct identity *id, bool *stale)
{
	enum auth_result auth;
	long fresh;

	*stale = false;
	if (!parse_seconds(req->fresh, &fresh)) {
		log_event(LOG_ERROR, req->id, "bad_requirement", "msg",
			  "$authgate_fresh must be a number of seconds", NULL);
		return 500;
	}
	/* On a $authgate_basic location, Basic credentials decide when the
	 * request carries them; a cookie or Bearer token otherwise. */
	if (basic_resp == NULL ||
	    !check_basic(req, ctx, basic_resp, id, &auth))
		auth = handler_identify(req, ctx, !str_eq(req->passive, "on"), id);
	else if (ctx->defer)
		return basic_resp->status;
	if (handler_waiting(ctx))
		return 503;
	switch (auth) {
	case AUTH_ERROR:
		/* Fail closed: nginx turns this into a 500, never a pass. */
		return 503;
	case AUTH_NONE:
		return 401;
	case AUTH_OK:
		break;
	}
	if (fresh > 0 &&
	    (id->stale || (int64_t)time(NULL) - id->authenticated_at > fresh)) {
		*stale = true;
		return 401;
	}
	if (!has_any_role(id->roles, req->require_role))
		return 403;
	return 200;
}

static uint64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* decide(), counted by outcome and timed for /auth/metrics; a check
 * deferred to the hashing threads is counted when it is made there, one
 * waiting for its session lookup when it is run again (timed from its
 * first run). */
static int check_status(const struct request *req, struct handler_ctx *ctx,
			struct response *basic_resp, struct identity *id,
			bool *stale)
{
	uint64_t start = monotonic_ns();
	int status;
	enum metric_check outcome;

	if (ctx->lookup != NULL && ctx->lookup->done)
		start = ctx->lookup->started_ns;
	else if (ctx->lookup != NULL)
		ctx->lookup->started_ns = start;
	status = decide(req, ctx, basic_resp, id, stale);
	if (ctx->defer || handler_waiting(ctx))
		return status;
	outcome =
		status == 200   ? CHECK_ALLOWED
		: status == 403 ? CHECK_FORBIDDEN
		: status != 401 ? CHECK_ERROR
		: *stale        ? CHECK_STALE
				: CHECK_UNAUTHENTICATED;

	metrics_check(outcome, monotonic_ns() - start);
	return status;
}

/* The four identity fields under the names a server expects them. */
static void identity_headers(struct response *resp, const struct identity *id,
			     const char *const names[4])
{
	char user_id[24];

	snprintf(user_id, sizeof(user_id), "%" PRId64, id->user_id);
	response_header(resp, names[0], id->username, strlen(id->username));
	response_header(resp, names[1], user_id, strlen(user_id));
	response_header(resp, names[2], id->email, strlen(id->email));
	response_header(resp, names[3], id->roles, strlen(id->roles));
}

void handle_check(const struct request *req, struct response *resp,
		  struct handler_ctx *ctx)
{
	static const char *const names[4] = {"X-Auth-User", "X-Auth-User-Id",
					     "X-Auth-Email", "X-Auth-Roles"};
	struct identity id;
	bool stale;

	resp->status = check_status(req, ctx, resp, &id, &stale);
	if (ctx->defer || handler_waiting(ctx))
		return;
	if (stale)
		response_header(resp, "X-Authgate-Reason", "stale", 5);
	if (resp->status == 200)
		identity_headers(resp, &id, names);
}

/* Browsers announce HTML in Accept; API clients do not. */
static bool wants_html(struct str accept)
{
	return accept.ptr != NULL &&
	       memmem(accept.ptr, accept.len, "text/html", 9) != NULL;
}

/* What a refused client gets: browsers the login page, others 401 JSON. */
static void refuse_unauthenticated(const struct request *req,
				   struct response *resp, bool stale)
{
	static const char prefix[] = "/auth/login?next=";
	/* Refused for staleness: the login page asks for the password again
	 * and refreshes the same session. */
	const char *reauth = stale ? "&reauth=1" : "";
	char location[sizeof(prefix) + 3 * REDIRECT_MAX_LEN + 16];
	size_t encoded_len;

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

/*
 * A refusal on a $authgate_basic location that is for HTTP Basic to
 * answer: the request carried Basic credentials, or comes from a client
 * that is not a browser (git, WebDAV, scripts). Browsers without
 * credentials are sent to the login form like anywhere else. False when
 * it is not Basic's to answer.
 */
static bool basic_unauthorized(const struct request *req,
			       struct response *resp, struct handler_ctx *ctx)
{
	struct basic_credentials creds;
	char challenge[sizeof(ctx->cfg->basic_realm) + 40];
	enum parse_result p = PARSE_ABSENT;

	if (!str_eq(req->basic, "on"))
		return false;
	if (req->authorization.ptr != NULL)
		p = basic_parse(req->authorization.ptr, req->authorization.len,
				&creds);
	explicit_bzero(&creds, sizeof(creds));
	if (p == PARSE_ABSENT && wants_html(req->accept))
		return false;
	if (p == PARSE_INVALID || p == PARSE_TOO_LONG) {
		handler_json_error(resp, 400, "bad_request",
				   "malformed Basic credentials");
		return true;
	}
	if (str_eq(req->reason, "locked")) {
		char seconds[24];
		long retry_after;

		if (!parse_seconds(req->retry_after, &retry_after) ||
		    retry_after == 0)
			retry_after = ctx->cfg->login_lockout;
		snprintf(seconds, sizeof(seconds), "%ld", retry_after);
		response_header(resp, "Retry-After", seconds, strlen(seconds));
		handler_json_error(resp, 429, "locked",
				   "too many failed attempts; try again later");
		return true;
	}
	if (str_eq(req->reason, "busy")) {
		response_header(resp, "Retry-After", "1", 1);
		handler_json_error(resp, 503, "busy",
				   "too many password checks at once");
		return true;
	}
	snprintf(challenge, sizeof(challenge),
		 "Basic realm=\"%s\", charset=\"UTF-8\"", ctx->cfg->basic_realm);
	response_header(resp, "WWW-Authenticate", challenge, strlen(challenge));
	handler_json_error(resp, 401, "unauthorized", "authentication required");
	return true;
}

void handle_unauthorized(const struct request *req, struct response *resp,
			 struct handler_ctx *ctx)
{
	if (!basic_unauthorized(req, resp, ctx))
		refuse_unauthenticated(req, resp, str_eq(req->reason, "stale"));
}

/*
 * The FastCGI authorizer role (lighttpd's mod_fastcgi, Apache's
 * mod_authnz_fcgi): the server grants access on 200 and passes the
 * Variable-* headers to the application as environment variables; any
 * other answer goes to the client as it is, so it carries what nginx's
 * @authgate_login would have sent.
 */
void handle_authorize(const struct request *req, struct response *resp,
		      struct handler_ctx *ctx)
{
	static const char *const names[4] = {
		"Variable-AUTH_USER", "Variable-AUTH_USER_ID",
		"Variable-AUTH_EMAIL", "Variable-AUTH_ROLES"};
	struct identity id;
	bool stale;
	int status;

	/* mod_authnz_fcgi's check_user_id mode (AuthnzFcgiCheckAuthnProvider
	 * with UserExpr) is the one where the server takes the user from this
	 * answer. As a Require provider (FCGI_APACHE_ROLE AUTHORIZER) or an
	 * AuthBasicProvider (which sends the password) it keeps the HTTP
	 * Basic user name: refuse rather than let a client choose who it is. */
	if ((req->apache_role.ptr != NULL &&
	     !str_eq(req->apache_role, "AUTHENTICATOR")) ||
	    req->remote_passwd.ptr != NULL) {
		log_event(LOG_ERROR, req->id, "authorizer_misconfigured", "msg",
			  "mod_authnz_fcgi: use AuthnzFcgiCheckAuthnProvider "
			  "with UserExpr, not Require or AuthBasicProvider, "
			  "and no AuthType Basic", NULL);
		handler_json_error(resp, 500, "misconfigured",
				   "the authorizer is misconfigured");
		return;
	}
	status = check_status(req, ctx, NULL, &id, &stale);
	if (handler_waiting(ctx))
		return;
	switch (status) {
	case 200:
		resp->status = 200;
		identity_headers(resp, &id, names);
		return;
	case 401:
		refuse_unauthenticated(req, resp, stale);
		return;
	case 403:
		handler_json_error(resp, 403, "forbidden",
				   "a role this page requires is missing");
		return;
	case 503:
		handler_json_error(resp, 503, "unavailable",
				   "the session store is unavailable");
		return;
	default:
		handler_json_error(resp, 500, "misconfigured",
				   "the authorizer is misconfigured");
		return;
	}
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
