#include <criterion/criterion.h>
#include <stdio.h>

#include "cidr.h"
#include "unit.h"

static bool allowed(const char *list_text, const char *addr)
{
	struct cidr_list list;

	cr_assert(cidr_list_parse(list_text, &list), "parse %s", list_text);
	return cidr_list_contains(&list, addr, strlen(addr));
}

Test(cidr, default_loopback)
{
	const char *def = "127.0.0.0/8,::1";

	cr_expect(allowed(def, "127.0.0.1"));
	cr_expect(allowed(def, "127.255.1.2"));
	cr_expect(allowed(def, "::1"));
	cr_expect(allowed(def, "::ffff:127.0.0.1"), "IPv4-mapped loopback");
	cr_expect(!allowed(def, "128.0.0.1"));
	cr_expect(!allowed(def, "10.0.0.1"));
	cr_expect(!allowed(def, "::2"));
	cr_expect(!allowed(def, "fe80::1"));
}

Test(cidr, prefixes_at_bit_boundaries)
{
	cr_expect(allowed("10.1.2.0/23", "10.1.3.255"));
	cr_expect(!allowed("10.1.2.0/23", "10.1.4.0"));
	cr_expect(!allowed("10.1.2.0/23", "10.1.1.255"));
	cr_expect(allowed("0.0.0.0/0", "203.0.113.9"));
	cr_expect(!allowed("0.0.0.0/0", "2001:db8::1"), "families never mix");
	cr_expect(allowed("2001:db8::/33", "2001:db8:7fff::1"));
	cr_expect(!allowed("2001:db8::/33", "2001:db8:8000::1"));
	cr_expect(allowed("192.0.2.7", "192.0.2.7"), "a bare address is /32");
	cr_expect(!allowed("192.0.2.7", "192.0.2.6"));
	cr_expect(allowed("::ffff:192.0.2.0/120", "192.0.2.200"),
		  "mapped network counts the 96 mapping bits");
	cr_expect(allowed(" 10.0.0.1 , ::1 ", "10.0.0.1"), "spaces around items");
}

Test(cidr, none_allows_nobody)
{
	cr_expect(!allowed("none", "127.0.0.1"));
	cr_expect(!allowed("none", "::1"));
}

Test(cidr, bad_client_addresses_are_refused)
{
	struct cidr_list list;

	cr_assert(cidr_list_parse("0.0.0.0/0,::/0", &list));
	cr_expect(!cidr_list_contains(&list, NULL, 0));
	cr_expect(!cidr_list_contains(&list, S("")));
	cr_expect(!cidr_list_contains(&list, S("localhost")));
	cr_expect(!cidr_list_contains(&list, S("127.0.0.1\0")), "embedded NUL");
	cr_expect(!cidr_list_contains(&list, S("127.0.0.1 ")));
	cr_expect(!cidr_list_contains(&list, S("1.2.3.4.5")));
	cr_expect(!cidr_list_contains(
		&list, S("0000:0000:0000:0000:0000:0000:0000:0000:0000:0001")));
	/* A prefix of the text, not the whole, must not match. */
	cr_expect(cidr_list_contains(&list, "127.0.0.1xyz", 9));
}

Test(cidr, malformed_lists_are_rejected)
{
	static const char *const bad[] = {
		"", ",", "127.0.0.1,", ",::1", "127.0.0.0/", "127.0.0.0/33",
		"::1/129", "127.0.0.0/8/8", "127.0.0.0/-1", "127.0.0.0/08x",
		"localhost", "127.0.0.1/1000", "::ffff:1.2.3.4/95", "none,::1",
		"1.2.3", "300.1.1.1",
	};
	struct cidr_list list;

	for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++)
		cr_expect(!cidr_list_parse(bad[i], &list), "accepted \"%s\"",
			  bad[i]);
}

Test(cidr, at_most_cidr_list_max_items)
{
	char text[CIDR_LIST_MAX * 12 + 16] = "";
	struct cidr_list list;

	for (int i = 0; i < CIDR_LIST_MAX; i++)
		sprintf(text + strlen(text), "%s10.0.0.%d", i ? "," : "", i);
	cr_expect(cidr_list_parse(text, &list));
	cr_expect_eq(list.len, CIDR_LIST_MAX);
	strcat(text, ",10.0.1.1");
	cr_expect(!cidr_list_parse(text, &list));
}
