/*
 * envelope - envelope limits (see envelope.h).
 */
#include "config.h"

#include "envelope.h"
#include "txn.h"

void
envelope_mail(struct txn *t)
{
	if (t->mail_overlong)
		symbols_add(&t->symbols, "SENDER_ADDR_TOO_LONG", 0,
			    "MAIL FROM over %d bytes", TXN_ADDR_MAX);
}

void
envelope_rcpt(struct txn *t, struct txn_rcpt *r, struct symbols *out)
{
	size_t taken = t->rcpt_total - t->rcpt_refused - 1;

	if (r != NULL && r->overlong)
		symbols_add(out, "RCPT_ADDR_TOO_LONG", 0,
			    "RCPT TO over %d bytes", TXN_ADDR_MAX);
	else if (t->conf->max_recipients > 0 &&
		 taken >= (size_t)t->conf->max_recipients)
		symbols_add_opts(out, "RCPT_LIMIT", 0, r ? r->addr : "", NULL,
				 "over %d recipients", t->conf->max_recipients);
}
