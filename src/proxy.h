/*
 * Trusted reverse proxies: the --trusted-proxies list (addresses and CIDR
 * networks) and the client address of a request that came through them
 * (X-Forwarded-For). Pure: no I/O, no allocation.
 */
#ifndef AUTHGATE_PROXY_H
#define AUTHGATE_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* More proxies than any real chain has; a longer list is an error. */
#define PROXY_NETS_MAX 32

/* An IPv4 network is stored as its IPv4-mapped IPv6 network (::ffff:0:0/96),
 * so one comparison serves both families. */
struct proxy_net {
	uint8_t addr[16];
	unsigned bits;
};

struct proxy_list {
	size_t count;
	struct proxy_net nets[PROXY_NETS_MAX];
};

/*
 * Parses a list such as "10.0.0.0/8, 192.0.2.7 2001:db8::/32": IPv4 or
 * IPv6 addresses or networks, separated by commas and/or blanks. A network
 * with host bits set ("10.0.0.1/8", usually a typo) is PARSE_INVALID. An
 * empty or blank string is an empty list (nothing trusted). PARSE_TOO_LONG
 * beyond PROXY_NETS_MAX entries.
 */
enum parse_result proxy_list_parse(const char *s, size_t len,
				   struct proxy_list *out) AG_MUST_CHECK;

/* True when `addr` (text, e.g. "192.0.2.7") is an address inside one of the
 * list's networks; false for anything that is not an address. */
bool proxy_list_contains(const struct proxy_list *list, const char *addr,
			 size_t len);

/*
 * The client's address. It is `remote` (the direct peer) unless that peer
 * is a trusted proxy and `forwarded` (the X-Forwarded-For value, NULL when
 * absent) names earlier hops: then it is the rightmost hop that is not a
 * trusted proxy, or the leftmost hop when every one is. A hop that is not
 * an address (garbage, a port, an obfuscated name) ends the walk at the hop
 * to its right, which a trusted proxy wrote, so a client can never choose
 * the address it is counted under. `*out` borrows from `remote` or
 * `forwarded`.
 */
void proxy_client_addr(const struct proxy_list *list, const char *remote,
		       size_t remote_len, const char *forwarded,
		       size_t forwarded_len, const char **out, size_t *out_len);

#endif
