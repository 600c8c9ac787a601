/*
 * The `next` parameter of GET /auth/login as the login handler reads it:
 * form_get(query, "next") into a REDIRECT_MAX_LEN + 1 buffer, then
 * redirect_is_local() on the decoded value.
 *
 * Properties: a decoded value that redirect_is_local() accepts is a local
 * path (same rule as fuzz_redirect.c); and the round trip /auth/check
 * relies on holds: for a target it accepts, "next=" + percent_encode(x)
 * read back with form_get() gives x exactly.
 */
#include <string.h>

#include "form.h"
#include "fuzz.h"
#include "percent.h"
#include "redirect.h"

#define NEXT_CAP (REDIRECT_MAX_LEN + 1)

/* Reads "next" from `query` (exact copy) into an exact NEXT_CAP buffer. */
static char *get_next(const char *query, size_t len, enum parse_result *r,
		      size_t *next_len)
{
	char *next = fuzz_alloc(NEXT_CAP);

	*r = form_get(query, len, "next", next, NEXT_CAP, next_len);
	FUZZ_ASSERT(*r == PARSE_OK || *r == PARSE_ABSENT ||
		    *r == PARSE_INVALID || *r == PARSE_TOO_LONG);
	if (*r == PARSE_OK)
		FUZZ_ASSERT(*next_len < NEXT_CAP && next[*next_len] == '\0');
	else
		FUZZ_ASSERT(*next_len == 0 && next[0] == '\0');
	return next;
}

/* "next=" + percent_encode(target) must give the target back. */
static void check_round_trip(const char *target, size_t len)
{
	static const char key[] = "next=";
	size_t key_len = sizeof(key) - 1, cap = key_len + 3 * len + 1;
	size_t enc_len, back_len;
	char *query = fuzz_alloc(cap), *encoded, *back;
	enum parse_result r;

	memcpy(query, key, key_len);
	r = percent_encode(target, len, query + key_len, cap - key_len,
			   &enc_len);
	FUZZ_ASSERT(r == PARSE_OK);
	/* Parse an exact copy, without the NUL the encoder wrote. */
	encoded = fuzz_dup(query, key_len + enc_len);
	back = get_next(encoded, key_len + enc_len, &r, &back_len);
	FUZZ_ASSERT(r == PARSE_OK && back_len == len &&
		    memcmp(back, target, len) == 0);
	FUZZ_ASSERT(redirect_is_local(back, back_len));
	free(back);
	free(encoded);
	free(query);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *query = fuzz_dup(data, size), *next;
	size_t next_len = 99;
	enum parse_result r;

	next = get_next(query, size, &r, &next_len);
	if (r == PARSE_OK && redirect_is_local(next, next_len)) {
		fuzz_assert_local_target(next, next_len);
		check_round_trip(next, next_len);
	}
	free(next);

	/* The raw input as a target (what /auth/check encodes). */
	if (redirect_is_local(query, size)) {
		fuzz_assert_local_target(query, size);
		check_round_trip(query, size);
	}
	free(query);
	return 0;
}
