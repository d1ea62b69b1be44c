/*
 * sender - the sender identity gate: the login may only use its own
 * addresses, in the envelope (MAIL FROM) and in the From and Sender
 * header fields.
 *
 * Ownership comes from sender_login_maps (see loginmap.h), looked up as
 * Postfix does for smtpd_sender_login_maps: user+ext@domain, user@domain,
 * then for local_domains user+ext and user, then @domain, then the
 * regular expressions; with nothing found for a domain alias, the same
 * again with the canonical domain.  The catch-all owners of *@domain are
 * added to whatever was found.
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
 */
#ifndef RG_SENDER_H
#define RG_SENDER_H

struct msg;
struct loginmap;
struct conf;

void sender_mail(struct msg *);
void sender_eoh(struct msg *);

/*
 * sender_owners - the owners of an address (local part and domain), as a
 * new string of logins, or NULL if nobody owns it.  Exposed for tests.
 */
char *sender_owners(const struct loginmap *, const struct conf *,
		    const char *local, const char *domain);

#endif
