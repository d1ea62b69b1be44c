/*
 * dkimkeys - KeyTable and SigningTable (see dkimkeys.h).
 *
 * The key files are parsed with OpenSSL here, once, so that a key that
 * libopendkim could not use is a configuration error at load time and not
 * a failure on every message; the PEM text is kept for dkim_sign().
 *
 * Diagnostics: the first error, as "FILE:LINE: why".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkimkeys.h"
#include "lines.h"
#include "util.h"

#define DKIMKEYS_FILE_MAX	65536	/* a PEM key is a few KB */

/* dkimkeys_lower - ASCII lowercase in place */
static void
dkimkeys_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* dkimkeys_path - a key file path, relative ones from the table's folder */
static char *
dkimkeys_path(const char *table, const char *file)
{
	const char *slash = strrchr(table, '/');
	struct sbuf p;

	if (*file == '/' || slash == NULL)
		return xstrdup(file);
	sbuf_init(&p);
	sbuf_append(&p, table, (size_t)(slash - table) + 1);
	sbuf_puts(&p, file);
	return sbuf_steal(&p);
}

/*
 * dkimkeys_read_key - read, check and classify one private key file;
 * -1 with why
 */
static int
dkimkeys_read_key(struct dkimkey *k, char *why, size_t len)
{
	struct stat st;
	struct sbuf text;
	char buf[4096];
	ssize_t n;
	BIO *bio;
	EVP_PKEY *pkey;
	int fd, id;

	if ((fd = open(k->file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, len, "key file %s: %s", k->file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "key file %s: not a regular file", k->file);
		close(fd);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(why, len, "key file %s is readable by everyone "
			 "(mode %04o): chmod o-rwx it", k->file,
			 (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	sbuf_init(&text);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sbuf_append(&text, buf, (size_t)n);
		if (text.len > DKIMKEYS_FILE_MAX)
			break;
	}
	close(fd);
	if (n < 0 || text.len > DKIMKEYS_FILE_MAX || text.len == 0) {
		snprintf(why, len, "key file %s: %s", k->file, n < 0 ?
			 strerror(errno) : text.len ? "too big" : "empty");
		sbuf_free(&text);
		return -1;
	}
	bio = BIO_new_mem_buf(text.data, (int)text.len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (pkey == NULL) {
		snprintf(why, len, "key file %s: not a PEM private key "
			 "(RSA or Ed25519) without a passphrase", k->file);
		sbuf_free(&text);
		return -1;
	}
	id = EVP_PKEY_get_id(pkey);
	k->bits = EVP_PKEY_get_bits(pkey);
	EVP_PKEY_free(pkey);
	if (id == EVP_PKEY_RSA) {
		k->type = DKIMKEY_RSA;
	} else if (id == EVP_PKEY_ED25519) {
		k->type = DKIMKEY_ED25519;
	} else {
		snprintf(why, len, "key file %s: neither an RSA nor an Ed25519 "
			 "key", k->file);
		sbuf_free(&text);
		return -1;
	}
	if (k->type == DKIMKEY_RSA && k->bits < 1024) {
		snprintf(why, len, "key file %s: a %d-bit RSA key; RFC 8301 "
			 "wants at least 1024 bits (2048 advised)", k->file,
			 k->bits);
		sbuf_free(&text);
		return -1;
	}
	k->pemlen = text.len;
	k->pem = (unsigned char *)sbuf_steal(&text);
	return 0;
}

/* dkimkeys_key_line - "KEYNAME DOMAIN:SELECTOR:KEYFILE" */
static int
dkimkeys_key_line(struct dkimkeys *t, const char *table, char *line,
		  char *why, size_t len)
{
	char *name = line, *val, *sel, *file;
	struct dkimkey *k;

	val = name + strcspn(name, " \t");
	if (*val == '\0') {
		snprintf(why, len, "want \"KEYNAME DOMAIN:SELECTOR:KEYFILE\"");
		return -1;
	}
	*val++ = '\0';
	val = util_trim(val);
	if (strpbrk(val, " \t") != NULL ||
	    (sel = strchr(val, ':')) == NULL ||
	    (file = strchr(sel + 1, ':')) == NULL) {
		snprintf(why, len, "want \"KEYNAME DOMAIN:SELECTOR:KEYFILE\"");
		return -1;
	}
	*sel++ = '\0';
	*file++ = '\0';
	if (*val == '\0' || *sel == '\0' || *file == '\0') {
		snprintf(why, len, "empty domain, selector or key file");
		return -1;
	}
	for (size_t i = 0; i < t->nkeys; i++)
		if (strcmp(t->keys[i].name, name) == 0) {
			snprintf(why, len, "key name %.64s given twice", name);
			return -1;
		}
	t->keys = xrealloc(t->keys, (t->nkeys + 1) * sizeof(*t->keys));
	k = &t->keys[t->nkeys++];
	memset(k, 0, sizeof(*k));
	k->name = xstrdup(name);
	k->domain = xstrdup(val);
	dkimkeys_lower(k->domain);
	k->selector = xstrdup(sel);
	k->file = dkimkeys_path(table, file);
	return dkimkeys_read_key(k, why, len);
}

/* dkimkeys_rule_line - "PATTERN KEYNAME..." */
static int
dkimkeys_rule_line(struct dkimkeys *t, char *line, char *why, size_t len)
{
	struct dkimkeys_rule r;
	char *tok, *save = NULL;

	memset(&r, 0, sizeof(r));
	tok = strtok_r(line, " \t,", &save);
	if (tok == NULL || strchr(tok, '@') == NULL) {
		snprintf(why, len, "want \"PATTERN KEYNAME...\" with a pattern "
			 "addr@domain, *@domain or *@*.domain");
		return -1;
	}
	if (strpbrk(tok, "?[]\\") != NULL) {
		snprintf(why, len, "pattern %.128s: only \"*\" is a wildcard",
			 tok);
		return -1;
	}
	while ((tok = strtok_r(NULL, " \t,", &save)) != NULL) {
		size_t i;

		for (i = 0; i < t->nkeys; i++)
			if (strcmp(t->keys[i].name, tok) == 0)
				break;
		if (i == t->nkeys) {
			snprintf(why, len, "key %.64s is not in the key table",
				 tok);
			return -1;
		}
		if (r.nkeys == DKIMKEYS_MAX_PER_RULE) {
			snprintf(why, len, "more than %d keys on one line",
				 DKIMKEYS_MAX_PER_RULE);
			return -1;
		}
		r.keys[r.nkeys++] = i;
	}
	if (r.nkeys == 0) {
		snprintf(why, len, "no key name after the pattern");
		return -1;
	}
	r.pattern = xstrdup(line);
	dkimkeys_lower(r.pattern);
	t->rules = xrealloc(t->rules, (t->nrules + 1) * sizeof(*t->rules));
	t->rules[t->nrules++] = r;
	return 0;
}

/* dkimkeys_table - read one table, a line at a time, through fn */
static int
dkimkeys_table(struct dkimkeys *t, const char *path, int keys, char *err,
	       size_t errlen)
{
	struct lines in;
	char *line, why[512];
	int start, rc;

	if (lines_open(&in, path, err, errlen) != 0)
		return -1;
	while ((rc = lines_next(&in, &line, &start, err, errlen)) > 0) {
		line = util_trim(line);
		if ((keys ? dkimkeys_key_line(t, path, line, why, sizeof(why)) :
		     dkimkeys_rule_line(t, line, why, sizeof(why))) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, start, why);
			rc = -1;
			break;
		}
	}
	lines_close(&in);
	return rc;
}

struct dkimkeys *
dkimkeys_load(const char *key_table, const char *signing_table, char *err,
	      size_t errlen)
{
	struct dkimkeys *t = xcalloc(1, sizeof(*t));

	if (dkimkeys_table(t, key_table, 1, err, errlen) != 0 ||
	    dkimkeys_table(t, signing_table, 0, err, errlen) != 0) {
		dkimkeys_free(t);
		return NULL;
	}
	return t;
}

void
dkimkeys_free(struct dkimkeys *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nkeys; i++) {
		free(t->keys[i].name);
		free(t->keys[i].domain);
		free(t->keys[i].selector);
		free(t->keys[i].file);
		if (t->keys[i].pem) {
			memset(t->keys[i].pem, 0, t->keys[i].pemlen);
			free(t->keys[i].pem);
		}
	}
	for (size_t i = 0; i < t->nrules; i++)
		free(t->rules[i].pattern);
	free(t->keys);
	free(t->rules);
	free(t);
}

size_t
dkimkeys_match(const struct dkimkeys *t, const char *addr,
	       const struct dkimkey **out, size_t max)
{
	if (t == NULL)
		return 0;
	for (size_t i = 0; i < t->nrules; i++) {
		const struct dkimkeys_rule *r = &t->rules[i];
		size_t n = 0;

		if (fnmatch(r->pattern, addr, FNM_CASEFOLD) != 0)
			continue;
		for (size_t j = 0; j < r->nkeys && n < max; j++)
			out[n++] = &t->keys[r->keys[j]];
		return n;
	}
	return 0;
}

int
dkimkeys_public(const unsigned char *pem, size_t len, char *out, size_t size)
{
	unsigned char der[4096], *p = der;
	size_t n = sizeof(der);
	EVP_PKEY *pkey;
	BIO *bio;
	int rc = -1, dlen;

	bio = BIO_new_mem_buf(pem, (int)len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (pkey == NULL)
		return -1;
	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, der, &n) != 1)
			n = 0;
	} else if (i2d_PUBKEY(pkey, NULL) <= (int)sizeof(der)) {
		dlen = i2d_PUBKEY(pkey, &p);
		n = dlen > 0 ? (size_t)dlen : 0;
	} else {
		n = 0;
	}
	if (n > 0 && 4 * ((n + 2) / 3) + 1 <= size) {
		EVP_EncodeBlock((unsigned char *)out, der, (int)n);
		rc = 0;
	}
	EVP_PKEY_free(pkey);
	return rc;
}
