/*
 * Helpers shared by the libFuzzer targets. Header-only (static inline), so
 * each target stays one self-contained file.
 *
 * Every target hands the input to the code under test in a heap copy of
 * exactly its length, with no NUL after it, so that AddressSanitizer
 * reports any read past the end. A violated property aborts: libFuzzer
 * records the input as a crash and the run fails.
 */
#ifndef AUTHGATE_TESTS_FUZZ_H
#define AUTHGATE_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redirect.h"

/* The entry point libFuzzer calls once per input (declared for
 * -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Aborts with the failed condition and its line when `cond` is false;
 * used for the properties each target checks, so a violation is a crash
 * with a saved reproducer like any memory error.
 */
#define FUZZ_ASSERT(cond)                                                     \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: property violated: %s\n",     \
				__FILE__, __LINE__, #cond);                   \
			abort();                                              \
		}                                                             \
	} while (0)

/*
 * malloc() that aborts instead of returning NULL, so a target never
 * dereferences NULL by itself. malloc(0) still returns a unique pointer
 * that ASan treats as holding no bytes, so a zero-length input is a
 * zero-byte buffer, not a one-byte one.
 */
static inline void *fuzz_alloc(size_t len)
{
	void *p = malloc(len);

	if (p == NULL && len > 0)
		abort();
	return p;
}

/* A heap copy of exactly `len` bytes of `data`; free with free(). */
static inline char *fuzz_dup(const void *data, size_t len)
{
	char *p = fuzz_alloc(len);

	if (len > 0)
		memcpy(p, data, len);
	return p;
}

/* A heap copy of `prefix` followed by the `len` bytes of `data`, of exactly
 * that length (`*out_len`); free with free(). For targets that reach a
 * parser's inner path by putting the input behind its expected start. */
static inline char *fuzz_prefixed(const char *prefix, const void *data,
				  size_t len, size_t *out_len)
{
	size_t prefix_len = strlen(prefix);
	char *p = fuzz_alloc(prefix_len + len);

	memcpy(p, prefix, prefix_len);
	if (len > 0)
		memcpy(p + prefix_len, data, len);
	*out_len = prefix_len + len;
	return p;
}

/* True when `inner[0..inner_len)` lies inside `outer[0..outer_len)`. */
static inline bool fuzz_within(const void *outer, size_t outer_len,
			       const void *inner, size_t inner_len)
{
	uintptr_t o = (uintptr_t)outer, i = (uintptr_t)inner;

	return i >= o && inner_len <= outer_len && i - o <= outer_len - inner_len;
}

/* Count of byte `c` in `s[0..len)`. */
static inline size_t fuzz_count(const char *s, size_t len, char c)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

/* Aborts unless `t` satisfies everything a local redirect target must
 * (redirect.h): a path, not "//" nor "/\\", printable ASCII only. */
static inline void fuzz_assert_local_target(const char *t, size_t len)
{
	const unsigned char *p = (const unsigned char *)t;

	FUZZ_ASSERT(len >= 1 && len <= REDIRECT_MAX_LEN);
	FUZZ_ASSERT(p[0] == '/');
	FUZZ_ASSERT(len < 2 || (p[1] != '/' && p[1] != '\\'));
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT(p[i] >= 0x21 && p[i] < 0x7f);
}

#endif
