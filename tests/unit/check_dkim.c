/*
 * check_dkim - DKIM through the policy: relayguard signs an outbound
 * message (RSA, Ed25519), the signature is verified inbound with keys
 * from the key hook (no DNS), and the outcomes that must not pass do not:
 * a changed body, a key lookup that fails for now, a missing or revoked
 * key, a From added after signing.  Also the key and signing tables.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkimkeys.h"
#include "dkimverify.h"
#include "policy.h"
#include "tests.h"

static char rsa_pub[1024], ed_pub[128];	/* p= values */
static char dir[256];
static char key_rsa[300], key_ed[300], keytable[300], signtable[300];

/* dk_write - a file of mode mode under dir */
static void
dk_write(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

/*
 * dk_key - a new private key in path (mode 0600) made by openssl(1), its
 * p= into pub.  Not made in this process: OpenSSL's encoders keep state
 * that valgrind then blames on the key libopendkim leaks (valgrind.supp)
 */
static void
dk_key(int ed, const char *path, char *pub, size_t size)
{
	char cmd[1024];
	FILE *fp;
	size_t n;

	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm %s -out '%s' "
		 "2>/dev/null && chmod 600 '%s' && openssl pkey -in '%s' "
		 "-pubout -outform DER 2>/dev/null | %s base64 -w0", ed ?
		 "ed25519" : "rsa -pkeyopt rsa_keygen_bits:1024", path, path,
		 path, ed ? "tail -c 32 |" : "");
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(pub, 1, size - 1, fp);
	pub[n] = '\0';
	ck_assert_int_eq(pclose(fp), 0);
	ck_assert_uint_gt(n, 40);
}

/* the key hook: what "DNS" holds for each selector */
static int hook_temp;
static int
dk_hook(const char *name, char *buf, size_t len)
{
	if (hook_temp)
		return -1;
	if (strcmp(name, "rs._domainkey.example.com") == 0)
		snprintf(buf, len, "v=DKIM1; k=rsa; p=%s", rsa_pub);
	else if (strcmp(name, "es._domainkey.example.com") == 0)
		snprintf(buf, len, "v=DKIM1; k=ed25519; p=%s", ed_pub);
	else if (strcmp(name, "revoked._domainkey.example.com") == 0)
		snprintf(buf, len, "v=DKIM1; k=rsa; p=");
	else
		return 1;
	return 0;
}

static void
dk_setup(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(dir, sizeof(dir), "%s/rg-unit-dkim-%ld", tmp, (long)getpid());
	mkdir(dir, 0700);
	snprintf(key_rsa, sizeof(key_rsa), "%s/rsa.pem", dir);
	snprintf(key_ed, sizeof(key_ed), "%s/ed.pem", dir);
	snprintf(keytable, sizeof(keytable), "%s/keys", dir);
	snprintf(signtable, sizeof(signtable), "%s/signing", dir);
	/* 1024 bits: the least RFC 8301 takes, and quick under valgrind */
	dk_key(0, key_rsa, rsa_pub, sizeof(rsa_pub));
	dk_key(1, key_ed, ed_pub, sizeof(ed_pub));
	dk_write(keytable, "rsa example.com:rs:rsa.pem\n"
		 "ed example.com:es:ed.pem\n", 0644);
	dk_write(signtable, "# first match wins\n"
		 "*@example.com rsa ed\n", 0644);
	dkimverify_key_hook = dk_hook;
	hook_temp = 0;
}

static void
dk_teardown(void)
{
	char cmd[400];

	dkimverify_key_hook = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
	dir[0] = '\0';
}

static const char *const dk_headers[][2] = {
	{ "From", "Alice <alice@example.com>" },
	{ "To", "bob@mx.test" },
	{ "Subject", "hello" },
	{ "Date", "Tue, 1 Dec 2026 10:00:00 +0000" },
	{ "Message-ID", "<1@example.com>" },
};
#define DK_BODY "Hello there.\r\nSecond line.\r\n"

/*
 * dk_run - one message through the policy: extra header fields first
 * (sigs: DKIM-Signature values), then dk_headers, then body; the verdict
 * in v, the session returned (free it)
 */
static struct session *
dk_run(struct conf *c, const char *login, const char *const *sigs,
       size_t nsigs, const char *extra_from, const char *body,
       struct verdict *v)
{
	struct session *s = session_new(c);

	verdict_init(v);
	if (login)
		session_set_macro(s, "{auth_authen}", login);
	ck_assert_int_eq(policy_connect(s, "192.0.2.1", "client.test", v),
			 POLICY_CONTINUE);
	ck_assert_int_eq(policy_mail(s, "<alice@example.com>", NULL, v),
			 POLICY_CONTINUE);
	ck_assert_int_eq(policy_rcpt(s, "<bob@mx.test>", v), POLICY_CONTINUE);
	if (extra_from)
		policy_header(s, "From", extra_from, 0, v);
	for (size_t i = 0; i < nsigs; i++)
		policy_header(s, "DKIM-Signature", sigs[i], 0, v);
	for (size_t i = 0; i < sizeof(dk_headers) / sizeof(dk_headers[0]); i++)
		policy_header(s, dk_headers[i][0], dk_headers[i][1], 0, v);
	ck_assert_int_eq(policy_eoh(s, v), POLICY_CONTINUE);
	ck_assert_int_eq(policy_body(s, (const unsigned char *)body,
				     strlen(body), v), POLICY_CONTINUE);
	policy_eom(s, v);
	return s;
}

static struct conf *
dk_conf(int sign)
{
	struct conf *c = conf_defaults();
	char err[512];

	c->spf = 0;
	c->dmarc = 0;		/* check_dmarc.c tests it */
	free(c->authserv_id);
	c->authserv_id = strdup("mx.test");
	if (sign) {
		c->dkim_keys = dkimkeys_load(keytable, signtable, err,
					     sizeof(err));
		ck_assert_msg(c->dkim_keys != NULL, "%s", err);
	}
	return c;
}

/* dk_sign - relayguard signs the test message; the values into sigs */
static size_t
dk_sign(char **sigs, size_t max)
{
	struct conf *c = dk_conf(1);
	struct verdict v;
	struct session *s = dk_run(c, "alice", NULL, 0, NULL, DK_BODY, &v);
	size_t n = 0;

	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	for (size_t i = 0; i < v.nadd && n < max; i++)
		if (strcmp(v.add[i].name, "DKIM-Signature") == 0)
			sigs[n++] = strdup(v.add[i].value);
	ck_assert_ptr_null(symbols_find(&s->txn->symbols, "DKIM_PASS"));
	session_free(s);
	verdict_clear(&v);
	conf_unref(c);
	return n;
}

/* dk_ar - the Authentication-Results value added, or "" */
static const char *
dk_ar(const struct verdict *v)
{
	for (size_t i = 0; i < v->nadd; i++)
		if (strcmp(v->add[i].name, "Authentication-Results") == 0)
			return v->add[i].value;
	return "";
}

START_TEST(test_sign_then_verify)
{
	char *sigs[4];
	size_t n = dk_sign(sigs, 4), nr;
	struct conf *c = dk_conf(0);
	struct verdict v;
	struct session *s;
	const struct dkim_result *r;

	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_nonnull(strstr(sigs[0], "a=rsa-sha256; "));
	ck_assert_ptr_nonnull(strstr(sigs[0], "c=relaxed/relaxed; "));
	ck_assert_ptr_nonnull(strstr(sigs[0], "h=From:To:Subject:Date:"
				     "Message-ID:from;"));
	ck_assert_ptr_nonnull(strstr(sigs[1], "a=ed25519-sha256; "));
	ck_assert_ptr_null(strchr(sigs[0], '\n'));	/* one line */
	s = dk_run(c, NULL, (const char *const *)sigs, n, NULL, DK_BODY, &v);
	ck_assert_ptr_nonnull(strstr(dk_ar(&v), "mx.test; dkim=pass "
				     "header.d=example.com header.s=rs "
				     "header.a=rsa-sha256 header.b="));
	ck_assert_ptr_nonnull(strstr(dk_ar(&v), "; dkim=pass "
				     "header.d=example.com header.s=es "
				     "header.a=ed25519-sha256 header.b="));
	r = dkimverify_results(s->txn, &nr);
	ck_assert_uint_eq(nr, 2);
	ck_assert_int_eq(r[0].result, DKIM_RES_PASS);
	ck_assert_str_eq(r[0].domain, "example.com");
	ck_assert_str_eq(r[0].selector, "rs");
	ck_assert_str_eq(r[0].algorithm, "rsa-sha256");
	ck_assert_int_eq(r[0].from_once, 1);
	ck_assert_int_eq(r[0].length, -1);
	ck_assert_uint_eq(r[0].key_bits, 1024);
	ck_assert_int_eq(r[1].result, DKIM_RES_PASS);
	ck_assert_uint_eq(strlen(r[1].b), DKIMV_BPREFIX);
	ck_assert_ptr_nonnull(symbols_find(&s->txn->symbols, "DKIM_PASS"));
	session_free(s);
	verdict_clear(&v);
	conf_unref(c);
	for (size_t i = 0; i < n; i++)
		free(sigs[i]);
}
END_TEST

/* dk_verify_one - the RSA signature against a variation; its result */
static enum dkim_res
dk_verify_one(const char *extra_from, const char *body, const char *symbol,
	      const char *ar)
{
	char *sigs[4];
	size_t n = dk_sign(sigs, 4), nr;
	struct conf *c = dk_conf(0);
	struct verdict v;
	struct session *s;
	const struct dkim_result *r;
	enum dkim_res res;

	s = dk_run(c, NULL, (const char *const *)sigs, 1, extra_from, body,
		   &v);
	r = dkimverify_results(s->txn, &nr);
	ck_assert_uint_eq(nr, 1);
	res = r[0].result;
	if (symbol)
		ck_assert_msg(symbols_find(&s->txn->symbols, symbol) != NULL,
			      "no %s", symbol);
	if (ar)
		ck_assert_msg(strstr(dk_ar(&v), ar) != NULL, "%s not in %s",
			      ar, dk_ar(&v));
	if (extra_from)
		ck_assert_int_eq(r[0].from_once, 0);
	session_free(s);
	verdict_clear(&v);
	conf_unref(c);
	for (size_t i = 0; i < n; i++)
		free(sigs[i]);
	return res;
}

START_TEST(test_body_changed)
{
	ck_assert_int_eq(dk_verify_one(NULL, "Hello therE.\r\nSecond line.\r\n",
				       "DKIM_FAIL", "dkim=fail header.d="),
			 DKIM_RES_FAIL);
}
END_TEST

START_TEST(test_key_temporary)
{
	hook_temp = 1;
	ck_assert_int_eq(dk_verify_one(NULL, DK_BODY, "DKIM_TEMPERROR",
				       "dkim=temperror header.d=example.com"),
			 DKIM_RES_TEMPERROR);
}
END_TEST

START_TEST(test_from_added)
{
	/* h= names From once (plus the oversigned empty one): the added
	 * From makes the signature fail, and it could never count as
	 * covering the From a reader sees */
	enum dkim_res r = dk_verify_one("Mallory <m@evil.test>", DK_BODY, NULL,
					NULL);

	ck_assert_int_ne(r, DKIM_RES_PASS);
}
END_TEST

START_TEST(test_no_signature)
{
	struct conf *c = dk_conf(0);
	struct verdict v;
	struct session *s = dk_run(c, NULL, NULL, 0, NULL, DK_BODY, &v);
	size_t nr = 9;

	ck_assert_str_eq(dk_ar(&v), "mx.test; dkim=none");
	ck_assert_ptr_nonnull(symbols_find(&s->txn->symbols, "DKIM_NONE"));
	dkimverify_results(s->txn, &nr);
	ck_assert_uint_eq(nr, 0);
	session_free(s);
	verdict_clear(&v);
	conf_unref(c);
}
END_TEST

/* a hand-made signature whose key is missing or revoked: permerror */
START_TEST(test_missing_and_revoked_key)
{
	const char *sel[] = { "nokey", "revoked" };

	for (int i = 0; i < 2; i++) {
		char sig[512];
		const char *sigs[1] = { sig };
		struct conf *c = dk_conf(0);
		struct verdict v;
		struct session *s;
		const struct dkim_result *r;
		size_t nr;

		snprintf(sig, sizeof(sig), "v=1; a=rsa-sha256; c=relaxed/relaxed;"
			 " d=example.com; s=%s; h=From:To; bh=AAAAAAAAAAAAAAAAAAAA"
			 "AAAAAAAAAAAAAAAAAAAAAAA=; b=AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			 sel[i]);
		s = dk_run(c, NULL, sigs, 1, NULL, DK_BODY, &v);
		r = dkimverify_results(s->txn, &nr);
		ck_assert_uint_eq(nr, 1);
		ck_assert_int_eq(r[0].result, DKIM_RES_PERMERROR);
		ck_assert_ptr_nonnull(strstr(dk_ar(&v), "dkim=permerror "));
		session_free(s);
		verdict_clear(&v);
		conf_unref(c);
	}
}
END_TEST

/* dkim_temperror_action = tempfail: 451 4.4.3 */
START_TEST(test_temperror_action)
{
	char *sigs[4];
	size_t n = dk_sign(sigs, 4);
	struct conf *c = dk_conf(0);
	struct verdict v;
	struct session *s;

	hook_temp = 1;
	c->dkim_temperror_action = ACTION_TEMPFAIL;
	s = dk_run(c, NULL, (const char *const *)sigs, n, NULL, DK_BODY, &v);
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	ck_assert_str_eq(v.code, "451");
	ck_assert_str_eq(v.xcode, "4.4.3");
	session_free(s);
	verdict_clear(&v);
	conf_unref(c);
	for (size_t i = 0; i < n; i++)
		free(sigs[i]);
}
END_TEST

/* the tables: matching, and FILE:LINE errors */
START_TEST(test_tables)
{
	struct dkimkeys *k;
	const struct dkimkey *out[4];
	char err[512], want[400];
	static const struct {
		const char *keys, *signing, *err;	/* err: "" loads */
	} bad[] = {
		{ "rsa example.com:rs\n", "*@example.com rsa\n",
		  "keys:1: want \"KEYNAME DOMAIN:SELECTOR:KEYFILE\"" },
		{ "rsa example.com:rs:missing.pem\n", "*@example.com rsa\n",
		  "keys:1: key file " },
		{ "rsa example.com:rs:rsa.pem\n", "\n*@example.com other\n",
		  "signing:2: key other is not in the key table" },
		{ "rsa example.com:rs:rsa.pem\n", "example.com rsa\n",
		  "signing:1: want \"PATTERN KEYNAME...\"" },
		{ "rsa example.com:rs:rsa.pem\nrsa x:y:rsa.pem\n",
		  "*@example.com rsa\n", "keys:2: key name rsa given twice" },
	};

	dk_write(signtable, "bob@example.com ed\n*@example.com rsa\n"
		 "*@*.example.org ed rsa\n", 0644);
	k = dkimkeys_load(keytable, signtable, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	ck_assert_uint_eq(dkimkeys_match(k, "bob@example.com", out, 4), 1);
	ck_assert_str_eq(out[0]->name, "ed");
	ck_assert_int_eq(out[0]->type, DKIMKEY_ED25519);
	ck_assert_uint_eq(dkimkeys_match(k, "Alice@EXAMPLE.com", out, 4), 1);
	ck_assert_str_eq(out[0]->name, "rsa");
	ck_assert_int_eq(out[0]->bits, 1024);
	ck_assert_uint_eq(dkimkeys_match(k, "a@mail.example.org", out, 4), 2);
	ck_assert_uint_eq(dkimkeys_match(k, "a@example.org", out, 4), 0);
	ck_assert_uint_eq(dkimkeys_match(k, "a@notexample.com", out, 4), 0);
	dkimkeys_free(k);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dk_write(keytable, bad[i].keys, 0644);
		dk_write(signtable, bad[i].signing, 0644);
		ck_assert_ptr_null(dkimkeys_load(keytable, signtable, err,
						 sizeof(err)));
		snprintf(want, sizeof(want), "%s/%s", dir, bad[i].err);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
			      "case %zu: %s", i, err);
	}
	/* a key file everyone can read is refused */
	chmod(key_rsa, 0644);
	dk_write(keytable, "rsa example.com:rs:rsa.pem\n", 0644);
	dk_write(signtable, "*@example.com rsa\n", 0644);
	ck_assert_ptr_null(dkimkeys_load(keytable, signtable, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "is readable by everyone"));
	chmod(key_rsa, 0600);
}
END_TEST

Suite *
dkim_suite(void)
{
	Suite *s = suite_create("dkim");
	TCase *tc = tcase_create("dkim");

	tcase_add_checked_fixture(tc, dk_setup, dk_teardown);
	tcase_add_test(tc, test_sign_then_verify);
	tcase_add_test(tc, test_body_changed);
	tcase_add_test(tc, test_key_temporary);
	tcase_add_test(tc, test_from_added);
	tcase_add_test(tc, test_no_signature);
	tcase_add_test(tc, test_missing_and_revoked_key);
	tcase_add_test(tc, test_temperror_action);
	tcase_add_test(tc, test_tables);
	suite_add_tcase(s, tc);
	return s;
}
