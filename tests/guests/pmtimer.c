/* SPDX-License-Identifier: MIT */
/*
 * The ACPI PM timer model (servers/devmodel/pmtimer.c, `device pmtimer`):
 * found where QEMU's pc machine has it, 0x608 (24 bits), or, with
 * `base=0xB008 bits=32` (pmtimer-b000.conf), at SeaBIOS's old PIIX4 PM
 * base with the FADT's TMR_VAL_EXT width; counting
 * up, its width, a 16-bit read, writes ignored, and its rate against the
 * TSC checked against PIT channel 2's (an independent clock).
 */
#include "timers.h"

#define TOLERANCE_PPM 50000

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("pmtimer guest on vcpu %u\n", cpu);
    uint16_t port = PMTIMER_PORT;
    bool wide = false;
    if (inl(PMTIMER_PORT) == 0xFFFFFFFFu && inl(0xB008) != 0xFFFFFFFFu) {
        port = 0xB008;
        wide = true;
    }
    guest_printf("PM timer at 0x%x, %u bits expected\n", port, wide ? 32u : 24u);
    uint32_t mask = wide ? 0xFFFFFFFFu : 0xFFFFFFu;

    /* 1. Counting up, within its width. */
    uint32_t v0 = inl(port), prev = v0, high = 0;
    bool up = true;
    for (unsigned i = 0; i < 2000; i++) {
        uint32_t v = inl(port);
        high |= v & ~mask;
        up &= ((v - prev) & mask) < (1u << 23);   /* forward (a loaded host may pause a while) */
        prev = v;
    }
    CHECK("the counter counts up", ((prev - v0) & mask) > 0 && up);
    if (!wide)
        CHECK_EQ("24 bits: bits 31:24 read 0", high, 0);
    else {
        /* Across a wrap of the low 24 bits (at most 4.7 s) bit 24 carries. */
        uint32_t p = inl(port), v;
        for (;;) {
            tsc_delay(1000000);
            v = inl(port);
            if ((v & 0xFFFFFFu) < (p & 0xFFFFFFu))
                break;
            p = v;
        }
        guest_printf("across the 24-bit wrap: 0x%x -> 0x%x\n", p, v);
        CHECK_EQ("32 bits: bits 31:24 count the 24-bit wraps", v >> 24, ((p >> 24) + 1) & 0xFF);
    }

    /* 2. Narrow reads take the register's low bytes. */
    uint32_t a = inl(port);
    uint16_t w = inw(port);
    CHECK("16-bit read: the low half, a little later", (uint16_t)(w - (uint16_t)a) < 0x8000);
    /* Reads at offsets 1-3 are left out: ACPI wants PM_TMR_BLK read as a
     * DWORD, and QEMU does not take the bytes (it gave 0x36 at +3 of a
     * 24-bit timer); the model's byte lanes are in unit.pmtimer. */

    /* 3. Writes are ignored. */
    uint32_t before = inl(port);
    outl(port, 0);
    uint32_t after = inl(port);
    CHECK("a write does not reset the counter", ((after - before) & mask) < PMTIMER_HZ / 10);

    /* 4. The rate against PIT channel 2. */
    struct tsc_rate by_pm = NO_RATE, by_pit = NO_RATE;
    for (unsigned attempt = 0; attempt < RATE_ATTEMPTS && by_pit.ppm + by_pm.ppm > NOISE_MAX_PPM; attempt++) {
        by_pm = rate_better(by_pm, tsc_rate_pmtimer(port, 50));
        by_pit = rate_better(by_pit, tsc_rate_pit(50));
    }
    CHECK("rate measurements precise enough (5 %)", by_pit.ppm + by_pm.ppm <= NOISE_MAX_PPM);
    CHECK("the PM timer and PIT channel 2 agree on the TSC rate",
          rates_agree("PM timer", by_pm, "PIT", by_pit, TOLERANCE_PPM));
    /* 5. Over a longer stretch: 3.579545 MHz within 1 % of the PIT's
     * 1.193182 MHz (exactly 3:1 on a PC: both divide 14.31818 MHz). */
    struct tsc_rate long_pm = tsc_rate_pmtimer(port, 200);
    guest_printf("over 200 ms: TSC %llu Hz by the PM timer (+-%llu ppm)\n",
                 (unsigned long long)long_pm.hz, (unsigned long long)long_pm.ppm);
    CHECK("200 ms: agrees with the PIT within 1 % plus the uncertainty",
          rates_agree("PM timer", long_pm, "PIT", by_pit, 10000));
    return guest_finish();
}
