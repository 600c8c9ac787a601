/* Who a session or API token stands for, as the database says. */
#ifndef AUTHGATE_IDENTITY_H
#define AUTHGATE_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "validate.h"

#define IDENTITY_EMAIL_MAX 320
#define IDENTITY_ROLES_MAX 1024

/* Times are Unix seconds; an API token has created_at == 0. */
struct identity {
	int64_t user_id;
	char username[USERNAME_MAX_LEN + 1];
	char email[IDENTITY_EMAIL_MAX + 1];
	char roles[IDENTITY_ROLES_MAX + 1]; /* comma-separated, sorted */
	int64_t created_at;
	int64_t authenticated_at;
	int64_t expires_at; /* effective: absolute lifetime or idle, sooner */
	bool remember;
	/* Session protection: the client fingerprint at login, and whether a
	 * mismatch has made the session not fresh. */
	bool has_fingerprint;
	uint8_t fingerprint[32];
	bool stale;
};

#endif
