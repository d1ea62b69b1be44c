/*
 * size - the message size limit (see size.h).
 */
#include "config.h"

#include "msg.h"
#include "size.h"

void
size_mail(struct msg *m)
{
	long long max = m->conf->max_message_size;

	if (max > 0 && m->declared_size > max)
		symbols_add(&m->symbols, "SIZE_LIMIT", 0,
			    "declared SIZE=%lld over %lld", m->declared_size,
			    max);
}

void
size_data(struct msg *m)
{
	long long max = m->conf->max_message_size;

	if (max > 0 && m->size > max)
		symbols_add(&m->symbols, "SIZE_LIMIT", 0,
			    "message over %lld bytes", max);
}
