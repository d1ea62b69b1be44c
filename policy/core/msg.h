/*
 * msg - one SMTP connection and its current message, as the checks see it.
 *
 * Connection data (client, HELO) lives as long as the connection; the
 * transaction data (macros of the transaction, envelope, headers, sizes,
 * symbols) is cleared by msg_reset() between messages.  Every string that
 * comes from the client is bounded; anything longer is cut and noted.
 * Nothing here knows about libmilter.
 */
#ifndef RG_MSG_H
#define RG_MSG_H

#include <stddef.h>

#include "conf.h"
#include "netaddr.h"
#include "symbols.h"

#define MSG_MACRO_MAX	512	/* longest macro value kept */
#define MSG_ADDR_MAX	1024	/* longest envelope address kept */
#define MSG_RCPT_MAX	1000	/* recipients kept (more are only counted) */
#define MSG_HEADERS_MAX	4096	/* header fields per message */

enum msg_mode { MSG_INBOUND, MSG_OUTBOUND };

struct msg_header {
	char	*name;		/* points into the same allocation as value */
	char	*value;
	int	index;		/* 1-based among fields of the same name */
};

/* a header a check wants added at the top (Received-SPF) */
struct msg_trace {
	char	*name;
	char	*value;
};

struct msg {
	struct conf	*conf;		/* held reference */

	/* connection */
	char		*client_addr;	/* text form, "" if unknown */
	struct netaddr	client;
	int		have_client;
	char		*client_name;
	char		*helo;

	/* transaction */
	char		*queue_id;	/* {i}, "" until known */
	char		*auth_authen;	/* {auth_authen}, "" if not authenticated */
	char		*auth_type;
	char		*mail_from;	/* without angle brackets, "" for <> */
	int		have_mail;
	long long	declared_size;	/* ESMTP SIZE=, -1 if none */
	char		**rcpts;
	size_t		nrcpts;		/* kept */
	size_t		rcpt_total;	/* seen */
	struct msg_header *headers;
	size_t		nheaders;
	long long	header_bytes;
	long long	body_bytes;
	long long	size;		/* header_bytes + body_bytes */
	enum msg_mode	mode;
	struct symbols	symbols;
	struct msg_trace *traces;	/* trace headers from the checks */
	size_t		ntraces;
	struct sbuf	auth_results;	/* "spf=pass smtp.mailfrom=a@b"; ... */
};

/* msg_new - a connection's object, holding a reference to conf */
struct msg *msg_new(struct conf *);
void msg_free(struct msg *);
/* msg_reset - forget the transaction, keep the connection */
void msg_reset(struct msg *);

void msg_set_client(struct msg *, const char *addr, const char *name);
void msg_set_helo(struct msg *, const char *);
/*
 * msg_set_macro - record an MTA macro ("i", "{auth_authen}", ...; braces
 * optional).  Unknown names are ignored; a malformed value (too long, or
 * with control characters) is dropped with a MACRO_MALFORMED symbol.
 */
void msg_set_macro(struct msg *, const char *name, const char *value);
/* msg_set_mail - MAIL FROM with its ESMTP arguments (NULL-terminated) */
void msg_set_mail(struct msg *, const char *addr, const char *const *args);
void msg_add_rcpt(struct msg *, const char *addr);
/* msg_add_header - one header field; 0 if kept, -1 if over a limit */
int msg_add_header(struct msg *, const char *name, const char *value);
void msg_add_body(struct msg *, size_t len);

/* msg_add_trace - a header for the top of the message (value copied) */
void msg_add_trace(struct msg *, const char *name, const char *value);
/* msg_add_auth_result - one method result for Authentication-Results */
void msg_add_auth_result(struct msg *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* msg_addr_strip - "<a@b>" to "a@b" into a new string, bounded */
char *msg_addr_strip(const char *);
const char *msg_mode_name(enum msg_mode);

#endif
