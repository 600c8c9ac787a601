/* Password hashing and verification: argon2id (libargon2), bcrypt (libcrypt). */
#ifndef AUTHGATE_PASSWORD_H
#define AUTHGATE_PASSWORD_H

#include <stddef.h>

#include "common.h"

/* Room for an argon2id PHC string with our parameters, or a bcrypt hash. */
#define PASSWORD_HASH_MAX 256

/* Defaults of the SPEC (OWASP's argon2id minimum): m=19456 KiB, t=2, p=1. */
#define PASSWORD_M_COST_KIB 19456
#define PASSWORD_T_COST 2
#define PASSWORD_PARALLELISM 1

enum password_verdict {
	PASSWORD_MISMATCH = 0,
	PASSWORD_MATCH = 1,
	/* Right password, but the stored hash is bcrypt or argon2id with other
	 * parameters: store a fresh password_hash() result. */
	PASSWORD_MATCH_REHASH = 2,
	PASSWORD_ERROR = -1, /* unknown or malformed hash format */
};

/*
 * Prepares the dummy hash that password_burn() verifies against. Costs one
 * argon2id hash; call once at startup. 0 or -1.
 */
int password_init(void) AG_MUST_CHECK;

/*
 * Writes the argon2id PHC string of `password` (length len, any bytes)
 * with a fresh 16-byte salt into `out` (NUL-terminated). 0 or -1. Costs
 * PASSWORD_M_COST_KIB of memory and tens of milliseconds.
 */
int password_hash(const char *password, size_t len, char *out,
		  size_t out_cap) AG_MUST_CHECK;

/*
 * Verifies `password` against the stored PHC/crypt string. `password` must
 * be NUL-terminated at `len` and hold no other NUL (bcrypt stops at NUL;
 * validate_password() ensures it).
 */
enum password_verdict password_verify(const char *stored, const char *password,
				      size_t len) AG_MUST_CHECK;

/*
 * Does the same argon2id work as verifying a real hash, for unknown users,
 * so that their answer takes as long as a wrong password.
 */
void password_burn(const char *password, size_t len);

#endif
