/*
 * lines - logical lines of Postfix-style files (see lines.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

int
lines_open(struct lines *l, const char *path, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	if ((l->fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	l->path = xstrdup(path);
	l->inline_comments = 1;
	sbuf_init(&l->logical);
	return 0;
}

void
lines_close(struct lines *l)
{
	if (l->fp)
		fclose(l->fp);
	free(l->path);
	free(l->raw);
	sbuf_free(&l->logical);
	memset(l, 0, sizeof(*l));
}

/* lines_strip_comment - cut " # ..." (a "#" after white space) */
static void
lines_strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* lines_read - the next physical line that is not blank or a comment */
static int
lines_read(struct lines *l, char **text, int *indented, char *err,
	   size_t errlen)
{
	ssize_t n;

	while ((n = getline(&l->raw, &l->cap, l->fp)) >= 0) {
		char *t;

		l->lineno++;
		if ((size_t)n > LINES_MAX ||
		    memchr(l->raw, '\0', (size_t)n) != NULL) {
			snprintf(err, errlen, "%s:%d: %s", l->path, l->lineno,
				 (size_t)n > LINES_MAX ? "line too long" :
				 "NUL byte in line");
			return -1;
		}
		l->raw[strcspn(l->raw, "\r\n")] = '\0';
		t = l->raw + strspn(l->raw, " \t");
		if (*t == '#' || *t == '\0')
			continue;
		if (l->inline_comments)
			lines_strip_comment(t);
		*indented = t != l->raw;
		*text = t;
		return 1;
	}
	if (ferror(l->fp)) {
		snprintf(err, errlen, "%s:%d: read error: %s", l->path,
			 l->lineno, strerror(errno));
		return -1;
	}
	return 0;
}

int
lines_next(struct lines *l, char **line, int *start, char *err,
	   size_t errlen)
{
	char *text;
	int indented, rc;

	sbuf_reset(&l->logical);
	if (l->held) {
		/* the line that ended the previous logical line */
		l->held = 0;
		sbuf_puts(&l->logical, l->raw + strspn(l->raw, " \t"));
		*start = l->lineno;
	} else {
		if ((rc = lines_read(l, &text, &indented, err, errlen)) <= 0)
			return rc;
		if (indented) {
			snprintf(err, errlen, "%s:%d: continuation line "
				 "without a key", l->path, l->lineno);
			return -1;
		}
		sbuf_puts(&l->logical, text);
		*start = l->lineno;
	}
	while ((rc = lines_read(l, &text, &indented, err, errlen)) > 0) {
		if (!indented) {
			l->held = 1;	/* keep it for the next call */
			break;
		}
		sbuf_puts(&l->logical, " ");
		sbuf_puts(&l->logical, text);
	}
	if (rc < 0)
		return -1;
	*line = l->logical.data;
	return 1;
}
