/*
 * rspamd - the /checkv2 client (see rspamd.h).
 *
 * json-c (Debian's libjson-c) reads the answer: a tokener with a nesting
 * limit (RSPAMD_JSON_DEPTH), so a hostile body cannot recurse deep; the
 * answer itself is bounded by RSPAMD_ANSWER_MAX before it is parsed.
 * Only "score", "required_score", "action", "is_skipped" and the names
 * and scores of "symbols" are used; anything else in the object is
 * ignored, anything not an object is garbage (RSPAMD_ERROR).
 *
 * Envelope values go into request headers only when they hold no
 * control character (a CR or LF would split the request); a value that
 * does is left out.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "conf.h"
#include "extconn.h"
#include "extspam.h"
#include "rspamd.h"
#include "session.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"

int
rspamd_enabled(const struct conf *c)
{
	return c->rspamd;
}

/* rspamd_num - a JSON number member; -1 if missing or not a number */
static int
rspamd_num(struct json_object *o, const char *key, double *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    (!json_object_is_type(v, json_type_double) &&
	     !json_object_is_type(v, json_type_int)))
		return -1;
	*out = json_object_get_double(v);
	return isfinite(*out) ? 0 : -1;
}

int
rspamd_json(const char *body, size_t len, struct extspam_result *r)
{
	struct json_tokener *tok;
	struct json_object *o, *v, *syms;
	enum json_tokener_error err;
	size_t used;
	int rc = -1;

	extspam_result_init(r);
	if (len > RSPAMD_ANSWER_MAX || len > (size_t)0x7fffffff)
		return extspam_bad(r, "answer too large", "", 0);
	tok = json_tokener_new_ex(RSPAMD_JSON_DEPTH);
	if (tok == NULL)
		return extspam_bad(r, "out of memory", "", 0);
	o = json_tokener_parse_ex(tok, body, (int)len);
	err = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || err != json_tokener_success) {
		json_object_put(o);
		snprintf(r->why, sizeof(r->why), "not JSON: %s",
			 err == json_tokener_continue ? "cut short" :
			 json_tokener_error_desc(err));
		return -1;
	}
	while (used < len && strchr(" \t\r\n", body[used]) != NULL)
		used++;
	if (used < len) {
		extspam_bad(r, "not JSON: text after the object", body + used,
			    len - used);
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		extspam_bad(r, "not a JSON object", "", 0);
		goto out;
	}
	if (rspamd_num(o, "score", &r->score) != 0) {
		extspam_bad(r, "no score in the answer", "", 0);
		goto out;
	}
	if (rspamd_num(o, "required_score", &r->required) != 0)
		r->required = 0;
	if (json_object_object_get_ex(o, "action", &v) &&
	    json_object_is_type(v, json_type_string)) {
		const char *a = json_object_get_string(v);

		util_sanitize(r->action, sizeof(r->action), a, strlen(a));
		r->spam = strcmp(a, "reject") == 0 ||
		    strcmp(a, "add header") == 0 ||
		    strcmp(a, "rewrite subject") == 0;
	}
	if (json_object_object_get_ex(o, "is_skipped", &v) &&
	    json_object_is_type(v, json_type_boolean))
		r->skipped = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "symbols", &syms) &&
	    json_object_is_type(syms, json_type_object)) {
		json_object_object_foreach(syms, name, sym) {
			double s = 0;
			int has = json_object_is_type(sym, json_type_object) &&
			    rspamd_num(sym, "score", &s) == 0;

			extspam_add_rule(r, "RSPAMD", name, strlen(name), s,
					 has);
		}
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* rspamd_head - the end of the HTTP header in a (NULL if not yet) */
static const char *
rspamd_head(const char *a, size_t len)
{
	const char *e = memmem(a, len, "\r\n\r\n", 4);

	return e ? e + 4 : NULL;
}

/* rspamd_field - the value of a header field in [a, end), or NULL */
static const char *
rspamd_field(const char *a, const char *end, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	for (const char *p = a; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' &&
		    strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/* rspamd_clen - Content-Length of the header [a, end); -1 none, -2 bad */
static long long
rspamd_clen(const char *a, const char *end)
{
	size_t n;
	const char *v = rspamd_field(a, end, "Content-Length", &n);
	long long len = 0;

	if (v == NULL)
		return -1;
	if (n == 0 || n > 12)
		return -2;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -2;
		len = len * 10 + (v[i] - '0');
	}
	return len;
}

int
rspamd_parse(const char *a, size_t len, struct extspam_result *r)
{
	const char *body, *eol, *sp;
	long long clen;
	size_t n;

	extspam_result_init(r);
	if (len == 0)
		return extspam_bad(r, "connection closed without an answer",
				   "", 0);
	eol = memmem(a, len, "\r\n", 2);
	if (len < 12 || strncmp(a, "HTTP/1.", 7) != 0 || a[8] != ' ' ||
	    eol == NULL)
		return extspam_bad(r, "not an HTTP answer:", a,
				   eol ? (size_t)(eol - a) : len);
	if (strncmp(a + 9, "200", 3) != 0 || (a[12] != ' ' && a + 12 != eol)) {
		sp = a + 9;
		return extspam_bad(r, "Rspamd said", sp, (size_t)(eol - sp));
	}
	if ((body = rspamd_head(a, len)) == NULL)
		return extspam_bad(r, "answer cut short in its header", "", 0);
	if (rspamd_field(eol + 2, body - 2, "Transfer-Encoding", &n) != NULL)
		return extspam_bad(r, "chunked answer (not asked for)", "", 0);
	clen = rspamd_clen(eol + 2, body - 2);
	if (clen == -2)
		return extspam_bad(r, "bad Content-Length", "", 0);
	n = (size_t)(a + len - body);
	if (clen >= 0 && (long long)n < clen) {
		snprintf(r->why, sizeof(r->why), "answer cut short: %zu of %lld "
			 "bytes", n, clen);
		return -1;
	}
	if (clen >= 0)
		n = (size_t)clen;
	return rspamd_json(body, n, r);
}

/* rspamd_whole - extconn_read's test: header and Content-Length body in */
static int
rspamd_whole(const char *a, size_t len, void *arg)
{
	const char *body = rspamd_head(a, len);
	long long clen;

	if (body == NULL)
		return 0;
	clen = rspamd_clen(a, body - 2);
	return clen >= 0 && (long long)(a + len - body) >= clen;
}

/* rspamd_hdr - "Name: value\r\n" when value is safe in a request */
static void
rspamd_hdr(struct sbuf *req, const char *name, const char *value)
{
	if (value == NULL || *value == '\0' || strlen(value) > 1024)
		return;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return;
	sbuf_printf(req, "%s: %s\r\n", name, value);
}

/* rspamd_request - the request line and header for this message */
static void
rspamd_request(const struct txn *t, size_t len, struct sbuf *req)
{
	const struct conf *c = t->conf;
	const struct session *s = t->sess;

	sbuf_printf(req, "POST /checkv2 HTTP/1.1\r\nHost: rspamd\r\n"
		    "Connection: close\r\nContent-Length: %zu\r\n"
		    "Pass: all\r\n", len);
	rspamd_hdr(req, "IP", s->client_addr);
	rspamd_hdr(req, "Helo", s->helo);
	if (s->client_name && strcmp(s->client_name, "unknown") != 0)
		rspamd_hdr(req, "Hostname", s->client_name);
	rspamd_hdr(req, "From", *t->mail_from ? t->mail_from : "<>");
	for (size_t i = 0; i < t->nrcpts; i++)
		if (!t->rcpts[i].refused)
			rspamd_hdr(req, "Rcpt", t->rcpts[i].addr);
	rspamd_hdr(req, "User", t->auth_authen);
	rspamd_hdr(req, "Queue-Id", t->queue_id);
	rspamd_hdr(req, "MTA-Name", c->authserv_id);
	rspamd_hdr(req, "Password", c->rspamd_password);
	sbuf_puts(req, "\r\n");
}

void
rspamd_eom(struct txn *t)
{
	const struct conf *c = t->conf;
	struct spool_view view;
	struct extspam_result r;
	struct extconn conn;
	struct sbuf req;
	char *answer = NULL;
	long n;

	if (t->spool.err != 0)
		return;
	if (t->mode == TXN_OUTBOUND && !c->rspamd_outbound)
		return;
	if (extspam_virus_skip(t, "RSPAMD_SKIPPED"))
		return;
	spool_view(&t->spool, &view);
	if ((long long)view.len > c->rspamd_max_size) {
		symbols_add(&t->symbols, "RSPAMD_SKIPPED", 0, "%zu bytes over "
			    "rspamd_max_size %lld", view.len, c->rspamd_max_size);
		return;
	}
	sbuf_init(&req);
	rspamd_request(t, view.len, &req);
	if (extconn_open(&conn, c->rspamd_server, c->rspamd_timeout) != 0 ||
	    extconn_send(&conn, req.data, req.len) != 0 ||
	    extconn_send_view(&conn, &view, view.len) != 0 ||
	    (n = extconn_read(&conn, &answer, RSPAMD_ANSWER_MAX,
			      rspamd_whole, NULL)) < 0) {
		extspam_fail(t, "RSPAMD_ERROR", "rspamd", c->rspamd_server,
			     conn.why);
		extconn_close(&conn);
		sbuf_free(&req);
		return;
	}
	extconn_close(&conn);
	sbuf_free(&req);
	if (rspamd_parse(answer, (size_t)n, &r) != 0)
		extspam_fail(t, "RSPAMD_ERROR", "rspamd", c->rspamd_server,
			     r.why);
	else
		extspam_symbols(t, "RSPAMD", c->rspamd_weight, &r);
	free(answer);
}
