/* The one logging helper: logfmt lines on stderr. Never pass it a
 * password, token, cookie or request body. */
#ifndef AUTHGATE_LOG_H
#define AUTHGATE_LOG_H

#include <stdint.h>

#include "common.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/*
 * Writes `ts=... level=... req=N msg="..."` (req omitted when request_id
 * is 0). The formatted message is quoted and control characters escaped,
 * so a value from a request can never forge a second log line.
 */
void log_msg(enum log_level level, uint64_t request_id, const char *fmt, ...)
	AG_PRINTF(3, 4);

#endif
