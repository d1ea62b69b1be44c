/*
 * size - max_message_size, enforced as the message streams in.
 *
 * Raises SIZE_LIMIT when the ESMTP SIZE= declared at MAIL FROM, or the
 * bytes seen so far (header fields as "Name: value\r\n" plus the body),
 * pass max_message_size (0: no limit).
 */
#ifndef RG_SIZE_H
#define RG_SIZE_H

#include <stddef.h>

struct txn;

void size_mail(struct txn *);
void size_data(struct txn *);
/* size_tap - the body tap: the limit as each chunk arrives */
void size_tap(struct txn *, const unsigned char *, size_t);

#endif
