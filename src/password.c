#include "password.h"

#include <argon2.h>
#include <crypt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define SALT_LEN 16
#define HASH_LEN 32
/* bcrypt reads only the first 72 bytes of a password (and libxcrypt
 * refuses 512 or more); sql/install.sql never makes bcrypt hashes of
 * longer ones, so a longer password cannot match a bcrypt hash. */
#define BCRYPT_MAX_PASSWORD 72

static char dummy_hash[PASSWORD_HASH_MAX];

int password_hash(const char *password, size_t len, char *out, size_t out_cap)
{
	uint8_t salt[SALT_LEN];

	if (crypto_random(salt, sizeof(salt)) != 0)
		return -1;
	if (argon2_encodedlen(PASSWORD_T_COST, PASSWORD_M_COST_KIB,
			      PASSWORD_PARALLELISM, SALT_LEN, HASH_LEN,
			      Argon2_id) > out_cap)
		return -1;
	if (argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_COST_KIB,
				  PASSWORD_PARALLELISM, password, len, salt,
				  SALT_LEN, HASH_LEN, out,
				  out_cap) != ARGON2_OK)
		return -1;
	return 0;
}

int password_init(void)
{
	static const char filler[] = "authgate-dummy-password";

	return password_hash(filler, sizeof(filler) - 1, dummy_hash,
			     sizeof(dummy_hash));
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum password_verdict verify_argon2id(const char *stored,
					     const char *password, size_t len)
{
	char current[64];

	switch (argon2id_verify(stored, password, len)) {
	case ARGON2_OK:
		break;
	case ARGON2_VERIFY_MISMATCH:
		return PASSWORD_MISMATCH;
	default:
		return PASSWORD_ERROR;
	}
	snprintf(current, sizeof(current), "$argon2id$v=%d$m=%d,t=%d,p=%d$",
		 ARGON2_VERSION_NUMBER, PASSWORD_M_COST_KIB, PASSWORD_T_COST,
		 PASSWORD_PARALLELISM);
	return starts_with(stored, current) ? PASSWORD_MATCH
					    : PASSWORD_MATCH_REHASH;
}

/* pgcrypto's crypt(pw, gen_salt('bf')) writes $2a$; libcrypt reads all. */
static enum password_verdict verify_bcrypt(const char *stored,
					   const char *password)
{
	enum password_verdict verdict = PASSWORD_ERROR;
	struct crypt_data *data = calloc(1, sizeof(*data));
	const char *computed;
	size_t stored_len = strlen(stored);

	if (data == NULL)
		return PASSWORD_ERROR;
	computed = crypt_rn(password, stored, data, sizeof(*data));
	if (computed == NULL || computed[0] == '*')
		goto out;
	verdict = strlen(computed) == stored_len &&
				  crypto_equal(computed, stored, stored_len)
			  ? PASSWORD_MATCH_REHASH
			  : PASSWORD_MISMATCH;
out:
	explicit_bzero(data, sizeof(*data));
	free(data);
	return verdict;
}

enum password_verdict password_verify(const char *stored, const char *password,
				      size_t len)
{
	if (memchr(password, '\0', len) != NULL)
		return PASSWORD_ERROR;
	if (starts_with(stored, "$argon2id$"))
		return verify_argon2id(stored, password, len);
	if (starts_with(stored, "$2a$") || starts_with(stored, "$2b$") ||
	    starts_with(stored, "$2y$")) {
		if (len > BCRYPT_MAX_PASSWORD) {
			/* Same work as any other failure, and no truncated
			 * match that the upgrade would then store. */
			password_burn(password, len);
			return PASSWORD_MISMATCH;
		}
		return verify_bcrypt(stored, password);
	}
	return PASSWORD_ERROR;
}

void password_burn(const char *password, size_t len)
{
	/* The verdict is meaningless by construction; only the work counts. */
	(void)argon2id_verify(dummy_hash, password, len);
}
