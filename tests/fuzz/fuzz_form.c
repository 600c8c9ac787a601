/*
 * form_validate() and form_get() over arbitrary
 * application/x-www-form-urlencoded bodies.
 *
 * Properties: a body form_validate() refuses gives PARSE_INVALID for every
 * name; the result never depends on the output capacity except for
 * PARSE_TOO_LONG exactly when the value does not fit (checked with a
 * roomy, an exact, a one-short and a small buffer, each malloc'd to its
 * capacity); failed lookups leave "" and 0; and appending "&NAME=v" turns
 * "absent" into exactly "v" and "found" into PARSE_INVALID (a repeated
 * field is never silently resolved).
 */
#include <string.h>

#include "form.h"
#include "fuzz.h"

/* The fields authgate reads, plus edge cases: empty and decoded names. */
static const char *const form_names[] = {
	"username", "password", "csrf_token", "next", "remember", "all",
	"a", "a b", "",
};

#define SMALL_CAP 8

/* form_get() into a buffer of exactly `cap` bytes; returns a copy of the
 * NUL-terminated value (caller frees) or NULL on any other result. */
static enum parse_result get_into(const char *body, size_t len,
				  const char *name, size_t cap, char **value,
				  size_t *value_len)
{
	char *out = fuzz_alloc(cap);
	enum parse_result r;

	*value_len = 99;
	r = form_get(body, len, name, out, cap, value_len);
	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_ABSENT || r == PARSE_INVALID ||
		    r == PARSE_TOO_LONG);
	if (r == PARSE_OK) {
		FUZZ_ASSERT(*value_len < cap && out[*value_len] == '\0');
		*value = out;
		return r;
	}
	FUZZ_ASSERT(*value_len == 0);
	FUZZ_ASSERT(cap == 0 || out[0] == '\0');
	free(out);
	*value = NULL;
	return r;
}

/* `name` as it appears encoded in a body: its bytes with ' ' as '+'. */
static void append_encoded_name(char *dst, const char *name)
{
	for (; *name; name++, dst++)
		*dst = *name == ' ' ? '+' : *name;
}

static void check_name(const char *body, size_t len, bool valid,
		       const char *name)
{
	static const char added_value[] = "added";
	size_t name_len = strlen(name), value_len, n, added_len;
	char *value, *v2, *added;
	enum parse_result r, r2;

	/* Decoding never lengthens, so len + 1 always fits. */
	r = get_into(body, len, name, len + 1, &value, &value_len);
	FUZZ_ASSERT(r != PARSE_TOO_LONG);
	if (!valid)
		FUZZ_ASSERT(r == PARSE_INVALID);

	if (r == PARSE_OK) {
		FUZZ_ASSERT(value_len <= len);
		/* Exactly enough room, then one byte short. */
		r2 = get_into(body, len, name, value_len + 1, &v2, &n);
		FUZZ_ASSERT(r2 == PARSE_OK && n == value_len &&
			    memcmp(v2, value, n) == 0);
		free(v2);
		r2 = get_into(body, len, name, value_len, &v2, &n);
		FUZZ_ASSERT(r2 == PARSE_TOO_LONG);
	}
	r2 = get_into(body, len, name, SMALL_CAP, &v2, &n);
	if (r == PARSE_OK && value_len >= SMALL_CAP) {
		FUZZ_ASSERT(r2 == PARSE_TOO_LONG);
	} else {
		FUZZ_ASSERT(r2 == r);
		if (r == PARSE_OK)
			FUZZ_ASSERT(n == value_len && memcmp(v2, value, n) == 0);
	}
	free(v2);
	free(value);

	/* body + "&" + name + "=" + added_value, in an exact buffer. */
	added_len = len + 1 + name_len + 1 + sizeof(added_value) - 1;
	added = fuzz_alloc(added_len);
	if (len > 0)
		memcpy(added, body, len);
	added[len] = '&';
	append_encoded_name(added + len + 1, name);
	added[len + 1 + name_len] = '=';
	memcpy(added + len + 2 + name_len, added_value,
	       sizeof(added_value) - 1);
	r2 = get_into(added, added_len, name, added_len + 1, &v2, &n);
	if (r == PARSE_ABSENT) {
		FUZZ_ASSERT(r2 == PARSE_OK);
		FUZZ_ASSERT(n == sizeof(added_value) - 1 &&
			    memcmp(v2, added_value, n) == 0);
	} else {
		FUZZ_ASSERT(r2 == PARSE_INVALID);
	}
	free(v2);
	free(added);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_dup(data, size);
	enum parse_result v = form_validate(body, size);
	size_t i;

	FUZZ_ASSERT(v == PARSE_OK || v == PARSE_INVALID);
	for (i = 0; i < AG_ARRAY_LEN(form_names); i++)
		check_name(body, size, v == PARSE_OK, form_names[i]);
	free(body);
	return 0;
}
