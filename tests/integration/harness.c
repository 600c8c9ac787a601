/* The integration test harness (see harness.h). */
#include "fcgi_client.h"
#include "harness.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ env */

const char *ag_env(const char *name)
{
	const char *value = getenv(name);

	if (value == NULL || value[0] == '\0')
		cr_assert_fail("%s is not set: run the integration tests "
			       "through scripts/dev test (or source the env "
			       "file of scripts/dev stack start DIR)",
			       name);
	return value;
}

void ag_skip(const char *reason)
{
	fprintf(stderr, "SKIPPED: %s\n", reason);
	cr_skip_test("%s", reason);
	abort(); /* not reached: cr_skip_test() leaves the test */
}

const char *ag_env_or_skip(const char *name)
{
	const char *value = getenv(name);

	if (value == NULL || value[0] == '\0') {
		char reason[128];

		snprintf(reason, sizeof(reason),
			 "%s is not set: this stack cannot run this case", name);
		ag_skip(reason);
	}
	return value;
}

/* ------------------------------------------------------------- secrets */

void ag_secret(const char *secret)
{
	const char *path = getenv("AUTHGATE_TEST_SECRETS");
	char *line;
	int fd;

	/* Short values (a flag, a test's own "wrong") would match by chance. */
	if (path == NULL || path[0] == '\0' || strlen(secret) < 12)
		return;
	line = ag_strf("%s\n", secret);
	/* One write with O_APPEND: parallel cases never interleave. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd >= 0, "cannot open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	free(line);
}

/* ----------------------------------------------------------------- misc */

void ag_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	int fd;
	ssize_t n;

	cr_assert(nbytes <= sizeof(raw));
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open /dev/urandom: %s", strerror(errno));
	n = read(fd, raw, nbytes);
	close(fd);
	cr_assert(n == (ssize_t)nbytes, "short read from /dev/urandom");
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

char *ag_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 65536) {
			char *bigger = realloc(data, cap + 65536 + 1);

			cr_assert(bigger != NULL, "out of memory");
			data = bigger;
			cap += 65536;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	if (data == NULL) {
		data = malloc(1);
		cr_assert(data != NULL);
	}
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

bool ag_contains(const char *haystack, size_t len, const char *needle)
{
	return haystack != NULL && needle[0] != '\0' &&
	       memmem(haystack, len, needle, strlen(needle)) != NULL;
}

double ag_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ag_pause(double seconds)
{
	struct timespec ts = {(time_t)seconds,
			      (long)((seconds - (double)(time_t)seconds) * 1e9)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int ag_shell(const char *command)
{
	int status = system(command);

	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

char *ag_strf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0, "out of memory");
	return s;
}

/* ----------------------------------------------------------------- forms */

char *ag_urlencode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * len + 1);
	size_t n = 0;

	cr_assert(out != NULL, "out of memory");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			out[n++] = (char)ch;
		} else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n] = '\0';
	return out;
}

char *ag_form(const char *name, ...)
{
	va_list ap;
	char *out = calloc(1, 1);
	size_t len = 0;

	cr_assert(out != NULL, "out of memory");
	va_start(ap, name);
	for (const char *n = name; n != NULL; n = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);
		char *ev = ag_urlencode(value, strlen(value));
		size_t add = strlen(n) + strlen(ev) + 2;
		char *bigger = realloc(out, len + add + 1);

		cr_assert(bigger != NULL, "out of memory");
		out = bigger;
		len += (size_t)sprintf(out + len, "%s%s=%s", len ? "&" : "",
				       n, ev);
		free(ev);
	}
	va_end(ap);
	return out;
}

/* ----------------------------------------------------------------- HTTP */

static void global_init(void)
{
	static bool done;

	if (!done) {
		cr_assert(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
		done = true;
	}
}

void ag_client_init(struct ag_client *c)
{
	unsigned char raw[3];
	char hex[7];

	memset(c, 0, sizeof(*c));
	/* 127.0.0.0/8 is all loopback on Linux: a random source address
	 * per client keeps per-address state (events, failure counters)
	 * of parallel tests apart. 127.0.0.1 itself is avoided. */
	ag_random_hex(hex, 3);
	for (int i = 0; i < 3; i++) {
		unsigned v = (unsigned)strtoul((char[]){hex[2 * i], hex[2 * i + 1], 0},
					       NULL, 16);

		raw[i] = (unsigned char)(2 + v % 250);
	}
	snprintf(c->source, sizeof(c->source), "127.%u.%u.%u", raw[0], raw[1],
		 raw[2]);
}

void ag_jar_clear(struct ag_client *c)
{
	for (size_t i = 0; i < c->njar; i++) {
		free(c->jar[i].name);
		free(c->jar[i].value);
	}
	c->njar = 0;
}

void ag_client_free(struct ag_client *c)
{
	ag_jar_clear(c);
}

const char *ag_jar_get(const struct ag_client *c, const char *name)
{
	for (size_t i = 0; i < c->njar; i++)
		if (strcmp(c->jar[i].name, name) == 0)
			return c->jar[i].value;
	return NULL;
}

static void jar_delete(struct ag_client *c, const char *name)
{
	for (size_t i = 0; i < c->njar; i++) {
		if (strcmp(c->jar[i].name, name) == 0) {
			free(c->jar[i].name);
			free(c->jar[i].value);
			c->jar[i] = c->jar[--c->njar];
			return;
		}
	}
}

void ag_jar_set(struct ag_client *c, const char *name, const char *value)
{
	jar_delete(c, name);
	cr_assert(c->njar < AG_JAR_MAX, "cookie jar full");
	c->jar[c->njar].name = strdup(name);
	c->jar[c->njar].value = strdup(value);
	cr_assert(c->jar[c->njar].name && c->jar[c->njar].value);
	c->njar++;
}

void ag_client_with_session(struct ag_client *c, const char *session)
{
	ag_client_init(c);
	ag_jar_set(c, AG_SESSION_COOKIE, session);
}

/* Applies one Set-Cookie value to the jar as a browser would (for the
 * attributes the daemon uses: a Max-Age of 0 deletes). */
static void jar_apply(struct ag_client *c, const char *set_cookie)
{
	const char *eq = strchr(set_cookie, '=');
	const char *semi = strchr(set_cookie, ';');
	const char *max_age;
	char *name, *value;

	if (eq == NULL || (semi != NULL && semi < eq))
		return;
	if (semi == NULL)
		semi = set_cookie + strlen(set_cookie);
	name = strndup(set_cookie, (size_t)(eq - set_cookie));
	value = strndup(eq + 1, (size_t)(semi - eq - 1));
	cr_assert(name && value);
	ag_secret(value);
	max_age = strcasestr(semi, "Max-Age=");
	if (max_age != NULL && strtol(max_age + 8, NULL, 10) <= 0)
		jar_delete(c, name);
	else
		ag_jar_set(c, name, value);
	free(name);
	free(value);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ag_response *r = arg;
	size_t n = size * nmemb;
	char *bigger = realloc(r->body, r->body_len + n + 1);

	if (bigger == NULL)
		return 0;
	r->body = bigger;
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return n;
}

static void free_headers(struct ag_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ag_response *r = arg;
	size_t n = size * nmemb, len = n;
	const char *colon;
	struct ag_header *bigger;
	size_t vstart;

	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	/* A new status line (after 100 Continue): start over. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		free_headers(r);
		return n;
	}
	colon = memchr(data, ':', len);
	if (colon == NULL)
		return n;
	bigger = realloc(r->headers, (r->nheaders + 1) * sizeof(*bigger));
	if (bigger == NULL)
		return 0;
	r->headers = bigger;
	vstart = (size_t)(colon - data) + 1;
	while (vstart < len && (data[vstart] == ' ' || data[vstart] == '\t'))
		vstart++;
	r->headers[r->nheaders].name = strndup(data, (size_t)(colon - data));
	r->headers[r->nheaders].value = strndup(data + vstart, len - vstart);
	if (!r->headers[r->nheaders].name || !r->headers[r->nheaders].value)
		return 0;
	r->nheaders++;
	return n;
}

void ag_response_free(struct ag_response *r)
{
	free_headers(r);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *ag_header(const struct ag_response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

size_t ag_header_count(const struct ag_response *r, const char *name)
{
	size_t count = 0;

	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			count++;
	return count;
}

const char *ag_set_cookie(const struct ag_response *r, const char *cookie_name)
{
	size_t n = strlen(cookie_name);

	for (size_t i = 0; i < r->nheaders; i++) {
		const char *v = r->headers[i].value;

		if (strcasecmp(r->headers[i].name, "Set-Cookie") == 0 &&
		    strncmp(v, cookie_name, n) == 0 && v[n] == '=')
			return v;
	}
	return NULL;
}

bool ag_body_has(const struct ag_response *r, const char *needle)
{
	return ag_contains(r->body, r->body_len, needle);
}

char *ag_input_value(const struct ag_response *r, const char *name)
{
	char *key = ag_strf("name=\"%s\"", name);
	const char *at, *tag_start, *tag_end, *v, *end;
	char *value = NULL;

	at = r->body ? strstr(r->body, key) : NULL;
	free(key);
	if (at == NULL)
		return NULL;
	/* The <input ...> tag around the name attribute. */
	for (tag_start = at; tag_start > r->body && *tag_start != '<';
	     tag_start--)
		;
	tag_end = strchr(at, '>');
	if (tag_end == NULL)
		return NULL;
	for (v = tag_start; v < tag_end; v++) {
		if (strncmp(v, " value=\"", 8) == 0) {
			v += 8;
			end = memchr(v, '"', (size_t)(tag_end - v));
			if (end == NULL)
				return NULL;
			value = strndup(v, (size_t)(end - v));
			cr_assert(value != NULL);
			return value;
		}
	}
	return NULL;
}

/* Appends one header line to a curl list, failing the test on ENOMEM. */
static struct curl_slist *add_header(struct curl_slist *list, const char *line)
{
	struct curl_slist *more = curl_slist_append(list, line);

	cr_assert(more != NULL, "out of memory");
	return more;
}

/* A configured easy handle for one request; `list` and the strings it
 * points to must outlive the transfer. */
struct prepared {
	CURL *curl;
	struct curl_slist *list;
	char *url;
	char *iface;
	char errbuf[CURL_ERROR_SIZE];
};

static void prepare(struct prepared *p, struct ag_client *c,
		    const char *method, const char *path,
		    const char *const *headers, const char *body,
		    size_t body_len, struct ag_response *out)
{
	bool own_cookie = false;

	global_init();
	memset(out, 0, sizeof(*out));
	p->url = ag_strf("%s%s", ag_env("AUTHGATE_TEST_URL"), path);
	p->iface = ag_strf("host!%s", c->source);
	p->list = NULL;
	p->errbuf[0] = '\0';
	p->curl = curl_easy_init();
	cr_assert(p->curl != NULL, "curl_easy_init failed");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		if (strncasecmp(headers[i], "Cookie:", 7) == 0)
			own_cookie = true;
		p->list = add_header(p->list, headers[i]);
	}
	if (!own_cookie && c->njar > 0) {
		char *line = ag_strf("Cookie:");

		for (size_t i = 0; i < c->njar; i++) {
			char *longer = ag_strf("%s%s %s=%s", line,
					       i ? ";" : "", c->jar[i].name,
					       c->jar[i].value);

			free(line);
			line = longer;
		}
		p->list = add_header(p->list, line);
		free(line);
	}
	/* Never wait for 100 Continue. */
	p->list = add_header(p->list, "Expect:");

	curl_easy_setopt(p->curl, CURLOPT_URL, p->url);
	curl_easy_setopt(p->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->list);
	curl_easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->curl, CURLOPT_INTERFACE, p->iface);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(p->curl, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, out);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(p->curl, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
	}
}

/* Takes the status and releases the handle; fails the test on a
 * transport error. */
static void finish(struct prepared *p, CURLcode rc, const char *method,
		   struct ag_response *out)
{
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_cleanup(p->curl);
	curl_slist_free_all(p->list);
	cr_assert(rc == CURLE_OK, "%s %s: %s (%s)", method, p->url,
		  curl_easy_strerror(rc), p->errbuf);
	free(p->url);
	free(p->iface);
	if (out->body == NULL) {
		out->body = calloc(1, 1);
		cr_assert(out->body != NULL);
	}
}

/* Set by every SQL statement and logout: the daemons' caches may have a
 * notification coming, so the next request first waits for them. */
static bool daemons_behind;

void ag_request(struct ag_client *c, const char *method, const char *path,
		const char *const *headers, const char *body, size_t body_len,
		struct ag_response *out)
{
	struct prepared p;

	ag_daemons_catch_up();
	prepare(&p, c, method, path, headers, body, body_len, out);
	finish(&p, curl_easy_perform(p.curl), method, out);
	for (size_t i = 0; i < out->nheaders; i++)
		if (strcasecmp(out->headers[i].name, "Set-Cookie") == 0)
			jar_apply(c, out->headers[i].value);
	/* A logout reaches the other daemons by NOTIFY. */
	if (strcmp(method, "POST") == 0 && strncmp(path, "/auth/logout", 12) == 0)
		daemons_behind = true;
}

void ag_parallel(struct ag_client *c, const char *method, const char *path,
		 const char *const *headers, const char *body, size_t n,
		 struct ag_response *out)
{
	struct prepared *p = calloc(n, sizeof(*p));
	CURLcode *rc = calloc(n, sizeof(*rc));
	CURLM *multi;
	CURLMsg *msg;
	int running = 0, left;
	double deadline = ag_now() + 40;

	cr_assert(p != NULL && rc != NULL, "out of memory");
	multi = curl_multi_init();
	cr_assert(multi != NULL);
	for (size_t i = 0; i < n; i++) {
		prepare(&p[i], c, method, path, headers, body,
			body ? strlen(body) : 0, &out[i]);
		/* Separate connections, so all are in flight at once. */
		curl_easy_setopt(p[i].curl, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(p[i].curl, CURLOPT_PRIVATE, (void *)&rc[i]);
		rc[i] = CURLE_OPERATION_TIMEDOUT;
		cr_assert(curl_multi_add_handle(multi, p[i].curl) == CURLM_OK);
	}
	do {
		cr_assert(curl_multi_perform(multi, &running) == CURLM_OK);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			char *private = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  &private);
			*(CURLcode *)(void *)private = msg->data.result;
		}
		if (running > 0)
			cr_assert(curl_multi_poll(multi, NULL, 0, 200, NULL) ==
				  CURLM_OK);
	} while (running > 0 && ag_now() < deadline);
	for (size_t i = 0; i < n; i++)
		curl_multi_remove_handle(multi, p[i].curl);
	curl_multi_cleanup(multi);
	for (size_t i = 0; i < n; i++)
		finish(&p[i], rc[i], method, &out[i]);
	free(p);
	free(rc);
}

void ag_get(struct ag_client *c, const char *path, struct ag_response *out)
{
	ag_request(c, "GET", path, NULL, NULL, 0, out);
}

void ag_get_html(struct ag_client *c, const char *path,
		 struct ag_response *out)
{
	static const char *const headers[] = {
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
		"*/*;q=0.8",
		NULL,
	};

	ag_request(c, "GET", path, headers, NULL, 0, out);
}

void ag_get_with(struct ag_client *c, const char *path,
		 const char *const *headers, struct ag_response *out)
{
	ag_request(c, "GET", path, headers, NULL, 0, out);
}

void ag_post_form(struct ag_client *c, const char *path, const char *body,
		  const char *const *headers, struct ag_response *out)
{
	const char *all[16];
	size_t n = 0;

	all[n++] = "Content-Type: application/x-www-form-urlencoded";
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		cr_assert(n < sizeof(all) / sizeof(all[0]) - 1);
		all[n++] = headers[i];
	}
	all[n] = NULL;
	ag_request(c, "POST", path, all, body, strlen(body), out);
}

long ag_status(struct ag_client *c, const char *path)
{
	struct ag_response r;
	long status;

	ag_get(c, path, &r);
	status = r.status;
	ag_response_free(&r);
	return status;
}

/* ---------------------------------------------------------------- login */

char *ag_csrf_token(struct ag_client *c)
{
	struct ag_response r;
	char *token;

	ag_get(c, "/auth/login", &r);
	cr_assert_eq(r.status, 200, "GET /auth/login: %ld", r.status);
	token = ag_input_value(&r, "csrf_token");
	cr_assert(token != NULL, "no csrf_token in the login form");
	ag_secret(token);
	cr_assert(ag_jar_get(c, AG_CSRF_COOKIE) != NULL,
		  "no %s cookie after GET /auth/login", AG_CSRF_COOKIE);
	ag_response_free(&r);
	return token;
}

long ag_login(struct ag_client *c, const char *username, const char *password,
	      bool remember, const char *next, struct ag_response *out)
{
	char *token = ag_csrf_token(c);
	char *body = ag_form("csrf_token", token, "username", username,
			     "password", password, NULL);
	struct ag_response r;
	long status;

	if (remember) {
		char *more = ag_strf("%s&remember=on", body);

		free(body);
		body = more;
	}
	if (next != NULL) {
		char *enc = ag_urlencode(next, strlen(next));
		char *more = ag_strf("%s&next=%s", body, enc);

		free(enc);
		free(body);
		body = more;
	}
	ag_post_form(c, "/auth/login", body, NULL, &r);
	status = r.status;
	if (out != NULL)
		*out = r;
	else
		ag_response_free(&r);
	free(body);
	free(token);
	return status;
}

void ag_login_ok(struct ag_client *c, const char *username,
		 const char *password)
{
	struct ag_response r;
	long status = ag_login(c, username, password, false, NULL, &r);

	cr_assert_eq(status, 303, "login of %s: status %ld, body: %.300s",
		     username, status, r.body);
	cr_assert(ag_set_cookie(&r, AG_SESSION_COOKIE) != NULL,
		  "login of %s set no session cookie", username);
	cr_assert(ag_session(c) != NULL);
	ag_response_free(&r);
}

const char *ag_session(const struct ag_client *c)
{
	return ag_jar_get(c, AG_SESSION_COOKIE);
}

/* -------------------------------------------------------------- database */

static PGconn *db_conn;

PGconn *ag_db(void)
{
	if (db_conn == NULL || PQstatus(db_conn) != CONNECTION_OK) {
		if (db_conn != NULL)
			PQfinish(db_conn);
		db_conn = PQconnectdb(ag_env("AUTHGATE_TEST_DB"));
		cr_assert(PQstatus(db_conn) == CONNECTION_OK,
			  "cannot connect to AUTHGATE_TEST_DB: %s",
			  PQerrorMessage(db_conn));
	}
	return db_conn;
}

void ag_db_close(void)
{
	if (db_conn != NULL)
		PQfinish(db_conn);
	db_conn = NULL;
}

static PGresult *vsql(const char *sql, int nparams, va_list ap)
{
	const char *params[16];

	cr_assert(nparams >= 0 && nparams <= 16);
	for (int i = 0; i < nparams; i++)
		params[i] = va_arg(ap, const char *);
	daemons_behind = true;
	return PQexecParams(ag_db(), sql, nparams, NULL, params, NULL, NULL, 0);
}

/* The value of "name":"..." in a JSON body, or "" (fixed buffer). */
static void json_field(const char *body, const char *name, char *out,
		       size_t cap)
{
	char *key = ag_strf("\"%s\":\"", name);
	const char *p = strstr(body, key);
	size_t n = 0;

	if (p != NULL) {
		p += strlen(key);
		while (p[n] != '\0' && p[n] != '"' && n + 1 < cap)
			n++;
		memcpy(out, p, n);
	}
	out[n] = '\0';
	free(key);
}

/* One daemon's healthz over FastCGI: its cache state and last sync. */
static void daemon_health(const char *addr, char *cache, char *sync, size_t cap)
{
	static const char *const params[] = {
		"AUTHGATE_ENDPOINT", "healthz", "REQUEST_METHOD", "GET", NULL,
	};
	struct ag_fcgi_answer a;
	int fd = ag_fcgi_connect(addr);

	ag_fcgi_send_request(fd, 1, false, params);
	ag_fcgi_read_answer(fd, 1, &a);
	close(fd);
	cr_assert(a.ended, "%s: no healthz answer", addr);
	json_field((const char *)a.out.data, "cache", cache, cap);
	json_field((const char *)a.out.data, "sync", sync, cap);
	free(a.out.data);
}

/* Sends NOTIFY authgate 'sync:<token>'; false when the database is down. */
static bool send_sync(char token[33])
{
	const char *params[1];
	char *payload;
	PGresult *res;
	bool ok;

	ag_random_hex(token, 16);
	payload = ag_strf("sync:%s", token);
	params[0] = payload;
	res = PQexecParams(ag_db(), "SELECT pg_notify('authgate', $1)", 1, NULL,
			   params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	free(payload);
	return ok;
}

void ag_daemons_catch_up(void)
{
	if (daemons_behind)
		ag_daemons_sync();
}

#define SYNC_TOKENS 64

void ag_daemons_sync(void)
{
	char tokens[SYNC_TOKENS][33], cache[80], sync[80];
	char *list, *save = NULL;
	size_t sent = 0;
	double deadline = ag_now() + AG_TIMEOUT / 2, resend = 0;

	daemons_behind = false;
	list = strdup(ag_env("AUTHGATE_TEST_FCGI_ALL"));
	for (char *addr = strtok_r(list, " ", &save); addr != NULL;
	     addr = strtok_r(NULL, " ", &save)) {
		for (;;) {
			bool seen = false;

			/* A daemon whose listener reconnected after a NOTIFY
			 * never gets it, but emptied its cache on the way
			 * back: a newer token then shows it is current. */
			if (ag_now() >= resend && sent < SYNC_TOKENS) {
				if (!send_sync(tokens[sent])) {
					/* The database is down: so are the
					 * listeners, and a cache without its
					 * listener is not used. */
					ag_db_close();
					free(list);
					return;
				}
				sent++;
				resend = ag_now() + 0.25;
			}
			daemon_health(addr, cache, sync, sizeof(cache));
			for (size_t i = 0; i < sent; i++)
				seen = seen || strcmp(sync, tokens[i]) == 0;
			/* Off or reconnecting: no cache answers. */
			if (strcmp(cache, "on") != 0 || seen)
				break;
			cr_assert(ag_now() < deadline,
				  "%s did not receive the sync NOTIFYs", addr);
			ag_pause(0.005);
		}
	}
	free(list);
}

static void require_ok(PGresult *res, const char *sql)
{
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char *msg = ag_strf("%s", PQresultErrorMessage(res));

		PQclear(res);
		cr_assert_fail("SQL failed: %s\n  statement: %s", msg, sql);
	}
}

PGresult *ag_sql(const char *sql, int nparams, ...)
{
	va_list ap;
	PGresult *res;

	va_start(ap, nparams);
	res = vsql(sql, nparams, ap);
	va_end(ap);
	require_ok(res, sql);
	return res;
}

void ag_sql_exec(const char *sql, int nparams, ...)
{
	va_list ap;
	PGresult *res;

	va_start(ap, nparams);
	res = vsql(sql, nparams, ap);
	va_end(ap);
	require_ok(res, sql);
	PQclear(res);
}

char *ag_sql_value(const char *sql, int nparams, ...)
{
	va_list ap;
	PGresult *res;
	char *value = NULL;

	va_start(ap, nparams);
	res = vsql(sql, nparams, ap);
	va_end(ap);
	require_ok(res, sql);
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
		value = strdup(PQgetvalue(res, 0, 0));
		cr_assert(value != NULL);
	}
	PQclear(res);
	return value;
}

long long ag_sql_int(const char *sql, int nparams, ...)
{
	va_list ap;
	PGresult *res;
	long long value;

	va_start(ap, nparams);
	res = vsql(sql, nparams, ap);
	va_end(ap);
	require_ok(res, sql);
	cr_assert(PQntuples(res) > 0 && !PQgetisnull(res, 0, 0),
		  "no value from: %s", sql);
	value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return value;
}


long long ag_rows_containing(const char *needle)
{
	PGresult *tables = ag_sql(
		"SELECT format('%I.%I', table_schema, table_name) "
		"FROM information_schema.tables "
		"WHERE table_schema = 'authgate' AND table_type = 'BASE TABLE' "
		"ORDER BY 1",
		0);
	long long total = 0;

	cr_assert(PQntuples(tables) >= 5, "expected the authgate tables");
	for (int i = 0; i < PQntuples(tables); i++) {
		char *sql = ag_strf("SELECT count(*) FROM %s AS t "
				    "WHERE strpos(t::text, $1) > 0",
				    PQgetvalue(tables, i, 0));

		total += ag_sql_int(sql, 1, needle);
		free(sql);
	}
	PQclear(tables);
	return total;
}

/* --------------------------------------------------------------- users */

void ag_user_make(struct ag_user *u, const char *prefix)
{
	char hex[25];

	memset(u, 0, sizeof(*u));
	ag_random_hex(hex, 6);
	snprintf(u->name, sizeof(u->name), "%.40s_%.12s", prefix, hex);
	ag_random_hex(hex, 12);
	snprintf(u->password, sizeof(u->password), "Pw-%s!", hex);
	ag_secret(u->password);
	snprintf(u->email, sizeof(u->email), "%s@example.test", u->name);
}

void ag_user_new(struct ag_user *u, const char *prefix)
{
	char *id;

	ag_user_make(u, prefix);
	id = ag_sql_value("SELECT authgate.create_user($1, $2, $3)", 3, u->name,
			  u->password, u->email);
	cr_assert(id != NULL, "create_user returned no id");
	snprintf(u->id, sizeof(u->id), "%s", id);
	free(id);
}

long long ag_session_count(const struct ag_user *u)
{
	return ag_sql_int("SELECT count(*) FROM authgate.sessions s "
			  "JOIN authgate.users u ON u.id = s.user_id "
			  "WHERE u.username = $1",
			  1, u->name);
}
