/* SPDX-License-Identifier: MIT */
/*
 * The MC146818 RTC and CMOS RAM at ports 0x70/0x71: the `rtc` device model
 * (servers/devmodel/mc146818.c) through the real VMM, with its interrupt
 * line (GSI 8) through irqd's IOAPIC, or QEMU's own RTC (README: plain
 * QEMU).  The command line says `cpus=N,mib=N` (VCPUs, RAM in MiB).  Checks:
 *   - power-on registers A/B/D, and the CMOS bytes a pc machine sets
 *     (memory sizes, equipment, CPU count), RAM bytes reading back;
 *   - the time across a second boundary by UIP: the seconds read just
 *     before UIP rose are one less than those read once it fell;
 *   - BCD digits, binary mode and 12-hour mode giving the same time;
 *   - the periodic interrupt at rate 9 (128 Hz) counted between update-
 *     ended interrupts, in four one-second windows (see the check), and an alarm interrupt two
 *     seconds ahead, all through the IOAPIC (edge, vector 0x38), the
 *     handler reading register C;
 *   - setting the time with SET: 2099-12-31 23:59:59 rolls over to
 *     2100-01-01 00:00:00, a Friday, century 0x21.
 */
#include "irqtest.h"

#define RTC_INDEX   0x70
#define RTC_DATA    0x71
#define RTC_GSI     8
#define RTC_VECTOR  0x38
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define UIP         0x80
#define B_SET       0x80
#define B_PIE       0x40
#define B_AIE       0x20
#define B_UIE       0x10
#define B_DM        0x04
#define B_24H       0x02
#define C_PF        0x40
#define C_AF        0x20
#define C_UF        0x10
#define RATE        9u       /* 32768 >> 8 = 128 Hz */
#define RATE_HZ     128u
#define SPIN_MAX    20000000u
#define WINDOWS     4u       /* seconds of periodic interrupts counted */

static volatile unsigned pf_count, uf_count, af_count, rtc_irqs;
static volatile unsigned pf_at_uf[8];
static volatile uint64_t tsc_at_uf[8];

static uint8_t cmos_read(uint8_t index)
{
    outb(RTC_INDEX, index);
    return inb(RTC_DATA);
}

static void cmos_write(uint8_t index, uint8_t value)
{
    outb(RTC_INDEX, index);
    outb(RTC_DATA, value);
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0x0f);
}

static bool bcd_valid(uint8_t v, unsigned lo, unsigned hi)
{
    return (v & 0x0f) <= 9 && (v >> 4) <= 9 && from_bcd(v) >= lo && from_bcd(v) <= hi;
}

static void on_rtc(struct guest_frame *frame)
{
    (void)frame;
    uint8_t c = cmos_read(REG_C);
    rtc_irqs++;
    if (c & C_PF)
        pf_count++;
    if (c & C_AF)
        af_count++;
    if (c & C_UF) {
        unsigned n = uf_count;
        if (n < 8) {
            pf_at_uf[n] = pf_count;
            tsc_at_uf[n] = rdtsc();
        }
        uf_count = n + 1;
    }
    lapic_eoi();
}


static void check_cmos(uint64_t ram, unsigned cpus)
{
    uint64_t ext = (ram - (1u << 20)) / 1024, high = (ram - (16u << 20)) / 65536;
    CHECK_EQ("register A at power-on", cmos_read(REG_A) & 0x7f, 0x26);
    CHECK_EQ("register B at power-on: 24-hour BCD", cmos_read(REG_B), B_24H);
    CHECK_EQ("register D: valid RAM and time", cmos_read(REG_D), 0x80);
    CHECK_EQ("base memory 0x15-0x16: 640 KiB", cmos_read(0x15) | cmos_read(0x16) << 8, 640);
    CHECK_EQ("extended memory 0x17-0x18", cmos_read(0x17) | cmos_read(0x18) << 8,
             ext > 0xffff ? 0xffff : ext);
    CHECK_EQ("extended memory 0x30-0x31", cmos_read(0x30) | cmos_read(0x31) << 8,
             ext > 0xffff ? 0xffff : ext);
    CHECK_EQ("memory above 16 MiB 0x34-0x35", cmos_read(0x34) | cmos_read(0x35) << 8, high);
    CHECK_EQ("memory above 4 GiB 0x5b-0x5d", cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16, 0);
    uint8_t equipment = cmos_read(0x14);
    guest_printf("equipment byte 0x%x, floppy types 0x%x\n", equipment, cmos_read(0x10));
    CHECK_EQ("equipment byte: FPU and PS/2 mouse", equipment & 0x06, 0x06);
    CHECK_EQ("0x5f: CPUs - 1", cmos_read(0x5f), cpus - 1);
    cmos_write(0x50, 0xa5);
    cmos_write(0x7f, 0x3c);
    CHECK("CMOS RAM bytes read back", cmos_read(0x50) == 0xa5 && cmos_read(0x7f) == 0x3c);
    outb(RTC_INDEX, 0x80 | 0x50);   /* NMI-disable bit: the index is still 0x50 */
    CHECK_EQ("index with bit 7 (NMI disable) set", inb(RTC_DATA), 0xa5);
    outb(RTC_INDEX, 0x50);
}

/* Wait for UIP to rise and fall; *before: seconds read while it was clear
 * just before it rose; returns the seconds read once it fell, or -1. */
static int second_across_uip(uint8_t *before)
{
    unsigned spins = 0;
    while ((cmos_read(REG_A) & UIP) && ++spins < SPIN_MAX)
        ;
    for (;;) {
        if (++spins >= SPIN_MAX)
            return -1;
        if (cmos_read(REG_A) & UIP)
            continue;
        uint8_t s = cmos_read(0x00);
        if (cmos_read(REG_A) & UIP) {
            *before = s;
            break;
        }
    }
    while ((cmos_read(REG_A) & UIP) && ++spins < SPIN_MAX)
        ;
    return spins < SPIN_MAX ? cmos_read(0x00) : -1;
}

static void check_time(void)
{
    unsigned exact = 0, stale = 0, tries = 0;
    for (; tries < 5 && exact < 2; tries++) {
        uint8_t before = 0;
        int after = second_across_uip(&before);
        if (after < 0)
            break;
        unsigned want = (from_bcd(before) + 1) % 60;
        guest_printf("seconds 0x%x before UIP, 0x%x after\n", before, after);
        if (from_bcd((uint8_t)after) == want)
            exact++;
        else if ((uint8_t)after == before)
            stale++;
    }
    CHECK("UIP seen rising and falling, the seconds one up after it", exact >= 1);
    CHECK_EQ("the seconds never unchanged after UIP fell", stale, 0);

    uint8_t t[8] = { cmos_read(0x00), cmos_read(0x02), cmos_read(0x04), cmos_read(0x06),
                     cmos_read(0x07), cmos_read(0x08), cmos_read(0x09), cmos_read(0x32) };
    guest_printf("time %x%02x-%02x-%02x %02x:%02x:%02x, weekday %x\n", t[7], t[6], t[5], t[4],
                 t[2], t[1], t[0], t[3]);
    CHECK("BCD time registers hold BCD digits in range",
          bcd_valid(t[0], 0, 59) && bcd_valid(t[1], 0, 59) && bcd_valid(t[2], 0, 23) &&
          bcd_valid(t[3], 1, 7) && bcd_valid(t[4], 1, 31) && bcd_valid(t[5], 1, 12) &&
          bcd_valid(t[6], 0, 99) && bcd_valid(t[7], 19, 21));

    /* Binary and 12-hour views of the same instant (retried across a
     * second boundary). */
    bool same = false, twelve = false;
    for (unsigned i = 0; i < 3 && !same; i++) {
        uint8_t s0 = cmos_read(0x00), m0 = cmos_read(0x02), h0 = cmos_read(0x04);
        cmos_write(REG_B, B_DM | B_24H);
        uint8_t s1 = cmos_read(0x00), m1 = cmos_read(0x02), h1 = cmos_read(0x04);
        cmos_write(REG_B, 0);
        uint8_t h12 = cmos_read(0x04);
        cmos_write(REG_B, B_24H);
        if (cmos_read(0x00) != s0)
            continue;
        same = s1 == from_bcd(s0) && m1 == from_bcd(m0) && h1 == from_bcd(h0);
        unsigned h = from_bcd(h0), want = h % 12 ? h % 12 : 12;
        twelve = from_bcd(h12 & 0x7f) == want && ((h12 & 0x80) != 0) == (h >= 12);
    }
    CHECK("binary mode: the same time in binary", same);
    CHECK("12-hour mode: hours 1-12 with the PM bit", twelve);
}

static void wait_for_count(volatile unsigned *counter, unsigned want)
{
    while (*counter < want)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void check_interrupts(void)
{
    idt_init();
    idt_set_handler(RTC_VECTOR, on_rtc);
    outb(0x21, 0xFF);   /* PIC masked: IRQ 8 only through the IOAPIC */
    outb(0xA1, 0xFF);
    lapic_write(LAPIC_SVR, 0x1FF);
    uint64_t dest = (uint64_t)(lapic_read(LAPIC_ID) >> 24) << 56;
    ioapic_redirect(RTC_GSI, dest | RTC_VECTOR);   /* edge, active high */
    cmos_read(REG_C);

    cmos_write(REG_A, 0x20 | RATE);
    cmos_write(REG_B, B_PIE | B_UIE | B_24H);
    wait_for_count(&uf_count, 2 + WINDOWS);
    cmos_write(REG_B, B_24H);
    /* Per second between update interrupts (from the second one: the
     * first may be a UF that was already pending when UIE went on): none
     * may exceed the rate, and the best second shows it.  A loaded host
     * delays the guest and ticks are dropped (as on hardware when IRQF is
     * still set), on Copra and on QEMU alike, so the floor is 70: a rate
     * one step slower (64 Hz) gives at most 65. */
    unsigned best = 0;
    for (unsigned i = 0; i < WINDOWS; i++) {
        unsigned ticks = pf_at_uf[i + 2] - pf_at_uf[i + 1];
        guest_printf("%u periodic interrupts between update interrupts 1 s apart (%llu TSC ticks)\n",
                     ticks, (unsigned long long)(tsc_at_uf[i + 2] - tsc_at_uf[i + 1]));
        best = ticks > best ? ticks : best;
    }
    CHECK("periodic interrupts at 128 Hz: no second above 129, the best at least 70",
          best >= 70 && best <= RATE_HZ + 1);
    CHECK_EQ("rate bits read back", cmos_read(REG_A) & 0x7f, 0x20 | RATE);
    cmos_write(REG_A, 0x26);

    unsigned s = from_bcd(cmos_read(0x00));
    cmos_write(0x01, (uint8_t)(((s + 2) % 60 / 10) << 4 | (s + 2) % 60 % 10));
    cmos_write(0x03, 0xc0);   /* don't care */
    cmos_write(0x05, 0xc0);
    unsigned uf0 = uf_count;
    cmos_write(REG_B, B_AIE | B_UIE | B_24H);
    wait_for_count(&af_count, 1);
    cmos_write(REG_B, B_24H);
    unsigned seconds = uf_count - uf0;
    guest_printf("alarm after %u update interrupts\n", seconds);
    CHECK("alarm interrupt 1..3 updates after it was set", seconds >= 1 && seconds <= 3);
    cmos_read(REG_C);
    CHECK_EQ("register C cleared by the read", cmos_read(REG_C), 0);
    ioapic_redirect(RTC_GSI, 1ull << 16);
}

static void check_set_time(void)
{
    static const uint8_t when[][2] = {
        { 0x00, 0x59 }, { 0x02, 0x59 }, { 0x04, 0x23 }, { 0x07, 0x31 }, { 0x08, 0x12 },
        { 0x09, 0x99 }, { 0x32, 0x20 },
    };
    cmos_write(REG_B, B_SET | B_24H);
    for (unsigned i = 0; i < sizeof when / sizeof when[0]; i++)
        cmos_write(when[i][0], when[i][1]);
    CHECK_EQ("SET holds the time", cmos_read(0x00), 0x59);
    cmos_write(REG_B, B_24H);
    unsigned spins = 0;
    while (cmos_read(0x00) == 0x59 && ++spins < SPIN_MAX)
        ;
    while ((cmos_read(REG_A) & UIP) && ++spins < SPIN_MAX)
        ;
    uint8_t t[8] = { cmos_read(0x00), cmos_read(0x02), cmos_read(0x04), cmos_read(0x06),
                     cmos_read(0x07), cmos_read(0x08), cmos_read(0x09), cmos_read(0x32) };
    guest_printf("after 2099-12-31 23:59:59: %x%02x-%02x-%02x %02x:%02x:%02x, weekday %x\n", t[7],
                 t[6], t[5], t[4], t[2], t[1], t[0], t[3]);
    CHECK("rolled over to 2100-01-01 00:00:0x", t[0] <= 0x01 && t[1] == 0 && t[2] == 0 &&
          t[4] == 0x01 && t[5] == 0x01 && t[6] == 0x00 && t[7] == 0x21);
    CHECK_EQ("2100-01-01 is a Friday (6)", t[3], 6);
}

int guest_main(unsigned cpu, uint32_t info_gpa)
{
    unsigned cpus = guest_cmdline_number(info_gpa, "cpus=", 1);
    guest_printf("rtc guest on vcpu %u, %u cpu(s)\n", cpu, cpus);
    check_cmos((uint64_t)guest_cmdline_number(info_gpa, "mib=", 0) << 20, cpus);
    check_time();
    check_interrupts();
    check_set_time();
    return guest_finish();
}
