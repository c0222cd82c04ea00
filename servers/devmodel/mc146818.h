/* SPDX-License-Identifier: MIT */
/*
 * The MC146818 real-time clock and CMOS RAM: the register logic of the
 * `rtc` model (rtc_main.c), pure C over a caller-supplied clock so that
 * tests/unit/test_mc146818.c drives it on the host.  Behaviour is the
 * chip's as QEMU's pc machine models it (hw/rtc/mc146818rtc.c):
 *
 *   0x70  index (write): bits 6-0 select the register; bit 7 is the PC's
 *         NMI-disable gate, kept in `nmi_disabled` (nothing here raises
 *         NMIs).  Reads give 0xff, as QEMU's.
 *   0x71  data.  0x00-0x09 seconds, alarm seconds, minutes, alarm minutes,
 *         hours, alarm hours, day of week (1 = Sunday), day, month, year;
 *         0x32 century (0x37, the PS/2 century byte, is an alias that moves
 *         the index to 0x32, as in QEMU); BCD or binary by B.DM, 12-hour
 *         (bit 7 = PM) or 24-hour by B.24H.
 *   A     bits 6-4 divider (010 runs, 11x holds the chain in reset: the
 *         first update comes 500 ms after release), bits 3-0 the periodic
 *         rate (1, 2 act as 8, 9; rate r divides 32768 Hz by 2^(r-1)),
 *         bit 7 UIP, read-only: set in the last 244 us (8 cycles of 32768
 *         Hz) before each update, when the time registers change.
 *   B     SET (stops updates; setting it clears UIE), PIE, AIE, UIE, SQWE
 *         (kept, no pin), DM, 24H, DSE (kept, ignored as QEMU does).  An
 *         enable written while its flag is set raises the interrupt at once.
 *   C     IRQF, PF, AF, UF; reading returns and clears them and lowers the
 *         interrupt line.  PF runs only while PIE is set (QEMU's timer).
 *   D     0x80: VRT, valid RAM and time.
 *   0x0e-0x7f  CMOS RAM: what was written, after the bytes QEMU's pc
 *         machine sets (mc146818_init).
 *
 * The interrupt line follows C.IRQF (level; the ISA line is edge-triggered
 * at the interrupt controller, and reading C ends each pulse).  Lost
 * periodic ticks are dropped, QEMU's default lost_tick_policy=discard.
 *
 * Time: the RTC's seconds are `base_sec` (since 1970-01-01 UTC, may be
 * negative) at clock `base_ns`, plus the sub-second phase `phase_ns`;
 * every call takes the current clock in ns.  While updates run (SET clear,
 * divider 000-010) the time registers are computed from the clock; while
 * they stop, they hold what was last computed or written, and restarting
 * takes the time from them.
 */
#ifndef DEVMODEL_MC146818_H
#define DEVMODEL_MC146818_H

#include <stdbool.h>
#include <stdint.h>

/* The wall time the `rtc` model starts at without start= (rtc_main.c),
 * which is also kvm-clock's wall clock then (servers/vmm/msr.c). */
#define RTC_DEFAULT_START 1767225600ll   /* 2026-01-01 00:00:00 UTC */

#define RTC_PORT_BASE   0x70u
#define RTC_PORTS       2u

#define RTC_SECONDS     0x00u
#define RTC_SECONDS_ALARM 0x01u
#define RTC_MINUTES     0x02u
#define RTC_MINUTES_ALARM 0x03u
#define RTC_HOURS       0x04u
#define RTC_HOURS_ALARM 0x05u
#define RTC_DAY_OF_WEEK 0x06u
#define RTC_DAY_OF_MONTH 0x07u
#define RTC_MONTH       0x08u
#define RTC_YEAR        0x09u
#define RTC_REG_A       0x0au
#define RTC_REG_B       0x0bu
#define RTC_REG_C       0x0cu
#define RTC_REG_D       0x0du
#define RTC_EQUIPMENT   0x14u
#define RTC_CENTURY     0x32u
#define RTC_PS2_CENTURY 0x37u
#define RTC_CPUS        0x5fu   /* VCPUs - 1, where QEMU/SeaBIOS keep it */

#define RTC_A_UIP       0x80u
#define RTC_B_SET       0x80u
#define RTC_B_PIE       0x40u
#define RTC_B_AIE       0x20u
#define RTC_B_UIE       0x10u
#define RTC_B_SQWE      0x08u
#define RTC_B_DM        0x04u
#define RTC_B_24H       0x02u
#define RTC_C_IRQF      0x80u
#define RTC_C_PF        0x40u
#define RTC_C_AF        0x20u
#define RTC_C_UF        0x10u
#define RTC_D_VRT       0x80u

#define RTC_NS_PER_SEC  1000000000ull
#define RTC_UIP_NS      244141ull   /* 8 / 32768 s, rounded up */

struct mc146818 {
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_disabled;
    bool irq;                     /* the interrupt line: C.IRQF */

    int64_t base_sec;
    uint64_t base_ns, phase_ns;
    uint64_t next_update_ns;      /* next update cycle not yet done; 0 while the divider is held */
    uint64_t next_periodic_ns;    /* next periodic tick; 0 while off */
};

/* Power-on state at clock `now_ns`: the time `epoch_sec` (seconds since
 * 1970-01-01 UTC), A = 0x26, B = 0x02 (24-hour BCD), D = VRT, and the CMOS
 * bytes QEMU's pc machine sets for `ram_bytes` of RAM at GPA 0 and `ncpus`
 * VCPUs: base memory 0x15-0x16 (KiB, at most 640), extended memory
 * 0x17-0x18 and 0x30-0x31 (KiB above 1 MiB, at most 65535), 0x34-0x35
 * (64 KiB units above 16 MiB below 4 GiB), 0x5b-0x5d (64 KiB units above
 * 4 GiB), the equipment byte 0x14 (FPU, PS/2 mouse, no floppy), 0x5f. */
void mc146818_init(struct mc146818 *rtc, uint64_t now_ns, int64_t epoch_sec,
                   uint64_t ram_bytes, unsigned ncpus);

/* A guest access at RTC_PORT_BASE + offset (offset 0 or 1, 8 bits).  A
 * write to the index port (offset 0) does not look at `now_ns`. */
uint8_t mc146818_read(struct mc146818 *rtc, unsigned offset, uint64_t now_ns);
void mc146818_write(struct mc146818 *rtc, unsigned offset, uint8_t value, uint64_t now_ns);

/* Run the updates and periodic ticks due by `now_ns` (the caller's timer
 * fired); read and write do this first themselves. */
void mc146818_advance(struct mc146818 *rtc, uint64_t now_ns);

/* The clock time at which an enabled interrupt can next become pending
 * (a periodic tick with PIE, an update with UIE or AIE), or 0 for none. */
uint64_t mc146818_next_deadline(const struct mc146818 *rtc);

/* Calendar conversions (proleptic Gregorian, UTC), exposed for the tests. */
struct mc146818_date {
    int64_t year;
    unsigned month, day, hour, minute, second, weekday;   /* month 1-12, weekday 0 = Sunday */
};
void mc146818_date_from_seconds(int64_t seconds, struct mc146818_date *d);
int64_t mc146818_seconds_from_date(const struct mc146818_date *d);

#endif
