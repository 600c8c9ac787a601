/*
 * The configuration parsers over command lines and environments made from
 * the input: it is split at '\n' and NUL; pieces that start with
 * "AUTHGATE_" form the environment, the others argv[1..] (argv[0] is
 * "authgate"), each in its own exact heap copy. Then, as main() does,
 * config_from_env(), config_from_args() and config_finish(), and
 * config_print() of the result.
 *
 * Properties: an error is one non-empty line that fits the (small) error
 * buffer; an accepted configuration has every string NUL-terminated inside
 * its field and every value inside the range --help documents; after
 * config_finish() the cookie names are set, the CSRF cookie is NAME_csrf,
 * a __Host-/__Secure- name implies Secure, and idle <= lifetime; and
 * config_print() shows the database line it is given, not the conninfo.
 */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define MAX_PIECES 32
#define ERR_CAP 96

static const char env_prefix[] = "AUTHGATE_";

static bool field_terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

static void assert_error(const char *err)
{
	size_t len = strnlen(err, ERR_CAP);

	FUZZ_ASSERT(len > 0 && len < ERR_CAP);
	FUZZ_ASSERT(strchr(err, '\n') == NULL);
}

static bool is_token(const char *s)
{
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) &&
		    !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	}
	return true;
}

static void assert_valid(const struct config *cfg)
{
	FUZZ_ASSERT(field_terminated(cfg->listen, sizeof(cfg->listen)));
	FUZZ_ASSERT(field_terminated(cfg->db, sizeof(cfg->db)));
	FUZZ_ASSERT(field_terminated(cfg->cookie_name,
				     sizeof(cfg->cookie_name)));
	FUZZ_ASSERT(field_terminated(cfg->log_level, sizeof(cfg->log_level)));
	FUZZ_ASSERT(cfg->threads >= 1 && cfg->threads <= 256);
	FUZZ_ASSERT(cfg->hash_threads >= 1 && cfg->hash_threads <= 64);
	FUZZ_ASSERT(cfg->session_idle >= 60 && cfg->session_idle <= 31536000);
	FUZZ_ASSERT(cfg->session_lifetime >= 60 &&
		    cfg->session_lifetime <= 31536000);
	FUZZ_ASSERT(cfg->remember_lifetime >= 60 &&
		    cfg->remember_lifetime <= 31536000);
	FUZZ_ASSERT(cfg->db_timeout >= 1 && cfg->db_timeout <= 300);
	FUZZ_ASSERT(strcmp(cfg->log_level, "debug") == 0 ||
		    strcmp(cfg->log_level, "info") == 0 ||
		    strcmp(cfg->log_level, "warn") == 0 ||
		    strcmp(cfg->log_level, "error") == 0);
	FUZZ_ASSERT(is_token(cfg->cookie_name));
	FUZZ_ASSERT(cfg->listen[0] == '\0' ||
		    strncmp(cfg->listen, "unix:/", 6) == 0 ||
		    (strrchr(cfg->listen, ':') != NULL &&
		     strrchr(cfg->listen, ':') != cfg->listen));
}

static void assert_finished(const struct config *cfg)
{
	size_t name_len = strlen(cfg->cookie_name);

	FUZZ_ASSERT(name_len > 0);
	FUZZ_ASSERT(field_terminated(cfg->csrf_cookie_name,
				     sizeof(cfg->csrf_cookie_name)));
	FUZZ_ASSERT(strlen(cfg->csrf_cookie_name) == name_len + 5 &&
		    strncmp(cfg->csrf_cookie_name, cfg->cookie_name,
			    name_len) == 0 &&
		    strcmp(cfg->csrf_cookie_name + name_len, "_csrf") == 0);
	if (!cfg->cookie_secure)
		FUZZ_ASSERT(strncmp(cfg->cookie_name, "__Host-", 7) != 0 &&
			    strncmp(cfg->cookie_name, "__Secure-", 9) != 0);
	FUZZ_ASSERT(cfg->session_idle <= cfg->session_lifetime);
}

/* Occurrences of the non-empty `sub` in `s`, overlapping ones included. */
/*
 * config_print() into memory: its db line must be exactly the string given
 * for it (db_conninfo_masked()'s, which uses libpq's own parser and is
 * tested through `authgate check-config`), never the raw conninfo.
 */
static void print_config(const struct config *cfg)
{
	char *text = NULL, *db_line;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);

	if (out == NULL)
		abort();
	/* The db line is db_conninfo_masked()'s (libpq); what is checked
	 * here is that config_print() shows that and nothing else of db. */
	config_print(cfg, "(masked)", out);
	FUZZ_ASSERT(fclose(out) == 0);
	FUZZ_ASSERT(text != NULL && text_len > 0 && text[text_len - 1] == '\n');
	db_line = strstr(text, "\ndb = ");
	if (db_line == NULL && strncmp(text, "db = ", 5) == 0)
		db_line = text;
	FUZZ_ASSERT(db_line != NULL);
	db_line += db_line[0] == '\n';
	db_line[strcspn(db_line, "\n")] = '\0';
	FUZZ_ASSERT(strcmp(db_line, "db = (masked)") == 0);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_PIECES + 2], *envp[MAX_PIECES + 1];
	int argc = 1, envc = 0, i;
	size_t start = 0, pos;
	char *err = fuzz_alloc(ERR_CAP);
	struct config cfg;
	bool help = false;

	argv[0] = fuzz_dup("authgate", sizeof("authgate"));
	for (pos = 0; pos <= size && argc + envc < MAX_PIECES + 1; pos++) {
		char *piece;
		size_t len;

		if (pos < size && data[pos] != '\n' && data[pos] != '\0')
			continue;
		len = pos - start;
		/* A text seed's final newline does not make an empty argument. */
		if (pos == size && len == 0)
			break;
		piece = fuzz_alloc(len + 1);
		if (len > 0)
			memcpy(piece, data + start, len);
		piece[len] = '\0';
		start = pos + 1;
		if (len >= sizeof(env_prefix) - 1 &&
		    memcmp(piece, env_prefix, sizeof(env_prefix) - 1) == 0)
			envp[envc++] = piece;
		else
			argv[argc++] = piece;
	}
	argv[argc] = NULL;
	envp[envc] = NULL;

	err[0] = '\0';
	config_defaults(&cfg);
	assert_valid(&cfg);
	if (config_from_env(&cfg, envp, err, ERR_CAP) != 0) {
		assert_error(err);
	} else if (config_from_args(&cfg, argc, argv, 1, &help, err,
				    ERR_CAP) != 0) {
		assert_error(err);
	} else {
		assert_valid(&cfg);
		if (config_finish(&cfg, err, ERR_CAP) != 0) {
			assert_error(err);
		} else {
			assert_valid(&cfg);
			assert_finished(&cfg);
		}
		print_config(&cfg);
	}

	for (i = 0; i < argc; i++)
		free(argv[i]);
	for (i = 0; i < envc; i++)
		free(envp[i]);
	free(err);
	return 0;
}
