#include <criterion/criterion.h>
#include <stdio.h>

#include "metrics.h"
#include "unit.h"

static char *render(const struct metrics_snapshot *m)
{
	struct buf b;
	char *text;

	buf_init(&b, 65536);
	metrics_render(m, &b);
	cr_assert(!b.failed, "render overflowed");
	text = strndup(b.data, b.len);
	buf_free(&b);
	return text;
}

/* The whole line `line` (without its newline) is in `text`. */
static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return true;
	}
	return false;
}

Test(metrics, every_family_has_help_and_type)
{
	static const char *const families[][2] = {
		{"authgate_checks_total", "counter"},
		{"authgate_check_duration_seconds", "histogram"},
		{"authgate_logins_total", "counter"},
		{"authgate_lockouts_total", "counter"},
		{"authgate_db_errors_total", "counter"},
		{"authgate_db_reconnects_total", "counter"},
		{"authgate_request_threads", "gauge"},
		{"authgate_hash_threads", "gauge"},
		{"authgate_hash_threads_busy", "gauge"},
		{"authgate_hash_queue_length", "gauge"},
		{"authgate_hash_queue_capacity", "gauge"},
	};
	struct metrics_snapshot m = {0};
	char *text = render(&m), line[128];

	for (size_t i = 0; i < AG_ARRAY_LEN(families); i++) {
		snprintf(line, sizeof(line), "# TYPE %s %s", families[i][0],
			 families[i][1]);
		cr_expect(has_line(text, line), "missing %s", line);
		snprintf(line, sizeof(line), "# HELP %s ", families[i][0]);
		cr_expect(strstr(text, line) != NULL, "missing %s", line);
	}
	cr_expect_eq(text[strlen(text) - 1], '\n');
	free(text);
}

Test(metrics, values_and_labels)
{
	struct metrics_snapshot m = {0};
	char *text;

	m.checks[CHECK_ALLOWED] = 7;
	m.checks[CHECK_STALE] = 2;
	m.logins[LOGIN_BUSY] = 3;
	m.lockouts = 4;
	m.db_errors = 5;
	m.db_reconnects = 6;
	m.gauges[GAUGE_WORKERS] = 4;
	m.gauges[GAUGE_QUEUE] = -1; /* a gauge may be read mid-update */
	text = render(&m);
	cr_expect(has_line(text, "authgate_checks_total{outcome=\"allowed\"} 7"));
	cr_expect(has_line(text, "authgate_checks_total{outcome=\"stale\"} 2"));
	cr_expect(has_line(text, "authgate_checks_total{outcome=\"error\"} 0"));
	cr_expect(has_line(text, "authgate_logins_total{outcome=\"busy\"} 3"));
	cr_expect(has_line(text, "authgate_logins_total{outcome=\"success\"} 0"));
	cr_expect(has_line(text, "authgate_lockouts_total 4"));
	cr_expect(has_line(text, "authgate_db_errors_total 5"));
	cr_expect(has_line(text, "authgate_db_reconnects_total 6"));
	cr_expect(has_line(text, "authgate_request_threads 4"));
	cr_expect(has_line(text, "authgate_hash_queue_length -1"));
	free(text);
}

Test(metrics, histogram_is_cumulative_in_seconds)
{
	struct metrics_snapshot m = {0};
	char *text;

	m.latency[0] = 1;                      /* <= 50 us */
	m.latency[4] = 2;                      /* <= 1 ms */
	m.latency[METRICS_LATENCY_BOUNDS] = 3; /* above the last bound */
	m.latency_sum_ns = 1500000123;
	text = render(&m);
	cr_expect(has_line(text,
		"authgate_check_duration_seconds_bucket{le=\"0.000050\"} 1"), "%s", text);
	cr_expect(has_line(text,
		"authgate_check_duration_seconds_bucket{le=\"0.000500\"} 1"));
	cr_expect(has_line(text,
		"authgate_check_duration_seconds_bucket{le=\"0.001000\"} 3"));
	cr_expect(has_line(text,
		"authgate_check_duration_seconds_bucket{le=\"0.250000\"} 3"));
	cr_expect(has_line(text,
		"authgate_check_duration_seconds_bucket{le=\"+Inf\"} 6"));
	cr_expect(has_line(text, "authgate_check_duration_seconds_count 6"));
	cr_expect(has_line(text,
		"authgate_check_duration_seconds_sum 1.500000123"));
	free(text);
}

/* Only for this test: the counters are process-wide. */
Test(metrics, recording_picks_the_bucket_by_upper_bound)
{
	struct metrics_snapshot before, after;

	metrics_snapshot(&before);
	metrics_check(CHECK_FORBIDDEN, 50000);  /* exactly 50 us: first */
	metrics_check(CHECK_FORBIDDEN, 50001);  /* just above: second */
	metrics_check(CHECK_ERROR, 3000000000); /* 3 s: +Inf */
	metrics_login(LOGIN_INVALID);
	metrics_lockout();
	metrics_db_error();
	metrics_db_reconnect();
	metrics_gauge_add(GAUGE_HASHING, 2);
	metrics_gauge_add(GAUGE_HASHING, -1);
	metrics_snapshot(&after);
	cr_expect_eq(after.checks[CHECK_FORBIDDEN] - before.checks[CHECK_FORBIDDEN], 2);
	cr_expect_eq(after.checks[CHECK_ERROR] - before.checks[CHECK_ERROR], 1);
	cr_expect_eq(after.latency[0] - before.latency[0], 1);
	cr_expect_eq(after.latency[1] - before.latency[1], 1);
	cr_expect_eq(after.latency[METRICS_LATENCY_BOUNDS] -
		     before.latency[METRICS_LATENCY_BOUNDS], 1);
	cr_expect_eq(after.latency_sum_ns - before.latency_sum_ns,
		     3000000000u + 100001);
	cr_expect_eq(after.logins[LOGIN_INVALID] - before.logins[LOGIN_INVALID], 1);
	cr_expect_eq(after.lockouts - before.lockouts, 1);
	cr_expect_eq(after.db_errors - before.db_errors, 1);
	cr_expect_eq(after.db_reconnects - before.db_reconnects, 1);
	cr_expect_eq(after.gauges[GAUGE_HASHING] - before.gauges[GAUGE_HASHING], 1);
}
