/*
 * lines - read a Postfix-style text file as logical lines.
 *
 * Used by the configuration and the login maps.  A line that starts with
 * "#" (after optional white space) or is empty is skipped; a line that
 * starts with white space continues the previous one (joined with one
 * space); " # ..." after text is a comment unless inline_comments is
 * cleared after lines_open() (Postfix's lookup tables have no such
 * comments: there "#" starts a comment only at the start of a line).
 * CR LF and LF both end lines.
 * A NUL byte, a line over LINES_MAX bytes or a continuation with nothing
 * to continue is an error reported as "FILE:LINE: why".
 */
#ifndef RG_LINES_H
#define RG_LINES_H

#include <stdio.h>

#include "util.h"

#define LINES_MAX	65536

struct lines {
	FILE		*fp;
	char		*path;
	char		*raw;
	size_t		cap;
	int		lineno;		/* physical lines read */
	int		held;		/* raw holds the next logical start */
	int		inline_comments; /* cut " # ..." (default 1) */
	struct sbuf	logical;
};

/* lines_open - "FILE:0: cannot open: why" in err on failure */
int lines_open(struct lines *, const char *path, char *err, size_t errlen);
/*
 * lines_next - the next logical line in *line (valid until the next
 * call) and the number of its first physical line in *start.  Returns 1
 * for a line, 0 at the end, -1 on error (err set).
 */
int lines_next(struct lines *, char **line, int *start, char *err,
	       size_t errlen);
void lines_close(struct lines *);

#endif
