/*
 * /auth/metrics: scraped, parsed as the Prometheus text format, and every
 * counter seen moving after the requests that should move it. Counters
 * are per daemon, so each daemon of AUTHGATE_TEST_FCGI_ALL is scraped
 * directly (as a loopback client) and the values summed; other tests run
 * at the same time, so moves are checked as "at least".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metrics_scrape.h"

TestSuite(metrics, .timeout = AG_TIMEOUT);

static const char *const every_series[] = {
	"authgate_checks_total{outcome=\"allowed\"}",
	"authgate_checks_total{outcome=\"unauthenticated\"}",
	"authgate_checks_total{outcome=\"stale\"}",
	"authgate_checks_total{outcome=\"forbidden\"}",
	"authgate_checks_total{outcome=\"error\"}",
	"authgate_check_duration_seconds_bucket{le=\"+Inf\"}",
	"authgate_check_duration_seconds_sum",
	"authgate_check_duration_seconds_count",
	"authgate_logins_total{outcome=\"success\"}",
	"authgate_logins_total{outcome=\"failure\"}",
	"authgate_logins_total{outcome=\"invalid\"}",
	"authgate_logins_total{outcome=\"error\"}",
	"authgate_logins_total{outcome=\"busy\"}",
	"authgate_lockouts_total",
	"authgate_db_errors_total",
	"authgate_db_reconnects_total",
	"authgate_request_threads",
	"authgate_hash_threads",
	"authgate_hash_threads_busy",
	"authgate_hash_queue_length",
	"authgate_hash_queue_capacity",
};

Test(metrics, served_through_nginx_to_loopback_with_every_series)
{
	struct ag_client c;
	struct ag_response r;
	struct ag_scrape s;
	double previous = -1;

	ag_client_init(&c);
	ag_get(&c, "/auth/metrics", &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_expect(strncmp(ag_header(&r, "Content-Type"), "text/plain; version=0.0.4",
			  25) == 0, "%s", ag_header(&r, "Content-Type"));
	ag_metrics_parse(r.body, &s);
	for (size_t i = 0; i < sizeof(every_series) / sizeof(every_series[0]); i++)
		ag_metric(&s, every_series[i]);
	/* Buckets are cumulative and end at the count. */
	for (size_t i = 0; i < s.len; i++) {
		if (strncmp(s.series[i].key,
			    "authgate_check_duration_seconds_bucket", 38) != 0)
			continue;
		cr_expect(s.series[i].value >= previous, "%s decreases",
			  s.series[i].key);
		previous = s.series[i].value;
	}
	cr_expect_eq(previous,
		     ag_metric(&s, "authgate_check_duration_seconds_count"));
	cr_expect_gt(ag_metric(&s, "authgate_request_threads"), 0);
	cr_expect_gt(ag_metric(&s, "authgate_hash_threads"), 0);
	cr_expect_gt(ag_metric(&s, "authgate_hash_queue_capacity"), 0);
	ag_response_free(&r);
	ag_client_free(&c);
}

#define MOVED(key, by)                                                  \
	cr_expect_geq(ag_metric(&after, key) - ag_metric(&before, key), by,  \
		      "%s moved by %g, expected at least %d", key,      \
		      ag_metric(&after, key) - ag_metric(&before, key), by)

Test(metrics, counters_move_with_checks_and_logins)
{
	struct ag_client c, anon, locked;
	struct ag_user u, victim;
	struct ag_scrape before, after;
	long status = 0;
	char *body;
	struct ag_response r;

	ag_user_new(&u, "metrics");
	ag_user_new(&victim, "metrics_lock");
	ag_client_init(&c);
	ag_client_init(&anon);
	ag_client_init(&locked);
	ag_metrics_scrape_all(&before);

	ag_login_ok(&c, u.name, u.password);
	cr_assert_eq(ag_status(&c, "/headers"), 200);
	cr_assert_eq(ag_status(&c, "/admin/headers"), 403);
	cr_assert_eq(ag_status(&anon, "/headers"), 401);
	cr_assert_eq(ag_login(&anon, u.name, "not the password", false, NULL,
			      NULL), 401);
	/* A form without its CSRF token. */
	body = ag_form("username", u.name, "password", u.password, NULL);
	ag_post_form(&anon, "/auth/login", body, NULL, &r);
	cr_expect_eq(r.status, 403);
	ag_response_free(&r);
	free(body);
	/* Failures until the account is locked. */
	for (int i = 0; i < 10 && status != 429; i++)
		status = ag_login(&locked, victim.name, "wrong", false, NULL,
				  NULL);
	cr_assert_eq(status, 429, "the account was never locked");

	ag_metrics_scrape_all(&after);
	MOVED("authgate_checks_total{outcome=\"allowed\"}", 1);
	MOVED("authgate_checks_total{outcome=\"forbidden\"}", 1);
	MOVED("authgate_checks_total{outcome=\"unauthenticated\"}", 1);
	MOVED("authgate_check_duration_seconds_count", 3);
	MOVED("authgate_check_duration_seconds_bucket{le=\"+Inf\"}", 3);
	cr_expect_gt(ag_metric(&after, "authgate_check_duration_seconds_sum"),
		     ag_metric(&before, "authgate_check_duration_seconds_sum"));
	MOVED("authgate_logins_total{outcome=\"success\"}", 1);
	MOVED("authgate_logins_total{outcome=\"failure\"}", 2);
	MOVED("authgate_logins_total{outcome=\"invalid\"}", 1);
	MOVED("authgate_lockouts_total", 1);
	ag_client_free(&c);
	ag_client_free(&anon);
	ag_client_free(&locked);
}
