/*
 * netaddr - addresses and network lists (see netaddr.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "util.h"

static const uint8_t v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

/* netaddr_parse - parse dotted quad or IPv6 text, brackets allowed */
int
netaddr_parse(const char *s, struct netaddr *a)
{
	char buf[64];
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return -1;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
	} else {
		memcpy(buf, s, len + 1);
	}
	/* "IPv6:" prefix as in Sendmail's {client_addr} */
	const char *p = buf;
	if (strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, p, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, p, a->addr) == 1) {
		a->family = AF_INET6;
		/* treat v4-mapped as the IPv4 address it carries */
		if (memcmp(a->addr, v4mapped, 12) == 0) {
			memmove(a->addr, a->addr + 12, 4);
			memset(a->addr + 4, 0, 12);
			a->family = AF_INET;
		}
		return 0;
	}
	return -1;
}

void
netaddr_format(const struct netaddr *a, char *buf, size_t size)
{
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)size) == NULL)
		util_strlcpy(buf, "?", size);
}

/* netnet_parse - one "addr[/prefix]" item */
static int
netnet_parse(char *item, struct netnet *n, char *err, size_t errlen)
{
	char *slash = strrchr(item, '/');
	int max;

	if (slash)
		*slash = '\0';
	if (netaddr_parse(item, &n->addr) != 0) {
		snprintf(err, errlen, "bad network address \"%s\"", item);
		return -1;
	}
	max = n->addr.family == AF_INET ? 32 : 128;
	n->prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || p < 0 || p > max) {
			snprintf(err, errlen, "bad prefix length \"/%s\" for %s",
				 slash + 1, item);
			return -1;
		}
		n->prefix = (int)p;
	}
	return 0;
}

/* netlist_parse - comma or space separated networks */
int
netlist_parse(const char *text, struct netlist *list, char *err, size_t errlen)
{
	char *copy = xstrdup(text), *save = NULL, *item;
	struct netlist out = { NULL, 0 };

	for (item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save)) {
		struct netnet n;

		if (netnet_parse(item, &n, err, errlen) != 0) {
			free(copy);
			free(out.nets);
			return -1;
		}
		out.nets = xrealloc(out.nets, (out.count + 1) * sizeof(n));
		out.nets[out.count++] = n;
	}
	free(copy);
	*list = out;
	return 0;
}

void
netlist_free(struct netlist *list)
{
	free(list->nets);
	list->nets = NULL;
	list->count = 0;
}

/* prefix_match - compare the first bits of two addresses */
static int
prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

int
netlist_match(const struct netlist *list, const struct netaddr *a)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct netnet *n = &list->nets[i];

		if (n->addr.family == a->family &&
		    prefix_match(n->addr.addr, a->addr, n->prefix))
			return 1;
	}
	return 0;
}

int
netaddr_reverse(const struct netaddr *a, const char *suffix, char *out,
		size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int n;

	if (a->family == AF_INET) {
		n = snprintf(out, size, "%u.%u.%u.%u.%s", a->addr[3],
			     a->addr[2], a->addr[1], a->addr[0], suffix);
		return n < 0 || (size_t)n >= size ? -1 : 0;
	}
	if (a->family != AF_INET6 || size < 65)
		return -1;
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[a->addr[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a->addr[i] >> 4];
		out[o++] = '.';
	}
	n = snprintf(out + o, size - o, "%s", suffix);
	return n < 0 || (size_t)n >= size - o ? -1 : 0;
}
