/* check_util - util.c: sizes, booleans, sanitizing, sbuf */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "util.h"

static const struct { const char *in; long long want; } sizes[] = {
	{ "0", 0 }, { "10240000", 10240000 }, { "10k", 10240 },
	{ "10K", 10240 }, { "50M", 52428800 }, { "1G", 1073741824 },
	{ "2kb", 2048 }, { "", -1 }, { "-1", -1 }, { "10x", -1 },
	{ "k", -1 }, { " 10", -1 }, { "10 M", -1 },
	{ "99999999999999999999999", -1 }, { "9999999999G", -1 },
};

START_TEST(test_parse_size)
{
	ck_assert_int_eq(util_parse_size(sizes[_i].in), sizes[_i].want);
}
END_TEST

START_TEST(test_parse_bool)
{
	ck_assert_int_eq(util_parse_bool("yes"), 1);
	ck_assert_int_eq(util_parse_bool("ON"), 1);
	ck_assert_int_eq(util_parse_bool("0"), 0);
	ck_assert_int_eq(util_parse_bool("false"), 0);
	ck_assert_int_eq(util_parse_bool("maybe"), -1);
	ck_assert_int_eq(util_parse_bool(""), -1);
}
END_TEST

START_TEST(test_sanitize)
{
	char out[32];

	util_sanitize(out, sizeof(out), "a\r\nb\0c", 6);
	ck_assert_str_eq(out, "a\\x0d\\x0ab\\x00c");
	util_sanitize(out, 8, "abcdefghijkl", 12);
	ck_assert_str_eq(out, "abcdefg");
	util_sanitize(out, 6, "ab\x01\x02", 4);	/* no half escape */
	ck_assert_str_eq(out, "ab");
}
END_TEST

START_TEST(test_sbuf)
{
	struct sbuf b;
	char *s;

	sbuf_init(&b);
	for (int i = 0; i < 1000; i++)
		sbuf_printf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	sbuf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	sbuf_append(&b, "x\0y", 3);
	ck_assert_uint_eq(b.len, 3);
	s = sbuf_steal(&b);
	ck_assert_int_eq(s[2], 'y');
	free(s);
	ck_assert_ptr_null(b.data);
	sbuf_free(&b);
}
END_TEST

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* the radix sort against qsort: short and long runs, repeats, values
 * sharing their high bytes (skipped passes), the extremes */
START_TEST(test_sort_unique_u64)
{
	static const size_t lens[] = { 0, 1, 2, 63, 64, 65, 1000, 40000 };
	uint64_t seed = 0x243f6a8885a308d3ULL;

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
		for (int shape = 0; shape < 3; shape++) {
			size_t n = lens[k], m, e = 0;
			uint64_t *a = malloc((n + 1) * sizeof(*a));
			uint64_t *b = malloc((n + 1) * sizeof(*b));

			for (size_t i = 0; i < n; i++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				a[i] = shape == 0 ? seed : shape == 1 ?
				    seed % 50 : (seed & 0xffff) |
				    0xabcd000000000000ULL;
				if (i % 97 == 5)
					a[i] = i % 2 ? UINT64_MAX : 0;
			}
			memcpy(b, a, n * sizeof(*a));
			qsort(b, n, sizeof(*b), u64_cmp);
			for (size_t i = 0; i < n; i++)
				if (e == 0 || b[e - 1] != b[i])
					b[e++] = b[i];
			m = util_sort_unique_u64(a, n);
			ck_assert_msg(m == e, "n %zu shape %d: %zu, want %zu",
				      n, shape, m, e);
			ck_assert(m == 0 || memcmp(a, b, m * sizeof(*a)) == 0);
			free(a);
			free(b);
		}
}
END_TEST

START_TEST(test_trim)
{
	char s[] = "  \t key = value \n";

	ck_assert_str_eq(util_trim(s), "key = value");
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_loop_test(tc, test_parse_size, 0,
			    sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_test(tc, test_parse_bool);
	tcase_add_test(tc, test_sanitize);
	tcase_add_test(tc, test_sbuf);
	tcase_add_test(tc, test_trim);
	tcase_add_test(tc, test_sort_unique_u64);
	suite_add_tcase(s, tc);
	return s;
}
