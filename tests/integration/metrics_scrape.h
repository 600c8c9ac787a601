/*
 * Scraping /auth/metrics in the tests: parses the Prometheus text format
 * (failing the test on anything malformed) and sums the daemons.
 */
#ifndef AUTHGATE_TEST_METRICS_SCRAPE_H
#define AUTHGATE_TEST_METRICS_SCRAPE_H

#include <stddef.h>

#define AG_SERIES_MAX 64

struct ag_scrape {
	size_t len;
	struct {
		char key[128]; /* name{labels} */
		double value;
	} series[AG_SERIES_MAX];
};

/* Parses exposition text into `s`; fails the test on any line that is
 * not a HELP/TYPE comment or a sample of a family declared before it. */
void ag_metrics_parse(const char *text, struct ag_scrape *s);

/* The value of series `key` (name{labels}); fails the test when absent. */
double ag_metric(const struct ag_scrape *s, const char *key);

/* Every daemon's (AUTHGATE_TEST_FCGI_ALL) metrics, asked directly as a
 * loopback client, summed series by series: counters are per daemon. */
void ag_metrics_scrape_all(struct ag_scrape *sum);

#endif
