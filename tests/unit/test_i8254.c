/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/i8254.c: the PIT's modes, access modes,
 * latches, read-back, BCD, gates, edges and port 0x61, on a fake clock. */
#include <check.h>

#include "devclock.h"
#include "i8254.h"

#define MS 1000000ull
#define T0 (5000 * MS)   /* the fake clock does not start at 0 */

static struct i8254 pit;

/* Host time of `clocks` PIT input clocks after t (rounded up, so that at
 * least that many clocks have passed). */
static uint64_t after(uint64_t t, uint64_t clocks)
{
    return t + devclock_ns(clocks, I8254_HZ);
}

static void setup(void)
{
    i8254_reset(&pit, T0);
}

static void control(uint8_t v, uint64_t now)
{
    i8254_write(&pit, 3, v, now);
}

static void load_word(unsigned ch, uint16_t count, uint64_t now)
{
    i8254_write(&pit, ch, (uint8_t)count, now);
    i8254_write(&pit, ch, (uint8_t)(count >> 8), now);
}

static uint16_t read_word(unsigned ch, uint64_t now)
{
    uint16_t lo = i8254_read(&pit, ch, now);
    return (uint16_t)(lo | i8254_read(&pit, ch, now) << 8);
}

START_TEST(test_devclock)
{
    ck_assert_uint_eq(devclock_ticks(1000000000ull, I8254_HZ), I8254_HZ);
    ck_assert_uint_eq(devclock_ticks(999999999ull, I8254_HZ), I8254_HZ - 1);
    /* One hour: no overflow, exact. */
    ck_assert_uint_eq(devclock_ticks(3600ull * 1000000000ull, I8254_HZ), 3600ull * I8254_HZ);
    for (uint64_t t = 1; t < 100000; t += 977)
        ck_assert_uint_ge(devclock_ticks(devclock_ns(t, I8254_HZ), I8254_HZ), t);
    ck_assert_uint_eq(devclock_ticks(devclock_ns(1193, I8254_HZ) - 1, I8254_HZ), 1192);
}
END_TEST

START_TEST(test_unprogrammed)
{
    ck_assert_uint_eq(i8254_clocks(&pit, 0, after(T0, 100000)), I8254_NEVER);
    ck_assert_uint_eq(i8254_next_rise(&pit, 0, 0), I8254_NEVER);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(T0, 1000000)), 0);
    ck_assert_uint_eq(i8254_read(&pit, 3, T0), 0);   /* control port reads 0 */
}
END_TEST

START_TEST(test_mode2_rate)
{
    /* Channel 0, LSB then MSB, mode 2, binary: count 1193 (1 kHz). */
    control(0x34, T0);
    load_word(0, 1193, T0);
    ck_assert_uint_eq(i8254_period(&pit, 0), 1193);
    ck_assert_uint_eq(read_word(0, T0), 1193);
    ck_assert_uint_eq(read_word(0, after(T0, 100)), 1093);
    /* The counter runs N..1, then reloads. */
    ck_assert_uint_eq(read_word(0, after(T0, 1192)), 1);
    ck_assert_uint_eq(read_word(0, after(T0, 1193)), 1193);
    /* OUT low only while the counter is 1. */
    ck_assert(i8254_out(&pit, 0, after(T0, 1191)));
    ck_assert(!i8254_out(&pit, 0, after(T0, 1192)));
    ck_assert(i8254_out(&pit, 0, after(T0, 1193)));
    /* One rising edge per period: 1000 in (just under) one second. */
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(T0, 1193 * 1000 - 1)), 999);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(T0, 1193 * 1000)), 1);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(T0, 1193 * 1000)), 0);
    /* The next edge after the ones taken. */
    ck_assert_uint_eq(i8254_next_rise(&pit, 0, pit.ch[0].seen_d), after(T0, 1193 * 1001));
}
END_TEST

START_TEST(test_mode3_square)
{
    control(0x36, T0);          /* channel 0, word, mode 3 */
    load_word(0, 1000, T0);
    ck_assert(i8254_out(&pit, 0, T0));
    ck_assert(i8254_out(&pit, 0, after(T0, 499)));
    ck_assert(!i8254_out(&pit, 0, after(T0, 500)));
    ck_assert(!i8254_out(&pit, 0, after(T0, 999)));
    ck_assert(i8254_out(&pit, 0, after(T0, 1000)));
    /* The counter steps by two. */
    ck_assert_uint_eq(read_word(0, after(T0, 10)), 980);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(T0, 10000)), 10);
    /* Count 0 is 65536: 18.2 Hz. */
    control(0x36, T0);
    load_word(0, 0, T0);
    ck_assert_uint_eq(i8254_period(&pit, 0), 65536);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, T0 + 1000 * MS), 18);
}
END_TEST

START_TEST(test_mode0_oneshot)
{
    control(0x30, T0);          /* channel 0, word, mode 0 */
    ck_assert(!i8254_out(&pit, 0, T0));
    i8254_write(&pit, 0, 0x10, T0);   /* LSB: still waiting */
    ck_assert_uint_eq(i8254_clocks(&pit, 0, after(T0, 5)), I8254_NEVER);
    i8254_write(&pit, 0, 0x00, T0);   /* MSB: N = 16 */
    ck_assert(!i8254_out(&pit, 0, after(T0, 15)));
    ck_assert(i8254_out(&pit, 0, after(T0, 16)));
    ck_assert_uint_eq(i8254_next_rise(&pit, 0, 0), after(T0, 16));
    /* The counter wraps on after terminal count, OUT stays high. */
    ck_assert_uint_eq(read_word(0, after(T0, 17)), 0xFFFF);
    ck_assert(i8254_out(&pit, 0, after(T0, 70000)));
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(T0, 200000)), 1);
    ck_assert_uint_eq(i8254_next_rise(&pit, 0, pit.ch[0].seen_d), I8254_NEVER);
    /* Writing the first byte again stops it and drops OUT at once. */
    i8254_write(&pit, 0, 0x10, after(T0, 200000));
    ck_assert(!i8254_out(&pit, 0, after(T0, 200001)));
}
END_TEST

START_TEST(test_reprogram_keeps_due_edge)
{
    control(0x34, T0);
    load_word(0, 100, T0);
    /* 250 clocks later, before anyone took the edges, reprogram. */
    uint64_t t = after(T0, 250);
    control(0x34, t);
    load_word(0, 1000, t);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, t), 2);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(t, 999)), 0);
    ck_assert_uint_eq(i8254_take_rises(&pit, 0, after(t, 1000)), 1);
}
END_TEST

START_TEST(test_access_modes)
{
    control(0x50, T0);          /* channel 1, LSB only, mode 0 */
    i8254_write(&pit, 1, 0x80, T0);
    ck_assert_uint_eq(i8254_read(&pit, 1, after(T0, 0x10)), 0x70);
    ck_assert_uint_eq(i8254_read(&pit, 1, after(T0, 0x10)), 0x70);   /* no flip-flop */
    control(0x60, T0);          /* channel 1, MSB only, mode 0 */
    i8254_write(&pit, 1, 0x12, T0);   /* N = 0x1200 */
    ck_assert_uint_eq(i8254_count(&pit, 1, T0), 0x1200);
    ck_assert_uint_eq(i8254_read(&pit, 1, after(T0, 0x100)), 0x11);
    /* Word reads alternate LSB, MSB. */
    control(0x70, T0);
    load_word(1, 0xABCD, T0);
    ck_assert_uint_eq(i8254_read(&pit, 1, T0), 0xCD);
    ck_assert_uint_eq(i8254_read(&pit, 1, T0), 0xAB);
    ck_assert_uint_eq(i8254_read(&pit, 1, T0), 0xCD);
}
END_TEST

START_TEST(test_latch)
{
    control(0xB0, T0);          /* channel 2, word, mode 0 */
    i8254_set_gate(&pit, 2, true, T0);
    load_word(2, 0xFFFF, T0);
    control(0x80, after(T0, 100));   /* latch channel 2 */
    control(0x80, after(T0, 500));   /* ignored: the first latch holds */
    ck_assert_uint_eq(read_word(2, after(T0, 1000)), 0xFFFF - 100);
    /* Latch read done: the counter is live again. */
    ck_assert_uint_eq(read_word(2, after(T0, 1000)), 0xFFFF - 1000);
    /* LSB-only access latches one byte. */
    control(0x90, T0);
    i8254_write(&pit, 2, 0x90, T0);
    control(0x80, after(T0, 0x10));
    ck_assert_uint_eq(i8254_read(&pit, 2, after(T0, 0x40)), 0x80);
    ck_assert_uint_eq(i8254_read(&pit, 2, after(T0, 0x40)), 0x50);
}
END_TEST

START_TEST(test_readback)
{
    control(0x34, T0);          /* channel 0: word, mode 2 */
    load_word(0, 5000, T0);
    control(0xB0, T0);          /* channel 2: word, mode 0, no count yet */
    /* Status of channel 2: OUT low, null count, access 3, mode 0. */
    control(0xE8, T0);          /* read-back: status only, channel 2 */
    ck_assert_uint_eq(i8254_read(&pit, 2, T0), 0x40 | 0x30);
    i8254_set_gate(&pit, 2, true, T0);
    load_word(2, 100, T0);
    /* Status and count of channels 0 and 2 together: status first. */
    uint64_t t = after(T0, 150);
    control(0xC0 | 0x02 | 0x08, t);
    ck_assert_uint_eq(i8254_read(&pit, 0, after(t, 7)), 0x80 | 0x34);
    ck_assert_uint_eq(read_word(0, after(t, 7)), 5000 - 150);
    ck_assert_uint_eq(i8254_read(&pit, 2, after(t, 7)), 0x80 | 0x30);   /* OUT high: done */
    ck_assert_uint_eq(read_word(2, after(t, 7)), (uint16_t)(100 - 150));
    /* A count-only read-back of channel 0 (COUNT# = 0, STATUS# = 1). */
    control(0xD2, after(t, 10));
    ck_assert_uint_eq(read_word(0, after(t, 500)), 5000 - 160);
    /* A control word clears a pending latch. */
    control(0xE2, t);
    control(0x34, t);
    load_word(0, 300, t);
    ck_assert_uint_eq(read_word(0, after(t, 1)), 299);
}
END_TEST

START_TEST(test_bcd)
{
    control(0xB1, T0);          /* channel 2, word, mode 0, BCD */
    i8254_set_gate(&pit, 2, true, T0);
    load_word(2, 0x1234, T0);
    ck_assert_uint_eq(read_word(2, after(T0, 35)), 0x1199);
    ck_assert(!i8254_out(&pit, 2, after(T0, 1233)));
    ck_assert(i8254_out(&pit, 2, after(T0, 1234)));
    ck_assert_uint_eq(read_word(2, after(T0, 1235)), 0x9999);   /* wraps in decimal */
    /* BCD count 0 is 10000. */
    control(0xB5, T0);          /* mode 2, BCD */
    load_word(2, 0, T0);
    ck_assert_uint_eq(i8254_period(&pit, 2), 10000);
    ck_assert_uint_eq(read_word(2, after(T0, 1)), 0x9999);
}
END_TEST

START_TEST(test_gate)
{
    /* Mode 0: the gate pauses counting. */
    control(0xB0, T0);
    load_word(2, 1000, T0);
    ck_assert_uint_eq(read_word(2, after(T0, 500)), 1000);   /* gate low since reset */
    i8254_set_gate(&pit, 2, true, after(T0, 500));
    ck_assert_uint_eq(read_word(2, after(T0, 600)), 900);
    i8254_set_gate(&pit, 2, false, after(T0, 600));
    ck_assert_uint_eq(read_word(2, after(T0, 5000)), 900);
    i8254_set_gate(&pit, 2, true, after(T0, 5000));
    ck_assert(!i8254_out(&pit, 2, after(T0, 5899)));
    ck_assert(i8254_out(&pit, 2, after(T0, 5900)));

    /* Mode 2: gate low holds OUT high, a rising edge reloads. */
    control(0xB4, T0);
    load_word(2, 100, T0);
    ck_assert_uint_eq(read_word(2, after(T0, 40)), 60);
    i8254_set_gate(&pit, 2, false, after(T0, 99));
    ck_assert(i8254_out(&pit, 2, after(T0, 99)));
    i8254_set_gate(&pit, 2, true, after(T0, 1000));
    ck_assert_uint_eq(read_word(2, after(T0, 1010)), 90);

    /* Mode 1: nothing until a gate rising edge, then OUT low for N. */
    i8254_set_gate(&pit, 2, false, T0);
    control(0xB2, T0);
    load_word(2, 50, T0);
    ck_assert(i8254_out(&pit, 2, after(T0, 10)));
    ck_assert_uint_eq(i8254_clocks(&pit, 2, after(T0, 10)), I8254_NEVER);
    i8254_set_gate(&pit, 2, true, after(T0, 20));
    ck_assert(!i8254_out(&pit, 2, after(T0, 21)));
    ck_assert_uint_eq(read_word(2, after(T0, 30)), 40);
    ck_assert(i8254_out(&pit, 2, after(T0, 70)));
    /* Retriggered. */
    i8254_set_gate(&pit, 2, false, after(T0, 80));
    i8254_set_gate(&pit, 2, true, after(T0, 90));
    ck_assert(!i8254_out(&pit, 2, after(T0, 100)));

    /* Modes 4 and 5: a one-clock strobe at N; 5 waits for the gate. */
    control(0xB8, T0);          /* mode 4, gate high */
    load_word(2, 30, T0);
    ck_assert(i8254_out(&pit, 2, after(T0, 29)));
    ck_assert(!i8254_out(&pit, 2, after(T0, 30)));
    ck_assert(i8254_out(&pit, 2, after(T0, 31)));
    i8254_set_gate(&pit, 2, false, T0);
    control(0xBA, T0);          /* mode 5 */
    load_word(2, 30, T0);
    ck_assert(i8254_out(&pit, 2, after(T0, 30)));
    i8254_set_gate(&pit, 2, true, after(T0, 100));
    ck_assert(!i8254_out(&pit, 2, after(T0, 130)));
    ck_assert_uint_eq(i8254_rises(&pit, 2, 0, 31), 1);
}
END_TEST

START_TEST(test_port61)
{
    /* Gate off, speaker off, OUT of channel 2 (mode 0, not loaded) low. */
    ck_assert_uint_eq(i8254_port61_read(&pit, T0) & 0x2F, 0x00);
    control(0xB0, T0);
    load_word(2, 1193, T0);
    i8254_port61_write(&pit, 0x03, T0);   /* gate and speaker data on */
    ck_assert_uint_eq(i8254_port61_read(&pit, after(T0, 1)) & 0x23, 0x03);
    ck_assert_uint_eq(i8254_port61_read(&pit, after(T0, 1193)) & 0x23, 0x23);   /* OUT high */
    ck_assert_uint_eq(i8254_port61_read(&pit, T0 + 10 * MS) & 0xC0, 0);        /* no NMI sources */
    /* The refresh bit flips at most once per 15.085 us, and always on the
     * first read after one. */
    uint64_t t = T0 + 20 * MS;
    uint8_t a = i8254_port61_read(&pit, t) & 0x10;
    ck_assert_uint_eq(i8254_port61_read(&pit, t + 1000) & 0x10, a);
    ck_assert_uint_eq(i8254_port61_read(&pit, t + I8254_REFRESH_NS) & 0x10, a ^ 0x10);
    ck_assert_uint_eq(i8254_port61_read(&pit, t + 10 * MS) & 0x10, a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("i8254");
    TCase *tc = tcase_create("pit");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_devclock);
    tcase_add_test(tc, test_unprogrammed);
    tcase_add_test(tc, test_mode2_rate);
    tcase_add_test(tc, test_mode3_square);
    tcase_add_test(tc, test_mode0_oneshot);
    tcase_add_test(tc, test_reprogram_keeps_due_edge);
    tcase_add_test(tc, test_access_modes);
    tcase_add_test(tc, test_latch);
    tcase_add_test(tc, test_readback);
    tcase_add_test(tc, test_bcd);
    tcase_add_test(tc, test_gate);
    tcase_add_test(tc, test_port61);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
