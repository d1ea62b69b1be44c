/*
 * spam - the built-in spam engine, at end of message, inbound and
 * outbound, after every other scoring check (SPF, DKIM, DMARC, the virus
 * scan): one MIME walk of the spool (mime.h), rules, the Bayes result,
 * then the total score against the thresholds.  The check also runs with
 * the built-in engine off when an external engine (spamd, Rspamd:
 * checks/extspam/) is on: then only the thresholds, over their scores.
 *
 * Rules (weights in weights.c, "scores =" to change them):
 *   GTUBE            the GTUBE test string in the decoded text
 *   BAYES_SPAM       the classifier's spamicity p >= 0.5, weight * (2p - 1)
 *   BAYES_HAM        p < 0.5, weight * (1 - 2p); neither with too little
 *                    training (bayes_min_spam, bayes_min_ham)
 *   MISSING_DATE, DATE_INVALID, DATE_IN_FUTURE (over 12 hours ahead),
 *   DATE_IN_PAST (over 7 days behind), MISSING_MID, MISSING_SUBJECT,
 *   EMPTY_SUBJECT, FROM_REPLYTO_DIFFER (another domain), MISSING_RECEIVED
 *   (inbound, no Received field: Postfix does not pass its own),
 *   RECEIVED_MALFORMED (a Received without "by" or date), HTML_ONLY, TEXT_HTML_DIFFER,
 *   MIME_BAD_CHARSET, MIME_BAD_ENCODING, MIME_NO_BOUNDARY, MIME_TRUNCATED,
 *   SIZE_TINY/SIZE_SMALL/SIZE_MEDIUM/SIZE_LARGE/SIZE_HUGE (size classes)
 * Totals (thresholds by mode, outbound ones for the site's own users):
 *   SPAM_TAG         at spam_tag_score: X-Spam-Flag: YES, X-Spam-Score,
 *                    X-Spam-Status (incoming copies always removed)
 *   SPAM_QUARANTINE  at spam_quarantine_score: the MTA's hold queue
 *   SPAM_REJECT      at spam_reject_score: 554 5.7.1
 *   SPAM_ERROR       the token store could not be read: spam_error_action
 */
#ifndef RG_SPAM_H
#define RG_SPAM_H

struct bayes_params;
struct conf;
struct mime_limits;
struct tokstore_opts;
struct txn;

int spam_enabled(const struct conf *);
void spam_eom(struct txn *);
/* spam_stop - close the token stores (end of the process) */
void spam_stop(void);

/*
 * spam_learn_message - relayguard learn: one message (its bytes) as spam
 * or ham, or forgotten; 0 learned, 1 nothing to do (known already), -1
 * error (why)
 */
int spam_learn_message(const struct conf *, const unsigned char *msg,
		       size_t len, int is_spam, int forget, char *why,
		       size_t whylen);
/*
 * spam_learner - relayguard learn: many messages, SPAM_LEARN_BATCH to a
 * store transaction (LMDB: one commit and one sync for them all).  done
 * is called for each message once its batch went to the store, with rc
 * as spam_learn_message's and why when rc is -1; src is the caller's
 * name for the message (copied).  spam_learner_free flushes first.
 */
#define SPAM_LEARN_BATCH	100
struct spam_learner;
typedef void (*spam_learn_done)(void *arg, const char *src, int rc,
				const char *why);
struct spam_learner *spam_learner_new(const struct conf *, int is_spam,
				      int forget, spam_learn_done, void *arg);
void spam_learner_add(struct spam_learner *, const char *src,
		      const unsigned char *msg, size_t len);
void spam_learner_flush(struct spam_learner *);
void spam_learner_free(struct spam_learner *);
/* what the daemon takes from a configuration (bench/spamspeed too): */
/* spam_store_opts - the token store's options (write: for learning) */
void spam_store_opts(const struct conf *, int write, struct tokstore_opts *);
/* spam_limits - the MIME walk's limits */
void spam_limits(const struct conf *, struct mime_limits *);
/* spam_params - the classifier's parameters */
void spam_params(const struct conf *, struct bayes_params *);
/* spam_store_totals - messages learned so far; -1 with why */
int spam_store_totals(const struct conf *, unsigned long long *nspam,
		      unsigned long long *nham, char *why, size_t whylen);

#endif
