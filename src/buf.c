/* Growable byte buffer with a hard maximum. */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation; big enough for most headers without a realloc. */
#define BUF_INITIAL_CAP 256

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	b->failed = false;
}

/*
 * Makes room for `extra` more bytes of content plus the NUL. On failure sets
 * `failed` and returns false with the content untouched.
 */
static bool buf_reserve(struct buf *b, size_t extra)
{
	size_t need, new_cap;
	char *p;

	if (b->failed)
		return false;
	if (extra > b->max || b->len > b->max - extra ||
	    b->len + extra == SIZE_MAX)
		goto fail;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;

	new_cap = b->cap ? b->cap : BUF_INITIAL_CAP;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2) {
			new_cap = need;
			break;
		}
		new_cap *= 2;
	}
	/* Never allocate more than the content limit allows. */
	if (b->max < SIZE_MAX && new_cap > b->max + 1)
		new_cap = b->max + 1;

	p = realloc(b->data, new_cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = new_cap;
	return true;
fail:
	b->failed = true;
	return false;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len))
		return;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_append_uint(struct buf *b, unsigned long long value)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	buf_append(b, digits + n, sizeof(digits) - n);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;

	/* Measure first so a too-long result never touches the content. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;

	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->data[b->len] = '\0';
		b->failed = true;
		return;
	}
	b->len += (size_t)n;
}
