/* tests.h - the unit test suites of relayguard (Check) */
#ifndef RG_TESTS_H
#define RG_TESTS_H

#include <check.h>
#include <stddef.h>

#include "addr.h"

/* one row of the From-header table (check_addr.c) */
struct addr_case {
	const char		*label, *in;
	enum addr_status	status;
	const char		*addrs;		/* "l@d,l@d" */
	const char		*display;	/* of the first, NULL: unchecked */
	int			unknown_charset; /* of the first */
};
extern const struct addr_case addr_cases[];
extern const size_t addr_ncases;

Suite *util_suite(void);
Suite *conf_suite(void);
Suite *netaddr_suite(void);
Suite *msg_suite(void);
Suite *rawmsg_suite(void);
Suite *txn_suite(void);
Suite *addr_suite(void);
Suite *sender_suite(void);
Suite *spf_suite(void);
Suite *resolver_suite(void);
Suite *dkim_suite(void);
Suite *dmarc_suite(void);
Suite *av_suite(void);
Suite *avclamd_suite(void);
Suite *tokstore_suite(void);
Suite *spam_suite(void);
Suite *mime_suite(void);
Suite *extspam_suite(void);
Suite *ratelimit_suite(void);
Suite *dnsbl_suite(void);

/* write_file - a scratch file with the given text; returns its path */
const char *write_file(const char *name, const char *text);
/* unit_tmpdir - the run's scratch directory (removed at the end) */
const char *unit_tmpdir(void);

#endif
