/*
 * The FastCGI server. `threads` event-loop workers share the listening
 * socket; each serves any number of connections (kept-alive or not) and
 * owns one database connection, so more nginx connections than threads
 * never stall. Slow routes (login posts, which hash passwords) are handed
 * to `hash_threads` separate workers with their own database connections
 * and come back to the connection's worker to be written.
 */
#ifndef AUTHGATE_SERVER_H
#define AUTHGATE_SERVER_H

#include <stdint.h>

#include "common.h"
#include "config.h"

/*
 * Opens the socket of cfg->listen ("" = the FastCGI socket on fd 0).
 * Returns the listening fd or -1 with one line in `err`.
 */
int server_listen(const struct config *cfg, char *err, size_t err_cap) AG_MUST_CHECK;

/*
 * Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight
 * requests finish (bounded by the database timeout) and returns 0; -1 when
 * the threads could not be started. Call with SIGTERM, SIGINT blocked.
 */
int server_run(const struct config *cfg, const uint8_t *csrf_key,
	       int listen_fd) AG_MUST_CHECK;

#endif
