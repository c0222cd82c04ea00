/* SPDX-License-Identifier: MIT */
/* Unit tests for microkernel/core/timerq.c: ordering, periodic re-arming,
 * missed periods, cancellation (also from the middle of the heap), equal
 * deadlines, the end of time, and the heap's shape and links after random
 * operations on many nodes, checked against a plain model. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/timerq.h"

static struct timerq q;
static struct timer_node a, b, c;

/* The earliest deadline, UINT64_MAX if none: the root holds it. */
static uint64_t timerq_next(const struct timerq *tq)
{
    return tq->root ? tq->root->deadline : UINT64_MAX;
}

static void setup(void)
{
    q = (struct timerq){ 0 };
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

/* Walks the tree: every link is mirrored by its parent pointer, every node
 * is armed and not earlier than its parent, and the tree is complete (the
 * array-heap positions 1..count are all used).  Returns the node count. */
static uint64_t check_subtree(const struct timer_node *x, const struct timer_node *parent,
                              uint64_t position, uint64_t *max_position)
{
    if (!x)
        return 0;
    ck_assert_ptr_eq(x->parent, parent);
    ck_assert(x->armed);
    if (parent)
        ck_assert_uint_ge(x->deadline, parent->deadline);
    if (position > *max_position)
        *max_position = position;
    return 1 + check_subtree(x->left, x, 2 * position, max_position) +
           check_subtree(x->right, x, 2 * position + 1, max_position);
}

static void check_heap(void)
{
    uint64_t max_position = 0;
    ck_assert_uint_eq(check_subtree(q.root, NULL, 1, &max_position), q.count);
    ck_assert_uint_eq(max_position, q.count);
}

START_TEST(test_equal_deadlines)
{
    /* Equal deadlines expire in no particular order, but all of them, once. */
    static struct timer_node same[100];
    uint64_t n;
    for (int i = 0; i < 100; i++) {
        same[i] = (struct timer_node){ 0 };
        timerq_arm(&q, &same[i], 500, 0);
    }
    timerq_arm(&q, &a, 499, 0);
    timerq_arm(&q, &b, 501, 0);
    check_heap();
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &a);
    for (int i = 0; i < 100; i++) {
        struct timer_node *x = timerq_expire(&q, 1000, &n);
        ck_assert(x >= &same[0] && x < &same[100]);
        ck_assert(!x->armed);
        check_heap();
    }
    ck_assert_ptr_eq(timerq_expire(&q, 1000, &n), &b);
    ck_assert_ptr_null(timerq_expire(&q, 1000, &n));
    ck_assert_uint_eq(q.count, 0);
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

START_TEST(test_cancel_from_the_middle)
{
    /* 31 nodes make a full tree of 5 levels; cancel inner nodes, leaves and
     * the root, and the rest still come out in order. */
    static struct timer_node nodes[31];
    uint64_t n;
    for (int i = 0; i < 31; i++) {
        nodes[i] = (struct timer_node){ 0 };
        timerq_arm(&q, &nodes[i], (uint64_t)(31 - i) * 10, 0);
    }
    check_heap();
    static const int gone[] = { 15, 3, 30, 0, 22, 7 };
    for (unsigned i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        timerq_cancel(&q, &nodes[gone[i]]);
        ck_assert(!nodes[gone[i]].armed);
        ck_assert_ptr_null(nodes[gone[i]].parent);
        check_heap();
    }
    ck_assert_uint_eq(q.count, 25);
    uint64_t last = 0;
    struct timer_node *x;
    while ((x = timerq_expire(&q, 1000, &n))) {
        for (unsigned i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
            ck_assert_ptr_ne(x, &nodes[gone[i]]);
        ck_assert_uint_gt(x->deadline, last);
        last = x->deadline;
        check_heap();
    }
    ck_assert_uint_eq(q.count, 0);
}
END_TEST

START_TEST(test_periodic_once_per_call)
{
    /* Many periodic nodes with a period far below the time that passed:
     * one expire-until-NULL pass returns each exactly once, with all its
     * missed expirations, and leaves it armed after now. */
    static struct timer_node nodes[64];
    uint64_t n, seen = 0;
    for (int i = 0; i < 64; i++) {
        nodes[i] = (struct timer_node){ 0 };
        timerq_arm(&q, &nodes[i], 1000, 100);
    }
    struct timer_node *x;
    while ((x = timerq_expire(&q, 1999, &n))) {
        ck_assert_uint_eq(n, 10);           /* 1000, 1100, ..., 1900 */
        ck_assert_uint_eq(x->deadline, 2000);
        ck_assert(x->armed);
        seen++;
    }
    ck_assert_uint_eq(seen, 64);
    ck_assert_uint_eq(q.count, 64);
    check_heap();
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

START_TEST(test_random_operations)
{
    /* Random arm (one-shot and periodic), re-arm, cancel and expire on 1000
     * nodes, against a model that only knows each node's deadline: every
     * expiry is a node with the earliest deadline, and due. */
    enum { N = 1000 };
    static struct timer_node nodes[N];
    static uint64_t deadline[N], period[N];
    static bool armed[N];
    uint64_t now = 0, n;
    srand(13);
    for (int i = 0; i < N; i++) {
        nodes[i] = (struct timer_node){ 0 };
        armed[i] = false;
    }
    for (int step = 0; step < 100000; step++) {
        int i = rand() % N, op = rand() % 8;
        if (op < 4) {
            deadline[i] = now + (uint64_t)(rand() % 5000);
            period[i] = op == 0 ? 1 + (uint64_t)(rand() % 300) : 0;
            armed[i] = true;
            timerq_arm(&q, &nodes[i], deadline[i], period[i]);
        } else if (op < 6) {
            armed[i] = false;
            timerq_cancel(&q, &nodes[i]);
        } else {
            now += (uint64_t)(rand() % 20);
            struct timer_node *x;
            while ((x = timerq_expire(&q, now, &n))) {
                int k = (int)(x - nodes);
                ck_assert(armed[k]);
                ck_assert_uint_le(deadline[k], now);
                uint64_t earliest = UINT64_MAX;   /* ck_assert is slow: one per expiry */
                for (int j = 0; j < N; j++)
                    earliest = armed[j] && deadline[j] < earliest ? deadline[j] : earliest;
                ck_assert_uint_eq(deadline[k], earliest);
                ck_assert_uint_eq(n, period[k] ? (now - deadline[k]) / period[k] + 1 : 1);
                deadline[k] += n * period[k];
                armed[k] = period[k] != 0;
                ck_assert(x->armed == armed[k]);
            }
        }
        if (step % 1000 == 0)
            check_heap();
    }
    uint64_t count = 0;
    for (int j = 0; j < N; j++)
        count += armed[j];
    ck_assert_uint_eq(q.count, count);
    check_heap();
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
    tcase_add_test(tc, test_equal_deadlines);
    tcase_add_test(tc, test_periodic);
    tcase_add_test(tc, test_missed_periods_counted);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_cancel_from_the_middle);
    tcase_add_test(tc, test_periodic_once_per_call);
    tcase_add_test(tc, test_rearm_moves);
    tcase_add_test(tc, test_end_of_time);
    tcase_add_test(tc, test_random_against_model);
    tcase_add_test(tc, test_random_operations);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
