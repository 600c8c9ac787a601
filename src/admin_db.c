#include "admin_db.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIME_TEXT(col) \
	"coalesce(to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD HH24:MI:SS\"Z\"'), '')"

struct admin_query_def {
	const char *sql;
	int nparams;
};

/* Writes go through the operator functions only (they end sessions, send
 * the NOTIFYs and keep the audit trail); reads use the columns that
 * sql/install.sql grants authgate_admin. Usernames match as
 * authgate._lookup_user() matches them: case-insensitively, in NFC. */
static const struct admin_query_def queries[AQ_COUNT] = {
	[AQ_CREATE_USER] = {"SELECT authgate.create_user_with_hash($1, $2, $3)", 3},
	[AQ_SET_PASSWORD_HASH] = {"SELECT authgate.set_password_hash($1, $2)", 2},
	[AQ_DISABLE_USER] = {"SELECT authgate.disable_user($1)", 1},
	[AQ_ENABLE_USER] = {"SELECT authgate.enable_user($1)", 1},
	[AQ_DELETE_USER] = {"SELECT authgate.delete_user($1)", 1},
	[AQ_LIST_USERS] = {
		"SELECT u.id, u.username, coalesce(u.email, ''), "
		"CASE WHEN u.disabled THEN 'disabled' ELSE 'enabled' END, "
		"coalesce((SELECT string_agg(r.role, ',' ORDER BY r.role) "
		"FROM authgate.user_roles AS r WHERE r.user_id = u.id), ''), "
		TIME_TEXT("u.created_at")
		" FROM authgate.users AS u ORDER BY lower(u.username), u.id", 0},
	[AQ_USER_EXISTS] = {
		"SELECT u.username FROM authgate.users AS u "
		"WHERE lower(u.username) = lower(normalize($1, NFC))", 1},
	[AQ_USER_ROLES] = {
		"SELECT r.role FROM authgate.user_roles AS r "
		"JOIN authgate.users AS u ON u.id = r.user_id "
		"WHERE lower(u.username) = lower(normalize($1, NFC)) "
		"ORDER BY r.role", 1},
	[AQ_GRANT_ROLE] = {"SELECT authgate.grant_role($1, $2)", 2},
	[AQ_REVOKE_ROLE] = {"SELECT authgate.revoke_role($1, $2)", 2},
	[AQ_USER_SESSIONS] = {
		"SELECT " TIME_TEXT("s.created_at") ", " TIME_TEXT("s.last_seen")
		", " TIME_TEXT("s.expires_at") ", "
		"CASE WHEN s.remember THEN 'yes' ELSE 'no' END, "
		"coalesce(host(s.client_addr), ''), coalesce(s.user_agent, '') "
		"FROM authgate.sessions AS s "
		"JOIN authgate.users AS u ON u.id = s.user_id "
		"WHERE lower(u.username) = lower(normalize($1, NFC)) "
		"AND s.expires_at > now() ORDER BY s.created_at", 1},
	[AQ_REVOKE_SESSIONS] = {"SELECT authgate.revoke_sessions($1)", 1},
	[AQ_CREATE_TOKEN] = {
		"SELECT authgate.create_api_token($1, $2, $3::interval)", 3},
	[AQ_LIST_TOKENS] = {
		"SELECT t.name, " TIME_TEXT("t.created_at") ", "
		TIME_TEXT("t.expires_at") ", " TIME_TEXT("t.last_used_at")
		" FROM authgate.list_api_tokens($1) AS t", 1},
	[AQ_REVOKE_TOKEN] = {"SELECT authgate.revoke_api_token($1, $2)", 2},
};

struct admin_db {
	PGconn *conn;
};

struct admin_rows {
	PGresult *result;
};

/* libpq messages end in a newline and may span lines; keep the first. */
static void first_line(const char *msg, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s", (int)strcspn(msg, "\r\n"), msg);
}

/* The install script's NOTICEs ("already exists, skipping") are noise. */
static void ignore_notice(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

struct admin_db *admin_db_connect(const char *conninfo, const char *password,
				  long timeout_seconds, char *err,
				  size_t err_cap)
{
	char timeout[24], options[64];
	struct admin_db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	snprintf(timeout, sizeof(timeout), "%ld", timeout_seconds);
	snprintf(options, sizeof(options), "-c statement_timeout=%ld",
		 timeout_seconds * 1000);
	/* Our defaults first, the operator's conninfo over them, and the
	 * password file's password over that (libpq skips an empty value). */
	const char *const keys[] = {"connect_timeout", "application_name",
				    "options", "dbname", "password", NULL};
	const char *const values[] = {timeout, "authgate-admin", options,
				      conninfo, password, NULL};

	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		first_line(db->conn ? PQerrorMessage(db->conn) : "out of memory",
			   err, err_cap);
		admin_db_close(db);
		return NULL;
	}
	PQsetNoticeReceiver(db->conn, ignore_notice, NULL);
	return db;
}

void admin_db_close(struct admin_db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db);
}

static bool result_ok(PGresult *res, char *err, size_t err_cap)
{
	ExecStatusType st = PQresultStatus(res);

	const char *msg;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return true;
	/* The primary message without "ERROR:  " and, for the schema's own
	 * errors, without the "authgate: " the caller's line starts with. */
	msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (msg == NULL)
		msg = res ? PQresultErrorMessage(res) : "out of memory";
	if (strncmp(msg, "authgate: ", 10) == 0)
		msg += 10;
	first_line(msg, err, err_cap);
	return false;
}

struct admin_rows *admin_db_run(struct admin_db *db, enum admin_query query,
				const char *const *params, char *err,
				size_t err_cap)
{
	PGresult *res = PQexecParams(db->conn, queries[query].sql,
				     queries[query].nparams, NULL, params, NULL,
				     NULL, 0);
	struct admin_rows *rows;

	if (!result_ok(res, err, err_cap)) {
		PQclear(res);
		return NULL;
	}
	rows = malloc(sizeof(*rows));
	if (rows == NULL) {
		snprintf(err, err_cap, "out of memory");
		PQclear(res);
		return NULL;
	}
	rows->result = res;
	return rows;
}

size_t admin_rows_count(const struct admin_rows *rows)
{
	return (size_t)PQntuples(rows->result);
}

size_t admin_rows_columns(const struct admin_rows *rows)
{
	return (size_t)PQnfields(rows->result);
}

const char *admin_rows_value(const struct admin_rows *rows, size_t row,
			     size_t col)
{
	return PQgetvalue(rows->result, (int)row, (int)col);
}

void admin_rows_free(struct admin_rows *rows)
{
	if (rows == NULL)
		return;
	PQclear(rows->result);
	free(rows);
}

int admin_db_schema_version(struct admin_db *db, long *version, char *err,
			    size_t err_cap)
{
	/* Two statements: the call would not even parse without the
	 * function. */
	PGresult *res = PQexec(db->conn, "SELECT to_regprocedure("
				"'authgate.schema_version()') IS NOT NULL");
	bool installed;

	if (!result_ok(res, err, err_cap)) {
		PQclear(res);
		return -1;
	}
	installed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	*version = 0;
	if (!installed)
		return 0;
	res = PQexec(db->conn, "SELECT authgate.schema_version()");
	if (!result_ok(res, err, err_cap)) {
		PQclear(res);
		return -1;
	}
	*version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int admin_db_run_script(struct admin_db *db, const char *script, char *err,
			size_t err_cap)
{
	PGresult *res;
	int status;

	/* The install script may take longer than a statement should. */
	res = PQexec(db->conn, "SET statement_timeout = 0");
	PQclear(res);
	res = PQexec(db->conn, script);
	status = result_ok(res, err, err_cap) ? 0 : -1;
	PQclear(res);
	/* A failed script leaves its transaction open: end it. */
	if (status != 0)
		PQclear(PQexec(db->conn, "ROLLBACK"));
	return status;
}
