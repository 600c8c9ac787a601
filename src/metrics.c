#include "metrics.h"

#include <inttypes.h>
#include <stdatomic.h>

const uint32_t metrics_latency_bounds_us[METRICS_LATENCY_BOUNDS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000,
};

static const char *const check_names[CHECK_OUTCOMES] = {
	"allowed", "unauthenticated", "stale", "forbidden", "error",
};

static const char *const login_names[LOGIN_OUTCOMES] = {
	"success", "failure", "invalid", "error", "busy",
};

static struct {
	atomic_uint_fast64_t checks[CHECK_OUTCOMES];
	atomic_uint_fast64_t latency[METRICS_LATENCY_BOUNDS + 1];
	atomic_uint_fast64_t latency_sum_ns;
	atomic_uint_fast64_t logins[LOGIN_OUTCOMES];
	atomic_uint_fast64_t lockouts, db_errors, db_reconnects;
	atomic_int_fast64_t gauges[GAUGE_COUNT];
} counters;

static void add(atomic_uint_fast64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

void metrics_check(enum metric_check outcome, uint64_t elapsed_ns)
{
	size_t bucket = 0;

	while (bucket < METRICS_LATENCY_BOUNDS &&
	       elapsed_ns > (uint64_t)metrics_latency_bounds_us[bucket] * 1000)
		bucket++;
	add(&counters.checks[outcome], 1);
	add(&counters.latency[bucket], 1);
	add(&counters.latency_sum_ns, elapsed_ns);
}

void metrics_login(enum metric_login outcome)
{
	add(&counters.logins[outcome], 1);
}

void metrics_lockout(void)
{
	add(&counters.lockouts, 1);
}

void metrics_db_error(void)
{
	add(&counters.db_errors, 1);
}

void metrics_db_reconnect(void)
{
	add(&counters.db_reconnects, 1);
}

void metrics_gauge_add(enum metric_gauge gauge, int64_t delta)
{
	atomic_fetch_add_explicit(&counters.gauges[gauge], delta,
				  memory_order_relaxed);
}

void metrics_snapshot(struct metrics_snapshot *out)
{
	for (size_t i = 0; i < CHECK_OUTCOMES; i++)
		out->checks[i] = get(&counters.checks[i]);
	for (size_t i = 0; i <= METRICS_LATENCY_BOUNDS; i++)
		out->latency[i] = get(&counters.latency[i]);
	out->latency_sum_ns = get(&counters.latency_sum_ns);
	for (size_t i = 0; i < LOGIN_OUTCOMES; i++)
		out->logins[i] = get(&counters.logins[i]);
	out->lockouts = get(&counters.lockouts);
	out->db_errors = get(&counters.db_errors);
	out->db_reconnects = get(&counters.db_reconnects);
	for (size_t i = 0; i < GAUGE_COUNT; i++)
		out->gauges[i] = atomic_load_explicit(&counters.gauges[i],
						      memory_order_relaxed);
}

static void header(struct buf *out, const char *name, const char *type,
		   const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labelled(struct buf *out, const char *name, const char *label,
		     const char *const *values, const uint64_t *counts,
		     size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label,
			   values[i], counts[i]);
}

static void counter(struct buf *out, const char *name, const char *help,
		    uint64_t value)
{
	header(out, name, "counter", help);
	buf_printf(out, "%s %" PRIu64 "\n", name, value);
}

static void gauge(struct buf *out, const char *name, const char *help,
		  int64_t value)
{
	header(out, name, "gauge", help);
	buf_printf(out, "%s %" PRId64 "\n", name, value);
}

static void latency_histogram(const struct metrics_snapshot *m,
			      struct buf *out)
{
	static const char name[] = "authgate_check_duration_seconds";
	uint64_t cumulative = 0;

	header(out, name, "histogram",
	       "Time the daemon spent answering one check.");
	for (size_t i = 0; i < METRICS_LATENCY_BOUNDS; i++) {
		uint32_t us = metrics_latency_bounds_us[i];

		cumulative += m->latency[i];
		buf_printf(out, "%s_bucket{le=\"%" PRIu32 ".%06" PRIu32 "\"} %" PRIu64
			   "\n", name, us / 1000000, us % 1000000, cumulative);
	}
	cumulative += m->latency[METRICS_LATENCY_BOUNDS];
	buf_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
	buf_printf(out, "%s_sum %" PRIu64 ".%09" PRIu64 "\n", name,
		   m->latency_sum_ns / 1000000000,
		   m->latency_sum_ns % 1000000000);
	buf_printf(out, "%s_count %" PRIu64 "\n", name, cumulative);
}

void metrics_render(const struct metrics_snapshot *m, struct buf *out)
{
	header(out, "authgate_checks_total", "counter",
	       "Checks answered (auth_request and the FastCGI authorizer), "
	       "by outcome.");
	labelled(out, "authgate_checks_total", "outcome", check_names,
		 m->checks, CHECK_OUTCOMES);
	latency_histogram(m, out);
	header(out, "authgate_logins_total", "counter",
	       "Login form posts answered, by outcome.");
	labelled(out, "authgate_logins_total", "outcome", login_names,
		 m->logins, LOGIN_OUTCOMES);
	counter(out, "authgate_lockouts_total",
		"Logins refused because the account or address is locked.",
		m->lockouts);
	counter(out, "authgate_db_errors_total",
		"Database connects or statements that failed.", m->db_errors);
	counter(out, "authgate_db_reconnects_total",
		"Database connections made again after one was lost.",
		m->db_reconnects);
	gauge(out, "authgate_request_threads",
	      "Request threads (event loops) running.",
	      m->gauges[GAUGE_WORKERS]);
	gauge(out, "authgate_hash_threads", "Password hashing threads running.",
	      m->gauges[GAUGE_HASHERS]);
	gauge(out, "authgate_hash_threads_busy",
	      "Password hashing threads working on a login.",
	      m->gauges[GAUGE_HASHING]);
	gauge(out, "authgate_hash_queue_length",
	      "Logins waiting for a hashing thread.", m->gauges[GAUGE_QUEUE]);
	gauge(out, "authgate_hash_queue_capacity",
	      "Most logins that may wait; more get 503.",
	      m->gauges[GAUGE_QUEUE_CAPACITY]);
}
