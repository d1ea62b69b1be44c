/*
 * rspamd - Rspamd as a spam engine, at end of message, before the spam
 * check's thresholds (spam.c): the message as received, POSTed to a
 * normal worker's /checkv2 (HTTP/1.1, TCP or a unix socket) with the
 * envelope and the login as Rspamd's request headers (IP, Helo,
 * Hostname, From, one Rcpt a recipient, User, Queue-Id, Pass: all), its
 * JSON answer read with json-c, within rspamd_timeout.
 *
 * Keys: rspamd, rspamd_server, rspamd_timeout, rspamd_password,
 * rspamd_max_size, rspamd_weight, rspamd_outbound.  Symbols: RSPAMD,
 * RSPAMD_<RULE>, RSPAMD_ERROR, RSPAMD_SKIPPED (extspam.h).
 */
#ifndef RG_RSPAMD_H
#define RG_RSPAMD_H

#include <stddef.h>

struct conf;
struct extspam_result;
struct txn;

#define RSPAMD_ANSWER_MAX	(1024 * 1024)	/* bytes of answer read */
#define RSPAMD_JSON_DEPTH	16		/* nesting the parser takes */

int rspamd_enabled(const struct conf *);
void rspamd_eom(struct txn *);
/*
 * rspamd_parse - the HTTP answer (len bytes): status 200, a body of
 * Content-Length bytes holding the JSON object; score, required_score,
 * action and symbols into r; 0, or -1 with r->why
 */
int rspamd_parse(const char *answer, size_t len, struct extspam_result *r);
/* rspamd_json - the JSON body alone (the same, for rspamd_parse and tests) */
int rspamd_json(const char *body, size_t len, struct extspam_result *r);

#endif
