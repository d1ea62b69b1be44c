/*
 * check - the "relayguard check" command (see check.h).
 *
 * It drives the policy through the same stages, in the same order, as the
 * milter callbacks do, with rawmsg.c standing in for the MTA's header and
 * body splitting.  Without --mail-from the envelope sender is taken from
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

#include "addr.h"
#include "check.h"
#include "conf.h"
#include "log.h"
#include "policy.h"
#include "rawmsg.h"
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
	      "[--auth-user LOGIN] [--queue-id ID] [MESSAGE|-]\n", fp);
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

/* check_print - the verdict in the documented line format */
static void
check_print(const struct msg *m, const struct verdict *v)
{
	printf("verdict: %s\n", verdict_action_name(v->action));
	if (v->code[0])
		printf("reply: %s %s %s\n", v->code, v->xcode,
		       v->text ? v->text : "");
	for (size_t i = 0; i < v->nadd; i++)
		printf("header: %s: %s\n", v->add[i].name, v->add[i].value);
	for (size_t i = 0; i < v->nremove; i++)
		printf("remove-header: %s\n", v->remove[i].name);
	for (size_t i = 0; i < m->symbols.count; i++) {
		const struct symbol *s = &m->symbols.v[i];

		printf("symbol: %s %.2f%s%s\n", s->name, s->score,
		       *s->detail ? " " : "", s->detail);
	}
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
		char *t = util_trim(v), *addr = msg_addr_strip(t);

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

/* check_envelope - the SMTP stages before DATA; 1 if the policy ended it */
static int
check_envelope(struct msg *m, const struct check_args *a, const char *sender,
	       struct verdict *v)
{
	const char *const noargs[] = { NULL };
	struct sbuf from;
	int rc = 0;

	if (policy_connect(m, a->client_ip, a->client_name ?
			   a->client_name : "unknown", v))
		return 1;
	if (a->helo && policy_helo(m, a->helo, v))
		return 1;
	msg_set_macro(m, "i", a->queue_id ? a->queue_id : "");
	if (a->auth_user) {
		msg_set_macro(m, "{auth_authen}", a->auth_user);
		msg_set_macro(m, "{auth_type}", "PLAIN");
	}
	sbuf_init(&from);
	sbuf_printf(&from, "<%s>", sender);
	rc = policy_mail(m, from.data, noargs, v);
	sbuf_free(&from);
	if (rc)
		return 1;
	for (size_t i = 0; i < a->nrcpts; i++)
		if (policy_rcpt(m, a->rcpts[i], v))
			return 1;
	return 0;
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

/* check_message - header and body through rawmsg, then end of message */
static int
check_message(struct msg *m, FILE *fp, const struct sbuf *head,
	      const char *name, struct verdict *v)
{
	struct rawmsg r;
	char buf[65536];
	size_t n;
	int rc = 0;

	rawmsg_init(&r, m, v);
	if (!rawmsg_feed(&r, head->data, head->len))
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			if (rawmsg_feed(&r, buf, n))
				break;
	if (ferror(fp)) {
		fprintf(stderr, "relayguard check: %s: read error: %s\n", name,
			strerror(errno));
		rc = -1;
	}
	rawmsg_finish(&r);
	return rc;
}

int
check_main(int argc, char **argv)
{
	struct check_args a;
	struct conf *conf;
	struct msg *m;
	struct verdict v;
	FILE *fp = stdin;
	struct sbuf head;
	char err[1024], *sender;
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
	if (a.file && strcmp(a.file, "-") != 0 &&
	    (fp = fopen(a.file, "rb")) == NULL) {
		fprintf(stderr, "relayguard check: %s: %s\n", a.file,
			strerror(errno));
		conf_unref(conf);
		return 1;
	}
	sbuf_init(&head);
	if (check_head(fp, &head, (size_t)conf->max_header_size + 65536) != 0) {
		fprintf(stderr, "relayguard check: %s: read error: %s\n",
			a.file ? a.file : "-", strerror(errno));
		rc = 1;
	}
	sender = a.mail_from ? msg_addr_strip(a.mail_from) :
	    check_sender(head.data ? head.data : "", head.len);
	m = msg_new(conf);
	conf_unref(conf);
	verdict_init(&v);
	if (rc == 0 && !check_envelope(m, &a, sender, &v) &&
	    check_message(m, fp, &head, a.file ? a.file : "-", &v) != 0)
		rc = 1;
	free(sender);
	sbuf_free(&head);
	if (rc == 0)
		check_print(m, &v);
	verdict_clear(&v);
	msg_free(m);
	if (fp != stdin)
		fclose(fp);
	return rc;
}
