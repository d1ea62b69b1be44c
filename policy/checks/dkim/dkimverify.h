/*
 * dkimverify - DKIM verification of inbound mail (RFC 6376, RFC 8301,
 * RFC 8463) with libopendkim, keys through the shared resolver.
 *
 * At end of headers one libopendkim handle is fed the header fields as
 * the spool holds them (original spacing, CRLF); each body chunk goes to
 * it through the streaming tap; at end of message every signature gets a
 * result: pass (signature and body hash, DKIM_SIG_CHECK), fail, neutral,
 * policy, permerror or temperror.  Outbound mail is not verified.
 *
 * Symbols, one per signature (detail "d=DOMAIN s=SELECTOR a=ALG: why"):
 * DKIM_PASS, DKIM_FAIL, DKIM_NEUTRAL, DKIM_POLICY, DKIM_PERMERROR,
 * DKIM_TEMPERROR; DKIM_NONE when the message has no signature;
 * DKIM_BODY_LENGTH when a signature has l= and the body goes on past it;
 * DKIM_FROM_UNSIGNED when a signature that passes does not cover the one
 * From field (h= lacks From, or the message has several); DKIM_TOO_MANY
 * when signatures past the first 8 were not checked.  Weights 0;
 * actions from the dkim_*_action keys (verdict.c).
 * Authentication-Results: one "dkim=RESULT header.d= header.s= header.a=
 * header.b=" per signature (RFC 8601, RFC 6008), or "dkim=none".
 *
 * For DMARC: dkimverify_results() gives the transaction's results, one
 * record a signature, in the order of the header fields.
 */
#ifndef RG_DKIMVERIFY_H
#define RG_DKIMVERIFY_H

#include <stddef.h>

struct txn;

enum dkim_res {
	DKIM_RES_PASS, DKIM_RES_FAIL, DKIM_RES_NEUTRAL, DKIM_RES_POLICY,
	DKIM_RES_PERMERROR, DKIM_RES_TEMPERROR,
};

#define DKIMV_DOMAIN_MAX	254
#define DKIMV_BPREFIX		12	/* header.b: RFC 6008 wants >= 8 */

struct dkim_result {
	enum dkim_res	result;
	char		domain[DKIMV_DOMAIN_MAX + 1];	/* d=, lowercased */
	char		selector[DKIMV_DOMAIN_MAX + 1];	/* s= */
	char		algorithm[32];	/* a=: rsa-sha256, ed25519-sha256 ... */
	char		b[DKIMV_BPREFIX + 1];	/* start of b=, FWS removed */
	int		from_once;	/* h= names From and the message has
					   exactly one From field */
	long long	length;		/* l=, -1 without */
	int		beyond_length;	/* body content past l= */
	unsigned	key_bits;	/* 0 when no key was loaded */
	char		why[160];	/* for the symbol detail and logs */
};

/*
 * dkimverify_results - the transaction's DKIM results once end of
 * message has run (NULL and *n = 0 before, for outbound mail, or with
 * dkim = no).  Valid as long as the transaction.
 */
const struct dkim_result *dkimverify_results(const struct txn *, size_t *n);
const char *dkimverify_result_name(enum dkim_res);

void dkimverify_eoh(struct txn *);
void dkimverify_tap(struct txn *, const unsigned char *, size_t);
void dkimverify_eom(struct txn *);

/*
 * test hook: a key lookup in place of DNS.  Fills buf with the TXT record
 * of name; returns 0 (found), 1 (no such record) or -1 (temporary error).
 */
extern int (*dkimverify_key_hook)(const char *name, char *buf, size_t len);

/* the process's libopendkim handle (shared with dkimsign.c) */
struct dkim_lib;
struct dkim;
struct dkim_lib *dkimverify_lib(void);
/*
 * dkimverify_feed - the transaction's header fields, as received, to a
 * libopendkim handle (verifying or signing); a field it refuses goes to
 * bad(ctx, field, len, status) when bad is given, and the rest go on.
 * 0 or the first refusal's DKIM_STAT.
 */
int dkimverify_feed(struct dkim *, struct txn *,
		    void (*bad)(void *, const unsigned char *, size_t, int),
		    void *ctx);

#endif
