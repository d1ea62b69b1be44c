/*
 * fuzz_loginmap - loginmap_load() (policy/mail/loginmap.c over policy/lib/lines.c),
 * then the lookups sender.c makes: loginmap_get, loginmap_match with $N
 * substitution, sender_owners, loginmap_owns.
 *
 * Feeds: the input written to a new mkstemp file in a private directory
 * under $TMPDIR, loaded with fold_local on (the default) and off, then
 * unlinked.  Probe addresses: a fixed list (plus-extensions, alias and
 * local domains, odd bytes, a long one) and the keys of the input's own
 * lines (the first word of each line that starts a logical line), so
 * regexps and $N are exercised on addresses they match.
 *
 * Invariants beyond "no crash, no leak":
 *   - failure: err is "PATH:LINE: why", LINE in 1..(physical lines);
 *   - success: every fixed-string key of the file, folded as the map folds
 *     keys, is found by loginmap_get (a duplicate keeps its first entry,
 *     but is found); loginmap_size >= that number of distinct keys;
 *   - loginmap_match and sender_owners return NULL or a string; for a
 *     probe that is a key, sender_owners finds owners;
 *   - loginmap_owns(owners, login) is true for each login in the owners.
 * RG_FUZZ_KNOWN=loginmap-regcomp skips maps whose regexps may make glibc's
 * regcomp() blow up (see tests/fuzz/crashers/README), so fuzzing
 * can go on past that known issue.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "log.h"
#include "loginmap.h"
#include "sender.h"
#include "util.h"

#define FZ_MAXPROBES	24

static struct conf *conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_EMERG);	/* duplicate-key warnings */
	conf = conf_defaults();
	strlist_free(&conf->local_domains);
	strlist_parse(&conf->local_domains, "example.com, localhost", 1);
	strlist_free(&conf->sender_domain_aliases);
	strlist_parse(&conf->sender_domain_aliases,
		      "alias.example=example.com, old.example.org=example.org",
		      1);
	return 0;
}

static const char *const fixed_probes[] = {
	"alice@example.com", "Alice+Tag@EXAMPLE.COM", "bob@alias.example",
	"postmaster", "postmaster@example.com", "x@example.org",
	"joe.user@example.edu", "@example.org", "*@example.com",
	"user+@example.net", "+x@example.net", "a@b@c", "\"q u\"@example.com",
	"caf\xc3\xa9@example.com", "", "@",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"@example.com",
};

/* check_owners - every login in owners is one loginmap_owns() accepts */
static void
check_owners(const char *owners)
{
	char *copy = xstrdup(owners), *save = NULL, *w;

	for (w = strtok_r(copy, ", \t", &save); w;
	     w = strtok_r(NULL, ", \t", &save))
		FZ_CHECK(loginmap_owns(owners, w), "\"%s\" not an owner in "
			 "\"%s\"", w, owners);
	free(copy);
}

static void
probe(const struct loginmap *map, const char *addr, int is_key)
{
	char *copy = xstrdup(addr), *at = strrchr(copy, '@'), *o;
	const char *local = copy, *domain = "";

	if ((o = loginmap_match(map, addr)) != NULL) {
		check_owners(o);
		free(o);
	}
	if (at != NULL) {
		*at = '\0';
		domain = at + 1;
	}
	o = sender_owners(map, conf, local, domain);
	/*
	 * A fixed key "l@d" or a user key "l" (no domain: a local one) is
	 * found by sender_owners; "@d", "*@d" and "l@" keys are not probed.
	 */
	/*
	 * Not for a local part that routes elsewhere in Postfix ("@", "%",
	 * "!" in it: "a@b"@local is a@b) or is quoted: Postfix looks those
	 * up as where they route, and so does relayguard.
	 */
	if (is_key && *local != '\0' && *local != '*' &&
	    strpbrk(local, "@%!\"") == NULL &&
	    (at == NULL || *domain != '\0'))
		FZ_CHECK(o != NULL, "key \"%s\" owned by nobody", addr);
	if (o != NULL) {
		check_owners(o);
		free(o);
	}
	free(copy);
}

static void
check_map(struct loginmap *map, const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size), *save = NULL, *line;
	char *probes[FZ_MAXPROBES];
	size_t nprobes = 0, nkeys = 0;

	(void)loginmap_size(map);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t klen;
		char *key;

		line[strcspn(line, "\r")] = '\0';
		if (*line == ' ' || *line == '\t' || *line == '#' ||
		    *line == '\0')
			continue;	/* continuation, comment or blank */
		klen = strcspn(line, " \t");
		key = xstrndup(line, klen);
		/* a quoted or escaped key may hold white space: this split cannot say
		   where it ends (the map's own reader can) */
		if (strpbrk(key, "\"\\") != NULL) {
			free(key);
			continue;
		}
		if (*key != '/') {
			char *folded = loginmap_fold(map, key);

			FZ_CHECK(loginmap_get(map, folded) != NULL,
				 "key \"%s\" (folded \"%s\") not found", key,
				 folded);
			nkeys++;
			free(folded);
		}
		if (nprobes < FZ_MAXPROBES && *key != '/')
			probes[nprobes++] = key;
		else
			free(key);
	}
	FZ_CHECK(loginmap_size(map) >= 1 || nkeys == 0, "empty map with "
		 "%zu keys", nkeys);
	for (size_t i = 0; i < sizeof(fixed_probes) / sizeof(fixed_probes[0]);
	     i++)
		probe(map, fixed_probes[i], 0);
	for (size_t i = 0; i < nprobes; i++) {
		probe(map, probes[i], 1);
		free(probes[i]);
	}
	free(text);
}

/*
 * regcomp_blowup - could glibc's regcomp() take exponential time and
 * memory on this (a known, reported issue: it copies the tree of a
 * repeated expression for each stacked repetition, so "a++++...+" with 22
 * "+" takes 13 s, with 26 some GB).  Stacked operators, large {n}, or
 * several repeated groups.  Used only with RG_FUZZ_KNOWN=loginmap-regcomp.
 */
static int
regcomp_blowup(const uint8_t *d, size_t n)
{
	int groups = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		if (strchr("+*?}", d[i]) && d[i] && strchr("+*?{", d[i + 1]) &&
		    d[i + 1])
			return 1;
		if (d[i] == ')' && d[i + 1] && strchr("+*?{", d[i + 1]) &&
		    ++groups > 3)
			return 1;
		if (d[i] == '{' && i + 3 < n && d[i + 1] >= '0' &&
		    d[i + 1] <= '9' && d[i + 2] >= '0' && d[i + 2] <= '9')
			return 1;		/* {10} and up */
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], err[1024];
	struct loginmap *map;
	long line;

	if (fz_known("loginmap-regcomp") && regcomp_blowup(data, size))
		return 0;

	fz_temp_file("login.map", data, size, path, sizeof(path));
	for (int fold = 1; fold >= 0; fold--) {
		err[0] = '\0';
		map = loginmap_load(path, fold, err, sizeof(err));
		if (map == NULL) {
			line = fz_err_line(err, path);
			FZ_CHECK(line >= 1, "err \"%s\" is not \"%s:LINE: "
				 "why\"", err, path);
			FZ_CHECK(line <= fz_count_lines(data, size),
				 "err \"%s\": past the %ld lines", err,
				 fz_count_lines(data, size));
			break;		/* fold_local does not change syntax */
		}
		check_map(map, data, size);
		loginmap_unref(map);
	}
	unlink(path);
	return 0;
}
