/*
 * The PostgreSQL side: one connection, every statement prepared on
 * connect and executed with parameters only. The only user of libpq.
 * A struct db belongs to one thread at a time.
 */
#ifndef AUTHGATE_DB_H
#define AUTHGATE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "identity.h"

/* The schema version (sql/install.sql) this binary needs at least. */
#define DB_SCHEMA_VERSION 6
#define DB_SECRET_LEN 32

enum db_result {
	DB_OK = 0,
	DB_NOT_FOUND = 1,
	DB_ERROR = -1,       /* connection lost, timeout, server error */
	DB_SCHEMA_OLD = -2,  /* schema missing or older than DB_SCHEMA_VERSION */
};

struct db;

struct login_user {
	int64_t user_id;
	char password_hash[256];
	bool disabled;
};

/*
 * `conninfo` as libpq reads it, one keyword=value after another, with the
 * password (and any value of a keyword holding one) shown as ***: what
 * check-config prints. Parsing is libpq's own, so no spelling of the
 * password (spaces around '=', quotes, URI user:password@) escapes.
 */
void db_conninfo_masked(const char *conninfo, char *out, size_t cap);

/*
 * A handle for `conninfo` ("" = PG* environment) and `password` (NULL or
 * "": libpq's own sources; else it overrides them, --db-password-file);
 * connects lazily. Every connect and statement is bounded by
 * `timeout_seconds`. NULL when out of memory. Free with db_free().
 */
struct db *db_new(const char *conninfo, const char *password,
		  long timeout_seconds);
void db_free(struct db *db);

/*
 * Connects (if not connected), checks the schema version and prepares the
 * statements. On failure writes one line into `err` (no secret in it).
 */
enum db_result db_connect(struct db *db, char *err, size_t err_cap) AG_MUST_CHECK;

/* The calls below connect or reconnect as needed; a lost connection is
 * retried on the next call. */

enum db_result db_ping(struct db *db) AG_MUST_CHECK;
enum db_result db_secret(struct db *db, uint8_t key[DB_SECRET_LEN]) AG_MUST_CHECK;

/* How many statements ran out of --db-timeout on this connection object
 * (the database hangs, rather than being down), since db_new(). */
unsigned long db_timeouts(const struct db *db);

/* A valid session: DB_OK with `out`, DB_NOT_FOUND when absent, expired or
 * its user disabled. last_seen is written at most once per touch_seconds. */
enum db_result db_check_session(struct db *db, const uint8_t token_hash[32],
				long idle_seconds, long touch_seconds,
				struct identity *out) AG_MUST_CHECK;

/* One check of a batch: the caller fills `token_hash` and
 * `touch_seconds`; db_check_sessions() sets `result` and, on DB_OK, `id`. */
struct db_session_check {
	uint8_t token_hash[32];
	long touch_seconds;
	enum db_result result;
	struct identity id;
};

/* The most checks one db_check_sessions() call takes. */
#define DB_CHECK_BATCH_MAX 64

/*
 * db_check_session() for `n` (1..DB_CHECK_BATCH_MAX) sessions in one
 * statement and one round trip. Each check gets its own result: DB_OK,
 * DB_NOT_FOUND, or DB_ERROR for all when the statement failed.
 */
void db_check_sessions(struct db *db, struct db_session_check *const *checks,
		       size_t n, long idle_seconds);

enum db_result db_check_api_token(struct db *db, const uint8_t token_hash[32],
				  struct identity *out) AG_MUST_CHECK;

enum db_result db_user_for_login(struct db *db, const char *username,
				 struct login_user *out) AG_MUST_CHECK;

/* `client_addr` and `user_agent` may be NULL; `fingerprint` is the
 * client's session-protection fingerprint. */
enum db_result db_login_success(struct db *db, int64_t user_id,
				const uint8_t token_hash[32],
				long lifetime_seconds, bool remember,
				const char *client_addr, const char *user_agent,
				const uint8_t fingerprint[32]) AG_MUST_CHECK;

/* Makes the session fresh again after its user entered the password;
 * DB_NOT_FOUND when it is not that user's live session. */
enum db_result db_reauthenticate(struct db *db, const uint8_t token_hash[32],
				 int64_t user_id, const char *client_addr,
				 const char *user_agent,
				 const uint8_t fingerprint[32]) AG_MUST_CHECK;

/*
 * A password verified against `password_hash` by HTTP Basic: DB_OK with the
 * user's identity (times 0) when that is still the user's hash and the
 * user is enabled, DB_NOT_FOUND otherwise. Records the success.
 */
enum db_result db_basic_login(struct db *db, int64_t user_id,
			      const char *password_hash, const char *client_addr,
			      const char *user_agent,
			      struct identity *out) AG_MUST_CHECK;

/* Session protection saw another client: ends the session (`end`) or
 * marks it not fresh. */
enum db_result db_session_mismatch(struct db *db, const uint8_t token_hash[32],
				   bool end, const char *client_addr,
				   const char *user_agent) AG_MUST_CHECK;

/*
 * Brute-force regulation (counters shared in PostgreSQL by every daemon):
 * `*retry_after` gets 0, or the seconds the account or client address
 * stays locked: max failures within window_seconds of the first one lock
 * it for lockout_seconds after the last.
 */
enum db_result db_login_throttle(struct db *db, const char *username,
				 const char *client_addr, const char *user_agent,
				 long window_seconds, long lockout_seconds,
				 long max_user_failures,
				 long max_addr_failures,
				 long *retry_after) AG_MUST_CHECK;

enum db_result db_login_failure(struct db *db, const char *username,
				const char *reason, const char *client_addr,
				const char *user_agent) AG_MUST_CHECK;

/* Compare-and-set of the hash (a concurrent set_password wins). */
enum db_result db_rehash(struct db *db, int64_t user_id, const char *old_hash,
			 const char *new_hash) AG_MUST_CHECK;

/* authgate.purge_expired() as the daemon: deletes expired sessions,
 * tokens, old failure counters and events older than
 * audit_retention_days (0: none); `*deleted` gets the row count. */
enum db_result db_purge_expired(struct db *db, long audit_retention_days,
			       long *deleted) AG_MUST_CHECK;

/*
 * Makes this connection LISTEN on channel "authgate" (connecting first if
 * needed). On failure writes one line into `err`.
 */
enum db_result db_listen(struct db *db, char *err, size_t err_cap) AG_MUST_CHECK;

/* Closes the connection (the next call reconnects). */
void db_close(struct db *db);

/* The connection's socket (for poll), or -1 when not connected. */
int db_socket(struct db *db);

typedef void db_notify_fn(const char *payload, void *arg);

/*
 * Waits until the listening connection's socket or `wake_fd` becomes
 * readable, or `timeout_ms` passes; `readable` tells whether the socket
 * did. DB_ERROR when the connection is unusable.
 */
enum db_result db_wait_readable(struct db *db, int wake_fd, int timeout_ms,
				bool *readable) AG_MUST_CHECK;

/*
 * Reads what the socket holds and calls `fn` for every notification
 * received. DB_ERROR when the connection is lost: the socket stays open
 * until db_close(), so the caller can stop trusting it first.
 */
enum db_result db_read_notifications(struct db *db, db_notify_fn *fn,
				     void *arg) AG_MUST_CHECK;

/* Ends the session, or with `all` every session of its user. */
enum db_result db_logout(struct db *db, const uint8_t token_hash[32], bool all,
			 const char *client_addr,
			 const char *user_agent) AG_MUST_CHECK;

/*
 * A signed-in user's new password: compare-and-set from `old_hash`, every
 * other session of the user ends (`*ended` of them), the session
 * `token_hash` stays and is fresh. DB_NOT_FOUND when the hash changed
 * meanwhile or the session is gone.
 */
enum db_result db_change_password(struct db *db, const uint8_t token_hash[32],
				  int64_t user_id, const char *old_hash,
				  const char *new_hash, const char *client_addr,
				  const char *user_agent, long *ended) AG_MUST_CHECK;

#define DB_OUTCOME_MAX 24

/*
 * Self-registration before hashing: `outcome` gets "ok", "throttled",
 * "username_taken", "email_taken", "invalid_username" or "invalid_email".
 */
enum db_result db_register_check(struct db *db, const char *username,
				 const char *email, const char *client_addr,
				 const char *user_agent, long max_per_hour,
				 char outcome[DB_OUTCOME_MAX]) AG_MUST_CHECK;

/* Creates the user (disabled: pending approval); `outcome` "ok" with
 * `*user_id`, or "username_taken" / "email_taken" after a race. */
enum db_result db_register(struct db *db, const char *username,
			   const char *email, const char *hash, bool disabled,
			   const char *client_addr, const char *user_agent,
			   int64_t *user_id, char outcome[DB_OUTCOME_MAX]) AG_MUST_CHECK;

#endif
