#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "log.h"
#include "metrics.h"

enum statement {
	ST_VERSION,
	ST_PING,
	ST_SECRET,
	ST_CHECK_SESSION,
	ST_CHECK_SESSIONS,
	ST_CHECK_TOKEN,
	ST_USER_FOR_LOGIN,
	ST_LOGIN_SUCCESS,
	ST_LOGIN_FAILURE,
	ST_REHASH,
	ST_LOGOUT,
	ST_PURGE,
	ST_THROTTLE,
	ST_REAUTH,
	ST_MISMATCH,
	ST_CHANGE_PASSWORD,
	ST_REGISTER_CHECK,
	ST_REGISTER,
	ST_BASIC_LOGIN,
	ST_COUNT
};

#define IDENTITY_COLUMNS                                                     \
	"user_id, username, coalesce(email, ''), roles, "                    \
	"extract(epoch from created_at)::bigint, "                           \
	"extract(epoch from authenticated_at)::bigint, "                     \
	"extract(epoch from expires_at)::bigint, remember, fingerprint, stale"

/* Every statement the daemon runs; all go through the daemon_* functions
 * because the daemon's role has no table privileges. */
static const char *const statement_sql[ST_COUNT] = {
	[ST_VERSION] = "SELECT authgate.schema_version()",
	[ST_PING] = "SELECT authgate.daemon_ping()",
	[ST_SECRET] = "SELECT authgate.daemon_secret()",
	[ST_CHECK_SESSION] = "SELECT " IDENTITY_COLUMNS
			     " FROM authgate.daemon_check_session($1, $2, $3)",
	[ST_CHECK_SESSIONS] = "SELECT " IDENTITY_COLUMNS ", ord FROM "
			      "authgate.daemon_check_sessions($1, $2, $3)",
	[ST_CHECK_TOKEN] =
		"SELECT user_id, username, coalesce(email, ''), roles, 0, 0, "
		"coalesce(extract(epoch from expires_at)::bigint, 0), false, "
		"NULL::bytea, false FROM authgate.daemon_check_api_token($1)",
	[ST_USER_FOR_LOGIN] = "SELECT user_id, password_hash, disabled "
			      "FROM authgate.daemon_user_for_login($1)",
	[ST_LOGIN_SUCCESS] = "SELECT authgate.daemon_login_success("
			     "$1, $2, $3, $4, $5, $6, $7)",
	[ST_REAUTH] = "SELECT authgate.daemon_reauthenticate($1, $2, $3, $4, $5)",
	[ST_MISMATCH] = "SELECT authgate.daemon_session_mismatch($1, $2, $3, $4)",
	[ST_LOGIN_FAILURE] = "SELECT authgate.daemon_login_failure($1, $2, $3, $4)",
	[ST_REHASH] = "SELECT authgate.daemon_rehash($1, $2, $3)",
	[ST_LOGOUT] = "SELECT authgate.daemon_logout($1, $2, $3, $4)",
	[ST_PURGE] = "SELECT authgate.daemon_purge_expired($1)",
	[ST_THROTTLE] = "SELECT authgate.daemon_login_throttle("
			"$1, $2, $3, $4, $5, $6, $7)",
	[ST_CHANGE_PASSWORD] = "SELECT authgate.daemon_change_password("
			       "$1, $2, $3, $4, $5, $6)",
	[ST_REGISTER_CHECK] = "SELECT authgate.daemon_register_check("
			      "$1, $2, $3, $4, $5)",
	[ST_REGISTER] = "SELECT coalesce(user_id, 0), outcome FROM "
			"authgate.daemon_register($1, $2, $3, $4, $5, $6)",
	[ST_BASIC_LOGIN] =
		"SELECT user_id, username, coalesce(email, ''), roles, 0, 0, 0, "
		"false, NULL::bytea, false "
		"FROM authgate.daemon_basic_login($1, $2, $3, $4)",
};

static const char *const statement_name[ST_COUNT] = {
	"version", "ping", "secret", "check_session", "check_sessions",
	"check_token",
	"user_for_login", "login_success", "login_failure", "rehash", "logout",
	"purge", "throttle", "reauthenticate", "mismatch", "change_password",
	"register_check", "register", "basic_login",
};

struct db {
	PGconn *conn;
	char *conninfo;
	char *password; /* NULL: libpq's own sources */
	long timeout_seconds;
	bool timed_out; /* the last execute() failed by running out of time */
	unsigned long timeouts; /* statements that ran out of time, ever */
	bool connected_before; /* a later connect is a reconnect */
};

struct db *db_new(const char *conninfo, const char *password,
		  long timeout_seconds)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->conninfo = strdup(conninfo);
	if (password != NULL && password[0] != '\0')
		db->password = strdup(password);
	if (db->conninfo == NULL ||
	    (password != NULL && password[0] != '\0' && db->password == NULL)) {
		db_free(db);
		return NULL;
	}
	db->timeout_seconds = timeout_seconds;
	return db;
}

static void disconnect(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	free(db->conninfo);
	if (db->password != NULL)
		explicit_bzero(db->password, strlen(db->password));
	free(db->password);
	free(db);
}

/* libpq messages end in a newline and may span lines; keep the first. */
static void first_line(const char *msg, char *out, size_t cap)
{
	size_t n = strcspn(msg, "\r\n");

	snprintf(out, cap, "%.*s", (int)n, msg);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends a prepared statement and waits for its result no longer than the
 * timeout, so a database that hangs (not only one that is down) cannot
 * hold a request thread. On timeout or a broken connection the connection
 * is dropped and the next call reconnects.
 */
static PGresult *execute(struct db *db, enum statement st, int nparams,
			 const char *const *values, const int *lengths,
			 const int *formats)
{
	int64_t deadline = monotonic_ms() + db->timeout_seconds * 1000;
	PGresult *result = NULL, *next;

	db->timed_out = false;
	if (!PQsendQueryPrepared(db->conn, statement_name[st], nparams, values,
				 lengths, formats, 0))
		goto fail;
	for (;;) {
		int flushed = PQflush(db->conn);

		if (flushed < 0)
			goto fail;
		if (flushed == 0 && !PQisBusy(db->conn))
			break;
		struct pollfd pfd = {
			.fd = PQsocket(db->conn),
			.events = (short)(POLLIN | (flushed ? POLLOUT : 0)),
		};
		int64_t left = deadline - monotonic_ms();

		if (left <= 0) {
			db->timed_out = true;
			db->timeouts++;
			goto fail;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			goto fail;
		if (!PQconsumeInput(db->conn))
			goto fail;
	}
	while ((next = PQgetResult(db->conn)) != NULL) {
		if (result != NULL)
			PQclear(result);
		result = next;
	}
	if (result != NULL && PQresultStatus(result) == PGRES_TUPLES_OK)
		return result;
	/* The server's statement_timeout (the same --db-timeout) may end the
	 * statement just before our own deadline does: a timeout too. */
	if (result != NULL) {
		const char *state = PQresultErrorField(result, PG_DIAG_SQLSTATE);

		db->timed_out = state != NULL && strcmp(state, "57014") == 0;
		db->timeouts += db->timed_out;
	}
	PQclear(result);
	/* An error such as "terminating connection" leaves it unusable. */
	if (PQstatus(db->conn) == CONNECTION_BAD)
		disconnect(db);
	return NULL;
fail:
	PQclear(result);
	disconnect(db);
	return NULL;
}

static enum db_result prepare_all(struct db *db, char *err, size_t err_cap)
{
	for (int st = 0; st < ST_COUNT; st++) {
		PGresult *res = PQprepare(db->conn, statement_name[st],
					  statement_sql[st], 0, NULL);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		if (!ok)
			first_line(PQresultErrorMessage(res), err, err_cap);
		PQclear(res);
		if (!ok)
			return st == ST_VERSION ? DB_SCHEMA_OLD : DB_ERROR;
		if (st == ST_VERSION) {
			/* Check the version before the other statements, whose
			 * functions an older schema may lack. */
			PGresult *v = execute(db, ST_VERSION, 0, NULL, NULL, NULL);
			long version = v ? strtol(PQgetvalue(v, 0, 0), NULL, 10) : -1;

			PQclear(v);
			if (db->conn == NULL) {
				snprintf(err, err_cap, "database connection lost");
				return DB_ERROR;
			}
			if (version < DB_SCHEMA_VERSION) {
				snprintf(err, err_cap,
					 "database schema version %ld is older "
					 "than this binary needs (%d)",
					 version, DB_SCHEMA_VERSION);
				return DB_SCHEMA_OLD;
			}
		}
	}
	return DB_OK;
}

/* Server notices ("terminating connection due to administrator command")
 * become log events instead of libpq's raw lines on stderr. */
static void log_notice(void *arg, const char *message)
{
	char line[512];

	(void)arg;
	first_line(message, line, sizeof(line));
	log_event(LOG_WARN, 0, "db_notice", "msg", line, NULL);
}

enum db_result db_connect(struct db *db, char *err, size_t err_cap)
{
	char timeout[24], options[64];
	enum db_result result;

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return DB_OK;
	disconnect(db);
	snprintf(timeout, sizeof(timeout), "%ld", db->timeout_seconds);
	snprintf(options, sizeof(options), "-c statement_timeout=%ld",
		 db->timeout_seconds * 1000);
	/* Our defaults come first so the operator's conninfo overrides them;
	 * the password file's password (when given) overrides both. */
	const char *const keys[] = {"connect_timeout", "application_name",
				    "options", "dbname", "password", NULL};
	const char *const values[] = {timeout, "authgate", options,
				      db->conninfo, db->password, NULL};

	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL) {
		snprintf(err, err_cap, "out of memory");
		return DB_ERROR;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		first_line(PQerrorMessage(db->conn), err, err_cap);
		disconnect(db);
		return DB_ERROR;
	}
	PQsetNoticeProcessor(db->conn, log_notice, NULL);
	result = prepare_all(db, err, err_cap);
	if (result != DB_OK) {
		disconnect(db);
		return result;
	}
	if (db->connected_before)
		metrics_db_reconnect();
	db->connected_before = true;
	return DB_OK;
}

static bool ensure_connected(struct db *db)
{
	char err[256];

	return db_connect(db, err, sizeof(err)) == DB_OK;
}

/* Runs `st` and returns its result with at least one row wanted: DB_OK and
 * *res set, DB_NOT_FOUND (no rows, *res NULL) or DB_ERROR. */
static enum db_result run(struct db *db, enum statement st, int nparams,
			  const char *const *values, const int *lengths,
			  const int *formats, PGresult **res)
{
	bool was_connected = db->conn != NULL;

	*res = NULL;
	if (!ensure_connected(db)) {
		metrics_db_error();
		return DB_ERROR;
	}
	*res = execute(db, st, nparams, values, lengths, formats);
	/* A connection that broke while idle (a database restart) is only
	 * noticed when used: reconnect and try once more, so a restart costs
	 * no failed request. Not after a timeout: that would double it. */
	if (*res == NULL && was_connected && db->conn == NULL &&
	    !db->timed_out && ensure_connected(db))
		*res = execute(db, st, nparams, values, lengths, formats);
	if (*res == NULL) {
		metrics_db_error();
		return DB_ERROR;
	}
	if (PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return DB_NOT_FOUND;
	}
	return DB_OK;
}

unsigned long db_timeouts(const struct db *db)
{
	return db->timeouts;
}

enum db_result db_ping(struct db *db)
{
	PGresult *res;
	enum db_result r = run(db, ST_PING, 0, NULL, NULL, NULL, &res);

	PQclear(res);
	return r;
}

/* bytea results arrive as text in hex format: "\x0123...". */
static bool decode_hex_bytea(const char *text, uint8_t *out, size_t len)
{
	return strncmp(text, "\\x", 2) == 0 && strlen(text) == 2 + 2 * len &&
	       hex_decode(text + 2, out, len);
}

enum db_result db_secret(struct db *db, uint8_t key[DB_SECRET_LEN])
{
	PGresult *res;
	enum db_result r = run(db, ST_SECRET, 0, NULL, NULL, NULL, &res);

	if (r == DB_OK && !decode_hex_bytea(PQgetvalue(res, 0, 0), key,
					    DB_SECRET_LEN))
		r = DB_ERROR;
	PQclear(res);
	return r;
}

static void copy_text(char *out, size_t cap, const char *in)
{
	snprintf(out, cap, "%s", in);
}

/* The IDENTITY_COLUMNS of result row `row`. */
static void read_identity_row(PGresult *res, int row, struct identity *out)
{
	out->user_id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	copy_text(out->username, sizeof(out->username), PQgetvalue(res, row, 1));
	copy_text(out->email, sizeof(out->email), PQgetvalue(res, row, 2));
	copy_text(out->roles, sizeof(out->roles), PQgetvalue(res, row, 3));
	out->created_at = strtoll(PQgetvalue(res, row, 4), NULL, 10);
	out->authenticated_at = strtoll(PQgetvalue(res, row, 5), NULL, 10);
	out->expires_at = strtoll(PQgetvalue(res, row, 6), NULL, 10);
	out->remember = PQgetvalue(res, row, 7)[0] == 't';
	out->has_fingerprint = !PQgetisnull(res, row, 8) &&
			       decode_hex_bytea(PQgetvalue(res, row, 8),
						out->fingerprint,
						sizeof(out->fingerprint));
	out->stale = PQgetvalue(res, row, 9)[0] == 't';
}

static void read_identity(PGresult *res, struct identity *out)
{
	read_identity_row(res, 0, out);
}

enum db_result db_check_session(struct db *db, const uint8_t token_hash[32],
				long idle_seconds, long touch_seconds,
				struct identity *out)
{
	char idle[24], touch[24];
	const char *values[3] = {(const char *)token_hash, idle, touch};
	const int lengths[3] = {32, 0, 0};
	const int formats[3] = {1, 0, 0};
	PGresult *res;
	enum db_result r;

	snprintf(idle, sizeof(idle), "%ld", idle_seconds);
	snprintf(touch, sizeof(touch), "%ld", touch_seconds);
	r = run(db, ST_CHECK_SESSION, 3, values, lengths, formats, &res);
	if (r == DB_OK)
		read_identity(res, out);
	PQclear(res);
	return r;
}

void db_check_sessions(struct db *db, struct db_session_check *const *checks,
		       size_t n, long idle_seconds)
{
	uint8_t hashes[DB_CHECK_BATCH_MAX * 32];
	/* "{N,N,...}": each interval fits in 20 digits and a comma. */
	char idle[24], touch[DB_CHECK_BATCH_MAX * 22 + 3];
	const char *values[3] = {(const char *)hashes, idle, touch};
	int lengths[3] = {0, 0, 0};
	const int formats[3] = {1, 0, 0};
	size_t touch_len = 0;
	PGresult *res;
	enum db_result r = DB_ERROR;

	if (n == 0 || n > DB_CHECK_BATCH_MAX)
		goto out;
	/* Alone, a check is cheaper through the single-session function,
	 * which has no batch to unpack. */
	if (n == 1) {
		checks[0]->result = db_check_session(db, checks[0]->token_hash,
						     idle_seconds,
						     checks[0]->touch_seconds,
						     &checks[0]->id);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(hashes + 32 * i, checks[i]->token_hash, 32);
		touch_len += (size_t)snprintf(touch + touch_len,
					      sizeof(touch) - touch_len, "%c%ld",
					      i == 0 ? '{' : ',',
					      checks[i]->touch_seconds);
		checks[i]->result = DB_NOT_FOUND;
	}
	snprintf(touch + touch_len, sizeof(touch) - touch_len, "}");
	lengths[0] = (int)(32 * n);
	snprintf(idle, sizeof(idle), "%ld", idle_seconds);
	r = run(db, ST_CHECK_SESSIONS, 3, values, lengths, formats, &res);
	if (r == DB_NOT_FOUND) {
		r = DB_OK;
		goto out;
	}
	for (int row = 0; r == DB_OK && row < PQntuples(res); row++) {
		long ord = strtol(PQgetvalue(res, row, 10), NULL, 10);

		if (ord < 1 || (size_t)ord > n) {
			r = DB_ERROR;
			break;
		}
		read_identity_row(res, row, &checks[ord - 1]->id);
		checks[ord - 1]->result = DB_OK;
	}
	PQclear(res);
out:
	if (r == DB_ERROR)
		for (size_t i = 0; i < n; i++)
			checks[i]->result = DB_ERROR;
}

enum db_result db_check_api_token(struct db *db, const uint8_t token_hash[32],
				  struct identity *out)
{
	const char *values[1] = {(const char *)token_hash};
	const int lengths[1] = {32};
	const int formats[1] = {1};
	PGresult *res;
	enum db_result r;

	r = run(db, ST_CHECK_TOKEN, 1, values, lengths, formats, &res);
	if (r == DB_OK)
		read_identity(res, out);
	PQclear(res);
	return r;
}

enum db_result db_user_for_login(struct db *db, const char *username,
				 struct login_user *out)
{
	const char *values[1] = {username};
	PGresult *res;
	enum db_result r = run(db, ST_USER_FOR_LOGIN, 1, values, NULL, NULL, &res);

	if (r == DB_OK) {
		const char *hash = PQgetvalue(res, 0, 1);

		out->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		out->disabled = PQgetvalue(res, 0, 2)[0] == 't';
		if (strlen(hash) >= sizeof(out->password_hash))
			out->password_hash[0] = '\0'; /* verifies as no match */
		else
			strcpy(out->password_hash, hash);
	}
	PQclear(res);
	return r;
}

/* Runs a statement whose result is not needed: DB_OK or DB_ERROR. */
static enum db_result run_command(struct db *db, enum statement st,
				  int nparams, const char *const *values,
				  const int *lengths, const int *formats)
{
	PGresult *res;
	enum db_result r = run(db, st, nparams, values, lengths, formats, &res);

	PQclear(res);
	return r == DB_ERROR ? DB_ERROR : DB_OK;
}

enum db_result db_login_success(struct db *db, int64_t user_id,
				const uint8_t token_hash[32],
				long lifetime_seconds, bool remember,
				const char *client_addr, const char *user_agent,
				const uint8_t fingerprint[32])
{
	char id[24], lifetime[24];
	const char *values[7] = {id, (const char *)token_hash, lifetime,
				 remember ? "t" : "f", client_addr, user_agent,
				 (const char *)fingerprint};
	const int lengths[7] = {0, 32, 0, 0, 0, 0, 32};
	const int formats[7] = {0, 1, 0, 0, 0, 0, 1};

	snprintf(id, sizeof(id), "%" PRId64, user_id);
	snprintf(lifetime, sizeof(lifetime), "%ld", lifetime_seconds);
	return run_command(db, ST_LOGIN_SUCCESS, 7, values, lengths, formats);
}

enum db_result db_reauthenticate(struct db *db, const uint8_t token_hash[32],
				 int64_t user_id, const char *client_addr,
				 const char *user_agent,
				 const uint8_t fingerprint[32])
{
	char id[24];
	const char *values[5] = {(const char *)token_hash, id, client_addr,
				 user_agent, (const char *)fingerprint};
	const int lengths[5] = {32, 0, 0, 0, 32};
	const int formats[5] = {1, 0, 0, 0, 1};
	PGresult *res;
	enum db_result r;

	snprintf(id, sizeof(id), "%" PRId64, user_id);
	r = run(db, ST_REAUTH, 5, values, lengths, formats, &res);
	if (r == DB_OK && PQgetvalue(res, 0, 0)[0] != 't')
		r = DB_NOT_FOUND;
	PQclear(res);
	return r;
}

enum db_result db_basic_login(struct db *db, int64_t user_id,
			      const char *password_hash, const char *client_addr,
			      const char *user_agent, struct identity *out)
{
	char id[24];
	const char *values[4] = {id, password_hash, client_addr, user_agent};
	PGresult *res;
	enum db_result r;

	snprintf(id, sizeof(id), "%" PRId64, user_id);
	r = run(db, ST_BASIC_LOGIN, 4, values, NULL, NULL, &res);
	if (r == DB_OK)
		read_identity(res, out);
	PQclear(res);
	return r;
}

enum db_result db_session_mismatch(struct db *db, const uint8_t token_hash[32],
				   bool end, const char *client_addr,
				   const char *user_agent)
{
	const char *values[4] = {(const char *)token_hash, end ? "end" : "stale",
				 client_addr, user_agent};
	const int lengths[4] = {32, 0, 0, 0};
	const int formats[4] = {1, 0, 0, 0};

	return run_command(db, ST_MISMATCH, 4, values, lengths, formats);
}

enum db_result db_login_throttle(struct db *db, const char *username,
				 const char *client_addr, const char *user_agent,
				 long window_seconds, long lockout_seconds,
				 long max_user_failures, long max_addr_failures,
				 long *retry_after)
{
	char window[24], lockout[24], max_user[24], max_addr[24];
	const char *values[7] = {username, client_addr, user_agent,
				 window, lockout, max_user, max_addr};
	PGresult *res;
	enum db_result r;

	snprintf(window, sizeof(window), "%ld", window_seconds);
	snprintf(lockout, sizeof(lockout), "%ld", lockout_seconds);
	snprintf(max_user, sizeof(max_user), "%ld", max_user_failures);
	snprintf(max_addr, sizeof(max_addr), "%ld", max_addr_failures);
	r = run(db, ST_THROTTLE, 7, values, NULL, NULL, &res);
	*retry_after = r == DB_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return r == DB_ERROR ? DB_ERROR : DB_OK;
}

enum db_result db_login_failure(struct db *db, const char *username,
				const char *reason, const char *client_addr,
				const char *user_agent)
{
	const char *values[4] = {username, reason, client_addr, user_agent};

	return run_command(db, ST_LOGIN_FAILURE, 4, values, NULL, NULL);
}

enum db_result db_rehash(struct db *db, int64_t user_id, const char *old_hash,
			 const char *new_hash)
{
	char id[24];
	const char *values[3] = {id, old_hash, new_hash};

	snprintf(id, sizeof(id), "%" PRId64, user_id);
	return run_command(db, ST_REHASH, 3, values, NULL, NULL);
}

enum db_result db_logout(struct db *db, const uint8_t token_hash[32], bool all,
			 const char *client_addr, const char *user_agent)
{
	const char *values[4] = {(const char *)token_hash, all ? "t" : "f",
				 client_addr, user_agent};
	const int lengths[4] = {32, 0, 0, 0};
	const int formats[4] = {1, 0, 0, 0};

	return run_command(db, ST_LOGOUT, 4, values, lengths, formats);
}

enum db_result db_purge_expired(struct db *db, long audit_retention_days,
			       long *deleted)
{
	char days[24];
	const char *values[1] = {days};
	PGresult *res;
	enum db_result r;

	snprintf(days, sizeof(days), "%ld", audit_retention_days);
	r = run(db, ST_PURGE, 1, values, NULL, NULL, &res);

	*deleted = r == DB_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return r == DB_ERROR ? DB_ERROR : DB_OK;
}

enum db_result db_listen(struct db *db, char *err, size_t err_cap)
{
	PGresult *res;
	bool ok;

	if (db_connect(db, err, err_cap) != DB_OK)
		return DB_ERROR;
	/* A constant utility statement: LISTEN cannot be prepared. */
	res = PQexec(db->conn, "LISTEN authgate");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok) {
		first_line(PQresultErrorMessage(res), err, err_cap);
		disconnect(db);
	}
	PQclear(res);
	return ok ? DB_OK : DB_ERROR;
}

void db_close(struct db *db)
{
	disconnect(db);
}

int db_socket(struct db *db)
{
	return db->conn ? PQsocket(db->conn) : -1;
}

enum db_result db_wait_readable(struct db *db, int wake_fd, int timeout_ms,
				bool *readable)
{
	struct pollfd pfd[2] = {
		{.fd = db->conn ? PQsocket(db->conn) : -1, .events = POLLIN},
		{.fd = wake_fd, .events = POLLIN},
	};

	*readable = false;
	if (db->conn == NULL || pfd[0].fd < 0)
		return DB_ERROR;
	if (poll(pfd, 2, timeout_ms) < 0 && errno != EINTR)
		return DB_ERROR;
	*readable = (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
	return DB_OK;
}

enum db_result db_read_notifications(struct db *db, db_notify_fn *fn,
				     void *arg)
{
	PGnotify *note;

	if (!PQconsumeInput(db->conn))
		return DB_ERROR;
	while ((note = PQnotifies(db->conn)) != NULL) {
		fn(note->extra, arg);
		PQfreemem(note);
	}
	if (PQstatus(db->conn) != CONNECTION_OK)
		return DB_ERROR;
	return DB_OK;
}

void db_conninfo_masked(const char *conninfo, char *out, size_t cap)
{
	PQconninfoOption *options;
	size_t n = 0;

	out[0] = '\0';
	if (conninfo[0] == '\0') {
		snprintf(out, cap, "(libpq PG* environment)");
		return;
	}
	options = PQconninfoParse(conninfo, NULL);
	if (options == NULL) {
		snprintf(out, cap, "(not a valid connection string)");
		return;
	}
	for (PQconninfoOption *o = options; o->keyword != NULL && n < cap; o++) {
		int written;

		if (o->val == NULL)
			continue;
		/* dispchar "*" marks a secret (libpq: password fields). */
		written = snprintf(out + n, cap - n, "%s%s=%s", n ? " " : "",
				   o->keyword,
				   strchr(o->dispchar, '*') ? "***" : o->val);
		if (written < 0)
			break;
		n += (size_t)written;
	}
	PQconninfoFree(options);
}

enum db_result db_change_password(struct db *db, const uint8_t token_hash[32],
				  int64_t user_id, const char *old_hash,
				  const char *new_hash, const char *client_addr,
				  const char *user_agent, long *ended)
{
	char id[24];
	const char *values[6] = {(const char *)token_hash, id, old_hash,
				 new_hash, client_addr, user_agent};
	const int lengths[6] = {32, 0, 0, 0, 0, 0};
	const int formats[6] = {1, 0, 0, 0, 0, 0};
	PGresult *res;
	enum db_result r;

	snprintf(id, sizeof(id), "%" PRId64, user_id);
	r = run(db, ST_CHANGE_PASSWORD, 6, values, lengths, formats, &res);
	*ended = 0;
	if (r == DB_OK && PQgetisnull(res, 0, 0))
		r = DB_NOT_FOUND;
	else if (r == DB_OK)
		*ended = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return r;
}

/* Copies a short text result (an outcome word) into `out`. */
static void copy_outcome(PGresult *res, int column, char *out, size_t cap)
{
	snprintf(out, cap, "%s", PQgetvalue(res, 0, column));
}

enum db_result db_register_check(struct db *db, const char *username,
				 const char *email, const char *client_addr,
				 const char *user_agent, long max_per_hour,
				 char outcome[DB_OUTCOME_MAX])
{
	char max[24];
	const char *values[5] = {username, email, client_addr, user_agent, max};
	PGresult *res;
	enum db_result r;

	snprintf(max, sizeof(max), "%ld", max_per_hour);
	r = run(db, ST_REGISTER_CHECK, 5, values, NULL, NULL, &res);
	if (r == DB_OK)
		copy_outcome(res, 0, outcome, DB_OUTCOME_MAX);
	PQclear(res);
	return r == DB_NOT_FOUND ? DB_ERROR : r;
}

enum db_result db_register(struct db *db, const char *username,
			   const char *email, const char *hash, bool disabled,
			   const char *client_addr, const char *user_agent,
			   int64_t *user_id, char outcome[DB_OUTCOME_MAX])
{
	const char *values[6] = {username, email, hash, disabled ? "t" : "f",
				 client_addr, user_agent};
	PGresult *res;
	enum db_result r = run(db, ST_REGISTER, 6, values, NULL, NULL, &res);

	if (r == DB_OK) {
		*user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		copy_outcome(res, 1, outcome, DB_OUTCOME_MAX);
	}
	PQclear(res);
	return r == DB_NOT_FOUND ? DB_ERROR : r;
}
