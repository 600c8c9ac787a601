/* application/x-www-form-urlencoded (WHATWG URL, section 5.1). */
#include "form.h"

#include <stdbool.h>
#include <string.h>

#include "percent.h"

/* One `name[=value]` pair, both still percent-encoded, borrowed from body. */
struct form_pair {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/*
 * Advances `*pos` past the next non-empty pair and describes it in `*pair`;
 * false at the end of the body. Empty pairs ("&&", trailing '&') are skipped.
 */
static bool form_next_pair(const char *body, size_t len, size_t *pos,
			   struct form_pair *pair)
{
	while (*pos < len) {
		const char *start = body + *pos;
		const char *amp = memchr(start, '&', len - *pos);
		size_t pair_len = amp ? (size_t)(amp - start) : len - *pos;
		const char *eq;

		*pos += pair_len + (amp ? 1 : 0);
		if (pair_len == 0)
			continue;

		/* The first '=' splits; later ones belong to the value. */
		eq = memchr(start, '=', pair_len);
		pair->name = start;
		if (eq) {
			pair->name_len = (size_t)(eq - start);
			pair->value = eq + 1;
			pair->value_len = pair_len - pair->name_len - 1;
		} else {
			pair->name_len = pair_len;
			pair->value = start + pair_len;
			pair->value_len = 0;
		}
		return true;
	}
	return false;
}

/*
 * Compares the decoded form of `enc` with `name` byte for byte without a
 * scratch buffer. `enc` must already be valid (form_validate()).
 */
static bool form_name_equals(const char *enc, size_t enc_len,
			     const char *name, size_t name_len)
{
	size_t i = 0, j = 0;

	while (i < enc_len) {
		unsigned char c;

		if (!percent_decode_next(enc, enc_len, &i, true, &c))
			return false;
		if (j == name_len || (unsigned char)name[j] != c)
			return false;
		j++;
	}
	return j == name_len;
}

/*
 * '&' and '=' are not hex digits, so checking every '%' over the whole body
 * checks every component.
 */
enum parse_result form_validate(const char *body, size_t len)
{
	size_t pos = 0;
	unsigned char c;

	while (pos < len) {
		if (!percent_decode_next(body, len, &pos, true, &c))
			return PARSE_INVALID;
	}
	return PARSE_OK;
}

/*
 * Results are checked in this order: malformed body, absent, duplicate,
 * too long. On any result but PARSE_OK, `out` holds "" (when out_cap > 0)
 * and `*out_len` is 0.
 */
enum parse_result form_get(const char *body, size_t len, const char *name,
			   char *out, size_t out_cap, size_t *out_len)
{
	struct form_pair pair, found = { 0 };
	size_t pos = 0, name_len = strlen(name);
	bool have = false;
	enum parse_result r;

	*out_len = 0;
	if (out_cap > 0)
		out[0] = '\0';
	if (form_validate(body, len) != PARSE_OK)
		return PARSE_INVALID;

	while (form_next_pair(body, len, &pos, &pair)) {
		if (!form_name_equals(pair.name, pair.name_len, name, name_len))
			continue;
		if (have)
			return PARSE_INVALID;
		found = pair;
		have = true;
	}
	if (!have)
		return PARSE_ABSENT;
	if (out_cap == 0)
		return PARSE_TOO_LONG;

	r = percent_decode(found.value, found.value_len, out, out_cap - 1,
			   out_len, true);
	if (r != PARSE_OK) {
		out[0] = '\0';
		*out_len = 0;
		return r;
	}
	out[*out_len] = '\0';
	return PARSE_OK;
}
