#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "fcgi.h"
#include "handler.h"
#include "hashing.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"

#define PARAMS_MAX (32 * 1024)       /* all request headers as params */
#define STDIN_MAX (64 * 1024)        /* request body */
#define IN_CHUNK 16384
#define OUT_MAX (RESPONSE_MAX_BODY + RESPONSE_MAX_HEADERS + 4096)
#define HASH_QUEUE_PER_THREAD 32     /* waiting logins per hashing thread */
#define EPOLL_BATCH 64
#define PURGE_INTERVAL_SECONDS 600   /* how often expired rows are deleted */
/* After a statement of a request thread ran out of --db-timeout, the
 * checks that thread reads for this long are refused at once rather than
 * asked of the hanging database: they arrived while it waited, and would
 * otherwise wait up to twice the timeout. The next batch after it probes
 * the database again. */
#define STALL_REFUSE_MS 1000

struct worker;

struct conn {
	int fd;
	struct worker *worker;
	struct buf in;
	/* The request in progress; FastCGI over one connection carries one
	 * request at a time (nginx never multiplexes). */
	bool active;
	uint16_t request_id;
	bool keep_conn;
	bool http;        /* this request came as HTTP/1.1, not FastCGI */
	bool params_done;
	struct buf params;
	struct buf body;
	struct request req;
	struct response resp;
	handler_fn *handler;
	struct buf out;
	size_t out_pos;
	bool close_after_write;
	bool with_hasher; /* owned by a hashing thread until it comes back */
	int64_t queued_at_ms; /* monotonic_ms() when handed to hashing */
	bool watching_out; /* EPOLLOUT is registered */
	bool abandoned;   /* the client left while its login was queued */
	bool deferred;    /* a check that must hash (ctx.defer), not a login */
	/* A check waiting for the worker's next batch of session lookups
	 * (on w->waiting), and its question and answer. */
	struct session_lookup lookup;
	struct conn *next_in_queue;
	struct conn *prev, *next; /* the worker's list of connections */
};

struct worker {
	pthread_t thread;
	int epoll_fd;
	int wake_fd; /* eventfd: hashed requests returned, or stop */
	struct db *db;
	pthread_mutex_t done_lock;
	struct conn *done; /* back from the hashers, to be written */
	struct conn *conns;
	size_t busy;       /* connections with a request in progress */
	/* Checks waiting for their session lookup, linked by next_in_queue;
	 * asked for after each round of events. */
	struct conn *waiting;
	int64_t stalled_until_ms; /* monotonic_ms(); STALL_REFUSE_MS */
	struct cache_round round; /* started after each epoll_wait() */
	unsigned long timeouts_seen;   /* db_timeouts() when last looked at */
};

struct hasher {
	pthread_t thread;
	long index; /* its channel to the hashing process */
	struct db *db;
};

static struct {
	const struct config *cfg;
	const uint8_t *csrf_key;
	struct cache *cache;
	struct cache *basic_cache;
	uint8_t basic_key[BASIC_KEY_LEN];
	int listen_fd;
	atomic_bool stopping;
	atomic_uint_fast64_t next_request_id;
	struct worker *workers;
	long nworkers;
	struct hasher *hashers;
	long nhashers;
	pthread_t janitor;
	pthread_cond_t janitor_cond; /* with queue_lock: signalled at stop */
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;
	struct conn *queue_head, *queue_tail;
	size_t queue_len;
} srv;

static int64_t monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sentinels in epoll data to tell the listening socket and the wake-up
 * eventfd from connections. */
static char listen_tag, wake_tag;

static int listen_unix(const char *path, char *err, size_t err_cap)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, err_cap, "listen: socket path too long");
		return -1;
	}
	strcpy(addr.sun_path, path);
	/* Only a stale socket is removed, never another kind of file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, 1024) != 0) {
		snprintf(err, err_cap, "listen on unix:%s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *spec, char *err, size_t err_cap)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	size_t host_len = (size_t)(colon - spec);
	int fd = -1, one = 1, rc;

	/* "[::1]:9000" names an IPv6 address. */
	if (host_len >= 2 && spec[0] == '[' && spec[host_len - 1] == ']') {
		spec++;
		host_len -= 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)host_len, spec);
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		snprintf(err, err_cap, "listen on %s: %s", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, err_cap, "listen on %s:%s: %s", host, colon + 1,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int server_listen(const struct config *cfg, char *err, size_t err_cap)
{
	int accepting = 0, flags;
	socklen_t len = sizeof(accepting);

	if (strncmp(cfg->listen, "unix:", 5) == 0)
		return listen_unix(cfg->listen + 5, err, err_cap);
	if (cfg->listen[0] != '\0')
		return listen_tcp(cfg->listen, err, err_cap);
	/* spawn-fcgi and systemd hand over a listening socket as fd 0;
	 * spawn-fcgi's blocks, and the event loops need it not to. */
	if (getsockopt(FCGI_LISTENSOCK_FILENO, SOL_SOCKET, SO_ACCEPTCONN,
		       &accepting, &len) != 0 ||
	    !accepting) {
		snprintf(err, err_cap,
			 "no --listen given and fd 0 is not a listening socket");
		return -1;
	}
	flags = fcntl(FCGI_LISTENSOCK_FILENO, F_GETFL);
	if (flags < 0 ||
	    fcntl(FCGI_LISTENSOCK_FILENO, F_SETFL, flags | O_NONBLOCK) != 0) {
		snprintf(err, err_cap, "fd 0: %s", strerror(errno));
		return -1;
	}
	return FCGI_LISTENSOCK_FILENO;
}

static void epoll_set(struct worker *w, struct conn *c, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP |
			  (c->out.len > c->out_pos ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	c->watching_out = ev.events & EPOLLOUT;
	if (epoll_ctl(w->epoll_fd, op, c->fd, &ev) != 0)
		log_system_error("epoll_ctl");
}

static void reset_request(struct conn *c)
{
	c->active = false;
	c->http = false;
	c->params_done = false;
	buf_reset(&c->params);
	buf_reset(&c->body);
	memset(&c->req, 0, sizeof(c->req));
	response_free(&c->resp);
	response_init(&c->resp);
	c->handler = NULL;
	c->deferred = false;
	memset(&c->lookup, 0, sizeof(c->lookup));
}

static void close_conn(struct worker *w, struct conn *c)
{
	if (c->active)
		w->busy--;
	/* Closing the only descriptor of the socket also removes it from
	 * the epoll set. */
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buf_free(&c->in);
	buf_free(&c->params);
	buf_free(&c->body);
	buf_free(&c->out);
	response_free(&c->resp);
	free(c);
}

/*
 * An HTTP/1.1 answer: always with Content-Length, which is what lets
 * nginx's proxy module keep the connection for the next check.
 */
static void encode_http_response(struct conn *c)
{
	const struct response *r = &c->resp;

	buf_append_str(&c->out, "HTTP/1.1 ");
	buf_append_uint(&c->out, (unsigned)r->status);
	buf_append_str(&c->out, " ");
	buf_append_str(&c->out, response_reason(r->status));
	buf_append_str(&c->out, "\r\nContent-Length: ");
	buf_append_uint(&c->out, r->body.len);
	buf_append_str(&c->out, "\r\n");
	if (r->content_type != NULL)
		buf_printf(&c->out, "Content-Type: %s\r\n", r->content_type);
	if (!c->keep_conn)
		buf_append_str(&c->out, "Connection: close\r\n");
	if (r->headers.len > 0)
		buf_append(&c->out, r->headers.data, r->headers.len);
	buf_append(&c->out, "\r\n", 2);
	if (r->body.len > 0)
		buf_append(&c->out, r->body.data, r->body.len);
}

/* Queues c->resp on c->out as FastCGI records or as HTTP. */
static void encode_response(struct conn *c)
{
	struct buf payload;

	buf_init(&payload, OUT_MAX);
	if (c->resp.failed) {
		log_event(LOG_ERROR, c->req.id, "response_too_large", NULL);
		response_free(&c->resp);
		response_init(&c->resp);
		c->resp.status = 500;
	}
	if (c->http) {
		encode_http_response(c);
	} else {
		response_serialize(&c->resp, &payload);
		fcgi_append_stream(&c->out, FCGI_STDOUT, c->request_id,
				   payload.data, payload.len);
		fcgi_append_end_request(&c->out, c->request_id, 0,
					FCGI_REQUEST_COMPLETE);
	}
	buf_free(&payload);
	if (!c->keep_conn)
		c->close_after_write = true;
}

/* Writes what it can; false when the connection was closed. */
static bool flush_out(struct worker *w, struct conn *c)
{
	while (c->out_pos < c->out.len) {
		ssize_t n = write(c->fd, c->out.data + c->out_pos,
				  c->out.len - c->out_pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->watching_out)
				epoll_set(w, c, EPOLL_CTL_MOD);
			return true;
		}
		if (n <= 0) {
			close_conn(w, c);
			return false;
		}
		c->out_pos += (size_t)n;
	}
	buf_reset(&c->out);
	c->out_pos = 0;
	if (c->close_after_write) {
		close_conn(w, c);
		return false;
	}
	if (c->watching_out)
		epoll_set(w, c, EPOLL_CTL_MOD);
	return true;
}

static bool process_input(struct worker *w, struct conn *c);
static bool process_http(struct worker *w, struct conn *c);

/* The response is ready: send it and go on with buffered input. */
static void complete_request(struct worker *w, struct conn *c)
{
	encode_response(c);
	reset_request(c);
	w->busy--;
	if (flush_out(w, c))
		process_input(w, c);
}

/* A protocol-level answer without a handler (too large, bad params). */
static void reply_status(struct worker *w, struct conn *c, int status,
			 const char *message)
{
	handler_json_error(&c->resp, status, "bad_request", message);
	c->close_after_write = true;
	complete_request(w, c);
}

static bool parse_params(struct conn *c)
{
	const uint8_t *p = (const uint8_t *)c->params.data;
	const uint8_t *name, *value;
	size_t pos = 0, name_len, value_len;
	enum parse_result r;

	while ((r = fcgi_next_param(p, c->params.len, &pos, &name, &name_len,
				    &value, &value_len)) == PARSE_OK)
		request_set_param(&c->req, (const char *)name, name_len,
				  (const char *)value, value_len);
	return r == PARSE_ABSENT;
}

/* A login that gets no hashing slot: 503 and when to come back. */
static void busy_response(struct response *resp, long retry_after,
			  const char *message)
{
	char seconds[24];

	snprintf(seconds, sizeof(seconds), "%ld", retry_after);
	response_header(resp, "Retry-After", seconds, strlen(seconds));
	handler_json_error(resp, 503, "busy", message);
}

static size_t queue_capacity(void)
{
	return (size_t)srv.nhashers * HASH_QUEUE_PER_THREAD;
}

/* Queues the request for a hashing thread, unless the queue is full;
 * c->handler is what the hasher runs. */
static bool enqueue_for_hasher(struct worker *w, struct conn *c)
{
	bool queued = false;

	c->queued_at_ms = monotonic_ms();
	pthread_mutex_lock(&srv.queue_lock);
	if (srv.queue_len < queue_capacity()) {
		c->with_hasher = true;
		c->next_in_queue = NULL;
		if (srv.queue_tail)
			srv.queue_tail->next_in_queue = c;
		else
			srv.queue_head = c;
		srv.queue_tail = c;
		srv.queue_len++;
		metrics_gauge_add(GAUGE_QUEUE, 1);
		queued = true;
		pthread_cond_signal(&srv.queue_cond);
	}
	pthread_mutex_unlock(&srv.queue_lock);
	if (queued)
		/* The hasher owns the request now: stop watching the socket
		 * until it comes back (nginx sends nothing meanwhile). */
		epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	else
		log_event(LOG_WARN, c->req.id, "hash_queue_full", NULL);
	return queued;
}

static void hand_to_hasher(struct worker *w, struct conn *c)
{
	if (enqueue_for_hasher(w, c))
		return;
	metrics_login(LOGIN_BUSY);
	busy_response(&c->resp, 1, "too many logins at once");
	complete_request(w, c);
}

/*
 * A handler that asked to run again on a hashing thread (ctx.defer): it
 * starts there with an empty response; the one it left is the answer
 * only when the queue is full.
 */
static void defer_to_hasher(struct worker *w, struct conn *c,
			    handler_fn *handler)
{
	struct response busy = c->resp;

	response_init(&c->resp);
	c->handler = handler;
	c->deferred = true;
	if (enqueue_for_hasher(w, c)) {
		response_free(&busy);
		return;
	}
	response_free(&c->resp);
	c->resp = busy;
	complete_request(w, c);
}

/* Starts STALL_REFUSE_MS when a statement of this thread has run out of
 * time since the last look. */
static void note_db_timeouts(struct worker *w)
{
	unsigned long timeouts = db_timeouts(w->db);

	if (timeouts == w->timeouts_seen)
		return;
	w->timeouts_seen = timeouts;
	w->stalled_until_ms = monotonic_ms() + STALL_REFUSE_MS;
	log_event(LOG_WARN, 0, "database_hangs", "msg",
		  "a statement ran out of --db-timeout; checks are refused "
		  "for a second", NULL);
}

/*
 * Where a request goes after its handler ran on a request thread: to a
 * hashing thread (ctx.defer), to the worker's batch of session lookups
 * (handler_waiting()), or back to the client.
 */
static void handler_returned(struct worker *w, struct conn *c,
			     handler_fn *handler, const struct handler_ctx *ctx)
{
	note_db_timeouts(w);
	if (ctx->defer) {
		defer_to_hasher(w, c, handler);
	} else if (handler_waiting(ctx)) {
		c->handler = handler;
		c->next_in_queue = w->waiting;
		w->waiting = c;
	} else {
		complete_request(w, c);
	}
}

/* What a handler gets on this thread. */
static struct handler_ctx thread_ctx(struct db *db, bool on_hasher,
				     struct cache_round *round)
{
	return (struct handler_ctx){
		.cfg = srv.cfg,
		.db = db,
		.csrf_key = srv.csrf_key,
		.cache = srv.cache,
		.basic_cache = srv.basic_cache,
		.basic_key = srv.basic_key,
		.on_hasher = on_hasher,
		.cache_round = round,
	};
}

static void dispatch(struct worker *w, struct conn *c)
{
	struct handler_ctx ctx = thread_ctx(w->db, false, &w->round);
	struct route route;

	c->req.id = atomic_fetch_add(&srv.next_request_id, 1) + 1;
	if (!parse_params(c)) {
		reply_status(w, c, 400, "malformed FastCGI params");
		return;
	}
	c->req.body.ptr = c->body.data ? c->body.data : "";
	c->req.body.len = c->body.len;
	request_resolve_client(&c->req, &srv.cfg->trusted_proxies);
	route = router_find(&c->req);
	if (route.slow) {
		c->handler = route.handler;
		hand_to_hasher(w, c);
		return;
	}
	if (route.batch_lookups)
		ctx.lookup = &c->lookup;
	route.handler(&c->req, &c->resp, &ctx);
	handler_returned(w, c, route.handler, &ctx);
}

/* Answers a management record (request id 0). */
static void management_record(struct conn *c, const struct fcgi_header *h)
{
	if (h->type == FCGI_GET_VALUES) {
		struct buf values;

		buf_init(&values, 256);
		fcgi_append_param(&values, "FCGI_MPXS_CONNS", 15, "0", 1);
		fcgi_append_header(&c->out, FCGI_GET_VALUES_RESULT, 0,
				   (uint16_t)values.len, 0);
		buf_append(&c->out, values.data, values.len);
		buf_free(&values);
	} else {
		uint8_t body[8] = {h->type};

		fcgi_append_header(&c->out, FCGI_UNKNOWN_TYPE, 0, 8, 0);
		buf_append(&c->out, body, sizeof(body));
	}
}

/*
 * Handles one complete record. Returns false when the connection must
 * stop being read (closed, or its request went to a hasher).
 */
static bool handle_record(struct worker *w, struct conn *c,
			  const struct fcgi_header *h, const uint8_t *content)
{
	if (h->request_id == FCGI_NULL_REQUEST_ID) {
		management_record(c, h);
		return true;
	}
	if (h->type == FCGI_BEGIN_REQUEST) {
		struct fcgi_begin_request begin;

		if (fcgi_parse_begin_request(content, h->content_length,
					     &begin) != PARSE_OK) {
			close_conn(w, c);
			return false;
		}
		if (c->active) {
			fcgi_append_end_request(&c->out, h->request_id, 0,
						FCGI_CANT_MPX_CONN);
			return true;
		}
		if (begin.role != FCGI_RESPONDER &&
		    begin.role != FCGI_AUTHORIZER) {
			fcgi_append_end_request(&c->out, h->request_id, 0,
						FCGI_UNKNOWN_ROLE);
			return true;
		}
		c->active = true;
		w->busy++;
		c->request_id = h->request_id;
		c->keep_conn = begin.keep_conn;
		c->req.authorizer = begin.role == FCGI_AUTHORIZER;
		return true;
	}
	if (!c->active || h->request_id != c->request_id)
		return true; /* stray record of an ended request */
	switch (h->type) {
	case FCGI_ABORT_REQUEST:
		reset_request(c);
		w->busy--;
		fcgi_append_end_request(&c->out, h->request_id, 0,
					FCGI_REQUEST_COMPLETE);
		if (!c->keep_conn)
			c->close_after_write = true;
		return true;
	case FCGI_PARAMS:
		if (h->content_length == 0) {
			c->params_done = true;
			/* An authorizer gets no request body: Apache sends no
			 * STDIN at all, lighttpd an empty one, ignored here as
			 * a record of an ended request. */
			if (c->req.authorizer) {
				if (c->params.failed) {
					reply_status(w, c, 400,
						     "incomplete FastCGI request");
					return false;
				}
				dispatch(w, c);
				return false;
			}
		} else if (c->params.len + h->content_length > PARAMS_MAX) {
			reply_status(w, c, 431, "request headers too large");
			return false;
		} else {
			buf_append(&c->params, content, h->content_length);
		}
		return true;
	case FCGI_STDIN:
		if (h->content_length > 0) {
			if (c->body.len + h->content_length > STDIN_MAX) {
				reply_status(w, c, 413, "request body too large");
				return false;
			}
			buf_append(&c->body, content, h->content_length);
			return true;
		}
		if (!c->params_done || c->params.failed || c->body.failed) {
			reply_status(w, c, 400, "incomplete FastCGI request");
			return false;
		}
		dispatch(w, c);
		return false; /* dispatch went on with the input itself */
	default:
		return true;
	}
}

/*
 * One HTTP/1.1 request, for the check endpoint only (the snippet's
 * /auth/check proxies here because nginx keeps HTTP upstream connections
 * for auth subrequests, and never FastCGI ones). The head is copied to
 * c->params so the request's fields stay valid while the input buffer
 * moves on.
 */
static bool process_http(struct worker *w, struct conn *c)
{
	struct http_request_head head;
	enum parse_result r = http_parse_request_head(c->in.data, c->in.len,
						      &head);
	struct handler_ctx ctx = thread_ctx(w->db, false, &w->round);

	if (r == PARSE_ABSENT)
		return true;
	c->active = true;
	c->http = true;
	c->keep_conn = false;
	w->busy++;
	if (r != PARSE_OK) {
		buf_reset(&c->in);
		handler_json_error(&c->resp, r == PARSE_TOO_LONG ? 431 : 400,
				   "bad_request", "malformed HTTP request");
		complete_request(w, c);
		return false;
	}
	buf_append(&c->params, c->in.data, head.head_len);
	if (c->params.failed) {
		buf_reset(&c->in);
		handler_json_error(&c->resp, 400, "bad_request", "request too large");
		complete_request(w, c);
		return false;
	}
	http_head_rebase(&head, c->in.data, c->params.data);
	memmove(c->in.data, c->in.data + head.head_len, c->in.len - head.head_len);
	c->in.len -= head.head_len;
	c->req.id = atomic_fetch_add(&srv.next_request_id, 1) + 1;
	for (size_t i = 0; i < head.nheaders; i++) {
		if (!request_set_http_header(&c->req, head.headers[i].name,
					     head.headers[i].name_len,
					     head.headers[i].value,
					     head.headers[i].value_len)) {
			handler_json_error(&c->resp, 400, "bad_request",
					   "a header is given twice");
			complete_request(w, c);
			return false;
		}
	}
	/* A body would have to be read to find the next request: this
	 * endpoint takes none, so such a connection is not kept. */
	c->keep_conn = head.keep_alive && !head.has_body;
	if (head.has_body)
		buf_reset(&c->in);
	request_resolve_client(&c->req, &srv.cfg->trusted_proxies);
	if (!str_eq(c->req.endpoint, "check"))
		handler_json_error(&c->resp, 404, "not_found",
				   "only the check endpoint speaks HTTP");
	else {
		ctx.lookup = &c->lookup;
		handle_check(&c->req, &c->resp, &ctx);
	}
	handler_returned(w, c, handle_check, &ctx);
	return false;
}

/*
 * Parses every complete record buffered on `c`. Returns false when the
 * connection is gone or no longer this worker's to read.
 */
static bool process_input(struct worker *w, struct conn *c)
{
	size_t pos = 0;
	bool go_on = true;

	/* Each request's first byte tells the protocol: a FastCGI record
	 * starts with its version, 1; an HTTP request with a letter. So one
	 * socket (and one nginx upstream) serves both. */
	if (!c->active && c->in.len > 0 &&
	    (uint8_t)c->in.data[0] != FCGI_VERSION_1)
		return process_http(w, c);

	while (go_on && !c->with_hasher) {
		struct fcgi_header h;
		enum parse_result r = fcgi_parse_header(
			(const uint8_t *)c->in.data + pos, c->in.len - pos, &h);
		size_t record_len;

		if (r == PARSE_ABSENT)
			break;
		if (r != PARSE_OK) {
			close_conn(w, c);
			return false;
		}
		record_len = FCGI_HEADER_LEN + h.content_length + h.padding_length;
		if (c->in.len - pos < record_len)
			break;
		pos += record_len;
		/* Take the record off the buffer first: handling it may
		 * dispatch, which re-enters this function for what follows. */
		{
			uint8_t content[FCGI_MAX_LENGTH];

			memcpy(content,
			       c->in.data + pos - record_len + FCGI_HEADER_LEN,
			       h.content_length);
			memmove(c->in.data, c->in.data + pos, c->in.len - pos);
			c->in.len -= pos;
			pos = 0;
			go_on = handle_record(w, c, &h, content);
		}
		if (!go_on)
			return false;
	}
	if (pos > 0) {
		memmove(c->in.data, c->in.data + pos, c->in.len - pos);
		c->in.len -= pos;
	}
	if (c->out.len > c->out_pos)
		return flush_out(w, c);
	return true;
}

static void read_conn(struct worker *w, struct conn *c)
{
	char chunk[IN_CHUNK];
	ssize_t n = read(c->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(w, c);
		return;
	}
	buf_append(&c->in, chunk, (size_t)n);
	if (c->in.failed) {
		close_conn(w, c);
		return;
	}
	process_input(w, c);
}

static void accept_all(struct worker *w)
{
	for (;;) {
		int fd = accept4(srv.listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_system_error("accept");
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->worker = w;
		buf_init(&c->in, 2 * (FCGI_HEADER_LEN + FCGI_MAX_LENGTH + 255));
		buf_init(&c->params, PARAMS_MAX);
		buf_init(&c->body, STDIN_MAX);
		buf_init(&c->out, OUT_MAX);
		response_init(&c->resp);
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		epoll_set(w, c, EPOLL_CTL_ADD);
		/* nginx sends the request with the connection: read it now
		 * rather than after another epoll_wait. */
		read_conn(w, c);
	}
}


/* Takes back the connections whose slow request a hasher finished. */
static void collect_done(struct worker *w)
{
	uint64_t count;
	struct conn *c;

	if (read(w->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_system_error("eventfd read");
	pthread_mutex_lock(&w->done_lock);
	c = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->done_lock);
	while (c != NULL) {
		struct conn *next = c->next_in_queue;

		c->with_hasher = false;
		if (c->abandoned) {
			close_conn(w, c);
		} else {
			epoll_set(w, c, EPOLL_CTL_ADD);
			complete_request(w, c);
		}
		c = next;
	}
}

/* One statement for `n` checks, unless the database has just been found
 * hanging (STALL_REFUSE_MS): then each check fails at once. */
static void lookup_batch(struct worker *w, struct db_session_check **checks,
			 size_t n)
{
	if (monotonic_ms() < w->stalled_until_ms) {
		for (size_t i = 0; i < n; i++)
			checks[i]->result = DB_ERROR;
		return;
	}
	db_check_sessions(w->db, checks, n, srv.cfg->session_idle);
	note_db_timeouts(w);
}

/*
 * Asks the database about every waiting check's session, up to
 * DB_CHECK_BATCH_MAX in one statement, and runs each check again with its
 * answer. Checks that their answers let go on to a next request on the
 * same connection may wait again: they are in the next batch.
 */
static void run_lookups(struct worker *w)
{
	while (w->waiting != NULL) {
		struct conn *batch[DB_CHECK_BATCH_MAX];
		struct db_session_check *checks[DB_CHECK_BATCH_MAX];
		size_t n = 0;

		for (; w->waiting != NULL && n < DB_CHECK_BATCH_MAX; n++) {
			batch[n] = w->waiting;
			w->waiting = batch[n]->next_in_queue;
			checks[n] = &batch[n]->lookup.check;
		}
		lookup_batch(w, checks, n);
		for (size_t i = 0; i < n; i++) {
			struct conn *c = batch[i];
			struct handler_ctx ctx = thread_ctx(w->db, false, &w->round);

			c->lookup.done = true;
			ctx.lookup = &c->lookup;
			response_free(&c->resp);
			response_init(&c->resp);
			c->handler(&c->req, &c->resp, &ctx);
			handler_returned(w, c, c->handler, &ctx);
		}
	}
}

/* Whether an answer is still being written to some connection (its
 * socket buffer was full): the drain waits for it too. */
static bool writing(const struct worker *w)
{
	for (const struct conn *c = w->conns; c != NULL; c = c->next) {
		if (c->out_pos < c->out.len)
			return true;
	}
	return false;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[EPOLL_BATCH];
	struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
				  .data.ptr = &listen_tag};
	bool listening = true;
	struct timespec drain_deadline = {0};

	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, srv.listen_fd, &lev) != 0) {
		log_system_error("epoll_ctl listen");
		return NULL;
	}
	metrics_gauge_add(GAUGE_WORKERS, 1);
	for (;;) {
		struct timespec now;
		int n;

		if (atomic_load(&srv.stopping)) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (listening) {
				epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL,
					  srv.listen_fd, NULL);
				listening = false;
				/* A client that never finishes its request
				 * must not hold the exit forever. */
				drain_deadline = now;
				drain_deadline.tv_sec += 2 * srv.cfg->db_timeout + 1;
			}
			/* Drain: leave once no request is in progress and
			 * every answer is written. */
			if ((w->busy == 0 && !writing(w)) ||
			    now.tv_sec > drain_deadline.tv_sec)
				break;
		}
		n = epoll_wait(w->epoll_fd, events, EPOLL_BATCH,
			       listening ? -1 : 100);
		if (n < 0 && errno != EINTR) {
			log_system_error("epoll_wait");
			break;
		}
		cache_round_start(&w->round);
		for (int i = 0; i < n; i++) {
			void *tag = events[i].data.ptr;

			if (tag == &listen_tag) {
				if (listening)
					accept_all(w);
			} else if (tag == &wake_tag) {
				collect_done(w);
			} else if ((events[i].events & EPOLLRDHUP) &&
				   !((struct conn *)tag)->active &&
				   ((struct conn *)tag)->out.len == 0) {
				/* nginx is done with this connection. */
				close_conn(w, tag);
			} else if (events[i].events & EPOLLIN) {
				read_conn(w, tag);
			} else if (events[i].events & EPOLLOUT) {
				flush_out(w, tag);
			} else {
				close_conn(w, tag);
			}
		}
		run_lookups(w);
	}
	while (w->conns)
		close_conn(w, w->conns);
	metrics_gauge_add(GAUGE_WORKERS, -1);
	return NULL;
}

static struct conn *next_job(void)
{
	struct conn *c = NULL;

	pthread_mutex_lock(&srv.queue_lock);
	while (srv.queue_head == NULL && !atomic_load(&srv.stopping))
		pthread_cond_wait(&srv.queue_cond, &srv.queue_lock);
	if (srv.queue_head != NULL) {
		c = srv.queue_head;
		srv.queue_head = c->next_in_queue;
		if (srv.queue_head == NULL)
			srv.queue_tail = NULL;
		srv.queue_len--;
		metrics_gauge_add(GAUGE_QUEUE, -1);
	}
	pthread_mutex_unlock(&srv.queue_lock);
	return c;
}

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;
	struct conn *c;
	uint64_t one = 1;

	/* Jobs still queued at shutdown are finished: the drain waits on
	 * them. The password work itself runs in the hashing process, which
	 * yields the cores to the checks. */
	metrics_gauge_add(GAUGE_HASHERS, 1);
	hashing_use_channel(h->index);
	while ((c = next_job()) != NULL) {
		struct worker *w = c->worker;
		struct pollfd pfd = {.fd = c->fd, .events = POLLRDHUP};

		/* A client that gave up while queued costs no hashing. */
		c->abandoned = poll(&pfd, 1, 0) > 0 &&
			       (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
		/* A login that waited past --hash-wait is answered at once
		 * rather than hashed for a client (and nginx) that may well
		 * have given up, so a backlog drains instead of growing. A
		 * deferred check has no such answer (nginx would make any
		 * other status than 401/403 a 500), so it is made. */
		if (!c->abandoned && !c->deferred &&
		    monotonic_ms() - c->queued_at_ms > srv.cfg->hash_wait * 1000) {
			log_event(LOG_WARN, c->req.id, "hash_wait_exceeded",
				  NULL);
			metrics_login(LOGIN_BUSY);
			busy_response(&c->resp, srv.cfg->hash_wait,
				      "no hashing slot in time");
		} else if (!c->abandoned) {
			struct handler_ctx ctx = thread_ctx(h->db, true, NULL);

			metrics_gauge_add(GAUGE_HASHING, 1);
			c->handler(&c->req, &c->resp, &ctx);
			metrics_gauge_add(GAUGE_HASHING, -1);
		}
		pthread_mutex_lock(&w->done_lock);
		c->next_in_queue = w->done;
		w->done = c;
		pthread_mutex_unlock(&w->done_lock);
		if (write(w->wake_fd, &one, sizeof(one)) < 0)
			log_system_error("eventfd write");
	}
	metrics_gauge_add(GAUGE_HASHERS, -1);
	return NULL;
}

static void log_rows_purged(long deleted)
{
	char rows[24];

	snprintf(rows, sizeof(rows), "%ld", deleted);
	log_event(LOG_INFO, 0, "purged", "rows", rows, NULL);
}

/* Runs purge_expired() every PURGE_INTERVAL_SECONDS until stopped; every
 * daemon does, which is harmless (the deletes are idempotent). */
static void *janitor_main(void *arg)
{
	struct db *db = arg;
	struct timespec next;
	long deleted;

	clock_gettime(CLOCK_REALTIME, &next);
	pthread_mutex_lock(&srv.queue_lock);
	while (!atomic_load(&srv.stopping)) {
		pthread_mutex_unlock(&srv.queue_lock);
		if (db_purge_expired(db, srv.cfg->audit_retention, &deleted) != DB_OK)
			log_event(LOG_WARN, 0, "purge_failed", NULL);
		else if (deleted > 0)
			log_rows_purged(deleted);
		next.tv_sec += PURGE_INTERVAL_SECONDS;
		pthread_mutex_lock(&srv.queue_lock);
		while (!atomic_load(&srv.stopping) &&
		       pthread_cond_timedwait(&srv.janitor_cond, &srv.queue_lock,
					      &next) == 0)
			;
	}
	pthread_mutex_unlock(&srv.queue_lock);
	db_free(db);
	return NULL;
}

static int start_worker(struct worker *w)
{
	struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &wake_tag};

	w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->db = db_new(srv.cfg->db, srv.cfg->db_password, srv.cfg->db_timeout);
	pthread_mutex_init(&w->done_lock, NULL);
	if (w->epoll_fd < 0 || w->wake_fd < 0 || w->db == NULL ||
	    epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->wake_fd, &wev) != 0)
		return -1;
	return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

static void wake_all(void)
{
	uint64_t one = 1;

	pthread_mutex_lock(&srv.queue_lock);
	pthread_cond_broadcast(&srv.queue_cond);
	pthread_cond_broadcast(&srv.janitor_cond);
	pthread_mutex_unlock(&srv.queue_lock);
	for (long i = 0; i < srv.nworkers; i++)
		if (write(srv.workers[i].wake_fd, &one, sizeof(one)) < 0)
			log_system_error("eventfd write");
}

static void log_started(void)
{
	char threads[24], hashers[24];

	snprintf(threads, sizeof(threads), "%ld", srv.nworkers);
	snprintf(hashers, sizeof(hashers), "%ld", srv.nhashers);
	log_event(LOG_INFO, 0, "started", "threads", threads, "hash_threads",
		  hashers, NULL);
}

int server_run(const struct config *cfg, const uint8_t *csrf_key, int listen_fd)
{
	sigset_t stop_signals;
	long started_workers = 0, started_hashers = 0;
	bool janitor_started = false;
	struct db *janitor_db;
	struct listener *listener = NULL;
	int sig, result = -1;

	srv.cfg = cfg;
	srv.csrf_key = csrf_key;
	srv.listen_fd = listen_fd;
	srv.nworkers = cfg->threads;
	srv.nhashers = cfg->hash_threads;
	metrics_gauge_add(GAUGE_QUEUE_CAPACITY, (int64_t)queue_capacity());
	pthread_mutex_init(&srv.queue_lock, NULL);
	pthread_cond_init(&srv.queue_cond, NULL);
	pthread_cond_init(&srv.janitor_cond, NULL);
	srv.workers = calloc((size_t)srv.nworkers, sizeof(*srv.workers));
	srv.hashers = calloc((size_t)srv.nhashers, sizeof(*srv.hashers));
	if (srv.workers == NULL || srv.hashers == NULL)
		goto out;
	if (cfg->session_cache) {
		srv.cache = cache_new((size_t)cfg->session_cache_size,
				      cfg->touch_interval);
		if (srv.cache == NULL)
			goto out;
	}
	if (cfg->basic_cache_ttl > 0) {
		srv.basic_cache = cache_new((size_t)cfg->basic_cache_size,
					    cfg->basic_cache_ttl);
		if (srv.basic_cache == NULL ||
		    crypto_random(srv.basic_key, sizeof(srv.basic_key)) != 0)
			goto out;
	}
	if (srv.cache != NULL || srv.basic_cache != NULL) {
		listener = listener_start(cfg, srv.cache, srv.basic_cache);
		if (listener == NULL)
			goto out;
	}
	for (; started_hashers < srv.nhashers; started_hashers++) {
		struct hasher *h = &srv.hashers[started_hashers];

		h->index = started_hashers;
		h->db = db_new(cfg->db, cfg->db_password, cfg->db_timeout);
		if (h->db == NULL ||
		    pthread_create(&h->thread, NULL, hasher_main, h) != 0) {
			db_free(h->db);
			goto stop;
		}
	}
	for (; started_workers < srv.nworkers; started_workers++) {
		if (start_worker(&srv.workers[started_workers]) != 0)
			goto stop;
	}
	janitor_db = db_new(cfg->db, cfg->db_password, cfg->db_timeout);
	if (janitor_db == NULL ||
	    pthread_create(&srv.janitor, NULL, janitor_main, janitor_db) != 0) {
		db_free(janitor_db);
		goto stop;
	}
	janitor_started = true;
	log_started();
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	while (sigwait(&stop_signals, &sig) != 0)
		;
	log_event(LOG_INFO, 0, "stopping", "signal", sigabbrev_np(sig),
		  "msg", "finishing requests in progress", NULL);
	result = 0;
stop:
	atomic_store(&srv.stopping, true);
	srv.nworkers = started_workers;
	wake_all();
	if (janitor_started)
		pthread_join(srv.janitor, NULL);
	listener_stop(listener);
	listener = NULL;
	/* Hashers first: they finish queued logins, which their workers
	 * (still running) then write. */
	for (long i = 0; i < started_hashers; i++) {
		pthread_join(srv.hashers[i].thread, NULL);
		db_free(srv.hashers[i].db);
	}
	for (long i = 0; i < started_workers; i++) {
		struct worker *w = &srv.workers[i];

		pthread_join(w->thread, NULL);
		close(w->epoll_fd);
		close(w->wake_fd);
		db_free(w->db);
	}
out:
	listener_stop(listener);
	cache_free(srv.cache);
	cache_free(srv.basic_cache);
	explicit_bzero(srv.basic_key, sizeof(srv.basic_key));
	free(srv.workers);
	free(srv.hashers);
	return result;
}
