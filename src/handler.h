/* What every request handler gets, and the handlers the router picks. */
#ifndef AUTHGATE_HANDLER_H
#define AUTHGATE_HANDLER_H

#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "csrf.h"
#include "db.h"
#include "request.h"
#include "response.h"

#define BASIC_KEY_LEN 32

/*
 * A session lookup the server makes for a handler, batched with other
 * requests' (see handler_ctx.lookup). The handler's first run fills the
 * question and sets `wanted`; the server fills `check.result` and
 * `check.id`, sets `done` and runs the handler again from scratch.
 */
struct session_lookup {
	bool wanted;
	bool done;
	uint64_t cache_epoch; /* the cache's epoch before the question */
	uint64_t started_ns;  /* CLOCK_MONOTONIC when the first run began */
	struct db_session_check check;
};

/* Borrowed by a handler for one call; `db` belongs to the calling thread. */
struct handler_ctx {
	const struct config *cfg;
	struct db *db;
	const uint8_t *csrf_key; /* CSRF_KEY_LEN bytes, loaded at startup */
	struct cache *cache;     /* shared by all threads; NULL when off */
	/* Verified HTTP Basic credentials by their keyed hash (key:
	 * BASIC_KEY_LEN random bytes, new in every process); NULL when off. */
	struct cache *basic_cache;
	const uint8_t *basic_key;
	/* The request thread's current round (cache_round_start()); NULL on
	 * a hashing thread, which polls on every cache lookup. */
	struct cache_round *cache_round;
	/* True on a hashing thread: the handler may hash passwords. */
	bool on_hasher;
	/*
	 * Set by a handler that must hash (only when !on_hasher): the server
	 * runs it again on a hashing thread, from scratch, with a new
	 * response. What the handler left in `resp` is the answer when every
	 * hashing thread is busy.
	 */
	bool defer;
	/*
	 * Non-NULL where the server batches session lookups (checks on the
	 * request threads): a session that is not in the cache is asked for
	 * through it instead of ctx->db, and the handler returns at once
	 * (handler_waiting()) to be run again with the answer.
	 */
	struct session_lookup *lookup;
};

/* True when the handler must return at once: it asked for a session
 * lookup that the server has not made yet. */
static inline bool handler_waiting(const struct handler_ctx *ctx)
{
	return ctx->lookup != NULL && ctx->lookup->wanted && !ctx->lookup->done;
}

typedef void handler_fn(const struct request *req, struct response *resp,
			struct handler_ctx *ctx);

handler_fn handle_check, handle_authorize, handle_unauthorized, handle_whoami;
handler_fn handle_healthz, handle_metrics;
handler_fn handle_login_form, handle_login_post;
handler_fn handle_logout_form, handle_logout_post;
handler_fn handle_password_form, handle_password_post;
handler_fn handle_register_form, handle_register_post;

/* Helpers shared by the handlers (handler.c). */


enum auth_result { AUTH_NONE, AUTH_OK, AUTH_ERROR };

/*
 * Resolves the caller from a Bearer token or else the session cookie.
 * `touch`: whether this check counts as activity. AUTH_ERROR when the
 * database did not answer (callers deny).
 */
enum auth_result handler_identify(const struct request *req,
				  struct handler_ctx *ctx, bool touch,
				  struct identity *out) AG_MUST_CHECK;

/* The hash of the request's session cookie; false when it has none or a
 * malformed one. */
bool handler_session_hash(const struct request *req, struct handler_ctx *ctx,
			  uint8_t hash[SHA256_LEN]);

/* Like handler_identify() for the session cookie alone; `hash` gets the
 * session's token hash. */
enum auth_result handler_current_session(const struct request *req,
					 struct handler_ctx *ctx, bool touch,
					 uint8_t hash[SHA256_LEN],
					 struct identity *out) AG_MUST_CHECK;

/* Sets a JSON body {"error": code, "message": message} and the status. */
void handler_json_error(struct response *resp, int status, const char *code,
			const char *message);

/*
 * Copies a request field into a NUL-terminated buffer; false (and "")
 * when absent or too long.
 */
bool handler_copy(struct str s, char *out, size_t cap);

/* Copies `candidate` to `out` when it is a safe local path, else "/". */
void handler_safe_next(const char *candidate, size_t len, char *out,
		       size_t cap);

/*
 * Checks a form post's content type, size (at most `max` bytes) and
 * encoding; otherwise fills `resp` with a 415, 413 or 400 page and
 * returns false.
 */
bool handler_form_body(const struct request *req, struct response *resp,
		       size_t max);

struct client_info;

/* 303 to `location`, not cached. */
void handler_see_other(struct response *resp, const char *location);

/*
 * A new session for the user (remember-me lifetime or the session
 * lifetime): its cookie and a 303 to `next` on `resp`. 0, or -1 when the
 * database refused (resp untouched).
 */
int handler_start_session(const struct request *req, struct response *resp,
			  struct handler_ctx *ctx, int64_t user_id,
			  bool remember, const struct client_info *client,
			  const char *next) AG_MUST_CHECK;

/* Why a new password typed twice cannot be used (too short, no match), or
 * NULL. The caller has checked the 1024-byte limit. */
const char *handler_new_password_problem(const char *password, size_t len,
					 const char *again, size_t again_len);

/* A brute-force lock: status 429, Retry-After, and the page's message
 * ("Too many failed attempts...") in `message`. */
void handler_locked(struct response *resp, long retry_after, char *message,
		    size_t cap);

/* handler_csrf_ok() for the csrf_token field of a form body. */
bool handler_form_csrf_ok(const struct request *req, struct handler_ctx *ctx);

/* Who is asking, as recorded in authgate.events. */
struct client_info {
	char addr[64];
	char agent[512]; /* valid UTF-8, cut to fit; "" when not UTF-8 */
};

void handler_client_info(const struct request *req, struct client_info *out);

/* The session-protection fingerprint of the requesting client. */
void handler_fingerprint(const struct request *req, uint8_t out[SHA256_LEN]);

/*
 * Gives the form token for this browser's CSRF cookie, issuing a new
 * cookie (Set-Cookie on `resp`) when it has none or a malformed one.
 * 0 or -1.
 */
int handler_csrf_token(const struct request *req, struct response *resp,
		       struct handler_ctx *ctx,
		       char token[CSRF_TOKEN_LEN + 1]) AG_MUST_CHECK;

/* True when the post carries a valid CSRF token and is same-origin. */
bool handler_csrf_ok(const struct request *req, struct handler_ctx *ctx,
		     struct str form_token);

/* The session and CSRF cookie attributes for this configuration. */
struct cookie_spec handler_session_cookie(const struct config *cfg,
					  long max_age);
struct cookie_spec handler_csrf_cookie(const struct config *cfg);

#endif
