/* SPDX-License-Identifier: MIT */
/*
 * What one RTC register read costs through the `rtc` device model: OUT
 * 0x70 (index) then IN 0x71 (data), two exits served by the model's
 * process, looped N times under `-icount shift=0`, where the TSC counts
 * every instruction executed (guest, kernel, model).  bench.rtc_read
 * (make bench) prints the TSC ticks per read: counted instructions, the
 * guest's few loop instructions included.
 */
#include "guest.h"

#define READS 10000u

int guest_main(unsigned cpu, uint32_t info)
{
    (void)cpu;
    (void)info;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 100; i++) {   /* warm up */
        outb(0x70, 0x00);
        sum += inb(0x71);
    }
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < READS; i++) {
        outb(0x70, 0x00);
        sum += inb(0x71);
    }
    uint64_t t1 = rdtsc();
    guest_printf("bench rtc_read %llu insns/roundtrip\n", (unsigned long long)((t1 - t0) / READS));
    guest_printf("(seconds checksum %u)\n", sum);
    return 0;
}
