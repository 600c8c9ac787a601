#include "proxy.h"

#include <arpa/inet.h>
#include <string.h>

/* Longest text form of an IPv6 address (INET6_ADDRSTRLEN without NUL). */
#define ADDR_TEXT_MAX 45

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses one address into the IPv4-mapped IPv6 form; `*v4` tells which
 * family it was written in. */
static bool parse_addr(const char *s, size_t len, uint8_t out[16], bool *v4)
{
	char text[ADDR_TEXT_MAX + 1];
	struct in_addr a4;

	if (len == 0 || len > ADDR_TEXT_MAX || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, &a4) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
						   0, 0, 0, 0, 0xff, 0xff};

		memcpy(out, mapped, sizeof(mapped));
		memcpy(out + 12, &a4, 4);
		*v4 = true;
		return true;
	}
	*v4 = false;
	return inet_pton(AF_INET6, text, out) == 1;
}

static bool in_net(const struct proxy_net *net, const uint8_t addr[16])
{
	unsigned full = net->bits / 8, rest = net->bits % 8;

	if (memcmp(net->addr, addr, full) != 0)
		return false;
	return rest == 0 ||
	       ((net->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* "ADDR" or "ADDR/BITS" with no host bits set. */
static bool parse_net(const char *s, size_t len, struct proxy_net *net)
{
	const char *slash = memchr(s, '/', len);
	size_t addr_len = slash ? (size_t)(slash - s) : len;
	unsigned bits = 0, max;
	bool v4;

	if (!parse_addr(s, addr_len, net->addr, &v4))
		return false;
	max = v4 ? 32 : 128;
	if (slash == NULL) {
		bits = max;
	} else {
		size_t digits = len - addr_len - 1;

		if (digits == 0 || digits > 3)
			return false;
		for (size_t i = 0; i < digits; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9')
				return false;
			bits = bits * 10 + (unsigned)(slash[1 + i] - '0');
		}
		if (bits > max)
			return false;
	}
	net->bits = v4 ? bits + 96 : bits;
	for (unsigned i = net->bits; i < 128; i++) {
		if (net->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	}
	return true;
}

enum parse_result proxy_list_parse(const char *s, size_t len,
				   struct proxy_list *out)
{
	size_t i = 0;

	out->count = 0;
	while (i < len) {
		size_t start;

		if (is_blank(s[i]) || s[i] == ',') {
			i++;
			continue;
		}
		start = i;
		while (i < len && !is_blank(s[i]) && s[i] != ',')
			i++;
		if (out->count == PROXY_NETS_MAX) {
			out->count = 0;
			return PARSE_TOO_LONG;
		}
		if (!parse_net(s + start, i - start, &out->nets[out->count])) {
			out->count = 0;
			return PARSE_INVALID;
		}
		out->count++;
	}
	return PARSE_OK;
}

static bool contains_parsed(const struct proxy_list *list, const uint8_t addr[16])
{
	for (size_t i = 0; i < list->count; i++) {
		if (in_net(&list->nets[i], addr))
			return true;
	}
	return false;
}

bool proxy_list_contains(const struct proxy_list *list, const char *addr,
			 size_t len)
{
	uint8_t parsed[16];
	bool v4;

	return addr != NULL && parse_addr(addr, len, parsed, &v4) &&
	       contains_parsed(list, parsed);
}

void proxy_client_addr(const struct proxy_list *list, const char *remote,
		       size_t remote_len, const char *forwarded,
		       size_t forwarded_len, const char **out, size_t *out_len)
{
	size_t end = forwarded_len;

	*out = remote;
	*out_len = remote_len;
	if (forwarded == NULL || !proxy_list_contains(list, remote, remote_len))
		return;
	/* From the right: each hop was appended by the proxy after it, and
	 * only a trusted proxy's word counts. */
	while (end > 0) {
		size_t start = end, hop_end = end;
		uint8_t parsed[16];
		bool v4;

		while (start > 0 && forwarded[start - 1] != ',')
			start--;
		end = start > 0 ? start - 1 : 0;
		while (hop_end > start && is_blank(forwarded[hop_end - 1]))
			hop_end--;
		while (start < hop_end && is_blank(forwarded[start]))
			start++;
		if (!parse_addr(forwarded + start, hop_end - start, parsed, &v4))
			return;
		*out = forwarded + start;
		*out_len = hop_end - start;
		if (!contains_parsed(list, parsed))
			return;
	}
}
