#include "metrics_scrape.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "harness.h"

/* The family a series belongs to: its name less a histogram suffix. */
static void family_of(const char *key, char *out, size_t cap)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	size_t len = strcspn(key, "{");

	snprintf(out, cap, "%.*s", (int)len, key);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);

		if (len > n && strcmp(out + len - n, suffixes[i]) == 0 &&
		    strncmp(out, "authgate_check_duration_seconds", len - n) == 0)
			out[len - n] = '\0';
	}
}

void ag_metrics_parse(const char *text, struct ag_scrape *s)
{
	char types[AG_SERIES_MAX][96];
	size_t ntypes = 0;

	s->len = 0;
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		char copy[256], family[96], *space, *end;

		cr_assert(line[len] == '\n', "last line without newline");
		cr_assert(len < sizeof(copy), "line too long");
		memcpy(copy, line, len);
		copy[len] = '\0';
		line += len + 1;
		if (strncmp(copy, "# TYPE ", 7) == 0) {
			cr_assert(ntypes < AG_SERIES_MAX);
			cr_assert(sscanf(copy + 7, "%95s", types[ntypes]) == 1);
			ntypes++;
			continue;
		}
		if (strncmp(copy, "# HELP ", 7) == 0)
			continue;
		cr_assert(isalpha((unsigned char)copy[0]), "bad line: %s", copy);
		space = strrchr(copy, ' ');
		cr_assert(space != NULL, "no value: %s", copy);
		*space = '\0';
		cr_assert(s->len < AG_SERIES_MAX);
		cr_assert(strlen(copy) < sizeof(s->series[0].key));
		strcpy(s->series[s->len].key, copy);
		s->series[s->len].value = strtod(space + 1, &end);
		cr_assert(*end == '\0' && end != space + 1, "bad value: %s",
			  space + 1);
		family_of(copy, family, sizeof(family));
		bool declared = false;

		for (size_t i = 0; i < ntypes; i++)
			declared = declared || strcmp(types[i], family) == 0;
		cr_assert(declared, "sample before its TYPE line: %s", copy);
		s->len++;
	}
}

double ag_metric(const struct ag_scrape *s, const char *key)
{
	for (size_t i = 0; i < s->len; i++) {
		if (strcmp(s->series[i].key, key) == 0)
			return s->series[i].value;
	}
	cr_assert_fail("series %s missing from the scrape", key);
	return 0;
}

/* The metrics of the daemon at `addr`, asked as a loopback client. */
static void scrape_daemon(const char *addr, struct ag_scrape *s)
{
	static const char *const params[] = {
		"AUTHGATE_ENDPOINT", "metrics", "REQUEST_METHOD", "GET",
		"REQUEST_URI", "/auth/metrics", "REMOTE_ADDR", "127.0.0.1", NULL,
	};
	struct ag_fcgi_answer a;
	int fd = ag_fcgi_connect(addr);
	const char *body;

	ag_fcgi_send_request(fd, 1, false, params);
	ag_fcgi_read_answer(fd, 1, &a);
	close(fd);
	cr_assert(a.ended, "no answer from %s", addr);
	ag_bytes_add(&a.out, "", 1);
	cr_assert(strncmp((char *)a.out.data, "Status: 200", 11) == 0,
		  "metrics refused: %.200s", (char *)a.out.data);
	body = strstr((char *)a.out.data, "\r\n\r\n");
	cr_assert_not_null(body);
	ag_metrics_parse(body + 4, s);
	free(a.out.data);
}

void ag_metrics_scrape_all(struct ag_scrape *sum)
{
	char *list = strdup(ag_env("AUTHGATE_TEST_FCGI_ALL")), *save = NULL;
	int daemons = 0;

	sum->len = 0;
	for (char *addr = strtok_r(list, " ", &save); addr != NULL;
	     addr = strtok_r(NULL, " ", &save)) {
		struct ag_scrape one;

		scrape_daemon(addr, &one);
		if (daemons++ == 0) {
			*sum = one;
			continue;
		}
		cr_assert_eq(one.len, sum->len, "daemons differ in series");
		for (size_t i = 0; i < one.len; i++)
			sum->series[i].value += ag_metric(&one, sum->series[i].key);
	}
	cr_assert(daemons > 0);
	free(list);
}
