/* Growable byte buffer with a hard maximum, for response bodies and headers. */
#ifndef AUTHGATE_BUF_H
#define AUTHGATE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/*
 * A buffer owns `data` (malloc'd; NULL until the first successful append,
 * NUL-terminated from then on). Appends past `max` or a failed allocation
 * set `failed` and leave the content unchanged; once failed, later appends
 * are ignored, so callers check `failed` once at the end instead of after
 * every append. Free with buf_free().
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool failed;
};

/* Empty buffer that may grow to `max` bytes of content. No allocation yet. */
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Drops the content and clears the failure flag; keeps the allocation. */
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) AG_PRINTF(2, 3);
/* Appends `value` in decimal: buf_printf(b, "%llu", value) without the
 * cost of a format (the check path writes two per answer). */
void buf_append_uint(struct buf *b, unsigned long long value);

#endif
