/* JSON string escaping for the small JSON bodies authgate writes. */
#ifndef AUTHGATE_JSON_H
#define AUTHGATE_JSON_H

#include <stddef.h>

#include "buf.h"

/*
 * Appends `s` as a JSON string literal, quotes included: escapes " and \,
 * control characters as \uXXXX (\n, \t, ... short forms allowed), and also
 * < > & as \u003c etc. so the output is safe inside HTML. Bytes >= 0x80 are
 * copied unchanged (callers pass valid UTF-8).
 */
void json_string(struct buf *out, const char *s, size_t len);

#endif
