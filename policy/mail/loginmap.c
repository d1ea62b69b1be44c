/*
 * loginmap - sender_login_maps files (see loginmap.h).
 *
 * Fixed-string keys sit in one sorted array searched with bsearch(); the
 * regular expressions keep their file order, first match wins, as in a
 * Postfix regexp: table.
 *
 * Diagnostics: loading reports the first error as FILE:LINE: why; a
 * repeated key is a warning (logged), as postmap(1) warns.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "casefold.h"
#include "lines.h"
#include "log.h"
#include "loginmap.h"
#include "util.h"


struct lm_entry {
	char	*key;
	char	*owners;
	int	line;
};

struct lm_regex {
	regex_t	re;
	char	*owners;	/* may hold $N */
	int	line;
};

struct loginmap {
	int		refcount;
	int		fold_local;
	struct lm_entry	*entries;
	size_t		nentries;
	struct lm_regex	*regexes;
	size_t		nregexes;
};

struct loginmap_src {
	char		*path;
	int		fold_local;
	pthread_mutex_t	lock;
	struct loginmap	*map;
	struct stat	st;		/* of the file behind map */
	struct timespec	checked;	/* monotonic: last look at the file */
	long		settle_ms;	/* LM_SETTLE_MS but in tests */
	int		pending;	/* a changed file waits to settle */
	struct stat	seen;		/* ... this one */
	struct timespec	seen_at;	/* ... unchanged since (monotonic) */
	int		refused_valid;	/* a changed file was refused: */
	struct stat	refused;	/* ... this one */
	int		untrusted;	/* ... and the gate tempfails */
	int		missing;	/* the file is gone (logged once) */
};

#define LM_SETTLE_MS	2000	/* a changed file is read once this old */

/*
 * loginmap_fold - a key folded as the map folds keys: all of it as
 * Postfix's casefold() does, or with fold_local off the domain only (the
 * part after the last "@").
 */
char *
loginmap_fold(const struct loginmap *map, const char *key)
{
	const char *at = strrchr(key, '@');
	struct sbuf out;
	char *dom;

	if (map->fold_local)
		return casefold(key);
	if (at == NULL)
		return xstrdup(key);
	sbuf_init(&out);
	sbuf_append(&out, key, (size_t)(at - key));
	dom = casefold(at);
	sbuf_puts(&out, dom);
	free(dom);
	return sbuf_steal(&out);
}

static int
lm_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lm_entry *)a)->key,
		      ((const struct lm_entry *)b)->key);
}

/* lm_check_owners - $N must name a group the expression has */
static int
lm_check_owners(const char *owners, size_t nsub, char *why, size_t len)
{
	for (const char *p = owners; *p; p++) {
		if (*p != '$')
			continue;
		p++;
		if (*p == '$')
			continue;
		if (*p == '{')
			p++;
		if (!isdigit((unsigned char)*p) || *p == '0' ||
		    (size_t)(*p - '0') > nsub) {
			snprintf(why, len, "bad substitution in \"%.64s\": the "
				 "expression has %zu group(s)", owners, nsub);
			return -1;
		}
	}
	return 0;
}

#define LM_REGEX_MAX	512	/* longest pattern */
#define LM_REGEX_BUDGET	2000	/* nodes regcomp() may build, roughly */
#define LM_REGEX_DEPTH	16	/* nested groups */
#define LM_REGEX_NEST	4	/* repetitions nested in repeated groups */

/*
 * lm_regex_sane - refuse what makes glibc's regcomp() take exponential
 * time and memory.  It copies a repeated expression once per repetition
 * (twice for + * ?, max(n, m) times for {n,m}), and a repeated group with
 * all it holds, so "a++++++++++++++++++++++", "((((a+)+)+)+)..." or
 * "(((a{99}){99}){99})" take seconds and gigabytes while mail waits.
 * Estimate the size it will build the same way (an atom weighs 1, a group
 * the sum of its contents, a repetition multiplies what it repeats) and
 * refuse a pattern over LM_REGEX_BUDGET.  Real maps stay far below it:
 * "^[a-z0-9._-]{1,63}@example\\.com$" weighs about 80.  The weights miss
 * a group that can match the empty string: "((((((((((()+)+)+)+)+)+)+)+)+)+)"
 * or "(((a*)+)+)..." weigh little but grow some four times a level (ten
 * levels: 5 s), so repetitions also nest at most LM_REGEX_NEST deep
 * ("(\\.[a-z]{1,64}){0,3}" is two).
 */
static int
lm_regex_sane(const char *re, char *why, size_t len)
{
	long sum[LM_REGEX_DEPTH + 1], last[LM_REGEX_DEPTH + 1];
	int nest[LM_REGEX_DEPTH + 1], lastnest[LM_REGEX_DEPTH + 1];
	int d = 0, prev_rep = 0;

	if (strlen(re) > LM_REGEX_MAX) {
		snprintf(why, len, "regular expression too long (over %d "
			 "bytes)", LM_REGEX_MAX);
		return -1;
	}
	sum[0] = last[0] = 0;
	nest[0] = lastnest[0] = 0;
	for (const char *p = re; *p; p++) {
		long mult = 0;
		int was_rep = prev_rep;

		prev_rep = 0;

		switch (*p) {
		case '(':
			if (++d > LM_REGEX_DEPTH) {
				snprintf(why, len, "regular expression too "
					 "complex: over %d nested groups",
					 LM_REGEX_DEPTH);
				return -1;
			}
			sum[d] = last[d] = 0;
			nest[d] = lastnest[d] = 0;
			continue;
		case ')':
			if (d > 0) {
				long w = sum[d];
				int n = nest[d--];

				sum[d] += w;
				last[d] = w;
				lastnest[d] = n;
				if (n > nest[d])
					nest[d] = n;
				break;
			}
			sum[d]++;		/* a literal ")" */
			last[d] = 1;
			lastnest[d] = 0;
			break;
		case '|': case '^': case '$':
			last[d] = 0;		/* nothing to repeat */
			lastnest[d] = 0;
			continue;
		case '+': case '*': case '?':
			mult = 2;
			break;
		case '{':
			if (strchr(p, '}') != NULL) {
				char *end;
				long lo = strtol(p + 1, &end, 10), hi = lo;

				if (*end == ',' && end[1] != '}')
					hi = strtol(end + 1, &end, 10);
				mult = lo > hi ? lo : hi;
				if (mult < 1)
					mult = 1;
				p = strchr(p, '}');
				break;
			}
			sum[d]++;		/* a literal "{" */
			last[d] = 1;
			lastnest[d] = 0;
			break;
		case '[':
			/* a bracket expression is one atom: skip to its "]" */
			if (p[1] == '^')
				p++;
			if (p[1] == ']')
				p++;
			while (p[1] && p[1] != ']')
				p++;
			if (p[1])
				p++;
			sum[d]++;
			last[d] = 1;
			lastnest[d] = 0;
			break;
		case '\\':
			if (p[1])
				p++;
			/* FALLTHROUGH */
		default:
			sum[d]++;
			last[d] = 1;
			lastnest[d] = 0;
			break;
		}
		if (mult > 0) {
			/* "a++", "a*{2}": meaningless, and far costlier to
			   regcomp() than the weights say */
			if (was_rep) {
				snprintf(why, len, "regular expression too "
					 "complex: stacked repetition "
					 "operators");
				return -1;
			}
			prev_rep = 1;
			if (++lastnest[d] > LM_REGEX_NEST) {
				snprintf(why, len, "regular expression too "
					 "complex: repetitions nested over %d "
					 "deep", LM_REGEX_NEST);
				return -1;
			}
			if (lastnest[d] > nest[d])
				nest[d] = lastnest[d];
		}
		if (mult > 1) {
			if (last[d] > LM_REGEX_BUDGET / mult) {
				sum[d] = LM_REGEX_BUDGET + 1;
			} else {
				sum[d] += last[d] * (mult - 1);
				last[d] *= mult;
			}
		}
		if (sum[d] > LM_REGEX_BUDGET)
			break;
	}
	for (long total = 0; d >= 0; d--) {
		total += sum[d];
		if (total > LM_REGEX_BUDGET) {
			snprintf(why, len, "regular expression too complex "
				 "(repetitions multiply past %d)",
				 LM_REGEX_BUDGET);
			return -1;
		}
	}
	return 0;
}

/* lm_add_regex - "/pattern/flags" and its owners */
static int
lm_add_regex(struct loginmap *map, char *key, const char *owners, int line,
	     char *why, size_t len)
{
	char *end = NULL, *p;
	int cflags = REG_EXTENDED | REG_ICASE, rc;
	struct lm_regex r;

	for (p = key + 1; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '/') {
			end = p;
			break;
		}
	}
	if (end == NULL) {
		snprintf(why, len, "regular expression without closing /");
		return -1;
	}
	*end = '\0';
	for (p = end + 1; *p; p++) {
		if (*p == 'i')
			cflags ^= REG_ICASE;
		else if (*p != 'x') {
			snprintf(why, len, "unknown regular expression flag "
				 "'%c'", *p);
			return -1;
		}
	}
	/* "\/" stands for "/" inside the delimiters */
	for (p = key + 1; (p = strstr(p, "\\/")) != NULL;)
		memmove(p, p + 1, strlen(p));
	if (lm_regex_sane(key + 1, why, len) != 0)
		return -1;
	if ((rc = regcomp(&r.re, key + 1, cflags)) != 0) {
		char msg[128];

		regerror(rc, &r.re, msg, sizeof(msg));
		snprintf(why, len, "bad regular expression /%.64s/: %s",
			 key + 1, msg);
		return -1;
	}
	if (lm_check_owners(owners, r.re.re_nsub > 9 ? 9 : r.re.re_nsub, why,
			    len) != 0) {
		regfree(&r.re);
		return -1;
	}
	r.owners = xstrdup(owners);
	r.line = line;
	map->regexes = xrealloc(map->regexes,
				(map->nregexes + 1) * sizeof(r));
	map->regexes[map->nregexes++] = r;
	return 0;
}

/*
 * lm_key_end - where the key ends, as postmap(1) of Postfix 3.2 and later
 * splits a line: at the first white space outside double quotes, a
 * backslash escaping the next character (so "john doe"@example.com is
 * one key, kept with its quotes).  A /regexp/ may hold white space.
 * NULL when a quote is left open.
 */
static char *
lm_key_end(char *key)
{
	char *p = key;
	int quoted = 0;

	if (*p == '/') {
		for (p++; *p && *p != '/'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p != '/')		/* unterminated: lm_add_regex says so */
			return key + strcspn(key, " \t");
		p++;
		return p + strcspn(p, " \t");
	}
	for (; *p; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				break;
			p++;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if ((*p == ' ' || *p == '\t') && !quoted) {
			break;
		}
	}
	return quoted ? NULL : p;
}

/* lm_add - one logical line: "key owners" */
static int
lm_add(struct loginmap *map, char *line, int lineno, char *why, size_t len)
{
	char *key = line, *owners;

	if ((owners = lm_key_end(key)) == NULL) {
		snprintf(why, len, "unbalanced '\"' in \"%.64s\"", key);
		return -1;
	}
	if (*owners == '\0') {
		snprintf(why, len, "\"%.64s\" has no owners", key);
		return -1;
	}
	*owners++ = '\0';
	owners = util_trim(owners);
	if (*owners == '\0') {
		snprintf(why, len, "\"%.64s\" has no owners", key);
		return -1;
	}
	if (key[0] == '/')
		return lm_add_regex(map, key, owners, lineno, why, len);
	if (key[0] == '!' || strcasecmp(key, "if") == 0 ||
	    strcasecmp(key, "endif") == 0) {
		snprintf(why, len, "\"%.64s\": negation and if/endif are not "
			 "supported", key);
		return -1;
	}
	if (strcmp(key, "@") == 0 || strcmp(key, "*@") == 0 ||
	    (key[0] == '*' && key[1] != '@')) {
		snprintf(why, len, "bad key \"%.64s\"", key);
		return -1;
	}
	map->entries = xrealloc(map->entries,
				(map->nentries + 1) * sizeof(*map->entries));
	map->entries[map->nentries].key = loginmap_fold(map, key);
	map->entries[map->nentries].owners = xstrdup(owners);
	map->entries[map->nentries].line = lineno;
	map->nentries++;
	return 0;
}

/* lm_sort - sort the keys; a repeated key keeps its first line's entry */
static void
lm_sort(struct loginmap *map, const char *path)
{
	size_t o = 0;

	if (map->nentries == 0)
		return;			/* qsort() wants a real array */
	qsort(map->entries, map->nentries, sizeof(*map->entries), lm_entry_cmp);
	for (size_t i = 0; i < map->nentries; i++) {
		struct lm_entry *e = &map->entries[i];

		if (o > 0 && strcmp(map->entries[o - 1].key, e->key) == 0) {
			struct lm_entry *keep = &map->entries[o - 1];

			if (e->line < keep->line) {
				struct lm_entry t = *keep;
				*keep = *e;
				*e = t;
			}
			log_warn("%s:%d: duplicate key \"%s\" ignored (first at "
				 "line %d)", path, e->line, e->key, keep->line);
			free(e->key);
			free(e->owners);
			continue;
		}
		map->entries[o++] = *e;
	}
	map->nentries = o;
}

struct loginmap *
loginmap_load(const char *path, int fold_local, char *err, size_t errlen)
{
	struct lines in;
	struct loginmap *map;
	char *line, why[256];
	int start, rc;

	if (lines_open(&in, path, err, errlen) != 0)
		return NULL;
	in.inline_comments = 0;		/* "#" only at the start, as Postfix */
	map = xcalloc(1, sizeof(*map));
	map->refcount = 1;
	map->fold_local = fold_local;
	while ((rc = lines_next(&in, &line, &start, err, errlen)) > 0) {
		if (lm_add(map, line, start, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, start, why);
			rc = -1;
			break;
		}
	}
	lines_close(&in);
	if (rc != 0) {
		loginmap_unref(map);
		return NULL;
	}
	lm_sort(map, path);
	return map;
}

struct loginmap *
loginmap_ref(struct loginmap *map)
{
	__atomic_add_fetch(&map->refcount, 1, __ATOMIC_SEQ_CST);
	return map;
}

void
loginmap_unref(struct loginmap *map)
{
	if (map == NULL ||
	    __atomic_sub_fetch(&map->refcount, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (size_t i = 0; i < map->nentries; i++) {
		free(map->entries[i].key);
		free(map->entries[i].owners);
	}
	for (size_t i = 0; i < map->nregexes; i++) {
		regfree(&map->regexes[i].re);
		free(map->regexes[i].owners);
	}
	free(map->entries);
	free(map->regexes);
	free(map);
}

int
loginmap_folds_local(const struct loginmap *map)
{
	return map->fold_local;
}

size_t
loginmap_size(const struct loginmap *map)
{
	return map->nentries + map->nregexes;
}

const char *
loginmap_get(const struct loginmap *map, const char *key)
{
	struct lm_entry probe = { (char *)key, NULL, 0 }, *e;

	if (map->nentries == 0)
		return NULL;
	e = bsearch(&probe, map->entries, map->nentries, sizeof(probe),
		    lm_entry_cmp);
	return e ? e->owners : NULL;
}

/* lm_expand - owners with $N replaced by the matched groups */
static char *
lm_expand(const char *owners, const char *addr, const regmatch_t *m)
{
	struct sbuf out;

	sbuf_init(&out);
	for (const char *p = owners; *p; p++) {
		int brace = 0, n;

		if (*p != '$') {
			sbuf_append(&out, p, 1);
			continue;
		}
		if (p[1] == '$') {
			sbuf_append(&out, "$", 1);
			p++;
			continue;
		}
		if (p[1] == '{')
			brace = 1;
		n = p[1 + brace] - '0';		/* checked at load time */
		p += 1 + brace;
		if (brace && p[1] == '}')
			p++;
		if (m[n].rm_so >= 0)
			sbuf_append(&out, addr + m[n].rm_so,
				    (size_t)(m[n].rm_eo - m[n].rm_so));
	}
	return sbuf_steal(&out);
}

char *
loginmap_match(const struct loginmap *map, const char *addr)
{
	regmatch_t m[10];

	for (size_t i = 0; i < map->nregexes; i++) {
		if (regexec(&map->regexes[i].re, addr, 10, m, 0) == 0)
			return lm_expand(map->regexes[i].owners, addr, m);
	}
	return NULL;
}

int
loginmap_owns(const char *owners, const char *login)
{
	const char *p = owners;
	char *want, *tok, *got;
	int found = 0;

	if (*login == '\0')
		return 0;
	want = casefold(login);
	while (*p && !found) {
		size_t n;

		p += strspn(p, ", \t");
		if ((n = strcspn(p, ", \t")) == 0)
			break;
		tok = xstrndup(p, n);
		got = casefold(tok);
		found = strcmp(got, want) == 0;
		free(got);
		free(tok);
		p += n;
	}
	free(want);
	return found;
}

struct loginmap_src *
loginmap_src_open(const char *path, int fold_local, char *err, size_t errlen)
{
	struct loginmap_src *src;
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path,
			 strerror(errno));
		return NULL;
	}
	src = xcalloc(1, sizeof(*src));
	if ((src->map = loginmap_load(path, fold_local, err, errlen)) == NULL) {
		free(src);
		return NULL;
	}
	src->path = xstrdup(path);
	src->fold_local = fold_local;
	src->st = st;
	src->settle_ms = LM_SETTLE_MS;
	pthread_mutex_init(&src->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &src->checked);
	return src;
}

void
loginmap_src_free(struct loginmap_src *src)
{
	if (src == NULL)
		return;
	loginmap_unref(src->map);
	pthread_mutex_destroy(&src->lock);
	free(src->path);
	free(src);
}

/* lm_changed - has the file been replaced or written since st */
static int
lm_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev ||
	    a->st_size != b->st_size ||
	    a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	    a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* lm_ms - b - a in milliseconds */
static long long
lm_ms(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

/*
 * lm_poll - look at the file (src->lock held).  Returns 1 when a changed
 * file has settled and should be read now, with its stat in *st.
 */
static int
lm_poll(struct loginmap_src *src, struct stat *st)
{
	struct timespec mono, wall;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	src->checked = mono;
	if (stat(src->path, st) != 0) {
		if (!src->missing)
			log_warn("%s: cannot read the map file (%s); keeping "
				 "the loaded map, %zu entries", src->path,
				 strerror(errno), loginmap_size(src->map));
		src->missing = 1;
		return 0;
	}
	if (src->missing)
		log_info("%s: the map file is back", src->path);
	src->missing = 0;
	if (!lm_changed(st, &src->st)) {
		/* the file behind the loaded map (again): nothing pending */
		if (src->untrusted)
			log_info("%s: the file is the loaded map again; the "
				 "gate decides again", src->path);
		src->untrusted = 0;
		src->pending = 0;
		return 0;
	}
	if (src->refused_valid && !lm_changed(st, &src->refused))
		return 0;		/* judged already: one report a change */
	if (!src->pending || lm_changed(st, &src->seen)) {
		src->seen = *st;
		src->seen_at = mono;
		src->pending = 1;
	}
	/* settled: written at least settle_ms ago, or unchanged that long */
	return lm_ms(&st->st_mtim, &wall) >= src->settle_ms ||
	    lm_ms(&src->seen_at, &mono) >= src->settle_ms;
}

/* lm_refuse - keep the loaded map, distrust it until the file is good */
static void
lm_refuse(struct loginmap_src *src, const struct stat *st)
{
	src->refused = *st;
	src->refused_valid = 1;
	src->pending = 0;
	src->untrusted = 1;
}

void
loginmap_src_poll(struct loginmap_src *src)
{
	struct loginmap *old, *fresh;
	struct stat st, after;
	char err[512];
	size_t n, was;

	pthread_mutex_lock(&src->lock);
	if (!lm_poll(src, &st)) {
		pthread_mutex_unlock(&src->lock);
		return;
	}
	old = loginmap_ref(src->map);
	pthread_mutex_unlock(&src->lock);

	/* the reload runs outside the lock: mail goes on with the old map */
	fresh = loginmap_load(src->path, src->fold_local, err, sizeof(err));
	was = loginmap_size(old);
	n = fresh ? loginmap_size(fresh) : 0;
	pthread_mutex_lock(&src->lock);
	if (stat(src->path, &after) != 0 || lm_changed(&after, &st)) {
		/* written while we read it: judge the next version */
		loginmap_unref(fresh);
	} else if (fresh == NULL) {
		log_err("%s; keeping the loaded map (%zu entries); until the "
			"file loads or SIGHUP, the gate tempfails what the "
			"loaded map would reject", err, was);
		lm_refuse(src, &st);
	} else if (was > 0 && n * 2 < was) {
		log_err("%s: refusing the changed map: %zu entries where the "
			"loaded map has %zu (an empty map, or one that lost "
			"more than half of its entries, is taken at SIGHUP "
			"only); keeping the loaded map, and the gate tempfails "
			"what it would reject", src->path, n, was);
		loginmap_unref(fresh);
		lm_refuse(src, &st);
	} else {
		log_info("%s: reloaded, %zu entries", src->path, n);
		loginmap_unref(src->map);
		src->map = fresh;
		src->st = st;
		src->pending = src->untrusted = src->refused_valid = 0;
	}
	pthread_mutex_unlock(&src->lock);
	loginmap_unref(old);
}

/*
 * loginmap_src_get - the current map, after a look at the file at most
 * once a second.
 */
struct loginmap *
loginmap_src_get(struct loginmap_src *src)
{
	struct timespec now;
	struct loginmap *map;
	int look;

	pthread_mutex_lock(&src->lock);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((look = lm_ms(&src->checked, &now) >= 1000))
		src->checked = now;	/* one thread looks */
	pthread_mutex_unlock(&src->lock);
	if (look)
		loginmap_src_poll(src);
	pthread_mutex_lock(&src->lock);
	map = loginmap_ref(src->map);
	pthread_mutex_unlock(&src->lock);
	return map;
}

int
loginmap_src_trusted(struct loginmap_src *src)
{
	int trusted;

	pthread_mutex_lock(&src->lock);
	trusted = !src->untrusted;
	pthread_mutex_unlock(&src->lock);
	return trusted;
}

void
loginmap_src_set_settle(struct loginmap_src *src, long ms)
{
	pthread_mutex_lock(&src->lock);
	src->settle_ms = ms;
	pthread_mutex_unlock(&src->lock);
}

const char *
loginmap_src_path(const struct loginmap_src *src)
{
	return src->path;
}

size_t
loginmap_src_size(struct loginmap_src *src)
{
	size_t n;

	pthread_mutex_lock(&src->lock);
	n = loginmap_size(src->map);
	pthread_mutex_unlock(&src->lock);
	return n;
}
