/*
 * weights - the symbol table and its overrides (see weights.h).
 *
 * Keep weights_defs[] sorted by name (a unit test checks): lookups are a
 * binary search.  Every symbol a check adds has a row here, so that
 * conf/relayguard.conf can document them all and "scores =" can change
 * any of them.  Symbols that decide by a rule of verdict.c (a reject, a
 * tempfail) weigh 0 by default: their action does not depend on the
 * total.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "weights.h"

static const struct weight_def weights_defs[] = {
	{ "AUTHENTICATED", 0, "the client logged in (SMTP AUTH)" },
	{ "AV_ENCRYPTED", 0, "an encrypted archive or document: not scanned" },
	{ "AV_LIMIT", 0, "a virus scan limit was reached" },
	{ "AV_SCAN_ERROR", 0, "the virus scanner failed on the message" },
	{ "AV_UNAVAILABLE", 0, "no virus scanner to ask" },
	{ "AV_VIRUS", 0, "a virus (av_action decides)" },
	{ "BAYES_HAM", -3.0, "the classifier says ham (times 1 - 2p)" },
	{ "BAYES_SPAM", 5.5, "the classifier says spam (times 2p - 1)" },
	{ "BRAKE_ERROR", 0, "the brake's store could not be used" },
	{ "BRAKE_STOPPED", 0, "the login is stopped by the brake "
	  "(brake_action)" },
	{ "BRAKE_TRIPPED", 0, "this message stopped the login "
	  "(brake_action)" },
	{ "CLIENT_ADDR_MALFORMED", 0, "the MTA sent a client address that "
	  "does not parse" },
	{ "DATE_INVALID", 1.0, "the Date field does not parse" },
	{ "DATE_IN_FUTURE", 2.0, "Date over 12 hours ahead" },
	{ "DATE_IN_PAST", 1.0, "Date over 7 days behind" },
	{ "DKIM_BODY_LENGTH", 0, "a signature covers part of the body (l=)" },
	{ "DKIM_FAIL", 0, "a DKIM signature failed" },
	{ "DKIM_FROM_UNSIGNED", 0, "a signature does not cover From" },
	{ "DKIM_NEUTRAL", 0, "a signature could not be used" },
	{ "DKIM_NONE", 0, "no DKIM signature" },
	{ "DKIM_PASS", 0, "a DKIM signature passed" },
	{ "DKIM_PERMERROR", 0, "a DKIM signature is broken" },
	{ "DKIM_POLICY", 0, "a signature refused by policy (RFC 8301)" },
	{ "DKIM_SIGNED", 0, "relayguard signed the message" },
	{ "DKIM_SIGN_ERROR", 0, "signing failed" },
	{ "DKIM_SIGN_SKIPPED", 0, "no signing key for the sender" },
	{ "DKIM_TEMPERROR", 0, "a DKIM key lookup failed for now" },
	{ "DKIM_TOO_MANY", 0, "more signatures than are checked" },
	{ "DMARC_FAIL", 1.0, "DMARC failed" },
	{ "DMARC_NONE", 0, "no DMARC record" },
	{ "DMARC_PASS", -0.2, "DMARC passed" },
	{ "DMARC_PERMERROR", 0, "the DMARC record is broken" },
	{ "DMARC_POLICY_QUARANTINE", 0, "DMARC failed under p=quarantine" },
	{ "DMARC_POLICY_REJECT", 0, "DMARC failed under p=reject" },
	{ "DMARC_TEMPERROR", 0, "a DMARC lookup failed for now" },
	{ "DNSBL_BLOCKED", 0, "a DNS blocklist refused the query "
	  "(127.255.255.x, ...): not a listing" },
	{ "DNSBL_ERROR", 0, "a DNS blocklist lookup timed out or failed, or "
	  "answered outside 127/8" },
	{ "DNSBL_REJECT", 0, "a client on a list with reject is refused" },
	{ "EMPTY_SUBJECT", 0.5, "an empty Subject" },
	{ "FROM_DISPLAY_CHARSET_UNKNOWN", 0, "the From display name is in an "
	  "unknown charset" },
	{ "FROM_DISPLAY_SPOOF", 0, "the From display name shows another "
	  "address" },
	{ "FROM_INVALID", 0, "the From field does not parse" },
	{ "FROM_INVALID_INBOUND", 0, "inbound: the From field does not parse" },
	{ "FROM_LOGIN_MISMATCH", 0, "From is not owned by the login" },
	{ "FROM_MISSING", 0, "no From field" },
	{ "FROM_MULTIPLE", 0, "several From fields" },
	{ "FROM_PROTECTED_INBOUND", 0, "inbound mail with a From the login "
	  "map protects" },
	{ "FROM_REPLYTO_DIFFER", 0.5, "Reply-To in another domain than From" },
	{ "GTUBE", 1000, "the GTUBE test string" },
	{ "HEADER_MALFORMED", 0, "a header field the MTA sent is broken" },
	{ "HEADER_SIZE_LIMIT", 0, "the header is over max_header_size" },
	{ "HTML_ONLY", 0.5, "HTML and no text part" },
	{ "INTERNAL_ERROR", 0, "relayguard failed on the message" },
	{ "MACRO_MALFORMED", 0, "the MTA sent a macro that is broken" },
	{ "MIME_BAD_CHARSET", 0.5, "an unknown or broken charset" },
	{ "MIME_BAD_ENCODING", 0.5, "broken base64 or quoted-printable" },
	{ "MIME_NO_BOUNDARY", 1.0, "a multipart without its boundary" },
	{ "MIME_TRUNCATED", 0, "over a MIME limit: not all was read" },
	{ "MISSING_DATE", 1.0, "no Date field" },
	{ "MISSING_MID", 0.5, "no Message-ID field" },
	{ "MISSING_RECEIVED", 0.5, "inbound, no Received field at all" },
	{ "MISSING_SUBJECT", 1.0, "no Subject field" },
	{ "RATELIMIT_CLIENT", 0, "messages per client network over a limit" },
	{ "RATELIMIT_CLIENT_RCPT", 0, "recipients per client network over a "
	  "limit" },
	{ "RATELIMIT_ERROR", 0, "the rate limit counters could not be used" },
	{ "RATELIMIT_LOGIN", 0, "messages per login over a limit" },
	{ "RATELIMIT_LOGIN_RCPT", 0, "recipients per login over a limit" },
	{ "RATELIMIT_SENDER_DOMAIN", 0, "messages per sender domain over a "
	  "limit" },
	{ "RATELIMIT_SENDER_DOMAIN_RCPT", 0, "recipients per sender domain "
	  "over a limit" },
	{ "RCPT_ADDR_TOO_LONG", 0, "a recipient over 4096 bytes" },
	{ "RCPT_LIMIT", 0, "more recipients than max_recipients" },
	{ "RECEIVED_MALFORMED", 0.5, "a Received field without by or date" },
	{ "RSPAMD", 1.0, "Rspamd's score (times rspamd_weight)" },
	{ "RSPAMD_ERROR", 0, "Rspamd gave no usable answer in time" },
	{ "RSPAMD_SKIPPED", 0, "not sent to Rspamd: over rspamd_max_size, "
	  "or a virus" },
	{ "SENDER_ADDR_TOO_LONG", 0, "a sender over 4096 bytes" },
	{ "SENDER_HEADER_INVALID", 0, "the Sender field does not parse" },
	{ "SENDER_HEADER_MISMATCH", 0, "Sender is not owned by the login" },
	{ "SENDER_LOGIN_MISMATCH", 0, "MAIL FROM is not owned by the login" },
	{ "SENDER_MAP_UNTRUSTED", 0, "the login map is being changed" },
	{ "SENDER_NOT_LOGGED_IN", 0, "a protected sender without login" },
	{ "SENDER_NULL", 0, "a null sender from a login" },
	{ "SHUTTING_DOWN", 0, "relayguard is stopping" },
	{ "SIZE_HUGE", 0, "over 4 MB" },
	{ "SIZE_LARGE", 0, "256 kB to 4 MB" },
	{ "SIZE_LIMIT", 0, "the message is over max_message_size" },
	{ "SIZE_MEDIUM", 0, "16 to 256 kB" },
	{ "SIZE_SMALL", 0, "1 to 16 kB" },
	{ "SIZE_TINY", 0, "under 1 kB" },
	{ "SPAMD", 1.0, "spamd's score (times spamd_weight)" },
	{ "SPAMD_ERROR", 0, "spamd gave no usable answer in time" },
	{ "SPAMD_SKIPPED", 0, "not sent to spamd: over spamd_max_size, "
	  "or a virus" },
	{ "SPAM_ERROR", 0, "the token store could not be read" },
	{ "SPAM_QUARANTINE", 0, "the score reached spam_quarantine_score" },
	{ "SPAM_REJECT", 0, "the score reached spam_reject_score" },
	{ "SPAM_TAG", 0, "the score reached spam_tag_score" },
	{ "SPF_FAIL", 1.0, "SPF failed (-all)" },
	{ "SPF_HELO_FAIL", 0, "SPF of the HELO name failed" },
	{ "SPF_HELO_NEUTRAL", 0, "SPF of the HELO name: neutral" },
	{ "SPF_HELO_NONE", 0, "no SPF record for the HELO name" },
	{ "SPF_HELO_PASS", 0, "SPF of the HELO name passed" },
	{ "SPF_HELO_PERMERROR", 0, "the HELO name's SPF record is broken" },
	{ "SPF_HELO_SOFTFAIL", 0, "SPF of the HELO name: softfail" },
	{ "SPF_HELO_TEMPERROR", 0, "SPF of the HELO name failed for now" },
	{ "SPF_NEUTRAL", 0, "SPF neutral (?all)" },
	{ "SPF_NONE", 0, "no SPF record" },
	{ "SPF_PASS", -0.2, "SPF passed" },
	{ "SPF_PERMERROR", 0, "the SPF record is broken" },
	{ "SPF_SOFTFAIL", 0, "SPF softfail (~all)" },
	{ "SPF_TEMPERROR", 0, "an SPF lookup failed for now" },
	{ "SPOOL_ERROR", 0, "the message could not be kept (temp_dir)" },
	{ "TEXT_HTML_DIFFER", 1.0,
	  "the text and HTML twins say different things" },
	{ "TRUSTED_NETWORK", 0, "the client is in trusted_networks" },
};

#define WEIGHTS_N (sizeof(weights_defs) / sizeof(weights_defs[0]))

const struct weight_def *
weights_table(size_t *n)
{
	*n = WEIGHTS_N;
	return weights_defs;
}

/* weights_cmp - bsearch on the name */
static int
weights_cmp(const void *key, const void *row)
{
	return strcmp(key, ((const struct weight_def *)row)->name);
}

int
weights_index(const char *name)
{
	const struct weight_def *d = bsearch(name, weights_defs, WEIGHTS_N,
	    sizeof(weights_defs[0]), weights_cmp);

	return d ? (int)(d - weights_defs) : -1;
}

struct weights *
weights_new(void)
{
	struct weights *w = xcalloc(1, sizeof(*w));

	w->n = WEIGHTS_N;
	w->w = xcalloc(WEIGHTS_N, sizeof(*w->w));
	for (size_t i = 0; i < WEIGHTS_N; i++)
		w->w[i] = weights_defs[i].weight;
	return w;
}

void
weights_free(struct weights *w)
{
	if (w == NULL)
		return;
	free(w->w);
	free(w);
}

int
weights_parse(struct weights *w, const char *text, char *why, size_t whylen)
{
	const char *p = text;

	while (*p) {
		char item[128], *eq, *end;
		size_t n = strcspn(p, " \t\r\n,");
		double v;
		int i;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(item)) {
			snprintf(why, whylen, "score item too long: \"%.40s...\"",
				 p);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if ((eq = strchr(item, '=')) == NULL) {
			snprintf(why, whylen, "bad score \"%s\": want NAME=WEIGHT",
				 item);
			return -1;
		}
		*eq = '\0';
		if ((i = weights_index(item)) < 0) {
			snprintf(why, whylen, "unknown symbol \"%s\" in scores",
				 item);
			return -1;
		}
		errno = 0;
		v = strtod(eq + 1, &end);
		if (eq[1] == '\0' || *end != '\0' || errno != 0 || !isfinite(v)) {
			snprintf(why, whylen, "bad weight \"%s\" for %s: want a "
				 "number", eq + 1, item);
			return -1;
		}
		w->w[i] = v;
	}
	return 0;
}

double
weights_get(const struct weights *w, const char *name)
{
	int i = weights_index(name);

	if (i < 0)
		return 0;
	return w ? w->w[i] : weights_defs[i].weight;
}
