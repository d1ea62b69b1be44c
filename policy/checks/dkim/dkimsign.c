/*
 * dkimsign - DKIM signing (see dkimsign.h).
 *
 * The keys were read and checked with the configuration (dkimkeys.c);
 * here each matching key gets a libopendkim signing handle at end of
 * headers, fed the header fields as received and the body through the
 * streaming tap; at end of message each handle gives its signature,
 * unfolded (one line; a 2048-bit RSA signature is about 600 bytes).
 *
 * Diagnostics: a handle libopendkim refuses is logged with the key's
 * name and noted as DKIM_SIGN_ERROR; the message is not held back.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "addr.h"
#include "conf.h"
#include "dkimkeys.h"
#include "dkimsign.h"
#include "dkimverify.h"
#include "log.h"
#include "txn.h"
#include "util.h"

struct dkimsign_state {
	DKIM		*dkim[DKIMKEYS_MAX_PER_RULE];
	const struct dkimkey *key[DKIMKEYS_MAX_PER_RULE];
	char		domain[DKIMKEYS_MAX_PER_RULE][256];
	size_t		n;
};

/* dkimsign_free - the transaction slot's destructor */
static void
dkimsign_free(void *p)
{
	struct dkimsign_state *st = p;

	for (size_t i = 0; i < st->n; i++)
		if (st->dkim[i])
			dkim_free(st->dkim[i]);
	free(st);
}

/*
 * dkimsign_from - the one header From address, lowercased domain, into
 * buf; NULL with why when there is not exactly one From with one mailbox
 */
static const char *
dkimsign_from(const struct txn *t, char *buf, size_t size, char *why,
	      size_t wlen)
{
	const struct txn_header *from = NULL;
	struct addr_list list;
	char err[128];
	int n = 0;

	for (size_t i = 0; i < t->nheaders; i++)
		if (strcasecmp(t->headers[i].name, "From") == 0) {
			from = &t->headers[i];
			n++;
		}
	if (n != 1) {
		snprintf(why, wlen, "%d From fields", n);
		return NULL;
	}
	if (addr_parse_list(from->value, strlen(from->value), &list, err,
			    sizeof(err)) != ADDR_OK || list.count != 1) {
		snprintf(why, wlen, "From: %s", list.count > 1 ?
			 "several mailboxes" : err);
		addr_list_free(&list);
		return NULL;
	}
	snprintf(buf, size, "%s@%s", list.v[0].local, list.v[0].domain);
	addr_list_free(&list);
	for (char *p = strrchr(buf, '@'); p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return buf;
}

void
dkimsign_eoh(struct txn *t)
{
	const struct dkimkeys *keys = t->conf->dkim_keys;
	const struct dkimkey *match[DKIMKEYS_MAX_PER_RULE];
	struct dkimsign_state *st;
	char addr[1024], why[160];
	const char *from, *fdom;
	DKIM_LIB *lib;
	size_t n;

	if (keys == NULL || t->mode != TXN_OUTBOUND)
		return;
	if ((from = dkimsign_from(t, addr, sizeof(addr), why,
				  sizeof(why))) == NULL) {
		symbols_add(&t->symbols, "DKIM_SIGN_SKIPPED", 0, "%s", why);
		return;
	}
	if ((n = dkimkeys_match(keys, from, match, DKIMKEYS_MAX_PER_RULE)) == 0)
		return;
	if ((lib = (DKIM_LIB *)dkimverify_lib()) == NULL) {
		symbols_add(&t->symbols, "DKIM_SIGN_ERROR", 0,
			    "libopendkim did not start");
		return;
	}
	fdom = strrchr(from, '@') + 1;
	st = xcalloc(1, sizeof(*st));
	txn_set_slot(t, TXN_SLOT_DKIM_SIGN, st, dkimsign_free);
	for (size_t i = 0; i < n; i++) {
		const struct dkimkey *k = match[i];
		DKIM_STAT s;
		DKIM *d;
		size_t j = st->n;

		util_strlcpy(st->domain[j], strcmp(k->domain, "%") == 0 ?
			     fdom : k->domain, sizeof(st->domain[j]));
		d = dkim_sign(lib, (const u_char *)(*t->queue_id ?
			      t->queue_id : "NOQUEUE"), NULL,
			      (dkim_sigkey_t)k->pem, (const u_char *)k->selector,
			      (const u_char *)st->domain[j], DKIM_CANON_RELAXED,
			      DKIM_CANON_RELAXED, k->type == DKIMKEY_ED25519 ?
			      DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256,
			      -1, &s);
		if (d == NULL || (s = dkimverify_feed(d, t, NULL, NULL)) != DKIM_STAT_OK ||
		    (s = dkim_eoh(d)) != DKIM_STAT_OK) {
			log_warn("DKIM signing with key %s: %s", k->name,
				 d && dkim_geterror(d) ? dkim_geterror(d) :
				 dkim_getresultstr(s));
			symbols_add(&t->symbols, "DKIM_SIGN_ERROR", 0,
				    "key %s: %s", k->name,
				    dkim_getresultstr(s));
			if (d)
				dkim_free(d);
			continue;
		}
		dkim_set_margin(d, 0);
		st->dkim[j] = d;
		st->key[j] = k;
		st->n++;
	}
}

void
dkimsign_tap(struct txn *t, const unsigned char *data, size_t len)
{
	struct dkimsign_state *st;

	if (t->mode != TXN_OUTBOUND || len == 0 ||
	    (st = txn_slot(t, TXN_SLOT_DKIM_SIGN)) == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		if (st->dkim[i] != NULL &&
		    dkim_body(st->dkim[i], (u_char *)data, len) !=
		    DKIM_STAT_OK) {
			dkim_free(st->dkim[i]);
			st->dkim[i] = NULL;
			symbols_add(&t->symbols, "DKIM_SIGN_ERROR", 0,
				    "key %s: body", st->key[i]->name);
		}
}

void
dkimsign_eom(struct txn *t)
{
	struct dkimsign_state *st;
	struct sbuf done;

	if (t->mode != TXN_OUTBOUND ||
	    (st = txn_slot(t, TXN_SLOT_DKIM_SIGN)) == NULL)
		return;
	sbuf_init(&done);
	for (size_t i = 0; i < st->n; i++) {
		const struct dkimkey *k = st->key[i];
		u_char *hdr = NULL;
		size_t hlen = 0;
		DKIM_STAT s;

		if (st->dkim[i] == NULL)
			continue;
		if ((s = dkim_eom(st->dkim[i], NULL)) != DKIM_STAT_OK ||
		    (s = dkim_getsighdr_d(st->dkim[i],
					  sizeof("DKIM-Signature: ") - 1,
					  &hdr, &hlen)) != DKIM_STAT_OK) {
			log_warn("DKIM signing with key %s: %s", k->name,
				 dkim_geterror(st->dkim[i]) ?
				 dkim_geterror(st->dkim[i]) :
				 dkim_getresultstr(s));
			symbols_add(&t->symbols, "DKIM_SIGN_ERROR", 0,
				    "key %s: %s", k->name,
				    dkim_getresultstr(s));
			continue;
		}
		txn_add_signature(t, "DKIM-Signature", (const char *)hdr);
		sbuf_printf(&done, "%sd=%s s=%s a=%s", done.len ? "; " : "",
			    st->domain[i], k->selector,
			    k->type == DKIMKEY_ED25519 ? "ed25519-sha256" :
			    "rsa-sha256");
	}
	if (done.len)
		symbols_add(&t->symbols, "DKIM_SIGNED", 0, "%s", done.data);
	sbuf_free(&done);
}
