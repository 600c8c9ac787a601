/* Cookie request header lookup (RFC 6265 sections 4.2.1 and 5.4). */
#include "cookie.h"

#include <stdbool.h>
#include <string.h>

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Shrinks [*s, *s + *len) past leading and trailing spaces and tabs. */
static void trim_ows(const char **s, size_t *len)
{
	while (*len > 0 && is_ows((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*s)[*len - 1]))
		(*len)--;
}

/*
 * Browsers send "; " between pairs, but other clients and proxies are
 * looser, so whitespace around names and values is ignored. Every pair is
 * read even after a match, to see a duplicate.
 */
enum parse_result cookie_get(const char *header, size_t len, const char *name,
			     const char **value, size_t *value_len)
{
	size_t name_len = strlen(name), pos = 0;
	const char *found = NULL;
	size_t found_len = 0;

	*value = NULL;
	*value_len = 0;
	while (pos < len) {
		const char *pair = header + pos;
		const char *semi = memchr(pair, ';', len - pos);
		size_t pair_len = semi ? (size_t)(semi - pair) : len - pos;
		const char *eq, *n, *v;
		size_t n_len, v_len;

		pos += pair_len + (semi ? 1 : 0);
		eq = memchr(pair, '=', pair_len);
		if (!eq)
			continue;

		n = pair;
		n_len = (size_t)(eq - pair);
		trim_ows(&n, &n_len);
		if (n_len != name_len || memcmp(n, name, name_len) != 0)
			continue;
		if (found)
			return PARSE_INVALID;

		v = eq + 1;
		v_len = pair_len - (size_t)(eq - pair) - 1;
		trim_ows(&v, &v_len);
		if (v_len >= 2 && v[0] == '"' && v[v_len - 1] == '"') {
			v++;
			v_len -= 2;
		}
		found = v;
		found_len = v_len;
	}
	if (!found)
		return PARSE_ABSENT;
	*value = found;
	*value_len = found_len;
	return PARSE_OK;
}
