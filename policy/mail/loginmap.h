/*
 * loginmap - sender_login_maps: which logins own which sender addresses.
 *
 * The file is Postfix's source format for smtpd_sender_login_maps (what
 * postmap(1) reads), so an existing map works unchanged:
 *
 *	# key			owners (logins, by commas or spaces)
 *	alice@example.com	alice
 *	list@example.com	alice, bob carol
 *	"john doe"@example.com	john
 *	@example.org		orgadmin
 *	postmaster		admin
 *	/^(.+)@example\.net$/	${1}
 *
 * (one address; several owners; a quoted key that holds a space, one key
 * as postmap has it since Postfix 3.2; a whole domain, the fallback; a
 * bare user, for local_domains and sender_myorigin; a POSIX ERE, as in a
 * regexp: table), and one extension, the catch-all send-as owner of a
 * domain, who owns every address of it on top of the owners the lookup
 * finds:
 *
 *	*@example.com		helpdesk
 *
 * As in Postfix, "#" starts a comment only at the start of a line (after
 * optional white space): "alice # bob" has the owners "alice", "#" and
 * "bob".  Lines that start with white space continue the previous value.
 * A key ends at the first white space outside double quotes; a backslash
 * escapes the next character; quotes stay part of the key.  Fixed keys
 * fold case as Postfix's casefold() (UTF-8, see casefold.h), all of the
 * key or with fold_local off only the domain.  Regular expressions are
 * case-insensitive unless flagged "i" (the flag toggles, as in Postfix),
 * match the whole address, and may use $1..$9 / ${1}..${9} in the
 * owners.  A repeated key keeps the first entry, with a warning.
 *
 * A loaded map is immutable and reference-counted.  A loginmap_src knows
 * the file and swaps in a new map when the file changes, safely:
 *   - the file is looked at most once a second, and a changed file is read
 *     only once it has settled: its mtime is at least 2 s old, or it has
 *     not changed for 2 s;
 *   - a file that does not load (half written: FILE:LINE logged), an empty
 *     map, or one with fewer than half the entries of the loaded map is
 *     refused (logged once per change); the loaded map stays, but is not
 *     trusted (loginmap_src_trusted() says 0) until the file loads again
 *     or is the loaded version again; SIGHUP (a new loginmap_src) takes
 *     any file that loads;
 *   - a file that is gone is logged, and the loaded map stays, trusted.
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
/* loginmap_fold - a key folded the way the map folds its keys (new string) */
char *loginmap_fold(const struct loginmap *, const char *key);
size_t loginmap_size(const struct loginmap *);
/* loginmap_folds_local - does the map fold local parts (not only domains) */
int loginmap_folds_local(const struct loginmap *);

/* loginmap_src_open - load the file now; NULL with FILE:LINE in err */
struct loginmap_src *loginmap_src_open(const char *path, int fold_local,
				       char *err, size_t errlen);
void loginmap_src_free(struct loginmap_src *);
/* loginmap_src_get - the current map (reloaded if the file changed) */
struct loginmap *loginmap_src_get(struct loginmap_src *);
/* loginmap_src_poll - look at the file now (loginmap_src_get does, once a second) */
void loginmap_src_poll(struct loginmap_src *);
/* loginmap_src_trusted - 0 while a changed file is refused (see above) */
int loginmap_src_trusted(struct loginmap_src *);
/* loginmap_src_set_settle - how old a changed file must be (tests) */
void loginmap_src_set_settle(struct loginmap_src *, long ms);
/* loginmap_src_path - the text file read */
const char *loginmap_src_path(const struct loginmap_src *);
/* loginmap_src_size - the entries of the current map */
size_t loginmap_src_size(struct loginmap_src *);

/* loginmap_owns - is login one of the owners ("a, b c"), case folded */
int loginmap_owns(const char *owners, const char *login);

#endif
