#include "router.h"

#include <string.h>

enum method_mask {
	M_GET = 1, /* HEAD is served as GET; nginx drops the body */
	M_POST = 2,
	M_ANY = 4,
};

static const struct {
	const char *endpoint;
	unsigned methods;
	handler_fn *get;
	handler_fn *post;
	bool slow_post;
	bool batch_get; /* `get` can wait for a batched session lookup */
} routes[] = {
	/* auth_request subrequests and error_page redirects keep the
	 * client's method, so these two answer any. */
	{"check", M_ANY, handle_check, NULL, false, true},
	{"unauthorized", M_ANY, handle_unauthorized, NULL, false, false},
	{"login", M_GET | M_POST, handle_login_form, handle_login_post, true,
	 false},
	{"logout", M_GET | M_POST, handle_logout_form, handle_logout_post,
	 false, false},
	{"password", M_GET | M_POST, handle_password_form, handle_password_post,
	 true, false},
	{"register", M_GET | M_POST, handle_register_form, handle_register_post,
	 true, false},
	{"whoami", M_GET, handle_whoami, NULL, false, false},
	{"healthz", M_GET, handle_healthz, NULL, false, false},
	{"metrics", M_GET, handle_metrics, NULL, false, false},
};

static void handle_not_found(const struct request *req, struct response *resp,
			     struct handler_ctx *ctx)
{
	(void)req;
	(void)ctx;
	handler_json_error(resp, 404, "not_found", "no such endpoint");
}

static void bad_method(struct response *resp, const char *allow)
{
	response_header(resp, "Allow", allow, strlen(allow));
	handler_json_error(resp, 405, "method_not_allowed",
			   "method not allowed here");
}

static void handle_get_only(const struct request *req, struct response *resp,
			    struct handler_ctx *ctx)
{
	(void)req;
	(void)ctx;
	bad_method(resp, "GET, HEAD");
}

static void handle_get_or_post(const struct request *req,
			       struct response *resp, struct handler_ctx *ctx)
{
	(void)req;
	(void)ctx;
	bad_method(resp, "GET, HEAD, POST");
}

struct route router_find(const struct request *req)
{
	if (req->authorizer)
		return (struct route){handle_authorize, false, true};
	for (size_t i = 0; i < AG_ARRAY_LEN(routes); i++) {
		if (!str_eq(req->endpoint, routes[i].endpoint))
			continue;
		if ((routes[i].methods & M_ANY) ||
		    ((routes[i].methods & M_GET) &&
		     (str_eq(req->method, "GET") || str_eq(req->method, "HEAD"))))
			return (struct route){routes[i].get, false,
					      routes[i].batch_get};
		if ((routes[i].methods & M_POST) && str_eq(req->method, "POST"))
			return (struct route){routes[i].post, routes[i].slow_post,
					      false};
		return (struct route){routes[i].methods & M_POST
					      ? handle_get_or_post
					      : handle_get_only,
				      false, false};
	}
	return (struct route){handle_not_found, false, false};
}
