/*
 * policy - runs the checks stage by stage and asks for a verdict.
 *
 * The milter callbacks drive a session through these functions in SMTP
 * order; "relayguard check" drives those same callbacks, so both take the
 * identical path.  Stage functions return POLICY_CONTINUE to go on,
 * POLICY_END when the transaction (or, at connect and HELO, the
 * connection) ends at that stage, and, at RCPT only, POLICY_REFUSED when
 * this one recipient is refused while the transaction goes on; v then
 * holds the reply.  policy_eom() always fills v.  Every verdict that ends
 * something is logged once, by the stage that reaches it (one line per
 * refused recipient, one per message).  MTA macros are given with
 * session_set_macro() before the stage they belong to.
 */
#ifndef RG_POLICY_H
#define RG_POLICY_H

#include <stddef.h>

#include "session.h"
#include "txn.h"
#include "verdict.h"

enum policy_rc { POLICY_CONTINUE, POLICY_END, POLICY_REFUSED };

/* what the enabled checks need of the MTA (see policy_needs) */
#define POLICY_NEED_HEADERS	0x01	/* header fields */
#define POLICY_NEED_BODY	0x02	/* body chunks (counted or tapped) */
#define POLICY_NEED_SPOOL	0x04	/* the message kept for a reader */
#define POLICY_DECIDES_CONNECT	0x08	/* a check decides at connect */
#define POLICY_DECIDES_HELO	0x10	/* ... or at HELO */
#define POLICY_NEED_RCPT_REJ	0x20	/* the recipients the MTA refused
					   (SMFIP_RCPT_REJ), to count them */

/* policy_needs - the steps this configuration's checks take part in */
unsigned policy_needs(const struct conf *);

/*
 * policy_start - what the checks load once for the process (the ClamAV
 * engine), before the daemon detaches; 0, or -1 with why in err
 */
int policy_start(const struct conf *, char *err, size_t errlen);
/* policy_background - start the checks' threads (after detaching) */
void policy_background(void);
/* policy_reload - SIGHUP: a new configuration is in place */
void policy_reload(const struct conf *);
/* policy_stop - free what policy_start loaded */
void policy_stop(void);

int policy_connect(struct session *, const char *addr, const char *name,
		   struct verdict *);
int policy_helo(struct session *, const char *helo, struct verdict *);
/* policy_mail - MAIL FROM; begins a transaction if none is open */
int policy_mail(struct session *, const char *addr, const char *const *args,
		struct verdict *);
int policy_rcpt(struct session *, const char *addr, struct verdict *);
/*
 * policy_rcpt_rejected - a recipient the MTA refused itself (shown with
 * SMFIP_RCPT_REJ): the checks that count refusals see it (the brake);
 * nothing is decided or logged (the MTA logs its own refusal)
 */
void policy_rcpt_rejected(struct session *, const char *addr);
/* policy_header - one field; leadspc: the value has its leading space */
int policy_header(struct session *, const char *name, const char *value,
		  int leadspc, struct verdict *);
int policy_eoh(struct session *, struct verdict *);
int policy_body(struct session *, const unsigned char *data, size_t len,
		struct verdict *);
void policy_eom(struct session *, struct verdict *);
/* policy_abort - the transaction ended without a verdict (RSET, QUIT) */
void policy_abort(struct session *);
/* policy_shutdown - the daemon is stopping: no new transaction (451) */
int policy_shutdown(struct session *, struct verdict *);
/*
 * policy_internal_error - the caller could not go on: the verdict of
 * internal_error_action, logged with why
 */
void policy_internal_error(struct session *, const char *why,
			   struct verdict *);
/* policy_log - the one summary line of a verdict */
void policy_log(const struct session *, const struct txn *,
		const struct txn_rcpt *, const struct symbols *rcpt_symbols,
		const struct verdict *);

#endif
