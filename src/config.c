#include "config.h"
#include "proxy.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum option_type { OPT_STRING, OPT_LONG, OPT_ONOFF };

struct option_def {
	const char *name; /* --name; env AUTHGATE_NAME with '-' as '_' */
	enum option_type type;
	size_t offset;
	size_t size;      /* OPT_STRING: capacity of the field */
	long min, max;    /* OPT_LONG */
	const char *default_text; /* for --help */
	const char *help;
	/* Extra validation of string values; NULL when any string fits. */
	bool (*valid)(const char *value);
	const char *valid_text;
};

static bool valid_listen(const char *v)
{
	const char *colon;
	char *end;
	long port;

	if (v[0] == '\0')
		return true;
	if (strncmp(v, "unix:", 5) == 0)
		return v[5] == '/';
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v)
		return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno == 0 && *end == '\0' && colon[1] != '\0' && port > 0 &&
	       port < 65536;
}

/* RFC 6265 cookie-name is an RFC 7230 token. */
static bool valid_cookie_name(const char *v)
{
	if (v[0] == '\0')
		return true;
	for (; *v; v++) {
		if (!isalnum((unsigned char)*v) && !strchr("!#$%&'*+-.^_`|~", *v))
			return false;
	}
	return true;
}

static bool valid_protection(const char *v)
{
	return strcmp(v, "off") == 0 || strcmp(v, "basic") == 0 ||
	       strcmp(v, "strong") == 0;
}

/* Goes inside a quoted-string of WWW-Authenticate as is: printable ASCII
 * without the two characters that would need escaping. */
static bool valid_realm(const char *v)
{
	if (v[0] == '\0')
		return false;
	for (; *v; v++) {
		if (*v < 0x20 || *v > 0x7e || *v == '"' || *v == '\\')
			return false;
	}
	return true;
}

static bool valid_proxies(const char *v)
{
	struct proxy_list list;

	return proxy_list_parse(v, strlen(v), &list) == PARSE_OK;
}

static bool valid_log_level(const char *v)
{
	return strcmp(v, "debug") == 0 || strcmp(v, "info") == 0 ||
	       strcmp(v, "warn") == 0 || strcmp(v, "error") == 0;
}

/* Shown inside pages (always HTML-escaped): printable text only. */
static bool printable(const char *v)
{
	for (; *v; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	}
	return true;
}

static bool valid_message(const char *v)
{
	return v[0] != '\0' && printable(v);
}

static bool valid_app_name(const char *v)
{
	return printable(v);
}

static bool valid_allow(const char *v)
{
	struct cidr_list list;

	return cidr_list_parse(v, &list);
}

#define STR_FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define LONG_FIELD(f) offsetof(struct config, f), 0

static const struct option_def options[] = {
	{"listen", OPT_STRING, STR_FIELD(listen), 0, 0, "fd 0",
	 "HOST:PORT or unix:/path to listen on; without it, FastCGI on fd 0 "
	 "(spawn-fcgi, systemd socket)", valid_listen,
	 "HOST:PORT or unix:/absolute/path"},
	{"db", OPT_STRING, STR_FIELD(db), 0, 0, "libpq PG* environment",
	 "PostgreSQL connection string (URI or key=value)", NULL, NULL},
	{"db-password-file", OPT_STRING, STR_FIELD(db_password_file), 0, 0,
	 "none", "file holding the database password (one line; a Docker "
	 "secret), used instead of one in --db or PGPASSWORD", NULL, NULL},
	{"threads", OPT_LONG, LONG_FIELD(threads), 1, 256, "cores / 2",
	 "request threads (each owns one database connection)", NULL, NULL},
	{"hash-threads", OPT_LONG, LONG_FIELD(hash_threads), 1, 64, "cores",
	 "password hashing threads (each needs 19 MiB while hashing)", NULL,
	 NULL},
	{"hash-wait", OPT_LONG, LONG_FIELD(hash_wait), 1, 300, "10",
	 "seconds a login may wait for a hashing thread; longer: 503 with "
	 "Retry-After", NULL, NULL},
	{"cookie-name", OPT_STRING, STR_FIELD(cookie_name), 0, 0,
	 "authgate (__Host-authgate when secure)", "session cookie name",
	 valid_cookie_name, "a cookie-name token"},
	{"cookie-secure", OPT_ONOFF, offsetof(struct config, cookie_secure), 0,
	 0, 0, "on", "Secure cookie flag; off only for plain-http demos and tests",
	 NULL, NULL},
	{"session-idle", OPT_LONG, LONG_FIELD(session_idle), 60, 31536000,
	 "7200", "idle timeout in seconds", NULL, NULL},
	{"session-lifetime", OPT_LONG, LONG_FIELD(session_lifetime), 60,
	 31536000, "43200", "absolute session lifetime in seconds", NULL, NULL},
	{"remember-lifetime", OPT_LONG, LONG_FIELD(remember_lifetime), 60,
	 31536000, "2592000", "session lifetime with \"remember me\" in seconds",
	 NULL, NULL},
	{"db-timeout", OPT_LONG, LONG_FIELD(db_timeout), 1, 300, "5",
	 "seconds allowed for a database connect or statement", NULL, NULL},
	{"login-max-failures", OPT_LONG, LONG_FIELD(login_max_failures), 0,
	 1000000, "5", "failed logins of one account before it is locked "
	 "(0: no limit)", NULL, NULL},
	{"login-max-address-failures", OPT_LONG,
	 LONG_FIELD(login_max_address_failures), 0, 1000000, "20",
	 "failed logins from one client address before it is locked "
	 "(0: no limit)", NULL, NULL},
	{"login-window", OPT_LONG, LONG_FIELD(login_window), 1, 31536000,
	 "600", "seconds from an account's (or address's) first failed login "
	 "in which the failures count towards the limit", NULL, NULL},
	{"login-lockout", OPT_LONG, LONG_FIELD(login_lockout), 1, 31536000,
	 "900", "seconds a lock lasts after the failure that reached the limit",
	 NULL, NULL},
	{"audit-retention", OPT_LONG, LONG_FIELD(audit_retention), 0, 36500,
	 "90", "days the audit trail (authgate.events) is kept; 0 keeps it "
	 "forever", NULL, NULL},
	{"session-protection", OPT_STRING, STR_FIELD(session_protection_name), 0,
	 0, "basic", "when a session comes from another browser or network: "
	 "basic marks it not fresh, strong ends it, off ignores it",
	 valid_protection, "off, basic or strong"},
	{"session-cache", OPT_ONOFF, offsetof(struct config, session_cache), 0, 0,
	 0, "on", "cache validated sessions in memory (revocations arrive by "
	 "PostgreSQL NOTIFY); off: every check asks the database", NULL, NULL},
	{"session-cache-size", OPT_LONG, LONG_FIELD(session_cache_size), 1,
	 10000000, "65536", "most sessions the cache holds", NULL, NULL},
	{"login-template", OPT_STRING, STR_FIELD(login_template), 0, 0,
	 "the built-in page", "HTML file for the login page, with {{name}} "
	 "placeholders (see the README); checked at startup", NULL, NULL},
	{"login-message", OPT_STRING, STR_FIELD(login_message), 0, 0,
	 "Please log in first.", "message on the login page when a protected "
	 "page sent the browser there", valid_message, "1 to 255 bytes of text "
	 "without control characters"},
	{"app-name", OPT_STRING, STR_FIELD(app_name), 0, 0, "none",
	 "site name in the titles and headings of the pages", valid_app_name,
	 "at most 127 bytes of text without control characters"},
	{"allow-registration", OPT_ONOFF,
	 offsetof(struct config, allow_registration), 0, 0, 0, "off",
	 "self-registration at /auth/register (off: 404)", NULL, NULL},
	{"registration-requires-approval", OPT_ONOFF,
	 offsetof(struct config, registration_requires_approval), 0, 0, 0,
	 "off", "registered users start disabled until an operator runs "
	 "enable_user", NULL, NULL},
	{"registration-limit", OPT_LONG, LONG_FIELD(registration_limit), 0,
	 1000000, "10", "registration attempts per client address per hour "
	 "(0: no limit)", NULL, NULL},
	{"basic-realm", OPT_STRING, STR_FIELD(basic_realm), 0, 0, "authgate",
	 "realm of the HTTP Basic challenge on $authgate_basic locations",
	 valid_realm, "printable ASCII without '\"' or '\\'"},
	{"basic-cache-ttl", OPT_LONG, LONG_FIELD(basic_cache_ttl), 0, 3600, "60",
	 "seconds a verified HTTP Basic user:password is remembered in memory, "
	 "so the password is not hashed again on every request (0: never)",
	 NULL, NULL},
	{"basic-cache-size", OPT_LONG, LONG_FIELD(basic_cache_size), 1, 1000000,
	 "4096", "most HTTP Basic credentials remembered at once", NULL, NULL},
	{"trusted-proxies", OPT_STRING, STR_FIELD(trusted_proxies_text), 0, 0,
	 "none", "addresses or CIDR networks (comma-separated) of reverse "
	 "proxies in front of nginx whose X-Forwarded-For is believed",
	 valid_proxies, "IP addresses or CIDR networks, comma-separated "
	 "(at most 32)"},
	{"metrics-allow", OPT_STRING, STR_FIELD(metrics_allow_text), 0, 0,
	 "127.0.0.0/8,::1", "client addresses (as nginx passes REMOTE_ADDR) "
	 "allowed to read /auth/metrics: comma-separated ADDR[/PREFIX], or none",
	 valid_allow, "comma-separated IPv4/IPv6 ADDR[/PREFIX], or none"},
	{"log-level", OPT_STRING, STR_FIELD(log_level), 0, 0, "info",
	 "debug, info, warn or error", valid_log_level,
	 "debug, info, warn or error"},
};

void config_defaults(struct config *cfg)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (cores < 1)
		cores = 1;
	memset(cfg, 0, sizeof(*cfg));
	/* Half the cores: each event loop answers many connections, and the
	 * cores are shared with nginx. On 2 cores one loop made checks both
	 * cheaper and faster than two (README, Performance). */
	cfg->threads = cores / 2 < 1 ? 1 : cores / 2 > 256 ? 256 : cores / 2;
	cfg->hash_threads = cores > 64 ? 64 : cores;
	cfg->hash_wait = 10;
	cfg->cookie_secure = true;
	cfg->session_idle = 7200;
	cfg->session_lifetime = 43200;
	cfg->remember_lifetime = 2592000;
	cfg->db_timeout = 5;
	cfg->login_max_failures = 5;
	cfg->login_max_address_failures = 20;
	cfg->login_window = 600;
	cfg->audit_retention = 90;
	cfg->login_lockout = 900;
	strcpy(cfg->session_protection_name, "basic");
	cfg->session_cache = true;
	cfg->session_cache_size = 65536;
	strcpy(cfg->basic_realm, "authgate");
	cfg->basic_cache_ttl = 60;
	cfg->basic_cache_size = 4096;
	strcpy(cfg->metrics_allow_text, "127.0.0.0/8,::1");
	strcpy(cfg->log_level, "info");
	strcpy(cfg->login_message, "Please log in first.");
	cfg->registration_limit = 10;
}

static int set_option(struct config *cfg, const struct option_def *opt,
		      const char *value, const char *source, char *err,
		      size_t err_cap)
{
	char *field = (char *)cfg + opt->offset;
	char *end;
	long n;

	switch (opt->type) {
	case OPT_STRING:
		if (strlen(value) >= opt->size) {
			snprintf(err, err_cap, "%s %s: value too long (max %zu)",
				 source, opt->name, opt->size - 1);
			return -1;
		}
		if (opt->valid != NULL && !opt->valid(value)) {
			snprintf(err, err_cap, "%s %s: expected %s", source,
				 opt->name, opt->valid_text);
			return -1;
		}
		strcpy(field, value);
		return 0;
	case OPT_LONG:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || n < opt->min ||
		    n > opt->max) {
			snprintf(err, err_cap,
				 "%s %s: expected a whole number from %ld to %ld",
				 source, opt->name, opt->min, opt->max);
			return -1;
		}
		*(long *)(void *)field = n;
		return 0;
	case OPT_ONOFF:
		if (strcmp(value, "on") == 0) {
			*(bool *)(void *)field = true;
		} else if (strcmp(value, "off") == 0) {
			*(bool *)(void *)field = false;
		} else {
			snprintf(err, err_cap, "%s %s: expected on or off",
				 source, opt->name);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* AUTHGATE_SESSION_IDLE for "session-idle". */
static void env_name(const char *option, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "AUTHGATE_");

	for (; *option && n + 1 < cap; option++)
		out[n++] = *option == '-' ? '_' : (char)toupper((unsigned char)*option);
	out[n] = '\0';
}

int config_from_env(struct config *cfg, char *const *envp, char *err,
		    size_t err_cap)
{
	char name[64];

	for (size_t i = 0; i < AG_ARRAY_LEN(options); i++) {
		size_t name_len;

		env_name(options[i].name, name, sizeof(name));
		name_len = strlen(name);
		for (char *const *e = envp; *e != NULL; e++) {
			if (strncmp(*e, name, name_len) == 0 &&
			    (*e)[name_len] == '=' &&
			    set_option(cfg, &options[i], *e + name_len + 1,
				       name, err, err_cap) != 0)
				return -1;
		}
	}
	return 0;
}

static const struct option_def *find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(options); i++) {
		if (strlen(options[i].name) == len &&
		    strncmp(options[i].name, name, len) == 0)
			return &options[i];
	}
	return NULL;
}

int config_from_args(struct config *cfg, int argc, char **argv, int first,
		     bool *help, char *err, size_t err_cap)
{
	*help = false;
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		const struct option_def *opt;
		size_t name_len;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			*help = true;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			snprintf(err, err_cap, "unexpected argument \"%s\"", arg);
			return -1;
		}
		eq = strchr(arg + 2, '=');
		name_len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		opt = find_option(arg + 2, name_len);
		if (opt == NULL) {
			snprintf(err, err_cap, "unknown option \"%.*s\" (see --help)",
				 (int)(name_len + 2), arg);
			return -1;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, err_cap, "option --%s needs a value",
				 opt->name);
			return -1;
		}
		if (set_option(cfg, opt, value, "option", err, err_cap) != 0)
			return -1;
	}
	return 0;
}

int config_finish(struct config *cfg, char *err, size_t err_cap)
{
	if (cfg->cookie_name[0] == '\0')
		strcpy(cfg->cookie_name,
		       cfg->cookie_secure ? "__Host-authgate" : "authgate");
	/* Browsers drop a __Host- or __Secure- cookie without Secure. */
	if (!cfg->cookie_secure &&
	    (strncmp(cfg->cookie_name, "__Host-", 7) == 0 ||
	     strncmp(cfg->cookie_name, "__Secure-", 9) == 0)) {
		snprintf(err, err_cap,
			 "cookie-name %s needs --cookie-secure on",
			 cfg->cookie_name);
		return -1;
	}
	snprintf(cfg->csrf_cookie_name, sizeof(cfg->csrf_cookie_name), "%s_csrf",
		 cfg->cookie_name);
	cfg->session_protection =
		strcmp(cfg->session_protection_name, "strong") == 0 ? PROTECTION_STRONG
		: strcmp(cfg->session_protection_name, "off") == 0 ? PROTECTION_OFF
								  : PROTECTION_BASIC;
	if (proxy_list_parse(cfg->trusted_proxies_text,
			     strlen(cfg->trusted_proxies_text),
			     &cfg->trusted_proxies) != PARSE_OK) {
		snprintf(err, err_cap, "trusted-proxies: expected IP addresses "
			 "or CIDR networks, comma-separated");
		return -1;
	}
	/* Already validated when set. */
	if (!cidr_list_parse(cfg->metrics_allow_text, &cfg->metrics_allow)) {
		snprintf(err, err_cap, "metrics-allow: malformed");
		return -1;
	}
	cfg->touch_interval = cfg->session_idle / 20;
	if (cfg->touch_interval < 1)
		cfg->touch_interval = 1;
	if (cfg->touch_interval > 60)
		cfg->touch_interval = 60;
	if (cfg->session_idle > cfg->session_lifetime) {
		snprintf(err, err_cap,
			 "session-idle (%ld) must not exceed session-lifetime (%ld)",
			 cfg->session_idle, cfg->session_lifetime);
		return -1;
	}
	return 0;
}

void config_print_help(FILE *out)
{
	char env[64];

	fprintf(out,
		"usage: authgate [OPTIONS]\n"
		"       authgate check-config [OPTIONS]\n"
		"       authgate user|token|migrate ... [OPTIONS]  (see authgate help)\n"
		"       authgate hash-password | version\n\n"
		"Options (each also from the environment as AUTHGATE_<NAME>):\n");
	for (size_t i = 0; i < AG_ARRAY_LEN(options); i++) {
		const struct option_def *o = &options[i];

		env_name(o->name, env, sizeof(env));
		fprintf(out, "  --%-20s %s\n  %-22s [default: %s; env %s]\n",
			o->name, o->help, "", o->default_text, env);
	}
}

void config_print(const struct config *cfg, const char *db_shown, FILE *out)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(options); i++) {
		const struct option_def *o = &options[i];
		const char *field = (const char *)cfg + o->offset;

		fprintf(out, "%s = ", o->name);
		switch (o->type) {
		case OPT_STRING:
			fputs(strcmp(o->name, "db") == 0 ? db_shown : field, out);
			break;
		case OPT_LONG:
			fprintf(out, "%ld", *(const long *)(const void *)field);
			break;
		case OPT_ONOFF:
			fputs(*(const bool *)(const void *)field ? "on" : "off",
			      out);
			break;
		}
		fputc('\n', out);
	}
}
