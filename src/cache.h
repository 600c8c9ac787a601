/*
 * In-process cache of recently validated sessions and API tokens, keyed by
 * the token's SHA-256, so most checks need no database round trip.
 *
 * Correctness rests on invalidation: every change that ends or alters a
 * session reaches every daemon as a PostgreSQL NOTIFY (sql/install.sql,
 * version 2) and drops the affected entries here. While the listening
 * connection is down the cache is marked unusable: emptied, and bypassed
 * until listening again, so no notification can be missed. An entry also
 * lives at most `ttl` seconds, after which the database is asked again
 * (that re-check is also what records activity for the idle timeout).
 *
 * Thread-safe: any thread may call any function.
 */
#ifndef AUTHGATE_CACHE_H
#define AUTHGATE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "identity.h"

#define CACHE_KEY_LEN 32

struct cache;

/* An empty, unusable cache of at most `max_entries`; NULL on no memory. */
struct cache *cache_new(size_t max_entries, long ttl_seconds);
void cache_free(struct cache *cache);

/*
 * The invalidation counter: read it before asking the database, pass it to
 * cache_put(), which then refuses to store an answer that an invalidation
 * may have overtaken.
 */
uint64_t cache_epoch(struct cache *cache);

/*
 * A request thread's look at the listener's socket for one round of
 * events (see cache_set_usable()): polled at the round's first cache_get()
 * and not again until cache_round_start(), which the thread calls after
 * each epoll_wait(). So a notification that arrives during a round is
 * heeded from the next one, a fraction of a millisecond later, and a busy
 * thread makes one poll() per round instead of one per check. The caches
 * share that socket, so one round serves them all.
 */
struct cache_round {
	bool polled;
	bool pending;
};

void cache_round_start(struct cache_round *round);

/* Copies the entry for `key` into `out` when usable, present and still
 * within both its ttl and the identity's expiry at `now`. `round` may be
 * NULL: the listener's socket is then polled on every call. */
bool cache_get(struct cache *cache, struct cache_round *round,
	       const uint8_t key[CACHE_KEY_LEN], int64_t now,
	       struct identity *out);

/* Stores a validated identity (checked at `now`) unless the cache is
 * unusable or invalidated since `epoch`. Evicts an old entry when full. */
void cache_put(struct cache *cache, const uint8_t key[CACHE_KEY_LEN],
	       const struct identity *id, int64_t now, uint64_t epoch);

/* Invalidation: one key, all of a user's entries, or everything. */
void cache_drop_key(struct cache *cache, const uint8_t key[CACHE_KEY_LEN]);
void cache_drop_user(struct cache *cache, int64_t user_id);
void cache_clear(struct cache *cache);

#define CACHE_SYNC_MAX 64

/*
 * Applies one NOTIFY payload ("hash:<64 hex>", "user:<id>", "all"), or
 * records a "sync:<token>" (see cache_last_sync()). Anything else clears
 * the cache: an unknown message must not be ignored.
 */
void cache_apply_notification(struct cache *cache, const char *payload);

/*
 * Usable only while the invalidation listener is connected; becoming
 * unusable empties the cache. `notify_fd` is the listener's database
 * socket: while it holds unread input (a notification on its way in), no
 * entry is trusted, which narrows the window between a revocation's commit
 * and its arrival to what PostgreSQL takes to send it.
 */
void cache_set_usable(struct cache *cache, bool usable, int notify_fd);

/*
 * Held by the listener from before it reads its socket until it has
 * applied what it read: no entry is trusted meanwhile, so a notification
 * is never out of the socket and not yet applied while a check trusts the
 * cache.
 */
void cache_hold(struct cache *cache, bool hold);

size_t cache_size(struct cache *cache);

bool cache_usable(struct cache *cache);

/* The token of the last "sync:<token>" notification ("" before any):
 * notifications arrive in commit order, so every change committed before
 * that NOTIFY has been applied. */
void cache_last_sync(struct cache *cache, char out[CACHE_SYNC_MAX + 1]);

#endif
