/*
 * tokens - the features the Bayes classifier counts, from one message's
 * decoded text (mime.h): words and sparse word pairs.
 *
 * Words are runs of letters, digits and the marks inside words (' - _ .
 * between letters), folded (Unicode case folding, policy/lib/casefold),
 * 2 to 40 bytes; longer runs give one "long word" token by their first
 * bytes; digits-only words longer than 4 are one "number" token of their
 * length.  Where they come from is part of the token: the subject, the
 * body text, the From domain and the link hosts are kept apart.  Word
 * pairs are orthogonal sparse bigrams (OSB, as in Rspamd and CRM114): each
 * word with each of the tokens_window - 1 words before it, the distance
 * part of the pair.  Every token is a 64-bit hash; a message gives each
 * distinct token once (counts are of messages, as in bogofilter), at most
 * tokens_max of them.
 */
#ifndef RG_TOKENS_H
#define RG_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct mime_doc;

#define TOKENS_WINDOW	5	/* OSB window: a word and the 4 before it */

struct tokens {
	uint64_t	*v;		/* distinct, sorted */
	size_t		n;
	size_t		cap;
	size_t		max;		/* at most this many */
	size_t		words;		/* words seen (before the limit) */
};

void tokens_init(struct tokens *, size_t max);
void tokens_free(struct tokens *);
/* tokens_from_doc - every token of a walked message, deduplicated */
void tokens_from_doc(struct tokens *, const struct mime_doc *);
/*
 * tokens_text - the tokens of one text in one context (a byte that
 * tells subject, body, ... apart), words and OSB pairs; call
 * tokens_finish when every text is in
 */
void tokens_text(struct tokens *, char context, const char *text,
		 size_t len);
/* tokens_add - one token by its text in a context */
void tokens_add(struct tokens *, char context, const char *text,
		size_t len);
/* tokens_finish - sort and deduplicate */
void tokens_finish(struct tokens *);

#endif
