/*
 * casefold - fold the case of a string the way Postfix folds lookup keys.
 *
 * Postfix 3.x (smtputf8_enable = yes) folds table keys and the address it
 * looks up with casefold(3): full Unicode case folding by ICU for UTF-8
 * that is not all ASCII ("JÖRG" and "jörg" meet, "STRASSE" and "straße"
 * too), ASCII lowercase otherwise.  relayguard uses the same library, so
 * both fold alike.
 *
 * A string that is not valid UTF-8 (overlong forms, surrogates, code points
 * over U+10FFFF, cut sequences) is folded as ASCII only: its bytes of 0x80
 * and over stay as they are.  That answer is defined, never an error.
 */
#ifndef RG_CASEFOLD_H
#define RG_CASEFOLD_H

#include <stddef.h>

/* casefold - a new string, folded; never NULL */
char *casefold(const char *s);
/* casefold_len - the same for len bytes of s (no NUL needed) */
char *casefold_len(const char *s, size_t len);
/* casefold_eq - are a and b equal once folded (Postfix's strcasecmp_utf8) */
int casefold_eq(const char *a, const char *b);
/* casefold_valid_utf8 - is s[0..len) well-formed UTF-8 (RFC 3629) */
int casefold_valid_utf8(const char *s, size_t len);

#endif
