#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

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

void log_msg(enum log_level level, uint64_t request_id, const char *fmt, ...)
{
	char msg[1024], line[2300], ts[32];
	struct timespec now;
	struct tm tm;
	size_t n = 0;
	va_list ap;
	int len;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (request_id != 0)
		len = snprintf(line, sizeof(line),
			       "ts=%s.%03ldZ level=%s req=%llu msg=\"", ts,
			       now.tv_nsec / 1000000, level_name(level),
			       (unsigned long long)request_id);
	else
		len = snprintf(line, sizeof(line),
			       "ts=%s.%03ldZ level=%s msg=\"", ts,
			       now.tv_nsec / 1000000, level_name(level));
	if (len < 0)
		return;
	n = (size_t)len;
	for (const char *p = msg; *p && n + 8 < sizeof(line); p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			line[n++] = '\\';
			line[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "\\x%02x", c);
		} else {
			line[n++] = (char)c;
		}
	}
	line[n++] = '"';
	line[n++] = '\n';
	/* One write per line so concurrent threads never interleave. */
	fwrite(line, 1, n, stderr);
}
