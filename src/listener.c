#include "listener.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

#define RECONNECT_DELAY_MS 1000
#define WAIT_SLICE_MS 60000

struct listener {
	pthread_t thread;
	struct db *db;
	struct cache *cache;       /* sessions and API tokens; NULL when off */
	struct cache *basic_cache; /* HTTP Basic credentials; NULL when off */
	int wake_fd;
	atomic_bool stopping;
};

static void apply(const char *payload, void *arg)
{
	struct listener *l = arg;

	log_event(LOG_DEBUG, 0, "cache_invalidation", "payload", payload, NULL);
	if (l->cache != NULL)
		cache_apply_notification(l->cache, payload);
	/* Basic credentials are keyed by an HMAC, never by a token hash: a
	 * "hash:" notification cannot concern them, and applying it would
	 * only keep the verifications in flight out of the cache. */
	if (l->basic_cache != NULL && strncmp(payload, "hash:", 5) != 0)
		cache_apply_notification(l->basic_cache, payload);
}

static void set_usable(struct listener *l, bool usable, int notify_fd)
{
	if (l->cache != NULL)
		cache_set_usable(l->cache, usable, notify_fd);
	if (l->basic_cache != NULL)
		cache_set_usable(l->basic_cache, usable, notify_fd);
}

static void hold(struct listener *l, bool on)
{
	if (l->cache != NULL)
		cache_hold(l->cache, on);
	if (l->basic_cache != NULL)
		cache_hold(l->basic_cache, on);
}

/* Waits for notifications and applies them; the caches are held from
 * before the socket is read until then (cache_hold()). On a lost
 * connection the caches are made unusable before the hold ends (what was
 * read may not all have been applied) and before the caller closes the
 * socket (its number must not be polled after it is reused). */
static enum db_result take_notifications(struct listener *l)
{
	bool readable;
	enum db_result r = db_wait_readable(l->db, l->wake_fd, WAIT_SLICE_MS,
					    &readable);

	if (r == DB_OK && !readable)
		return DB_OK;
	if (r == DB_OK) {
		hold(l, true);
		r = db_read_notifications(l->db, apply, l);
	}
	if (r != DB_OK)
		set_usable(l, false, -1);
	hold(l, false);
	return r;
}

static void *listener_main(void *arg)
{
	struct listener *l = arg;
	bool listening = false, warned = false;
	char err[256];

	while (!atomic_load(&l->stopping)) {
		if (!listening) {
			if (db_listen(l->db, err, sizeof(err)) != DB_OK) {
				struct pollfd pfd = {.fd = l->wake_fd, .events = POLLIN};

				if (!warned)
					log_event(LOG_WARN, 0, "cache_off", "msg",
						  "session cache off until the "
						  "database answers", "error", err,
						  NULL);
				warned = true;
				poll(&pfd, 1, RECONNECT_DELAY_MS);
				continue;
			}
			/* Emptied on the way in: nothing cached before now
			 * can have missed a notification. */
			set_usable(l, true, db_socket(l->db));
			listening = true;
			if (warned)
				log_event(LOG_INFO, 0, "cache_on", NULL);
			warned = false;
		}
		if (take_notifications(l) != DB_OK) {
			db_close(l->db);
			listening = false;
			log_event(LOG_WARN, 0, "cache_listener_lost", "msg",
				  "lost the cache invalidation connection; "
				  "session cache off until it is back", NULL);
			warned = true;
		}
	}
	set_usable(l, false, -1);
	db_close(l->db);
	return NULL;
}

struct listener *listener_start(const struct config *cfg, struct cache *cache,
				struct cache *basic_cache)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->cache = cache;
	l->basic_cache = basic_cache;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->db = db_new(cfg->db, cfg->db_password, cfg->db_timeout);
	atomic_init(&l->stopping, false);
	if (l->wake_fd < 0 || l->db == NULL ||
	    pthread_create(&l->thread, NULL, listener_main, l) != 0) {
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		db_free(l->db);
		free(l);
		return NULL;
	}
	return l;
}

void listener_stop(struct listener *l)
{
	uint64_t one = 1;

	if (l == NULL)
		return;
	atomic_store(&l->stopping, true);
	if (write(l->wake_fd, &one, sizeof(one)) < 0)
		log_system_error("eventfd write");
	pthread_join(l->thread, NULL);
	close(l->wake_fd);
	db_free(l->db);
	free(l);
}
