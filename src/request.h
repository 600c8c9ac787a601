/* What a handler sees of one FastCGI request: copied out of the params. */
#ifndef AUTHGATE_REQUEST_H
#define AUTHGATE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "proxy.h"

/* A borrowed, length-delimited string; `ptr` is NULL when absent. */
struct str {
	const char *ptr;
	size_t len;
};

/*
 * All fields borrow from the connection's params and stdin buffers and stay
 * valid until the response has been written.
 */
struct request {
	uint64_t id; /* per-daemon sequence number, for log lines */
	/* FastCGI role AUTHORIZER (lighttpd, Apache): the request is a check
	 * whatever its endpoint, answered the way that role is. */
	bool authorizer;
	struct str endpoint;
	struct str method;
	struct str request_uri;
	struct str query;
	struct str content_type;
	/* The client's address: the direct peer's, or the one found in
	 * forwarded_for when the peer is a trusted proxy (see
	 * request_resolve_client). */
	struct str remote_addr;
	struct str forwarded_for; /* X-Forwarded-For, as received */
	struct str scheme;
	struct str host;
	struct str cookie;
	struct str accept;
	struct str user_agent;
	struct str origin;
	struct str sec_fetch_site;
	struct str authorization;
	struct str require_role;
	struct str fresh;
	struct str passive;
	struct str basic; /* $authgate_basic: "on" accepts HTTP Basic */
	struct str reason; /* why /auth/check refused, in @authgate_login */
	struct str apache_role; /* mod_authnz_fcgi's phase */
	struct str remote_passwd; /* an authorizer sent HTTP Basic's password */
	struct str retry_after; /* with reason "locked", in @authgate_login */
	struct str body;
};

/*
 * Records one FastCGI param if it is one authgate reads; others are
 * ignored. A param given twice keeps the last value, as CGI does.
 */
void request_set_param(struct request *req, const char *name, size_t name_len,
		       const char *value, size_t value_len);

/*
 * Records one HTTP request header if it is one authgate reads (the check
 * endpoint over HTTP: Cookie, Authorization, User-Agent, Accept, Host,
 * X-Real-IP, X-Original-URI and the X-Authgate-* headers the nginx
 * snippet sets). Returns false for a second copy of a header it reads,
 * which the caller refuses.
 */
bool request_set_http_header(struct request *req, const char *name,
			     size_t name_len, const char *value,
			     size_t value_len) AG_MUST_CHECK;

/*
 * Replaces remote_addr by the client address that X-Forwarded-For gives
 * when the direct peer is one of `trusted` (proxy_client_addr()). Call once,
 * after every param or header has been recorded.
 */
void request_resolve_client(struct request *req,
			    const struct proxy_list *trusted);

/* True when `s` equals the NUL-terminated `lit` exactly. */
bool str_eq(struct str s, const char *lit);

#endif
