/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/hpet.c: capabilities, the main counter,
 * one-shot and periodic comparators, level and edge interrupts, status
 * write-1-to-clear, 32-bit mode and routing, on a fake clock. */
#include <check.h>

#include "hpet.h"

#define US 1000ull
#define MS 1000000ull
#define T0 (7000 * MS)

static struct hpet h;

static void setup(void)
{
    hpet_reset(&h);
}

static uint64_t rd(uint64_t offset, uint64_t now)
{
    return hpet_read(&h, offset, 8, now);
}

static void wr(uint64_t offset, uint64_t value, uint64_t now)
{
    hpet_write(&h, offset, 8, value, now);
}

static uint64_t tcfg(unsigned n)
{
    return HPET_TIMER(n) + HPET_TN_CONFIG;
}

static uint64_t tcmp(unsigned n)
{
    return HPET_TIMER(n) + HPET_TN_CMP;
}

START_TEST(test_capabilities)
{
    uint64_t cap = rd(HPET_CAP, T0);
    ck_assert_uint_eq(cap & 0xFF, 1);                  /* revision */
    ck_assert_uint_eq((cap >> 8) & 0x1F, 2);           /* 3 timers */
    ck_assert_uint_eq((cap >> 13) & 1, 1);             /* 64-bit counter */
    ck_assert_uint_eq((cap >> 15) & 1, 1);             /* legacy replacement */
    ck_assert_uint_eq((cap >> 16) & 0xFFFF, 0x8086);
    ck_assert_uint_eq(cap >> 32, 10000000);            /* 10 ns */
    ck_assert_uint_eq(cap, 0x009896808086A201ull);     /* QEMU's value */
    ck_assert_uint_eq(hpet_read(&h, HPET_CAP + 4, 4, T0), 10000000);
    ck_assert_uint_eq(rd(HPET_CONFIG, T0), 0);
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        ck_assert_uint_eq(rd(tcfg(n), T0), 0x0000000400000030ull);
        ck_assert_uint_eq(rd(tcmp(n), T0), UINT64_MAX);
    }
    /* Read-only capability bits stay. */
    wr(tcfg(0), 0, T0);
    ck_assert_uint_eq(rd(tcfg(0), T0), 0x0000000400000030ull);
    /* Bad sizes and alignment read 0. */
    ck_assert_uint_eq(hpet_read(&h, HPET_CAP, 2, T0), 0);
    ck_assert_uint_eq(hpet_read(&h, HPET_CAP + 2, 4, T0), 0);
}
END_TEST

START_TEST(test_counter)
{
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + MS), 0);   /* halted */
    wr(HPET_COUNTER, 1000, T0);
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + MS), 1000);
    wr(HPET_CONFIG, HPET_CFG_ENABLE, T0);
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + 1 * MS), 1000 + 100000);   /* 100 MHz */
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + 1000 * MS), 1000 + 100000000);
    wr(HPET_COUNTER, 5, T0 + 2 * MS);                   /* ignored while running */
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + 2 * MS), 1000 + 200000);
    wr(HPET_CONFIG, 0, T0 + 3 * MS);                    /* halt */
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + 9 * MS), 1000 + 300000);
    /* 32-bit halves. */
    hpet_write(&h, HPET_COUNTER + 4, 4, 0x12, T0);
    ck_assert_uint_eq(rd(HPET_COUNTER, T0), 0x12ull << 32 | (1000 + 300000));
    ck_assert_uint_eq(hpet_read(&h, HPET_COUNTER + 4, 4, T0), 0x12);
    wr(HPET_CONFIG, HPET_CFG_ENABLE, T0 + 10 * MS);
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + 10 * MS + 10), (0x12ull << 32) + 301000 + 1);
}
END_TEST

START_TEST(test_oneshot_edge)
{
    wr(tcmp(2), 50000, T0);                             /* 500 us */
    wr(tcfg(2), HPET_TN_INT_ENB | 2u << HPET_TN_ROUTE_SHIFT, T0);
    ck_assert_uint_eq(hpet_next_deadline(&h, T0), HPET_NEVER);   /* halted */
    wr(HPET_CONFIG, HPET_CFG_ENABLE, T0);
    ck_assert_uint_eq(hpet_next_deadline(&h, T0), T0 + 500 * US);
    ck_assert_uint_eq(hpet_timer_gsi(&h, 2), 2);
    hpet_advance(&h, T0 + 499 * US);
    ck_assert_uint_eq(hpet_take_edges(&h), 0);
    hpet_advance(&h, T0 + 500 * US);
    ck_assert_uint_eq(hpet_take_edges(&h), 1u << 2);
    ck_assert_uint_eq(rd(HPET_STATUS, T0 + 500 * US), 0);   /* edge: no status */
    /* Once: the next match is a full 64-bit wrap away. */
    hpet_advance(&h, T0 + 900 * MS);
    ck_assert_uint_eq(hpet_take_edges(&h), 0);
    ck_assert_uint_eq(hpet_next_deadline(&h, T0 + 900 * MS), HPET_NEVER);
    /* A comparator behind the counter does not fire. */
    wr(tcmp(2), 10, T0 + 901 * MS);
    hpet_advance(&h, T0 + 902 * MS);
    ck_assert_uint_eq(hpet_take_edges(&h), 0);
}
END_TEST

START_TEST(test_periodic)
{
    wr(HPET_CONFIG, HPET_CFG_ENABLE, T0);
    /* Linux's way: SETVAL, comparator, then the period alone. */
    wr(tcfg(0), HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_SETVAL, T0);
    wr(tcmp(0), 100000, T0);                            /* first match at 1 ms */
    wr(tcmp(0), 100000, T0);                            /* period (SETVAL cleared) */
    ck_assert_uint_eq(rd(tcfg(0), T0) & HPET_TN_SETVAL, 0);
    ck_assert_uint_eq(rd(tcmp(0), T0), 100000);
    unsigned fired = 0;
    for (uint64_t t = T0; t <= T0 + 10 * MS; t += 100 * US) {
        hpet_advance(&h, t);
        fired += hpet_take_edges(&h) & 1u;
    }
    ck_assert_uint_eq(fired, 10);
    ck_assert_uint_eq(rd(tcmp(0), T0 + 10 * MS), 1100000);
    ck_assert_uint_eq(hpet_next_deadline(&h, T0 + 10 * MS), T0 + 11 * MS);
    /* Missed periods are caught up with one interrupt. */
    hpet_advance(&h, T0 + 15 * MS + 500 * US);
    ck_assert_uint_eq(hpet_take_edges(&h), 1);
    ck_assert_uint_eq(rd(tcmp(0), T0 + 15 * MS + 500 * US), 1600000);
    /* Without SETVAL a periodic comparator write sets only the period. */
    wr(tcmp(0), 50000, T0 + 15 * MS + 500 * US);
    ck_assert_uint_eq(rd(tcmp(0), T0 + 15 * MS + 600 * US), 1600000);
    hpet_advance(&h, T0 + 16 * MS);
    ck_assert_uint_eq(rd(tcmp(0), T0 + 16 * MS), 1650000);
}
END_TEST

START_TEST(test_level_status)
{
    wr(HPET_CONFIG, HPET_CFG_ENABLE, T0);
    wr(tcmp(1), 1000, T0);
    wr(tcfg(1), HPET_TN_INT_ENB | HPET_TN_LEVEL, T0);
    hpet_advance(&h, T0 + 10 * US);
    ck_assert(hpet_level(&h, 1));
    ck_assert_uint_eq(hpet_take_edges(&h), 0);
    ck_assert_uint_eq(rd(HPET_STATUS, T0 + 20 * US), 2);
    wr(HPET_STATUS, 1, T0 + 20 * US);                   /* another bit: no effect */
    ck_assert(hpet_level(&h, 1));
    wr(HPET_STATUS, 2, T0 + 20 * US);                   /* write 1 to clear */
    ck_assert(!hpet_level(&h, 1));
    ck_assert_uint_eq(rd(HPET_STATUS, T0 + 30 * US), 0);
    /* Disabled interrupt: the comparator matches, nothing is asserted. */
    wr(tcmp(1), 5000, T0 + 30 * US);
    wr(tcfg(1), HPET_TN_LEVEL, T0 + 30 * US);
    hpet_advance(&h, T0 + 100 * US);
    ck_assert(!hpet_level(&h, 1));
    /* Turning the interrupt off withdraws a pending level. */
    wr(tcmp(1), 20000, T0 + 100 * US);
    wr(tcfg(1), HPET_TN_INT_ENB | HPET_TN_LEVEL, T0 + 100 * US);
    hpet_advance(&h, T0 + 300 * US);
    ck_assert(hpet_level(&h, 1));
    wr(tcfg(1), HPET_TN_LEVEL, T0 + 300 * US);
    ck_assert(!hpet_level(&h, 1));
}
END_TEST

START_TEST(test_32bit_mode)
{
    wr(HPET_COUNTER, 0xFFFFFF00ull, T0);
    wr(tcfg(0), HPET_TN_INT_ENB | HPET_TN_32BIT, T0);
    ck_assert_uint_eq(rd(tcmp(0), T0), 0xFFFFFFFFull);   /* truncated */
    wr(tcmp(0), 0x1234500000010ull, T0);                /* high bits dropped */
    ck_assert_uint_eq(rd(tcmp(0), T0), 0x10);
    wr(HPET_CONFIG, HPET_CFG_ENABLE, T0);
    /* The match is in 32 bits: 0x10 comes 0x110 ticks later, at the wrap. */
    ck_assert_uint_eq(hpet_next_deadline(&h, T0), T0 + 0x110 * 10);
    hpet_advance(&h, T0 + 0x10F * 10);
    ck_assert_uint_eq(hpet_take_edges(&h), 0);
    hpet_advance(&h, T0 + 0x110 * 10);
    ck_assert_uint_eq(hpet_take_edges(&h), 1);
    ck_assert_uint_eq(rd(HPET_COUNTER, T0 + 0x110 * 10), 0x100000010ull);
    /* A 32-bit write to a 64-bit comparator sets the low half only. */
    wr(tcfg(1), 0, T0);
    hpet_write(&h, tcmp(1), 4, 0x100, T0);
    ck_assert_uint_eq(rd(tcmp(1), T0), 0xFFFFFFFF00000100ull);
    /* A 32-bit periodic timer wraps its comparator in 32 bits. */
    wr(tcfg(0), HPET_TN_INT_ENB | HPET_TN_32BIT | HPET_TN_PERIODIC | HPET_TN_SETVAL, T0 + 0x110 * 10);
    hpet_write(&h, tcmp(0), 4, 0x20, T0 + 0x110 * 10);
    hpet_write(&h, tcmp(0), 4, 0xFFFFFFF0u, T0 + 0x110 * 10);   /* period */
    hpet_advance(&h, T0 + 0x120 * 10);
    ck_assert_uint_eq(hpet_take_edges(&h), 1);
    ck_assert_uint_eq(rd(tcmp(0), T0 + 0x120 * 10), 0x10);
}
END_TEST

START_TEST(test_legacy_routing)
{
    wr(tcfg(0), 5u << HPET_TN_ROUTE_SHIFT, T0);
    wr(tcfg(1), 2u << HPET_TN_ROUTE_SHIFT, T0);
    ck_assert_uint_eq(hpet_timer_gsi(&h, 0), 5);
    ck_assert_uint_eq(hpet_timer_gsi(&h, 1), 2);
    wr(HPET_CONFIG, HPET_CFG_LEGACY, T0);
    ck_assert_uint_eq(rd(HPET_CONFIG, T0), HPET_CFG_LEGACY);
    ck_assert_uint_eq(hpet_timer_gsi(&h, 0), 2);        /* ISA IRQ 0 */
    ck_assert_uint_eq(hpet_timer_gsi(&h, 1), 8);        /* ISA IRQ 8 */
    wr(tcfg(2), 2u << HPET_TN_ROUTE_SHIFT, T0);
    ck_assert_uint_eq(hpet_timer_gsi(&h, 2), 2);
    /* FSB enable is not writable (no FSB capability). */
    wr(tcfg(2), 1u << 14, T0);
    ck_assert_uint_eq(rd(tcfg(2), T0) & (1u << 14), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hpet");
    TCase *tc = tcase_create("hpet");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_capabilities);
    tcase_add_test(tc, test_counter);
    tcase_add_test(tc, test_oneshot_edge);
    tcase_add_test(tc, test_periodic);
    tcase_add_test(tc, test_level_status);
    tcase_add_test(tc, test_32bit_mode);
    tcase_add_test(tc, test_legacy_routing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
