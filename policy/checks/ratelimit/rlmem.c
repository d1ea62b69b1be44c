/*
 * rlmem - bounded in-process rate counters (see rlmem.h).
 *
 * A chained hash (FNV-1a, a power of two of buckets, about one a key) and
 * a doubly linked list in order of use.  Everything under one mutex: a
 * decision is a few hash lookups and integer sums.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rlmem.h"
#include "util.h"

struct rl_entry {
	struct rl_entry	*hnext;			/* hash chain */
	struct rl_entry	*older, *newer;		/* use order */
	uint32_t	hash;
	int		n;
	long long	window[RATE_MAX];	/* ms, of each slot */
	struct rate_slot slot[RATE_MAX];
	long long	last;			/* ms, last hit */
	long long	span;			/* longest window */
	char		key[];
};

struct rlmem {
	pthread_mutex_t	mu;
	struct rl_entry	**bucket;
	size_t		nbucket;		/* a power of two */
	size_t		count, max;
	struct rl_entry	*newest, *oldest;
	unsigned long	evicted;
};

static uint32_t
rlmem_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct rlmem *
rlmem_new(size_t max_keys)
{
	struct rlmem *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	/* at least the keys of one decision, which must not evict each other */
	m->max = max_keys > 16 ? max_keys : 16;
	m->nbucket = 16;
	while (m->nbucket < m->max && m->nbucket < (1u << 24))
		m->nbucket <<= 1;
	m->bucket = xcalloc(m->nbucket, sizeof(*m->bucket));
	return m;
}

void
rlmem_free(struct rlmem *m)
{
	struct rl_entry *e, *next;

	if (m == NULL)
		return;
	for (e = m->newest; e; e = next) {
		next = e->older;
		free(e);
	}
	free(m->bucket);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* rlmem_unlink_use - out of the use order */
static void
rlmem_unlink_use(struct rlmem *m, struct rl_entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		m->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		m->oldest = e->newer;
	e->older = e->newer = NULL;
}

/* rlmem_touch - to the new end of the use order */
static void
rlmem_touch(struct rlmem *m, struct rl_entry *e)
{
	if (m->newest == e)
		return;
	if (e->newer || e->older || m->oldest == e)
		rlmem_unlink_use(m, e);
	e->older = m->newest;
	if (m->newest)
		m->newest->newer = e;
	m->newest = e;
	if (m->oldest == NULL)
		m->oldest = e;
}

/* rlmem_remove - out of the hash and the order, freed */
static void
rlmem_remove(struct rlmem *m, struct rl_entry *e)
{
	struct rl_entry **pp = &m->bucket[e->hash & (m->nbucket - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	rlmem_unlink_use(m, e);
	m->count--;
	free(e);
}

/* rlmem_find - the entry of key, or a new one (room made for it) */
static struct rl_entry *
rlmem_find(struct rlmem *m, const char *key, long long now)
{
	uint32_t h = rlmem_hash(key);
	struct rl_entry *e;
	size_t len;

	for (e = m->bucket[h & (m->nbucket - 1)]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	/* idle keys at the old end hold nothing any more */
	for (int i = 0; i < 2 && m->oldest &&
	     now - m->oldest->last > 2 * m->oldest->span; i++)
		rlmem_remove(m, m->oldest);
	if (m->count >= m->max) {
		m->evicted++;
		rlmem_remove(m, m->oldest);
	}
	len = strlen(key);
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->hnext = m->bucket[h & (m->nbucket - 1)];
	m->bucket[h & (m->nbucket - 1)] = e;
	m->count++;
	return e;
}

/*
 * rlmem_slots - the entry's slots in the order of rates: a window kept
 * from before keeps its counts, a window no longer configured goes
 */
static void
rlmem_slots(struct rl_entry *e, const struct ratelist *rates)
{
	struct rate_slot slot[RATE_MAX];
	int same = e->n == rates->n;

	for (int i = 0; same && i < rates->n; i++)
		same = e->window[i] == rates->v[i].window;
	if (same)
		return;
	memset(slot, 0, sizeof(slot));
	for (int i = 0; i < rates->n; i++)
		for (int j = 0; j < e->n; j++)
			if (e->window[j] == rates->v[i].window)
				slot[i] = e->slot[j];
	memcpy(e->slot, slot, sizeof(slot));
	e->n = rates->n;
	e->span = 0;
	for (int i = 0; i < rates->n; i++) {
		e->window[i] = rates->v[i].window;
		if (e->window[i] > e->span)
			e->span = e->window[i];
	}
}

int
rlmem_hit(struct rlmem *m, const struct rl_req *reqs, size_t n, long long now,
	  long cost, size_t *req, int *win)
{
	struct rl_entry *e[16];
	int over = 0;

	if (n > sizeof(e) / sizeof(e[0]))
		PANIC("rlmem_hit: %zu keys in one decision", n);
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		e[i] = rlmem_find(m, reqs[i].key, now);
		rlmem_slots(e[i], reqs[i].rates);
		e[i]->last = now;
		rlmem_touch(m, e[i]);
	}
	for (size_t i = 0; i < n && !over; i++)
		for (int j = 0; j < reqs[i].rates->n && !over; j++) {
			rate_roll(&e[i]->slot[j], reqs[i].rates->v[j].window,
				  now);
			if (rate_over(&e[i]->slot[j], &reqs[i].rates->v[j],
				      now, cost)) {
				over = 1;
				*req = i;
				*win = j;
			}
		}
	for (size_t i = 0; i < n && !over; i++)
		for (int j = 0; j < reqs[i].rates->n; j++)
			e[i]->slot[j].cur += cost;
	pthread_mutex_unlock(&m->mu);
	return over;
}

size_t
rlmem_size(struct rlmem *m)
{
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->count;
	pthread_mutex_unlock(&m->mu);
	return n;
}

unsigned long
rlmem_evicted(struct rlmem *m)
{
	unsigned long n;

	pthread_mutex_lock(&m->mu);
	n = m->evicted;
	pthread_mutex_unlock(&m->mu);
	return n;
}
