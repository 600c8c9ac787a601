#include "admin.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_db.h"
#include "db.h"
#include "password.h"
#include "secret.h"
#include "table.h"
#include "validate.h"

#define ERR_MAX 600
/* sql/install.sql is some 60 KB; anything this big is not it. */
#define SCRIPT_MAX (4 * 1024 * 1024)

enum admin_option {
	OPT_EMAIL = 1 << 0,
	OPT_VALID_FOR = 1 << 1,
	OPT_SQL = 1 << 2,
};

typedef int admin_fn(struct admin_db *db, const struct admin_args *a);

struct admin_command {
	const char *group, *verb; /* verb NULL: the group is the command */
	int min_operands, max_operands; /* the verb included */
	/* The operands after NAME, when given, are "add X" or "remove X". */
	bool add_remove;
	unsigned options;
	admin_fn *run;
	const char *synopsis, *help;
};

static int fail(const char *fmt, ...) AG_PRINTF(1, 2);

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("authgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* Runs a query whose rows are not needed; 0 or 1 with the message shown. */
static int run_quiet(struct admin_db *db, enum admin_query q,
		     const char *const *params)
{
	char err[ERR_MAX];
	struct admin_rows *rows = admin_db_run(db, q, params, err, sizeof(err));

	if (rows == NULL)
		return fail("%s", err);
	admin_rows_free(rows);
	return 0;
}

/* Runs a query and keeps its rows; NULL with the message shown. */
static struct admin_rows *run_rows(struct admin_db *db, enum admin_query q,
				   const char *const *params)
{
	char err[ERR_MAX];
	struct admin_rows *rows = admin_db_run(db, q, params, err, sizeof(err));

	if (rows == NULL)
		fail("%s", err);
	return rows;
}

struct listing {
	const char *const *headers;
	const struct admin_rows *rows;
};

static const char *listing_cell(void *arg, size_t row, size_t col)
{
	const struct listing *l = arg;

	return row == 0 ? l->headers[col] : admin_rows_value(l->rows, row - 1, col);
}

/* Prints the rows of `q` under `headers` (one per column). */
static int print_listing(struct admin_db *db, enum admin_query q,
			 const char *const *params, const char *const *headers)
{
	struct admin_rows *rows = run_rows(db, q, params);
	struct listing l = {headers, rows};

	if (rows == NULL)
		return 1;
	table_print(stdout, admin_rows_count(rows) + 1, admin_rows_columns(rows),
		    listing_cell, &l);
	admin_rows_free(rows);
	return 0;
}

/* The same message as the SQL functions give for an unknown user. */
static int require_user(struct admin_db *db, const char *username)
{
	const char *params[] = {username};
	struct admin_rows *rows = run_rows(db, AQ_USER_EXISTS, params);
	size_t found;

	if (rows == NULL)
		return 1;
	found = admin_rows_count(rows);
	admin_rows_free(rows);
	return found ? 0 : fail("no user named \"%s\"", username);
}

/* Reads a new password and hashes it here, so that the plaintext never
 * reaches the database server (nor its logs). */
static int new_password_hash(char hash[PASSWORD_HASH_MAX])
{
	char password[PASSWORD_MAX_LEN + 3], err[ERR_MAX];
	int status = 1;

	if (secret_read_password(password, sizeof(password), err,
				 sizeof(err)) != 0) {
		fail("%s", err);
		goto out;
	}
	if (password_hash(password, strlen(password), hash,
			  PASSWORD_HASH_MAX) != 0) {
		fail("hashing the password failed");
		goto out;
	}
	status = 0;
out:
	explicit_bzero(password, sizeof(password));
	return status;
}

static int user_add(struct admin_db *db, const struct admin_args *a)
{
	char hash[PASSWORD_HASH_MAX];
	const char *params[] = {a->operands[1], hash, a->email};
	struct admin_rows *rows;

	if (new_password_hash(hash) != 0)
		return 1;
	rows = run_rows(db, AQ_CREATE_USER, params);
	if (rows == NULL)
		return 1;
	printf("created user %s (id %s)\n", a->operands[1],
	       admin_rows_value(rows, 0, 0));
	admin_rows_free(rows);
	return 0;
}

static int user_passwd(struct admin_db *db, const struct admin_args *a)
{
	char hash[PASSWORD_HASH_MAX];
	const char *params[] = {a->operands[1], hash};

	/* Before the prompt: no password typed for a user that is not. */
	if (require_user(db, a->operands[1]) != 0 || new_password_hash(hash) != 0 ||
	    run_quiet(db, AQ_SET_PASSWORD_HASH, params) != 0)
		return 1;
	printf("changed the password of %s and ended its sessions\n",
	       a->operands[1]);
	return 0;
}

/* disable, enable, delete: one function call, one line of output. */
static int user_change(struct admin_db *db, const struct admin_args *a)
{
	static const struct {
		const char *verb, *done, *also;
		enum admin_query query;
	} changes[] = {
		{"disable", "disabled", " and ended its sessions", AQ_DISABLE_USER},
		{"enable", "enabled", "", AQ_ENABLE_USER},
		{"delete", "deleted", " with its sessions, roles and tokens",
		 AQ_DELETE_USER},
	};
	const char *params[] = {a->operands[1]};

	for (size_t i = 0; i < AG_ARRAY_LEN(changes); i++) {
		if (strcmp(a->operands[0], changes[i].verb) != 0)
			continue;
		if (run_quiet(db, changes[i].query, params) != 0)
			return 1;
		printf("%s user %s%s\n", changes[i].done, a->operands[1],
		       changes[i].also);
		return 0;
	}
	return 2;
}

static int user_list(struct admin_db *db, const struct admin_args *a)
{
	static const char *const headers[] = {"ID", "USERNAME", "EMAIL",
					      "STATUS", "ROLES", "CREATED"};

	(void)a;
	return print_listing(db, AQ_LIST_USERS, NULL, headers);
}

static int user_roles(struct admin_db *db, const struct admin_args *a)
{
	static const char *const headers[] = {"ROLE"};
	const char *params[] = {a->operands[1], a->operands[3]};
	const char *action = a->operands[2];

	if (action == NULL) {
		if (require_user(db, a->operands[1]) != 0)
			return 1;
		return print_listing(db, AQ_USER_ROLES, params, headers);
	}
	if (strcmp(action, "add") == 0) {
		if (run_quiet(db, AQ_GRANT_ROLE, params) != 0)
			return 1;
		printf("%s has role %s\n", a->operands[1], a->operands[3]);
	} else {
		if (run_quiet(db, AQ_REVOKE_ROLE, params) != 0)
			return 1;
		printf("%s does not have role %s\n", a->operands[1],
		       a->operands[3]);
	}
	return 0;
}

static int user_sessions(struct admin_db *db, const struct admin_args *a)
{
	static const char *const headers[] = {"CREATED", "LAST SEEN", "EXPIRES",
					      "REMEMBER", "CLIENT", "USER AGENT"};
	const char *params[] = {a->operands[1]};

	if (require_user(db, a->operands[1]) != 0)
		return 1;
	return print_listing(db, AQ_USER_SESSIONS, params, headers);
}

static int user_revoke(struct admin_db *db, const struct admin_args *a)
{
	const char *params[] = {a->operands[1]};
	struct admin_rows *rows = run_rows(db, AQ_REVOKE_SESSIONS, params);

	if (rows == NULL)
		return 1;
	printf("ended %s sessions of %s\n", admin_rows_value(rows, 0, 0),
	       a->operands[1]);
	admin_rows_free(rows);
	return 0;
}

static int token_create(struct admin_db *db, const struct admin_args *a)
{
	const char *params[] = {a->operands[1], a->operands[2], a->valid_for};
	struct admin_rows *rows = run_rows(db, AQ_CREATE_TOKEN, params);

	if (rows == NULL)
		return 1;
	/* Alone on stdout, for scripts; it is shown only this once. */
	printf("%s\n", admin_rows_value(rows, 0, 0));
	admin_rows_free(rows);
	return 0;
}

static int token_list(struct admin_db *db, const struct admin_args *a)
{
	static const char *const headers[] = {"NAME", "CREATED", "EXPIRES",
					      "LAST USED"};
	const char *params[] = {a->operands[1]};

	return print_listing(db, AQ_LIST_TOKENS, params, headers);
}

static int token_revoke(struct admin_db *db, const struct admin_args *a)
{
	const char *params[] = {a->operands[1], a->operands[2]};
	struct admin_rows *rows = run_rows(db, AQ_REVOKE_TOKEN, params);
	bool revoked;

	if (rows == NULL)
		return 1;
	revoked = strcmp(admin_rows_value(rows, 0, 0), "t") == 0;
	admin_rows_free(rows);
	if (!revoked)
		return fail("user %s has no API token named \"%s\"",
			    a->operands[1], a->operands[2]);
	printf("revoked API token %s of %s\n", a->operands[2], a->operands[1]);
	return 0;
}

/* The whole of `path`, NUL-terminated, in a heap string; NULL with the
 * reason shown. */
static char *read_script(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len;

	if (f == NULL) {
		fail("cannot open %s: %s (give the schema's path with --sql FILE)",
		     path, strerror(errno));
		return NULL;
	}
	text = malloc(SCRIPT_MAX + 1);
	if (text == NULL) {
		fail("out of memory");
	} else if ((len = fread(text, 1, SCRIPT_MAX + 1, f)) > SCRIPT_MAX ||
		   ferror(f)) {
		fail("cannot read %s: %s", path,
		     ferror(f) ? strerror(errno) : "larger than 4 MiB");
		free(text);
		text = NULL;
	} else {
		text[len] = '\0';
	}
	fclose(f);
	return text;
}

/*
 * Where `cmake --install` put sql/install.sql: share/authgate/sql beside
 * the binary's bin/ (whatever --prefix was given at install time), else
 * the configured prefix's.
 */
static const char *installed_script(char out[PATH_MAX])
{
	char exe[PATH_MAX], beside[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		snprintf(beside, sizeof(beside),
			 "%s/../share/authgate/sql/install.sql", dirname(exe));
		if (realpath(beside, out) != NULL)
			return out;
	}
	return AUTHGATE_SQL_FILE;
}

static int migrate(struct admin_db *db, const struct admin_args *a)
{
	char path[PATH_MAX], err[ERR_MAX];
	const char *script_path = a->sql ? a->sql : installed_script(path);
	char *script;
	long before, after;
	int status = 1;

	if (admin_db_schema_version(db, &before, err, sizeof(err)) != 0)
		return fail("%s", err);
	script = read_script(script_path);
	if (script == NULL)
		return 1;
	if (admin_db_run_script(db, script, err, sizeof(err)) != 0) {
		fail("%s: %s (nothing was changed)", script_path, err);
		goto out;
	}
	if (admin_db_schema_version(db, &after, err, sizeof(err)) != 0) {
		fail("%s", err);
		goto out;
	}
	if (after == before)
		printf("schema version %ld: up to date (%s)\n", after, script_path);
	else
		printf("schema version %ld -> %ld (%s)\n", before, after,
		       script_path);
	status = 0;
out:
	free(script);
	return status;
}

static const struct admin_command commands[] = {
	{"user", "add", 2, 2, false, OPT_EMAIL, user_add, "user add NAME [--email ADDRESS]",
	 "create a user; password: asked twice on a terminal, else stdin's line"},
	{"user", "passwd", 2, 2, false, 0, user_passwd, "user passwd NAME",
	 "set a new password (read as for add); ends the user's sessions"},
	{"user", "disable", 2, 2, false, 0, user_change, "user disable NAME",
	 "forbid logins and end every session of the user"},
	{"user", "enable", 2, 2, false, 0, user_change, "user enable NAME",
	 "allow a disabled user to log in again"},
	{"user", "delete", 2, 2, false, 0, user_change, "user delete NAME",
	 "delete the user with its sessions, roles and API tokens"},
	{"user", "list", 1, 1, false, 0, user_list, "user list",
	 "every user with email, status, roles and creation time"},
	{"user", "roles", 2, 4, true, 0, user_roles,
	 "user roles NAME [add ROLE | remove ROLE]",
	 "list the user's roles, or grant or take away one"},
	{"user", "sessions", 2, 2, false, 0, user_sessions, "user sessions NAME",
	 "the user's unexpired sessions (LAST SEEN shows the idle ones)"},
	{"user", "revoke", 2, 2, false, 0, user_revoke, "user revoke NAME",
	 "end every session of the user (log out everywhere)"},
	{"token", "create", 3, 3, false, OPT_VALID_FOR, token_create,
	 "token create USER NAME [--valid-for INTERVAL]",
	 "create an API token, shown once; INTERVAL: '90 days' (none: forever)"},
	{"token", "list", 2, 2, false, 0, token_list, "token list USER",
	 "the user's API tokens (never the tokens themselves)"},
	{"token", "revoke", 3, 3, false, 0, token_revoke, "token revoke USER NAME",
	 "delete the user's API token NAME"},
	{"migrate", NULL, 0, 0, false, OPT_SQL, migrate, "migrate [--sql FILE]",
	 "install or upgrade the schema: install.sql in one transaction"},
};

bool admin_is_command(const char *word)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(commands); i++)
		if (strcmp(word, commands[i].group) == 0)
			return true;
	return false;
}

void admin_usage(FILE *out, const char *group)
{
	char path[PATH_MAX];

	fputs("Admin commands:\n", out);
	for (size_t i = 0; i < AG_ARRAY_LEN(commands); i++) {
		if (group != NULL && strcmp(group, commands[i].group) != 0)
			continue;
		fprintf(out, "  authgate %s\n      %s\n", commands[i].synopsis,
			commands[i].help);
	}
	if (group == NULL || strcmp(group, "migrate") == 0)
		fprintf(out, "migrate without --sql runs %s\n",
			installed_script(path));
	fputs("Each also takes the database options --db, --db-password-file "
	      "and --db-timeout\n(or AUTHGATE_DB..., PG* variables) and "
	      "connects as an operator: a superuser,\nthe schema's owner or "
	      "a member of authgate_admin. Exit status: 0 done,\n"
	      "1 failed (one line on stderr), 2 wrong usage.\n", out);
}

/* --email VALUE or --email=VALUE: the value (advancing *i), or NULL when
 * `arg` is not `name`. *missing when the value is absent. */
static const char *option_value(int argc, char **argv, int *i,
				const char *name, bool *missing)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_words(int argc, char **argv, struct admin_args *out,
		       unsigned *given, char *err, size_t err_cap)
{
	const struct {
		const char *name;
		unsigned bit;
		const char **value;
	} own[] = {
		{"--email", OPT_EMAIL, &out->email},
		{"--valid-for", OPT_VALID_FOR, &out->valid_for},
		{"--sql", OPT_SQL, &out->sql},
	};

	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		bool missing = false, taken = false;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			out->help = true;
			continue;
		}
		for (size_t k = 0; k < AG_ARRAY_LEN(own) && !taken; k++) {
			value = option_value(argc, argv, &i, own[k].name, &missing);
			if (missing) {
				snprintf(err, err_cap, "option %s needs a value", arg);
				return -1;
			}
			if (value != NULL) {
				*own[k].value = value;
				*given |= own[k].bit;
				taken = true;
			}
		}
		if (taken)
			continue;
		if (strncmp(arg, "--", 2) == 0) {
			/* A daemon option (each takes a value): config's. */
			out->options[out->noptions++] = argv[i];
			if (strchr(arg, '=') == NULL && i + 1 < argc)
				out->options[out->noptions++] = argv[++i];
		} else if (out->noperands < ADMIN_MAX_OPERANDS) {
			out->operands[out->noperands++] = arg;
		} else {
			snprintf(err, err_cap, "too many arguments (see authgate %s --help)",
				 out->group);
			return -1;
		}
	}
	return 0;
}

int admin_parse(int argc, char **argv, struct admin_args *out, char *err,
		size_t err_cap)
{
	unsigned given = 0;
	const struct admin_command *c = NULL;

	memset(out, 0, sizeof(*out));
	out->group = argv[1];
	/* config_from_args() starts at index 1: index 0 stands for argv[0]. */
	out->options = calloc((size_t)argc + 1, sizeof(*out->options));
	if (out->options == NULL) {
		snprintf(err, err_cap, "out of memory");
		return -1;
	}
	out->options[out->noptions++] = argv[0];
	if (parse_words(argc, argv, out, &given, err, err_cap) != 0)
		return -1;
	for (size_t i = 0; i < AG_ARRAY_LEN(commands) && c == NULL; i++) {
		const struct admin_command *k = &commands[i];

		if (strcmp(k->group, out->group) == 0 &&
		    (k->verb == NULL ||
		     (out->noperands > 0 && strcmp(k->verb, out->operands[0]) == 0)))
			c = k;
	}
	if (out->help)
		return 0;
	if (c == NULL) {
		snprintf(err, err_cap, "%s %s: unknown command (see authgate %s --help)",
			 out->group, out->noperands ? out->operands[0] : "", out->group);
		return -1;
	}
	if (out->noperands < c->min_operands || out->noperands > c->max_operands) {
		snprintf(err, err_cap, "usage: authgate %s", c->synopsis);
		return -1;
	}
	if (c->add_remove && out->noperands > 2 &&
	    (out->noperands != 4 || (strcmp(out->operands[2], "add") != 0 &&
				     strcmp(out->operands[2], "remove") != 0))) {
		snprintf(err, err_cap, "usage: authgate %s", c->synopsis);
		return -1;
	}
	if ((given & ~c->options) != 0) {
		snprintf(err, err_cap, "usage: authgate %s (an option it does not take)",
			 c->synopsis);
		return -1;
	}
	out->command = c;
	return 0;
}

void admin_args_free(struct admin_args *args)
{
	free(args->options);
	args->options = NULL;
}

int admin_run(const struct admin_args *args, const struct config *cfg)
{
	char err[ERR_MAX];
	struct admin_db *db = admin_db_connect(cfg->db, cfg->db_password,
					       cfg->db_timeout, err, sizeof(err));
	long version;
	int status;

	if (db == NULL)
		return fail("cannot connect to the database: %s", err);
	/* Say what to do about a missing or old schema, rather than let
	 * the first query fail on a missing table or function. */
	if (strcmp(args->group, "migrate") != 0) {
		if (admin_db_schema_version(db, &version, err, sizeof(err)) != 0) {
			status = fail("%s", err);
			goto out;
		}
		if (version < DB_SCHEMA_VERSION) {
			status = fail("database schema version %ld is older than "
				      "this binary needs (%d): run authgate migrate",
				      version, DB_SCHEMA_VERSION);
			goto out;
		}
	}
	status = args->command->run(db, args);
out:
	admin_db_close(db);
	return status;
}
