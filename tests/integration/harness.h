/*
 * Integration test harness: an HTTP client (libcurl) with its own cookie
 * jar, a superuser database connection (libpq) and helpers to create users
 * and log in. Every helper that can fail fails the current Criterion test
 * with a message; none returns an error code to check.
 *
 * The stack is described by the environment that `scripts/dev stack start`
 * writes (AUTHGATE_TEST_*); without it every test fails with a message
 * saying to run through `scripts/dev test`.
 *
 * Each Criterion case runs in its own process, so the database connection
 * and curl's global state are per process. Tests run in parallel: each one
 * creates its own users (random names) and talks to nginx from its own
 * loopback source address (127.x.y.z), so per-address counters and
 * per-address rows never mix two tests.
 */
#ifndef AUTHGATE_TEST_HARNESS_H
#define AUTHGATE_TEST_HARNESS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* The daemon's configuration in the test stack (--cookie-secure off). */
#define AG_SESSION_COOKIE "authgate"
#define AG_CSRF_COOKIE "authgate_csrf"
#define AG_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

/* Per-case timeout in seconds: a stalled daemon fails a case, never hangs
 * the run. */
#define AG_TIMEOUT 60

/* ------------------------------------------------------------------ env */

/* The value of a required AUTHGATE_TEST_* variable; fails the test when it
 * is missing or empty. */
const char *ag_env(const char *name);

/*
 * Skips the current test, reported as skipped (never passed): ctest
 * treats a case whose output has "SKIPPED: " as not run.
 */
void ag_skip(const char *reason) __attribute__((noreturn));

/* The value of an AUTHGATE_TEST_* variable that only some stacks have
 * (a docker-compose stack cannot stop its database, for one); skips the
 * test when it is missing or empty. */
const char *ag_env_or_skip(const char *name);

/* ----------------------------------------------------------------- HTTP */

struct ag_header {
	char *name;
	char *value;
};

/* One HTTP answer. Owned by the caller: ag_response_free(). */
struct ag_response {
	long status;
	struct ag_header *headers; /* of the final response only */
	size_t nheaders;
	char *body; /* NUL-terminated (the body may hold NULs before it) */
	size_t body_len;
};

#define AG_JAR_MAX 8

struct ag_cookie {
	char *name;
	char *value;
};

/*
 * A browser-like client: cookies set by the server are kept and sent
 * (name/value only; every cookie of the test site has Path=/). Redirects
 * are never followed.
 */
struct ag_client {
	char source[16]; /* local address the requests come from */
	struct ag_cookie jar[AG_JAR_MAX];
	size_t njar;
};

void ag_client_init(struct ag_client *c);
void ag_client_free(struct ag_client *c);

/* Jar access; ag_jar_get returns NULL when the cookie is absent. */
const char *ag_jar_get(const struct ag_client *c, const char *name);
void ag_jar_set(struct ag_client *c, const char *name, const char *value);
void ag_jar_clear(struct ag_client *c);

/*
 * Sends METHOD PATH to the nginx site. `headers` is a NULL-terminated list
 * of "Name: value" lines (or NULL). When a "Cookie:" line is among them
 * the jar is not sent (but still updated from the answer). `body` may be
 * NULL; it is sent as given (no Content-Type unless in `headers`).
 */
void ag_request(struct ag_client *c, const char *method, const char *path,
		const char *const *headers, const char *body, size_t body_len,
		struct ag_response *out);

/* GET with curl's default Accept header (any type): an API client, not a
 * browser. */
void ag_get(struct ag_client *c, const char *path, struct ag_response *out);

/* GET as a browser: "Accept: text/html,...". */
void ag_get_html(struct ag_client *c, const char *path,
		 struct ag_response *out);

/* GET with extra headers. */
void ag_get_with(struct ag_client *c, const char *path,
		 const char *const *headers, struct ag_response *out);

/* POST an application/x-www-form-urlencoded body, plus extra headers. */
void ag_post_form(struct ag_client *c, const char *path, const char *body,
		  const char *const *headers, struct ag_response *out);

/*
 * Sends the same request `n` times at once, each on its own connection
 * (curl multi), with the jar's cookies (the jar is not updated). Fills
 * out[0..n-1]; each must be freed with ag_response_free().
 */
void ag_parallel(struct ag_client *c, const char *method, const char *path,
		 const char *const *headers, const char *body, size_t n,
		 struct ag_response *out);

/* The status of GET PATH (answer discarded). */
long ag_status(struct ag_client *c, const char *path);

void ag_response_free(struct ag_response *r);

/* The first header named `name` (case-insensitive), or NULL. */
const char *ag_header(const struct ag_response *r, const char *name);

/* How many headers named `name` the answer has. */
size_t ag_header_count(const struct ag_response *r, const char *name);

/* The Set-Cookie header that sets cookie `cookie_name`, or NULL. */
const char *ag_set_cookie(const struct ag_response *r,
			  const char *cookie_name);

/* True when the body contains `needle`. */
bool ag_body_has(const struct ag_response *r, const char *needle);

/*
 * The value="..." of the <input> named `name` in an HTML body, copied to a
 * new string (caller frees), or NULL when there is no such input.
 */
char *ag_input_value(const struct ag_response *r, const char *name);

/* ----------------------------------------------------------------- forms */

/* "n1=v1&n2=v2..." from NULL-terminated name, value pairs, values
 * percent-encoded. Caller frees. */
char *ag_form(const char *name, ...) __attribute__((sentinel));

/* Percent-encodes every byte but unreserved ones. Caller frees. */
char *ag_urlencode(const char *s, size_t len);

/* printf into a new string; caller frees. */
char *ag_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- login */

/*
 * GET /auth/login and return the csrf_token of the form (the jar then holds
 * the matching authgate_csrf cookie). Caller frees.
 */
char *ag_csrf_token(struct ag_client *c);

/*
 * The login form post: fetches a CSRF token, posts username, password,
 * remember (when set) and next (when not NULL). The answer goes to `out`
 * when not NULL. Returns the status.
 */
long ag_login(struct ag_client *c, const char *username, const char *password,
	      bool remember, const char *next, struct ag_response *out);

/* ag_login that must succeed: 303 and a session cookie in the jar. */
void ag_login_ok(struct ag_client *c, const char *username,
		 const char *password);

/* The session cookie in the jar, or NULL. */
const char *ag_session(const struct ag_client *c);

/* A client with nothing but this session cookie (other tests' view of a
 * stolen or copied cookie). */
void ag_client_with_session(struct ag_client *c, const char *session);

/* -------------------------------------------------------------- database */

/* The superuser connection to the stack's database (per process). */
PGconn *ag_db(void);

/*
 * Waits until every daemon (AUTHGATE_TEST_FCGI_ALL) has received a NOTIFY
 * sent now, and so every change committed before it: a revocation made in
 * SQL reaches the daemons' caches by NOTIFY, asynchronously. ag_request()
 * calls it by itself after any SQL statement or logout.
 */
void ag_daemons_sync(void);

/* ag_daemons_sync() when a SQL statement or logout may not have reached
 * the daemons yet; for requests sent without ag_request(). */
void ag_daemons_catch_up(void);

/* Closes that connection (the next ag_db() opens a new one). */
void ag_db_close(void);

/*
 * Runs `sql` with `nparams` text parameters (const char *, NULL for SQL
 * NULL) and fails the test unless it succeeds. Caller PQclear()s.
 */
PGresult *ag_sql(const char *sql, int nparams, ...);

/* ag_sql for statements whose result is not needed. */
void ag_sql_exec(const char *sql, int nparams, ...);

/* The first column of the first row as a new string (caller frees), or
 * NULL when there is no row or the value is NULL. */
char *ag_sql_value(const char *sql, int nparams, ...);

/* The first column of the first row as a number; fails the test when
 * there is none. */
long long ag_sql_int(const char *sql, int nparams, ...);

/*
 * How many rows of all tables in schema authgate hold `needle` in their
 * text form (row::text, so in any column). Used to prove that secrets are
 * never stored.
 */
long long ag_rows_containing(const char *needle);

/* --------------------------------------------------------------- users */

struct ag_user {
	char name[64];
	char password[48];
	char email[96];
	char id[24];
};

/*
 * Creates a user with authgate.create_user(): name PREFIX_<random hex>, a
 * random password, an email address. Random names keep parallel tests
 * apart.
 */
void ag_user_new(struct ag_user *u, const char *prefix);

/* Fills `u` with a fresh random name and password without creating it. */
void ag_user_make(struct ag_user *u, const char *prefix);

/* Number of sessions of the user in authgate.sessions. */
long long ag_session_count(const struct ag_user *u);

/* ------------------------------------------------------------- secrets */

/*
 * Appends `secret` (a password, cookie value or token the test used) to
 * the file AUTHGATE_TEST_SECRETS names, when set; after the suites the
 * ctest case secrets.not_in_logs looks for each in the logs. The harness
 * records passwords, every cookie it receives and CSRF form tokens by
 * itself; tests record what else they make (API tokens).
 */
void ag_secret(const char *secret);

/* ----------------------------------------------------------------- misc */

/* `nbytes` random bytes as 2 * nbytes hex digits plus NUL in `out`. */
void ag_random_hex(char *out, size_t nbytes);

/* The whole file, NUL-terminated; caller frees. NULL when unreadable. */
char *ag_read_file(const char *path, size_t *len);

/* True when `haystack` (of `len` bytes) contains `needle`. */
bool ag_contains(const char *haystack, size_t len, const char *needle);

/* Seconds since an arbitrary point (CLOCK_MONOTONIC). */
double ag_now(void);

/* Sleeps `seconds` (a pause between polls, never a wait on its own). */
void ag_pause(double seconds);

/* Runs a shell command; returns its exit status (-1 when it did not run). */
int ag_shell(const char *command);

#endif
