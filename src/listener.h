/*
 * The cache's invalidation listener: one thread with its own database
 * connection that LISTENs for the NOTIFYs of sql/install.sql and applies
 * them to the caches (sessions, HTTP Basic credentials). A cache is usable
 * only while it listens.
 */
#ifndef AUTHGATE_LISTENER_H
#define AUTHGATE_LISTENER_H

#include "cache.h"
#include "common.h"
#include "config.h"

struct listener;

/* Starts the thread for one or both caches (either may be NULL); NULL
 * when it could not. */
struct listener *listener_start(const struct config *cfg, struct cache *cache,
				struct cache *basic_cache);

/* Stops the thread and frees everything (NULL is fine). */
void listener_stop(struct listener *l);

#endif
