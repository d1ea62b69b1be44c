/*
 * session - connection state (see session.h).
 *
 * Diagnostics: malformed data from the MTA is never fatal.  It is cut or
 * dropped and recorded as a symbol, so the verdict and the log say so.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "txn.h"
#include "util.h"

struct session *
session_new(struct conf *conf)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->conf = conf_ref(conf);
	s->client_addr = xstrdup("");
	s->client_name = xstrdup("");
	s->helo = xstrdup("");
	symbols_init(&s->symbols);
	symbols_set_weights(&s->symbols, s->conf->weights);
	return s;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_end_txn(s);
	for (int i = 0; i < SESSION_NSLOTS; i++)
		session_set_slot(s, (enum session_slot)i, NULL, NULL);
	symbols_clear(&s->symbols);
	free(s->client_addr);
	free(s->client_name);
	free(s->helo);
	conf_unref(s->conf);
	free(s);
}

/* bounded_copy - copy untrusted text, cut at max bytes */
static char *
bounded_copy(const char *s, size_t max)
{
	return xstrndup(s ? s : "", max);
}

void
session_set_client(struct session *s, const char *addr, const char *name)
{
	/* copy first: name may be s->client_name itself ({client_addr}) */
	char *a = bounded_copy(addr, 64), *n = bounded_copy(name, 255);

	free(s->client_addr);
	free(s->client_name);
	s->client_addr = a;
	s->client_name = n;
	s->have_client = addr && netaddr_parse(s->client_addr, &s->client) == 0;
	if (addr && *addr && !s->have_client &&
	    symbols_find(&s->symbols, "CLIENT_ADDR_MALFORMED") == NULL)
		symbols_add(&s->symbols, "CLIENT_ADDR_MALFORMED", 0,
			    "client address \"%s\"", s->client_addr);
}

void
session_set_helo(struct session *s, const char *helo)
{
	free(s->helo);
	s->helo = bounded_copy(helo, 255);
}

struct txn *
session_txn(struct session *s)
{
	if (s->txn == NULL) {
		s->txn = txn_new(s);
		s->ntxn++;
	}
	return s->txn;
}

void
session_end_txn(struct session *s)
{
	txn_free(s->txn);
	s->txn = NULL;
}

/* macro_ok - a macro value must be short and free of control bytes */
static int
macro_ok(const char *v)
{
	size_t n = 0;

	for (; *v; v++, n++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f ||
		    n >= TXN_MACRO_MAX)
			return 0;
	return 1;
}

void
session_set_macro(struct session *s, const char *name, const char *value)
{
	char key[64];
	size_t len;

	if (name == NULL || value == NULL)
		return;
	/* "{auth_authen}" and "auth_authen" are the same macro */
	len = strlen(name);
	if (len >= 2 && name[0] == '{' && name[len - 1] == '}') {
		name++;
		len -= 2;
	}
	if (len >= sizeof(key))
		return;
	memcpy(key, name, len);
	key[len] = '\0';

	if (strcmp(key, "client_addr") == 0) {
		if (!s->have_client && macro_ok(value))
			session_set_client(s, value, s->client_name);
		return;
	}
	if (!macro_ok(value)) {
		struct txn *t;

		/* only the names the transaction keeps are worth a note */
		t = session_txn(s);
		if (txn_set_macro(t, key, ""))
			symbols_add(&t->symbols, "MACRO_MALFORMED", 0,
				    "{%s} dropped: %.64s", key, value);
		return;
	}
	txn_set_macro(session_txn(s), key, value);
}

void
session_set_slot(struct session *s, enum session_slot i, void *data,
		 void (*free_fn)(void *))
{
	if (s->slot[i].data != NULL && s->slot[i].free != NULL)
		s->slot[i].free(s->slot[i].data);
	s->slot[i].data = data;
	s->slot[i].free = free_fn;
}

void *
session_slot(const struct session *s, enum session_slot i)
{
	return s->slot[i].data;
}
