/*
 * fuzz_dkim - DKIM on hostile input: messages through the policy with
 * verification on (libopendkim's signature and key parsers, our header
 * feed, tag reader and result mapping), and the signing tables.
 *
 * Byte 0: bit 0 chooses the mode.
 *   verification (0): the rest is a raw message, split by rawmsg as
 *     Postfix would (bit 1: with SMFIP_HDR_LEADSPC) and run through the
 *     policy with dkim on; keys come from the key hook: selector "a" an
 *     RSA 1024 key, "e" an Ed25519 key, "t" a temporary failure, "r" a
 *     revoked key, "j" junk; any other selector has no key.  The seeds
 *     hold messages signed with the first two (dkimpy).
 *     Invariants: the verdict is final; at most 8 results; each result
 *     has a known name and bounded, printable fields; the
 *     Authentication-Results value is printable and names one dkim= per
 *     result (or dkim=none); a temporary key failure is never a pass.
 *   tables (1): the rest, split at the first NUL, is a key table and a
 *     signing table; loading either succeeds or fails with
 *     "FILE:LINE: why" naming one of the two files, LINE within it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkimkeys.h"
#include "dkimverify.h"
#include "fuzz.h"
#include "log.h"
#include "policy.h"
#include "rawmsg.h"

static const char fz_rsa[] = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC/H6G/alFlxxHK1RnRYso35vb5RT8fn4RRB/fwQmxAeQQrgEaB3euqHCyqsNCP7lYqbhlV0y4WfcF6gFT0PF2S9R2Xu2aNj9kBgtV8eJ14bjcWJC+QKHB6UT4B7WPWn6JmLZF3BuZSsQQQuMlp0jKMUmR4E6QOIjy/E9z+GPut6QIDAQAB";
static const char fz_ed[] = "Pg6FmMI4hyAYsf8qiXvchkex0gzO1wSKaU+KbFuBpPw=";
static struct conf *conf;

/* fz_hook - the key "DNS" of this harness */
static int
fz_hook(const char *name, char *buf, size_t len)
{
	if (strncmp(name, "a._domainkey.", 13) == 0)
		snprintf(buf, len, "v=DKIM1; k=rsa; p=%s", fz_rsa);
	else if (strncmp(name, "e._domainkey.", 13) == 0)
		snprintf(buf, len, "v=DKIM1; k=ed25519; p=%s", fz_ed);
	else if (strncmp(name, "t._domainkey.", 13) == 0)
		return -1;
	else if (strncmp(name, "r._domainkey.", 13) == 0)
		snprintf(buf, len, "v=DKIM1; p=");
	else if (strncmp(name, "j._domainkey.", 13) == 0)
		snprintf(buf, len, "v=DKIM2; k=foo; h=md5; p=%%%%; t=y:s; n=\x01");
	else
		return 1;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_EMERG);
	conf = conf_defaults();
	conf->spf = 0;
	conf->dkim = 1;
	free(conf->authserv_id);
	conf->authserv_id = xstrdup("mx.example.org");
	dkimverify_key_hook = fz_hook;
	return 0;
}

struct fz_run {
	struct session	*s;
	struct verdict	*v;
};

static int
fz_header(void *ctx, const char *name, const char *value)
{
	struct fz_run *r = ctx;

	return policy_header(r->s, name, value, 1, r->v) != POLICY_CONTINUE;
}

static int
fz_eoh(void *ctx)
{
	struct fz_run *r = ctx;

	return policy_eoh(r->s, r->v) != POLICY_CONTINUE;
}

static int
fz_body(void *ctx, const unsigned char *data, size_t len)
{
	struct fz_run *r = ctx;

	return policy_body(r->s, data, len, r->v) != POLICY_CONTINUE;
}

/* fz_verify - one message through the policy; the invariants */
static void
fz_verify(const uint8_t *data, size_t size, int leadspc)
{
	struct verdict v;
	struct fz_run r = { session_new(conf), &v };
	struct rawmsg_sink sink = { &r, fz_header, fz_eoh, fz_body, leadspc };
	struct rawmsg m;
	const struct dkim_result *res;
	const char *ar = NULL;
	size_t n = 0, ndkim = 0;
	int ended;

	verdict_init(&v);
	policy_connect(r.s, "192.0.2.1", "client.example", &v);
	ended = policy_mail(r.s, "<a@example.com>", NULL, &v) != POLICY_CONTINUE;
	if (!ended)
		ended = policy_rcpt(r.s, "<b@example.org>", &v) != POLICY_CONTINUE;
	if (!ended) {
		rawmsg_init(&m, &sink, conf->max_header_size);
		ended = rawmsg_feed(&m, data, size);
		ended = rawmsg_finish(&m) || ended;
		if (!ended)
			policy_eom(r.s, &v);
	}
	FZ_CHECK(v.final, "no final verdict");
	if (!ended && r.s->txn != NULL) {
		res = dkimverify_results(r.s->txn, &n);
		FZ_CHECK(n <= 8, "%zu results", n);
		for (size_t i = 0; i < n; i++) {
			FZ_CHECK(res[i].result >= DKIM_RES_PASS &&
				 res[i].result <= DKIM_RES_TEMPERROR,
				 "result %d", (int)res[i].result);
			FZ_CHECK(fz_printable(res[i].domain,
					      strlen(res[i].domain), 0) &&
				 fz_printable(res[i].selector,
					      strlen(res[i].selector), 0) &&
				 fz_printable(res[i].b, strlen(res[i].b), 0),
				 "unprintable result fields");
			FZ_CHECK(strlen(res[i].b) <= DKIMV_BPREFIX, "long b");
			if (strcmp(res[i].selector, "t") == 0)
				FZ_CHECK(res[i].result != DKIM_RES_PASS,
					 "a failed key lookup passed");
		}
		for (size_t i = 0; i < v.nadd; i++) {
			FZ_CHECK(fz_printable(v.add[i].value,
					      strlen(v.add[i].value), 0),
				 "unprintable %s", v.add[i].name);
			if (strcmp(v.add[i].name, "Authentication-Results") == 0)
				ar = v.add[i].value;
		}
		if (ar != NULL) {
			/* method results start after "; " (header.b may
			 * be a quoted string holding anything base64) */
			for (const char *p = ar; (p = strstr(p, "; dkim=")); p++)
				ndkim++;
			FZ_CHECK(ndkim == (n ? n : 1), "%zu dkim= for %zu "
				 "results: %s", ndkim, n, ar);
		}
	}
	session_free(r.s);
	verdict_clear(&v);
}

/* fz_tables - the two tables from the input */
static void
fz_tables(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t klen = nul ? (size_t)(nul - data) : size;
	char kpath[4096], spath[4096], err[1024];
	struct dkimkeys *k;
	long line, lines;

	fz_temp_file("keys", data, klen, kpath, sizeof(kpath));
	fz_temp_file("signing", nul ? nul + 1 : data + size,
		     nul ? size - klen - 1 : 0, spath, sizeof(spath));
	err[0] = '\0';
	k = dkimkeys_load(kpath, spath, err, sizeof(err));
	if (k == NULL) {
		if ((line = fz_err_line(err, kpath)) >= 0)
			lines = fz_count_lines(data, klen);
		else if ((line = fz_err_line(err, spath)) >= 0)
			lines = nul ? fz_count_lines(nul + 1, size - klen - 1) : 0;
		else
			lines = -1;
		FZ_CHECK(line >= 0 && line <= lines, "error \"%s\"", err);
	} else {
		const struct dkimkey *out[DKIMKEYS_MAX_PER_RULE];

		dkimkeys_match(k, "alice@example.com", out,
			       DKIMKEYS_MAX_PER_RULE);
		dkimkeys_free(k);
	}
	unlink(kpath);
	unlink(spath);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fz_tables(data + 1, size - 1);
	else
		fz_verify(data + 1, size - 1, (data[0] & 2) != 0);
	return 0;
}
