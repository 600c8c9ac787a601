/*
 * Options that change behaviour, on a daemon of the test's own: started
 * from AUTHGATE_TEST_BINARY on a private socket, against the stack's
 * database, and spoken to over FastCGI.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

TestSuite(options, .timeout = AG_TIMEOUT);

struct private_daemon {
	pid_t pid;
	char dir[64];
	char addr[128];
};

/* Starts the daemon with `extra` (NULL-terminated) and waits for its
 * socket to accept. */
static void daemon_start(struct private_daemon *d, const char *const *extra)
{
	char *argv[32], *listen;
	int argc = 0;
	double deadline = ag_now() + AG_TIMEOUT / 2;

	snprintf(d->dir, sizeof(d->dir), "/tmp/authgate-opt.XXXXXX");
	cr_assert_not_null(mkdtemp(d->dir));
	snprintf(d->addr, sizeof(d->addr), "unix:%s/d.sock", d->dir);
	listen = d->addr;
	argv[argc++] = (char *)ag_env("AUTHGATE_TEST_BINARY");
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--db";
	argv[argc++] = (char *)ag_env("AUTHGATE_TEST_DAEMON_DB");
	argv[argc++] = "--cookie-secure";
	argv[argc++] = "off";
	argv[argc++] = "--threads";
	argv[argc++] = "1";
	for (size_t i = 0; extra[i] != NULL && argc < 30; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;
	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		freopen("/dev/null", "w", stderr);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		struct stat st;
		char *path = d->addr + 5;

		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return;
		cr_assert(waitpid(d->pid, NULL, WNOHANG) == 0,
			  "the daemon exited at startup");
		cr_assert(ag_now() < deadline, "the daemon's socket did not appear");
		ag_pause(0.02);
	}
}

static void daemon_stop(struct private_daemon *d)
{
	int status = 0;
	char *sock = ag_strf("%s/d.sock", d->dir);

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
	unlink(sock);
	rmdir(d->dir);
	free(sock);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the daemon did not exit 0 on SIGTERM");
}

/* Sends one request; returns the CGI answer (caller frees). */
static char *fcgi_call(const char *addr, const char *const *params,
		       const char *body)
{
	struct ag_bytes b = {0};
	struct ag_fcgi_answer a;
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
	ag_fcgi_read_answer(fd, 1, &a);
	cr_assert(a.ended, "no answer from %s", addr);
	close(fd);
	free(b.data);
	return (char *)a.out.data;
}

/* A cookie's value from a Set-Cookie line of `answer` (caller frees). */
static char *set_cookie(const char *answer, const char *name)
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

/* The form's csrf_token in an HTML answer (caller frees). */
static char *csrf_field(const char *answer)
{
	const char *p = strstr(answer, "name=\"csrf_token\" value=\"");

	cr_assert_not_null(p, "no csrf_token in %s", answer);
	p += strlen("name=\"csrf_token\" value=\"");
	return ag_strf("%.*s", (int)strcspn(p, "\""), p);
}

static int status_of(const char *answer)
{
	int status = 0;

	cr_assert(sscanf(answer, "Status: %d", &status) == 1, "%s", answer);
	return status;
}

Test(options, login_max_failures_sets_the_lock)
{
	static const char *const extra[] = {
		"--login-max-failures", "2", "--login-lockout", "600", NULL,
	};
	struct private_daemon d;
	struct ag_user u;
	char *form, *csrf_cookie, *token, *cookie_header, *body, *answer;
	const char *const get[] = {
		"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "GET",
		"REMOTE_ADDR", "192.0.2.77", NULL,
	};

	ag_user_new(&u, "opt_lock");
	daemon_start(&d, extra);
	form = fcgi_call(d.addr, get, NULL);
	csrf_cookie = set_cookie(form, AG_CSRF_COOKIE);
	cr_assert_not_null(csrf_cookie);
	token = csrf_field(form);
	cookie_header = ag_strf("%s=%s", AG_CSRF_COOKIE, csrf_cookie);
	body = ag_form("csrf_token", token, "username", u.name, "password",
		       "wrong password", NULL);
	{
		char *length = ag_strf("%zu", strlen(body));
		const char *const post[] = {
			"AUTHGATE_ENDPOINT", "login", "REQUEST_METHOD", "POST",
			"CONTENT_TYPE", "application/x-www-form-urlencoded",
			"CONTENT_LENGTH", length, "HTTP_COOKIE", cookie_header,
			"REMOTE_ADDR", "192.0.2.77", NULL,
		};

		for (int i = 0; i < 2; i++) {
			answer = fcgi_call(d.addr, post, body);
			cr_expect_eq(status_of(answer), 401, "failure %d", i + 1);
			free(answer);
		}
		answer = fcgi_call(d.addr, post, body);
		cr_expect_eq(status_of(answer), 429, "locked after 2: %s", answer);
		cr_expect_not_null(strstr(answer, "Retry-After: "), "%s", answer);
		free(answer);
		free(length);
	}
	daemon_stop(&d);
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN "
		    "(lower($1), '192.0.2.77')", 1, u.name);
	free(form);
	free(csrf_cookie);
	free(token);
	free(cookie_header);
	free(body);
}
