/*
 * check - the "relayguard check" command (see check.h).
 *
 * It runs the milter callbacks themselves (callbacks.c), as the daemon
 * does, behind a stand-in for the MTA: the steps Postfix 3.7 sends, in its
 * order, with rawmsg.c splitting the message as Postfix's milter client
 * does, and the MTA actions (reply, header edits, quarantine) recorded
 * and printed instead of applied.  Without --mail-from the envelope sender is taken from
 * the message, as the MTA would have had it: Return-Path, else the first
 * From address (a mail client uses that), else the null sender.  Exit codes: 0 verdict reached, 1 the message could not
 * be read, 2 bad usage or configuration.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"
#include "callbacks.h"
#include "check.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "policy.h"
#include "rawmsg.h"
#include "session.h"
#include "txn.h"
#include "util.h"

#define CHECK_MAX_RCPTS	1000

struct check_args {
	const char	*conf;
	const char	*client_ip;
	const char	*client_name;
	const char	*helo;
	const char	*mail_from;
	const char	*auth_user;
	const char	*queue_id;
	const char	*emit;		/* --emit-miltertest FILE */
	const char	*rcpts[CHECK_MAX_RCPTS];
	size_t		nrcpts;
	const char	*file;
};

static void
check_usage(FILE *fp)
{
	fputs("usage: relayguard check -c FILE [--client-ip IP] "
	      "[--client-name NAME] [--helo NAME]\n"
	      "        [--mail-from ADDR] [--rcpt ADDR]... "
	      "[--auth-user LOGIN] [--queue-id ID]\n"
	      "        [--emit-miltertest FILE] [MESSAGE|-]\n", fp);
}

static int
check_parse(int argc, char **argv, struct check_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "client-ip", required_argument, NULL, 'i' },
		{ "client-name", required_argument, NULL, 'N' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "auth-user", required_argument, NULL, 'u' },
		{ "queue-id", required_argument, NULL, 'q' },
		{ "emit-miltertest", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->conf = optarg; break;
		case 'i': a->client_ip = optarg; break;
		case 'N': a->client_name = optarg; break;
		case 'H': a->helo = optarg; break;
		case 'f': a->mail_from = optarg; break;
		case 'u': a->auth_user = optarg; break;
		case 'q': a->queue_id = optarg; break;
		case 'E': a->emit = optarg; break;
		case 'r':
			if (a->nrcpts == CHECK_MAX_RCPTS) {
				fprintf(stderr, "relayguard check: more than "
					"%d recipients\n", CHECK_MAX_RCPTS);
				return -1;
			}
			a->rcpts[a->nrcpts++] = optarg;
			break;
		case 'h':
			check_usage(stdout);
			exit(0);
		default:
			check_usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc) {
		check_usage(stderr);
		return -1;
	}
	return 0;
}

/* check_field - the unfolded value of the first field NAME in head */
static char *
check_field(const char *head, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t llen = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (llen == 0 || (llen == 1 && *p == '\r'))
			break;			/* end of the header section */
		if (llen > nlen && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':') {
			struct sbuf v;
			const char *q = p + nlen + 1;

			sbuf_init(&v);
			for (;;) {
				const char *e = memchr(q, '\n',
						       (size_t)(end - q));
				size_t n = e ? (size_t)(e - q) : (size_t)(end - q);

				sbuf_append(&v, q, n);
				if (e == NULL || e + 1 >= end ||
				    (e[1] != ' ' && e[1] != '\t'))
					break;
				q = e + 1;
			}
			return sbuf_steal(&v);
		}
		p = eol ? eol + 1 : end;
	}
	return NULL;
}

/* check_sender - the envelope sender the message itself suggests */
static char *
check_sender(const char *head, size_t len)
{
	struct addr_list list;
	char *v, *out = NULL;

	if ((v = check_field(head, len, "Return-Path")) != NULL) {
		char *t = util_trim(v), *addr = txn_addr_strip(t);
		size_t n = strlen(t);

		/* too long to keep: the MTA passes it all the same (and the
		   envelope check refuses it), so it is never NULL */
		if (addr == NULL)
			addr = n >= 2 && t[0] == '<' && t[n - 1] == '>' ?
			    xstrndup(t + 1, n - 2) : xstrdup(t);
		free(v);
		return addr;
	}
	if ((v = check_field(head, len, "From")) != NULL) {
		if (addr_parse_list(v, strlen(v), &list, NULL, 0) == ADDR_OK) {
			struct sbuf a;

			sbuf_init(&a);
			sbuf_printf(&a, "%s@%s", list.v[0].local,
				    list.v[0].domain);
			out = sbuf_steal(&a);
		}
		addr_list_free(&list);
		free(v);
	}
	return out ? out : xstrdup("");
}

/* check_head - read until the end of the header section (bounded) */
static int
check_head(FILE *fp, struct sbuf *head, size_t cap)
{
	char buf[8192];
	size_t n;

	while (head->len < cap && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		sbuf_append(head, buf, n);
		if (memmem(head->data, head->len, "\n\n", 2) ||
		    memmem(head->data, head->len, "\n\r\n", 3) ||
		    head->data[0] == '\n' || head->data[0] == '\r')
			break;
	}
	return ferror(fp) ? -1 : 0;
}

/* the stand-in MTA: what the callbacks asked for, to print */
struct check_mta {
	const struct check_args *args;
	void		*priv;
	char		*sender;	/* "<addr>" */
	int		leadspc;
	unsigned	needs;
	int		ended;		/* the transaction ended early */
	int		have_verdict;
	enum action	action;
	int		quarantined;
	struct sbuf	reply;		/* "CODE X.Y.Z TEXT", or empty */
	struct sbuf	edits;		/* header: and remove-header: lines */
	struct sbuf	symbols;	/* symbol: lines of the last verdict */
	double		total;		/* their scores, summed */
	struct sbuf	refused;	/* refused-rcpt: lines */
	FILE		*lua;		/* --emit-miltertest, or NULL */
	struct sbuf	luaedits;	/* eom checks of the edits */
};

/*
 * The miltertest replay (--emit-miltertest FILE): a Lua script for
 * miltertest that sends the daemon exactly the steps check sent its
 * callbacks, and fails unless every step gets the same answer and the
 * same header edits (the replies are compared with the daemon's log).  tests/milter/differential.sh runs
 * every scenario both ways with it.
 */

/* lua_str - a Lua string literal of s (bytes escaped as \ddd) */
static void
lua_str(FILE *fp, const char *s, size_t len)
{
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, fp);
		else
			fprintf(fp, "\\%03u", c);
	}
	fputc('"', fp);
}

static void
lua_cstr(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("nil", fp);
	else
		lua_str(fp, s, strlen(s));
}

/* lua_expect - the answer the step got here, as miltertest sees it */
static void
lua_expect(struct check_mta *cm, enum mta_status st)
{
	const char *want = "SMFIR_CONTINUE";

	if (cm->lua == NULL)
		return;
	switch (st) {
	case MTA_ACCEPT: want = "SMFIR_ACCEPT"; break;
	case MTA_REJECT: want = cm->reply.len ? "SMFIR_REPLYCODE" :
	    "SMFIR_REJECT"; break;
	case MTA_TEMPFAIL: want = cm->reply.len ? "SMFIR_REPLYCODE" :
	    "SMFIR_TEMPFAIL"; break;
	case MTA_DISCARD: want = "SMFIR_DISCARD"; break;
	case MTA_SKIP: want = "SMFIR_SKIP"; break;
	case MTA_NOREPLY: want = "nil"; break;
	default: break;
	}
	fprintf(cm->lua, ", %s)\n", want);
}

/* lua_sbuf_str - lua_str into a buffer */
static void
lua_sbuf_str(struct sbuf *b, const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return;
	lua_cstr(fp, s);
	fclose(fp);
	sbuf_append(b, buf, len);
	free(buf);
}

/* check_lua_edit - an eom check that the daemon made the same edit */
static void
check_lua_edit(struct check_mta *cm, const char *op, const char *name,
	       const char *value)
{
	if (cm->lua == NULL)
		return;
	sbuf_printf(&cm->luaedits, "rg.edit(conn, %s, ", op);
	lua_sbuf_str(&cm->luaedits, name);
	if (value) {
		sbuf_puts(&cm->luaedits, ", ");
		lua_sbuf_str(&cm->luaedits, value);
	}
	sbuf_puts(&cm->luaedits, ")\n");
}

/* check_unlead - the value without the space HDR_LEADSPC put there */
static const char *
check_unlead(const struct mta *m, const char *value)
{
	return m->leadspc && *value == ' ' ? value + 1 : value;
}

static const char *
check_macro(struct mta *m, const char *name)
{
	struct check_mta *cm = m->ctx;
	const struct check_args *a = cm->args;

	if (strcmp(name, "i") == 0)
		return a->queue_id ? a->queue_id : NULL;
	if (strcmp(name, "{auth_authen}") == 0)
		return a->auth_user;
	if (strcmp(name, "{auth_type}") == 0)
		return a->auth_user ? "PLAIN" : NULL;
	if (strcmp(name, "{client_addr}") == 0)
		return a->client_ip;
	return NULL;
}

static void *
check_get_priv(struct mta *m)
{
	return ((struct check_mta *)m->ctx)->priv;
}

static void
check_set_priv(struct mta *m, void *p)
{
	((struct check_mta *)m->ctx)->priv = p;
}

/* check_reply - as the MTA would send it: "%%" is one "%" on the wire */
static int
check_reply(struct mta *m, const char *code, const char *xcode,
	    const char *text)
{
	struct check_mta *cm = m->ctx;

	sbuf_reset(&cm->reply);
	sbuf_printf(&cm->reply, "%s %s ", code, xcode);
	for (const char *p = text; *p; p++) {
		if (p[0] == '%' && p[1] == '%')
			p++;
		sbuf_append(&cm->reply, p, 1);
	}
	return 0;
}

static int
check_add_header(struct mta *m, const char *name, const char *value)
{
	struct check_mta *cm = m->ctx;

	sbuf_printf(&cm->edits, "header: %s: %s\n", name,
		    check_unlead(m, value));
	check_lua_edit(cm, "MT_HDRADD", name, value);
	return 0;
}

static int
check_ins_header(struct mta *m, int index, const char *name,
		 const char *value)
{
	struct check_mta *cm = m->ctx;

	(void)index;
	sbuf_printf(&cm->edits, "header: %s: %s\n", name,
		    check_unlead(m, value));
	check_lua_edit(cm, "MT_HDRINSERT", name, value);
	return 0;
}

static int
check_chg_header(struct mta *m, const char *name, int index,
		 const char *value)
{
	struct check_mta *cm = m->ctx;

	(void)index;
	if (value == NULL) {
		sbuf_printf(&cm->edits, "remove-header: %s\n", name);
		check_lua_edit(cm, "MT_HDRDELETE", name, NULL);
	} else {
		sbuf_printf(&cm->edits, "header: %s: %s\n", name,
			    check_unlead(m, value));
		check_lua_edit(cm, "MT_HDRCHANGE", name, value);
	}
	return 0;
}

static int
check_quarantine(struct mta *m, const char *reason)
{
	struct check_mta *cm = m->ctx;

	cm->quarantined = 1;
	if (cm->lua)
		sbuf_puts(&cm->luaedits, "rg.edit(conn, MT_QUARANTINE)\n");
	(void)reason;
	return 0;
}

/* check_symbols - one line per result, the connection's first */
static void
check_symbols(struct sbuf *out, const struct symbols *set)
{
	for (size_t i = 0; set && i < set->count; i++) {
		const struct symbol *sym = &set->v[i];

		sbuf_printf(out, "symbol: %s %.2f%s%s\n", sym->name, sym->score,
			    *sym->detail ? " " : "", sym->detail);
	}
}

static void
check_verdict(struct mta *m, const struct session *s, const struct txn *t,
	      const struct verdict *v)
{
	struct check_mta *cm = m->ctx;

	cm->have_verdict = 1;
	cm->action = v->action;
	sbuf_reset(&cm->symbols);
	check_symbols(&cm->symbols, &s->symbols);
	cm->total = symbols_score(&s->symbols);
	if (t != NULL) {
		check_symbols(&cm->symbols, &t->symbols);
		cm->total += symbols_score(&t->symbols);
	}
}

static const struct mta_ops check_ops = {
	.macro = check_macro,
	.get_priv = check_get_priv,
	.set_priv = check_set_priv,
	.reply = check_reply,
	.add_header = check_add_header,
	.ins_header = check_ins_header,
	.chg_header = check_chg_header,
	.quarantine = check_quarantine,
	.verdict = check_verdict,
};

/* check_ends - did the step end the transaction (no reply goes on) */
static int
check_ends(enum mta_status st)
{
	return st != MTA_CONTINUE && st != MTA_NOREPLY;
}

/* the rawmsg sink: header and body steps into the callbacks */
static int
check_sink_header(void *ctx, const char *name, const char *value)
{
	struct mta *m = ctx;
	struct check_mta *cm = m->ctx;
	enum mta_status st;

	if (cm->lua) {
		fputs("rg.step(conn, \"header\", mt.header(conn, ", cm->lua);
		lua_cstr(cm->lua, name);
		fputs(", ", cm->lua);
		lua_cstr(cm->lua, value);
		fputs(")", cm->lua);
	}
	st = cb_header(m, name, value);
	lua_expect(cm, st);
	return check_ends(st);
}

static int
check_sink_eoh(void *ctx)
{
	struct mta *m = ctx;
	struct check_mta *cm = m->ctx;
	enum mta_status st;

	if (cm->lua)
		fputs("rg.step(conn, \"eoh\", mt.eoh(conn)", cm->lua);
	st = cb_eoh(m);
	lua_expect(cm, st);
	return check_ends(st);
}

static int
check_sink_body(void *ctx, const unsigned char *data, size_t len)
{
	struct mta *m = ctx;
	struct check_mta *cm = m->ctx;

	enum mta_status st;

	/* no body step negotiated: the MTA does not send it */
	if (!(cm->needs & POLICY_NEED_BODY))
		return 0;
	if (cm->lua) {
		fputs("rg.step(conn, \"body\", mt.bodystring(conn, ", cm->lua);
		lua_str(cm->lua, (const char *)data, len);
		fputs(")", cm->lua);
	}
	st = cb_body(m, data, len);
	lua_expect(cm, st);
	return check_ends(st);
}

/* check_sockaddr - the client address as the MTA's connect step gives it */
static const struct sockaddr *
check_sockaddr(const char *ip, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ip == NULL)
		return NULL;
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return (struct sockaddr *)ss;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return (struct sockaddr *)ss;
	}
	return NULL;		/* malformed: only the {client_addr} macro */
}

/*
 * check_envelope - connect, HELO, MAIL FROM, RCPT TO; 1 when the
 * transaction ended (or every recipient was refused)
 */
static int
check_envelope(struct mta *m, struct check_mta *cm)
{
	const struct check_args *a = cm->args;
	struct sockaddr_storage ss;
	char *argv[2] = { NULL, NULL };
	size_t refused = 0;

	const struct sockaddr *sa = check_sockaddr(a->client_ip, &ss);
	const char *host = a->client_name ? a->client_name : "unknown";
	enum mta_status st;

	if (cm->lua) {
		if (sa == NULL && a->client_ip) {
			fputs("rg.ok(mt.macro(conn, SMFIC_CONNECT, "
			      "\"{client_addr}\", ", cm->lua);
			lua_cstr(cm->lua, a->client_ip);
			fputs("), \"macro\")\n", cm->lua);
		}
		fputs("rg.step(conn, \"connect\", mt.conninfo(conn, ", cm->lua);
		lua_cstr(cm->lua, host);
		fputs(sa ? ", " : ", \"unspec\"", cm->lua);
		if (sa)
			lua_cstr(cm->lua, a->client_ip);
		fputs(")", cm->lua);
	}
	st = cb_connect(m, host, sa);
	lua_expect(cm, st);
	if (check_ends(st))
		return 1;
	/*
	 * miltertest sends a HELO of its own before MAIL FROM when none was
	 * sent, and libmilter then forgets the MAIL FROM macros: give it an
	 * empty one, which is what the session holds without HELO anyway
	 */
	if (a->helo == NULL && cm->lua)
		fputs("rg.ok(mt.helo(conn, \"\"), \"helo\")\n", cm->lua);
	if (a->helo) {
		if (cm->lua) {
			fputs("rg.step(conn, \"helo\", mt.helo(conn, ", cm->lua);
			lua_cstr(cm->lua, a->helo);
			fputs(")", cm->lua);
		}
		st = cb_helo(m, a->helo);
		lua_expect(cm, st);
		if (check_ends(st))
			return 1;
	}
	argv[0] = cm->sender;
	if (cm->lua) {
		fputs("rg.ok(mt.macro(conn, SMFIC_MAIL", cm->lua);
		if (a->queue_id) {
			fputs(", \"i\", ", cm->lua);
			lua_cstr(cm->lua, a->queue_id);
		}
		if (a->auth_user) {
			fputs(", \"{auth_authen}\", ", cm->lua);
			lua_cstr(cm->lua, a->auth_user);
			fputs(", \"{auth_type}\", \"PLAIN\"", cm->lua);
		}
		fputs("), \"macro\")\n", cm->lua);
		fputs("rg.step(conn, \"mail\", mt.mailfrom(conn, ", cm->lua);
		lua_cstr(cm->lua, cm->sender);
		fputs(")", cm->lua);
	}
	st = cb_envfrom(m, argv);
	lua_expect(cm, st);
	if (check_ends(st))
		return 1;
	for (size_t i = 0; i < a->nrcpts; i++) {
		struct sbuf r;

		sbuf_init(&r);
		sbuf_printf(&r, "<%s>", a->rcpts[i]);
		argv[0] = r.data;
		sbuf_reset(&cm->reply);
		if (cm->lua) {
			fputs("rg.step(conn, \"rcpt\", mt.rcptto(conn, ",
			      cm->lua);
			lua_cstr(cm->lua, r.data);
			fputs(")", cm->lua);
		}
		st = cb_envrcpt(m, argv);
		lua_expect(cm, st);
		if (st == MTA_REJECT || st == MTA_TEMPFAIL) {
			sbuf_printf(&cm->refused, "refused-rcpt: %s %s\n",
				    r.data, cm->reply.data ? cm->reply.data :
				    "");
			refused++;
		}
		sbuf_free(&r);
		if (st == MTA_DISCARD || st == MTA_ACCEPT)
			return 1;
	}
	/* the MTA does not go on to DATA without a recipient */
	if (a->nrcpts > 0 && refused == a->nrcpts)
		return 1;
	sbuf_reset(&cm->reply);
	cm->have_verdict = 0;
	if (cm->lua)
		fputs("rg.step(conn, \"data\", mt.data(conn)", cm->lua);
	st = cb_data(m);
	lua_expect(cm, st);
	return check_ends(st);
}

/* check_message - header and body through rawmsg, then end of message */
static int
check_message(struct mta *m, FILE *fp, const struct sbuf *head,
	      const char *name, long long max_header)
{
	struct check_mta *cm = m->ctx;
	struct rawmsg_sink sink = {
		m, check_sink_header, check_sink_eoh, check_sink_body,
		cm->leadspc,
	};
	struct rawmsg r;
	char buf[65536];
	size_t n;
	int rc = 0;

	rawmsg_init(&r, &sink, max_header);
	if (!rawmsg_feed(&r, head->data, head->len))
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			if (rawmsg_feed(&r, buf, n))
				break;
	if (ferror(fp)) {
		fprintf(stderr, "relayguard check: %s: read error: %s\n", name,
			strerror(errno));
		rc = -1;
	}
	if (!rawmsg_finish(&r) && rc == 0) {
		enum mta_status st;

		if (cm->lua)
			fputs("rg.step(conn, \"eom\", mt.eom(conn)", cm->lua);
		st = cb_eom(m);
		lua_expect(cm, st);
		if (cm->lua)
			fputs(cm->luaedits.data ? cm->luaedits.data : "",
			      cm->lua);
	}
	return rc;
}

/* check_print - the verdict in the documented line format */
static void
check_print(const struct check_mta *cm)
{
	enum action a = cm->have_verdict ? cm->action : ACTION_ACCEPT;

	if (a == ACTION_ACCEPT && cm->quarantined)
		a = ACTION_QUARANTINE;
	printf("verdict: %s\n", verdict_action_name(a));
	if (cm->reply.len)
		printf("reply: %s\n", cm->reply.data);
	if (cm->refused.len)
		fputs(cm->refused.data, stdout);
	if (cm->edits.len)
		fputs(cm->edits.data, stdout);
	if (cm->symbols.len)
		fputs(cm->symbols.data, stdout);
	/* the sum the spam thresholds look at */
	printf("total: %.2f\n", cm->total);
}

int
check_main(int argc, char **argv)
{
	struct check_args a;
	struct check_mta cm;
	struct mta m = { &check_ops, &cm, 0 };
	struct conf *conf;
	FILE *fp = stdin;
	struct sbuf head;
	char err[1024], *sender;
	long long max_header;
	int rc = 0;

	if (check_parse(argc, argv, &a) != 0)
		return 2;
	if (a.conf == NULL) {
		fprintf(stderr, "relayguard check: -c FILE is required\n");
		return 2;
	}
	if ((conf = conf_load(a.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	log_open(LOG_SINK_STDERR, conf->log_facility, conf->log_level);
	/* what the daemon loads at start: the same refusal, the same engine */
	if (policy_start(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		conf_unref(conf);
		return 2;
	}
	if (a.file && strcmp(a.file, "-") != 0 &&
	    (fp = fopen(a.file, "rb")) == NULL) {
		fprintf(stderr, "relayguard check: %s: %s\n", a.file,
			strerror(errno));
		conf_unref(conf);
		policy_stop();
		return 1;
	}
	max_header = conf->max_header_size;
	sbuf_init(&head);
	if (check_head(fp, &head, (size_t)max_header + 65536) != 0) {
		fprintf(stderr, "relayguard check: %s: read error: %s\n",
			a.file ? a.file : "-", strerror(errno));
		rc = 1;
	}
	sender = a.mail_from ? txn_addr_strip(a.mail_from) :
	    check_sender(head.data ? head.data : "", head.len);

	memset(&cm, 0, sizeof(cm));
	cm.args = &a;
	sbuf_init(&cm.reply);
	sbuf_init(&cm.edits);
	sbuf_init(&cm.symbols);
	sbuf_init(&cm.refused);
	{
		struct sbuf from;

		sbuf_init(&from);
		/* an address too long to keep goes to the MTA all the same */
		if (sender != NULL)
			sbuf_printf(&from, "<%s>", sender);
		else
			sbuf_puts(&from, a.mail_from);
		cm.sender = sbuf_steal(&from);
	}
	/* the daemon's path: the configuration is the one it would use */
	daemon_set_conf(conf);
	conf_unref(conf);
	/* negotiation as with Postfix 3.7, which offers SMFIP_HDR_LEADSPC */
	cm.leadspc = 1;
	{
		struct cb_negotiation neg;

		/* and the no-reply steps (SMFIP_NR_*) */
		cb_open(&m, cm.leadspc, CB_NR_CONN | CB_NR_HELO | CB_NR_DATA |
			CB_NR_HDR | CB_NR_BODY, &neg);
		cm.needs = neg.needs;
	}
	sbuf_init(&cm.luaedits);
	if (a.emit && (cm.lua = fopen(a.emit, "w")) == NULL) {
		fprintf(stderr, "relayguard check: %s: %s\n", a.emit,
			strerror(errno));
		rc = 2;
	}
	if (cm.lua)
		fputs("-- written by relayguard check --emit-miltertest\n"
		      "dofile(os.getenv(\"RG_MILTER_DIR\") .. \"/lib.lua\")\n"
		      "rg.run(function()\n"
		      "local conn = mt.connect(rg.socket, 50, 0.1)\n"
		      "rg.check(conn ~= nil, \"cannot connect\")\n", cm.lua);
	if (rc == 0) {
		int ended = check_envelope(&m, &cm);

		if (!ended && check_message(&m, fp, &head, a.file ? a.file :
					    "-", max_header) != 0)
			rc = 1;
	}
	if (cm.lua) {
		fputs("mt.disconnect(conn)\nend)\n", cm.lua);
		fclose(cm.lua);
	}
	sbuf_free(&cm.luaedits);
	cb_close(&m);
	daemon_set_conf(NULL);
	free(sender);
	free(cm.sender);
	sbuf_free(&head);
	if (rc == 0)
		check_print(&cm);
	sbuf_free(&cm.reply);
	sbuf_free(&cm.edits);
	sbuf_free(&cm.symbols);
	sbuf_free(&cm.refused);
	if (fp != stdin)
		fclose(fp);
	policy_stop();
	return rc;
}
