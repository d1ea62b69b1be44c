/*
 * rawmsg - raw message to policy stages (see rawmsg.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rawmsg.h"

void
rawmsg_init(struct rawmsg *r, struct msg *m, struct verdict *v)
{
	memset(r, 0, sizeof(*r));
	r->msg = m;
	r->verdict = v;
	r->first_line = 1;
	sbuf_init(&r->line);
	sbuf_init(&r->field);
	r->chunk = xmalloc(RAWMSG_CHUNK);
	r->cap = (size_t)m->conf->max_header_size + 1;
}

/* rawmsg_body_flush - pass buffered body bytes to the policy */
static void
rawmsg_body_flush(struct rawmsg *r)
{
	if (r->chunk_len == 0 || r->ended)
		return;
	if (policy_body(r->msg, r->chunk, r->chunk_len, r->verdict))
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
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (policy_header(r->msg, name, value, r->verdict))
		r->ended = 1;
	sbuf_reset(&r->field);
}

/* rawmsg_is_field - "name:" with a name of printable ASCII */
static int
rawmsg_is_field(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':')
			return i > 0;
		if (c <= 32 || c >= 127)
			return 0;
	}
	return 0;
}

static void
rawmsg_start_body(struct rawmsg *r)
{
	rawmsg_field_flush(r);
	r->in_body = 1;
	if (!r->ended && policy_eoh(r->msg, r->verdict))
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
		if (len >= 5 && memcmp(s, "From ", 5) == 0)
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
	size_t i;

	if (r->line.len == 0)
		return 1;
	if ((s[0] == ' ' || s[0] == '\t') && r->field.len > 0)
		return 1;
	if (r->first_line && r->line.len >= 5 && memcmp(s, "From ", 5) == 0)
		return 1;
	for (i = 0; i < r->line.len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':')
			return i > 0;
		if (c <= 32 || c >= 127)
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

void
rawmsg_finish(struct rawmsg *r)
{
	if (!r->in_body) {
		if (r->line.len > 0)
			rawmsg_header_line(r);
		if (!r->in_body)
			rawmsg_start_body(r);
	}
	rawmsg_body_flush(r);
	if (!r->ended)
		policy_eom(r->msg, r->verdict);
	sbuf_free(&r->line);
	sbuf_free(&r->field);
	free(r->chunk);
	r->chunk = NULL;
}
