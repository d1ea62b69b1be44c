/*
 * msg - connection and message state (see msg.h).
 *
 * Diagnostics: malformed data from the MTA is never fatal.  It is cut or
 * dropped and recorded as a symbol, so the verdict and the log say so.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "util.h"

struct msg *
msg_new(struct conf *conf)
{
	struct msg *m = xcalloc(1, sizeof(*m));

	m->conf = conf_ref(conf);
	m->client_addr = xstrdup("");
	m->client_name = xstrdup("");
	m->helo = xstrdup("");
	symbols_init(&m->symbols);
	sbuf_init(&m->auth_results);
	msg_reset(m);
	return m;
}

/* msg_reset - clear everything that belongs to one transaction */
void
msg_reset(struct msg *m)
{
	free(m->queue_id);
	free(m->auth_authen);
	free(m->auth_type);
	free(m->mail_from);
	for (size_t i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	for (size_t i = 0; i < m->nheaders; i++)
		free(m->headers[i].name);
	free(m->headers);
	symbols_clear(&m->symbols);
	for (size_t i = 0; i < m->ntraces; i++) {
		free(m->traces[i].name);
		free(m->traces[i].value);
	}
	free(m->traces);
	m->traces = NULL;
	m->ntraces = 0;
	sbuf_free(&m->auth_results);

	m->queue_id = xstrdup("");
	m->auth_authen = xstrdup("");
	m->auth_type = xstrdup("");
	m->mail_from = xstrdup("");
	m->have_mail = 0;
	m->declared_size = -1;
	m->rcpts = NULL;
	m->nrcpts = m->rcpt_total = 0;
	m->headers = NULL;
	m->nheaders = 0;
	m->header_bytes = m->body_bytes = m->size = 0;
	m->mode = MSG_INBOUND;
}

void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	msg_reset(m);
	free(m->queue_id);
	free(m->auth_authen);
	free(m->auth_type);
	free(m->mail_from);
	free(m->client_addr);
	free(m->client_name);
	free(m->helo);
	conf_unref(m->conf);
	free(m);
}

/* bounded_copy - copy untrusted text, cut at max bytes */
static char *
bounded_copy(const char *s, size_t max)
{
	return xstrndup(s ? s : "", max);
}

void
msg_set_client(struct msg *m, const char *addr, const char *name)
{
	free(m->client_addr);
	free(m->client_name);
	m->client_addr = bounded_copy(addr, 64);
	m->client_name = bounded_copy(name, 255);
	m->have_client = addr && netaddr_parse(m->client_addr, &m->client) == 0;
	if (addr && *addr && !m->have_client)
		symbols_add(&m->symbols, "CLIENT_ADDR_MALFORMED", 0,
			    "client address \"%s\"", m->client_addr);
}

void
msg_set_helo(struct msg *m, const char *helo)
{
	free(m->helo);
	m->helo = bounded_copy(helo, 255);
}

/* macro_ok - a macro value must be short and free of control bytes */
static int
macro_ok(const char *v)
{
	size_t n = 0;

	for (; *v; v++, n++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f || n >= MSG_MACRO_MAX)
			return 0;
	return 1;
}

void
msg_set_macro(struct msg *m, const char *name, const char *value)
{
	char key[64];
	char **slot = NULL;
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

	if (strcmp(key, "i") == 0)
		slot = &m->queue_id;
	else if (strcmp(key, "auth_authen") == 0)
		slot = &m->auth_authen;
	else if (strcmp(key, "auth_type") == 0)
		slot = &m->auth_type;
	else if (strcmp(key, "client_addr") == 0) {
		if (!m->have_client && macro_ok(value))
			msg_set_client(m, value, m->client_name);
		return;
	} else
		return;

	if (!macro_ok(value)) {
		symbols_add(&m->symbols, "MACRO_MALFORMED", 0,
			    "{%s} dropped: %.64s", key, value);
		value = "";
	}
	free(*slot);
	*slot = xstrdup(value);
}

/* msg_addr_strip - remove <> around an envelope address */
char *
msg_addr_strip(const char *a)
{
	size_t len;

	if (a == NULL)
		return xstrdup("");
	while (*a == ' ')
		a++;
	len = strnlen(a, MSG_ADDR_MAX);
	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		a++;
		len -= 2;
	}
	return xstrndup(a, len);
}

void
msg_set_mail(struct msg *m, const char *addr, const char *const *args)
{
	free(m->mail_from);
	m->mail_from = msg_addr_strip(addr);
	m->have_mail = 1;
	m->declared_size = -1;
	for (; args && *args; args++) {
		if (strncasecmp(*args, "SIZE=", 5) == 0) {
			long long n = util_parse_size((*args) + 5);

			/* SIZE takes digits only; a suffix is not ESMTP */
			if (n >= 0 && isdigit((unsigned char)(*args)[
				strlen(*args) - 1]))
				m->declared_size = n;
		}
	}
	/* outbound: authenticated, or from a trusted network */
	if (*m->auth_authen != '\0') {
		m->mode = MSG_OUTBOUND;
		symbols_add(&m->symbols, "AUTHENTICATED", 0, "%s%s%s",
			    m->auth_authen, *m->auth_type ? " " : "",
			    m->auth_type);
	} else if (m->have_client &&
		   netlist_match(&m->conf->trusted_networks, &m->client)) {
		m->mode = MSG_OUTBOUND;
		symbols_add(&m->symbols, "TRUSTED_NETWORK", 0, "%s",
			    m->client_addr);
	} else {
		m->mode = MSG_INBOUND;
	}
}

void
msg_add_rcpt(struct msg *m, const char *addr)
{
	m->rcpt_total++;
	if (m->nrcpts >= MSG_RCPT_MAX)
		return;
	m->rcpts = xrealloc(m->rcpts, (m->nrcpts + 1) * sizeof(*m->rcpts));
	m->rcpts[m->nrcpts++] = msg_addr_strip(addr);
}

/* header_name_ok - RFC 5322 field name: printable ASCII except ':' */
static int
header_name_ok(const char *n)
{
	if (*n == '\0')
		return 0;
	for (; *n; n++)
		if ((unsigned char)*n <= 32 || (unsigned char)*n >= 127 ||
		    *n == ':')
			return 0;
	return 1;
}

/*
 * msg_add_header - keep one field, counting its bytes as on the wire
 * ("Name: value\r\n").  Past max_header_size or MSG_HEADERS_MAX the field
 * is counted but not kept, and HEADER_SIZE_LIMIT is raised.
 */
int
msg_add_header(struct msg *m, const char *name, const char *value)
{
	size_t nlen, vlen;
	struct msg_header *h;
	int index = 1;

	if (name == NULL)
		name = "";
	if (value == NULL)
		value = "";
	nlen = strlen(name);
	vlen = strlen(value);
	m->header_bytes += (long long)(nlen + vlen + 4);
	m->size += (long long)(nlen + vlen + 4);
	if (m->header_bytes > m->conf->max_header_size ||
	    m->nheaders >= MSG_HEADERS_MAX) {
		symbols_add(&m->symbols, "HEADER_SIZE_LIMIT", 0,
			    "header section over %lld bytes or %d fields",
			    m->conf->max_header_size, MSG_HEADERS_MAX);
		return -1;
	}
	if (!header_name_ok(name))
		symbols_add(&m->symbols, "HEADER_MALFORMED", 0,
			    "bad field name \"%.64s\"", name);
	for (size_t i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			index++;
	m->headers = xrealloc(m->headers,
			      (m->nheaders + 1) * sizeof(*m->headers));
	h = &m->headers[m->nheaders++];
	h->name = xmalloc(nlen + vlen + 2);
	memcpy(h->name, name, nlen + 1);
	h->value = h->name + nlen + 1;
	memcpy(h->value, value, vlen + 1);
	h->index = index;
	return 0;
}

void
msg_add_body(struct msg *m, size_t len)
{
	m->body_bytes += (long long)len;
	m->size += (long long)len;
}

const char *
msg_mode_name(enum msg_mode mode)
{
	return mode == MSG_OUTBOUND ? "outbound" : "inbound";
}

void
msg_add_trace(struct msg *m, const char *name, const char *value)
{
	m->traces = xrealloc(m->traces, (m->ntraces + 1) * sizeof(*m->traces));
	m->traces[m->ntraces].name = xstrdup(name);
	m->traces[m->ntraces].value = xstrdup(value);
	m->ntraces++;
}

void
msg_add_auth_result(struct msg *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (m->auth_results.len)
		sbuf_puts(&m->auth_results, "; ");
	sbuf_puts(&m->auth_results, buf);
}
