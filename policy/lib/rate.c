/*
 * rate - rate specifications and the window counter (see rate.h).
 *
 * Diagnostics: a bad specification is a reason for the caller (the
 * configuration parser reports it at FILE:LINE); nothing here logs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "util.h"

static const struct {
	char		unit;
	long long	ms;
} rate_units[] = {
	{ 'd', 86400000LL }, { 'h', 3600000LL }, { 'm', 60000LL },
	{ 's', 1000LL },
};

/* rate_parse_one - "N/WINDOW"; -1 with why */
static int
rate_parse_one(const char *item, struct rate *r, char *why, size_t whylen)
{
	const char *whole = item;
	char *end;
	long long n, w;
	size_t i;

	errno = 0;
	n = strtoll(item, &end, 10);
	if (end == item || *end != '/' || errno || n < 1 ||
	    n > RATE_LIMIT_MAX)
		goto bad;
	item = end + 1;
	w = strtoll(item, &end, 10);
	if (end == item || errno || w < 1 || end[0] == '\0' || end[1] != '\0')
		goto bad;
	for (i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++)
		if (*end == rate_units[i].unit)
			break;
	if (i == sizeof(rate_units) / sizeof(rate_units[0]) ||
	    w > RATE_WINDOW_MAX / rate_units[i].ms)
		goto bad;
	r->limit = (long)n;
	r->window = w * rate_units[i].ms;
	return 0;
bad:
	snprintf(why, whylen, "bad rate \"%.64s\": want COUNT/WINDOW, as "
		 "100/1h, with a count from 1 to %ld and a window from 1s to "
		 "366d (s, m, h or d)", whole, RATE_LIMIT_MAX);
	return -1;
}

int
ratelist_parse(const char *text, struct ratelist *l, char *why,
	       size_t whylen)
{
	char *copy = xstrdup(text), *save = NULL, *item;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	for (item = strtok_r(copy, ", \t", &save); item && rc == 0;
	     item = strtok_r(NULL, ", \t", &save)) {
		if (l->n == RATE_MAX) {
			snprintf(why, whylen, "more than %d rates in \"%.64s\"",
				 RATE_MAX, text);
			rc = -1;
			break;
		}
		rc = rate_parse_one(item, &l->v[l->n], why, whylen);
		for (int i = 0; rc == 0 && i < l->n; i++)
			if (l->v[i].window == l->v[l->n].window) {
				snprintf(why, whylen, "two rates for one window "
					 "in \"%.64s\"", text);
				rc = -1;
			}
		l->n++;
	}
	free(copy);
	if (rc != 0)
		memset(l, 0, sizeof(*l));
	return rc;
}

void
rate_window_text(long long ms, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++)
		if (ms % rate_units[i].ms == 0) {
			snprintf(buf, size, "%lld%c", ms / rate_units[i].ms,
				 rate_units[i].unit);
			return;
		}
	snprintf(buf, size, "%llds", ms / 1000);
}

void
ratelist_format(const struct ratelist *l, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < l->n && o < size; i++) {
		char w[32];

		rate_window_text(l->v[i].window, w, sizeof(w));
		o += (size_t)snprintf(buf + o, size - o, "%s%ld/%s",
				      i ? " " : "", l->v[i].limit, w);
	}
}

void
rate_roll(struct rate_slot *s, long long window, long long now)
{
	long long bucket = now - now % window;

	if (s->start >= bucket)
		return;		/* this bucket (or a clock stepped back) */
	if (s->start == bucket - window) {
		s->prev = s->cur;
	} else {
		s->prev = 0;
	}
	s->cur = 0;
	s->start = bucket;
}

int
rate_over(const struct rate_slot *s, const struct rate *r, long long now,
	  long cost)
{
	long long elapsed = now - s->start, w;

	if (elapsed < 0)
		elapsed = 0;
	if (elapsed > r->window)
		elapsed = r->window;
	w = (r->window - elapsed) * 1000 / r->window;
	return (long long)s->prev * w + ((long long)s->cur + cost) * 1000 >
	    (long long)r->limit * 1000;
}
