/*
 * callbacks - the milter steps (see callbacks.h).
 *
 * Each connection gets a struct cb_conn holding the policy session, which
 * keeps a reference to the configuration current at negotiation.  The
 * callbacks only copy data in and hand verdicts to mta.c.  A step that
 * finds no connection state (the MTA skipped negotiation and connect)
 * makes it then; whatever cannot go on is an internal error, decided by
 * internal_error_action and logged like any verdict.
 *
 * A message counts as in flight (daemon_txn_begin) from MAIL FROM until
 * the step after its end: libmilter writes the end-of-message reply only
 * after cb_eom returns, so a SIGTERM drain must not count it done before
 * the next step or the close.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "callbacks.h"
#include "daemon.h"
#include "log.h"
#include "policy.h"
#include "util.h"

struct cb_conn {
	struct session	*sess;
	struct verdict	verdict;
	int		leadspc;	/* header values keep leading space */
	unsigned	noreply;	/* CB_NR_*: steps without a reply */
	int		pending;	/* a verdict waits for a step that
					   can carry it (no-reply steps) */
	int		counted;	/* counted by daemon_txn_begin() */
	int		ended;		/* the transaction was decided */
	int		rcpt_rej;	/* SMFIP_RCPT_REJ asked (the brake) */
};

/* cb_release - the previous message's reply is out: stop counting it */
static void
cb_release(struct cb_conn *c)
{
	if (c->counted && c->ended) {
		c->counted = 0;
		daemon_txn_end();
	}
}

/* cb_new - connection state on the configuration current now */
static struct cb_conn *
cb_new(struct mta *mta, int leadspc)
{
	struct cb_conn *c = xcalloc(1, sizeof(*c));
	struct conf *conf = daemon_conf();

	c->sess = session_new(conf);
	conf_unref(conf);
	c->leadspc = leadspc;
	verdict_init(&c->verdict);
	mta->ops->set_priv(mta, c);
	return c;
}

/* cb_get - this connection's state; made now if the MTA skipped connect */
static struct cb_conn *
cb_get(struct mta *mta)
{
	struct cb_conn *c = mta->ops->get_priv(mta);

	if (c == NULL)
		c = cb_new(mta, 0);
	cb_release(c);
	return c;
}

/* cb_macros - copy the macros the policy uses, whenever the MTA sends them */
static void
cb_macros(struct mta *mta, struct cb_conn *c)
{
	static const char *const names[] = {
		"i", "{auth_authen}", "{auth_type}",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = mta->ops->macro(mta, names[i]);

		if (v != NULL)
			session_set_macro(c->sess, names[i], v);
	}
}

/* cb_verdict - the observer hook, for every verdict that was logged */
static void
cb_verdict(struct mta *mta, struct cb_conn *c)
{
	if (mta->ops->verdict)
		mta->ops->verdict(mta, c->sess, c->sess->txn, &c->verdict);
}

/* cb_txn_end - the transaction is over: forget it (the count waits) */
static void
cb_txn_end(struct cb_conn *c)
{
	policy_abort(c->sess);
	verdict_clear(&c->verdict);
	c->pending = 0;
	c->ended = c->counted;
}

/* cb_end - the stage ended the transaction: reply, and forget it */
static enum mta_status
cb_end(struct mta *mta, struct cb_conn *c)
{
	enum mta_status rc;

	cb_verdict(mta, c);
	rc = mta_stage(mta, &c->verdict);
	cb_txn_end(c);
	return rc;
}

void
cb_open(struct mta *mta, int leadspc, unsigned nr_offered,
	struct cb_negotiation *out)
{
	struct cb_conn *c = mta->ops->get_priv(mta);
	unsigned needs, nr = 0;

	if (c == NULL)
		c = cb_new(mta, leadspc);
	c->leadspc = leadspc;
	needs = policy_needs(c->sess->conf);
	if (c->sess->conf->milter_no_reply) {
		/* a step no check decides at needs no answer */
		if (!(needs & POLICY_DECIDES_CONNECT))
			nr |= CB_NR_CONN;
		if (!(needs & POLICY_DECIDES_HELO))
			nr |= CB_NR_HELO;
		nr |= CB_NR_DATA | CB_NR_HDR | CB_NR_BODY;
	}
	c->noreply = nr & nr_offered;
	c->rcpt_rej = (needs & POLICY_NEED_RCPT_REJ) != 0;
	out->needs = needs;
	out->noreply = c->noreply;
}

/*
 * cb_internal - a step cannot go on (the MTA sent no address, say): the
 * verdict of internal_error_action, logged like any other
 */
static enum mta_status
cb_internal(struct mta *mta, struct cb_conn *c, const char *why)
{
	policy_internal_error(c->sess, why, &c->verdict);
	if (c->verdict.action == ACTION_ACCEPT) {
		verdict_clear(&c->verdict);
		return MTA_CONTINUE;
	}
	return cb_end(mta, c);
}

/*
 * cb_reply - the answer of a step: none if it goes without a reply (a
 * verdict then waits for the next step that can carry it)
 */
static enum mta_status
cb_reply(struct cb_conn *c, unsigned nr, enum mta_status st)
{
	return (c->noreply & nr) && st == MTA_CONTINUE ? MTA_NOREPLY : st;
}

/* cb_hold - a no-reply step reached a verdict: keep it for later */
static enum mta_status
cb_hold(struct cb_conn *c)
{
	c->pending = 1;
	return MTA_NOREPLY;
}

enum mta_status
cb_connect(struct mta *mta, const char *hostname, const struct sockaddr *sa)
{
	struct cb_conn *c = cb_get(mta);
	char addr[INET6_ADDRSTRLEN] = "";

	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  addr, sizeof(addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
			  sizeof(addr));
	if (*addr == '\0') {
		const char *v = mta->ops->macro(mta, "{client_addr}");

		if (v != NULL)
			session_set_macro(c->sess, "{client_addr}", v);
	}
	if (policy_connect(c->sess, *addr ? addr : NULL, hostname,
			   &c->verdict) != POLICY_CONTINUE)
		return cb_end(mta, c);
	return cb_reply(c, CB_NR_CONN, MTA_CONTINUE);
}

enum mta_status
cb_helo(struct mta *mta, const char *helo)
{
	struct cb_conn *c = cb_get(mta);

	if (policy_helo(c->sess, helo, &c->verdict) != POLICY_CONTINUE)
		return cb_end(mta, c);
	return cb_reply(c, CB_NR_HELO, MTA_CONTINUE);
}

enum mta_status
cb_envfrom(struct mta *mta, char **argv)
{
	struct cb_conn *c = cb_get(mta);

	cb_txn_end(c);		/* a new transaction on this connection */
	cb_release(c);
	cb_macros(mta, c);
	if (argv == NULL || argv[0] == NULL)
		return cb_internal(mta, c, "MAIL FROM step without an address");
	if (!daemon_txn_begin()) {
		policy_shutdown(c->sess, &c->verdict);
		return cb_end(mta, c);
	}
	c->counted = 1;
	c->ended = 0;
	if (policy_mail(c->sess, argv[0], (const char *const *)argv + 1,
			&c->verdict) != POLICY_CONTINUE)
		return cb_end(mta, c);
	return MTA_CONTINUE;
}

/*
 * cb_mta_refused - a recipient the MTA refused itself, shown because we
 * asked for SMFIP_RCPT_REJ: {rcpt_mailer} is "error" and {rcpt_host} just
 * the enhanced status code, "5.1.1" (Postfix, Sendmail).  A recipient
 * taken and routed to Postfix's error transport has that mailer too, but
 * its next hop carries a text ("5.7.1 no such domain").
 */
static int
cb_mta_refused(struct mta *mta, const struct cb_conn *c)
{
	const char *mailer, *host;
	int dots = 0;

	if (!c->rcpt_rej)
		return 0;
	mailer = mta->ops->macro(mta, "{rcpt_mailer}");
	host = mta->ops->macro(mta, "{rcpt_host}");
	if (mailer == NULL || strcmp(mailer, "error") != 0 || host == NULL ||
	    (host[0] != '4' && host[0] != '5') || host[1] != '.')
		return 0;
	for (const char *p = host + 1; *p; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			return 0;
	}
	return dots == 2;
}

enum mta_status
cb_envrcpt(struct mta *mta, char **argv)
{
	struct cb_conn *c = cb_get(mta);
	enum mta_status rc;

	if (argv == NULL || argv[0] == NULL)
		return cb_internal(mta, c, "RCPT TO step without an address");
	if (cb_mta_refused(mta, c)) {
		/* counted (the brake); the MTA ignores any answer */
		policy_rcpt_rejected(c->sess, argv[0]);
		return MTA_CONTINUE;
	}
	switch (policy_rcpt(c->sess, argv[0], &c->verdict)) {
	case POLICY_REFUSED:
		/* this recipient only: the transaction goes on */
		cb_verdict(mta, c);
		rc = mta_stage(mta, &c->verdict);
		verdict_clear(&c->verdict);
		return rc;
	case POLICY_END:
		return cb_end(mta, c);
	}
	return MTA_CONTINUE;
}

/*
 * cb_data - nothing to decide at DATA, but answering it matters: without
 * a DATA step the MTA's next small packet waits on TCP delayed ACKs
 * (about 40 ms a message).  The queue id is often first known here.
 */
enum mta_status
cb_data(struct mta *mta)
{
	struct cb_conn *c = cb_get(mta);

	cb_macros(mta, c);
	return cb_reply(c, CB_NR_DATA, MTA_CONTINUE);
}

enum mta_status
cb_header(struct mta *mta, const char *name, const char *value)
{
	struct cb_conn *c = cb_get(mta);

	if (c->pending)
		return MTA_NOREPLY;
	if (policy_header(c->sess, name, value, c->leadspc, &c->verdict) !=
	    POLICY_CONTINUE)
		return (c->noreply & CB_NR_HDR) ? cb_hold(c) : cb_end(mta, c);
	return cb_reply(c, CB_NR_HDR, MTA_CONTINUE);
}

enum mta_status
cb_eoh(struct mta *mta)
{
	struct cb_conn *c = cb_get(mta);

	cb_macros(mta, c);
	if (c->pending) {
		c->pending = 0;
		return cb_end(mta, c);
	}
	if (policy_eoh(c->sess, &c->verdict) != POLICY_CONTINUE)
		return cb_end(mta, c);
	return MTA_CONTINUE;
}

enum mta_status
cb_body(struct mta *mta, const unsigned char *data, size_t len)
{
	struct cb_conn *c = cb_get(mta);

	if (c->pending)
		return MTA_NOREPLY;
	if (policy_body(c->sess, data, len, &c->verdict) != POLICY_CONTINUE)
		return (c->noreply & CB_NR_BODY) ? cb_hold(c) : cb_end(mta, c);
	return cb_reply(c, CB_NR_BODY, MTA_CONTINUE);
}

enum mta_status
cb_eom(struct mta *mta)
{
	struct cb_conn *c = cb_get(mta);
	enum mta_status rc;

	cb_macros(mta, c);
	if (c->pending) {
		c->pending = 0;
		return cb_end(mta, c);
	}
	policy_eom(c->sess, &c->verdict);
	cb_verdict(mta, c);
	mta->leadspc = c->leadspc;
	rc = mta_eom(mta, &c->verdict);
	cb_txn_end(c);
	return rc;
}

enum mta_status
cb_abort(struct mta *mta)
{
	struct cb_conn *c = mta->ops->get_priv(mta);

	if (c != NULL) {
		cb_release(c);
		cb_txn_end(c);
		cb_release(c);
	}
	return MTA_CONTINUE;
}

enum mta_status
cb_close(struct mta *mta)
{
	struct cb_conn *c = mta->ops->get_priv(mta);

	if (c == NULL)
		return MTA_CONTINUE;
	mta->ops->set_priv(mta, NULL);
	cb_txn_end(c);
	cb_release(c);
	session_free(c->sess);
	verdict_clear(&c->verdict);
	free(c);
	return MTA_CONTINUE;
}
