/*
 * dkimkeys - the DKIM signing keys and who signs with which, in
 * OpenDKIM's KeyTable and SigningTable formats.
 *
 * Key table lines: "KEYNAME DOMAIN:SELECTOR:KEYFILE" (DOMAIN "%": the
 * domain of the header From).  Signing table lines: "PATTERN KEYNAME...",
 * a pattern being "addr@domain", "*@domain" or "*@*.domain" ("*" matches
 * any run of characters, as OpenDKIM's refile wildcards; ASCII case does
 * not matter).  "#" starts a comment; blank lines are skipped.  The first
 * signing table line that matches decides, with all of its keys (an RSA
 * and an Ed25519 key can sign together).
 *
 * Key files are PEM private keys, RSA or Ed25519, read and checked once
 * when the tables are loaded: a missing, unreadable, world-readable or
 * unparseable key file, an unknown key name or a malformed line refuses
 * the tables with "FILE:LINE: why".  Nothing here logs.
 */
#ifndef RG_DKIMKEYS_H
#define RG_DKIMKEYS_H

#include <stddef.h>

#define DKIMKEYS_MAX_PER_RULE	8	/* keys one signing table line names */

enum dkimkey_type { DKIMKEY_RSA, DKIMKEY_ED25519 };

struct dkimkey {
	char		*name;
	char		*domain;	/* lowercased; "%" for the From domain */
	char		*selector;
	char		*file;
	enum dkimkey_type type;
	int		bits;		/* RSA modulus bits; 256 for Ed25519 */
	unsigned char	*pem;		/* the key file's text, NUL-terminated */
	size_t		pemlen;
};

struct dkimkeys_rule {
	char		*pattern;	/* lowercased */
	size_t		keys[DKIMKEYS_MAX_PER_RULE];	/* into keys[] */
	size_t		nkeys;
};

struct dkimkeys {
	struct dkimkey	*keys;
	size_t		nkeys;
	struct dkimkeys_rule *rules;
	size_t		nrules;
};

/*
 * dkimkeys_load - both tables; NULL with "FILE:LINE: why" in err.  A
 * relative key file path is taken from the key table's directory (a
 * daemon's current directory is "/").
 */
struct dkimkeys *dkimkeys_load(const char *key_table,
			       const char *signing_table, char *err,
			       size_t errlen);
void dkimkeys_free(struct dkimkeys *);

/*
 * dkimkeys_match - the keys for a From address (local@domain): the first
 * rule that matches; their count (0: none), at most max into out
 */
size_t dkimkeys_match(const struct dkimkeys *, const char *addr,
		      const struct dkimkey **out, size_t max);

/*
 * dkimkeys_public - the p= value of a private key's DNS record (base64 of
 * the SubjectPublicKeyInfo for RSA, of the 32 raw bytes for Ed25519);
 * 0, or -1 when it does not fit or the key does not parse
 */
int dkimkeys_public(const unsigned char *pem, size_t len, char *out,
		    size_t size);

#endif
