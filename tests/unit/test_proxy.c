#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "unit.h"

struct list_case {
	const char *text;
	enum parse_result result;
	size_t count;
};

static const struct list_case list_cases[] = {
	{"", PARSE_OK, 0},
	{" , ,\t", PARSE_OK, 0},
	{"192.0.2.7", PARSE_OK, 1},
	{"10.0.0.0/8", PARSE_OK, 1},
	{"10.0.0.0/8,192.168.0.0/16 172.16.0.0/12", PARSE_OK, 3},
	{"0.0.0.0/0", PARSE_OK, 1},
	{"::1", PARSE_OK, 1},
	{"2001:db8::/32, ::ffff:192.0.2.0/120", PARSE_OK, 2},
	{"::/0", PARSE_OK, 1},
	{"10.0.0.1/8", PARSE_INVALID, 0},    /* host bits set */
	{"10.0.0.0/33", PARSE_INVALID, 0},
	{"2001:db8::/129", PARSE_INVALID, 0},
	{"10.0.0.0/", PARSE_INVALID, 0},
	{"10.0.0.0/-1", PARSE_INVALID, 0},
	{"10.0.0.0/0008", PARSE_INVALID, 0},
	{"10.0.0.0/8/8", PARSE_INVALID, 0},
	{"10.0.0", PARSE_INVALID, 0},
	{"010.0.0.1", PARSE_INVALID, 0},
	{"localhost", PARSE_INVALID, 0},
	{"fe80::1%eth0", PARSE_INVALID, 0},
	{"[::1]", PARSE_INVALID, 0},
	{"192.0.2.7;10.0.0.0/8", PARSE_INVALID, 0},
	{"192.0.2.7, nonsense", PARSE_INVALID, 0},
};

static void check_list_table(const struct list_case *c)
{
	struct proxy_list list;
	size_t len = strlen(c->text);
	char *text = dup_exact(c->text, len);

	cr_expect_eq(proxy_list_parse(text, len, &list), c->result,
		     "\"%s\"", c->text);
	cr_expect_eq(list.count, c->count, "\"%s\"", c->text);
	free(text);
}

Test(proxy, list_table)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(list_cases); i++)
		check_list_table(&list_cases[i]);
}

Test(proxy, more_than_the_limit_is_too_long)
{
	char text[PROXY_NETS_MAX * 16 + 16] = "";
	struct proxy_list list;

	for (int i = 0; i <= PROXY_NETS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "10.0.%d.1,", i);
	cr_expect_eq(proxy_list_parse(text, strlen(text), &list), PARSE_TOO_LONG);
	cr_expect_eq(list.count, 0);
}

Test(proxy, a_nul_inside_is_invalid)
{
	struct proxy_list list;

	cr_expect_eq(proxy_list_parse(S("10.0.0.1\0"), &list), PARSE_INVALID);
}

struct contains_case {
	const char *addr;
	bool inside;
};

/* Against "10.0.0.0/8, 192.0.2.7, 172.16.0.0/12, 2001:db8::/33, ::1" */
static const struct contains_case contains_cases[] = {
	{"10.0.0.0", true},
	{"10.255.255.255", true},
	{"11.0.0.0", false},
	{"9.255.255.255", false},
	{"192.0.2.7", true},
	{"192.0.2.8", false},
	{"172.31.255.255", true},
	{"172.32.0.0", false},
	{"::ffff:10.1.2.3", true},   /* IPv4-mapped: the same address */
	{"2001:db8::1", true},
	{"2001:db8:7fff:ffff::1", true},
	{"2001:db8:8000::1", false},
	{"::1", true},
	{"::2", false},
	{"", false},
	{"unix:", false},
	{"10.0.0.1 ", false},
	{"10.0.0.1:80", false},
};

static void check_contains_table(const struct contains_case *c)
{
	struct proxy_list list;
	size_t len = strlen(c->addr);
	char *addr = dup_exact(c->addr, len);

	cr_assert_eq(proxy_list_parse(S("10.0.0.0/8, 192.0.2.7, 172.16.0.0/12, "
					"2001:db8::/33, ::1"), &list), PARSE_OK);
	cr_expect_eq(proxy_list_contains(&list, addr, len), c->inside, "%s",
		     c->addr);
	free(addr);
}

Test(proxy, contains_table)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(contains_cases); i++)
		check_contains_table(&contains_cases[i]);
}

struct client_case {
	const char *remote;
	const char *forwarded; /* NULL: no header */
	const char *client;
};

/* Trusted: 10.0.0.0/8 and 2001:db8::/32 */
static const struct client_case client_cases[] = {
	/* an untrusted peer's header is ignored, whatever it says */
	{"203.0.113.9", "198.51.100.1", "203.0.113.9"},
	{"203.0.113.9", "10.0.0.5", "203.0.113.9"},
	/* a trusted peer: the rightmost untrusted hop */
	{"10.0.0.1", "198.51.100.1", "198.51.100.1"},
	{"10.0.0.1", " 198.51.100.1 ", "198.51.100.1"},
	{"10.0.0.1", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
	{"10.0.0.1", "1.1.1.1, 198.51.100.1, 10.2.3.4", "198.51.100.1"},
	{"10.0.0.1", "1.1.1.1,198.51.100.1,\t10.2.3.4,10.9.9.9", "198.51.100.1"},
	{"10.0.0.1", "2001:db8::7, 2001:db9::1", "2001:db9::1"},
	{"2001:db8::1", "198.51.100.1", "198.51.100.1"},
	/* every hop trusted: the leftmost */
	{"10.0.0.1", "10.3.3.3, 10.2.2.2", "10.3.3.3"},
	/* garbage stops the walk at the hop a trusted proxy wrote */
	{"10.0.0.1", "unknown", "10.0.0.1"},
	{"10.0.0.1", "198.51.100.1, garbage, 10.2.2.2", "10.2.2.2"},
	{"10.0.0.1", "198.51.100.1:4711", "10.0.0.1"},
	{"10.0.0.1", "[2001:db9::1]", "10.0.0.1"},
	{"10.0.0.1", "198.51.100.1,", "10.0.0.1"},
	{"10.0.0.1", ",198.51.100.1", "198.51.100.1"},
	{"10.0.0.1", "", "10.0.0.1"},
	{"10.0.0.1", NULL, "10.0.0.1"},
};

static void check_client_table(const struct client_case *c)
{
	struct proxy_list list;
	size_t remote_len = strlen(c->remote);
	size_t fwd_len = c->forwarded ? strlen(c->forwarded) : 0;
	char *remote = dup_exact(c->remote, remote_len);
	char *fwd = c->forwarded ? dup_exact(c->forwarded, fwd_len) : NULL;
	const char *out;
	size_t out_len;

	cr_assert_eq(proxy_list_parse(S("10.0.0.0/8,2001:db8::/32"), &list),
		     PARSE_OK);
	proxy_client_addr(&list, remote, remote_len, fwd, fwd_len, &out,
			  &out_len);
	cr_expect(out_len == strlen(c->client) &&
		  memcmp(out, c->client, out_len) == 0,
		  "%s via %s: got \"%.*s\", expected %s", c->remote,
		  c->forwarded ? c->forwarded : "(none)", (int)out_len, out,
		  c->client);
	free(remote);
	free(fwd);
}

Test(proxy, client_table)
{
	for (size_t i = 0; i < AG_ARRAY_LEN(client_cases); i++)
		check_client_table(&client_cases[i]);
}

Test(proxy, no_trusted_proxies_ignores_the_header)
{
	struct proxy_list list;
	const char *out;
	size_t out_len;

	cr_assert_eq(proxy_list_parse(S(""), &list), PARSE_OK);
	proxy_client_addr(&list, S("127.0.0.1"), S("198.51.100.1"), &out,
			  &out_len);
	cr_expect(out_len == 9 && memcmp(out, "127.0.0.1", 9) == 0);
}
