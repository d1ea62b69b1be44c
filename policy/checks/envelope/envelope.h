/*
 * envelope - limits on the envelope: address length, recipient count.
 *
 * An address longer than the transaction keeps (TXN_ADDR_MAX) is refused,
 * never cut: a cut address could lose its domain and so pass as another.
 * Past max_recipients each further recipient is refused with 452 4.5.3
 * (RFC 5321 4.5.3.1.10) while the transaction goes on for the others,
 * as Postfix's smtpd_recipient_limit does.
 */
#ifndef RG_ENVELOPE_H
#define RG_ENVELOPE_H

struct symbols;
struct txn;
struct txn_rcpt;

void envelope_mail(struct txn *);
/* envelope_rcpt - r is NULL past the recipients a transaction keeps */
void envelope_rcpt(struct txn *, struct txn_rcpt *r, struct symbols *out);

#endif
