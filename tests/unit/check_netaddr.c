/* check_netaddr - addresses and trusted network lists */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "tests.h"

static const struct {
	const char *list, *addr;
	int want;
} matches[] = {
	{ "127.0.0.0/8", "127.0.0.1", 1 },
	{ "127.0.0.0/8", "128.0.0.1", 0 },
	{ "10.1.2.0/23", "10.1.3.255", 1 },
	{ "10.1.2.0/23", "10.1.4.0", 0 },
	{ "192.0.2.7", "192.0.2.7", 1 },
	{ "192.0.2.7", "192.0.2.8", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "[::1]/128", "::1", 1 },
	{ "::1", "::2", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "127.0.0.0/8", "::ffff:127.0.0.5", 1 },	/* v4-mapped */
	{ "127.0.0.0/8", "::1", 0 },
	{ "10.0.0.0/8, 192.168.0.0/16  ::1", "192.168.44.1", 1 },
	{ "", "127.0.0.1", 0 },
	{ "127.0.0.0/8", "IPv6:::1", 0 },
	{ "[::1]/128", "IPv6:::1", 1 },			/* Sendmail form */
};

START_TEST(test_match)
{
	struct netlist l;
	struct netaddr a;
	char err[128];

	ck_assert_int_eq(netlist_parse(matches[_i].list, &l, err,
				       sizeof(err)), 0);
	ck_assert_int_eq(netaddr_parse(matches[_i].addr, &a), 0);
	ck_assert_int_eq(netlist_match(&l, &a), matches[_i].want);
	netlist_free(&l);
}
END_TEST

static const char *bad_lists[] = {
	"127.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "300.1.1.1",
	"localhost", "1.2.3.4/8/8", "[1.2.3.4", "10.0.0.0/-1",
};

START_TEST(test_bad_list)
{
	struct netlist l;
	char err[128] = "";

	ck_assert_int_eq(netlist_parse(bad_lists[_i], &l, err, sizeof(err)),
			 -1);
	ck_assert(strlen(err) > 0);
}
END_TEST

/* reversed names: IPv4 octets, IPv6 nibbles, a buffer too small */
START_TEST(test_reverse)
{
	struct netaddr a;
	char out[128], small[20];

	ck_assert_int_eq(netaddr_parse("192.0.2.1", &a), 0);
	ck_assert_int_eq(netaddr_reverse(&a, "in-addr.arpa", out,
					 sizeof(out)), 0);
	ck_assert_str_eq(out, "1.2.0.192.in-addr.arpa");
	ck_assert_int_eq(netaddr_parse("2001:db8::1", &a), 0);
	ck_assert_int_eq(netaddr_reverse(&a, "zen.test", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
			 ".8.b.d.0.1.0.0.2.zen.test");
	ck_assert_int_eq(netaddr_reverse(&a, "zen.test", small,
					 sizeof(small)), -1);
	ck_assert_int_eq(netaddr_parse("192.0.2.1", &a), 0);
	ck_assert_int_eq(netaddr_reverse(&a, "a-long-zone.example", small,
					 sizeof(small)), -1);
}
END_TEST

START_TEST(test_bad_addr)
{
	struct netaddr a;
	char longish[200];

	memset(longish, '1', sizeof(longish) - 1);
	longish[sizeof(longish) - 1] = '\0';
	ck_assert_int_eq(netaddr_parse("", &a), -1);
	ck_assert_int_eq(netaddr_parse("1.2.3", &a), -1);
	ck_assert_int_eq(netaddr_parse(longish, &a), -1);
	ck_assert_int_eq(netaddr_parse("[]", &a), -1);
	ck_assert_int_eq(netaddr_parse("::ffff:1.2.3.4", &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
}
END_TEST

Suite *
netaddr_suite(void)
{
	Suite *s = suite_create("netaddr");
	TCase *tc = tcase_create("netaddr");

	tcase_add_loop_test(tc, test_match, 0,
			    sizeof(matches) / sizeof(matches[0]));
	tcase_add_loop_test(tc, test_bad_list, 0,
			    sizeof(bad_lists) / sizeof(bad_lists[0]));
	tcase_add_test(tc, test_bad_addr);
	tcase_add_test(tc, test_reverse);
	suite_add_tcase(s, tc);
	return s;
}
