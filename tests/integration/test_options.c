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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
	argv[argc++] = (char *)ag_env_or_skip("AUTHGATE_TEST_BINARY");
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--db";
	argv[argc++] = (char *)ag_env_or_skip("AUTHGATE_TEST_DAEMON_DB");
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

		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    accepts(path))
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

/* A browser's view of a private daemon: its client address, and the CSRF
 * cookie and form token from a GET of `endpoint` (login unless the form
 * is elsewhere). */
struct fcgi_browser {
	const char *addr;
	char *cookie_header;
	char *token;
};

/* GET of `endpoint` with `query`; the answer (caller frees). */
static char *fcgi_get(const struct private_daemon *d,
		      const struct fcgi_browser *b, const char *endpoint,
		      const char *query)
{
	const char *const get[] = {
		"AUTHGATE_ENDPOINT", endpoint, "REQUEST_METHOD", "GET",
		"QUERY_STRING", query, "REMOTE_ADDR", b->addr,
		"HTTP_COOKIE", b->cookie_header ? b->cookie_header : "", NULL,
	};

	return fcgi_call(d->addr, get, NULL);
}

static void browser_open(struct fcgi_browser *b,
			 const struct private_daemon *d, const char *addr)
{
	char *form, *csrf_cookie;

	b->addr = addr;
	b->cookie_header = NULL;
	form = fcgi_get(d, b, "login", "");
	csrf_cookie = set_cookie(form, AG_CSRF_COOKIE);
	cr_assert_not_null(csrf_cookie, "%s", form);
	b->token = csrf_field(form);
	b->cookie_header = ag_strf("%s=%s", AG_CSRF_COOKIE, csrf_cookie);
	free(form);
	free(csrf_cookie);
}

static void browser_close(struct fcgi_browser *b)
{
	free(b->cookie_header);
	free(b->token);
}

/* A form post to `endpoint`; the answer (caller frees). */
static char *fcgi_post(const struct private_daemon *d,
		       const struct fcgi_browser *b, const char *endpoint,
		       const char *body)
{
	char *length = ag_strf("%zu", strlen(body)), *answer;
	const char *const post[] = {
		"AUTHGATE_ENDPOINT", endpoint, "REQUEST_METHOD", "POST",
		"CONTENT_TYPE", "application/x-www-form-urlencoded",
		"CONTENT_LENGTH", length, "HTTP_COOKIE", b->cookie_header,
		"REMOTE_ADDR", b->addr, NULL,
	};

	answer = fcgi_call(d->addr, post, body);
	free(length);
	return answer;
}

Test(options, login_max_failures_sets_the_lock)
{
	static const char *const extra[] = {
		"--login-max-failures", "2", "--login-lockout", "600", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user u;
	char *body, *answer;

	ag_user_new(&u, "opt_lock");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.77");
	body = ag_form("csrf_token", b.token, "username", u.name, "password",
		       "wrong password", NULL);
	for (int i = 0; i < 2; i++) {
		answer = fcgi_post(&d, &b, "login", body);
		cr_expect_eq(status_of(answer), 401, "failure %d", i + 1);
		free(answer);
	}
	answer = fcgi_post(&d, &b, "login", body);
	cr_expect_eq(status_of(answer), 429, "locked after 2: %s", answer);
	cr_expect_not_null(strstr(answer, "Retry-After: "), "%s", answer);
	free(answer);
	daemon_stop(&d);
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN "
		    "(lower($1), '192.0.2.77')", 1, u.name);
	browser_close(&b);
	free(body);
}

/* ---------------------------------------------------------- the pages */

Test(options, login_template_message_and_app_name_are_escaped)
{
	static const char *const extra[] = {
		"--login-template", AUTHGATE_SOURCE_DIR "/docs/login-template.html",
		"--login-message", "Members <b>only</b> & friends",
		"--app-name", "Acme <script>alert(1)</script>", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b = {.addr = "192.0.2.78"};
	char *answer;

	daemon_start(&d, extra);
	answer = fcgi_get(&d, &b, "login",
			  "next=%2Fx%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E");
	cr_expect_eq(status_of(answer), 200, "%s", answer);
	/* The example template's own text, so it is the page served. */
	cr_expect_not_null(strstr(answer, "No account yet? Register"), "%s", answer);
	cr_expect_not_null(strstr(answer, "<p class=\"brand\">Acme &lt;script&gt;"
					  "alert(1)&lt;/script&gt;</p>"), "%s", answer);
	cr_expect_not_null(strstr(answer, "<title>Sign in to Acme &lt;script&gt;"),
			   "%s", answer);
	cr_expect_not_null(strstr(answer, "Members &lt;b&gt;only&lt;/b&gt; "
					  "&amp; friends"), "%s", answer);
	cr_expect_not_null(strstr(answer, "value=\"/x&quot;&gt;&lt;script&gt;"),
			   "%s", answer);
	cr_expect_null(strstr(answer, "<script>"), "%s", answer);
	/* Registration is off here: the link is hidden. */
	cr_expect_not_null(strstr(answer, "<p hidden><a href=\"\">"), "%s", answer);
	free(answer);
	daemon_stop(&d);
}

/* Runs the daemon with `args` (shell words) and returns its stderr; it
 * must exit 1 without serving. */
static char *startup_error(const char *args)
{
	char dir[] = "/tmp/authgate-tpl.XXXXXX";
	char *out, *cmd, *text;
	int status;

	cr_assert_not_null(mkdtemp(dir));
	out = ag_strf("%s/stderr", dir);
	cmd = ag_strf("cd %s && '%s' --listen unix:%s/d.sock --db '%s' %s 2>%s",
		      dir, ag_env("AUTHGATE_TEST_BINARY"), dir,
		      ag_env("AUTHGATE_TEST_DAEMON_DB"), args, out);
	status = ag_shell(cmd);
	cr_expect_eq(status, 1, "exit status %d of %s", status, cmd);
	text = ag_read_file(out, NULL);
	cr_assert_not_null(text);
	unlink(out);
	rmdir(dir);
	free(out);
	free(cmd);
	return text;
}

Test(options, bad_login_template_stops_the_start)
{
	static const struct {
		const char *content, *error;
	} cases[] = {
		{"<form>{{csrf_token}}{{nope}}</form>",
		 "unknown placeholder {{nope}}"},
		{"<form>{{csrf_token}}{{next</form>",
		 "malformed placeholder at byte 20"},
		{"<form>{{next}}</form>", "no {{csrf_token}}"},
	};
	char *path = ag_strf("/tmp/authgate-tpl-%d.html", (int)getpid());
	char *text;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");
		char *args = ag_strf("--login-template %s", path);
		char *want = ag_strf("authgate: login-template %s: %s", path,
				     cases[i].error);

		cr_assert_not_null(f);
		fputs(cases[i].content, f);
		fclose(f);
		text = startup_error(args);
		cr_expect_not_null(strstr(text, want), "case %zu: %s", i, text);
		free(text);
		free(args);
		free(want);
	}
	unlink(path);
	free(path);
	text = startup_error("--login-template /nonexistent/login.html");
	cr_expect_not_null(strstr(text, "login-template /nonexistent/login.html: "
					"No such file or directory"), "%s", text);
	free(text);
}

/* Registers `name` through a private daemon; the answer (caller frees). */
static char *fcgi_register(const struct private_daemon *d,
			   const struct fcgi_browser *b, const char *name,
			   const char *password)
{
	char *email = ag_strf("%s@example.org", name);
	char *body = ag_form("csrf_token", b->token, "username", name, "email",
			     email, "password", password, "password2", password,
			     NULL);
	char *answer = fcgi_post(d, b, "register", body);

	free(email);
	free(body);
	return answer;
}

Test(options, registration_is_off_by_default)
{
	static const char *const extra[] = {NULL};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user v;
	char *answer;

	ag_user_make(&v, "opt_noreg");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.79");
	answer = fcgi_get(&d, &b, "register", "");
	cr_expect_eq(status_of(answer), 404, "%s", answer);
	free(answer);
	answer = fcgi_register(&d, &b, v.name, v.password);
	cr_expect_eq(status_of(answer), 404, "%s", answer);
	free(answer);
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.users "
				"WHERE username = $1", 1, v.name), 0);
	daemon_stop(&d);
	browser_close(&b);
}

Test(options, registration_can_require_approval)
{
	static const char *const extra[] = {
		"--allow-registration", "on",
		"--registration-requires-approval", "on", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user v;
	struct ag_client c;
	char *answer;

	ag_user_make(&v, "opt_approve");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.80");
	answer = fcgi_register(&d, &b, v.name, v.password);
	cr_expect_eq(status_of(answer), 200, "%s", answer);
	cr_expect_not_null(strstr(answer, "An operator must approve it"), "%s",
			   answer);
	cr_expect_null(set_cookie(answer, AG_SESSION_COOKIE), "%s", answer);
	free(answer);
	daemon_stop(&d);
	cr_assert_eq(ag_sql_int("SELECT count(*) FROM authgate.users WHERE "
				"username = $1 AND disabled", 1, v.name), 1);

	/* Through the stack: refused until an operator enables the user. */
	ag_client_init(&c);
	cr_expect_eq(ag_login(&c, v.name, v.password, false, NULL, NULL), 401);
	ag_sql_exec("SELECT authgate.enable_user($1)", 1, v.name);
	cr_expect_eq(ag_login(&c, v.name, v.password, false, NULL, NULL), 303);
	ag_client_free(&c);
	browser_close(&b);
}

Test(options, registration_limit_per_address)
{
	static const char *const extra[] = {
		"--allow-registration", "on", "--registration-limit", "2", NULL,
	};
	struct private_daemon d;
	struct fcgi_browser b;
	struct ag_user v[3];
	char *answer;

	/* The limit counts the last hour's events of the address. */
	ag_sql_exec("DELETE FROM authgate.events WHERE client_addr = $1", 1,
		    "192.0.2.81");
	daemon_start(&d, extra);
	browser_open(&b, &d, "192.0.2.81");
	for (int i = 0; i < 3; i++) {
		ag_user_make(&v[i], "opt_limit");
		answer = fcgi_register(&d, &b, v[i].name, v[i].password);
		cr_expect_eq(status_of(answer), i < 2 ? 303 : 429, "attempt %d: %s",
			     i + 1, answer);
		free(answer);
	}
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.users "
				"WHERE username = $1", 1, v[2].name), 0);
	daemon_stop(&d);
	browser_close(&b);
}

Test(options, metrics_allow_limits_who_reads_metrics)
{
	static const char *const extra[] = {
		"--metrics-allow", "10.0.0.0/8, 2001:db8::/32", NULL,
	};
	static const char *const from[][2] = {
		{"127.0.0.1", "403"}, {"::1", "403"}, {"11.0.0.1", "403"},
		{"10.200.0.1", "200"}, {"2001:db8::7", "200"},
		{"::ffff:10.0.0.1", "200"}, {"not an address", "403"},
	};
	struct private_daemon d;

	daemon_start(&d, extra);
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		const char *const params[] = {
			"AUTHGATE_ENDPOINT", "metrics", "REQUEST_METHOD", "GET",
			"REMOTE_ADDR", from[i][0], NULL,
		};
		char *answer = fcgi_call(d.addr, params, NULL);
		bool allowed = strcmp(from[i][1], "200") == 0;

		cr_expect_eq(status_of(answer), atoi(from[i][1]), "from %s: %s",
			     from[i][0], answer);
		cr_expect_eq(strstr(answer, "authgate_checks_total") != NULL,
			     allowed, "from %s: %s", from[i][0], answer);
		free(answer);
	}
	{
		/* No REMOTE_ADDR at all: refused. */
		const char *const params[] = {
			"AUTHGATE_ENDPOINT", "metrics", "REQUEST_METHOD", "GET",
			NULL,
		};
		char *answer = fcgi_call(d.addr, params, NULL);

		cr_expect_eq(status_of(answer), 403, "%s", answer);
		free(answer);
	}
	daemon_stop(&d);
}
