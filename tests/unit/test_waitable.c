/* SPDX-License-Identifier: MIT */
/* Unit tests for the readiness state machine (microkernel/core/waitable.h):
 * counting events/timers and level-triggered processes/threads. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/waitable.h"

START_TEST(test_counting_starts_not_ready)
{
    struct waitable w;
    uint64_t v = 5;
    waitable_init(&w, false);
    ck_assert(!waitable_take(&w, &v));
    ck_assert_uint_eq(v, 5);                /* untouched when not ready */
}
END_TEST

START_TEST(test_counting_takes_all)
{
    struct waitable w;
    uint64_t v;
    waitable_init(&w, false);
    waitable_signal(&w, 1);
    waitable_signal(&w, 1);
    waitable_signal(&w, 3);
    ck_assert(waitable_take(&w, &v));
    ck_assert_uint_eq(v, 5);
    ck_assert(!waitable_take(&w, &v));      /* auto-reset */
}
END_TEST

START_TEST(test_counting_no_lost_signal)
{
    /* A signal between two takes is seen by the second take. */
    struct waitable w;
    uint64_t v, total = 0;
    waitable_init(&w, false);
    for (int i = 0; i < 1000; i++) {
        waitable_signal(&w, 1);
        if (i % 3 == 0 && waitable_take(&w, &v))
            total += v;
    }
    if (waitable_take(&w, &v))
        total += v;
    ck_assert_uint_eq(total, 1000);
}
END_TEST

START_TEST(test_counting_saturates)
{
    struct waitable w;
    uint64_t v;
    waitable_init(&w, false);
    waitable_signal(&w, UINT64_MAX - 1);
    waitable_signal(&w, 5);
    ck_assert(waitable_take(&w, &v));
    ck_assert_uint_eq(v, UINT64_MAX);       /* never wraps to "not ready" */
}
END_TEST

START_TEST(test_level_stays_ready)
{
    struct waitable w;
    uint64_t v = 0;
    waitable_init(&w, true);
    ck_assert(!waitable_take(&w, &v));
    waitable_finish(&w, 42);
    for (int i = 0; i < 3; i++) {
        v = 0;
        ck_assert(waitable_take(&w, &v));
        ck_assert_uint_eq(v, 42);
    }
}
END_TEST

START_TEST(test_level_ignores_signals)
{
    struct waitable w;
    uint64_t v;
    waitable_init(&w, true);
    waitable_signal(&w, 7);
    ck_assert(!waitable_take(&w, &v));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("waitable");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_counting_starts_not_ready);
    tcase_add_test(tc, test_counting_takes_all);
    tcase_add_test(tc, test_counting_no_lost_signal);
    tcase_add_test(tc, test_counting_saturates);
    tcase_add_test(tc, test_level_stays_ready);
    tcase_add_test(tc, test_level_ignores_signals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
