#include "cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Longest textual IPv6 address (with an embedded IPv4 tail) plus NUL. */
#define ADDR_TEXT_MAX 46

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0, 0xff, 0xff};

/* Parses one address; IPv4-mapped IPv6 becomes IPv4. */
static bool parse_addr(const char *text, size_t len, int *family,
		       uint8_t addr[16])
{
	char copy[ADDR_TEXT_MAX];

	if (len == 0 || len >= sizeof(copy) || memchr(text, '\0', len))
		return false;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (inet_pton(AF_INET, copy, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, copy, addr) != 1)
		return false;
	*family = AF_INET6;
	if (memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	}
	return true;
}

static bool parse_item(const char *text, size_t len, struct cidr *out)
{
	const char *slash = memchr(text, '/', len);
	size_t addr_len = slash ? (size_t)(slash - text) : len;
	unsigned max;

	memset(out, 0, sizeof(*out));
	if (!parse_addr(text, addr_len, &out->family, out->addr))
		return false;
	max = out->family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash != NULL) {
		size_t digits = len - addr_len - 1;
		unsigned value = 0;

		if (digits == 0 || digits > 3)
			return false;
		for (size_t i = 1; i <= digits; i++) {
			if (slash[i] < '0' || slash[i] > '9')
				return false;
			value = value * 10 + (unsigned)(slash[i] - '0');
		}
		/* A mapped address's prefix counts the 96 mapping bits. */
		if (out->family == AF_INET && memchr(text, ':', addr_len)) {
			if (value < 96)
				return false;
			value -= 96;
		}
		if (value > max)
			return false;
		out->prefix = value;
	}
	return true;
}

bool cidr_list_parse(const char *text, struct cidr_list *out)
{
	const char *p = text;

	out->len = 0;
	if (strcmp(text, "none") == 0)
		return true;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *start = p, *end = p + len;

		while (start < end && *start == ' ')
			start++;
		while (end > start && end[-1] == ' ')
			end--;
		if (out->len == CIDR_LIST_MAX ||
		    !parse_item(start, (size_t)(end - start), &out->items[out->len]))
			return false;
		out->len++;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

static bool in_network(const struct cidr *net, int family,
		       const uint8_t addr[16])
{
	unsigned whole = net->prefix / 8, rest = net->prefix % 8;

	if (family != net->family || memcmp(addr, net->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((addr[whole] ^ net->addr[whole]) & (0xff << (8 - rest))) == 0;
}

bool cidr_list_contains(const struct cidr_list *list, const char *addr,
			size_t len)
{
	uint8_t bytes[16];
	int family;

	if (addr == NULL || !parse_addr(addr, len, &family, bytes))
		return false;
	for (size_t i = 0; i < list->len; i++) {
		if (in_network(&list->items[i], family, bytes))
			return true;
	}
	return false;
}
