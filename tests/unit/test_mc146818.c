/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/mc146818.c: the RTC and CMOS RAM on a
 * fake clock (ns). */
#include <check.h>
#include <stdlib.h>

#include "mc146818.h"

#define SEC   1000000000ull
#define T0    (5 * SEC + 123)            /* the clock at power-on */
#define EPOCH 1767225600ll               /* 2026-01-01 00:00:00 UTC, a Thursday */

static struct mc146818 rtc;

static void setup(void)
{
    mc146818_init(&rtc, T0, EPOCH, 64ull << 20, 2);
}

static uint8_t reg(unsigned index, uint64_t now)
{
    mc146818_write(&rtc, 0, (uint8_t)index, now);
    return mc146818_read(&rtc, 1, now);
}

static void set(unsigned index, uint8_t value, uint64_t now)
{
    mc146818_write(&rtc, 0, (uint8_t)index, now);
    mc146818_write(&rtc, 1, value, now);
}

START_TEST(test_power_on)
{
    ck_assert_uint_eq(reg(RTC_REG_A, T0), 0x26);
    ck_assert_uint_eq(reg(RTC_REG_B, T0), 0x02);
    ck_assert_uint_eq(reg(RTC_REG_C, T0), 0x00);
    ck_assert_uint_eq(reg(RTC_REG_D, T0), 0x80);
    ck_assert_uint_eq(reg(RTC_SECONDS, T0), 0x00);
    ck_assert_uint_eq(reg(RTC_HOURS, T0), 0x00);
    ck_assert_uint_eq(reg(RTC_DAY_OF_WEEK, T0), 5);   /* Thursday; Sunday = 1 */
    ck_assert_uint_eq(reg(RTC_DAY_OF_MONTH, T0), 0x01);
    ck_assert_uint_eq(reg(RTC_MONTH, T0), 0x01);
    ck_assert_uint_eq(reg(RTC_YEAR, T0), 0x26);
    ck_assert_uint_eq(reg(RTC_CENTURY, T0), 0x20);
    ck_assert(!rtc.irq);
}
END_TEST

START_TEST(test_cmos_memory_as_qemu_pc)
{
    /* 64 MiB, 2 VCPUs: 640 KiB base, 63 MiB extended, 48 MiB above 16 MiB. */
    ck_assert_uint_eq(reg(0x15, T0) | reg(0x16, T0) << 8, 640);
    ck_assert_uint_eq(reg(0x17, T0) | reg(0x18, T0) << 8, 63 * 1024);
    ck_assert_uint_eq(reg(0x30, T0) | reg(0x31, T0) << 8, 63 * 1024);
    ck_assert_uint_eq(reg(0x34, T0) | reg(0x35, T0) << 8, 48 * 16);
    ck_assert_uint_eq(reg(0x5b, T0) | reg(0x5c, T0) << 8 | reg(0x5d, T0) << 16, 0);
    ck_assert_uint_eq(reg(RTC_EQUIPMENT, T0), 0x06);
    ck_assert_uint_eq(reg(RTC_CPUS, T0), 1);

    struct mc146818 big;
    mc146818_init(&big, 0, 0, (6ull << 30), 1);   /* 6 GiB: capped fields, 2 GiB above 4 GiB */
    ck_assert_uint_eq(big.cmos[0x17] | big.cmos[0x18] << 8, 0xffff);
    ck_assert_uint_eq(big.cmos[0x34] | big.cmos[0x35] << 8, (4096 - 16) * 16);
    ck_assert_uint_eq(big.cmos[0x5b] | big.cmos[0x5c] << 8 | big.cmos[0x5d] << 16, 0x8000);
    ck_assert_uint_eq(big.cmos[RTC_CPUS], 0);
}
END_TEST

START_TEST(test_ram_reads_back_and_index_port)
{
    set(0x50, 0x5a, T0);
    ck_assert_uint_eq(reg(0x50, T0), 0x5a);
    mc146818_write(&rtc, 0, 0x80 | 0x50, T0);   /* NMI disabled: bit 7 kept apart */
    ck_assert(rtc.nmi_disabled);
    ck_assert_uint_eq(mc146818_read(&rtc, 1, T0), 0x5a);
    ck_assert_uint_eq(mc146818_read(&rtc, 0, T0), 0xff);   /* the index port reads 0xff */
    mc146818_write(&rtc, 0, 0x50, T0);
    ck_assert(!rtc.nmi_disabled);
    set(RTC_REG_D, 0x00, T0);                               /* read-only */
    ck_assert_uint_eq(reg(RTC_REG_D, T0), 0x80);
    set(RTC_REG_C, 0xf0, T0);
    ck_assert_uint_eq(reg(RTC_REG_C, T0), 0x00);
    ck_assert_uint_eq(reg(RTC_PS2_CENTURY, T0), 0x20);       /* 0x37 aliases 0x32 */
    ck_assert_uint_eq(rtc.index, RTC_CENTURY);
}
END_TEST

START_TEST(test_seconds_and_uip)
{
    uint64_t boundary = T0 + SEC;   /* power-on starts a second */
    ck_assert_uint_eq(reg(RTC_REG_A, boundary - RTC_UIP_NS - 1) & RTC_A_UIP, 0);
    ck_assert_uint_eq(reg(RTC_REG_A, boundary - RTC_UIP_NS) & RTC_A_UIP, RTC_A_UIP);
    ck_assert_uint_eq(reg(RTC_SECONDS, boundary - 1), 0x00);   /* old time during UIP */
    ck_assert_uint_eq(reg(RTC_REG_A, boundary) & RTC_A_UIP, 0);
    ck_assert_uint_eq(reg(RTC_SECONDS, boundary), 0x01);
    ck_assert_uint_eq(reg(RTC_SECONDS, T0 + 59 * SEC), 0x59);
    ck_assert_uint_eq(reg(RTC_SECONDS, T0 + 61 * SEC), 0x01);
    ck_assert_uint_eq(reg(RTC_MINUTES, T0 + 61 * SEC), 0x01);
    set(RTC_REG_A, 0x26 | RTC_A_UIP, T0 + 61 * SEC);           /* UIP is read-only */
    ck_assert_uint_eq(reg(RTC_REG_A, T0 + 61 * SEC), 0x26);
}
END_TEST

START_TEST(test_binary_and_12_hour)
{
    uint64_t t = T0 + (13 * 3600 + 5 * 60 + 42) * SEC;        /* 13:05:42 */
    ck_assert_uint_eq(reg(RTC_HOURS, t), 0x13);
    set(RTC_REG_B, RTC_B_DM | RTC_B_24H, t);
    ck_assert_uint_eq(reg(RTC_HOURS, t), 13);
    ck_assert_uint_eq(reg(RTC_SECONDS, t), 42);
    ck_assert_uint_eq(reg(RTC_YEAR, t), 26);
    ck_assert_uint_eq(reg(RTC_CENTURY, t), 20);
    set(RTC_REG_B, 0, t);                                      /* BCD, 12-hour */
    ck_assert_uint_eq(reg(RTC_HOURS, t), 0x80 | 0x01);         /* 1 PM */
    ck_assert_uint_eq(reg(RTC_HOURS, T0), 0x12);               /* midnight is 12 AM */
    ck_assert_uint_eq(reg(RTC_HOURS, T0 + 12 * 3600 * SEC), 0x80 | 0x12);   /* noon */
    set(RTC_REG_B, RTC_B_DM, t);
    ck_assert_uint_eq(reg(RTC_HOURS, t), 0x80 | 1);
}
END_TEST

START_TEST(test_set_time_and_century_rollover)
{
    uint64_t t = T0 + SEC / 4;
    set(RTC_REG_B, RTC_B_SET | RTC_B_24H, t);
    static const uint8_t when[][2] = {   /* 2099-12-31 23:59:59, BCD */
        { RTC_SECONDS, 0x59 }, { RTC_MINUTES, 0x59 }, { RTC_HOURS, 0x23 },
        { RTC_DAY_OF_MONTH, 0x31 }, { RTC_MONTH, 0x12 }, { RTC_YEAR, 0x99 }, { RTC_CENTURY, 0x20 },
    };
    for (unsigned i = 0; i < sizeof when / sizeof when[0]; i++)
        set(when[i][0], when[i][1], t);
    /* SET holds the time: no update while it is set, UIP stays clear. */
    ck_assert_uint_eq(reg(RTC_SECONDS, t + 3 * SEC), 0x59);
    ck_assert_uint_eq(reg(RTC_REG_A, T0 + 4 * SEC - 1) & RTC_A_UIP, 0);
    set(RTC_REG_B, RTC_B_24H, t + 3 * SEC);     /* go: the divider's phase is kept */
    ck_assert_uint_eq(reg(RTC_SECONDS, T0 + 4 * SEC - 1), 0x59);
    uint64_t after = T0 + 4 * SEC;
    ck_assert_uint_eq(reg(RTC_SECONDS, after), 0x00);
    ck_assert_uint_eq(reg(RTC_MINUTES, after), 0x00);
    ck_assert_uint_eq(reg(RTC_HOURS, after), 0x00);
    ck_assert_uint_eq(reg(RTC_DAY_OF_MONTH, after), 0x01);
    ck_assert_uint_eq(reg(RTC_MONTH, after), 0x01);
    ck_assert_uint_eq(reg(RTC_YEAR, after), 0x00);
    ck_assert_uint_eq(reg(RTC_CENTURY, after), 0x21);
    ck_assert_uint_eq(reg(RTC_DAY_OF_WEEK, after), 6);   /* 2100-01-01 is a Friday */
}
END_TEST

START_TEST(test_write_one_register_while_running)
{
    uint64_t t = T0 + (2 * 60 + 10) * SEC + SEC / 2;   /* 00:02:10.5 */
    set(RTC_SECONDS, 0x30, t);                          /* minutes stay 02 */
    ck_assert_uint_eq(reg(RTC_SECONDS, t + SEC / 4), 0x30);
    ck_assert_uint_eq(reg(RTC_MINUTES, t + SEC / 4), 0x02);
    ck_assert_uint_eq(reg(RTC_SECONDS, t + SEC / 2), 0x31);   /* the phase was kept */
}
END_TEST

START_TEST(test_update_interrupt_and_register_c)
{
    set(RTC_REG_B, RTC_B_UIE | RTC_B_24H, T0);
    ck_assert_uint_eq(mc146818_next_deadline(&rtc), T0 + SEC);
    mc146818_advance(&rtc, T0 + SEC - 1);
    ck_assert(!rtc.irq);
    mc146818_advance(&rtc, T0 + SEC);
    ck_assert(rtc.irq);
    ck_assert_uint_eq(reg(RTC_REG_C, T0 + SEC), RTC_C_IRQF | RTC_C_UF);
    ck_assert(!rtc.irq);
    ck_assert_uint_eq(reg(RTC_REG_C, T0 + SEC), 0);    /* read-to-clear */
    /* UF without UIE: flag only; enabling UIE then interrupts at once. */
    set(RTC_REG_B, RTC_B_24H, T0 + SEC);
    ck_assert_uint_eq(mc146818_next_deadline(&rtc), 0);
    mc146818_advance(&rtc, T0 + 2 * SEC);
    ck_assert(!rtc.irq);
    set(RTC_REG_B, RTC_B_UIE | RTC_B_24H, T0 + 2 * SEC);
    ck_assert(rtc.irq);
    ck_assert_uint_eq(reg(RTC_REG_C, T0 + 2 * SEC), RTC_C_IRQF | RTC_C_UF);
    /* SET clears UIE. */
    set(RTC_REG_B, RTC_B_SET | RTC_B_UIE | RTC_B_24H, T0 + 2 * SEC);
    ck_assert_uint_eq(reg(RTC_REG_B, T0 + 2 * SEC), RTC_B_SET | RTC_B_24H);
}
END_TEST

START_TEST(test_periodic_rate)
{
    set(RTC_REG_A, 0x26, T0);                          /* rate 6: 1024 Hz */
    ck_assert_uint_eq(mc146818_next_deadline(&rtc), 0);   /* PIE off: no ticks */
    set(RTC_REG_B, RTC_B_PIE | RTC_B_24H, T0);
    unsigned ticks = 0;
    uint64_t now = T0, end = T0 + SEC;
    for (;;) {
        uint64_t next = mc146818_next_deadline(&rtc);
        ck_assert_uint_gt(next, now);
        if (next > end)
            break;
        now = next;
        mc146818_advance(&rtc, now);
        ck_assert(rtc.irq);
        ck_assert_uint_eq(reg(RTC_REG_C, now), RTC_C_IRQF | RTC_C_PF);
        ticks++;
    }
    ck_assert_uint_eq(ticks, 1024);
    /* Rates 1 and 2 act as 8 and 9 (256 and 128 Hz); rate 15 is 2 Hz. */
    static const struct { uint8_t rate; uint64_t hz; } rates[] = { { 1, 256 }, { 2, 128 }, { 15, 2 }, { 3, 8192 } };
    for (unsigned i = 0; i < 4; i++) {
        set(RTC_REG_A, (uint8_t)(0x20 | rates[i].rate), now);
        uint64_t a = mc146818_next_deadline(&rtc);
        mc146818_advance(&rtc, a);
        reg(RTC_REG_C, a);
        uint64_t b = mc146818_next_deadline(&rtc);
        ck_assert_uint_le(b - a, SEC / rates[i].hz + 1);
        ck_assert_uint_ge(b - a, SEC / rates[i].hz);
    }
    /* Lost ticks are dropped: one PF, the next tick in the future. */
    uint64_t late = mc146818_next_deadline(&rtc) + 10 * SEC;
    mc146818_advance(&rtc, late);
    ck_assert_uint_eq(reg(RTC_REG_C, late) & (RTC_C_IRQF | RTC_C_PF), RTC_C_IRQF | RTC_C_PF);
    ck_assert_uint_gt(mc146818_next_deadline(&rtc), late);
    set(RTC_REG_A, 0x20, late);                        /* rate 0: off */
    ck_assert_uint_eq(mc146818_next_deadline(&rtc), 0);
}
END_TEST

START_TEST(test_alarm)
{
    set(RTC_SECONDS_ALARM, 0x03, T0);
    set(RTC_MINUTES_ALARM, 0xc0, T0);                  /* don't care */
    set(RTC_HOURS_ALARM, 0xff, T0);
    set(RTC_REG_B, RTC_B_AIE | RTC_B_24H, T0);
    for (unsigned s = 1; s <= 2; s++) {
        mc146818_advance(&rtc, T0 + s * SEC);
        ck_assert(!rtc.irq);
    }
    mc146818_advance(&rtc, T0 + 3 * SEC);
    ck_assert(rtc.irq);
    ck_assert_uint_eq(reg(RTC_REG_C, T0 + 3 * SEC), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    /* An exact alarm an hour ahead, met across a model that slept. */
    set(RTC_HOURS_ALARM, 0x01, T0 + 3 * SEC);
    set(RTC_MINUTES_ALARM, 0x00, T0 + 3 * SEC);
    set(RTC_SECONDS_ALARM, 0x00, T0 + 3 * SEC);
    mc146818_advance(&rtc, T0 + 3 * SEC + 3600 * SEC);
    ck_assert_uint_eq(reg(RTC_REG_C, T0 + 3604 * SEC) & RTC_C_AF, RTC_C_AF);
    mc146818_advance(&rtc, T0 + 3 * 3600 * SEC);
    ck_assert_uint_eq(reg(RTC_REG_C, T0 + 3 * 3600 * SEC) & RTC_C_AF, 0);
}
END_TEST

START_TEST(test_divider_reset)
{
    uint64_t t = T0 + 10 * SEC + SEC / 3;
    reg(RTC_REG_C, t);                                  /* the update flags so far */
    set(RTC_REG_A, 0x70, t);                            /* chain held in reset */
    ck_assert_uint_eq(reg(RTC_SECONDS, t + 5 * SEC), 0x10);
    ck_assert_uint_eq(reg(RTC_REG_A, t + 5 * SEC + SEC - 1) & RTC_A_UIP, 0);
    mc146818_advance(&rtc, t + 7 * SEC);
    ck_assert_uint_eq(reg(RTC_REG_C, t + 7 * SEC), 0);  /* no update cycles */
    uint64_t go = t + 8 * SEC;
    set(RTC_REG_A, 0x26, go);                           /* release: first update 500 ms later */
    ck_assert_uint_eq(reg(RTC_SECONDS, go + SEC / 2 - 1), 0x10);
    ck_assert_uint_eq(reg(RTC_SECONDS, go + SEC / 2), 0x11);
}
END_TEST

START_TEST(test_date_conversions)
{
    struct mc146818_date d;
    mc146818_date_from_seconds(1709214330, &d);   /* 2024-02-29 13:45:30, Thursday */
    ck_assert_int_eq(d.year, 2024);
    ck_assert_uint_eq(d.month, 2);
    ck_assert_uint_eq(d.day, 29);
    ck_assert_uint_eq(d.hour, 13);
    ck_assert_uint_eq(d.minute, 45);
    ck_assert_uint_eq(d.second, 30);
    ck_assert_uint_eq(d.weekday, 4);
    mc146818_date_from_seconds(-1, &d);           /* 1969-12-31 23:59:59, Wednesday */
    ck_assert_int_eq(d.year, 1969);
    ck_assert_uint_eq(d.day, 31);
    ck_assert_uint_eq(d.second, 59);
    ck_assert_uint_eq(d.weekday, 3);
    for (int64_t s = -4000000000ll; s < 8000000000ll; s += 86399 * 37) {
        mc146818_date_from_seconds(s, &d);
        ck_assert_int_eq(mc146818_seconds_from_date(&d), s);
    }
}
END_TEST

START_TEST(test_garbage_registers)
{
    /* Whatever a guest writes, restarting gives some date, not a fault. */
    set(RTC_REG_B, RTC_B_SET | RTC_B_24H, T0);
    for (unsigned i = 0; i <= RTC_YEAR; i++)
        set(i, 0xff, T0);
    set(RTC_CENTURY, 0xff, T0);
    set(RTC_REG_B, RTC_B_24H, T0);
    ck_assert_uint_le(reg(RTC_SECONDS, T0 + SEC), 0x59);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mc146818");
    TCase *t = tcase_create("mc146818");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_power_on);
    tcase_add_test(t, test_cmos_memory_as_qemu_pc);
    tcase_add_test(t, test_ram_reads_back_and_index_port);
    tcase_add_test(t, test_seconds_and_uip);
    tcase_add_test(t, test_binary_and_12_hour);
    tcase_add_test(t, test_set_time_and_century_rollover);
    tcase_add_test(t, test_write_one_register_while_running);
    tcase_add_test(t, test_update_interrupt_and_register_c);
    tcase_add_test(t, test_periodic_rate);
    tcase_add_test(t, test_alarm);
    tcase_add_test(t, test_divider_reset);
    tcase_add_test(t, test_date_conversions);
    tcase_add_test(t, test_garbage_registers);
    suite_add_tcase(s, t);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
