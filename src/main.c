/* Entry point: subcommands, configuration, fail-fast startup. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "hashing.h"
#include "log.h"
#include "pages.h"
#include "password.h"
#include "secret.h"
#include "server.h"
#include "validate.h"

extern char **environ;

static int fail(const char *what)
{
	fprintf(stderr, "authgate: %s\n", what);
	return 1;
}

/* Reads a password from stdin (one line; the newline is not part of it). */
static int cmd_hash_password(void)
{
	char password[PASSWORD_MAX_LEN + 2], hash[PASSWORD_HASH_MAX];
	size_t len;
	int status = 1;

	if (fgets(password, sizeof(password), stdin) == NULL) {
		fail("hash-password: no password on standard input");
		goto out;
	}
	len = strcspn(password, "\r\n");
	if (password[len] == '\0' && len > PASSWORD_MAX_LEN) {
		fail("hash-password: passwords are at most 1024 bytes");
		goto out;
	}
	password[len] = '\0';
	if (!validate_password(password, len)) {
		fail("hash-password: the password is empty");
		goto out;
	}
	if (password_hash(password, len, hash, sizeof(hash)) != 0) {
		fail("hash-password: hashing failed");
		goto out;
	}
	printf("%s\n", hash);
	status = 0;
out:
	explicit_bzero(password, sizeof(password));
	return status;
}

static enum log_level parse_log_level(const char *name)
{
	if (strcmp(name, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(name, "warn") == 0)
		return LOG_WARN;
	if (strcmp(name, "error") == 0)
		return LOG_ERROR;
	return LOG_INFO;
}

/* Connects once, checks the schema and reads the shared secret. */
static int check_database(const struct config *cfg, uint8_t key[DB_SECRET_LEN])
{
	char err[512], line[700];
	struct db *db = db_new(cfg->db, cfg->db_password, cfg->db_timeout);
	enum db_result r;
	int status = 1;

	if (db == NULL)
		return fail("out of memory");
	r = db_connect(db, err, sizeof(err));
	if (r == DB_SCHEMA_OLD) {
		snprintf(line, sizeof(line), "%s: run sql/install.sql", err);
		fail(line);
	} else if (r != DB_OK) {
		snprintf(line, sizeof(line), "cannot connect to the database: %s",
			 err);
		fail(line);
	} else if (db_secret(db, key) != DB_OK) {
		fail("cannot read authgate.daemon_secret(): run sql/install.sql");
	} else {
		status = 0;
	}
	db_free(db);
	return status;
}

#define LOGIN_TEMPLATE_MAX (256 * 1024)

/* Loads and checks --login-template, so a broken file stops the start
 * rather than every login page. */
static int load_login_template(struct config *cfg)
{
	char err[256], line[CONFIG_STR_MAX + 320];
	FILE *f = fopen(cfg->login_template, "rb");
	char *text = malloc(LOGIN_TEMPLATE_MAX + 1);
	size_t len = 0;

	if (f == NULL || text == NULL) {
		snprintf(line, sizeof(line), "login-template %s: %s",
			 cfg->login_template, f == NULL ? strerror(errno)
						       : "out of memory");
		goto fail;
	}
	len = fread(text, 1, LOGIN_TEMPLATE_MAX + 1, f);
	if (ferror(f) || len > LOGIN_TEMPLATE_MAX) {
		snprintf(line, sizeof(line), "login-template %s: %s",
			 cfg->login_template, ferror(f) ? "read error"
				: "larger than 256 KiB");
		goto fail;
	}
	text[len] = '\0';
	if (pages_check_login_template(text, len, err, sizeof(err)) != 0) {
		snprintf(line, sizeof(line), "login-template %s: %s",
			 cfg->login_template, err);
		goto fail;
	}
	fclose(f);
	cfg->login_template_text = text;
	return 0;
fail:
	if (f != NULL)
		fclose(f);
	free(text);
	return fail(line);
}

/*
 * Defaults, then AUTHGATE_* variables, then argv[first..argc), then the
 * database password file. 0, or the exit status after one line on
 * stderr: 2 for a wrong option, 1 for a password file that cannot be
 * used.
 */
static int load_config(struct config *cfg, int argc, char **argv, int first,
		       bool *help)
{
	char err[512];

	config_defaults(cfg);
	if (config_from_env(cfg, environ, err, sizeof(err)) != 0 ||
	    config_from_args(cfg, argc, argv, first, help, err, sizeof(err)) != 0 ||
	    config_finish(cfg, err, sizeof(err)) != 0) {
		fail(err);
		return 2;
	}
	if (cfg->db_password_file[0] != '\0' &&
	    secret_read_file(cfg->db_password_file, cfg->db_password,
			     sizeof(cfg->db_password), err, sizeof(err)) != 0) {
		fprintf(stderr, "authgate: db-password-file: %s\n", err);
		return 1;
	}
	return 0;
}

/* authgate user|token|migrate ...: 0, 1 or 2 (usage). */
static int cmd_admin(int argc, char **argv)
{
	struct admin_args args;
	struct config cfg;
	char err[512];
	bool help = false;
	int status;

	if (admin_parse(argc, argv, &args, err, sizeof(err)) != 0) {
		fail(err);
		admin_args_free(&args);
		return 2;
	}
	status = load_config(&cfg, args.noptions, args.options, 1, &help);
	if (status == 0 && (help || args.help))
		admin_usage(stdout, args.group);
	else if (status == 0)
		status = admin_run(&args, &cfg);
	admin_args_free(&args);
	explicit_bzero(cfg.db_password, sizeof(cfg.db_password));
	return status;
}

static void usage(void)
{
	config_print_help(stdout);
	putchar('\n');
	admin_usage(stdout, NULL);
}

/* Thousands of kept-alive connections need file descriptors. */
static void raise_fd_limit(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

int main(int argc, char **argv)
{
	static uint8_t csrf_key[DB_SECRET_LEN];
	struct config cfg;
	char err[512], db_shown[CONFIG_STR_MAX + 64];
	bool help, check_only = false;
	int first = 1, listen_fd, status;
	sigset_t stop_signals;

	/* argon2 allocates its 19 MiB per hash in one block: served by mmap,
	 * it goes back to the system after each hash instead of staying in
	 * each thread's heap for good. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (argc > 1 && strcmp(argv[1], "version") == 0) {
		printf("authgate %s\n", AUTHGATE_VERSION);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "hash-password") == 0)
		return cmd_hash_password();
	if (argc > 1 && strcmp(argv[1], "help") == 0) {
		usage();
		return 0;
	}
	if (argc > 1 && admin_is_command(argv[1]))
		return cmd_admin(argc, argv);
	if (argc > 1 && strcmp(argv[1], "check-config") == 0) {
		check_only = true;
		first = 2;
	}
	/* The daemon's startup failures all exit 1. */
	if (load_config(&cfg, argc, argv, first, &help) != 0)
		return 1;
	if (help) {
		usage();
		return 0;
	}
	log_set_level(parse_log_level(cfg.log_level));
	if (cfg.login_template[0] != '\0' && load_login_template(&cfg) != 0)
		return 1;
	status = check_database(&cfg, csrf_key);
	if (status != 0 || check_only)
		explicit_bzero(cfg.db_password, sizeof(cfg.db_password));
	if (status != 0)
		return 1;
	if (check_only) {
		db_conninfo_masked(cfg.db, db_shown, sizeof(db_shown));
		config_print(&cfg, db_shown, stdout);
		printf("database: ok (schema version >= %d)\n", DB_SCHEMA_VERSION);
		return 0;
	}
	if (password_init() != 0)
		return fail("argon2id self-test failed");
	raise_fd_limit();
	/* Block the stop signals in every thread; server_run waits for them. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	listen_fd = server_listen(&cfg, err, sizeof(err));
	if (listen_fd < 0)
		return fail(err);
	if (hashing_start(cfg.hash_threads, err, sizeof(err)) != 0)
		return fail(err);
	status = server_run(&cfg, csrf_key, listen_fd) == 0 ? 0 : 1;
	hashing_stop();
	close(listen_fd);
	if (strncmp(cfg.listen, "unix:", 5) == 0)
		unlink(cfg.listen + 5);
	explicit_bzero(csrf_key, sizeof(csrf_key));
	free(cfg.login_template_text);
	explicit_bzero(cfg.db_password, sizeof(cfg.db_password));
	return status;
}
