/*
 * rawmsg - feed a raw RFC 5322 message to the policy, as an MTA would.
 *
 * Used by "relayguard check" (and the tests) to drive the same stages the
 * milter callbacks drive.  It mimics Postfix's milter client: folded
 * fields are passed with their line breaks as "\n", the white space after
 * the colon is dropped, a line that is not a header field ends the header
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

#include "policy.h"
#include "util.h"

#define RAWMSG_CHUNK	65535
#define RAWMSG_RECORD	2048	/* Postfix's line_length_limit */

struct rawmsg {
	struct msg	*msg;
	struct verdict	*verdict;
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

void rawmsg_init(struct rawmsg *, struct msg *, struct verdict *);
/* rawmsg_feed - more bytes; returns 1 once the transaction has ended */
int rawmsg_feed(struct rawmsg *, const void *data, size_t len);
/* rawmsg_finish - end of input: flush, then end of message; frees state */
void rawmsg_finish(struct rawmsg *);

#endif
