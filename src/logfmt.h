/*
 * logfmt encoding: `key=value` pairs separated by spaces, one event a
 * line. Pure functions on buffers, unit- and fuzz-tested: whatever bytes
 * a value holds (a username from a login form, say), the line stays one
 * line whose pairs parse back to the original keys.
 */
#ifndef AUTHGATE_LOGFMT_H
#define AUTHGATE_LOGFMT_H

#include <stddef.h>

#include "buf.h"

/*
 * Appends ` key=value` (no leading space when `out` is empty). The value
 * is quoted when empty or when it holds a space, '=', '"' or anything
 * escaped; inside quotes `"` and `\` get a backslash, \n \r \t are
 * written so, and other control characters (C0, DEL, the C1 range) as
 * \xHH, as is every byte >= 0x80 when the value is not valid UTF-8.
 * `key` is trusted (a literal of the caller's).
 */
void logfmt_pair(struct buf *out, const char *key, const char *value,
		 size_t len);

#endif
