/*
 * A daemon of the test's own: started from AUTHGATE_TEST_BINARY (or a
 * given binary) on a private socket, against the stack's database, with
 * the options a case needs, and spoken to over FastCGI. Its stderr is kept
 * in a file, so cases can wait for its log events, and stopping it checks
 * that it exited 0 with no sanitizer report. It gets SIGTERM if the test
 * dies first.
 *
 * Like the harness, every helper fails the current test on error.
 */
#ifndef AUTHGATE_TEST_PRIVATE_DAEMON_H
#define AUTHGATE_TEST_PRIVATE_DAEMON_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

struct private_daemon {
	pid_t pid;
	char dir[64];   /* private directory: socket and log */
	char addr[128]; /* "unix:DIR/d.sock", for the fcgi helpers */
	char log[128];  /* the daemon's stderr */
};

/*
 * Starts AUTHGATE_TEST_BINARY (skips the test without it) with --threads 1,
 * --cookie-secure off and `extra` (NULL-terminated; a later option wins),
 * and waits for its socket to accept.
 */
void daemon_start(struct private_daemon *d, const char *const *extra);

/* daemon_start with the daemon binary `binary`. */
void daemon_start_binary(struct private_daemon *d, const char *binary,
			 const char *const *extra);

/*
 * Sends SIGTERM, waits for the exit, expects exit status 0 and a log free
 * of AddressSanitizer, LeakSanitizer and UBSan reports (each a failed
 * expectation, with the log's end), and removes the daemon's directory.
 */
void daemon_stop(struct private_daemon *d);

/* What the daemon has written to stderr so far (caller frees). */
char *daemon_log(const struct private_daemon *d);

/* Polls the log until it holds `needle`; false after `seconds`. */
bool daemon_log_waits_for(const struct private_daemon *d, const char *needle,
			  double seconds);

/* ------------------------------------------------- FastCGI requests */

/* Sends one request (responder role, connection closed after it) on a new
 * connection to `addr`; returns the socket, for fcgi_answer(). */
int fcgi_send(const char *addr, const char *const *params, const char *body);

/* Reads the answer to fcgi_send() and closes the socket; returns the CGI
 * answer (caller frees). Fails the test when no complete answer came
 * within RECV_TIMEOUT. */
char *fcgi_answer(int fd);

/* fcgi_send() and fcgi_answer(). */
char *fcgi_call(const char *addr, const char *const *params, const char *body);

/* The "Status: N" of a CGI answer. */
int status_of(const char *answer);

/* A cookie's value from a Set-Cookie line of `answer` (caller frees), or
 * NULL. */
char *set_cookie(const char *answer, const char *name);

/* The login form's csrf_token in an HTML answer (caller frees). */
char *csrf_field(const char *answer);

/* What a browser keeps of a page with a form: the Cookie header that
 * sends the page's CSRF cookie back ("authgate_csrf=...") and the form's
 * token. */
struct csrf_pair {
	char *cookie_header;
	char *token;
};

/* The pair of `page`, which must set the CSRF cookie; csrf_pair_free(). */
void csrf_pair_of(struct csrf_pair *pair, const char *page);
void csrf_pair_free(struct csrf_pair *pair);

/* GETs the login form from `addr` as client `remote_addr`: its pair. */
void login_form(struct csrf_pair *pair, const char *addr,
		const char *remote_addr);

/* Sends the login post of a form whose pair is `pair`; returns the socket
 * for fcgi_answer(). */
int login_send_with(const char *addr, const struct csrf_pair *pair,
		    const char *username, const char *password,
		    const char *remote_addr);

/* login_form() and login_send_with(). */
int login_send(const char *addr, const char *username, const char *password,
	       const char *remote_addr);

/* login_send() and fcgi_answer(). */
char *login_post(const char *addr, const char *username, const char *password,
		 const char *remote_addr);

/* Sends nginx's auth_request check for /private with the session cookie
 * `session` (no cookie when NULL); returns the socket for fcgi_answer(). */
int check_send(const char *addr, const char *session);

/* ------------------------------------------- a database that hangs */

/*
 * Locks `tables` (trusted names, comma-separated: "authgate.sessions") in
 * ACCESS EXCLUSIVE mode from a connection of its own, so that every
 * statement that touches them waits, until table_unlock(). A test that
 * dies releases them by exiting.
 */
PGconn *table_lock(const char *tables);

/* Rolls the lock back and closes its connection. */
void table_unlock(PGconn *holder);

/* Polls until at least `count` statements of the daemons that call
 * `function` (authgate.daemon_*) wait for a lock; false after `seconds`. */
bool daemon_statements_wait(const char *function, long count, double seconds);

#endif
