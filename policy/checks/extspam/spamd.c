/*
 * spamd - the SPAMC/1.5 client (see spamd.h).
 *
 * Request: "SYMBOLS SPAMC/1.5", Content-length (the Received field and
 * the message), User when spamd_user is set, the empty line, the bytes;
 * then the write side is shut, as spamc does.  spamd answers
 * "SPAMD/1.1 0 EX_OK", "Content-length: N", "Spam: True ; 7.4 / 5.0", the
 * empty line and the rule names separated by commas, and closes.  A
 * status other than 0 (EX_OK), a missing Spam field, a body shorter than
 * its Content-length, or an answer over SPAMD_ANSWER_MAX is SPAMD_ERROR.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "extconn.h"
#include "extspam.h"
#include "session.h"
#include "spamd.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"

int
spamd_enabled(const struct conf *c)
{
	return c->spamd;
}

/* spamd_number - a decimal number at p (after blanks); -1 if none */
static int
spamd_number(const char **p, double *out)
{
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	*out = strtod(*p, &end);
	if (end == *p || !isfinite(*out))
		return -1;
	*p = end;
	return 0;
}

/* spamd_spam_field - "True ; 7.4 / 5.0" into r; -1 if it is not that */
static int
spamd_spam_field(const char *v, struct extspam_result *r)
{
	const char *p = v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "True", 4) == 0 || strncasecmp(p, "Yes", 3) == 0)
		r->spam = 1;
	else if (strncasecmp(p, "False", 5) == 0 ||
		 strncasecmp(p, "No", 2) == 0)
		r->spam = 0;
	else
		return -1;
	p = strchr(p, ';');
	if (p == NULL)
		return -1;
	p++;
	if (spamd_number(&p, &r->score) != 0)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '/' || spamd_number(&p, &r->required) != 0)
		return -1;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\0' ? 0 : -1;
}

int
spamd_parse(const char *a, size_t len, struct extspam_result *r)
{
	const char *eol, *p = a, *end = a + len, *body;
	long long clen = -1;
	int have_spam = 0;
	char line[512];

	extspam_result_init(r);
	if (len == 0)
		return extspam_bad(r, "connection closed without an answer",
				  "", 0);
	eol = memchr(a, '\n', len);
	if (eol == NULL)
		return extspam_bad(r, "answer cut short in its first line", a,
				  len);
	if (len < 6 || strncmp(a, "SPAMD/", 6) != 0)
		return extspam_bad(r, "not a spamd answer:", a,
				  (size_t)(eol - a));
	p = a + 6;
	while (p < eol && ((*p >= '0' && *p <= '9') || *p == '.'))
		p++;
	if (p == a + 6 || *p != ' ')
		return extspam_bad(r, "not a spamd answer:", a,
				  (size_t)(eol - a));
	while (p < eol && *p == ' ')
		p++;
	if (p + 1 >= eol || p[0] != '0' || (p[1] != ' ' && p[1] != '\r'))
		return extspam_bad(r, "spamd said", p, (size_t)(eol - p));
	/* the fields, to the empty line */
	for (p = eol + 1; ; p = eol + 1) {
		size_t n;

		if (p >= end || (eol = memchr(p, '\n', (size_t)(end - p))) ==
		    NULL)
			return extspam_bad(r, "answer cut short in its header",
					  "", 0);
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (n >= sizeof(line))
			return extspam_bad(r, "header line too long:", p, n);
		memcpy(line, p, n);
		line[n] = '\0';
		if (strncasecmp(line, "Spam:", 5) == 0) {
			if (spamd_spam_field(line + 5, r) != 0)
				return extspam_bad(r, "bad Spam field:", line, n);
			have_spam = 1;
		} else if (strncasecmp(line, "Content-length:", 15) == 0) {
			char *e;

			clen = strtoll(line + 15, &e, 10);
			while (*e == ' ' || *e == '\t')
				e++;
			if (e == line + 15 || *e != '\0' || clen < 0)
				return extspam_bad(r, "bad Content-length:", line,
						  n);
		}
	}
	if (!have_spam)
		return extspam_bad(r, "no Spam field in the answer", "", 0);
	body = eol + 1;
	if (clen >= 0 && (long long)(end - body) < clen) {
		snprintf(r->why, sizeof(r->why), "answer cut short: %lld of "
			 "%lld bytes", (long long)(end - body), clen);
		return -1;
	}
	if (clen >= 0)
		end = body + clen;
	/* "RULE,RULE,...": the names, white space around them dropped */
	for (p = body; p < end;) {
		const char *q = p;

		while (q < end && *q != ',')
			q++;
		while (p < q && (*p == ' ' || *p == '\t' || *p == '\r' ||
				 *p == '\n'))
			p++;
		{
			const char *e = q;

			while (e > p && (e[-1] == ' ' || e[-1] == '\t' ||
					 e[-1] == '\r' || e[-1] == '\n'))
				e--;
			if (e > p)
				extspam_add_rule(r, "SPAMD", p, (size_t)(e - p),
						 0, 0);
		}
		p = q + 1;
	}
	return 0;
}

/* spamd_clean - a value for our Received field: printable, no parens */
static void
spamd_clean(char *out, size_t size, const char *s, const char *none)
{
	if (s == NULL || *s == '\0')
		s = none;
	util_sanitize(out, size, s, strlen(s));
	for (char *p = out; *p; p++)
		if (*p == '(' || *p == ')' || *p == ';' || *p == ' ')
			*p = '_';
}

void
spamd_received(const struct txn *t, char *out, size_t size)
{
	const struct session *s = t->sess;
	char helo[256], name[256], addr[64], id[128], date[64], rcpt[300];
	size_t live = 0, last = 0;
	struct tm tm;
	time_t now = time(NULL);

	spamd_clean(helo, sizeof(helo), s->helo, "unknown");
	spamd_clean(name, sizeof(name), s->client_name, "unknown");
	spamd_clean(addr, sizeof(addr), s->client_addr, "unknown");
	spamd_clean(id, sizeof(id), t->queue_id, "");
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	for (size_t i = 0; i < t->nrcpts; i++)
		if (!t->rcpts[i].refused) {
			live++;
			last = i;
		}
	rcpt[0] = '\0';
	if (live == 1) {
		char a[256];

		util_sanitize(a, sizeof(a), t->rcpts[last].addr,
			      strlen(t->rcpts[last].addr));
		snprintf(rcpt, sizeof(rcpt), "\r\n\tfor <%s>", a);
	}
	/* RFC 3848: ESMTPA tells spamd the client logged in */
	snprintf(out, size, "Received: from %s (%s [%s])\r\n\tby %s "
		 "(relayguard) with %s%s%s%s; %s\r\n", helo, name, addr,
		 t->conf->authserv_id, *t->auth_authen ? "ESMTPA" : "ESMTP",
		 *id ? " id " : "", id, rcpt, date);
}

void
spamd_eom(struct txn *t)
{
	const struct conf *c = t->conf;
	struct spool_view view;
	struct extspam_result r;
	struct extconn conn;
	char received[1200], head[512], *answer = NULL;
	size_t total;
	long n;

	if (t->spool.err != 0)
		return;
	if (t->mode == TXN_OUTBOUND && !c->spamd_outbound)
		return;
	if (extspam_virus_skip(t, "SPAMD_SKIPPED"))
		return;
	spool_view(&t->spool, &view);
	spamd_received(t, received, sizeof(received));
	total = strlen(received) + view.len;
	if ((long long)total > c->spamd_max_size) {
		symbols_add(&t->symbols, "SPAMD_SKIPPED", 0, "%zu bytes over "
			    "spamd_max_size %lld", total, c->spamd_max_size);
		return;
	}
	snprintf(head, sizeof(head), "SYMBOLS SPAMC/1.5\r\nContent-length: "
		 "%zu\r\n%s%s%s\r\n", total, *c->spamd_user ? "User: " : "",
		 c->spamd_user, *c->spamd_user ? "\r\n" : "");
	if (extconn_open(&conn, c->spamd_server, c->spamd_timeout) != 0 ||
	    extconn_send(&conn, head, strlen(head)) != 0 ||
	    extconn_send(&conn, received, strlen(received)) != 0 ||
	    extconn_send_view(&conn, &view, view.len) != 0 ||
	    (extconn_shut(&conn), n = extconn_read(&conn, &answer,
	    SPAMD_ANSWER_MAX, NULL, NULL)) < 0) {
		extspam_fail(t, "SPAMD_ERROR", "spamd", c->spamd_server,
			     conn.why);
		extconn_close(&conn);
		return;
	}
	extconn_close(&conn);
	if (spamd_parse(answer, (size_t)n, &r) != 0)
		extspam_fail(t, "SPAMD_ERROR", "spamd", c->spamd_server, r.why);
	else
		extspam_symbols(t, "SPAMD", c->spamd_weight, &r);
	free(answer);
}
