/*
 * Counters and gauges for /auth/metrics. Recording is one relaxed atomic
 * add (no lock, no allocation), cheap enough for every check; rendering
 * works on a snapshot so it is a pure function, unit-tested.
 */
#ifndef AUTHGATE_METRICS_H
#define AUTHGATE_METRICS_H

#include <stdint.h>

#include "buf.h"

enum metric_check {
	CHECK_ALLOWED,         /* 200 */
	CHECK_UNAUTHENTICATED, /* 401: no valid session or token */
	CHECK_STALE,           /* 401: not fresh enough */
	CHECK_FORBIDDEN,       /* 403: lacks the required role */
	CHECK_ERROR,           /* 5xx: database down or bad configuration */
	CHECK_OUTCOMES
};

enum metric_login {
	LOGIN_SUCCESS,
	LOGIN_FAILURE,  /* unknown user, wrong password or disabled */
	LOGIN_INVALID,  /* malformed form or refused CSRF */
	LOGIN_ERROR,    /* the database did not answer */
	LOGIN_BUSY,     /* the hashing queue was full */
	LOGIN_OUTCOMES
};

enum metric_gauge {
	GAUGE_WORKERS,      /* request threads running */
	GAUGE_HASHERS,      /* hashing threads running */
	GAUGE_HASHING,      /* hashing threads busy with a login */
	GAUGE_QUEUE,        /* logins waiting for a hashing thread */
	GAUGE_QUEUE_CAPACITY,
	GAUGE_COUNT
};

/* Upper bounds in microseconds; a last, implicit bucket is +Inf. */
#define METRICS_LATENCY_BOUNDS 10
extern const uint32_t metrics_latency_bounds_us[METRICS_LATENCY_BOUNDS];

struct metrics_snapshot {
	uint64_t checks[CHECK_OUTCOMES];
	/* Per bucket, not cumulative; [METRICS_LATENCY_BOUNDS] is +Inf. */
	uint64_t latency[METRICS_LATENCY_BOUNDS + 1];
	uint64_t latency_sum_ns;
	uint64_t logins[LOGIN_OUTCOMES];
	uint64_t lockouts;      /* logins refused by an account/address lock */
	uint64_t db_errors;     /* statements or connects that failed */
	uint64_t db_reconnects; /* connections made again after a loss */
	int64_t gauges[GAUGE_COUNT];
};

/* One answered check and the time the daemon spent on it. */
void metrics_check(enum metric_check outcome, uint64_t elapsed_ns);
void metrics_login(enum metric_login outcome);
void metrics_lockout(void);
void metrics_db_error(void);
void metrics_db_reconnect(void);
void metrics_gauge_add(enum metric_gauge gauge, int64_t delta);

/* The current values (each read atomically; not one instant for all). */
void metrics_snapshot(struct metrics_snapshot *out);

/* Prometheus text exposition format 0.0.4, with HELP and TYPE lines. */
void metrics_render(const struct metrics_snapshot *m, struct buf *out);

#endif
