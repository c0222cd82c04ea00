/* SPDX-License-Identifier: MIT */
/* Unit tests for microkernel/core/timerq.c: ordering, periodic re-arming,
 * missed periods, cancellation, and the end of time. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/timerq.h"

static struct timerq q;
static struct timer_node a, b, c;

static void setup(void)
{
    q.head = NULL;
    a = (struct timer_node){ 0 };
    b = (struct timer_node){ 0 };
    c = (struct timer_node){ 0 };
}

START_TEST(test_empty)
{
    uint64_t n = 99;
    ck_assert_ptr_null(timerq_expire(&q, UINT64_MAX, &n));
    ck_assert_uint_eq(n, 99);
    ck_assert_uint_eq(timerq_next(&q), UINT64_MAX);
}
END_TEST

START_TEST(test_order)
{
    uint64_t n;
    timerq_arm(&q, &a, 300, 0);
    timerq_arm(&q, &b, 100, 0);
    timerq_arm(&q, &c, 200, 0);
    ck_assert_uint_eq(timerq_next(&q), 100);
    ck_assert_ptr_null(timerq_expire(&q, 99, &n));
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &b);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &c);
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &a);
    ck_assert_ptr_null(timerq_expire(&q, 1000, &n));
    ck_assert(!a.armed && !b.armed && !c.armed);
}
END_TEST

START_TEST(test_equal_deadlines_fifo)
{
    uint64_t n;
    timerq_arm(&q, &a, 100, 0);
    timerq_arm(&q, &b, 100, 0);
    ck_assert_ptr_eq(timerq_expire(&q, 100, &n), &a);
    ck_assert_ptr_eq(timerq_expire(&q, 100, &n), &b);
}
END_TEST

START_TEST(test_periodic)
{
    uint64_t n;
    timerq_arm(&q, &a, 1000, 100);
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &a);
    ck_assert_uint_eq(n, 1);
    ck_assert(a.armed);
    ck_assert_uint_eq(a.deadline, 1100);
    ck_assert_ptr_null(timerq_expire(&q, 1099, &n));
    ck_assert_ptr_eq(timerq_expire(&q, 1100, &n), &a);
    ck_assert_uint_eq(a.deadline, 1200);
}
END_TEST

START_TEST(test_missed_periods_counted)
{
    uint64_t n;
    timerq_arm(&q, &a, 1000, 100);
    ck_assert_ptr_eq(timerq_expire(&q, 1550, &n), &a);
    ck_assert_uint_eq(n, 6);                /* 1000, 1100, ..., 1500 */
    ck_assert_uint_eq(a.deadline, 1600);    /* first deadline after now */
    ck_assert_ptr_null(timerq_expire(&q, 1550, &n));
}
END_TEST

START_TEST(test_cancel)
{
    uint64_t n;
    timerq_arm(&q, &a, 100, 0);
    timerq_arm(&q, &b, 200, 0);
    timerq_cancel(&q, &a);
    ck_assert(!a.armed);
    timerq_cancel(&q, &a);                  /* twice is harmless */
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &b);
    ck_assert_ptr_null(timerq_expire(&q, 1000, &n));
}
END_TEST

START_TEST(test_rearm_moves)
{
    uint64_t n;
    timerq_arm(&q, &a, 100, 0);
    timerq_arm(&q, &b, 200, 0);
    timerq_arm(&q, &a, 300, 0);             /* re-arm: no duplicate entry */
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &b);
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &a);
    ck_assert_ptr_null(timerq_expire(&q, 1000, &n));
}
END_TEST

START_TEST(test_end_of_time)
{
    uint64_t n;
    timerq_arm(&q, &a, UINT64_MAX - 10, 100);
    ck_assert_ptr_eq(timerq_expire(&q, UINT64_MAX, &n), &a);
    ck_assert_uint_eq(n, 1);
    ck_assert(!a.armed);                    /* would wrap: stays disarmed */
    ck_assert_ptr_null(timerq_expire(&q, UINT64_MAX, &n));
}
END_TEST

START_TEST(test_random_against_model)
{
    /* Many nodes, random deadlines: expiry order is sorted by deadline. */
    static struct timer_node nodes[200];
    srand(7);
    for (int i = 0; i < 200; i++) {
        nodes[i] = (struct timer_node){ 0 };
        timerq_arm(&q, &nodes[i], (uint64_t)(rand() % 10000), 0);
    }
    uint64_t last = 0, n;
    int count = 0;
    struct timer_node *x;
    while ((x = timerq_expire(&q, 10000, &n))) {
        ck_assert_uint_ge(x->deadline, last);
        last = x->deadline;
        count++;
    }
    ck_assert_int_eq(count, 200);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timerq");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_equal_deadlines_fifo);
    tcase_add_test(tc, test_periodic);
    tcase_add_test(tc, test_missed_periods_counted);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_rearm_moves);
    tcase_add_test(tc, test_end_of_time);
    tcase_add_test(tc, test_random_against_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
