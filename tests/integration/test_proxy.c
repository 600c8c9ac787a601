/*
 * --trusted-proxies through nginx. The test stack's daemons trust
 * 127.1.0.0/16 (scripts/dev); every other test client talks from a random
 * 127.x.y.z outside it. A client from 127.1.x.y plays a load balancer in
 * front of nginx: its X-Forwarded-For names the client. Anyone else's
 * X-Forwarded-For is ignored, so forging it dodges no per-address limit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(proxy_headers, .timeout = AG_TIMEOUT);

/* A random address in 100.64.0.0/10 (shared address space): no test
 * client uses it. */
static void random_client_addr(char *out, size_t cap)
{
	char hex[5];

	ag_random_hex(hex, 2);
	snprintf(out, cap, "100.%lu.%lu.%lu", 64 + strtoul(hex + 2, NULL, 16) % 64,
		 strtoul((char[]){hex[0], hex[1], 0}, NULL, 16),
		 1 + strtoul((char[]){hex[2], hex[3], 0}, NULL, 16) % 250);
}

/* Makes `c` talk from inside the trusted 127.1.0.0/16. */
static void become_trusted_proxy(struct ag_client *c)
{
	char hex[5];

	ag_random_hex(hex, 2);
	snprintf(c->source, sizeof(c->source), "127.1.%lu.%lu",
		 strtoul((char[]){hex[0], hex[1], 0}, NULL, 16) % 250 + 2,
		 strtoul((char[]){hex[2], hex[3], 0}, NULL, 16) % 250 + 2);
}

/* A failed login posted with `X-Forwarded-For: forwarded`; returns the
 * status. */
static long failed_login(struct ag_client *c, const char *username,
			 const char *forwarded)
{
	char *token = ag_csrf_token(c);
	char *body = ag_form("csrf_token", token, "username", username,
			     "password", "not the password", NULL);
	char *xff = ag_strf("X-Forwarded-For: %s", forwarded);
	const char *const headers[] = {xff, NULL};
	struct ag_response r;
	long status;

	ag_post_form(c, "/auth/login", body, headers, &r);
	status = r.status;
	ag_response_free(&r);
	free(xff);
	free(body);
	free(token);
	return status;
}

static char *last_failure_addr(const char *username)
{
	return ag_sql_value("SELECT coalesce(host(client_addr), 'null') FROM "
			    "authgate.events WHERE event = 'login_failed' AND "
			    "username = $1 ORDER BY id DESC LIMIT 1", 1,
			    username);
}

Test(proxy_headers, trusted_proxy_forwarded_address_is_counted)
{
	struct ag_client lb;
	struct ag_user u;
	char client[20], *addr, *chain;

	ag_user_new(&u, "xff_trusted");
	ag_client_init(&lb);
	become_trusted_proxy(&lb);
	random_client_addr(client, sizeof(client));

	cr_expect_eq(failed_login(&lb, u.name, client), 401);
	addr = last_failure_addr(u.name);
	cr_expect_str_eq(addr, client, "the event holds %s, not the forwarded %s",
			 addr, client);
	free(addr);
	cr_expect_eq(ag_sql_int("SELECT coalesce(sum(failures), 0) FROM "
				"authgate.login_failures WHERE scope = 'addr' "
				"AND key = $1", 1, client), 1,
		     "the forwarded address's counter");
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.login_failures "
				"WHERE scope = 'addr' AND key = $1", 1, lb.source),
		     0, "the proxy itself was counted");

	/* a chain: the rightmost hop outside the trusted networks; what the
	 * client wrote before it does not matter */
	chain = ag_strf("6.6.6.6, %s, 127.1.200.200", client);
	cr_expect_eq(failed_login(&lb, u.name, chain), 401);
	addr = last_failure_addr(u.name);
	cr_expect_str_eq(addr, client, "chain %s gave %s", chain, addr);
	free(addr);
	free(chain);

	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN ($1, lower($2))",
		    2, client, u.name);
	ag_client_free(&lb);
}

Test(proxy_headers, forged_forwarded_for_dodges_nothing)
{
	struct ag_client c;
	struct ag_user u;
	char forged[20], *addr;

	ag_user_new(&u, "xff_forged");
	ag_client_init(&c);
	for (int i = 0; i < 3; i++) {
		random_client_addr(forged, sizeof(forged));
		cr_expect_eq(failed_login(&c, u.name, forged), 401);
		addr = last_failure_addr(u.name);
		cr_expect_str_eq(addr, c.source,
				 "an untrusted peer's X-Forwarded-For %s was "
				 "believed (%s)", forged, addr);
		free(addr);
		cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.login_failures "
					"WHERE key = $1", 1, forged), 0);
	}
	cr_expect_eq(ag_sql_int("SELECT failures FROM authgate.login_failures "
				"WHERE scope = 'addr' AND key = $1", 1, c.source),
		     3, "every failure counts against the real address");
	ag_sql_exec("DELETE FROM authgate.login_failures WHERE key IN ($1, lower($2))",
		    2, c.source, u.name);
	ag_client_free(&c);
}

/* /auth/check (HTTP to the daemon) sees the forwarded address too: a
 * session used from another network through the proxy trips session
 * protection, recorded under the forwarded address. */
Test(proxy_headers, check_sees_the_forwarded_address)
{
	struct ag_client lb;
	struct ag_user u;
	char first[20], second[20], *xff, *value;
	struct ag_response r;

	ag_user_new(&u, "xff_check");
	ag_client_init(&lb);
	become_trusted_proxy(&lb);
	random_client_addr(first, sizeof(first));
	do
		random_client_addr(second, sizeof(second));
	while (strncmp(first, second, strrchr(first, '.') - first) == 0);

	xff = ag_strf("X-Forwarded-For: %s", first);
	{
		char *token = ag_csrf_token(&lb);
		char *body = ag_form("csrf_token", token, "username", u.name,
				     "password", u.password, NULL);
		const char *const headers[] = {xff, NULL};

		ag_post_form(&lb, "/auth/login", body, headers, &r);
		cr_assert_eq(r.status, 303, "login: %ld", r.status);
		ag_response_free(&r);
		free(body);
		free(token);
	}
	value = ag_sql_value("SELECT host(client_addr) FROM authgate.sessions "
			     "WHERE user_id = $1::bigint", 1, u.id);
	cr_expect_str_eq(value, first, "the session's address");
	free(value);
	{
		const char *const same[] = {xff, NULL};

		ag_get_with(&lb, "/", same, &r);
		cr_expect_eq(r.status, 200);
		ag_response_free(&r);
	}
	cr_expect_eq(ag_sql_int("SELECT count(*) FROM authgate.events WHERE "
				"event = 'session_protection' AND user_id = $1::bigint",
				1, u.id), 0, "the same forwarded client was taken for another");
	free(xff);
	xff = ag_strf("X-Forwarded-For: %s", second);
	{
		const char *const other[] = {xff, NULL};

		ag_get_with(&lb, "/", other, &r);
		cr_expect_eq(r.status, 200);
		ag_response_free(&r);
	}
	value = ag_sql_value("SELECT coalesce(host(client_addr), 'null') FROM "
			     "authgate.events WHERE event = 'session_protection' "
			     "AND user_id = $1::bigint", 1, u.id);
	cr_expect_str_eq(value, second, "the check saw %s, not the forwarded address",
			 value);
	free(value);
	free(xff);
	ag_client_free(&lb);
}
