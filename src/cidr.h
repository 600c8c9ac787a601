/* Address allow-lists such as "127.0.0.0/8,::1" (for --metrics-allow). */
#ifndef AUTHGATE_CIDR_H
#define AUTHGATE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define CIDR_LIST_MAX 32

struct cidr {
	int family;        /* AF_INET or AF_INET6 */
	unsigned prefix;   /* leading bits that must match */
	uint8_t addr[16];  /* network byte order; 4 used for AF_INET */
};

struct cidr_list {
	size_t len;
	struct cidr items[CIDR_LIST_MAX];
};

/*
 * Parses comma-separated addresses or networks (ADDR or ADDR/PREFIX, IPv4
 * or IPv6; spaces around items allowed). "none" gives an empty list that
 * allows nobody. False on any malformed item or more than CIDR_LIST_MAX.
 */
bool cidr_list_parse(const char *text, struct cidr_list *out) AG_MUST_CHECK;

/*
 * True when the textual address `addr` (`len` bytes, not NUL-terminated)
 * lies in one of the networks. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is matched as the IPv4 address it carries.
 */
bool cidr_list_contains(const struct cidr_list *list, const char *addr,
			size_t len);

#endif
