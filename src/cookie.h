/* The HTTP Cookie request header (RFC 6265 section 5.4 syntax). Pure. */
#ifndef AUTHGATE_COOKIE_H
#define AUTHGATE_COOKIE_H

#include <stddef.h>

#include "common.h"

/*
 * Finds cookie `name` (exact, case-sensitive) in a Cookie header value such
 * as "a=1; authgate=xyz". On PARSE_OK, `*value` points into `header` (borrowed
 * for the header's lifetime) and `*value_len` is its length; surrounding
 * double quotes are removed. PARSE_ABSENT when missing. The same name twice
 * is PARSE_INVALID (cookie tossing from a sibling domain must not pick the
 * session). Pairs without '=' are skipped, as browsers do.
 */
enum parse_result cookie_get(const char *header, size_t len, const char *name,
			     const char **value,
			     size_t *value_len) AG_MUST_CHECK;

#endif
