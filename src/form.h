/* application/x-www-form-urlencoded bodies and query strings. Pure. */
#ifndef AUTHGATE_FORM_H
#define AUTHGATE_FORM_H

#include <stddef.h>

#include "common.h"

/*
 * Checks that the whole of `body` is well-formed: '&'-separated pairs
 * `name[=value]`, every component valid percent-encoding. Empty pairs (from
 * "a=1&&b=2" or a trailing '&') are allowed and ignored.
 */
enum parse_result form_validate(const char *body, size_t len) AG_MUST_CHECK;

/*
 * Finds the field `name` (compared after decoding, exactly) and decodes its
 * value ('+' is space) into `out` (capacity out_cap), NUL-terminated, length
 * in `*out_len`. A field given twice is PARSE_INVALID, so two parsers can
 * never disagree on which value counts. PARSE_ABSENT when not there; a
 * field without '=' has the empty value. Malformed encoding anywhere in the
 * body is PARSE_INVALID. A decoded value must fit out_cap - 1 bytes,
 * otherwise PARSE_TOO_LONG.
 */
enum parse_result form_get(const char *body, size_t len, const char *name,
			   char *out, size_t out_cap,
			   size_t *out_len) AG_MUST_CHECK;

#endif
