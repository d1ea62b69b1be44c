/*
 * dkimcmd - DKIM key commands (see dkimcmd.h).
 *
 *   relayguard dkim-keygen -d DOMAIN -s SELECTOR [-a rsa|ed25519]
 *                          [-b BITS] [-o FILE]
 *	writes the private key (PEM, mode 0600, never over an existing
 *	file; default SELECTOR.private) and prints the TXT record to
 *	publish at SELECTOR._domainkey.DOMAIN, strings split at 250 bytes,
 *	then the key table line.  Exit 0, or 2.
 *
 *   relayguard dkim-check -c FILE
 *	for every key of dkim_key_table, looks the selector up through
 *	the configured resolver and prints "ok", "missing", "mismatch"
 *	(the record's p= is not the key's: the usual accident of a key
 *	rotation), "revoked" or "temperror" with the key name and the DNS
 *	name.  Exit 0 when every key is ok, 1 when one is not, 2 for bad
 *	usage or configuration.
 *
 * The daemon logs the same lines at start and after each reload
 * (dkimcmd_log_keys), within 5 seconds all together.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "conf.h"
#include "dkimcmd.h"
#include "dkimkeys.h"
#include "log.h"
#include "resolver.h"
#include "util.h"

#define DKIMCMD_P_MAX	2048	/* p= of a 8192-bit RSA key is ~1400 */
#define DKIMCMD_LOG_BUDGET 5000	/* ms the daemon spends checking keys */

/* dkimcmd_write_key - a new key as PEM in path, mode 0600, exclusive */
static int
dkimcmd_write_key(EVP_PKEY *k, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *fp;
	int ok;

	if (fd < 0) {
		fprintf(stderr, "relayguard dkim-keygen: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(fp) != 0 || !ok) {
		fprintf(stderr, "relayguard dkim-keygen: cannot write %s\n",
			path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* dkimcmd_record - the TXT record of a key, strings of 250 bytes */
static void
dkimcmd_record(const char *sel, const char *dom, int ed, const char *p)
{
	size_t len = strlen(p);

	printf("%s._domainkey.%s. IN TXT ( \"v=DKIM1; k=%s; \"", sel, dom,
	       ed ? "ed25519" : "rsa");
	for (size_t o = 0; o < len; o += 248)
		printf(" \"%s%.*s\"", o == 0 ? "p=" : "", (int)(len - o < 248 ?
		       len - o : 248), p + o);
	printf(" )\n");
}

int
dkimcmd_keygen(int argc, char **argv)
{
	const char *dom = NULL, *sel = NULL, *alg = "rsa", *out = NULL;
	char path[1024], p[DKIMCMD_P_MAX];
	unsigned char *pem = NULL;
	long bits = 2048;
	EVP_PKEY *k;
	FILE *fp;
	size_t plen;
	int ch, ed;

	while ((ch = getopt(argc, argv, "d:s:a:b:o:h")) != -1) {
		switch (ch) {
		case 'd': dom = optarg; break;
		case 's': sel = optarg; break;
		case 'a': alg = optarg; break;
		case 'b': bits = strtol(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		default:
			goto usage;
		}
	}
	ed = strcasecmp(alg, "ed25519") == 0;
	if (dom == NULL || sel == NULL || optind != argc ||
	    (!ed && strcasecmp(alg, "rsa") != 0) ||
	    (!ed && (bits < 1024 || bits > 8192)))
		goto usage;
	if (out != NULL)
		snprintf(path, sizeof(path), "%s", out);
	else
		snprintf(path, sizeof(path), "%s.private", sel);
	k = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (k == NULL) {
		fprintf(stderr, "relayguard dkim-keygen: key generation failed\n");
		return 2;
	}
	if (dkimcmd_write_key(k, path) != 0) {
		EVP_PKEY_free(k);
		return 2;
	}
	EVP_PKEY_free(k);
	/* the record from the file as written: what the daemon will read */
	if ((fp = fopen(path, "r")) == NULL)
		return 2;
	pem = xmalloc(16384);
	plen = fread(pem, 1, 16383, fp);
	fclose(fp);
	if (dkimkeys_public(pem, plen, p, sizeof(p)) != 0) {
		free(pem);
		return 2;
	}
	memset(pem, 0, plen);
	free(pem);
	dkimcmd_record(sel, dom, ed, p);
	printf("# dkim_key_table line:\n%s %s:%s:%s\n", sel, dom, sel, path);
	return 0;
usage:
	fputs("usage: relayguard dkim-keygen -d DOMAIN -s SELECTOR "
	      "[-a rsa|ed25519] [-b BITS (1024-8192, default 2048)] [-o FILE]\n",
	      stderr);
	return 2;
}

/* dkimcmd_tag - tag's value in a key record, white space removed */
static void
dkimcmd_tag(const char *rec, const char *tag, char *out, size_t size,
	    int *found)
{
	size_t tl = strlen(tag), o = 0;
	const char *p = rec;

	*found = 0;
	*out = '\0';
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (strncasecmp(p, tag, tl) == 0) {
			const char *q = p + tl;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=') {
				*found = 1;
				for (q++; *q && *q != ';' && o + 1 < size; q++)
					if (*q != ' ' && *q != '\t')
						out[o++] = *q;
				out[o] = '\0';
				return;
			}
		}
		p += strcspn(p, ";");
	}
}

/*
 * dkimcmd_key_status - one key against DNS: "ok KEY NAME", "missing ...",
 * "mismatch ...", "revoked ...", "temperror ..." or "skip ..." into
 * line; 0 when it matches (or is skipped)
 */
static int
dkimcmd_key_status(struct resolver *r, int ms, const struct dkimkey *k,
		   char *line, size_t len)
{
	char name[600], want[DKIMCMD_P_MAX], got[DKIMCMD_P_MAX];
	struct dns_answer ans;
	int found = 0, rc = 1;

	snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector,
		 k->domain);
	if (strcmp(k->domain, "%") == 0) {
		snprintf(line, len, "skip %s %s: the domain is the From "
			 "domain", k->name, name);
		return 0;
	}
	if (dkimkeys_public(k->pem, k->pemlen, want, sizeof(want)) != 0) {
		snprintf(line, len, "error %s %s: the key does not parse",
			 k->name, name);
		return 1;
	}
	resolver_query(r, name, DNS_T_TXT, ms, &ans);
	if (ans.status == DNS_OK && ans.count > 0 && ans.rr[0].txt)
		dkimcmd_tag(ans.rr[0].txt, "p", got, sizeof(got), &found);
	if (ans.status == DNS_TEMPFAIL || ans.status == DNS_TIMEOUT)
		snprintf(line, len, "temperror %s %s: %s", k->name, name,
			 dns_status_name(ans.status));
	else if (!found)
		snprintf(line, len, "missing %s %s: no key record (%s)",
			 k->name, name, dns_status_name(ans.status));
	else if (*got == '\0')
		snprintf(line, len, "revoked %s %s: p= is empty", k->name,
			 name);
	else if (strcmp(got, want) != 0)
		snprintf(line, len, "mismatch %s %s: the published key is not "
			 "%s", k->name, name, k->file);
	else {
		snprintf(line, len, "ok %s %s", k->name, name);
		rc = 0;
	}
	dns_answer_free(&ans);
	return rc;
}

void
dkimcmd_log_keys(struct conf *c)
{
	struct resolver *r;
	struct timespec t0, now;
	char err[256], line[1200];
	long spent;

	if (c->dkim_keys == NULL)
		return;
	if ((r = conf_resolver(c, err, sizeof(err))) == NULL) {
		log_warn("dkim-check: DNS resolver: %s", err);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < c->dkim_keys->nkeys; i++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		spent = (now.tv_sec - t0.tv_sec) * 1000L +
		    (now.tv_nsec - t0.tv_nsec) / 1000000L;
		if (spent >= DKIMCMD_LOG_BUDGET) {
			log_warn("dkim-check: %zu keys not checked (DNS too "
				 "slow); run relayguard dkim-check",
				 c->dkim_keys->nkeys - i);
			return;
		}
		if (dkimcmd_key_status(r, c->dns_timeout < 2000 ?
				       c->dns_timeout : 2000,
				       &c->dkim_keys->keys[i], line,
				       sizeof(line)) == 0)
			log_info("dkim-check: %s", line);
		else
			log_warn("dkim-check: %s", line);
	}
}

int
dkimcmd_check(int argc, char **argv)
{
	const char *path = NULL;
	struct conf *c;
	struct resolver *r;
	char err[1024];
	int ch, bad = 0;

	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		if (ch != 'c')
			goto usage;
		path = optarg;
	}
	if (path == NULL || optind != argc)
		goto usage;
	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	log_open(LOG_SINK_STDERR, c->log_facility, c->log_level);
	if (c->dkim_keys == NULL) {
		fprintf(stderr, "%s: no dkim_key_table\n", path);
		conf_unref(c);
		return 2;
	}
	if ((r = conf_resolver(c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "DNS resolver: %s\n", err);
		conf_unref(c);
		return 2;
	}
	for (size_t i = 0; i < c->dkim_keys->nkeys; i++) {
		char line[1200];

		bad |= dkimcmd_key_status(r, c->dns_timeout,
					  &c->dkim_keys->keys[i], line,
					  sizeof(line));
		printf("%s\n", line);
	}
	conf_unref(c);
	return bad ? 1 : 0;
usage:
	fputs("usage: relayguard dkim-check -c FILE\n", stderr);
	return 2;
}
