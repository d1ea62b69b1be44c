/*
 * suite - the RFC 7208 conformance runner (pyspf's rfc7208-tests.yml).
 *
 *   spf_suite --suite FILE [--engine builtin|libspf2|both] [--verbose]
 *             [--only SCENARIO_SUBSTRING[/TEST]]
 *             (--mock | --dns ADDR@PORT --zone-file PATH --drop-file PATH
 *                       --reload-cmd CMD [--timeout-ms N])
 *
 * Each YAML document is a scenario: a description, tests (host, mailfrom,
 * helo, result: a word or a list, optional explanation) and zonedata.
 * --mock answers from an in-memory copy of the zonedata that behaves like
 * an authoritative server (NXDOMAIN against NODATA, empty non-terminals,
 * CNAMEs, TIMEOUT); the real mode writes the zone for knot and the drop
 * list for tests/tools/dnsproxy, runs CMD, and asks through a fresh
 * relayguard resolver per scenario (tests/spf/run.sh drives it).
 *
 * The suite's own conventions, as pyspf's driver applies them:
 *   - a name with SPF (type 99) records and no TXT entry also serves
 *     those strings as TXT ("TXT: NONE" is such an entry and serves
 *     nothing); the copies come after every listed entry;
 *   - TIMEOUT times a query out unless a record of the asked type comes
 *     before it in the list;
 *   - "explanation: DEFAULT" means the default explanation, i.e. none
 *     from an exp= modifier.
 *
 * Output: failures (with --verbose: expected and got, the trace, the
 * explanation), then per engine "SPF suite: N/TOTAL (ENGINE)".  Exit 0
 * when the builtin engine passed every test it ran (or only libspf2 ran,
 * a comparison); 1 otherwise; 2 for bad usage or an unreadable suite.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <yaml.h>

#include "netaddr.h"
#include "resolver.h"
#include "spf.h"
#include "util.h"

#define CNAME_HOPS	8

/* zrec - one zonedata entry; type 0 is TIMEOUT */
struct zrec {
	int	type;
	char	*data;		/* TXT/SPF bytes, or a name, or an address */
	size_t	len;
	int	pref;		/* MX */
};

struct zname {
	char		*name;	/* lowercase, no final dot */
	char		*shown;	/* as the suite writes it, no final dot */
	struct zrec	*recs;
	size_t		n;
};

struct ztest {
	char	*name, *host, *mailfrom, *helo, *explanation;
	char	**results;
	size_t	nresults;
};

struct scenario {
	char		*description;
	struct ztest	*tests;
	size_t		ntests;
	struct zname	*names;
	size_t		nnames;
};

struct options {
	const char	*suite, *only, *dns, *zone_file, *drop_file;
	const char	*reload_cmd;
	int		mock, verbose, timeout_ms;
	int		builtin, libspf2;
};

/* ---------------------------------------------------------------------
 * YAML
 */

static yaml_node_t *
node(yaml_document_t *doc, int id)
{
	return yaml_document_get_node(doc, id);
}

/* scalar - a scalar node's bytes (may hold NUL), or NULL */
static const char *
scalar(yaml_node_t *n, size_t *len)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (len)
		*len = n->data.scalar.length;
	return (const char *)n->data.scalar.value;
}

static char *
scalar_dup(yaml_node_t *n)
{
	size_t len;
	const char *s = scalar(n, &len);

	return s ? xstrndup(s, len) : NULL;
}

/* map_get - the value for key in a mapping node */
static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(doc, p->key), NULL);

		if (k && strcmp(k, key) == 0)
			return node(doc, p->value);
	}
	return NULL;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static char *
plain_name(const char *s, size_t len)
{
	char *n = xstrndup(s, len);
	size_t l = strlen(n);

	if (l > 0 && n[l - 1] == '.')
		n[l - 1] = '\0';
	return n;
}

static int
type_of(const char *s)
{
	static const struct { const char *name; int type; } t[] = {
		{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "MX", DNS_T_MX },
		{ "PTR", DNS_T_PTR }, { "TXT", DNS_T_TXT },
		{ "SPF", DNS_T_SPF }, { "CNAME", DNS_T_CNAME },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].type;
	return -1;
}

static void
zname_add(struct zname *zn, int type, const char *data, size_t len, int pref)
{
	struct zrec *r;

	zn->recs = xrealloc(zn->recs, (zn->n + 1) * sizeof(*zn->recs));
	r = &zn->recs[zn->n++];
	r->type = type;
	r->data = NULL;
	if (data != NULL) {
		r->data = xmalloc(len + 1);	/* may hold NUL bytes */
		memcpy(r->data, data, len);
		r->data[len] = '\0';
	}
	r->len = len;
	r->pref = pref;
}

/* txt_value - a TXT/SPF value: one string, or a list joined without gaps */
static int
txt_value(yaml_document_t *doc, yaml_node_t *v, struct sbuf *out)
{
	size_t len;
	const char *s;

	sbuf_reset(out);
	sbuf_append(out, "", 0);
	if ((s = scalar(v, &len)) != NULL) {
		sbuf_append(out, s, len);
		return 0;
	}
	if (v == NULL || v->type != YAML_SEQUENCE_NODE)
		return -1;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		if ((s = scalar(node(doc, *it), &len)) == NULL)
			return -1;
		sbuf_append(out, s, len);
	}
	return 0;
}

/* load_name - one zonedata name and its list of entries */
static int
load_name(yaml_document_t *doc, struct zname *zn, yaml_node_t *list,
	  char *err, size_t errlen)
{
	struct sbuf txt;
	int has_txt = 0;
	size_t nlisted;

	if (list == NULL || list->type != YAML_SEQUENCE_NODE) {
		snprintf(err, errlen, "zonedata %s: not a list", zn->shown);
		return -1;
	}
	sbuf_init(&txt);
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = node(doc, *it), *v;
		const char *s, *k;
		size_t len;
		int type;

		if ((s = scalar(e, NULL)) != NULL) {
			if (strcmp(s, "TIMEOUT") != 0)
				goto bad;
			zname_add(zn, 0, NULL, 0, 0);
			continue;
		}
		if (e == NULL || e->type != YAML_MAPPING_NODE ||
		    e->data.mapping.pairs.top - e->data.mapping.pairs.start != 1)
			goto bad;
		k = scalar(node(doc, e->data.mapping.pairs.start->key), NULL);
		v = node(doc, e->data.mapping.pairs.start->value);
		if (k == NULL || (type = type_of(k)) < 0)
			goto bad;
		if (type == DNS_T_TXT)
			has_txt = 1;
		if ((s = scalar(v, &len)) != NULL && strcmp(s, "NONE") == 0 &&
		    (type == DNS_T_TXT || type == DNS_T_SPF))
			continue;
		switch (type) {
		case DNS_T_TXT:
		case DNS_T_SPF:
			if (txt_value(doc, v, &txt) != 0)
				goto bad;
			zname_add(zn, type, txt.data, txt.len, 0);
			break;
		case DNS_T_MX: {
			yaml_node_item_t *mi;
			const char *pref, *host;
			size_t hlen;

			if (v == NULL || v->type != YAML_SEQUENCE_NODE ||
			    v->data.sequence.items.top -
			    v->data.sequence.items.start != 2)
				goto bad;
			mi = v->data.sequence.items.start;
			pref = scalar(node(doc, mi[0]), NULL);
			host = scalar(node(doc, mi[1]), &hlen);
			if (pref == NULL || host == NULL)
				goto bad;
			char *h = plain_name(host, hlen);
			zname_add(zn, type, h, strlen(h), atoi(pref));
			free(h);
			break;
		}
		default:
			if (s == NULL)
				goto bad;
			if (type == DNS_T_PTR || type == DNS_T_CNAME) {
				char *h = plain_name(s, len);

				zname_add(zn, type, h, strlen(h), 0);
				free(h);
			} else {
				zname_add(zn, type, s, len, 0);
			}
			break;
		}
	}
	/* the suite's "auto-magic duplication" of SPF records as TXT */
	nlisted = zn->n;
	for (size_t i = 0; !has_txt && i < nlisted; i++)
		if (zn->recs[i].type == DNS_T_SPF)
			zname_add(zn, DNS_T_TXT, zn->recs[i].data,
				  zn->recs[i].len, 0);
	sbuf_free(&txt);
	return 0;
bad:
	sbuf_free(&txt);
	snprintf(err, errlen, "zonedata %s: an entry I do not understand",
		 zn->shown);
	return -1;
}

static int
load_test(yaml_document_t *doc, struct ztest *t, yaml_node_t *tn, char *err,
	  size_t errlen)
{
	yaml_node_t *r = map_get(doc, tn, "result");

	t->host = scalar_dup(map_get(doc, tn, "host"));
	t->mailfrom = scalar_dup(map_get(doc, tn, "mailfrom"));
	t->helo = scalar_dup(map_get(doc, tn, "helo"));
	t->explanation = scalar_dup(map_get(doc, tn, "explanation"));
	if (scalar(r, NULL) != NULL) {
		t->results = xcalloc(1, sizeof(char *));
		t->results[t->nresults++] = scalar_dup(r);
	} else if (r != NULL && r->type == YAML_SEQUENCE_NODE) {
		size_t n = (size_t)(r->data.sequence.items.top -
				    r->data.sequence.items.start);

		t->results = xcalloc(n ? n : 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			char *w = scalar_dup(node(doc,
					r->data.sequence.items.start[i]));

			if (w == NULL)
				break;
			t->results[t->nresults++] = w;
		}
	}
	if (t->host == NULL || t->nresults == 0) {
		snprintf(err, errlen, "test %s: no host or no result", t->name);
		return -1;
	}
	for (size_t i = 0; i < t->nresults; i++) {
		if (spf_result_parse(t->results[i]) < 0) {
			snprintf(err, errlen, "test %s: unknown result \"%s\"",
				 t->name, t->results[i]);
			return -1;
		}
	}
	if (t->mailfrom == NULL)
		t->mailfrom = xstrdup("");
	if (t->helo == NULL)
		t->helo = xstrdup("");
	return 0;
}

static int
load_scenario(yaml_document_t *doc, struct scenario *sc, char *err,
	      size_t errlen)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *tests = map_get(doc, root, "tests");
	yaml_node_t *zone = map_get(doc, root, "zonedata");

	memset(sc, 0, sizeof(*sc));
	sc->description = scalar_dup(map_get(doc, root, "description"));
	if (sc->description == NULL)
		sc->description = xstrdup("(no description)");
	if (tests == NULL || tests->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "scenario \"%s\": no tests",
			 sc->description);
		return -1;
	}
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start;
	     p < tests->data.mapping.pairs.top; p++) {
		struct ztest *t;

		sc->tests = xrealloc(sc->tests,
				     (sc->ntests + 1) * sizeof(*sc->tests));
		t = &sc->tests[sc->ntests++];
		memset(t, 0, sizeof(*t));
		t->name = scalar_dup(node(doc, p->key));
		if (t->name == NULL)
			t->name = xstrdup("?");
		if (load_test(doc, t, node(doc, p->value), err, errlen) != 0)
			return -1;
	}
	if (zone == NULL)
		return 0;
	if (zone->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "scenario \"%s\": bad zonedata",
			 sc->description);
		return -1;
	}
	for (yaml_node_pair_t *p = zone->data.mapping.pairs.start;
	     p < zone->data.mapping.pairs.top; p++) {
		size_t len;
		const char *k = scalar(node(doc, p->key), &len);
		struct zname *zn = NULL;
		char *name;

		if (k == NULL) {
			snprintf(err, errlen, "scenario \"%s\": bad zone name",
				 sc->description);
			return -1;
		}
		name = plain_name(k, len);
		lower(name);
		for (size_t i = 0; i < sc->nnames; i++)
			if (strcmp(sc->names[i].name, name) == 0)
				zn = &sc->names[i];
		if (zn == NULL) {
			sc->names = xrealloc(sc->names, (sc->nnames + 1) *
					     sizeof(*sc->names));
			zn = &sc->names[sc->nnames++];
			memset(zn, 0, sizeof(*zn));
			zn->name = name;
			zn->shown = plain_name(k, len);
		} else {
			free(name);
		}
		if (load_name(doc, zn, node(doc, p->value), err, errlen) != 0)
			return -1;
	}
	return 0;
}

static void
scenario_free(struct scenario *sc)
{
	for (size_t i = 0; i < sc->ntests; i++) {
		struct ztest *t = &sc->tests[i];

		free(t->name);
		free(t->host);
		free(t->mailfrom);
		free(t->helo);
		free(t->explanation);
		for (size_t j = 0; j < t->nresults; j++)
			free(t->results[j]);
		free(t->results);
	}
	free(sc->tests);
	for (size_t i = 0; i < sc->nnames; i++) {
		for (size_t j = 0; j < sc->names[i].n; j++)
			free(sc->names[i].recs[j].data);
		free(sc->names[i].recs);
		free(sc->names[i].name);
		free(sc->names[i].shown);
	}
	free(sc->names);
	free(sc->description);
	memset(sc, 0, sizeof(*sc));
}

/* load_suite - every scenario of the file; -1 with why in err */
static int
load_suite(const char *path, struct scenario **out, size_t *count, char *err,
	   size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	yaml_parser_t parser;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	for (;;) {
		yaml_document_t doc;
		char why[256];

		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, errlen, "%s:%zu: %s", path,
				 parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "YAML error");
			rc = -1;
			break;
		}
		if (yaml_document_get_root_node(&doc) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		*out = xrealloc(*out, (*count + 1) * sizeof(**out));
		if (load_scenario(&doc, &(*out)[*count], why,
				  sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			scenario_free(&(*out)[*count]);
			yaml_document_delete(&doc);
			rc = -1;
			break;
		}
		(*count)++;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	return rc;
}

/* ---------------------------------------------------------------------
 * The mock DNS: an authoritative server made of one scenario's zonedata
 */

static const struct zname *
mock_find(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nnames; i++)
		if (strcmp(sc->names[i].name, name) == 0)
			return &sc->names[i];
	return NULL;
}

/* mock_exists - is name an empty non-terminal (an ancestor of a name) */
static int
mock_exists_below(const struct scenario *sc, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sc->nnames; i++) {
		const char *z = sc->names[i].name;
		size_t l = strlen(z);

		if (l > n && z[l - n - 1] == '.' && strcmp(z + l - n, name) == 0)
			return 1;
	}
	return 0;
}

static void
mock_add(struct dns_answer *out, const struct zrec *r)
{
	struct dns_rr *rr;

	out->rr = xrealloc(out->rr, (out->count + 1) * sizeof(*out->rr));
	rr = &out->rr[out->count++];
	memset(rr, 0, sizeof(*rr));
	rr->type = r->type;
	switch (r->type) {
	case DNS_T_A:
		rr->addr.family = AF_INET;
		if (inet_pton(AF_INET, r->data, rr->addr.addr) != 1)
			PANIC("bad A %s in the suite", r->data);
		break;
	case DNS_T_AAAA:
		rr->addr.family = AF_INET6;
		if (inet_pton(AF_INET6, r->data, rr->addr.addr) != 1)
			PANIC("bad AAAA %s in the suite", r->data);
		break;
	case DNS_T_MX:
		rr->pref = r->pref;
		/* FALLTHROUGH */
	case DNS_T_PTR:
	case DNS_T_CNAME:
		rr->name = xstrdup(r->data);
		break;
	default:
		rr->txt = xmalloc(r->len + 1);
		memcpy(rr->txt, r->data, r->len);
		rr->txt[r->len] = '\0';
		rr->txtlen = r->len;
		break;
	}
}

static enum dns_status
mock_query(void *ctx, const char *qname, int type, struct dns_answer *out)
{
	const struct scenario *sc = ctx;
	char *name;

	memset(out, 0, sizeof(*out));
	if (!dns_name_ok(qname)) {
		out->status = DNS_BADNAME;
		return out->status;
	}
	name = plain_name(qname, strlen(qname));
	lower(name);
	out->status = DNS_NXDOMAIN;
	for (int hops = 0;; hops++) {
		const struct zname *zn = mock_find(sc, name);
		const struct zrec *cname = NULL;
		int seen = 0, timeout = 0;
		size_t before = out->count;

		if (hops > CNAME_HOPS) {
			out->status = DNS_TEMPFAIL;	/* a CNAME loop */
			break;
		}
		if (zn == NULL) {
			out->status = mock_exists_below(sc, name) ?
				      DNS_NODATA : DNS_NXDOMAIN;
			break;
		}
		for (size_t i = 0; i < zn->n; i++) {
			const struct zrec *r = &zn->recs[i];

			if (r->type == 0) {
				timeout = !seen;
				break;
			}
			if (r->type == type) {
				seen = 1;
				mock_add(out, r);
			} else if (r->type == DNS_T_CNAME && cname == NULL) {
				cname = r;
			}
		}
		if (timeout) {
			out->status = DNS_TIMEOUT;
			break;
		}
		if (out->count == before && cname != NULL) {
			mock_add(out, cname);
			free(name);
			name = xstrdup(cname->data);
			lower(name);
			continue;
		}
		out->status = out->count > before ? DNS_OK : DNS_NODATA;
		break;
	}
	free(name);
	if (out->status != DNS_OK) {
		enum dns_status st = out->status;

		dns_answer_free(out);
		out->status = st;
	}
	return out->status;
}

/* ---------------------------------------------------------------------
 * The real mode: knot's zone file, the proxy's drop list, a resolver
 */

struct real_dns {
	struct resolver	*res;
	int		timeout_ms;
};

static enum dns_status
real_query(void *ctx, const char *name, int type, struct dns_answer *out)
{
	struct real_dns *r = ctx;

	return resolver_query(r->res, name, type, r->timeout_ms, out);
}

/* zone_name - a name in zone-file syntax: absolute, odd bytes as \DDD */
static void
zone_name(FILE *fp, const char *name)
{
	if (*name == '\0') {
		fputc('.', fp);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.')
			fputc(*p, fp);
		else
			fprintf(fp, "\\%03u", *p);
	}
	fputc('.', fp);
}

/* zone_txt - character-strings of at most 255 bytes, quoted and escaped */
static void
zone_txt(FILE *fp, const char *s, size_t len)
{
	size_t i = 0;

	do {
		size_t n = len - i > 255 ? 255 : len - i;

		fputs(" \"", fp);
		for (size_t j = i; j < i + n; j++) {
			unsigned char ch = (unsigned char)s[j];

			if (ch == '"' || ch == '\\')
				fprintf(fp, "\\%c", ch);
			else if (ch < 0x20 || ch > 0x7e)
				fprintf(fp, "\\%03u", ch);
			else
				fputc(ch, fp);
		}
		fputc('"', fp);
		i += n;
	} while (i < len);
}

/*
 * timeout_name - should the proxy drop this name.  It can only drop a
 * name for every type, so the name is dropped when its TXT query times
 * out under the suite's rule: a TIMEOUT with no TXT record listed before.
 */
static int
timeout_name(const struct zname *zn)
{
	for (size_t i = 0; i < zn->n; i++) {
		if (zn->recs[i].type == DNS_T_TXT)
			return 0;
		if (zn->recs[i].type == 0)
			return 1;
	}
	return 0;
}

/*
 * write_zone - the scenario as knot's root zone, and the drop list.
 * Reading: the proxy drops every query for a name, whatever its type, so
 * spftimeout (TXT, then TIMEOUT) is served and its other types answer
 * NODATA instead of timing out, while txttimeout (SPF, "TXT: NONE",
 * TIMEOUT) is dropped whole; no test asks for the types this changes.
 */
static int
write_zone(const struct scenario *sc, const struct options *o, char *err,
	   size_t errlen)
{
	FILE *zf = fopen(o->zone_file, "w"), *df;

	if (zf == NULL) {
		snprintf(err, errlen, "%s: %s", o->zone_file, strerror(errno));
		return -1;
	}
	fprintf(zf, "; %s (written by spf_suite)\n", sc->description);
	fputs(".\t0\tIN\tSOA\tns.test. hostmaster.test. 1 3600 600 86400 0\n"
	      ".\t0\tIN\tNS\tns.test.\n"
	      "ns.test.\t0\tIN\tA\t127.0.0.1\n", zf);
	for (size_t i = 0; i < sc->nnames; i++) {
		const struct zname *zn = &sc->names[i];

		for (size_t j = 0; j < zn->n; j++) {
			const struct zrec *r = &zn->recs[j];

			if (r->type == 0)
				continue;
			zone_name(zf, zn->shown);
			fputs("\t0\tIN\t", zf);
			switch (r->type) {
			case DNS_T_A:
				fprintf(zf, "A\t%s\n", r->data);
				break;
			case DNS_T_AAAA:
				fprintf(zf, "AAAA\t%s\n", r->data);
				break;
			case DNS_T_MX:
				fprintf(zf, "MX\t%d ", r->pref);
				zone_name(zf, r->data);
				fputc('\n', zf);
				break;
			case DNS_T_PTR:
			case DNS_T_CNAME:
				fputs(r->type == DNS_T_PTR ? "PTR\t" : "CNAME\t",
				      zf);
				zone_name(zf, r->data);
				fputc('\n', zf);
				break;
			default:
				fputs(r->type == DNS_T_TXT ? "TXT\t" : "SPF\t",
				      zf);
				zone_txt(zf, r->data, r->len);
				fputc('\n', zf);
				break;
			}
		}
	}
	if (fclose(zf) != 0) {
		snprintf(err, errlen, "%s: %s", o->zone_file, strerror(errno));
		return -1;
	}
	if ((df = fopen(o->drop_file, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", o->drop_file, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sc->nnames; i++)
		if (timeout_name(&sc->names[i]))
			fprintf(df, "%s\n", sc->names[i].name);
	if (fclose(df) != 0) {
		snprintf(err, errlen, "%s: %s", o->drop_file, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Running
 */

/* selected - does --only pick this test */
static int
selected(const struct options *o, const struct scenario *sc,
	 const struct ztest *t)
{
	const char *slash;
	size_t n;

	if (o->only == NULL)
		return 1;
	slash = strchr(o->only, '/');
	n = slash ? (size_t)(slash - o->only) : strlen(o->only);
	if (n > 0) {
		int hit = 0;

		for (const char *p = sc->description; *p && !hit; p++)
			hit = strncasecmp(p, o->only, n) == 0;
		if (!hit)
			return 0;
	}
	return slash == NULL || slash[1] == '\0' ||
	       strcmp(slash + 1, t->name) == 0;
}

static void
print_block(const char *label, const char *text)
{
	char line[1024];

	if (text == NULL || *text == '\0')
		return;
	printf("    %s:\n", label);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		util_sanitize(line, sizeof(line), text, len);
		printf("      %s\n", line);
		text += len + (nl ? 1 : 0);
	}
}

/* run_test - one test; 1 if it passed */
static int
run_test(const struct options *o, const struct scenario *sc,
	 const struct ztest *t, enum spf_engine engine,
	 const struct spf_dns *dns)
{
	struct spf_request req;
	struct spf_response resp;
	const char *expl;
	char got_expl[1024];
	int ok = 0;

	memset(&req, 0, sizeof(req));
	if (netaddr_parse(t->host, &req.ip) != 0) {
		printf("FAIL %s/%s: bad host %s in the suite\n",
		       sc->description, t->name, t->host);
		return 0;
	}
	req.helo = t->helo;
	req.mail_from = t->mailfrom;
	req.receiver = NULL;
	req.now = 0;
	spf_response_init(&resp);
	spf_eval(engine, dns, &req, &resp);
	for (size_t i = 0; i < t->nresults; i++)
		if (spf_result_parse(t->results[i]) == (int)resp.result)
			ok = 1;
	expl = resp.explanation ? resp.explanation : "DEFAULT";
	if (ok && t->explanation && strcmp(expl, t->explanation) != 0)
		ok = 0;
	if (!ok) {
		printf("FAIL %s/%s: expected", sc->description, t->name);
		for (size_t i = 0; i < t->nresults; i++)
			printf("%s%s", i ? "|" : " ", t->results[i]);
		printf(", got %s", spf_result_name(resp.result));
		if (t->explanation) {
			util_sanitize(got_expl, sizeof(got_expl), expl,
				      strlen(expl));
			printf(" (explanation: expected \"%s\", got \"%s\")",
			       t->explanation, got_expl);
		}
		putchar('\n');
		if (o->verbose) {
			printf("    host %s, mailfrom \"%s\", helo \"%s\"\n",
			       t->host, t->mailfrom, t->helo);
			if (resp.mechanism)
				printf("    mechanism: %s\n", resp.mechanism);
			if (resp.problem)
				printf("    problem: %s\n", resp.problem);
			printf("    lookups %d, void lookups %d\n",
			       resp.lookups, resp.void_lookups);
			print_block("explanation", resp.explanation);
			print_block("trace", resp.trace.data);
		}
	}
	spf_response_free(&resp);
	return ok;
}

/* run_engine - every selected test; -1 if the DNS rig failed */
static int
run_engine(const struct options *o, struct scenario *scs, size_t n,
	   enum spf_engine engine, int *passed, int *total)
{
	const char *ename = engine == SPF_ENGINE_BUILTIN ? "builtin" :
			    "libspf2";

	*passed = *total = 0;
	for (size_t s = 0; s < n; s++) {
		struct scenario *sc = &scs[s];
		struct real_dns real = { NULL, o->timeout_ms };
		struct spf_dns dns;
		size_t want = 0;
		char err[512];

		for (size_t i = 0; i < sc->ntests; i++)
			want += selected(o, sc, &sc->tests[i]);
		if (want == 0)
			continue;
		if (o->mock) {
			dns.ctx = sc;
			dns.query = mock_query;
		} else {
			int rc;

			if (write_zone(sc, o, err, sizeof(err)) != 0) {
				fprintf(stderr, "spf_suite: %s\n", err);
				return -1;
			}
			fflush(stdout);
			rc = system(o->reload_cmd);
			if (rc != 0) {
				fprintf(stderr, "spf_suite: \"%s\" failed "
					"(status %d) for scenario \"%s\"\n",
					o->reload_cmd, rc, sc->description);
				return -1;
			}
			real.res = resolver_new(o->dns, NULL, err, sizeof(err));
			if (real.res == NULL) {
				fprintf(stderr, "spf_suite: resolver %s: %s\n",
					o->dns, err);
				return -1;
			}
			dns.ctx = &real;
			dns.query = real_query;
		}
		for (size_t i = 0; i < sc->ntests; i++) {
			if (!selected(o, sc, &sc->tests[i]))
				continue;
			(*total)++;
			*passed += run_test(o, sc, &sc->tests[i], engine, &dns);
		}
		if (real.res)
			resolver_unref(real.res);
	}
	printf("SPF suite: %d/%d (%s)\n", *passed, *total, ename);
	fflush(stdout);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: spf_suite --suite FILE [--engine builtin|libspf2|both]"
		" [--verbose]\n"
		"         [--only SCENARIO_SUBSTRING[/TEST]]\n"
		"         (--mock | --dns ADDR@PORT --zone-file PATH "
		"--drop-file PATH\n"
		"                   --reload-cmd CMD [--timeout-ms N])\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct scenario *scs;
	size_t n;
	char err[512];
	int status = 0;

	memset(&o, 0, sizeof(o));
	o.builtin = 1;
	o.timeout_ms = 2000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--mock") == 0) {
			o.mock = 1;
			continue;
		}
		if (strcmp(a, "--verbose") == 0) {
			o.verbose = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--suite") == 0)
			o.suite = v;
		else if (strcmp(a, "--only") == 0)
			o.only = v;
		else if (strcmp(a, "--dns") == 0)
			o.dns = v;
		else if (strcmp(a, "--zone-file") == 0)
			o.zone_file = v;
		else if (strcmp(a, "--drop-file") == 0)
			o.drop_file = v;
		else if (strcmp(a, "--reload-cmd") == 0)
			o.reload_cmd = v;
		else if (strcmp(a, "--timeout-ms") == 0) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*end != '\0' || t < 1 || t > 600000)
				usage();
			o.timeout_ms = (int)t;
		} else if (strcmp(a, "--engine") == 0) {
			o.builtin = strcmp(v, "builtin") == 0 ||
				    strcmp(v, "both") == 0;
			o.libspf2 = strcmp(v, "libspf2") == 0 ||
				    strcmp(v, "both") == 0;
			if (!o.builtin && !o.libspf2)
				usage();
		} else
			usage();
	}
	if (o.suite == NULL)
		usage();
	if (!o.mock && (o.dns == NULL || o.zone_file == NULL ||
			o.drop_file == NULL || o.reload_cmd == NULL)) {
		fprintf(stderr, "spf_suite: give --mock, or --dns, --zone-file,"
			" --drop-file and --reload-cmd\n");
		usage();
	}
	if (load_suite(o.suite, &scs, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "spf_suite: %s\n", err);
		return 2;
	}
	if (o.builtin) {
		int passed, total;

		if (run_engine(&o, scs, n, SPF_ENGINE_BUILTIN, &passed,
			       &total) != 0 || passed != total || total == 0)
			status = 1;
	}
	if (o.libspf2) {
		int passed, total;

		if (run_engine(&o, scs, n, SPF_ENGINE_LIBSPF2, &passed,
			       &total) != 0 && !o.builtin)
			status = 1;
	}
	for (size_t i = 0; i < n; i++)
		scenario_free(&scs[i]);
	free(scs);
	return status;
}
