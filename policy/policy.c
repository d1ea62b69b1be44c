/*
 * policy - the stage runner (see policy.h).
 *
 * Checks are listed in policy_checks[] with the stages they take part in;
 * one loop runs them in order, then verdict_decide() looks at the symbols.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "sender.h"
#include "size.h"
#include "spfcheck.h"
#include "util.h"

enum policy_stage {
	STAGE_CONNECT, STAGE_HELO, STAGE_MAIL, STAGE_RCPT, STAGE_HEADER,
	STAGE_EOH, STAGE_BODY, STAGE_EOM,
};

struct policy_check {
	const char	*name;
	void		(*run[STAGE_EOM + 1])(struct msg *);
};

static const struct policy_check policy_checks[] = {
	{ "size", { [STAGE_MAIL] = size_mail, [STAGE_HEADER] = size_data,
		    [STAGE_BODY] = size_data } },
	{ "sender", { [STAGE_MAIL] = sender_mail, [STAGE_EOH] = sender_eoh } },
	{ "spf", { [STAGE_MAIL] = spfcheck_mail } },
};

/*
 * policy_stage - run the checks of a stage in order; stop at the first
 * that ends the transaction (no DNS for a sender already refused).
 */
static int
policy_stage(struct msg *m, enum policy_stage stage, struct verdict *v)
{
	int eom = stage == STAGE_EOM;

	for (size_t i = 0; i < sizeof(policy_checks) / sizeof(policy_checks[0]);
	     i++) {
		if (policy_checks[i].run[stage] == NULL)
			continue;
		policy_checks[i].run[stage](m);
		if (!eom && verdict_decide(m, 0, v)) {
			policy_log(m, v);
			return 1;
		}
	}
	if (!verdict_decide(m, eom, v))
		return 0;
	policy_log(m, v);
	return 1;
}

int
policy_connect(struct msg *m, const char *addr, const char *name,
	       struct verdict *v)
{
	msg_set_client(m, addr, name);
	return policy_stage(m, STAGE_CONNECT, v);
}

int
policy_helo(struct msg *m, const char *helo, struct verdict *v)
{
	msg_set_helo(m, helo);
	return policy_stage(m, STAGE_HELO, v);
}

int
policy_mail(struct msg *m, const char *addr, const char *const *args,
	    struct verdict *v)
{
	msg_set_mail(m, addr, args);
	return policy_stage(m, STAGE_MAIL, v);
}

int
policy_rcpt(struct msg *m, const char *addr, struct verdict *v)
{
	msg_add_rcpt(m, addr);
	return policy_stage(m, STAGE_RCPT, v);
}

int
policy_header(struct msg *m, const char *name, const char *value,
	      struct verdict *v)
{
	msg_add_header(m, name, value);
	return policy_stage(m, STAGE_HEADER, v);
}

int
policy_eoh(struct msg *m, struct verdict *v)
{
	return policy_stage(m, STAGE_EOH, v);
}

int
policy_body(struct msg *m, const unsigned char *data, size_t len,
	    struct verdict *v)
{
	(void)data;
	msg_add_body(m, len);
	return policy_stage(m, STAGE_BODY, v);
}

void
policy_eom(struct msg *m, struct verdict *v)
{
	policy_stage(m, STAGE_EOM, v);
}

void
policy_internal_error(struct msg *m, const char *why, struct verdict *v)
{
	symbols_add(&m->symbols, "INTERNAL_ERROR", 0, "%s", why);
	verdict_decide(m, 0, v);
	policy_log(m, v);
}

/* policy_log - "QUEUEID: verdict=... client=... login=... from=<...> ..." */
void
policy_log(const struct msg *m, const struct verdict *v)
{
	struct sbuf line;
	char login[MSG_MACRO_MAX * 4 + 1], from[MSG_ADDR_MAX * 4 + 1];
	char rcpt[MSG_ADDR_MAX * 4 + 1], helo[256 * 4 + 1];
	char client[256 * 4 + 1];
	char qid[MSG_MACRO_MAX * 4 + 1];

	util_sanitize(qid, sizeof(qid), m->queue_id, strlen(m->queue_id));
	util_sanitize(login, sizeof(login), m->auth_authen,
		      strlen(m->auth_authen));
	util_sanitize(from, sizeof(from), m->mail_from, strlen(m->mail_from));
	util_sanitize(helo, sizeof(helo), m->helo, strlen(m->helo));
	util_sanitize(client, sizeof(client), m->client_name,
		      strlen(m->client_name));
	if (m->nrcpts > 0)
		util_sanitize(rcpt, sizeof(rcpt), m->rcpts[0],
			      strlen(m->rcpts[0]));
	else
		rcpt[0] = '\0';

	sbuf_init(&line);
	sbuf_printf(&line, "%s: verdict=%s", *qid ? qid : "NOQUEUE",
		    verdict_action_name(v->action));
	if (v->code[0])
		sbuf_printf(&line, " reply=\"%s %s %s\"", v->code, v->xcode,
			    v->text ? v->text : "");
	sbuf_printf(&line, " client=%s[%s] helo=<%s> login=%s from=<%s>",
		    *client ? client : "unknown",
		    *m->client_addr ? m->client_addr : "unknown", helo,
		    *login ? login : "-", from);
	if (m->rcpt_total > 0)
		sbuf_printf(&line, " rcpt=<%s>%s", rcpt,
			    m->rcpt_total > 1 ? "..." : "");
	sbuf_printf(&line, " nrcpt=%zu size=%lld mode=%s score=%.2f symbols=",
		    m->rcpt_total, m->size, msg_mode_name(m->mode),
		    symbols_score(&m->symbols));
	for (size_t i = 0; i < m->symbols.count; i++)
		sbuf_printf(&line, "%s%s(%.2f)", i ? "," : "",
			    m->symbols.v[i].name, m->symbols.v[i].score);
	if (m->symbols.count == 0)
		sbuf_puts(&line, "-");
	log_info("%s", line.data);
	sbuf_free(&line);
}
