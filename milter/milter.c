/*
 * milter - libmilter glue (see milter.h).
 *
 * Negotiation asks the MTA only for the steps the enabled checks need:
 * no body step when nothing reads the body, no unknown-command step, and
 * header values with their leading white space (SMFIP_HDR_LEADSPC) when
 * the MTA offers it, so the spool holds the header as sent (DKIM's simple
 * canonicalization needs it).  With milter_no_reply the steps that
 * cannot change the outcome get no reply (SMFIP_NR_*; see callbacks.c
 * and DESIGN-NOTES.md for what it measured).
 *
 * Diagnostics: a refused smfi_* call is reported to mta.c, which logs it.
 */
#include "config.h"

#include <string.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "milter.h"
#include "policy.h"

/* milter_mta - the struct mta of a libmilter context */
#define MILTER_MTA(ctx)	{ &milter_ops, (ctx), 0 }

static const struct mta_ops milter_ops;

static const char *
milter_macro(struct mta *m, const char *name)
{
	return smfi_getsymval(m->ctx, (char *)name);
}

static void *
milter_get_priv(struct mta *m)
{
	return smfi_getpriv(m->ctx);
}

static void
milter_set_priv(struct mta *m, void *p)
{
	smfi_setpriv(m->ctx, p);
}

static int
milter_reply(struct mta *m, const char *code, const char *xcode,
	     const char *text)
{
	return smfi_setreply(m->ctx, (char *)code, (char *)xcode,
			     (char *)text) == MI_SUCCESS ? 0 : -1;
}

static int
milter_add_header(struct mta *m, const char *name, const char *value)
{
	return smfi_addheader(m->ctx, (char *)name, (char *)value) ==
	    MI_SUCCESS ? 0 : -1;
}

static int
milter_ins_header(struct mta *m, int index, const char *name,
		  const char *value)
{
	return smfi_insheader(m->ctx, index, (char *)name, (char *)value) ==
	    MI_SUCCESS ? 0 : -1;
}

static int
milter_chg_header(struct mta *m, const char *name, int index,
		  const char *value)
{
	return smfi_chgheader(m->ctx, (char *)name, index, (char *)value) ==
	    MI_SUCCESS ? 0 : -1;
}

static int
milter_quarantine(struct mta *m, const char *reason)
{
	return smfi_quarantine(m->ctx, (char *)reason) == MI_SUCCESS ? 0 : -1;
}

static const struct mta_ops milter_ops = {
	.macro = milter_macro,
	.get_priv = milter_get_priv,
	.set_priv = milter_set_priv,
	.reply = milter_reply,
	.add_header = milter_add_header,
	.ins_header = milter_ins_header,
	.chg_header = milter_chg_header,
	.quarantine = milter_quarantine,
	.verdict = NULL,
};

/* milter_status - our answer as libmilter's */
static sfsistat
milter_status(enum mta_status s)
{
	switch (s) {
	case MTA_ACCEPT:
		return SMFIS_ACCEPT;
	case MTA_REJECT:
		return SMFIS_REJECT;
	case MTA_TEMPFAIL:
		return SMFIS_TEMPFAIL;
	case MTA_DISCARD:
		return SMFIS_DISCARD;
	case MTA_SKIP:
		return SMFIS_SKIP;
	case MTA_NOREPLY:
		return SMFIS_NOREPLY;
	default:
		return SMFIS_CONTINUE;
	}
}

/*
 * milter_negotiate - take the actions we use, skip the steps no check
 * needs, and ask for header values with their leading white space
 */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		 unsigned long f2, unsigned long f3, unsigned long *pf0,
		 unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	static const struct { unsigned cb; unsigned long smfip; } nr[] = {
		{ CB_NR_CONN, SMFIP_NR_CONN }, { CB_NR_HELO, SMFIP_NR_HELO },
		{ CB_NR_DATA, SMFIP_NR_DATA }, { CB_NR_HDR, SMFIP_NR_HDR },
		{ CB_NR_BODY, SMFIP_NR_BODY },
	};
	struct mta m = MILTER_MTA(ctx);
	int leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
	struct cb_negotiation neg;
	unsigned offered = 0;
	unsigned long want = 0;

	(void)f2;
	(void)f3;
	for (size_t i = 0; i < sizeof(nr) / sizeof(nr[0]); i++)
		if (f1 & nr[i].smfip)
			offered |= nr[i].cb;
	cb_open(&m, leadspc, offered, &neg);
	for (size_t i = 0; i < sizeof(nr) / sizeof(nr[0]); i++)
		if (neg.noreply & nr[i].cb)
			want |= nr[i].smfip;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	if (leadspc)
		want |= SMFIP_HDR_LEADSPC;
	if (!(neg.needs & POLICY_NEED_BODY))
		want |= SMFIP_NOBODY;
	want |= SMFIP_NOUNKNOWN;
	/* the brake counts the recipients Postfix or Sendmail refused */
	if (neg.needs & POLICY_NEED_RCPT_REJ)
		want |= SMFIP_RCPT_REJ;
	*pf1 = want & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_connect(&m, hostname, sa));
}

static sfsistat
milter_helo(SMFICTX *ctx, char *helo)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_helo(&m, helo));
}

static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_envfrom(&m, argv));
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_envrcpt(&m, argv));
}

static sfsistat
milter_data(SMFICTX *ctx)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_data(&m));
}

static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_header(&m, name, value));
}

static sfsistat
milter_eoh(SMFICTX *ctx)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_eoh(&m));
}

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_body(&m, data, len));
}

static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_eom(&m));
}

static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_abort(&m));
}

static sfsistat
milter_close(SMFICTX *ctx)
{
	struct mta m = MILTER_MTA(ctx);

	return milter_status(cb_close(&m));
}

static struct smfiDesc milter_description = {
	.xxfi_name = "relayguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = milter_connect,
	.xxfi_helo = milter_helo,
	.xxfi_envfrom = milter_envfrom,
	.xxfi_envrcpt = milter_envrcpt,
	.xxfi_header = milter_header,
	.xxfi_eoh = milter_eoh,
	.xxfi_body = milter_body,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
	.xxfi_data = milter_data,
	.xxfi_negotiate = milter_negotiate,
};

const struct smfiDesc *
milter_desc(void)
{
	return &milter_description;
}
