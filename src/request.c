#include "request.h"

#include <string.h>
#include <strings.h>

#include "common.h"

static const struct {
	const char *name;
	size_t offset;
} known_params[] = {
	{"AUTHGATE_ENDPOINT", offsetof(struct request, endpoint)},
	{"REQUEST_METHOD", offsetof(struct request, method)},
	{"REQUEST_URI", offsetof(struct request, request_uri)},
	{"QUERY_STRING", offsetof(struct request, query)},
	{"CONTENT_TYPE", offsetof(struct request, content_type)},
	{"REMOTE_ADDR", offsetof(struct request, remote_addr)},
	{"HTTP_X_FORWARDED_FOR", offsetof(struct request, forwarded_for)},
	{"REQUEST_SCHEME", offsetof(struct request, scheme)},
	{"HTTP_HOST", offsetof(struct request, host)},
	{"HTTP_COOKIE", offsetof(struct request, cookie)},
	{"HTTP_ACCEPT", offsetof(struct request, accept)},
	{"HTTP_USER_AGENT", offsetof(struct request, user_agent)},
	{"HTTP_ORIGIN", offsetof(struct request, origin)},
	{"HTTP_SEC_FETCH_SITE", offsetof(struct request, sec_fetch_site)},
	{"HTTP_AUTHORIZATION", offsetof(struct request, authorization)},
	{"AUTHGATE_REQUIRE_ROLE", offsetof(struct request, require_role)},
	{"AUTHGATE_FRESH", offsetof(struct request, fresh)},
	{"AUTHGATE_PASSIVE", offsetof(struct request, passive)},
	{"AUTHGATE_BASIC", offsetof(struct request, basic)},
	{"AUTHGATE_REASON", offsetof(struct request, reason)},
	{"FCGI_APACHE_ROLE", offsetof(struct request, apache_role)},
	{"REMOTE_PASSWD", offsetof(struct request, remote_passwd)},
	{"AUTHGATE_RETRY_AFTER", offsetof(struct request, retry_after)},
};

void request_set_param(struct request *req, const char *name, size_t name_len,
		       const char *value, size_t value_len)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(known_params); i++) {
		if (strlen(known_params[i].name) == name_len &&
		    memcmp(known_params[i].name, name, name_len) == 0) {
			struct str *field =
				(struct str *)((char *)req +
					       known_params[i].offset);
			field->ptr = value;
			field->len = value_len;
			return;
		}
	}
}

static const struct {
	const char *name;
	size_t offset;
} known_headers[] = {
	{"X-Authgate-Endpoint", offsetof(struct request, endpoint)},
	{"X-Original-Method", offsetof(struct request, method)},
	{"X-Original-URI", offsetof(struct request, request_uri)},
	{"X-Real-IP", offsetof(struct request, remote_addr)},
	{"X-Forwarded-For", offsetof(struct request, forwarded_for)},
	{"Host", offsetof(struct request, host)},
	{"Cookie", offsetof(struct request, cookie)},
	{"Accept", offsetof(struct request, accept)},
	{"User-Agent", offsetof(struct request, user_agent)},
	{"Authorization", offsetof(struct request, authorization)},
	{"X-Authgate-Require-Role", offsetof(struct request, require_role)},
	{"X-Authgate-Fresh", offsetof(struct request, fresh)},
	{"X-Authgate-Passive", offsetof(struct request, passive)},
	{"X-Authgate-Basic", offsetof(struct request, basic)},
};

bool request_set_http_header(struct request *req, const char *name,
			     size_t name_len, const char *value,
			     size_t value_len)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(known_headers); i++) {
		struct str *field;

		if (strlen(known_headers[i].name) != name_len ||
		    strncasecmp(known_headers[i].name, name, name_len) != 0)
			continue;
		field = (struct str *)((char *)req + known_headers[i].offset);
		if (field->ptr != NULL)
			return false;
		field->ptr = value;
		field->len = value_len;
		return true;
	}
	return true;
}

void request_resolve_client(struct request *req,
			    const struct proxy_list *trusted)
{
	proxy_client_addr(trusted, req->remote_addr.ptr, req->remote_addr.len,
			  req->forwarded_for.ptr, req->forwarded_for.len,
			  &req->remote_addr.ptr, &req->remote_addr.len);
}

bool str_eq(struct str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.ptr != NULL && s.len == n && memcmp(s.ptr, lit, n) == 0;
}
