/*
 * mta - verdicts to libmilter calls (see mta.h).
 *
 * Diagnostics: a failing smfi_* call is logged; the verdict still stands
 * (the MTA then uses its own default text, or keeps an unedited header).
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "mta.h"
#include "util.h"

/* mta_text - reply text safe for smfi_setreply: printable, '%' doubled */
static void
mta_text(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 2 < size; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == '%') {
			dst[o++] = '%';
			dst[o++] = '%';
		} else if (c >= 0x20 && c < 0x7f) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '?';
		}
	}
	dst[o] = '\0';
}

static void
mta_reply(SMFICTX *ctx, const struct verdict *v)
{
	char text[1024];

	if (v->code[0] == '\0')
		return;
	mta_text(text, sizeof(text), v->text);
	if (smfi_setreply(ctx, (char *)v->code, (char *)v->xcode,
			  text) != MI_SUCCESS)
		log_warn("smfi_setreply %s %s failed", v->code, v->xcode);
}

static sfsistat
mta_status(const struct verdict *v)
{
	switch (v->action) {
	case ACTION_REJECT:
		return SMFIS_REJECT;
	case ACTION_TEMPFAIL:
		return SMFIS_TEMPFAIL;
	case ACTION_DISCARD:
		return SMFIS_DISCARD;
	default:
		return SMFIS_ACCEPT;
	}
}

sfsistat
mta_stage(SMFICTX *ctx, const struct verdict *v)
{
	mta_reply(ctx, v);
	return mta_status(v);
}

sfsistat
mta_eom(SMFICTX *ctx, const struct verdict *v)
{
	if (v->action == ACTION_ACCEPT || v->action == ACTION_QUARANTINE) {
		for (size_t i = 0; i < v->nremove; i++)
			if (smfi_chgheader(ctx, v->remove[i].name,
					   v->remove[i].index, NULL) != MI_SUCCESS)
				log_warn("cannot remove header %s",
					 v->remove[i].name);
		for (size_t i = 0; i < v->nadd; i++) {
			const struct verdict_header *h = &v->add[i];
			int rc = h->top ?
			    smfi_insheader(ctx, 0, h->name, h->value) :
			    smfi_addheader(ctx, h->name, h->value);

			if (rc != MI_SUCCESS)
				log_warn("cannot add header %s", h->name);
		}
	}
	if (v->action == ACTION_QUARANTINE) {
		char reason[512];

		mta_text(reason, sizeof(reason), v->text ? v->text :
			 "relayguard");
		if (smfi_quarantine(ctx, reason) != MI_SUCCESS)
			log_warn("smfi_quarantine failed");
		return SMFIS_ACCEPT;
	}
	return mta_stage(ctx, v);
}

sfsistat
mta_tempfail(SMFICTX *ctx, const char *xcode, const char *text)
{
	char buf[512];

	mta_text(buf, sizeof(buf), text);
	smfi_setreply(ctx, "451", (char *)xcode, buf);
	return SMFIS_TEMPFAIL;
}
