/* Picks the handler for a request from its endpoint and method. */
#ifndef AUTHGATE_ROUTER_H
#define AUTHGATE_ROUTER_H

#include <stdbool.h>

#include "handler.h"

struct route {
	handler_fn *handler;
	/* Slow handlers (password hashing) run on the hashing threads so
	 * they never hold up the checks. */
	bool slow;
	/* The handler can wait for a session lookup that the request thread
	 * batches with other requests' (handler_ctx.lookup). */
	bool batch_lookups;
};

/*
 * Returns the route for `req`: the authorizer for a request in the
 * FastCGI AUTHORIZER role, else by endpoint and method. Unknown endpoints and methods get routes
 * whose handlers answer 404 and 405.
 */
struct route router_find(const struct request *req);

#endif
