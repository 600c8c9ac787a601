/*
 * Daemon configuration: one declarative table from which --help, the
 * AUTHGATE_* environment, command-line parsing and check-config derive.
 */
#ifndef AUTHGATE_CONFIG_H
#define AUTHGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cidr.h"
#include "common.h"
#include "proxy.h"

#define CONFIG_STR_MAX 1024
#define COOKIE_NAME_MAX 64

enum session_protection { PROTECTION_OFF, PROTECTION_BASIC, PROTECTION_STRONG };

struct config {
	char listen[CONFIG_STR_MAX];   /* "" = FastCGI on fd 0 */
	char db[CONFIG_STR_MAX];       /* "" = libpq's PG* environment */
	char db_password_file[CONFIG_STR_MAX]; /* "" = none */
	/* Read from db_password_file by config_read_db_password(); never
	 * printed. Wipe with explicit_bzero() when done. */
	char db_password[CONFIG_STR_MAX];
	long threads;                  /* event-loop threads serving requests */
	long hash_threads;             /* password hashing workers */
	long hash_wait;                /* seconds a login may wait for one */
	char cookie_name[COOKIE_NAME_MAX]; /* "" until config_finish() */
	/* The session cookie's name plus "_csrf", so a __Host- prefix
	 * carries over; set by config_finish(). */
	char csrf_cookie_name[COOKIE_NAME_MAX + 5];
	bool cookie_secure;
	long session_idle;
	long session_lifetime;
	long remember_lifetime;
	long db_timeout;               /* seconds for connect and statements */
	long login_max_failures;       /* per account before it is locked */
	long login_max_address_failures; /* per client address */
	long audit_retention;          /* days events are kept; 0: forever */
	long login_window;             /* seconds in which failures count */
	long login_lockout;            /* seconds a lock lasts */
	char session_protection_name[8];
	enum session_protection session_protection; /* from the name */
	bool session_cache;
	long session_cache_size;       /* entries */
	/* Seconds between last_seen writes of an active session, and the
	 * longest a cached session goes unchecked; set by config_finish():
	 * the idle timeout is exact to this. */
	long touch_interval;
	/* HTTP Basic ($authgate_basic on): the challenge's realm, and how
	 * long a verified user:password stays in memory (0: never). */
	char basic_realm[128];
	long basic_cache_ttl;
	long basic_cache_size;         /* entries */
	char metrics_allow_text[CONFIG_STR_MAX];
	struct cidr_list metrics_allow; /* parsed by config_finish() */
	char log_level[16];
	char login_template[CONFIG_STR_MAX]; /* file; "" = the built-in page */
	char login_message[256];       /* flash when sent to log in */
	char app_name[128];            /* "" = no name in titles */
	bool allow_registration;       /* /auth/register exists */
	bool registration_requires_approval; /* new users start disabled */
	long registration_limit;       /* registrations per address per hour */
	/* The --login-template file's text, loaded and checked at startup;
	 * NULL for the built-in page. Not an option. */
	char *login_template_text;
	char trusted_proxies_text[CONFIG_STR_MAX]; /* as given */
	struct proxy_list trusted_proxies; /* parsed by config_finish() */
};

/* Fills every field with its default. */
void config_defaults(struct config *cfg);

/*
 * Applies AUTHGATE_<NAME> variables from `environ`-style `envp`. On error
 * writes one line into `err` and returns -1.
 */
int config_from_env(struct config *cfg, char *const *envp, char *err,
		    size_t err_cap) AG_MUST_CHECK;

/*
 * Applies `--name value` and `--name=value` arguments from argv[first..argc).
 * Sets *help when --help is given. 0 or -1 with one line in `err`.
 */
int config_from_args(struct config *cfg, int argc, char **argv, int first,
		     bool *help, char *err, size_t err_cap) AG_MUST_CHECK;

/*
 * Derives what depends on other options (the cookie name's __Host- prefix
 * when secure) and checks cross-option rules. 0 or -1 with `err`.
 */
int config_finish(struct config *cfg, char *err, size_t err_cap) AG_MUST_CHECK;

void config_print_help(FILE *out);

/* Prints the effective configuration, one `name = value` a line, showing
 * `db_shown` for the database connection (db_conninfo_masked()). */
void config_print(const struct config *cfg, const char *db_shown, FILE *out);

#endif
