/*
 * The cache's invalidation listener: one thread with its own database
 * connection that LISTENs for the NOTIFYs of sql/install.sql and applies
 * them to the session cache. The cache is usable only while it listens.
 */
#ifndef AUTHGATE_LISTENER_H
#define AUTHGATE_LISTENER_H

#include "cache.h"
#include "common.h"
#include "config.h"

struct listener;

/* Starts the thread; NULL when it could not. */
struct listener *listener_start(const struct config *cfg, struct cache *cache);

/* Stops the thread and frees everything (NULL is fine). */
void listener_stop(struct listener *l);

#endif
