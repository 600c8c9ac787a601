/* HTML escaping and the {{placeholder}} template renderer. */
#ifndef AUTHGATE_HTML_H
#define AUTHGATE_HTML_H

#include <stddef.h>

#include "buf.h"
#include "common.h"

/* Appends `s` with & < > " ' escaped as entities. */
void html_escape(struct buf *out, const char *s, size_t len);

struct html_var {
	const char *name;  /* placeholder name, e.g. "next" for {{next}} */
	const char *value; /* NUL-terminated raw text; always escaped */
};

/*
 * Renders `tmpl` (length len) into `out`, replacing each `{{name}}` (name:
 * [a-z_]+, no spaces) with the HTML-escaped value of the matching var. An
 * unknown name or an unterminated "{{" is PARSE_INVALID, so a typo in a
 * custom template is found at startup rather than shown to users. Text
 * outside placeholders is copied as is.
 */
enum parse_result html_render(struct buf *out, const char *tmpl, size_t len,
			      const struct html_var *vars,
			      size_t nvars) AG_MUST_CHECK;

#endif
