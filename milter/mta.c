/*
 * mta - verdicts to MTA actions (see mta.h).
 *
 * Diagnostics: a refused action is logged; the verdict still stands (the
 * MTA then uses its own default text, or keeps an unedited header).
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "mta.h"
#include "util.h"

void
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

/* mta_reply - the verdict's SMTP reply, if it has one */
static void
mta_reply(struct mta *mta, const struct verdict *v)
{
	char text[1024];

	if (v->code[0] == '\0')
		return;
	mta_text(text, sizeof(text), v->text);
	if (mta->ops->reply(mta, v->code, v->xcode, text) != 0)
		log_warn("setting the reply %s %s failed", v->code, v->xcode);
}

/* mta_status_of - the callback's answer for a verdict's action */
static enum mta_status
mta_status_of(const struct verdict *v)
{
	switch (v->action) {
	case ACTION_REJECT:
		return MTA_REJECT;
	case ACTION_TEMPFAIL:
		return MTA_TEMPFAIL;
	case ACTION_DISCARD:
		return MTA_DISCARD;
	default:
		return MTA_ACCEPT;
	}
}

enum mta_status
mta_stage(struct mta *mta, const struct verdict *v)
{
	mta_reply(mta, v);
	return mta_status_of(v);
}

/* mta_value - a header value as the MTA wants it (see leadspc) */
static const char *
mta_value(const struct mta *mta, const char *value, struct sbuf *buf)
{
	if (!mta->leadspc)
		return value;
	sbuf_reset(buf);
	sbuf_puts(buf, " ");
	sbuf_puts(buf, value);
	return buf->data;
}

enum mta_status
mta_eom(struct mta *mta, const struct verdict *v)
{
	struct sbuf buf;

	sbuf_init(&buf);
	if (v->action == ACTION_ACCEPT || v->action == ACTION_QUARANTINE) {
		for (size_t i = 0; i < v->nremove; i++)
			if (mta->ops->chg_header(mta, v->remove[i].name,
						 v->remove[i].index, NULL) != 0)
				log_warn("cannot remove header %s",
					 v->remove[i].name);
		for (size_t i = 0; i < v->nadd; i++) {
			const struct verdict_header *h = &v->add[i];
			const char *value = mta_value(mta, h->value, &buf);
			int rc = h->top ?
			    mta->ops->ins_header(mta, 0, h->name, value) :
			    mta->ops->add_header(mta, h->name, value);

			if (rc != 0)
				log_warn("cannot add header %s", h->name);
		}
	}
	sbuf_free(&buf);
	if (v->action == ACTION_QUARANTINE) {
		char reason[512];

		mta_text(reason, sizeof(reason), v->text ? v->text :
			 "relayguard");
		if (mta->ops->quarantine(mta, reason) != 0)
			log_warn("quarantine failed");
		return MTA_ACCEPT;
	}
	return mta_stage(mta, v);
}
