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
#include "loginmap.h"
#include "msg.h"
#include "sender.h"
#include "util.h"

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

/* sender_applies - is the domain one the gate looks after */
static int
sender_applies(const struct conf *c, const char *domain)
{
	const char *canon;

	if (c->sender_domains.n == 0 || strlist_has(&c->sender_domains, domain))
		return 1;
	canon = sender_canonical(c, domain);
	return canon != NULL && strlist_has(&c->sender_domains, canon);
}

/* sender_get - a fixed-string lookup of "local" "@" "domain" */
static const char *
sender_get(const struct loginmap *map, const char *local, const char *at,
	   const char *domain)
{
	struct sbuf key;
	const char *owners;

	sbuf_init(&key);
	sbuf_puts(&key, local);
	sbuf_puts(&key, at);
	sbuf_puts(&key, domain);
	loginmap_fold(map, key.data);
	owners = loginmap_get(map, key.data);
	sbuf_free(&key);
	return owners;
}

/* sender_regex - the regular expressions, on "local@domain" */
static char *
sender_regex(const struct loginmap *map, const char *local,
	     const char *domain)
{
	struct sbuf addr;
	char *owners;

	sbuf_init(&addr);
	sbuf_puts(&addr, local);
	if (*domain) {
		sbuf_puts(&addr, "@");
		sbuf_puts(&addr, domain);
	}
	owners = loginmap_match(map, addr.data);
	sbuf_free(&addr);
	return owners;
}

/* sender_chain - Postfix's lookup order for one domain */
static char *
sender_chain(const struct loginmap *map, const struct conf *c,
	     const char *local, const char *base, const char *domain)
{
	int local_domain = *domain == '\0' ||
	    strlist_has(&c->local_domains, domain);
	const char *o = NULL;
	char *r;

	if (*domain) {
		if ((o = sender_get(map, local, "@", domain)) == NULL && base)
			o = sender_get(map, base, "@", domain);
	}
	if (o == NULL && local_domain) {
		if ((o = sender_get(map, local, "", "")) == NULL && base)
			o = sender_get(map, base, "", "");
	}
	if (o == NULL && *domain)
		o = sender_get(map, "", "@", domain);
	if (o != NULL)
		return xstrdup(o);
	if ((r = sender_regex(map, local, domain)) == NULL && base)
		r = sender_regex(map, base, domain);
	return r;
}

char *
sender_owners(const struct loginmap *map, const struct conf *c,
	      const char *local, const char *domain)
{
	const char *canon = *domain ? sender_canonical(c, domain) : NULL;
	const char *delim = c->recipient_delimiter;
	const char *catchall;
	char *base = NULL, *owners;
	struct sbuf all;
	size_t cut;

	/* user+ext: also look up user (a delimiter in front is no extension) */
	if (*delim && (cut = strcspn(local, delim)) > 0 && local[cut] != '\0')
		base = xstrndup(local, cut);
	owners = sender_chain(map, c, local, base, domain);
	if (owners == NULL && canon != NULL)
		owners = sender_chain(map, c, local, base, canon);
	free(base);

	sbuf_init(&all);
	if (owners)
		sbuf_puts(&all, owners);
	free(owners);
	for (int i = 0; i < 2; i++) {
		const char *d = i == 0 ? domain : canon;

		if (d == NULL || *d == '\0' ||
		    (catchall = sender_get(map, "*", "@", d)) == NULL)
			continue;
		if (all.len)
			sbuf_puts(&all, ", ");
		sbuf_puts(&all, catchall);
	}
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
	char *owners;
	int owned;

	if (!sender_applies(c, domain))
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

void
sender_mail(struct msg *m)
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
	if (*login == '\0' && m->mode == MSG_OUTBOUND)
		return;			/* trusted network: nobody to check */
	if (sender_split(m->mail_from, &local, &domain) != 0) {
		if (*login)
			symbols_add_opts(&m->symbols, "SENDER_LOGIN_MISMATCH",
					 0, bracketed, login, "unparsable "
					 "sender for %s", login);
		return;
	}
	map = loginmap_src_get(c->login_map);
	owned = sender_check_addr(map, c, local, domain, login, &owners);
	if (*login && owned == 0)
		symbols_add_opts(&m->symbols, "SENDER_LOGIN_MISMATCH", 0,
				 bracketed, login, "%s not owned by %s "
				 "(owners: %s)", bracketed, login,
				 owners ? owners : "none");
	else if (*login == '\0' && owners != NULL)
		symbols_add_opts(&m->symbols, "SENDER_NOT_LOGGED_IN", 0,
				 bracketed, NULL, "%s is owned by %s", bracketed,
				 owners);
	free(owners);
	free(local);
	free(domain);
	loginmap_unref(map);
}

/* sender_fields - how many fields of that name, and the first one */
static size_t
sender_fields(const struct msg *m, const char *name, const char **first)
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
sender_display(struct msg *m, const struct loginmap *map, const struct addr *a)
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
sender_header(struct msg *m, const struct loginmap *map, const char *value,
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
			symbols_add_opts(&m->symbols, is_from ?
					 "FROM_LOGIN_MISMATCH" :
					 "SENDER_HEADER_MISMATCH", 0, b, login,
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
sender_eoh(struct msg *m)
{
	const struct conf *c = m->conf;
	const char *login = m->auth_authen, *from, *sender;
	size_t nfrom, nsender;
	struct loginmap *map;

	if (c->login_map == NULL || !c->sender_check_header)
		return;
	if (*login == '\0' && m->mode == MSG_OUTBOUND)
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
