/*
 * Helpers shared by the unit tests. Header-only (static inline), so each
 * test file stays a self-contained list of Criterion cases.
 */
#ifndef AUTHGATE_TESTS_UNIT_H
#define AUTHGATE_TESTS_UNIT_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/*
 * A string literal as the two arguments (bytes, length) that the parsers
 * take; the length counts embedded NULs but not the terminating one.
 */
#define S(lit) lit, sizeof(lit) - 1

/*
 * A heap copy of exactly `len` bytes with no NUL after it, so that
 * AddressSanitizer reports any read past `len`. The caller frees it with
 * free(). Fails the test when out of memory.
 */
static inline char *dup_exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	cr_assert_not_null(p);
	if (len)
		memcpy(p, s, len);
	return p;
}

/* One row of a table for a yes/no check over bytes. */
struct bool_case {
	const char *in;
	size_t len;
	bool want;
};

/*
 * Asserts `check(in, len) == want` for each of the `n` rows of `cases`,
 * every input in its own dup_exact() copy. Failures name the row index.
 */
static inline void check_bool_cases(bool (*check)(const char *, size_t),
				    const struct bool_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bool_case *c = &cases[i];
		char *in = dup_exact(c->in, c->len);

		cr_assert_eq(check(in, c->len), c->want, "case %zu: want %s", i,
			     c->want ? "true" : "false");
		free(in);
	}
}

#endif
