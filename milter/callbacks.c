/*
 * callbacks - libmilter glue (see callbacks.h).
 *
 * Each connection gets a struct cb_conn holding the policy message, which
 * keeps a reference to the configuration current at connect time.  The
 * callbacks only copy data in and hand verdicts to mta.c.  A callback that
 * finds no connection state (the MTA skipped a step, or memory is gone)
 * tempfails: when relayguard cannot decide, the MTA must retry.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "daemon.h"
#include "log.h"
#include "mta.h"
#include "policy.h"
#include "util.h"

struct cb_conn {
	struct msg	*msg;
	struct verdict	verdict;
	int		in_txn;		/* counted by daemon_txn_begin() */
};

static struct cb_conn *
cb_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* cb_macros - copy the macros the policy uses, whenever the MTA sends them */
static void
cb_macros(SMFICTX *ctx, struct msg *m)
{
	static const char *const names[] = {
		"i", "{auth_authen}", "{auth_type}",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = smfi_getsymval(ctx, (char *)names[i]);

		if (v != NULL)
			msg_set_macro(m, names[i], v);
	}
}

/* cb_txn_end - the transaction is over: reset it, release the count */
static void
cb_txn_end(struct cb_conn *c)
{
	if (c->in_txn) {
		c->in_txn = 0;
		daemon_txn_end();
	}
	msg_reset(c->msg);
	verdict_clear(&c->verdict);
}

/* cb_end - the stage ended the transaction: reply, and forget it */
static sfsistat
cb_end(SMFICTX *ctx, struct cb_conn *c)
{
	sfsistat rc = mta_stage(ctx, &c->verdict);

	cb_txn_end(c);
	return rc;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct cb_conn *c = calloc(1, sizeof(*c));
	struct conf *conf;
	char addr[INET6_ADDRSTRLEN] = "";

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Out of memory");
	conf = daemon_conf();
	c->msg = msg_new(conf);
	conf_unref(conf);
	verdict_init(&c->verdict);
	smfi_setpriv(ctx, c);

	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
			  addr, sizeof(addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
			  addr, sizeof(addr));
	if (*addr == '\0') {
		const char *v = smfi_getsymval(ctx, "{client_addr}");

		if (v != NULL)
			msg_set_macro(c->msg, "{client_addr}", v);
	}
	if (policy_connect(c->msg, *addr ? addr : NULL, hostname,
			   &c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	if (policy_helo(c->msg, helo, &c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	cb_txn_end(c);		/* a new transaction on this connection */
	if (!daemon_txn_begin())
		return mta_tempfail(ctx, "4.3.2", "System shutting down, "
				    "try again later");
	c->in_txn = 1;
	cb_macros(ctx, c->msg);
	if (policy_mail(c->msg, argv[0], (const char *const *)argv + 1,
			&c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	if (policy_rcpt(c->msg, argv[0], &c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

/*
 * cb_data - nothing to decide at DATA, but answering it matters: without
 * a DATA step the MTA's next small packet waits on TCP delayed ACKs
 * (about 40 ms a message).  The queue id is often first known here.
 */
static sfsistat
cb_data(SMFICTX *ctx)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	cb_macros(ctx, c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	if (policy_header(c->msg, name, value, &c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	cb_macros(ctx, c->msg);
	if (policy_eoh(c->msg, &c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	if (policy_body(c->msg, data, len, &c->verdict))
		return cb_end(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct cb_conn *c = cb_get(ctx);
	sfsistat rc;

	if (c == NULL)
		return mta_tempfail(ctx, "4.3.0", "Internal error");
	cb_macros(ctx, c->msg);
	policy_eom(c->msg, &c->verdict);
	rc = mta_eom(ctx, &c->verdict);
	cb_txn_end(c);
	return rc;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct cb_conn *c = cb_get(ctx);

	if (c != NULL)
		cb_txn_end(c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct cb_conn *c = cb_get(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	cb_txn_end(c);
	msg_free(c->msg);
	verdict_clear(&c->verdict);
	free(c);
	return SMFIS_CONTINUE;
}

static struct smfiDesc cb_desc = {
	.xxfi_name = "relayguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_data = cb_data,
};

const struct smfiDesc *
callbacks_desc(void)
{
	return &cb_desc;
}
