/*
 * addr - RFC 5322 address lists, as found in From:, Sender:, Reply-To:.
 *
 * addr_parse_list() parses a header field value (unfolded or folded with
 * CRLF/LF + white space) into mailboxes: display names (RFC 2047 encoded
 * words decoded to UTF-8, comments dropped), quoted strings, comments
 * (nested), groups ("name: a@b, c@d;"), angle addresses with obsolete
 * routes ("<@r1,@r2:user@dom>"), obsolete local parts and domains (CFWS
 * around dots), and UTF-8 in local parts and domains (RFC 6532).
 *
 * It is strict where a lenient parser could be tricked into seeing a
 * different address than a mail client shows: anything it cannot parse
 * exactly is ADDR_SYNTAX, never a guess.  Input is bounded: at most
 * ADDR_INPUT_MAX bytes, ADDR_LIST_MAX mailboxes, comment nesting of
 * ADDR_NEST_MAX.
 */
#ifndef RG_ADDR_H
#define RG_ADDR_H

#include <stddef.h>

#define ADDR_INPUT_MAX	16384
#define ADDR_LIST_MAX	64
#define ADDR_NEST_MAX	32

struct addr {
	char	*local;		/* local part, quotes and quoted-pairs resolved */
	char	*domain;	/* domain as written, "[...]" kept for literals */
	char	*display;	/* display name, decoded; "" if none */
	int	display_unknown_charset; /* an encoded word in it has a
					 * charset iconv does not know:
					 * shown as ASCII, U+FFFD for
					 * the rest */
	int	quoted_local;	/* the local part was a quoted string */
	int	in_group;	/* inside "group: ... ;" */
};

struct addr_list {
	struct addr	*v;
	size_t		count;
	int		groups;		/* number of groups seen (empty too) */
};

enum addr_status {
	ADDR_OK = 0,
	ADDR_EMPTY,		/* no mailbox at all (empty, or only empty groups) */
	ADDR_SYNTAX,		/* not an RFC 5322 address list */
	ADDR_TOO_LONG,		/* over ADDR_INPUT_MAX bytes */
	ADDR_TOO_MANY,		/* over ADDR_LIST_MAX mailboxes */
};

/*
 * addr_parse_list - parse len bytes of a header value.  On ADDR_OK the
 * list holds at least one mailbox; on any other status the list is empty
 * and err says why (for logs; may be NULL).  Always addr_list_free() it.
 */
enum addr_status addr_parse_list(const char *text, size_t len,
				 struct addr_list *out, char *err,
				 size_t errlen);
void addr_list_free(struct addr_list *);

/*
 * addr_lookalike - when a display name itself contains something shaped
 * like an address ("ceo@example.com", "ceo@example.com via x", "<ceo@
 * example.com>"), return that address as a new string (caller frees);
 * otherwise NULL.  Used to flag "ceo@example.com" <x@evil.test>.
 */
char *addr_lookalike(const char *display);

const char *addr_status_name(enum addr_status);

#endif
