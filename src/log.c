#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "logfmt.h"

/* Far above any line: values come from bounded fields. */
#define LINE_MAX_BYTES 65536

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	min_level = level;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warn";
	default: return "error";
	}
}

static void pair(struct buf *line, const char *key, const char *value)
{
	logfmt_pair(line, key, value, strlen(value));
}

void log_system_error(const char *call)
{
	char text[128];

	/* strerror() is not thread-safe; the GNU strerror_r() is. */
	log_event(LOG_ERROR, 0, "system_error", "call", call, "error",
		  strerror_r(errno, text, sizeof(text)), NULL);
}

void log_event(enum log_level level, uint64_t request_id, const char *event,
	       ...)
{
	char ts[40], number[24];
	struct timespec now;
	struct tm tm;
	struct buf line;
	const char *key;
	va_list ap;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ",
		 now.tv_nsec / 1000000);
	buf_init(&line, LINE_MAX_BYTES);
	pair(&line, "ts", ts);
	pair(&line, "level", level_name(level));
	pair(&line, "event", event);
	if (request_id != 0) {
		snprintf(number, sizeof(number), "%" PRIu64, request_id);
		pair(&line, "req", number);
	}
	va_start(ap, event);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (value != NULL)
			pair(&line, key, value);
	}
	va_end(ap);
	buf_append(&line, "\n", 1);
	/* One write per line so concurrent threads never interleave. */
	if (!line.failed)
		fwrite(line.data, 1, line.len, stderr);
	else
		fprintf(stderr, "ts=%s level=error event=log_line_too_long\n", ts);
	buf_free(&line);
}
