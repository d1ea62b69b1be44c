/*
 * loginmap - sender_login_maps: which logins own which sender addresses.
 *
 * The file is Postfix's source format for smtpd_sender_login_maps, so an
 * existing map works unchanged:
 *
 *	# key			owners (logins, by commas or spaces)
 *	alice@example.com	alice
 *	list@example.com	alice, bob carol	(several owners)
 *	@example.org		orgadmin		(whole domain, fallback)
 *	postmaster		admin			(user: local domains)
 *	/^(.+)@example\.net$/	${1}			(POSIX ERE, as regexp:)
 *
 * and one extension, the catch-all send-as owner of a domain, who owns
 * every address of it on top of the owners the lookup finds:
 *
 *	*@example.com		helpdesk
 *
 * Lines that start with white space continue the previous value; "#"
 * lines are comments, and so is " # ..." after the owners (Postfix has
 * no such comments; a login never holds " #").  Regular expressions are case-insensitive unless
 * flagged "i" (the flag toggles, as in Postfix), match the whole address,
 * and may use $1..$9 / ${1}..${9} in the owners.  A repeated key keeps
 * the first entry, with a warning.
 *
 * A loaded map is immutable and reference-counted.  A loginmap_src knows
 * the file and swaps in a new map when the file changes (checked at most
 * once a second); a broken file keeps the old map and logs FILE:LINE.
 */
#ifndef RG_LOGINMAP_H
#define RG_LOGINMAP_H

#include <stddef.h>

struct loginmap;
struct loginmap_src;

/* loginmap_load - parse a map; NULL with "FILE:LINE: why" in err */
struct loginmap *loginmap_load(const char *path, int fold_local,
			       char *err, size_t errlen);
struct loginmap *loginmap_ref(struct loginmap *);
void loginmap_unref(struct loginmap *);

/*
 * loginmap_get - the owners of one fixed-string key ("a@b", "a", "@b",
 * "*@b"), already folded as the map folds keys; NULL if absent.  The
 * string lives as long as the map.
 */
const char *loginmap_get(const struct loginmap *, const char *key);
/*
 * loginmap_match - the owners from the first regular expression that
 * matches addr, with $N substituted (a new string, caller frees); NULL if
 * none matches.
 */
char *loginmap_match(const struct loginmap *, const char *addr);
/* loginmap_fold - fold a key the way the map folds its keys, in place */
void loginmap_fold(const struct loginmap *, char *key);
size_t loginmap_size(const struct loginmap *);

/* loginmap_src_open - load the file now; NULL with FILE:LINE in err */
struct loginmap_src *loginmap_src_open(const char *path, int fold_local,
				       char *err, size_t errlen);
void loginmap_src_free(struct loginmap_src *);
/* loginmap_src_get - the current map (reloaded if the file changed) */
struct loginmap *loginmap_src_get(struct loginmap_src *);

/* loginmap_owns - is login one of the owners ("a, b c"), ignoring case */
int loginmap_owns(const char *owners, const char *login);

#endif
