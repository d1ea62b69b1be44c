/*
 * rawmsg - split a raw RFC 5322 message into milter steps, as an MTA would.
 *
 * Used by "relayguard check" (and the tests) to drive the milter
 * callbacks themselves.  It mimics Postfix's milter client: folded
 * fields are passed with their line breaks as "\n", the white space after
 * the colon is dropped unless the sink asked for it (SMFIP_HDR_LEADSPC),
 * white space before the colon ("From : x") ends the name, a line that is
 * not a header field ends the header
 * section and starts the body, the body goes out with CRLF line endings in
 * chunks of at most 64 KiB, and a leading mbox "From " line is skipped.
 * Memory is bounded: a header line is kept up to max_header_size + 1
 * bytes (at least 2049), which is enough for the policy to see it is
 * over the limit; a line without a colon in its first 2048 bytes is body
 * text, as in Postfix.
 */
#ifndef RG_RAWMSG_H
#define RG_RAWMSG_H

#include <stddef.h>

#include "util.h"

#define RAWMSG_CHUNK	65535
#define RAWMSG_RECORD	2048	/* Postfix's line_length_limit */

/* where the steps go; each returns 1 when the transaction has ended */
struct rawmsg_sink {
	void	*ctx;
	int	(*header)(void *ctx, const char *name, const char *value);
	int	(*eoh)(void *ctx);
	int	(*body)(void *ctx, const unsigned char *data, size_t len);
	int	leadspc;	/* pass the white space after the colon */
};

struct rawmsg {
	const struct rawmsg_sink *sink;
	int		in_body;
	int		ended;		/* a stage ended the transaction */
	int		first_line;
	struct sbuf	line;		/* current header line */
	struct sbuf	field;		/* current (unfolded) header field */
	unsigned char	*chunk;		/* body bytes not yet passed on */
	size_t		chunk_len;
	int		pending_cr;	/* body: last byte was CR */
	size_t		cap;
};

void rawmsg_init(struct rawmsg *, const struct rawmsg_sink *,
		 long long max_header_size);
/* rawmsg_feed - more bytes; returns 1 once the transaction has ended */
int rawmsg_feed(struct rawmsg *, const void *data, size_t len);
/*
 * rawmsg_finish - end of input: flush the header and the body; frees
 * state.  Returns 1 if the transaction ended, else the caller sends the
 * end of message.
 */
int rawmsg_finish(struct rawmsg *);

#endif
