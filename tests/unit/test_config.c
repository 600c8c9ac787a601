#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static int parse(struct config *cfg, char **envp, int argc, char **argv,
		 char *err, size_t cap)
{
	bool help;

	config_defaults(cfg);
	if (config_from_env(cfg, envp, err, cap) != 0 ||
	    config_from_args(cfg, argc, argv, 1, &help, err, cap) != 0)
		return -1;
	return config_finish(cfg, err, cap);
}

Test(config, defaults_follow_the_spec)
{
	char *envp[] = {NULL};
	char *argv[] = {"authgate", NULL};
	struct config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, envp, 1, argv, err, sizeof(err)), 0);
	cr_assert_str_eq(cfg.cookie_name, "__Host-authgate");
	cr_assert_str_eq(cfg.csrf_cookie_name, "__Host-authgate_csrf");
	cr_assert(cfg.cookie_secure);
	cr_assert_eq(cfg.session_idle, 7200);
	cr_assert_eq(cfg.session_lifetime, 43200);
	cr_assert_eq(cfg.remember_lifetime, 2592000);
	cr_assert_str_eq(cfg.listen, "");
	/* Half the cores, at least 1 (this test never runs on 512+). */
	cr_assert_eq(cfg.threads, sysconf(_SC_NPROCESSORS_ONLN) < 4
					  ? 1
					  : sysconf(_SC_NPROCESSORS_ONLN) / 2);
	cr_assert_str_eq(cfg.basic_realm, "authgate");
	cr_assert_eq(cfg.basic_cache_ttl, 60);
	cr_assert_eq(cfg.basic_cache_size, 4096);
}

Test(config, basic_realm_takes_printable_ascii)
{
	char *envp[] = {"AUTHGATE_BASIC_REALM=Example Git (staff only)", NULL};
	char *argv[] = {"authgate", "--basic-cache-ttl", "0", NULL};
	struct config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, envp, 3, argv, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.basic_realm, "Example Git (staff only)");
	cr_assert_eq(cfg.basic_cache_ttl, 0);
}

Test(config, environment_then_arguments)
{
	char *envp[] = {"AUTHGATE_SESSION_IDLE=600", "AUTHGATE_COOKIE_SECURE=off",
			"AUTHGATE_THREADSX=9", "OTHER=1", NULL};
	char *argv[] = {"authgate", "--session-idle", "900", "--threads=3",
			"--listen", "unix:/run/a.sock", NULL};
	struct config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, envp, 6, argv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.session_idle, 900, "arguments override the environment");
	cr_assert_eq(cfg.threads, 3);
	cr_assert(!cfg.cookie_secure);
	cr_assert_str_eq(cfg.cookie_name, "authgate");
	cr_assert_str_eq(cfg.listen, "unix:/run/a.sock");
}

Test(config, bad_values_fail_with_one_line)
{
	static const char *const bad[][3] = {
		{"--threads", "0", "threads"},
		{"--threads", "12x", "threads"},
		{"--session-idle", "-5", "session-idle"},
		{"--cookie-secure", "yes", "cookie-secure"},
		{"--listen", "nohost", "listen"},
		{"--listen", "127.0.0.1:99999", "listen"},
		{"--listen", "unix:relative", "listen"},
		{"--cookie-name", "a;b", "cookie-name"},
		{"--log-level", "loud", "log-level"},
		{"--basic-realm", "", "basic-realm"},
		{"--basic-realm", "a\"b", "basic-realm"},
		{"--basic-realm", "a\\b", "basic-realm"},
		{"--basic-realm", "caf\xc3\xa9", "basic-realm"},
		{"--basic-realm", "a\tb", "basic-realm"},
		{"--basic-cache-ttl", "-1", "basic-cache-ttl"},
		{"--basic-cache-ttl", "3601", "basic-cache-ttl"},
		{"--basic-cache-size", "0", "basic-cache-size"},
		{"--metrics-allow", "10.0.0.0/33", "metrics-allow"},
		{"--no-such-option", "1", "unknown option"},
	};
	char *envp[] = {NULL};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"authgate", (char *)bad[i][0], (char *)bad[i][1], NULL};
		struct config cfg;
		char err[256] = "";

		cr_assert_eq(parse(&cfg, envp, 3, argv, err, sizeof(err)), -1,
			     "case %zu", i);
		cr_assert_not_null(strstr(err, bad[i][2]), "case %zu: %s", i, err);
		cr_assert_null(strchr(err, '\n'));
	}
}

Test(config, host_prefix_needs_secure)
{
	char *envp[] = {NULL};
	char *argv[] = {"authgate", "--cookie-secure", "off", "--cookie-name",
			"__Host-x", NULL};
	struct config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, envp, 5, argv, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "cookie-secure"));
}

Test(config, idle_longer_than_lifetime_is_refused)
{
	char *envp[] = {NULL};
	char *argv[] = {"authgate", "--session-idle", "5000", "--session-lifetime",
			"4000", NULL};
	struct config cfg;
	char err[256];

	cr_assert_eq(parse(&cfg, envp, 5, argv, err, sizeof(err)), -1);
}

Test(config, print_shows_the_given_database_line)
{
	struct config cfg;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_defaults(&cfg);
	snprintf(cfg.db, sizeof(cfg.db), "host=db password=s3cret");
	config_print(&cfg, "host=db password=***", f);
	fclose(f);
	cr_assert_null(strstr(text, "s3cret"), "%s", text);
	cr_assert_not_null(strstr(text, "db = host=db password=***\n"));
	cr_assert_not_null(strstr(text, "session-idle = 7200\n"));
	free(text);
}

Test(config, help_lists_every_option_with_its_environment_name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_print_help(f);
	fclose(f);
	cr_assert_not_null(strstr(text, "--session-idle"));
	cr_assert_not_null(strstr(text, "AUTHGATE_SESSION_IDLE"));
	cr_assert_not_null(strstr(text, "AUTHGATE_COOKIE_SECURE"));
	free(text);
}
