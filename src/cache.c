#include "cache.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

/* Shards keep lock contention low between the request threads. */
#define CACHE_SHARDS 64
#define BUCKETS_PER_SHARD 256

struct entry {
	struct entry *next;
	uint8_t key[CACHE_KEY_LEN];
	int64_t valid_until;
	int64_t user_id;
	int64_t created_at, authenticated_at, expires_at;
	bool remember;
	bool has_fingerprint;
	bool stale;
	uint8_t fingerprint[32];
	/* username, email and roles, each NUL-terminated, packed. */
	char strings[];
};

struct shard {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS_PER_SHARD];
	size_t count;
	size_t evict_cursor;
};

struct cache {
	struct shard shards[CACHE_SHARDS];
	size_t max_per_shard;
	long ttl;
	atomic_uint_fast64_t epoch;
	atomic_bool usable;
	atomic_int notify_fd;
	/* Set while the listener reads and applies notifications: they are
	 * out of the socket but not yet applied. */
	atomic_bool applying;
	pthread_mutex_t sync_lock;
	char last_sync[CACHE_SYNC_MAX + 1];
};

/* The key is a SHA-256 output: its bytes are already uniformly spread. */
static uint64_t key_hash(const uint8_t key[CACHE_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return h;
}

static struct shard *shard_of(struct cache *c, const uint8_t *key,
			      size_t *bucket)
{
	uint64_t h = key_hash(key);

	*bucket = (size_t)(h >> 8) % BUCKETS_PER_SHARD;
	return &c->shards[h % CACHE_SHARDS];
}

struct cache *cache_new(size_t max_entries, long ttl_seconds)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < CACHE_SHARDS; i++)
		pthread_mutex_init(&c->shards[i].lock, NULL);
	c->max_per_shard = max_entries / CACHE_SHARDS + 1;
	c->ttl = ttl_seconds;
	atomic_init(&c->epoch, 0);
	atomic_init(&c->usable, false);
	atomic_init(&c->notify_fd, -1);
	atomic_init(&c->applying, false);
	pthread_mutex_init(&c->sync_lock, NULL);
	return c;
}

static void clear_shard(struct shard *s)
{
	for (size_t b = 0; b < BUCKETS_PER_SHARD; b++) {
		struct entry *e = s->buckets[b];

		while (e != NULL) {
			struct entry *next = e->next;

			free(e);
			e = next;
		}
		s->buckets[b] = NULL;
	}
	s->count = 0;
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CACHE_SHARDS; i++) {
		clear_shard(&c->shards[i]);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	pthread_mutex_destroy(&c->sync_lock);
	free(c);
}

uint64_t cache_epoch(struct cache *c)
{
	return atomic_load(&c->epoch);
}

static bool notification_pending(struct cache *c, struct cache_round *round)
{
	struct pollfd pfd = {.fd = atomic_load(&c->notify_fd), .events = POLLIN};
	bool pending;

	if (round != NULL && round->polled)
		return round->pending;
	/* A failed poll() counts as pending: the cache is not trusted. */
	pending = pfd.fd >= 0 && poll(&pfd, 1, 0) != 0;
	if (round != NULL) {
		round->polled = true;
		round->pending = pending;
	}
	return pending;
}

void cache_round_start(struct cache_round *round)
{
	round->polled = false;
}

void cache_hold(struct cache *c, bool hold)
{
	atomic_store(&c->applying, hold);
}

bool cache_get(struct cache *c, struct cache_round *round,
	       const uint8_t key[CACHE_KEY_LEN], int64_t now,
	       struct identity *out)
{
	size_t bucket;
	struct shard *s;
	bool hit = false;

	/* The socket first, then the hold: a notification the listener has
	 * taken out of the socket is held until applied. */
	if (!atomic_load(&c->usable) || notification_pending(c, round) ||
	    atomic_load(&c->applying))
		return false;
	s = shard_of(c, key, &bucket);
	pthread_mutex_lock(&s->lock);
	for (struct entry *e = s->buckets[bucket]; e != NULL; e = e->next) {
		const char *p = e->strings;

		if (memcmp(e->key, key, CACHE_KEY_LEN) != 0)
			continue;
		if (now >= e->valid_until)
			break;
		out->user_id = e->user_id;
		out->created_at = e->created_at;
		out->authenticated_at = e->authenticated_at;
		out->expires_at = e->expires_at;
		out->remember = e->remember;
		out->has_fingerprint = e->has_fingerprint;
		out->stale = e->stale;
		memcpy(out->fingerprint, e->fingerprint, sizeof(e->fingerprint));
		strcpy(out->username, p);
		p += strlen(p) + 1;
		strcpy(out->email, p);
		p += strlen(p) + 1;
		strcpy(out->roles, p);
		hit = true;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

/* Unlinks and frees the first entry matching `key` in its bucket. */
static void remove_key(struct shard *s, size_t bucket, const uint8_t *key)
{
	for (struct entry **link = &s->buckets[bucket]; *link != NULL;
	     link = &(*link)->next) {
		if (memcmp((*link)->key, key, CACHE_KEY_LEN) == 0) {
			struct entry *gone = *link;

			*link = gone->next;
			free(gone);
			s->count--;
			return;
		}
	}
}

/* Frees the head of the next non-empty bucket (a cheap clock sweep). */
static void evict_one(struct shard *s)
{
	for (size_t i = 0; i < BUCKETS_PER_SHARD; i++) {
		size_t b = (s->evict_cursor + i) % BUCKETS_PER_SHARD;
		struct entry *e = s->buckets[b];

		if (e != NULL) {
			s->buckets[b] = e->next;
			free(e);
			s->count--;
			s->evict_cursor = b + 1;
			return;
		}
	}
}

void cache_put(struct cache *c, const uint8_t key[CACHE_KEY_LEN],
	       const struct identity *id, int64_t now, uint64_t epoch)
{
	size_t ulen = strlen(id->username) + 1, elen = strlen(id->email) + 1;
	size_t rlen = strlen(id->roles) + 1, bucket;
	struct entry *e = malloc(sizeof(*e) + ulen + elen + rlen);
	struct shard *s;

	if (e == NULL)
		return;
	memcpy(e->key, key, CACHE_KEY_LEN);
	e->valid_until = now + c->ttl < id->expires_at || id->expires_at == 0
				 ? now + c->ttl
				 : id->expires_at;
	e->user_id = id->user_id;
	e->created_at = id->created_at;
	e->authenticated_at = id->authenticated_at;
	e->expires_at = id->expires_at;
	e->remember = id->remember;
	e->has_fingerprint = id->has_fingerprint;
	e->stale = id->stale;
	memcpy(e->fingerprint, id->fingerprint, sizeof(e->fingerprint));
	memcpy(e->strings, id->username, ulen);
	memcpy(e->strings + ulen, id->email, elen);
	memcpy(e->strings + ulen + elen, id->roles, rlen);

	s = shard_of(c, key, &bucket);
	pthread_mutex_lock(&s->lock);
	/* Under the shard lock, so an invalidation either sees this entry
	 * (and drops it) or has already moved the epoch (and this is not
	 * stored). */
	if (!atomic_load(&c->usable) || atomic_load(&c->epoch) != epoch) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		return;
	}
	remove_key(s, bucket, key);
	if (s->count >= c->max_per_shard)
		evict_one(s);
	e->next = s->buckets[bucket];
	s->buckets[bucket] = e;
	s->count++;
	pthread_mutex_unlock(&s->lock);
}

void cache_drop_key(struct cache *c, const uint8_t key[CACHE_KEY_LEN])
{
	size_t bucket;
	struct shard *s = shard_of(c, key, &bucket);

	atomic_fetch_add(&c->epoch, 1);
	pthread_mutex_lock(&s->lock);
	remove_key(s, bucket, key);
	pthread_mutex_unlock(&s->lock);
}

void cache_drop_user(struct cache *c, int64_t user_id)
{
	atomic_fetch_add(&c->epoch, 1);
	/* User-wide changes are operator actions, rare enough for a scan. */
	for (size_t i = 0; i < CACHE_SHARDS; i++) {
		struct shard *s = &c->shards[i];

		pthread_mutex_lock(&s->lock);
		for (size_t b = 0; b < BUCKETS_PER_SHARD; b++) {
			struct entry **link = &s->buckets[b];

			while (*link != NULL) {
				struct entry *e = *link;

				if (e->user_id == user_id) {
					*link = e->next;
					free(e);
					s->count--;
				} else {
					link = &e->next;
				}
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
}

void cache_clear(struct cache *c)
{
	atomic_fetch_add(&c->epoch, 1);
	for (size_t i = 0; i < CACHE_SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		clear_shard(&c->shards[i]);
		pthread_mutex_unlock(&c->shards[i].lock);
	}
}

static bool parse_hash(const char *hex, uint8_t out[CACHE_KEY_LEN])
{
	return strlen(hex) == 2 * CACHE_KEY_LEN &&
	       hex_decode(hex, out, CACHE_KEY_LEN);
}

void cache_apply_notification(struct cache *c, const char *payload)
{
	uint8_t key[CACHE_KEY_LEN];
	char *end;

	if (strncmp(payload, "hash:", 5) == 0 && parse_hash(payload + 5, key)) {
		cache_drop_key(c, key);
		return;
	}
	if (strncmp(payload, "sync:", 5) == 0 &&
	    strlen(payload + 5) <= CACHE_SYNC_MAX) {
		pthread_mutex_lock(&c->sync_lock);
		strcpy(c->last_sync, payload + 5);
		pthread_mutex_unlock(&c->sync_lock);
		return;
	}
	if (strncmp(payload, "user:", 5) == 0 && payload[5] != '\0') {
		long long id = strtoll(payload + 5, &end, 10);

		if (*end == '\0') {
			cache_drop_user(c, id);
			return;
		}
	}
	cache_clear(c);
}

void cache_set_usable(struct cache *c, bool usable, int notify_fd)
{
	if (!usable) {
		atomic_store(&c->usable, false);
		atomic_store(&c->notify_fd, -1);
		cache_clear(c);
		return;
	}
	cache_clear(c);
	atomic_store(&c->notify_fd, notify_fd);
	atomic_store(&c->usable, true);
}

size_t cache_size(struct cache *c)
{
	size_t n = 0;

	for (size_t i = 0; i < CACHE_SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		n += c->shards[i].count;
		pthread_mutex_unlock(&c->shards[i].lock);
	}
	return n;
}

bool cache_usable(struct cache *c)
{
	return atomic_load(&c->usable);
}

void cache_last_sync(struct cache *c, char out[CACHE_SYNC_MAX + 1])
{
	pthread_mutex_lock(&c->sync_lock);
	strcpy(out, c->last_sync);
	pthread_mutex_unlock(&c->sync_lock);
}
