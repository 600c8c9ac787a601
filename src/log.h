/* The one logging helper: one logfmt line per event on stderr. Never pass
 * it a password, token, cookie or request body. */
#ifndef AUTHGATE_LOG_H
#define AUTHGATE_LOG_H

#include <stdint.h>

#include "common.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/*
 * Writes `ts=... level=... event=EVENT [req=N] key=value...` from the
 * NULL-terminated key, value pairs that follow (both const char *; a NULL
 * value leaves its pair out). Values are quoted and escaped by
 * logfmt_pair(), so a value from a request can never forge a second line
 * or another pair.
 */
void log_event(enum log_level level, uint64_t request_id, const char *event,
	       ...) __attribute__((sentinel));

/* `event=system_error call=CALL error="strerror(errno)"` at level error. */
void log_system_error(const char *call);

#endif
