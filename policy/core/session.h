/*
 * session - one SMTP connection, as the checks see it.
 *
 * It holds what lasts as long as the connection: the configuration it
 * started with (a reference), the client, the HELO name, and the results
 * of the connection stages (a malformed client address, later a DNS
 * blocklist hit or a rate limit), which reach the verdict and the summary
 * line of every transaction on the connection.  The current transaction
 * (txn.h) hangs off it.  Every string from the client is bounded.
 * Nothing here knows about libmilter.
 */
#ifndef RG_SESSION_H
#define RG_SESSION_H

#include "conf.h"
#include "netaddr.h"
#include "symbols.h"

struct txn;

/* state a check keeps for the connection (the DNS blocklists' queries) */
enum session_slot { SESSION_SLOT_DNSBL, SESSION_NSLOTS };

struct session_slot_state {
	void	*data;
	void	(*free)(void *);
};

struct session {
	struct conf	*conf;		/* held reference */
	char		*client_addr;	/* text form, "" if unknown */
	struct netaddr	client;
	int		have_client;
	char		*client_name;
	char		*helo;
	struct symbols	symbols;	/* connection-stage results */
	struct txn	*txn;		/* current transaction, or NULL */
	unsigned	ntxn;		/* transactions begun so far */
	struct session_slot_state slot[SESSION_NSLOTS];
};

/* session_new - a connection's object, holding a reference to conf */
struct session *session_new(struct conf *);
/* session_free - end any transaction, release everything */
void session_free(struct session *);
void session_set_client(struct session *, const char *addr, const char *name);
void session_set_helo(struct session *, const char *);
/*
 * session_txn - the current transaction, begun when there is none (the
 * MTA sends the MAIL FROM macros before the MAIL FROM step itself)
 */
struct txn *session_txn(struct session *);
/* session_end_txn - forget the current transaction, whatever ended it */
void session_end_txn(struct session *);
/*
 * session_set_macro - record an MTA macro ("i", "{auth_authen}",
 * "{client_addr}" ...; braces optional) where it belongs.  Unknown names
 * are ignored; a malformed value (too long, control characters) is
 * dropped with a MACRO_MALFORMED symbol.
 */
void session_set_macro(struct session *, const char *name, const char *value);
/* session_set_slot - a check's state for the connection (old one freed) */
void session_set_slot(struct session *, enum session_slot, void *data,
		      void (*free_fn)(void *));
/* session_slot - that state, or NULL */
void *session_slot(const struct session *, enum session_slot);

#endif
