/*
 * rawmsg - a raw message split into milter steps (see rawmsg.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rawmsg.h"

void
rawmsg_init(struct rawmsg *r, const struct rawmsg_sink *sink,
	    long long max_header_size)
{
	memset(r, 0, sizeof(*r));
	r->sink = sink;
	r->first_line = 1;
	sbuf_init(&r->line);
	sbuf_init(&r->field);
	r->chunk = xmalloc(RAWMSG_CHUNK);
	r->cap = (size_t)max_header_size + 1;
}

/* rawmsg_body_flush - pass buffered body bytes to the policy */
static void
rawmsg_body_flush(struct rawmsg *r)
{
	if (r->chunk_len == 0 || r->ended)
		return;
	if (r->sink->body(r->sink->ctx, r->chunk, r->chunk_len))
		r->ended = 1;
	r->chunk_len = 0;
}

static void
rawmsg_body_byte(struct rawmsg *r, unsigned char c)
{
	if (r->chunk_len == RAWMSG_CHUNK)
		rawmsg_body_flush(r);
	r->chunk[r->chunk_len++] = c;
}

/* rawmsg_body - body bytes, bare LF turned into CRLF */
static void
rawmsg_body(struct rawmsg *r, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len && !r->ended; i++) {
		if (p[i] == '\n' && !r->pending_cr)
			rawmsg_body_byte(r, '\r');
		rawmsg_body_byte(r, p[i]);
		r->pending_cr = p[i] == '\r';
	}
}

/* rawmsg_field_flush - hand the pending header field to the policy */
static void
rawmsg_field_flush(struct rawmsg *r)
{
	char *name, *colon, *value;

	if (r->field.len == 0 || r->ended)
		return;
	name = r->field.data;
	colon = strchr(name, ':');
	*colon = '\0';
	/* "From : x" (RFC 5322 obsolete syntax) is the field "From" */
	for (char *e = colon; e > name && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	value = colon + 1;
	if (!r->sink->leadspc)
		while (*value == ' ' || *value == '\t')
			value++;
	if (r->sink->header(r->sink->ctx, name, value))
		r->ended = 1;
	sbuf_reset(&r->field);
}

/*
 * rawmsg_name_end - how a line begins, as Postfix's is_header() sees it:
 * a field name of printable ASCII, optional white space, then a colon.
 * 1: a field; 0: not one; -1: a field name (and white space) with no
 * colon yet.
 */
static int
rawmsg_name_end(const char *s, size_t len)
{
	size_t i;
	int space = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':')
			return i > 0;
		if (c == ' ' || c == '\t') {
			if (i == 0)
				return 0;
			space = 1;
			continue;
		}
		if (space || c < 32 || c >= 127)
			return 0;
	}
	return -1;
}

/* rawmsg_is_field - "name:" (or "name :") with a printable name */
static int
rawmsg_is_field(const char *s, size_t len)
{
	return rawmsg_name_end(s, len) == 1;
}

static void
rawmsg_start_body(struct rawmsg *r)
{
	rawmsg_field_flush(r);
	r->in_body = 1;
	if (!r->ended && r->sink->eoh(r->sink->ctx))
		r->ended = 1;
}

/* rawmsg_header_line - one complete line of the header section */
static void
rawmsg_header_line(struct rawmsg *r)
{
	char *s = r->line.data ? r->line.data : "";
	size_t len = r->line.len;

	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	if (r->first_line) {
		r->first_line = 0;
		if (len >= 5 && memcmp(s, "From ", 5) == 0 &&
		    !rawmsg_is_field(s, len))
			return;
	}
	if (len == 0) {
		rawmsg_start_body(r);
		return;
	}
	if ((s[0] == ' ' || s[0] == '\t') && r->field.len > 0) {
		/* past the cap the field is over max_header_size anyway: keep
		   it at the cap so the policy sees that, and drop the rest */
		if (r->field.len < r->cap)
			sbuf_puts(&r->field, "\n");
		if (r->field.len < r->cap)
			sbuf_append(&r->field, s, len < r->cap - r->field.len ?
				    len : r->cap - r->field.len);
		return;
	}
	if (!rawmsg_is_field(s, len)) {
		/* not a header: as in Postfix, the body starts here */
		rawmsg_start_body(r);
		rawmsg_body(r, (const unsigned char *)s, len);
		rawmsg_body(r, (const unsigned char *)"\r\n", 2);
		return;
	}
	rawmsg_field_flush(r);
	/* a NUL ends the field, as it would in the milter protocol: keep it,
	   so continuation lines after it stay hidden behind it too */
	sbuf_append(&r->field, s, len);
}

/*
 * rawmsg_line_cap - how much of one header-section line is kept: enough
 * to see that a field is over max_header_size, and at least one Postfix
 * record (line_length_limit), within which Postfix tells a field name
 * from body text
 */
static size_t
rawmsg_line_cap(const struct rawmsg *r)
{
	return r->cap > RAWMSG_RECORD + 1 ? r->cap : RAWMSG_RECORD + 1;
}

/*
 * rawmsg_headerish - could the line held so far be (part of) a header
 * field: a field name and colon, a field name still without its colon,
 * a continuation of a pending field, or the leading mbox "From " line.
 * A longer line that is none of these starts the body, whatever its
 * length.
 */
static int
rawmsg_headerish(const struct rawmsg *r)
{
	const char *s = r->line.data;

	if (r->line.len == 0)
		return 1;
	if ((s[0] == ' ' || s[0] == '\t') && r->field.len > 0)
		return 1;
	if (r->first_line && r->line.len >= 5 && memcmp(s, "From ", 5) == 0)
		return 1;
	switch (rawmsg_name_end(s, r->line.len)) {
	case 1:
		return 1;
	case 0:
		return 0;
	}
	/* all field-name bytes so far: Postfix decides within one record */
	return r->line.len <= RAWMSG_RECORD;
}

int
rawmsg_feed(struct rawmsg *r, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len && !r->ended) {
		if (r->in_body) {
			rawmsg_body(r, p + i, len - i);
			break;
		}
		const unsigned char *nl = memchr(p + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (p + i)) : len - i;
		size_t room = rawmsg_line_cap(r) - r->line.len;

		if (n <= room) {
			sbuf_append(&r->line, p + i, n);
		} else {
			sbuf_append(&r->line, p + i, room);
			if (!rawmsg_headerish(r)) {
				/* a long line of body text: the body starts
				   here, with all of the line */
				r->first_line = 0;
				rawmsg_start_body(r);
				rawmsg_body(r, (const unsigned char *)
					    r->line.data, r->line.len);
				sbuf_reset(&r->line);
				i += room;
				continue;
			}
			/* a header field over the limit: the rest can go */
		}
		i += n;
		if (nl) {
			i++;
			rawmsg_header_line(r);
			sbuf_reset(&r->line);
		}
	}
	return r->ended;
}

int
rawmsg_finish(struct rawmsg *r)
{
	int ended;

	if (!r->in_body) {
		if (r->line.len > 0)
			rawmsg_header_line(r);
		if (!r->in_body)
			rawmsg_start_body(r);
	}
	rawmsg_body_flush(r);
	ended = r->ended;
	sbuf_free(&r->line);
	sbuf_free(&r->field);
	free(r->chunk);
	r->chunk = NULL;
	return ended;
}
