/*
 * spamd - SpamAssassin's spamd as a spam engine, at end of message,
 * before the spam check's thresholds (spam.c): the message as received,
 * behind a Received field of ours built from the envelope (client
 * address, HELO, queue id, "with ESMTPA" for a login) so spamd's relay
 * rules see the client, as spamass-milter does; SYMBOLS over the
 * SPAMC/1.5 protocol, TCP or a unix socket, within spamd_timeout.
 *
 * Keys: spamd, spamd_server, spamd_timeout, spamd_user, spamd_max_size,
 * spamd_weight, spamd_outbound.  Symbols: SPAMD, SPAMD_<RULE>,
 * SPAMD_ERROR, SPAMD_SKIPPED (extspam.h).
 */
#ifndef RG_SPAMD_H
#define RG_SPAMD_H

#include <stddef.h>

struct conf;
struct extspam_result;
struct txn;

#define SPAMD_ANSWER_MAX	(64 * 1024)	/* bytes of answer read */

int spamd_enabled(const struct conf *);
void spamd_eom(struct txn *);
/*
 * spamd_parse - spamd's answer to SYMBOLS (len bytes): status line,
 * "Spam: True ; 15.0 / 5.0", the rule list; 0, or -1 with r->why
 */
int spamd_parse(const char *answer, size_t len, struct extspam_result *r);
/*
 * spamd_received - the Received field (CRLF-terminated) sent ahead of
 * the message, into out
 */
void spamd_received(const struct txn *t, char *out, size_t size);

#endif
