/*
 * Reading secrets that must never be command-line arguments: the database
 * password from a file (Docker secrets) and a user's new password from a
 * terminal without echo, or from standard input.
 */
#ifndef AUTHGATE_SECRET_H
#define AUTHGATE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/*
 * Reads the whole of `path` into `out` (NUL-terminated), without one
 * trailing "\n" or "\r\n" (what `echo` and editors add). Refuses an empty
 * file, one holding a NUL or another line break, and one that does not fit
 * `cap`. The file's mode is not checked: Docker secrets are often 0444.
 * 0, or -1 with one line in `err` (never any of the file's content).
 */
int secret_read_file(const char *path, char *out, size_t cap, char *err,
		     size_t err_cap) AG_MUST_CHECK;

/*
 * A new password: from a terminal on standard input, asked for on stderr
 * without echo, twice (both must match); otherwise the first line of
 * standard input. The echo is restored on every path, Ctrl-C included.
 * Refuses what validate_password() refuses. 0, or -1 with `err`.
 */
int secret_read_password(char *out, size_t cap, char *err,
			 size_t err_cap) AG_MUST_CHECK;

#endif
