#include "private_daemon.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

/* What the sanitizers' reports hold (the test command greps the stack's
 * daemon log for the same). */
static const char *const sanitizer_reports[] = {
	"AddressSanitizer", "LeakSanitizer", "runtime error:",
};

/* Whether the unix socket at `path` accepts a connection: its file
 * appears at bind(), a moment before listen(). */
static bool accepts(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

void daemon_start(struct private_daemon *d, const char *const *extra)
{
	daemon_start_binary(d, ag_env_or_skip("AUTHGATE_TEST_BINARY"), extra);
}

void daemon_start_binary(struct private_daemon *d, const char *binary,
			 const char *const *extra)
{
	char *argv[32];
	int argc = 0;
	double deadline = ag_now() + AG_TIMEOUT / 2;
	pid_t parent;

	snprintf(d->dir, sizeof(d->dir), "/tmp/authgate-opt.XXXXXX");
	cr_assert_not_null(mkdtemp(d->dir));
	snprintf(d->addr, sizeof(d->addr), "unix:%s/d.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/stderr", d->dir);
	argv[argc++] = (char *)binary;
	argv[argc++] = "--listen";
	argv[argc++] = d->addr;
	argv[argc++] = "--db";
	argv[argc++] = (char *)ag_env_or_skip("AUTHGATE_TEST_DAEMON_DB");
	argv[argc++] = "--cookie-secure";
	argv[argc++] = "off";
	argv[argc++] = "--threads";
	argv[argc++] = "1";
	for (size_t i = 0; extra[i] != NULL; i++) {
		cr_assert(argc < 31, "too many daemon options");
		argv[argc++] = (char *)extra[i];
	}
	argv[argc] = NULL;
	parent = getpid();
	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);

		/* A test that fails half-way leaves no daemon behind. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
			_exit(125);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		struct stat st;
		char *path = d->addr + 5;

		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    accepts(path))
			return;
		cr_assert(waitpid(d->pid, NULL, WNOHANG) == 0,
			  "the daemon exited at startup");
		cr_assert(ag_now() < deadline, "the daemon's socket did not appear");
		ag_pause(0.02);
	}
}

char *daemon_log(const struct private_daemon *d)
{
	char *text = ag_read_file(d->log, NULL);

	cr_assert_not_null(text, "cannot read %s", d->log);
	return text;
}

bool daemon_log_waits_for(const struct private_daemon *d, const char *needle,
			  double seconds)
{
	double deadline = ag_now() + seconds;

	for (;;) {
		char *text = daemon_log(d);
		bool found = strstr(text, needle) != NULL;

		free(text);
		if (found)
			return true;
		if (ag_now() > deadline)
			return false;
		ag_pause(0.02);
	}
}

void daemon_stop(struct private_daemon *d)
{
	int status = 0;
	char *sock = ag_strf("%s/d.sock", d->dir);
	char *log;
	size_t len;

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
	log = daemon_log(d);
	len = strlen(log);
	for (size_t i = 0; i < sizeof(sanitizer_reports) / sizeof(*sanitizer_reports);
	     i++)
		cr_expect_null(strstr(log, sanitizer_reports[i]),
			       "the daemon's log has a sanitizer report: %.2000s",
			       strstr(log, sanitizer_reports[i]));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the daemon did not exit 0 on SIGTERM (wait status %#x); "
		  "its log ends: %s", status, log + (len > 2000 ? len - 2000 : 0));
	free(log);
	unlink(d->log);
	unlink(sock);
	rmdir(d->dir);
	free(sock);
}

int fcgi_send(const char *addr, const char *const *params, const char *body)
{
	struct ag_bytes b = {0};
	uint8_t begin[8] = {0, FCGI_RESPONDER, 0};
	int fd = ag_fcgi_connect(addr);

	ag_fcgi_record(&b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
	{
		struct ag_bytes p = {0};

		ag_fcgi_params_encode(&p, params);
		ag_fcgi_record(&b, FCGI_PARAMS, 1, p.data, (uint16_t)p.len);
		free(p.data);
	}
	ag_fcgi_record(&b, FCGI_PARAMS, 1, NULL, 0);
	if (body != NULL && body[0] != '\0')
		ag_fcgi_record(&b, FCGI_STDIN, 1, body, (uint16_t)strlen(body));
	ag_fcgi_record(&b, FCGI_STDIN, 1, NULL, 0);
	ag_send_bytes(fd, b.data, b.len);
	free(b.data);
	return fd;
}

char *fcgi_answer(int fd)
{
	struct ag_fcgi_answer a;

	ag_fcgi_read_answer(fd, 1, &a);
	cr_assert(a.ended, "no complete answer within %d s (%zu bytes came)",
		  RECV_TIMEOUT, a.out.len);
	close(fd);
	return (char *)a.out.data;
}

char *fcgi_call(const char *addr, const char *const *params, const char *body)
{
	return fcgi_answer(fcgi_send(addr, params, body));
}

char *set_cookie(const char *answer, const char *name)
{
	char *key = ag_strf("Set-Cookie: %s=", name);
	const char *p = strstr(answer, key);
	char *value = NULL;

	if (p != NULL) {
		p += strlen(key);
		value = ag_strf("%.*s", (int)strcspn(p, ";\r"), p);
	}
	free(key);
	return value;
}

char *csrf_field(const char *answer)
{
	const char *p = strstr(answer, "name=\"csrf_token\" value=\"");

	cr_assert_not_null(p, "no csrf_token in %s", answer);
	p += strlen("name=\"csrf_token\" value=\"");
	return ag_strf("%.*s", (int)strcspn(p, "\""), p);
}

int status_of(const char *answer)
{
	int status = 0;

	cr_assert(sscanf(answer, "Status: %d", &status) == 1, "%s", answer);
	return status;
}

void csrf_pair_of(struct csrf_pair *pair, const char *page)
{
	char *cookie = set_cookie(page, AG_CSRF_COOKIE);

	cr_assert_not_null(cookie, "no CSRF cookie set: %s", page);
	pair->cookie_header = ag_strf("%s=%s", AG_CSRF_COOKIE, cookie);
	pair->token = csrf_field(page);
	free(cookie);
}

void csrf_pair_free(struct csrf_pair *pair)
{
	free(pair->cookie_header);
	free(pair->token);
}

void login_form(struct csrf_pair *pair, const char *addr,
		const char *remote_addr)
{
	const char *const get[] = {
		"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "GET",
		"REMOTE_ADDR", remote_addr, NULL,
	};
	char *form = fcgi_call(addr, get, NULL);

	csrf_pair_of(pair, form);
	free(form);
}

int login_send_with(const char *addr, const struct csrf_pair *pair,
		    const char *username, const char *password,
		    const char *remote_addr)
{
	char *body = ag_form("csrf_token", pair->token, "username", username,
			     "password", password, NULL);
	char *length = ag_strf("%zu", strlen(body));
	const char *const post[] = {
		"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "POST",
		"CONTENT_TYPE", "application/x-www-form-urlencoded",
		"CONTENT_LENGTH", length, "HTTP_COOKIE", pair->cookie_header,
		"REMOTE_ADDR", remote_addr, NULL,
	};
	int fd = fcgi_send(addr, post, body);

	free(body);
	free(length);
	return fd;
}

int login_send(const char *addr, const char *username, const char *password,
	       const char *remote_addr)
{
	struct csrf_pair pair;
	int fd;

	login_form(&pair, addr, remote_addr);
	fd = login_send_with(addr, &pair, username, password, remote_addr);
	csrf_pair_free(&pair);
	return fd;
}

int check_send(const char *addr, const char *session)
{
	char *cookie = session ? ag_strf("%s=%s", AG_SESSION_COOKIE, session)
			       : ag_strf("%s", "");
	const char *const params[] = {
		"AUTHGATE_ENDPOINT", "check", "REQUEST_METHOD", "GET",
		"REQUEST_URI", "/private", "HTTP_COOKIE", cookie, NULL,
	};
	int fd = fcgi_send(addr, params, NULL);

	free(cookie);
	return fd;
}

char *login_post(const char *addr, const char *username, const char *password,
		 const char *remote_addr)
{
	return fcgi_answer(login_send(addr, username, password, remote_addr));
}

PGconn *table_lock(const char *tables)
{
	PGconn *holder = PQconnectdb(ag_env("AUTHGATE_TEST_DB"));
	char *sql = ag_strf("BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE",
			    tables);
	PGresult *res;

	cr_assert(PQstatus(holder) == CONNECTION_OK, "%s", PQerrorMessage(holder));
	res = PQexec(holder, sql);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK, "%s",
		  PQerrorMessage(holder));
	PQclear(res);
	free(sql);
	return holder;
}

void table_unlock(PGconn *holder)
{
	PQclear(PQexec(holder, "ROLLBACK"));
	PQfinish(holder);
}

bool daemon_statements_wait(const char *function, long count, double seconds)
{
	double deadline = ag_now() + seconds;
	char *pattern = ag_strf("%%%s%%", function);
	bool waiting;

	while (!(waiting = ag_sql_int("SELECT count(*) FROM pg_stat_activity "
				      "WHERE usename = 'authgate_daemon' AND "
				      "wait_event_type = 'Lock' AND query LIKE $1",
				      1, pattern) >= count) &&
	       ag_now() < deadline)
		ag_pause(0.02);
	free(pattern);
	return waiting;
}
