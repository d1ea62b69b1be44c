/*
 * fuzz_netaddr - netaddr_parse() and netlist_parse() (policy/lib/netaddr.c),
 * the parsers behind trusted_networks, resolver addresses and client
 * addresses from the MTA.
 *
 * Feeds: the input, cut at its first NUL, to netaddr_parse() and to
 * netlist_parse() (with a normal and a one-byte error buffer).
 *
 * Invariants beyond "no crash, no leak":
 *   - a parsed address is AF_INET or AF_INET6, an IPv4 one uses only 4
 *     bytes, and never an IPv4-mapped IPv6 address (those are folded);
 *     netaddr_format() then netaddr_parse() gives the same address back;
 *   - a parsed list: every prefix in 0..32 (IPv4) or 0..128 (IPv6), each
 *     network matches its own address, and the list printed as
 *     "addr/prefix ..." parses back to the same list;
 *   - a refused list leaves a non-empty err and the list untouched.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "netaddr.h"
#include "util.h"

static const uint8_t v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

static int
same_addr(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

static void
check_addr(const struct netaddr *a, const char *what)
{
	struct netaddr back;
	char text[64];
	static const uint8_t zero[12];

	FZ_CHECK(a->family == AF_INET || a->family == AF_INET6,
		 "%s: family %d", what, a->family);
	if (a->family == AF_INET)
		FZ_CHECK(memcmp(a->addr + 4, zero, 12) == 0,
			 "%s: IPv4 with bytes past 4", what);
	else
		FZ_CHECK(memcmp(a->addr, v4mapped, 12) != 0,
			 "%s: IPv4-mapped address not folded", what);
	netaddr_format(a, text, sizeof(text));
	FZ_CHECK(netaddr_parse(text, &back) == 0, "%s: formatted \"%s\" does "
		 "not parse", what, text);
	FZ_CHECK(same_addr(a, &back), "%s: \"%s\" parses to another address",
		 what, text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_strndup(data, size);
	struct netaddr a;
	struct netlist list = { NULL, 0 }, back, untouched;
	char err[256] = "", tiny[1];
	struct sbuf text;
	int rc;

	if (netaddr_parse(s, &a) == 0)
		check_addr(&a, "netaddr_parse");

	rc = netlist_parse(s, &list, err, sizeof(err));
	if (rc != 0) {
		FZ_CHECK(rc == -1, "netlist_parse returned %d", rc);
		FZ_CHECK(err[0] != '\0', "refused without a reason");
		FZ_CHECK(list.nets == NULL && list.count == 0,
			 "refused list was changed");
		free(s);
		return 0;
	}
	sbuf_init(&text);
	for (size_t i = 0; i < list.count; i++) {
		const struct netnet *n = &list.nets[i];
		char t[64];

		check_addr(&n->addr, "netlist item");
		FZ_CHECK(n->prefix >= 0 && n->prefix <=
			 (n->addr.family == AF_INET ? 32 : 128),
			 "item %zu: prefix %d", i, n->prefix);
		FZ_CHECK(netlist_match(&list, &n->addr),
			 "item %zu does not match its own address", i);
		netaddr_format(&n->addr, t, sizeof(t));
		sbuf_printf(&text, "%s%s/%d", i ? ", " : "", t, n->prefix);
	}
	FZ_CHECK(netlist_parse(text.data ? text.data : "", &back, err,
			       sizeof(err)) == 0,
		 "printed list \"%s\" does not parse: %s", text.data, err);
	FZ_CHECK(back.count == list.count, "printed list has %zu items, not "
		 "%zu", back.count, list.count);
	for (size_t i = 0; i < list.count; i++)
		FZ_CHECK(same_addr(&back.nets[i].addr, &list.nets[i].addr) &&
			 back.nets[i].prefix == list.nets[i].prefix,
			 "item %zu differs after printing", i);
	netlist_free(&back);
	sbuf_free(&text);

	/* a one-byte error buffer must be enough to fail safely */
	untouched.nets = NULL;
	untouched.count = 0;
	if (netlist_parse(s, &untouched, tiny, sizeof(tiny)) == 0)
		netlist_free(&untouched);
	netlist_free(&list);
	free(s);
	return 0;
}
