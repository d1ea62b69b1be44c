/*
 * dkimsign - DKIM signing of outbound mail with libopendkim.
 *
 * Outbound mail only (authenticated, or from trusted_networks) that got
 * past the sender identity gate, whose one header From address matches
 * a line of dkim_signing_table: one signature per key of that line
 * (dkim_key_table), relaxed/relaxed, rsa-sha256 for an RSA key and
 * ed25519-sha256 for an Ed25519 key, the usual header fields signed and
 * From oversigned (a From added later breaks the signature).  The
 * DKIM-Signature fields go at the very top of the message, and only when
 * the verdict keeps the mail.
 *
 * Symbols: DKIM_SIGNED ("d= s= a="), DKIM_SIGN_SKIPPED (keys are
 * configured but the From is missing, repeated or unparseable),
 * DKIM_SIGN_ERROR (libopendkim refused; the mail goes out unsigned).
 */
#ifndef RG_DKIMSIGN_H
#define RG_DKIMSIGN_H

#include <stddef.h>

struct txn;

void dkimsign_eoh(struct txn *);
void dkimsign_tap(struct txn *, const unsigned char *, size_t);
void dkimsign_eom(struct txn *);

#endif
