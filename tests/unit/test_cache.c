#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cache.h"

static void key_of(uint8_t key[CACHE_KEY_LEN], unsigned n)
{
	memset(key, 0, CACHE_KEY_LEN);
	/* Spread over shards and buckets like a real SHA-256 would. */
	for (size_t i = 0; i < CACHE_KEY_LEN; i++)
		key[i] = (uint8_t)((n * 2654435761u) >> (i % 4 * 8)) ^ (uint8_t)i;
}

static struct identity identity(int64_t user_id, int64_t expires_at)
{
	struct identity id;

	memset(&id, 0, sizeof(id));
	id.user_id = user_id;
	snprintf(id.username, sizeof(id.username), "user%lld", (long long)user_id);
	strcpy(id.email, "u@example.com");
	strcpy(id.roles, "admin,ops");
	id.created_at = 1000;
	id.authenticated_at = 1001;
	id.expires_at = expires_at;
	id.remember = true;
	return id;
}

static struct cache *usable_cache(size_t max, long ttl)
{
	struct cache *c = cache_new(max, ttl);

	cr_assert_not_null(c);
	cache_set_usable(c, true, -1);
	return c;
}

Test(cache, put_then_get_copies_everything)
{
	struct cache *c = usable_cache(100, 60);
	struct identity in = identity(7, 5000), out;
	uint8_t key[CACHE_KEY_LEN];

	key_of(key, 1);
	cache_put(c, key, &in, 100, cache_epoch(c));
	cr_assert(cache_get(c, NULL, key, 100, &out));
	cr_assert_eq(out.user_id, 7);
	cr_assert_str_eq(out.username, "user7");
	cr_assert_str_eq(out.email, "u@example.com");
	cr_assert_str_eq(out.roles, "admin,ops");
	cr_assert_eq(out.created_at, 1000);
	cr_assert_eq(out.authenticated_at, 1001);
	cr_assert_eq(out.expires_at, 5000);
	cr_assert(out.remember);
	cr_assert_eq(cache_size(c), 1);
	cache_free(c);
}

Test(cache, entries_live_for_the_ttl_and_never_past_expiry)
{
	struct cache *c = usable_cache(100, 60);
	struct identity id = identity(1, 130), out;
	uint8_t a[CACHE_KEY_LEN], b[CACHE_KEY_LEN];

	key_of(a, 1);
	key_of(b, 2);
	cache_put(c, a, &id, 100, cache_epoch(c)); /* expires at 130 < 100+60 */
	cr_assert(cache_get(c, NULL, a, 129, &out));
	cr_assert(!cache_get(c, NULL, a, 130, &out), "never past the session's expiry");
	id.expires_at = 0; /* an API token without expiry */
	cache_put(c, b, &id, 100, cache_epoch(c));
	cr_assert(cache_get(c, NULL, b, 159, &out));
	cr_assert(!cache_get(c, NULL, b, 160, &out), "re-checked after the ttl");
	cache_free(c);
}

Test(cache, an_overtaken_answer_is_not_stored)
{
	struct cache *c = usable_cache(100, 60);
	struct identity id = identity(1, 5000), out;
	uint8_t key[CACHE_KEY_LEN], other[CACHE_KEY_LEN];
	uint64_t epoch;

	key_of(key, 1);
	key_of(other, 2);
	/* A database answer read before an invalidation arrives later. */
	epoch = cache_epoch(c);
	cache_drop_key(c, other);
	cache_put(c, key, &id, 100, epoch);
	cr_assert(!cache_get(c, NULL, key, 100, &out));
	cache_free(c);
}

Test(cache, unusable_cache_neither_stores_nor_answers)
{
	struct cache *c = cache_new(100, 60);
	struct identity id = identity(1, 5000), out;
	uint8_t key[CACHE_KEY_LEN];

	key_of(key, 1);
	cache_put(c, key, &id, 100, cache_epoch(c));
	cr_assert(!cache_get(c, NULL, key, 100, &out), "a new cache is not usable");
	cache_set_usable(c, true, -1);
	cache_put(c, key, &id, 100, cache_epoch(c));
	cr_assert(cache_get(c, NULL, key, 100, &out));
	cache_set_usable(c, false, -1);
	cr_assert_eq(cache_size(c), 0, "losing the listener empties the cache");
	cr_assert(!cache_get(c, NULL, key, 100, &out));
	cache_free(c);
}

Test(cache, notifications_drop_what_they_name)
{
	struct cache *c = usable_cache(100, 60);
	struct identity u1 = identity(1, 5000), u2 = identity(2, 5000), out;
	uint8_t k1[CACHE_KEY_LEN], k2[CACHE_KEY_LEN], k3[CACHE_KEY_LEN];
	char payload[80] = "hash:";

	key_of(k1, 1);
	key_of(k2, 2);
	key_of(k3, 3);
	cache_put(c, k1, &u1, 100, cache_epoch(c));
	cache_put(c, k2, &u1, 100, cache_epoch(c));
	cache_put(c, k3, &u2, 100, cache_epoch(c));

	for (size_t i = 0; i < CACHE_KEY_LEN; i++)
		sprintf(payload + 5 + 2 * i, "%02x", k3[i]);
	cache_apply_notification(c, payload);
	cr_assert(!cache_get(c, NULL, k3, 100, &out));
	cr_assert(cache_get(c, NULL, k1, 100, &out));

	cache_apply_notification(c, "user:1");
	cr_assert(!cache_get(c, NULL, k1, 100, &out));
	cr_assert(!cache_get(c, NULL, k2, 100, &out));
	cr_assert_eq(cache_size(c), 0);
	cache_free(c);
}

Test(cache, unknown_or_malformed_notifications_clear_everything)
{
	static const char *const payloads[] = {
		"all", "nonsense", "hash:zz", "hash:", "user:", "user:12x",
		"HASH:00", "",
	};

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		struct cache *c = usable_cache(100, 60);
		struct identity id = identity(1, 5000);
		uint8_t key[CACHE_KEY_LEN];

		key_of(key, 1);
		cache_put(c, key, &id, 100, cache_epoch(c));
		cache_apply_notification(c, payloads[i]);
		cr_assert_eq(cache_size(c), 0, "payload \"%s\"", payloads[i]);
		cache_free(c);
	}
}

Test(cache, sync_is_recorded_and_drops_nothing)
{
	struct cache *c = usable_cache(100, 60);
	struct identity id = identity(1, 5000);
	uint8_t key[CACHE_KEY_LEN];
	char sync[CACHE_SYNC_MAX + 1];

	key_of(key, 1);
	cache_last_sync(c, sync);
	cr_assert_str_eq(sync, "");
	cache_put(c, key, &id, 100, cache_epoch(c));
	cache_apply_notification(c, "sync:abc123");
	cache_last_sync(c, sync);
	cr_assert_str_eq(sync, "abc123");
	cr_assert_eq(cache_size(c), 1);
	cache_free(c);
}

Test(cache, size_is_bounded)
{
	struct cache *c = usable_cache(640, 60);
	struct identity id = identity(1, 5000);

	for (unsigned n = 0; n < 10000; n++) {
		uint8_t key[CACHE_KEY_LEN];

		key_of(key, n);
		cache_put(c, key, &id, 100, cache_epoch(c));
	}
	/* max / shards + 1 per shard, 64 shards */
	cr_assert_leq(cache_size(c), 640 + 64);
	cr_assert_geq(cache_size(c), 600);
	cache_free(c);
}

/* The listener's socket stand-in: a socketpair whose far end "sends a
 * notification". */
Test(cache, pending_notification_is_heeded_per_call_or_per_round)
{
	struct cache *c = cache_new(100, 60);
	struct identity id = identity(1, 5000), out;
	struct cache_round round = {0};
	uint8_t key[CACHE_KEY_LEN];
	int sv[2];
	char byte = 'n';

	cr_assert_not_null(c);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cache_set_usable(c, true, sv[0]);
	key_of(key, 1);
	cache_put(c, key, &id, 100, cache_epoch(c));
	cache_round_start(&round);
	cr_assert(cache_get(c, &round, key, 100, &out));
	cr_assert_eq(write(sv[1], &byte, 1), 1);
	cr_assert(!cache_get(c, NULL, key, 100, &out),
		  "without a round, every lookup polls");
	cr_assert(cache_get(c, &round, key, 100, &out),
		  "a round polls once, at its first lookup");
	cache_round_start(&round);
	cr_assert(!cache_get(c, &round, key, 100, &out),
		  "the next round sees the notification");
	cr_assert(!cache_get(c, &round, key, 100, &out));
	cr_assert_eq(read(sv[0], &byte, 1), 1);
	cr_assert(!cache_get(c, &round, key, 100, &out),
		  "the round remembers what it saw");
	cache_round_start(&round);
	cr_assert(cache_get(c, &round, key, 100, &out));
	cache_set_usable(c, false, -1);
	close(sv[0]);
	close(sv[1]);
	cache_free(c);
}

Test(cache, held_cache_answers_nothing)
{
	struct cache *c = usable_cache(100, 60);
	struct identity id = identity(1, 5000), out;
	struct cache_round round = {0};
	uint8_t key[CACHE_KEY_LEN];

	key_of(key, 1);
	cache_put(c, key, &id, 100, cache_epoch(c));
	cache_round_start(&round);
	cr_assert(cache_get(c, &round, key, 100, &out));
	cache_hold(c, true);
	cr_assert(!cache_get(c, &round, key, 100, &out),
		  "read from the socket but not yet applied");
	cr_assert(!cache_get(c, NULL, key, 100, &out));
	cache_hold(c, false);
	cr_assert(cache_get(c, &round, key, 100, &out));
	cache_free(c);
}
