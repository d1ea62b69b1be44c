/*
 * fuzz_addr - addr_parse_list() (policy/mail/addr.c) on arbitrary header values.
 *
 * Feeds: the input as a From:/Sender: field value, exactly size bytes and
 * not NUL-terminated (so ASan catches any read past len); then
 * addr_lookalike() on every display name it returns.
 *
 * Invariants beyond "no crash, no leak":
 *   - the status is one of enum addr_status; inputs over ADDR_INPUT_MAX are
 *     ADDR_TOO_LONG;
 *   - ADDR_OK: 1..ADDR_LIST_MAX mailboxes, each with a non-empty domain, a
 *     non-empty local part (unless it was a quoted string: '""@d' is valid
 *     RFC 5322), non-NULL display, and no CR, LF or other control byte in
 *     the local part or domain (check_bytes refuses them in the input, and
 *     folding must not leave CRLF in a quoted string or domain literal;
 *     a TAB of FWS inside one is allowed);
 *   - any other status: count 0 and v NULL (groups may be kept for
 *     ADDR_EMPTY, as addr.h says), and a non-empty err;
 *   - the status does not depend on the error buffer (none, one byte);
 *   - addr_lookalike() returns NULL or a string holding an at sign (or its
 *     U+FF20 / U+FE6B look-alikes) that occurs in the display name.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"

/* has_control - a control byte other than the TAB that FWS may leave */
static int
has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 1;
	return 0;
}

static void
check_lookalike(const char *display)
{
	char *shown = addr_lookalike(display);

	if (shown == NULL)
		return;
	FZ_CHECK(*shown != '\0', "empty look-alike for \"%s\"", display);
	FZ_CHECK(strstr(display, shown) != NULL,
		 "look-alike \"%s\" not in \"%s\"", shown, display);
	FZ_CHECK(strchr(shown, '@') || strstr(shown, "\xef\xbc\xa0") ||
		 strstr(shown, "\xef\xb9\xab"),
		 "look-alike \"%s\" has no at sign", shown);
	free(shown);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list list, again;
	char err[256], tiny[1];
	enum addr_status st, st2;

	st = addr_parse_list((const char *)data, size, &list, err, sizeof(err));
	FZ_CHECK(st >= ADDR_OK && st <= ADDR_TOO_MANY, "status %d", (int)st);
	if (size > ADDR_INPUT_MAX)
		FZ_CHECK(st == ADDR_TOO_LONG, "%zu bytes gave %s", size,
			 addr_status_name(st));
	if (st == ADDR_OK) {
		FZ_CHECK(list.count >= 1 && list.count <= ADDR_LIST_MAX,
			 "OK with %zu mailboxes", list.count);
		FZ_CHECK(list.v != NULL, "OK with v NULL");
		for (size_t i = 0; i < list.count; i++) {
			const struct addr *a = &list.v[i];

			FZ_CHECK(a->local && a->domain && a->display,
				 "mailbox %zu has a NULL field", i);
			FZ_CHECK(*a->domain != '\0', "mailbox %zu: empty "
				 "domain (local \"%s\")", i, a->local);
			FZ_CHECK(*a->local != '\0' || a->quoted_local,
				 "mailbox %zu: empty unquoted local part", i);
			FZ_CHECK(!has_control(a->local) &&
				 !has_control(a->domain),
				 "mailbox %zu: control byte in \"%s\"@\"%s\"",
				 i, a->local, a->domain);
			check_lookalike(a->display);
		}
	} else {
		FZ_CHECK(list.count == 0 && list.v == NULL,
			 "%s left %zu mailboxes", addr_status_name(st),
			 list.count);
		FZ_CHECK(st == ADDR_EMPTY || list.groups == 0,
			 "%s left groups=%d", addr_status_name(st),
			 list.groups);
		FZ_CHECK(err[0] != '\0', "%s without a reason",
			 addr_status_name(st));
	}

	/* the same answer without an error buffer, and with a tiny one */
	st2 = addr_parse_list((const char *)data, size, &again, NULL, 0);
	FZ_CHECK(st2 == st, "%s without err, %s with",
		 addr_status_name(st2), addr_status_name(st));
	FZ_CHECK(again.count == list.count, "%zu then %zu mailboxes",
		 list.count, again.count);
	addr_list_free(&again);
	st2 = addr_parse_list((const char *)data, size, &again, tiny,
			      sizeof(tiny));
	FZ_CHECK(st2 == st && tiny[0] == '\0', "one-byte err: %s, \"%.1s\"",
		 addr_status_name(st2), tiny);
	addr_list_free(&again);

	addr_list_free(&list);
	FZ_CHECK(list.count == 0 && list.v == NULL, "addr_list_free left data");
	return 0;
}
