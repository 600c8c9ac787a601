/*
 * The admin commands' side of PostgreSQL: one operator connection, the
 * operator SQL functions of sql/install.sql and the columns an
 * authgate_admin may read, every value passed as a parameter. The only
 * libpq user besides db.c (which serves the daemon's role).
 */
#ifndef AUTHGATE_ADMIN_DB_H
#define AUTHGATE_ADMIN_DB_H

#include <stddef.h>

#include "common.h"

enum admin_query {
	AQ_CREATE_USER,       /* username, phc hash, email or NULL -> id */
	AQ_SET_PASSWORD_HASH, /* username, phc hash */
	AQ_DISABLE_USER,      /* username */
	AQ_ENABLE_USER,       /* username */
	AQ_DELETE_USER,       /* username */
	AQ_LIST_USERS,        /* -> id, username, email, status, roles, created */
	AQ_USER_ROLES,        /* username -> role per row; none when unknown */
	AQ_USER_EXISTS,       /* username -> its name; no row when unknown */
	AQ_GRANT_ROLE,        /* username, role */
	AQ_REVOKE_ROLE,       /* username, role */
	AQ_USER_SESSIONS,     /* username -> created, seen, expires, remember,
			       * client, user agent */
	AQ_REVOKE_SESSIONS,   /* username -> sessions ended */
	AQ_CREATE_TOKEN,      /* username, name, interval or NULL -> token */
	AQ_LIST_TOKENS,       /* username -> name, created, expires, used */
	AQ_REVOKE_TOKEN,      /* username, name -> t or f */
	AQ_COUNT
};

struct admin_db;
struct admin_rows;

/*
 * Connects with `conninfo` ("" = PG* environment) and `password` (NULL or
 * "" = libpq's usual sources), every connect and statement bounded by
 * `timeout_seconds`. NULL with one line in `err` (no secret in it).
 */
struct admin_db *admin_db_connect(const char *conninfo, const char *password,
				  long timeout_seconds, char *err,
				  size_t err_cap) AG_MUST_CHECK;
void admin_db_close(struct admin_db *db);

/*
 * Runs `query` with its text parameters (NULL = SQL NULL). The rows, or
 * NULL with the server's first message line in `err` (such as
 * `authgate: no user named "x"`). Free with admin_rows_free().
 */
struct admin_rows *admin_db_run(struct admin_db *db, enum admin_query query,
				const char *const *params, char *err,
				size_t err_cap) AG_MUST_CHECK;

size_t admin_rows_count(const struct admin_rows *rows);
size_t admin_rows_columns(const struct admin_rows *rows);
/* The text of a cell ("" for NULL), borrowed until admin_rows_free(). */
const char *admin_rows_value(const struct admin_rows *rows, size_t row,
			     size_t col);
void admin_rows_free(struct admin_rows *rows);

/* authgate.schema_version(), or 0 when the schema is not installed. 0 or
 * -1 with `err`. */
int admin_db_schema_version(struct admin_db *db, long *version, char *err,
			    size_t err_cap) AG_MUST_CHECK;

/*
 * Sends `script` (the whole of sql/install.sql: plain SQL, its own BEGIN
 * and COMMIT) as one simple query, as psql -v ON_ERROR_STOP=1 would run
 * it: all or nothing. 0, or -1 with the server's message in `err`.
 */
int admin_db_run_script(struct admin_db *db, const char *script, char *err,
			size_t err_cap) AG_MUST_CHECK;

#endif
