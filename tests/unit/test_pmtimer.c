/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/pmtimer.c: rate, width, byte reads. */
#include <check.h>

#include "pmtimer.h"

#define S 1000000000ull

START_TEST(test_rate)
{
    ck_assert_uint_eq(pmtimer_value(true, 0), 0);
    ck_assert_uint_eq(pmtimer_value(true, S), PMTIMER_HZ);
    ck_assert_uint_eq(pmtimer_value(true, S / 1000), 3579);    /* 3579.545 per ms */
    ck_assert_uint_eq(pmtimer_value(true, 2 * S - 1), 2 * PMTIMER_HZ - 1);
    /* One tick is 279.4 ns. */
    ck_assert_uint_eq(pmtimer_value(true, 279), 0);
    ck_assert_uint_eq(pmtimer_value(true, 280), 1);
}
END_TEST

START_TEST(test_width)
{
    /* 2^24 ticks = 4.687 s: the 24-bit counter wraps, the 32-bit one not. */
    uint64_t t = 5 * S;
    ck_assert_uint_eq(pmtimer_value(true, t), 5 * PMTIMER_HZ);
    ck_assert_uint_eq(pmtimer_value(false, t), (5 * PMTIMER_HZ) & 0xFFFFFF);
    ck_assert_uint_lt(pmtimer_value(false, 3600 * S), 1u << 24);
    /* The 32-bit counter wraps after 1199.8 s. */
    ck_assert_uint_eq(pmtimer_value(true, 1200 * S), (uint32_t)(1200ull * PMTIMER_HZ));
}
END_TEST

START_TEST(test_reads)
{
    uint64_t t = 3 * S + 123456;
    uint32_t v = pmtimer_value(false, t);
    ck_assert_uint_eq(pmtimer_read(false, 0, 4, t), v);
    ck_assert_uint_eq(pmtimer_read(false, 0, 2, t), v & 0xFFFF);
    ck_assert_uint_eq(pmtimer_read(false, 1, 1, t), (v >> 8) & 0xFF);
    ck_assert_uint_eq(pmtimer_read(false, 2, 2, t), v >> 16);
    ck_assert_uint_eq(pmtimer_read(false, 3, 1, t), 0);        /* bits 31:24 of a 24-bit timer */
    ck_assert_uint_eq(pmtimer_read(false, 4, 4, t), 0xFFFFFFFFu);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pmtimer");
    TCase *tc = tcase_create("pmtimer");
    tcase_add_test(tc, test_rate);
    tcase_add_test(tc, test_width);
    tcase_add_test(tc, test_reads);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
