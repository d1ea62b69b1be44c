/*
 * dkimverify - DKIM verification (see dkimverify.h).
 *
 * libopendkim parses the signatures, canonicalizes, hashes and checks the
 * cryptography; relayguard gives it the keys (its key lookup hook, through
 * the shared resolver within dkim_timeout) and decides what each outcome
 * is called.  The library's own verdicts are not taken as they are:
 *   - pass needs DKIM_SIG_CHECK (signature and body hash), never
 *     DKIM_SIGFLAG_PASSED alone (it stays set when only the body changed);
 *   - a key lookup that timed out or got SERVFAIL is temperror whatever
 *     the library made of it (it would report a missing key);
 *   - RFC 8301: rsa-sha1, and RSA keys under 1024 bits, never pass.  A
 *     signature that verifies with either is "policy" (RFC 8601: signed,
 *     but not acceptable to the ADMD), one that does not verify is "fail";
 *     the library is told to accept small keys so the two can be told
 *     apart;
 *   - an x= in the past or a t= in the future: neutral (well formed, not
 *     taken); a missing, revoked (p= empty) or unparseable key, and a
 *     signature that does not parse (no v=1, a tag missing): permerror.
 *
 * Diagnostics: a library failure outside a signature is logged and the
 * message gets DKIM_TEMPERROR (never a pass by accident).
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "conf.h"
#include "dkimverify.h"
#include "log.h"
#include "resolver.h"
#include "txn.h"
#include "util.h"

#define DKIMV_SIGS_MAX		32	/* signature fields looked at */
#define DKIMV_CHECK_MAX		8	/* signatures checked and reported:
					   each costs a key lookup, and
					   Authentication-Results stays
					   under ~1000 bytes */
#define DKIMV_HDR_MAX		(1024 * 1024)	/* header block read back */

int (*dkimverify_key_hook)(const char *, char *, size_t);

/* what our key lookup found, per signature (the library keeps no reason) */
enum dkimv_lookup { LOOKUP_NONE, LOOKUP_OK, LOOKUP_NOKEY, LOOKUP_TEMP };

struct dkimv_state {
	DKIM		*dkim;		/* NULL once the handle is gone */
	int		failed;		/* handle unusable: temperror */
	char		why[160];
	struct resolver	*resolver;
	int		query_ms;
	struct timespec	deadline;
	struct {
		DKIM_SIGINFO	*sig;
		enum dkimv_lookup what;
		char		why[96];
	}		lookups[DKIMV_SIGS_MAX];
	size_t		nlookups;
	int		nfrom;		/* From fields of the message */
	int		ignored;	/* signatures past DKIMV_CHECK_MAX */
	struct dkim_result *results;
	size_t		nresults;
	struct dkim_result bad[DKIMV_SIGS_MAX];	/* refused by the library */
	size_t		nbad;
	int		done;
};

static DKIM_LIB *dkimv_lib;
static pthread_once_t dkimv_once = PTHREAD_ONCE_INIT;

static const char *const dkimv_names[] = {
	[DKIM_RES_PASS] = "pass", [DKIM_RES_FAIL] = "fail",
	[DKIM_RES_NEUTRAL] = "neutral", [DKIM_RES_POLICY] = "policy",
	[DKIM_RES_PERMERROR] = "permerror", [DKIM_RES_TEMPERROR] = "temperror",
};
static const char *const dkimv_symbols[] = {
	[DKIM_RES_PASS] = "DKIM_PASS", [DKIM_RES_FAIL] = "DKIM_FAIL",
	[DKIM_RES_NEUTRAL] = "DKIM_NEUTRAL", [DKIM_RES_POLICY] = "DKIM_POLICY",
	[DKIM_RES_PERMERROR] = "DKIM_PERMERROR",
	[DKIM_RES_TEMPERROR] = "DKIM_TEMPERROR",
};

const char *
dkimverify_result_name(enum dkim_res r)
{
	return dkimv_names[r];
}

/* dkimv_remember - note what the lookup for sig found */
static void
dkimv_remember(struct dkimv_state *st, DKIM_SIGINFO *sig,
	       enum dkimv_lookup what, const char *why)
{
	size_t i;

	for (i = 0; i < st->nlookups; i++)
		if (st->lookups[i].sig == sig)
			break;
	if (i == DKIMV_SIGS_MAX)
		return;
	if (i == st->nlookups)
		st->nlookups++;
	st->lookups[i].sig = sig;
	st->lookups[i].what = what;
	util_strlcpy(st->lookups[i].why, why ? why : "",
		     sizeof(st->lookups[i].why));
}

/* dkimv_left_ms - what is left of the message's lookup budget */
static long
dkimv_left_ms(const struct dkimv_state *st)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (st->deadline.tv_sec - now.tv_sec) * 1000L +
	    (st->deadline.tv_nsec - now.tv_nsec) / 1000000L;
}

/*
 * dkimv_temp - a lookup that failed for now.  TRYAGAIN would make
 * libopendkim stop at this signature and leave the others unprocessed;
 * an empty record makes it mark this one unusable and go on.  The
 * result is temperror all the same: the lookup was remembered as such.
 */
static DKIM_CBSTAT
dkimv_temp(u_char *buf, size_t buflen)
{
	if (buflen > 0)
		buf[0] = '\0';
	return DKIM_CBSTAT_CONTINUE;
}

/*
 * dkimv_key_lookup - libopendkim's key hook: the TXT record at
 * SELECTOR._domainkey.DOMAIN through the shared resolver
 */
static DKIM_CBSTAT
dkimv_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkimv_state *st = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char name[600], why[96];
	struct dns_answer ans;
	long left;
	int rc;

	if (st == NULL || sel == NULL || dom == NULL)
		return DKIM_CBSTAT_ERROR;
	snprintf(name, sizeof(name), "%s.%s.%s", sel, DKIM_DNSKEYNAME, dom);
	if (dkimverify_key_hook != NULL) {
		rc = dkimverify_key_hook(name, (char *)buf, buflen);
		if (rc < 0) {
			dkimv_remember(st, sig, LOOKUP_TEMP, "key lookup failed");
			return dkimv_temp(buf, buflen);
		}
		dkimv_remember(st, sig, rc ? LOOKUP_NOKEY : LOOKUP_OK,
			       rc ? "no key record" : NULL);
		return rc ? DKIM_CBSTAT_NOTFOUND : DKIM_CBSTAT_CONTINUE;
	}
	if (!dns_name_ok(name)) {
		dkimv_remember(st, sig, LOOKUP_NOKEY, "bad key name");
		return DKIM_CBSTAT_NOTFOUND;
	}
	if (st->resolver == NULL || (left = dkimv_left_ms(st)) <= 0) {
		dkimv_remember(st, sig, LOOKUP_TEMP, st->resolver ?
			       "DKIM time budget spent" : "no resolver");
		return dkimv_temp(buf, buflen);
	}
	resolver_query(st->resolver, name, DNS_T_TXT,
		       left < st->query_ms ? (int)left : st->query_ms, &ans);
	switch (ans.status) {
	case DNS_OK:
		if (ans.count == 0 || ans.rr[0].txt == NULL) {
			dkimv_remember(st, sig, LOOKUP_NOKEY, "no key record");
			dns_answer_free(&ans);
			return DKIM_CBSTAT_NOTFOUND;
		}
		/* RFC 6376 3.6.2.2: several records give undefined results;
		 * the first is taken, as libopendkim's own lookup does */
		snprintf((char *)buf, buflen, "%.*s",
			 (int)(ans.rr[0].txtlen < buflen ? ans.rr[0].txtlen :
			       buflen - 1), ans.rr[0].txt);
		dkimv_remember(st, sig, LOOKUP_OK, NULL);
		dns_answer_free(&ans);
		return DKIM_CBSTAT_CONTINUE;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
	case DNS_BADNAME:
		snprintf(why, sizeof(why), "no key: %.64s %s", name,
			 dns_status_name(ans.status));
		dkimv_remember(st, sig, LOOKUP_NOKEY, why);
		dns_answer_free(&ans);
		return DKIM_CBSTAT_NOTFOUND;
	default:
		snprintf(why, sizeof(why), "key lookup %.64s: %s", name,
			 dns_status_name(ans.status));
		dkimv_remember(st, sig, LOOKUP_TEMP, why);
		dns_answer_free(&ans);
		return dkimv_temp(buf, buflen);
	}
}

/*
 * dkimv_prescreen - libopendkim's hook before any key lookup: only the
 * first DKIMV_CHECK_MAX signatures are checked (a message with hundreds
 * would cost as many lookups); the others are counted
 */
static DKIM_CBSTAT
dkimv_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimv_state *st = dkim_get_user_context(dkim);

	for (int i = DKIMV_CHECK_MAX; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	if (st != NULL && nsigs > DKIMV_CHECK_MAX)
		st->ignored = nsigs - DKIMV_CHECK_MAX;
	return DKIM_CBSTAT_CONTINUE;
}

/* dkimv_init - the process's library handle, made once */
static void
dkimv_init(void)
{
	unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES;
	unsigned int minbits = 1;	/* RFC 8301 is applied here, after */
	static const char *sign[] = { "from", "to", "cc", "subject", "date",
		"message-id", "reply-to", "in-reply-to", "references",
		"mime-version", "content-type", "content-transfer-encoding",
		"content-disposition", "list-id", "list-unsubscribe",
		"list-unsubscribe-post", "sender", NULL };
	static const char *oversign[] = { "from", NULL };

	if ((dkimv_lib = dkim_init(NULL, NULL)) == NULL)
		return;
	dkim_options(dkimv_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
		     sizeof(flags));
	dkim_options(dkimv_lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits,
		     sizeof(minbits));
	/* the library copies the lists; it wants the size of a pointer */
	dkim_options(dkimv_lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign,
		     sizeof(char **));
	dkim_options(dkimv_lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
		     oversign, sizeof(char **));
	dkim_set_key_lookup(dkimv_lib, dkimv_key_lookup);
	dkim_set_prescreen(dkimv_lib, dkimv_prescreen);
}

struct dkim_lib *
dkimverify_lib(void)
{
	pthread_once(&dkimv_once, dkimv_init);
	return dkimv_lib;
}

/* dkimv_free - the transaction slot's destructor */
static void
dkimv_free(void *p)
{
	struct dkimv_state *st = p;

	if (st->dkim)
		dkim_free(st->dkim);
	free(st->results);
	free(st);
}

/* dkimv_fail - the handle cannot go on: temperror for the message */
static void
dkimv_fail(struct dkimv_state *st, const char *what, DKIM_STAT s)
{
	if (st->failed)
		return;
	st->failed = 1;
	snprintf(st->why, sizeof(st->why), "%s: %s", what,
		 st->dkim && dkim_geterror(st->dkim) ?
		 dkim_geterror(st->dkim) : dkim_getresultstr(s));
}

/*
 * dkimverify_feed - the header block as the spool holds it, one field at
 * a time (folded lines kept, final CRLF off), to dkim_header.  A field
 * the library refuses (a DKIM-Signature that does not parse) goes to bad
 * (when given) and the rest go on; returns 0 or the first refusal.
 */
int
dkimverify_feed(struct dkim *dkim, struct txn *t,
		void (*bad)(void *, const unsigned char *, size_t, int),
		void *ctx)
{
	struct spool_view v;
	unsigned char *copy = NULL;
	const unsigned char *p, *end, *field;
	DKIM_STAT s, first = DKIM_STAT_OK;

	spool_view(&t->spool, &v);
	if (v.data == NULL) {
		/* on disk (a huge header block): read it back, bounded */
		size_t n = v.len < DKIMV_HDR_MAX ? v.len : DKIMV_HDR_MAX;
		ssize_t got;

		copy = xmalloc(n + 1);
		got = spool_read(&t->spool, 0, copy, n);
		v.data = copy;
		v.len = got > 0 ? (size_t)got : 0;
	}
	p = field = v.data;
	end = v.data + v.len;
	while (p + 1 < end) {
		if (p[0] != '\r' || p[1] != '\n') {
			p++;
			continue;
		}
		if (p == field)		/* the empty line: end of headers */
			break;
		if (p + 2 < end && (p[2] == ' ' || p[2] == '\t')) {
			p += 2;		/* folded: the field goes on */
			continue;
		}
		s = dkim_header(dkim, (u_char *)field, (size_t)(p - field));
		if (s != DKIM_STAT_OK) {
			if (first == DKIM_STAT_OK)
				first = s;
			if (bad != NULL)
				bad(ctx, field, (size_t)(p - field), s);
		}
		p += 2;
		field = p;
	}
	free(copy);
	return first;
}

/*
 * dkimv_clean - keep a d=, s= or a= value only when every byte is one a
 * DNS name (or an algorithm name) has; otherwise "" (written "unknown"):
 * what goes into Authentication-Results and to DMARC is never text an
 * attacker shaped ("d=x dkim=pass").  Domains are lowercased.
 */
static void
dkimv_clean(char *v, int lower)
{
	for (char *p = v; *p; p++) {
		if (*p >= 'A' && *p <= 'Z' && lower)
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
			   *p == '_')) {
			*v = '\0';
			return;
		}
	}
}

/* dkimv_tag - the value of tag in a DKIM-Signature field, FWS removed */
static void
dkimv_tag(char *dst, size_t size, const unsigned char *f, size_t len,
	  const char *tag)
{
	size_t tl = strlen(tag), i = 0, o = 0;

	*dst = '\0';
	while (i < len && f[i] != ':')
		i++;
	for (i++; i < len; i++) {
		while (i < len && (f[i] == ' ' || f[i] == '\t' || f[i] == '\r' ||
				   f[i] == '\n' || f[i] == ';'))
			i++;
		if (i + tl < len && strncasecmp((const char *)f + i, tag, tl) == 0) {
			size_t j = i + tl;

			while (j < len && (f[j] == ' ' || f[j] == '\t'))
				j++;
			if (j < len && f[j] == '=') {
				for (j++; j < len && f[j] != ';' && o + 1 < size;
				     j++)
					if (f[j] > 0x20 && f[j] < 0x7f &&
					    f[j] != '"' && f[j] != '\\')
						dst[o++] = (char)f[j];
				dst[o] = '\0';
				return;
			}
		}
		while (i < len && f[i] != ';')
			i++;
	}
}

/*
 * dkimv_bad - a DKIM-Signature field libopendkim would not take: reported
 * as permerror with what its tags say (other refused fields are ignored)
 */
static void
dkimv_bad(void *ctx, const unsigned char *f, size_t len, int s)
{
	struct dkimv_state *st = ctx;
	struct dkim_result *r;

	if (len < 15 || strncasecmp((const char *)f, "DKIM-Signature", 14) != 0 ||
	    (f[14] != ':' && f[14] != ' ' && f[14] != '\t') ||
	    st->nbad >= DKIMV_CHECK_MAX)
		return;
	r = &st->bad[st->nbad++];
	memset(r, 0, sizeof(*r));
	r->result = DKIM_RES_PERMERROR;
	r->length = -1;
	dkimv_tag(r->domain, sizeof(r->domain), f, len, "d");
	dkimv_clean(r->domain, 1);
	dkimv_tag(r->selector, sizeof(r->selector), f, len, "s");
	dkimv_clean(r->selector, 0);
	dkimv_tag(r->algorithm, sizeof(r->algorithm), f, len, "a");
	dkimv_clean(r->algorithm, 0);
	if (*r->algorithm == '\0')
		util_strlcpy(r->algorithm, "unknown", sizeof(r->algorithm));
	dkimv_tag(r->b, sizeof(r->b), f, len, "b");
	snprintf(r->why, sizeof(r->why), "signature does not parse: %s",
		 st->dkim && dkim_geterror(st->dkim) ? dkim_geterror(st->dkim) :
		 dkim_getresultstr(s));
}

void
dkimverify_eoh(struct txn *t)
{
	struct conf *c = t->conf;
	struct dkimv_state *st;
	DKIM_LIB *lib;
	DKIM_STAT s;
	char err[256];
	int total = c->dkim_timeout;

	if (!c->dkim || t->mode != TXN_INBOUND)
		return;
	st = xcalloc(1, sizeof(*st));
	txn_set_slot(t, TXN_SLOT_DKIM_VERIFY, st, dkimv_free);
	for (size_t i = 0; i < t->nheaders; i++)
		if (strcasecmp(t->headers[i].name, "From") == 0)
			st->nfrom++;
	if ((lib = (DKIM_LIB *)dkimverify_lib()) == NULL) {
		st->failed = 1;
		util_strlcpy(st->why, "libopendkim did not start",
			     sizeof(st->why));
		return;
	}
	if (dkimverify_key_hook == NULL &&
	    (st->resolver = conf_resolver(c, err, sizeof(err))) == NULL)
		log_err("DNS resolver: %s", err);
	st->query_ms = c->dns_timeout;
	clock_gettime(CLOCK_MONOTONIC, &st->deadline);
	st->deadline.tv_sec += total / 1000;
	st->deadline.tv_nsec += (long)(total % 1000) * 1000000L;
	if (st->deadline.tv_nsec >= 1000000000L) {
		st->deadline.tv_sec++;
		st->deadline.tv_nsec -= 1000000000L;
	}
	st->dkim = dkim_verify(lib, (const u_char *)(*t->queue_id ?
			       t->queue_id : "NOQUEUE"), NULL, &s);
	if (st->dkim == NULL) {
		dkimv_fail(st, "dkim_verify", s);
		return;
	}
	dkim_set_user_context(st->dkim, st);
	dkimverify_feed(st->dkim, t, dkimv_bad, st);
	/* per-signature trouble is read at end of message; NOSIG: none
	 * that the library took (refused ones are in st->bad) */
	s = dkim_eoh(st->dkim);
	if (s == DKIM_STAT_NORESOURCE || s == DKIM_STAT_INTERNAL ||
	    s == DKIM_STAT_INVALID)
		dkimv_fail(st, "end of headers", s);
	if (s == DKIM_STAT_NOSIG || st->failed) {
		dkim_free(st->dkim);
		st->dkim = NULL;
	}
}

void
dkimverify_tap(struct txn *t, const unsigned char *data, size_t len)
{
	struct dkimv_state *st = txn_slot(t, TXN_SLOT_DKIM_VERIFY);
	DKIM_STAT s;

	if (st == NULL || st->dkim == NULL || st->failed || len == 0)
		return;
	s = dkim_body(st->dkim, (u_char *)data, len);
	/* SUCCESS once every l= is covered: the rest is not hashed */
	if (s != DKIM_STAT_OK && s != DKIM_STAT_NOSIG)
		dkimv_fail(st, "body", s);
}

/* dkimv_strip - a tag value without folding white space, bounded */
static void
dkimv_strip(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 1 < size; src++) {
		unsigned char ch = (unsigned char)*src;

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		dst[o++] = ch > 0x20 && ch < 0x7f && ch != ';' && ch != '"' &&
		    ch != '\\' ? (char)ch : '?';
	}
	dst[o] = '\0';
}

/* dkimv_h_has_from - does an h= list name From */
static int
dkimv_h_has_from(const char *h)
{
	char name[64];
	size_t o = 0;

	for (;; h++) {
		if (h == NULL)
			return 0;
		if (*h == ':' || *h == '\0') {
			name[o] = '\0';
			if (strcasecmp(name, "from") == 0)
				return 1;
			o = 0;
			if (*h == '\0')
				return 0;
		} else if (*h != ' ' && *h != '\t' && *h != '\r' &&
			   *h != '\n' && o + 1 < sizeof(name)) {
			name[o++] = *h;
		}
	}
}

/* dkimv_lookup_of - what our lookup found for sig */
static const char *
dkimv_lookup_of(const struct dkimv_state *st, DKIM_SIGINFO *sig,
		enum dkimv_lookup *what)
{
	for (size_t i = 0; i < st->nlookups; i++)
		if (st->lookups[i].sig == sig) {
			*what = st->lookups[i].what;
			return st->lookups[i].why;
		}
	*what = LOOKUP_NONE;
	return "";
}

/* dkimv_classify - one signature's result, and why */
static enum dkim_res
dkimv_classify(const struct dkimv_state *st, DKIM_SIGINFO *sig,
	       struct dkim_result *r)
{
	enum dkimv_lookup what;
	const char *lwhy = dkimv_lookup_of(st, sig, &what);
	int err = dkim_sig_geterror(sig);
	unsigned int flags = dkim_sig_getflags(sig);
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	const char *estr;

	dkim_sig_getsignalg(sig, &alg);
	if (what == LOOKUP_TEMP || err == DKIM_SIGERROR_KEYFAIL) {
		snprintf(r->why, sizeof(r->why), "%s", *lwhy ? lwhy :
			 "key lookup failed");
		return DKIM_RES_TEMPERROR;
	}
	if (DKIM_SIG_CHECK(sig)) {
		if (alg == DKIM_SIGN_RSASHA1) {
			snprintf(r->why, sizeof(r->why), "rsa-sha1 is not "
				 "accepted (RFC 8301)");
			return DKIM_RES_POLICY;
		}
		if (alg != DKIM_SIGN_ED25519SHA256 && r->key_bits < 1024) {
			snprintf(r->why, sizeof(r->why), "a %u-bit RSA key is "
				 "not accepted (RFC 8301: 1024 at least)",
				 r->key_bits);
			return DKIM_RES_POLICY;
		}
		snprintf(r->why, sizeof(r->why), "signature and body hash "
			 "verified");
		return DKIM_RES_PASS;
	}
	estr = err != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(err) : NULL;
	if (what == LOOKUP_NOKEY || err == DKIM_SIGERROR_NOKEY) {
		snprintf(r->why, sizeof(r->why), "%s", *lwhy ? lwhy :
			 "no key record");
		return DKIM_RES_PERMERROR;
	}
	switch (err) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		if ((flags & DKIM_SIGFLAG_PROCESSED) == 0) {
			snprintf(r->why, sizeof(r->why), "not processed");
			return DKIM_RES_NEUTRAL;
		}
		if ((flags & DKIM_SIGFLAG_PASSED) != 0 &&
		    dkim_sig_getbh(sig) != DKIM_SIGBH_MATCH)
			snprintf(r->why, sizeof(r->why), "body hash mismatch");
		else
			snprintf(r->why, sizeof(r->why), "signature mismatch%s",
				 dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH ?
				 ", body hash mismatch" : "");
		return DKIM_RES_FAIL;
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_TIMESTAMPS:
		snprintf(r->why, sizeof(r->why), "%s", estr);
		return DKIM_RES_NEUTRAL;
	case DKIM_SIGERROR_KEYREVOKED:
		snprintf(r->why, sizeof(r->why), "key revoked (empty p=)");
		return DKIM_RES_PERMERROR;
	default:
		snprintf(r->why, sizeof(r->why), "%s", estr ? estr :
			 "unusable signature");
		return DKIM_RES_PERMERROR;
	}
}

/* dkimv_describe - fill one result record from the library's siginfo */
static void
dkimv_describe(struct dkimv_state *st, DKIM_SIGINFO *sig,
	       struct dkim_result *r)
{
	const char *v;
	ssize_t msglen = -1, canonlen = -1, signlen = -1;
	unsigned int bits = 0;

	memset(r, 0, sizeof(*r));
	r->length = -1;
	dkimv_strip(r->domain, sizeof(r->domain),
		    (const char *)dkim_sig_getdomain(sig));
	dkimv_clean(r->domain, 1);
	dkimv_strip(r->selector, sizeof(r->selector),
		    (const char *)dkim_sig_getselector(sig));
	dkimv_clean(r->selector, 0);
	v = (const char *)dkim_sig_gettagvalue(sig, false, (u_char *)"a");
	dkimv_strip(r->algorithm, sizeof(r->algorithm), v ? v : "unknown");
	dkimv_clean(r->algorithm, 0);
	if (*r->algorithm == '\0')
		util_strlcpy(r->algorithm, "unknown", sizeof(r->algorithm));
	v = (const char *)dkim_sig_gettagvalue(sig, false, (u_char *)"b");
	dkimv_strip(r->b, sizeof(r->b), v);
	v = (const char *)dkim_sig_gettagvalue(sig, false, (u_char *)"h");
	r->from_once = st->nfrom == 1 && dkimv_h_has_from(v);
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		r->key_bits = bits;
	if (dkim_sig_getcanonlen(st->dkim, sig, &msglen, &canonlen,
				 &signlen) == DKIM_STAT_OK && signlen >= 0) {
		r->length = (long long)signlen;
		r->beyond_length = msglen > signlen;
	}
	r->result = dkimv_classify(st, sig, r);
}

/* dkimv_quote - header.b as an RFC 8601 value: a token, else quoted */
static void
dkimv_quote(char *dst, size_t size, const char *b)
{
	if (strpbrk(b, "()<>@,;:\\\"/[]?=") == NULL)
		snprintf(dst, size, "%s", b);
	else
		snprintf(dst, size, "\"%s\"", b);
}

/* dkimv_report - symbols and Authentication-Results for every result */
static void
dkimv_report(struct txn *t, struct dkimv_state *st)
{
	char b[DKIMV_BPREFIX + 3];

	if (st->failed) {
		symbols_add(&t->symbols, "DKIM_TEMPERROR", 0, "%s", st->why);
		txn_add_auth_result(t, "dkim=temperror (%s)", "internal error");
		return;
	}
	if (st->nresults == 0) {
		symbols_add(&t->symbols, "DKIM_NONE", 0, "no signature");
		txn_add_auth_result(t, "dkim=none");
		return;
	}
	/* one symbol per result (a repeated name keeps the first), naming
	 * every signature with that result */
	for (int k = DKIM_RES_PASS; k <= DKIM_RES_TEMPERROR; k++) {
		struct sbuf d;

		sbuf_init(&d);
		for (size_t i = 0; i < st->nresults; i++)
			if (st->results[i].result == (enum dkim_res)k)
				sbuf_printf(&d, "%sd=%s s=%s a=%s: %s",
					    d.len ? "; " : "",
					    st->results[i].domain,
					    st->results[i].selector,
					    st->results[i].algorithm,
					    st->results[i].why);
		if (d.len)
			symbols_add(&t->symbols, dkimv_symbols[k], 0, "%s",
				    d.data);
		sbuf_free(&d);
	}
	if (st->ignored > 0)
		symbols_add(&t->symbols, "DKIM_TOO_MANY", 0, "%d signatures "
			    "past the first %d not checked", st->ignored,
			    DKIMV_CHECK_MAX);
	for (size_t i = 0; i < st->nresults; i++) {
		const struct dkim_result *r = &st->results[i];

		if (r->length >= 0 && r->beyond_length)
			symbols_add(&t->symbols, "DKIM_BODY_LENGTH", 0,
				    "d=%s s=%s: l=%lld, the body goes on past "
				    "it", r->domain, r->selector, r->length);
		if (r->result == DKIM_RES_PASS && !r->from_once && st->nfrom == 1)
			symbols_add(&t->symbols, "DKIM_FROM_UNSIGNED", 0,
				    "d=%s s=%s: h= does not name From",
				    r->domain, r->selector);
		else if (r->result == DKIM_RES_PASS && !r->from_once)
			symbols_add(&t->symbols, "DKIM_FROM_UNSIGNED", 0,
				    "d=%s s=%s: the message has %d From fields",
				    r->domain, r->selector, st->nfrom);
		dkimv_quote(b, sizeof(b), r->b);
		txn_add_auth_result(t, "dkim=%s header.d=%s header.s=%s "
				    "header.a=%s%s%s", dkimv_names[r->result],
				    *r->domain ? r->domain : "unknown",
				    *r->selector ? r->selector : "unknown",
				    r->algorithm, *r->b ? " header.b=" : "", b);
	}
}

void
dkimverify_eom(struct txn *t)
{
	struct dkimv_state *st = txn_slot(t, TXN_SLOT_DKIM_VERIFY);
	DKIM_SIGINFO **sigs = NULL;
	DKIM_STAT s;
	int n = 0;

	if (st == NULL)
		return;
	if (st->dkim != NULL && !st->failed) {
		s = dkim_eom(st->dkim, NULL);
		/* per-signature outcomes are read below; these end it all */
		if (s == DKIM_STAT_NORESOURCE || s == DKIM_STAT_INTERNAL ||
		    s == DKIM_STAT_INVALID)
			dkimv_fail(st, "end of message", s);
	}
	if (st->dkim == NULL || st->failed ||
	    dkim_getsiglist(st->dkim, &sigs, &n) != DKIM_STAT_OK)
		n = 0;
	if (n > DKIMV_SIGS_MAX)
		n = DKIMV_SIGS_MAX;
	st->results = xcalloc((size_t)n + st->nbad + 1, sizeof(*st->results));
	if (n > 0) {
		for (int i = 0; i < n; i++) {
			if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE)
				continue;
			dkimv_describe(st, sigs[i], &st->results[st->nresults++]);
		}
	}
	/* refused fields the library kept anyway (BADSIGHANDLES) are in
	 * its list already: only the others are added */
	for (size_t i = 0; i < st->nbad && !st->failed &&
	     st->nresults < DKIMV_CHECK_MAX; i++) {
		size_t j;

		for (j = 0; j < st->nresults; j++)
			if (strcmp(st->results[j].b, st->bad[i].b) == 0 &&
			    strcmp(st->results[j].domain, st->bad[i].domain) == 0)
				break;
		if (j == st->nresults)
			st->results[st->nresults++] = st->bad[i];
	}
	st->done = 1;
	dkimv_report(t, st);
	if (st->dkim != NULL) {
		dkim_free(st->dkim);
		st->dkim = NULL;
	}
}

const struct dkim_result *
dkimverify_results(const struct txn *t, size_t *n)
{
	const struct dkimv_state *st = txn_slot(t, TXN_SLOT_DKIM_VERIFY);

	if (st == NULL || !st->done) {
		*n = 0;
		return NULL;
	}
	*n = st->nresults;
	return st->results;
}
