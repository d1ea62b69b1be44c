/*
 * txn - one mail transaction (MAIL FROM to end of message or abort).
 *
 * It holds the transaction's macros, the envelope with one record per
 * recipient (a recipient can be refused while the others go on), the
 * header fields, the spool (the message as received), sizes, the
 * message's results (symbols) and the header text the checks want
 * added.  It is freed when the transaction ends, whatever ends it, and
 * the spool with it.  Envelope addresses are kept whole up to
 * TXN_ADDR_MAX; a longer one is never cut (a cut address could lose its
 * domain): it is marked, and refused by the checks.
 */
#ifndef RG_TXN_H
#define RG_TXN_H

#include <stddef.h>

#include "conf.h"
#include "spool.h"
#include "symbols.h"
#include "util.h"

#define TXN_MACRO_MAX	512	/* longest macro value kept */
#define TXN_ADDR_MAX	4096	/* longest envelope address kept */
#define TXN_RCPT_MAX	1000	/* recipients kept (more are only counted) */
#define TXN_HEADERS_MAX	4096	/* header fields per message */

struct mime_doc;
struct mime_limits;
struct session;

enum txn_mode { TXN_INBOUND, TXN_OUTBOUND };

struct txn_header {
	char	*name;		/* points into the same allocation as value */
	char	*value;		/* leading white space removed */
	int	index;		/* 1-based among fields of the same name */
};

struct txn_rcpt {
	char	*addr;		/* without angle brackets */
	int	overlong;	/* longer than TXN_ADDR_MAX: addr is "" */
	int	refused;	/* refused at RCPT; the rest go on */
};

/* a header a check wants added at the top (Received-SPF) */
struct txn_trace {
	char	*name;
	char	*value;
};

/*
 * state a check keeps for one transaction (DKIM's library handles and
 * results), freed with the transaction by the check's own function
 */
enum txn_slot { TXN_SLOT_DKIM_VERIFY, TXN_SLOT_DKIM_SIGN, TXN_SLOT_DNSBL,
		TXN_SLOT_MIME, TXN_NSLOTS };

struct txn_slot_state {
	void	*data;
	void	(*free)(void *);
};

struct txn {
	struct session	*sess;
	struct conf	*conf;		/* the session's */
	char		*queue_id;	/* {i}, "" until known */
	char		*auth_authen;	/* {auth_authen}, "" if not authenticated */
	char		*auth_type;
	char		*mail_from;	/* without angle brackets, "" for <> */
	int		mail_overlong;	/* MAIL FROM over TXN_ADDR_MAX */
	int		have_mail;
	long long	declared_size;	/* ESMTP SIZE=, -1 if none */
	struct txn_rcpt	*rcpts;
	size_t		nrcpts;		/* kept */
	size_t		rcpt_total;	/* seen */
	size_t		rcpt_refused;
	struct txn_header *headers;
	size_t		nheaders;
	long long	header_bytes;
	long long	body_bytes;
	long long	size;		/* header_bytes + body_bytes */
	enum txn_mode	mode;
	struct symbols	symbols;
	struct txn_trace *traces;	/* trace headers from the checks */
	size_t		ntraces;
	struct txn_trace *sigs;		/* DKIM-Signature: above all others */
	size_t		nsigs;
	const char	*strip[8];	/* names whose incoming fields go */
	size_t		nstrip;
	struct txn_slot_state slot[TXN_NSLOTS];
	struct sbuf	auth_results;	/* "spf=pass smtp.mailfrom=a@b"; ... */
	/* SPF's outcome for DMARC's SPF alignment (set by spfcheck.c) */
	char		spf_result[16];	/* "pass", "fail" ...; "" unchecked */
	char		spf_domain[256];	/* the domain SPF checked: of
						   MAIL FROM, or HELO for <> */
	int		keep;		/* the spool is wanted */
	struct spool	spool;
	int		spool_failed;	/* noted once */
};

/* txn_new - a transaction of the session (no MAIL FROM yet) */
struct txn *txn_new(struct session *);
void txn_free(struct txn *);

/* txn_set_macro - a transaction macro; 1 if the name is one, else 0 */
int txn_set_macro(struct txn *, const char *key, const char *value);
/* txn_set_mail - MAIL FROM with its ESMTP arguments (NULL-terminated) */
void txn_set_mail(struct txn *, const char *addr, const char *const *args);
/* txn_add_rcpt - a recipient record, or NULL past TXN_RCPT_MAX */
struct txn_rcpt *txn_add_rcpt(struct txn *, const char *addr);
/*
 * txn_add_header - one header field as the MTA sent it (leadspc: the
 * value keeps its leading white space, else one space is assumed after
 * the colon); spooled as sent, kept without the leading white space.
 * 0 if kept, -1 if over a limit (counted anyway).
 */
int txn_add_header(struct txn *, const char *name, const char *value,
		   int leadspc);
/* txn_end_header - the empty line between header and body */
void txn_end_header(struct txn *);
void txn_add_body(struct txn *, const unsigned char *data, size_t len);

/* txn_add_trace - a header for the top of the message (value copied) */
void txn_add_trace(struct txn *, const char *name, const char *value);
/*
 * txn_add_signature - a DKIM-Signature for the very top of the message,
 * above the trace headers and Authentication-Results (value copied)
 */
void txn_add_signature(struct txn *, const char *name, const char *value);
/*
 * txn_strip_header - remove every incoming field of that name (a header
 * the check writes itself, so a forged copy must go); name is static
 */
void txn_strip_header(struct txn *, const char *name);
/* txn_set_slot - a check's state for this transaction (the old one freed) */
void txn_set_slot(struct txn *, enum txn_slot, void *data,
		  void (*free_fn)(void *));
/* txn_slot - that state, or NULL */
void *txn_slot(const struct txn *, enum txn_slot);
/*
 * txn_mime - the message's MIME walk (mime.h), walked once on first use
 * at end of message and kept with the transaction, for every check that
 * reads it (URI blocklists, the spam engine).  A message over
 * spam_max_size is walked for its header only (no text, no links).
 * NULL when the spool failed.
 */
const struct mime_doc *txn_mime(struct txn *);
/* txn_mime_limits - the walk's limits from a configuration */
void txn_mime_limits(const struct conf *, struct mime_limits *);
/* txn_add_auth_result - one method result for Authentication-Results */
void txn_add_auth_result(struct txn *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * txn_addr_strip - "<a@b>" to "a@b" into a new string; NULL when longer
 * than TXN_ADDR_MAX (never cut)
 */
char *txn_addr_strip(const char *);
const char *txn_mode_name(enum txn_mode);

#endif
