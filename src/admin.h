/*
 * The admin commands: `authgate user ...`, `authgate token ...` and
 * `authgate migrate`, thin wrappers over the operator SQL functions of
 * sql/install.sql, so that SQL stays the single source of truth.
 * Exit status: 0 done, 1 operational error (one line on stderr), 2 usage.
 */
#ifndef AUTHGATE_ADMIN_H
#define AUTHGATE_ADMIN_H

#include <stdbool.h>
#include <stdio.h>

#include "common.h"
#include "config.h"

#define ADMIN_MAX_OPERANDS 4

struct admin_command;

/* A parsed command line; the option arguments it does not know itself
 * are left for config_from_args(). */
struct admin_args {
	const char *group;  /* "user", "token" or "migrate" */
	const char *operands[ADMIN_MAX_OPERANDS]; /* the verb first */
	int noperands;
	const char *email, *valid_for, *sql;
	bool help;
	const struct admin_command *command; /* NULL with help for a group */
	char **options;     /* argv-style, owned: free with admin_args_free() */
	int noptions;
};

/* True when `word` (argv[1]) names an admin command group. */
bool admin_is_command(const char *word);

/*
 * Parses argv[1..argc) (argv[1] a group admin_is_command() accepts). 0, or
 * -1 with one line in `err` (a usage error: exit status 2).
 */
int admin_parse(int argc, char **argv, struct admin_args *out, char *err,
		size_t err_cap) AG_MUST_CHECK;
void admin_args_free(struct admin_args *args);

/* Usage of the group `group` (NULL: every group) on `out`. */
void admin_usage(FILE *out, const char *group);

/* Runs the parsed command with the database options of `cfg`; returns the
 * exit status. */
int admin_run(const struct admin_args *args, const struct config *cfg);

#endif
