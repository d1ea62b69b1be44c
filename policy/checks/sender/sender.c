/*
 * sender - the sender identity gate (see sender.h).
 *
 * The checks only name what they found; verdict.c decides what each
 * finding costs (reject at MAIL FROM or at end of headers by default).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "casefold.h"
#include "loginmap.h"
#include "session.h"
#include "txn.h"
#include "sender.h"
#include "util.h"
#include "verdict.h"

/* sender_canonical - the canonical domain of an alias domain, or NULL */
static const char *
sender_canonical(const struct conf *c, const char *domain)
{
	size_t dlen = strlen(domain);

	for (size_t i = 0; i < c->sender_domain_aliases.n; i++) {
		const char *a = c->sender_domain_aliases.v[i];
		const char *eq = strchr(a, '=');

		if ((size_t)(eq - a) == dlen && strncasecmp(a, domain, dlen) == 0)
			return eq + 1;
	}
	return NULL;
}

/* sender_in - is the domain in the list, case folded as Postfix */
static int
sender_in(const struct strlist *l, const char *domain)
{
	for (size_t i = 0; i < l->n; i++)
		if (casefold_eq(l->v[i], domain))
			return 1;
	return 0;
}

/* sender_applies - is the domain one the gate looks after */
static int
sender_applies(const struct conf *c, const char *domain)
{
	const char *canon;

	if (c->sender_domains.n == 0 || sender_in(&c->sender_domains, domain))
		return 1;
	canon = sender_canonical(c, domain);
	return canon != NULL && sender_in(&c->sender_domains, canon);
}

/* sender_is_local - Postfix's resolve_local(): mydestination, [literals] */
static int
sender_is_local(const struct conf *c, const char *domain)
{
	return *domain != '\0' && sender_in(&c->local_domains, domain);
}

/* sender_dot_string - a local part Postfix leaves unquoted */
static int
sender_dot_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0' || *p == '.')
		return 0;
	for (; *p; p++) {
		if ((p[0] == '.' && p[1] == '.') || *p == ' ' || *p < 0x20 ||
		    *p == 0x7f || strchr("()<>@,;:\\\"[]", *p) != NULL)
			return 0;
	}
	return p[-1] != '.';
}

/* sender_quote - Postfix's quote_822_local(): the external form */
static void
sender_quote(struct sbuf *out, const char *local)
{
	if (sender_dot_string(local)) {
		sbuf_puts(out, local);
		return;
	}
	sbuf_puts(out, "\"");
	for (const char *p = local; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '\r')
			sbuf_puts(out, "\\");
		sbuf_append(out, p, 1);
	}
	sbuf_puts(out, "\"");
}

/* sender_set - replace *dst with a copy of n bytes of src */
static void
sender_set(char **dst, const char *src, size_t n)
{
	char *v = xstrndup(src, n);

	free(*dst);
	*dst = v;
}

/*
 * sender_canon - Postfix's rewrite to canonical form of an address
 * without domain: domain!user to user@domain (swap_bangpath = yes), else
 * user%domain to user@domain (allow_percent_hack = yes), both on an
 * unquoted local part only.  Returns 1 if it rewrote the address.
 */
static int
sender_canon(char **local, int *quoted, char **domain)
{
	char *op;

	if (*quoted)
		return 0;
	if ((op = strchr(*local, '!')) != NULL) {
		char *d = xstrndup(*local, (size_t)(op - *local));

		sender_set(local, op + 1, strlen(op + 1));
		free(*domain);
		*domain = d;
		return 1;
	}
	if ((op = strrchr(*local, '%')) != NULL) {
		sender_set(domain, op + 1, strlen(op + 1));
		*op = '\0';
		return 1;
	}
	return 0;
}

/*
 * sender_route - where the address routes to, as Postfix's smtpd resolves
 * it before smtpd_sender_login_maps (trivial-rewrite: resolve.c): an
 * address without domain gets sender_myorigin; then while the domain is
 * local (local_domains), it is stripped and the local part's routing
 * operators apply again: user%domain, domain!user, and a quoted local
 * part with "@", "%" or "!" in it is cracked open (resolve_dequoted).
 * When nothing is left to route, the last local domain comes back.
 * "user%other@local" is "user@other", "other!user@local" too.  Whether a
 * local part counts as quoted is Postfix's choice, not the client's: its
 * smtpd unquotes the address and quotes it again only where RFC 5321
 * needs quotes, so "bob%other" is bob%other.
 */
static void
sender_route(const struct conf *c, char **local, char **domain)
{
	char *saved = NULL, *op;
	/* smtpd quotes the internal form again where it must, no more */
	int q = !sender_dot_string(*local), *quoted = &q;

	if (**domain == '\0' && !sender_canon(local, quoted, domain) &&
	    *c->sender_myorigin)
		sender_set(domain, c->sender_myorigin,
			   strlen(c->sender_myorigin));
	/* bounded: each turn strips a domain or an operator */
	for (int turn = 0; turn < 256; turn++) {
		if (**domain != '\0') {
			if (!sender_is_local(c, *domain))
				break;
			free(saved);
			saved = *domain;
			*domain = xstrdup("");
		}
		if (sender_canon(local, quoted, domain))
			continue;
		if (*quoted && ((op = strrchr(*local, '@')) != NULL ||
				(op = strrchr(*local, '%')) != NULL ||
				(op = strrchr(*local, '!')) != NULL)) {
			if (*op == '!') {
				/* cracked open: a plain domain!user now */
				*quoted = 0;
				continue;
			}
			sender_set(domain, op + 1, strlen(op + 1));
			*op = '\0';
			*quoted = !sender_dot_string(*local);
			continue;
		}
		break;
	}
	if (**domain == '\0' && saved != NULL) {
		free(*domain);
		*domain = saved;
		saved = NULL;
	}
	free(saved);
}

/*
 * sender_base - the local part without its extension, or NULL; as
 * Postfix's split_addr(): never of postmaster, mailer-daemon or
 * double-bounce, of owner-* or *-request when "-" is a delimiter, or when
 * the part before the delimiter would be empty.
 */
static char *
sender_base(const char *local, const char *delim)
{
	size_t cut, len = strlen(local);

	if (*delim == '\0' || strcasecmp(local, "postmaster") == 0 ||
	    strcasecmp(local, "mailer-daemon") == 0 ||
	    strcasecmp(local, "double-bounce") == 0)
		return NULL;
	if (strchr(delim, '-') != NULL &&
	    (strncasecmp(local, "owner-", 6) == 0 ||
	     (len > 8 && strcasecmp(local + len - 8, "-request") == 0)))
		return NULL;
	if ((cut = strcspn(local, delim)) == 0 || local[cut] == '\0')
		return NULL;
	return xstrndup(local, cut);
}

/*
 * sender_find - one of Postfix's lookups (mail_addr_find.c find_addr):
 * the external (quoted) form first, then the internal one if it differs;
 * for the full address the regular expressions too, after the fixed keys
 * and for each form (as "hash:FILE, regexp:FILE" would).  local and
 * domain are folded already; domain NULL is a lookup of the bare local
 * part.
 */
static char *
sender_find(const struct loginmap *map, const char *local,
	    const char *domain, int full)
{
	struct sbuf key;
	const char *o = NULL;
	char *r = NULL;

	sbuf_init(&key);
	for (int form = 0; form < 2 && o == NULL && r == NULL; form++) {
		sbuf_reset(&key);
		if (form == 0) {
			sender_quote(&key, local);
		} else {
			if (sender_dot_string(local))
				break;	/* both forms are the same */
			sbuf_puts(&key, local);
		}
		if (domain) {
			sbuf_puts(&key, "@");
			sbuf_puts(&key, domain);
		}
		if ((o = loginmap_get(map, key.data)) == NULL && full)
			r = loginmap_match(map, key.data);
	}
	sbuf_free(&key);
	return o ? xstrdup(o) : r;
}

/* sender_chain - Postfix's lookup order for one (folded) domain */
static char *
sender_chain(const struct loginmap *map, const struct conf *c,
	     const char *local, const char *base, const char *domain)
{
	int local_domain = *domain == '\0' || sender_is_local(c, domain) ||
	    (*c->sender_myorigin && casefold_eq(domain, c->sender_myorigin));
	const char *o;
	char *r = NULL, *at;

	if (*domain) {
		if ((r = sender_find(map, local, domain, 1)) == NULL && base)
			r = sender_find(map, base, domain, 0);
	}
	if (r == NULL && local_domain) {
		if ((r = sender_find(map, local, NULL, *domain == '\0')) ==
		    NULL && base)
			r = sender_find(map, base, NULL, 0);
	}
	if (r == NULL && *domain) {
		at = xmalloc(strlen(domain) + 2);
		at[0] = '@';
		strcpy(at + 1, domain);
		if ((o = loginmap_get(map, at)) != NULL)
			r = xstrdup(o);
		free(at);
	}
	return r;
}

/* sender_catchall - the owners of "*@domain" (folded), or NULL */
static const char *
sender_catchall(const struct loginmap *map, const char *domain)
{
	struct sbuf key;
	const char *o;

	if (domain == NULL || *domain == '\0')
		return NULL;
	sbuf_init(&key);
	sbuf_puts(&key, "*@");
	sbuf_puts(&key, domain);
	o = loginmap_get(map, key.data);
	sbuf_free(&key);
	return o;
}

char *
sender_owners(const struct loginmap *map, const struct conf *c,
	      const char *local_in, const char *domain_in)
{
	char *local = xstrdup(local_in), *domain = xstrdup(domain_in);
	char *lf, *df, *base, *owners, *canon = NULL;
	const char *catchall, *cn;
	struct sbuf all;

	sender_route(c, &local, &domain);
	/* smtpd folds the resolved address; the map folded its keys alike */
	lf = loginmap_folds_local(map) ? casefold(local) : xstrdup(local);
	df = casefold(domain);
	if (*df && (cn = sender_canonical(c, df)) != NULL)
		canon = casefold(cn);
	/* user+ext: also look up user */
	base = sender_base(lf, c->recipient_delimiter);
	owners = sender_chain(map, c, lf, base, df);
	if (owners == NULL && canon != NULL)
		owners = sender_chain(map, c, lf, base, canon);
	free(base);

	sbuf_init(&all);
	if (owners)
		sbuf_puts(&all, owners);
	free(owners);
	for (int i = 0; i < 2; i++) {
		if ((catchall = sender_catchall(map, i ? canon : df)) == NULL)
			continue;
		if (all.len)
			sbuf_puts(&all, ", ");
		sbuf_puts(&all, catchall);
	}
	free(local);
	free(domain);
	free(lf);
	free(df);
	free(canon);
	if (all.len == 0) {
		sbuf_free(&all);
		return NULL;
	}
	return sbuf_steal(&all);
}

/*
 * sender_split - an envelope address (no angle brackets) into local part
 * and domain: a source route is dropped, a quoted local part unquoted, a
 * trailing dot of the domain removed.  Returns -1 if it is not an address.
 */
static int
sender_split(const char *addr, char **local, char **domain)
{
	struct sbuf l;
	const char *p = addr, *at;

	if (*p == '@') {			/* @route1,@route2:user@dom */
		if ((p = strchr(p, ':')) == NULL)
			return -1;
		p++;
	}
	sbuf_init(&l);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			sbuf_append(&l, p, 1);
		}
		if (*p != '"') {
			sbuf_free(&l);
			return -1;
		}
		at = p + 1;
		if (*at != '@' && *at != '\0') {
			sbuf_free(&l);
			return -1;
		}
	} else {
		at = strrchr(p, '@');
		sbuf_append(&l, p, at ? (size_t)(at - p) : strlen(p));
	}
	*local = sbuf_steal(&l);
	*domain = xstrdup(at && *at == '@' ? at + 1 : "");
	size_t dl = strlen(*domain);
	if (dl > 0 && (*domain)[dl - 1] == '.')
		(*domain)[dl - 1] = '\0';
	return 0;
}

/* sender_check_addr - 1 owned, 0 not owned, -1 outside the gate's domains */
static int
sender_check_addr(const struct loginmap *map, const struct conf *c,
		  const char *local, const char *domain, const char *login,
		  char **owners_out)
{
	char *owners, *rl = xstrdup(local), *rd = xstrdup(domain);
	int owned, applies;

	/* gated by the domain written or the one it routes to */
	sender_route(c, &rl, &rd);
	applies = sender_applies(c, domain) || sender_applies(c, rd);
	free(rl);
	free(rd);
	if (!applies)
		return -1;
	owners = sender_owners(map, c, local, domain);
	owned = owners != NULL && *login != '\0' &&
	    loginmap_owns(owners, login);
	if (owners_out)
		*owners_out = owners;
	else
		free(owners);
	return owned;
}

/*
 * sender_distrust - the symbol for a finding the map made: while a changed
 * map file is refused (half written, emptied), a finding that would be
 * rejected becomes SENDER_MAP_UNTRUSTED, a tempfail: the file the admin
 * is writing may own the address, and a retry costs less than a bounce.
 */
static const char *
sender_distrust(const struct conf *c, const char *symbol, int action)
{
	if (action == ACTION_REJECT && !loginmap_src_trusted(c->login_map))
		return "SENDER_MAP_UNTRUSTED";
	return symbol;
}

void
sender_mail(struct txn *m)
{
	const struct conf *c = m->conf;
	const char *login = m->auth_authen;
	struct loginmap *map;
	char *local = NULL, *domain = NULL, *owners = NULL, bracketed[600];
	int owned;

	if (c->login_map == NULL || !c->sender_check_envelope)
		return;
	snprintf(bracketed, sizeof(bracketed), "<%.512s>", m->mail_from);
	if (*m->mail_from == '\0') {
		if (*login && !c->sender_allow_null)
			symbols_add_opts(&m->symbols, "SENDER_NULL", 0,
					 bracketed, login, "null sender from "
					 "login %s", login);
		return;
	}
	if (*login == '\0' && m->mode == TXN_OUTBOUND)
		return;			/* trusted network: nobody to check */
	if (sender_split(m->mail_from, &local, &domain) != 0) {
		if (*login)
			symbols_add_opts(&m->symbols, "SENDER_LOGIN_MISMATCH",
					 0, bracketed, login, "unparsable "
					 "sender for %s", login);
		return;
	}
	if (*local == '\0' && *domain == '\0') {
		/* <""> is the null sender to Postfix: its internal form is "" */
		if (*login && !c->sender_allow_null)
			symbols_add_opts(&m->symbols, "SENDER_NULL", 0,
					 bracketed, login, "null sender from "
					 "login %s", login);
		free(local);
		free(domain);
		return;
	}
	map = loginmap_src_get(c->login_map);
	owned = sender_check_addr(map, c, local, domain, login, &owners);
	if (*login && owned == 0)
		symbols_add_opts(&m->symbols, sender_distrust(c,
				 "SENDER_LOGIN_MISMATCH",
				 c->sender_envelope_action), 0,
				 bracketed, login, "%s not owned by %s "
				 "(owners: %s)", bracketed, login,
				 owners ? owners : "none");
	else if (*login == '\0' && owners != NULL)
		symbols_add_opts(&m->symbols, sender_distrust(c,
				 "SENDER_NOT_LOGGED_IN", c->sender_unauth_action), 0,
				 bracketed, NULL, "%s is owned by %s", bracketed,
				 owners);
	free(owners);
	free(local);
	free(domain);
	loginmap_unref(map);
}

/* sender_fields - how many fields of that name, and the first one */
static size_t
sender_fields(const struct txn *m, const char *name, const char **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < m->nheaders; i++) {
		if (strcasecmp(m->headers[i].name, name) != 0)
			continue;
		if (n++ == 0)
			*first = m->headers[i].value;
	}
	return n;
}

/* sender_same - "local@domain" (as shown) names this address */
static int
sender_same(const char *shown, const struct addr *a)
{
	const char *at = strrchr(shown, '@');
	size_t llen = strlen(a->local);

	return at != NULL && (size_t)(at - shown) == llen &&
	    strncasecmp(shown, a->local, llen) == 0 &&
	    strcasecmp(at + 1, a->domain) == 0;
}

/* sender_display - a display name showing another address than used */
static void
sender_display(struct txn *m, const struct loginmap *map, const struct addr *a)
{
	char *shown = addr_lookalike(a->display), *local, *domain, b[600];

	if (a->display_unknown_charset)
		symbols_add(&m->symbols, "FROM_DISPLAY_CHARSET_UNKNOWN", 0,
			    "display name has an encoded word in a charset "
			    "iconv does not know (shown as ASCII)");
	if (shown == NULL)
		return;
	if (!sender_same(shown, a)) {
		int owned = 0;

		if (*m->auth_authen && sender_split(shown, &local, &domain) ==
		    0) {
			owned = sender_check_addr(map, m->conf, local, domain,
						  m->auth_authen, NULL) == 1;
			free(local);
			free(domain);
		}
		snprintf(b, sizeof(b), "<%.512s>", shown);
		if (!owned)
			symbols_add_opts(&m->symbols, "FROM_DISPLAY_SPOOF", 0,
					 b, NULL, "display name shows %s, "
					 "address is %s@%s", b, a->local,
					 a->domain);
	}
	free(shown);
}

/* sender_header - check one From or Sender field of an authenticated login */
static void
sender_header(struct txn *m, const struct loginmap *map, const char *value,
	      int is_from)
{
	const char *login = m->auth_authen;
	struct addr_list list;
	enum addr_status st;
	char err[128] = "", b[600];

	st = addr_parse_list(value, strlen(value), &list, err, sizeof(err));
	/* RFC 5322: From and Sender hold mailboxes, never a group */
	if (st == ADDR_OK && list.groups > 0) {
		st = ADDR_SYNTAX;
		snprintf(err, sizeof(err), "group syntax in %s",
			 is_from ? "From" : "Sender");
		addr_list_free(&list);
	}
	if (st != ADDR_OK || (!is_from && list.count != 1)) {
		/* inbound: a note for the log; DMARC judges the From there */
		symbols_add(&m->symbols, *login == '\0' ? "FROM_INVALID_INBOUND" :
			    is_from ? "FROM_INVALID" : "SENDER_HEADER_INVALID",
			    0, "%s: %s", addr_status_name(st), *err ? err :
			    "not one mailbox");
		addr_list_free(&list);
		return;
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct addr *a = &list.v[i];
		char *owners = NULL;
		int owned;

		snprintf(b, sizeof(b), "<%.250s@%.250s>", a->local, a->domain);
		owned = sender_check_addr(map, m->conf, a->local, a->domain,
					  login, &owners);
		if (*login && owned == 0)
			symbols_add_opts(&m->symbols, sender_distrust(m->conf,
					 is_from ? "FROM_LOGIN_MISMATCH" :
					 "SENDER_HEADER_MISMATCH",
					 m->conf->sender_header_action), 0, b,
					 login,
					 "%s not owned by %s (owners: %s)", b,
					 login, owners ? owners : "none");
		else if (*login == '\0' && owners != NULL && is_from)
			symbols_add_opts(&m->symbols, "FROM_PROTECTED_INBOUND",
					 0, b, NULL, "%s is owned by %s", b,
					 owners);
		free(owners);
		if (is_from)
			sender_display(m, map, a);
	}
	addr_list_free(&list);
}

void
sender_eoh(struct txn *m)
{
	const struct conf *c = m->conf;
	const char *login = m->auth_authen, *from, *sender;
	size_t nfrom, nsender;
	struct loginmap *map;

	if (c->login_map == NULL || !c->sender_check_header)
		return;
	if (*login == '\0' && m->mode == TXN_OUTBOUND)
		return;			/* trusted network: nobody to check */
	nfrom = sender_fields(m, "From", &from);
	nsender = sender_fields(m, "Sender", &sender);
	if (*login && nfrom == 0) {
		symbols_add(&m->symbols, "FROM_MISSING", 0, "no From field");
		return;
	}
	if (*login && nfrom > 1) {
		symbols_add(&m->symbols, "FROM_MULTIPLE", 0, "%zu From fields",
			    nfrom);
		return;
	}
	map = loginmap_src_get(c->login_map);
	if (nfrom == 1)
		sender_header(m, map, from, 1);
	if (*login && nsender > 1)
		symbols_add(&m->symbols, "SENDER_HEADER_INVALID", 0,
			    "%zu Sender fields", nsender);
	else if (*login && nsender == 1)
		sender_header(m, map, sender, 0);
	loginmap_unref(map);
}
