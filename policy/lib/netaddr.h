/*
 * netaddr - IPv4/IPv6 addresses and CIDR network lists.
 *
 * A list is parsed from text like "127.0.0.0/8, [::1]/128 192.0.2.7":
 * separators are commas and white space, IPv6 may be bracketed as in
 * Postfix's mynetworks.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match
 * IPv4 networks.
 */
#ifndef RG_NETADDR_H
#define RG_NETADDR_H

#include <stddef.h>
#include <stdint.h>

struct netaddr {
	int	family;		/* AF_INET or AF_INET6 */
	uint8_t	addr[16];	/* network byte order; 4 bytes used for IPv4 */
};

struct netnet {
	struct netaddr	addr;
	int		prefix;
};

struct netlist {
	struct netnet	*nets;
	size_t		count;
};

/* netaddr_parse - text address to netaddr; 0 on success, -1 if bad */
int netaddr_parse(const char *, struct netaddr *);
/* netaddr_format - netaddr to text (INET6_ADDRSTRLEN bytes suffice) */
void netaddr_format(const struct netaddr *, char *, size_t);
/*
 * netaddr_reverse - the address as DNS labels in reverse, then suffix
 * (RFC 5782, RFC 3596): IPv4 "4.3.2.1.SUFFIX", IPv6 32 nibbles
 * "b.a.9.8...SUFFIX" (an IPv4-mapped IPv6 address as IPv6: callers that
 * want its IPv4 name pass that); 0, or -1 when out is too small
 */
int netaddr_reverse(const struct netaddr *, const char *suffix, char *out,
		    size_t size);
/* netlist_parse - parse a list; on error writes why into err, returns -1 */
int netlist_parse(const char *, struct netlist *, char *err, size_t errlen);
void netlist_free(struct netlist *);
/* netlist_match - does the address fall in one of the networks */
int netlist_match(const struct netlist *, const struct netaddr *);

#endif
