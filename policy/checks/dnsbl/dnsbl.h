/*
 * dnsbl - DNS blocklists of the client address, the HELO name, the
 * sender domain and the message's links (URIBL), through the shared
 * resolver, every lookup of a stage at once, within dnsbl_timeout.
 *
 * Lists come from the configuration (dnsbl_list lines, dnslist.h): each
 * answer code names a symbol of the list's own with its weight; an answer
 * meaning "query refused" is DNSBL_BLOCKED, a lookup that times out or
 * fails (or an answer outside 127/8) DNSBL_ERROR, both weight 0, never a
 * listing and never a tempfail.
 *
 * Stages:
 *   connect   the client's lookups are sent (not for trusted_networks);
 *             with dnsbl_reject_stage = connect they are collected at
 *             once and a listed client on a reject list is refused
 *   HELO      the HELO name's lookups are sent
 *   MAIL FROM the sender domain's lookups are sent (inbound)
 *   RCPT      the client's results are collected (once a connection,
 *             into the session's symbols); a client a reject list lists
 *             is refused there (DNSBL_REJECT), unless the transaction
 *             is outbound (authenticated, trusted)
 *   end of message  the client's (if not yet) and the HELO's results
 *             into the session's symbols, the sender's into the
 *             message's; then the links of the transaction's one MIME
 *             walk (txn_mime) are looked up and collected; before the
 *             spam check, which sums every score
 * At most dnsbl_max_queries lookups a message (the sender and links).
 */
#ifndef RG_DNSBL_H
#define RG_DNSBL_H

#include <stddef.h>

struct conf;
struct session;
struct symbols;
struct txn;
struct txn_rcpt;

int dnsbl_enabled(const struct conf *);
void dnsbl_connect(struct session *);
void dnsbl_helo(struct session *);
void dnsbl_mail(struct txn *);
void dnsbl_rcpt(struct txn *, struct txn_rcpt *, struct symbols *);
void dnsbl_eom(struct txn *);

/*
 * dnsbl_uri_item - what a URI list is asked for a link's host (lowercase,
 * as mime.c keeps it): an IPv4 address as is (the caller reverses it),
 * else the registered domain by the Public Suffix List, an IDN as its
 * A-label.  0 and the item in out (is_ip set for an address); -1 when the
 * host is not looked up (an IPv6 literal, a public suffix, one label, no
 * host name), with why.
 */
int dnsbl_uri_item(const char *host, char *out, size_t size, int *is_ip,
		   const char **why);
/* dnsbl_psl_init - load the Public Suffix List from path (once) */
void dnsbl_psl_init(const char *path);

#endif
