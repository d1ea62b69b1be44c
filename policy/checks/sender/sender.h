/*
 * sender - the sender identity gate: the login may only use its own
 * addresses, in the envelope (MAIL FROM) and in the From and Sender
 * header fields.
 *
 * Ownership comes from sender_login_maps (see loginmap.h), looked up as
 * Postfix 3.7's reject_sender_login_mismatch does: the address is first
 * routed as trivial-rewrite resolves it (sender_myorigin appended to an
 * address without domain; for local_domains, user%domain and
 * domain!user and a quoted local part holding them become user@domain),
 * case folded, then looked up: user+ext@domain (then the regular
 * expressions on it), user@domain, then for local_domains and
 * sender_myorigin user+ext and user, then @domain; each key in its quoted
 * (external) form first, then unquoted if that differs.  With nothing
 * found for a domain alias, the same again with the canonical domain.
 * The catch-all owners of *@domain are added to whatever was found.
 *
 * Symbols (reply arguments in brackets):
 *   SENDER_LOGIN_MISMATCH [<addr>, login]  MAIL FROM not owned by the login
 *   SENDER_NOT_LOGGED_IN [<addr>]          protected MAIL FROM, no login
 *   SENDER_NULL [<>, login]                null sender from a login
 *   FROM_MISSING, FROM_MULTIPLE, FROM_INVALID
 *   FROM_LOGIN_MISMATCH [<addr>, login]    header From not owned
 *   SENDER_HEADER_INVALID, SENDER_HEADER_MISMATCH [<addr>, login]
 *   FROM_DISPLAY_SPOOF [<addr shown>]      display name shows another
 *                                          address than the one used
 *   FROM_DISPLAY_CHARSET_UNKNOWN           an encoded word of the From
 *                                          display name is in a charset
 *                                          iconv does not know (a note)
 *   FROM_PROTECTED_INBOUND [<addr>]        inbound mail with a protected
 *                                          header From
 *   SENDER_MAP_UNTRUSTED [<addr>, login]   a finding that would be rejected
 *                                          while a changed map file is
 *                                          refused (see loginmap.h):
 *                                          tempfailed instead
 */
#ifndef RG_SENDER_H
#define RG_SENDER_H

struct txn;
struct loginmap;
struct conf;

void sender_mail(struct txn *);
void sender_eoh(struct txn *);

/*
 * sender_owners - the owners of an address (local part and domain), as a
 * new string of logins, or NULL if nobody owns it.  Exposed for tests.
 */
char *sender_owners(const struct loginmap *, const struct conf *,
		    const char *local, const char *domain);

#endif
