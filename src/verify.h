/*
 * Password verification shared by the login form and HTTP Basic: the
 * brute-force throttle (no hashing while locked), the same argon2 work for
 * unknown users, failure records in authgate.events, and the upgrade of
 * old hashes. Hashes passwords: call on the hashing threads only.
 */
#ifndef AUTHGATE_VERIFY_H
#define AUTHGATE_VERIFY_H

#include "handler.h"

enum verify_result {
	VERIFY_OK,      /* `user` is the account, enabled, password right */
	VERIFY_FAILED,  /* unknown user, wrong password or disabled: recorded */
	VERIFY_LOCKED,  /* too many failures: `*retry_after` seconds */
	VERIFY_ERROR,   /* the database did not answer */
};

struct verify_attempt {
	const char *username;
	const char *password; /* NUL-terminated at password_len */
	size_t password_len;
	const char *method;        /* in log lines: "login", "basic" */
	const char *reason_prefix; /* of the events' failure reasons: "basic_" */
	const struct client_info *client;
};

/*
 * Verifies one attempt. On VERIFY_OK, a bcrypt or old-parameter hash has
 * been replaced by a fresh argon2id one when possible, and
 * `user->password_hash` is the user's stored hash after that.
 */
enum verify_result verify_password(const struct request *req,
				   struct handler_ctx *ctx,
				   const struct verify_attempt *a,
				   struct login_user *user,
				   long *retry_after) AG_MUST_CHECK;

#endif
