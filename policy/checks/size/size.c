/*
 * size - the message size limit (see size.h).
 */
#include "config.h"

#include "size.h"
#include "txn.h"

void
size_mail(struct txn *t)
{
	long long max = t->conf->max_message_size;

	if (max > 0 && t->declared_size > max)
		symbols_add(&t->symbols, "SIZE_LIMIT", 0,
			    "declared SIZE=%lld over %lld", t->declared_size,
			    max);
}

void
size_data(struct txn *t)
{
	long long max = t->conf->max_message_size;

	if (max > 0 && t->size > max &&
	    symbols_find(&t->symbols, "SIZE_LIMIT") == NULL)
		symbols_add(&t->symbols, "SIZE_LIMIT", 0,
			    "message over %lld bytes", max);
}

void
size_tap(struct txn *t, const unsigned char *data, size_t len)
{
	(void)data;
	(void)len;
	size_data(t);		/* the transaction has counted the chunk */
}
