/* SPDX-License-Identifier: MIT */
/*
 * What the platform-timer test guests (pit, hpet, pmtimer) share: the
 * registers of the i8254 PIT (0x40-0x43, port 0x61), the ACPI PM timer
 * (0x608: where SeaBIOS puts the PIIX4 PM block of QEMU's pc machine, and
 * q35's ICH9 has it) and the HPET
 * (0xFED00000), and measurements of the TSC rate against each of them.
 *
 * No timer is its own reference.  Each measurement brackets every device
 * read between two RDTSCs (a read is an exit to a device-model process,
 * slow and of varying length under a loaded TCG host), takes the middle of
 * the bracket as the read's time, and reports the uncertainty; guests then
 * compare the TSC rate the devices give against each other (and against
 * the VMM's CPUID leaf 0x4000_0010 where it exists), so a device running
 * at a wrong rate stands out however fast the host's TSC is.
 */
#ifndef TIMERS_H
#define TIMERS_H

#include "irqtest.h"

#define PIT_CH0      0x40
#define PIT_CH2      0x42
#define PIT_CONTROL  0x43
#define PORT_SYSCTL  0x61
#define PIT_HZ       1193182u

#define PMTIMER_PORT 0x608
#define PMTIMER_HZ   3579545u

#define HPET_MMIO    0xFED00000ull
#define HPET_HZ      100000000u

#define TIMER_GSI    2     /* ISA IRQ 0: the PIT, HPET legacy timer 0 and route 2 */
#define REDIR_LEVEL  (1ull << 15)
#define REDIR_MASKED (1ull << 16)

/* A TSC rate: ticks per second and its relative uncertainty (ppm). */
struct tsc_rate {
    uint64_t hz;
    uint64_t ppm;
};

/* A device read with the TSC on both sides. */
struct stamp {
    uint64_t before, after;
    uint64_t value;
};

static inline uint64_t hpet_read64(uint32_t offset)
{
    return *(volatile uint64_t *)(uintptr_t)(HPET_MMIO + offset);
}

static inline uint32_t hpet_read32(uint32_t offset)
{
    return *(volatile uint32_t *)(uintptr_t)(HPET_MMIO + offset);
}

static inline void hpet_write64(uint32_t offset, uint64_t value)
{
    *(volatile uint64_t *)(uintptr_t)(HPET_MMIO + offset) = value;
}

static inline void hpet_write32(uint32_t offset, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)(HPET_MMIO + offset) = value;
}

static inline struct stamp stamp_pmtimer(uint16_t port)
{
    struct stamp s;
    s.before = rdtsc();
    s.value = inl(port);
    s.after = rdtsc();
    return s;
}

static inline struct stamp stamp_hpet(void)
{
    struct stamp s;
    s.before = rdtsc();
    s.value = hpet_read64(0xF0);
    s.after = rdtsc();
    return s;
}

/* The rate from two stamps `ticks` device clocks of `hz` apart. */
static inline struct tsc_rate rate_between(struct stamp a, struct stamp b, uint64_t ticks, uint64_t hz)
{
    uint64_t mid = (b.before + b.after) / 2 - (a.before + a.after) / 2;
    uint64_t slack = (a.after - a.before + b.after - b.before) / 2;
    struct tsc_rate r = { 0, 1000000 };
    if (ticks == 0 || mid == 0)
        return r;
    r.hz = mid * hz / ticks;   /* mid < 2^40 and hz < 2^27 for these intervals */
    r.ppm = slack * 1000000 / mid;
    return r;
}

/* A bound on every wait for a device: 2^36 TSC ticks (17 s at 4 GHz), so
 * that a missing or stuck device fails a check instead of hanging. */
#define WAIT_TSC_MAX (1ull << 36)

/* Spin until the PM timer at `port` advanced by `ticks` (< 2^23). */
static inline void pmtimer_wait(uint16_t port, uint32_t ticks)
{
    uint32_t p0 = inl(port);
    uint64_t t0 = rdtsc();
    while (((inl(port) - p0) & 0xFFFFFF) < ticks && rdtsc() - t0 < WAIT_TSC_MAX)
        ;
}

/* The TSC rate against the PM timer at `port` (24-bit) over `ms`. */
static inline struct tsc_rate tsc_rate_pmtimer(uint16_t port, unsigned ms)
{
    uint32_t want = PMTIMER_HZ / 1000 * ms;
    struct stamp a = stamp_pmtimer(port), b;
    do
        b = stamp_pmtimer(port);
    while (((b.value - a.value) & 0xFFFFFF) < want && b.after - a.before < WAIT_TSC_MAX);
    return rate_between(a, b, (b.value - a.value) & 0xFFFFFF, PMTIMER_HZ);
}

/* The TSC rate against the HPET's main counter (enabled) over `ms`. */
static inline struct tsc_rate tsc_rate_hpet(unsigned ms)
{
    uint64_t want = (uint64_t)HPET_HZ / 1000 * ms;
    struct stamp a = stamp_hpet(), b;
    do
        b = stamp_hpet();
    while (b.value - a.value < want && b.after - a.before < WAIT_TSC_MAX);
    return rate_between(a, b, b.value - a.value, HPET_HZ);
}

/* The TSC rate against PIT channel 2, as Linux's pit_calibrate_tsc() does
 * it: gate on through port 0x61, mode 0 with count N, and the time until
 * port 0x61 bit 5 (OUT) goes high.  The count starts at the MSB write. */
static inline struct tsc_rate tsc_rate_pit(unsigned ms)
{
    uint32_t n = PIT_HZ / 1000 * ms;   /* at most 54 ms */
    struct stamp start, low, high;

    outb(PORT_SYSCTL, (uint8_t)((inb(PORT_SYSCTL) & ~0x02) | 0x01));
    outb(PIT_CONTROL, 0xB0);           /* channel 2, LSB then MSB, mode 0 */
    outb(PIT_CH2, (uint8_t)n);
    start.before = rdtsc();
    outb(PIT_CH2, (uint8_t)(n >> 8));
    start.after = rdtsc();
    low = start;
    for (;;) {
        if (rdtsc() - start.before > WAIT_TSC_MAX)
            return (struct tsc_rate){ 0, 1000000 };
        high.before = rdtsc();
        high.value = inb(PORT_SYSCTL) & 0x20;
        high.after = rdtsc();
        if (high.value)
            break;
        low = high;
    }
    /* OUT went high between the last low read and the first high one. */
    struct stamp end = { low.before, high.after, 0 };
    return rate_between(start, end, n, PIT_HZ);
}

/* The more certain of two measurements. */
static inline struct tsc_rate rate_better(struct tsc_rate a, struct tsc_rate b)
{
    return b.ppm < a.ppm ? b : a;
}

/* Measurements are repeated, keeping the most certain of each, until
 * every pair is within this (or RATE_ATTEMPTS ran): an exit that took a
 * loaded host's time slice spoils one measurement, not the check. */
#define NOISE_MAX_PPM 50000
#define RATE_ATTEMPTS 6
#define NO_RATE ((struct tsc_rate){ 0, 1000000 })

/* |a - b| / b in ppm. */
static inline uint64_t ppm_apart(uint64_t a, uint64_t b)
{
    uint64_t d = a > b ? a - b : b - a;
    return b ? d * 1000000 / b : 1000000;
}

/* The VMM's TSC frequency (CPUID 0x4000_0010, kHz -> Hz), or 0 on a
 * hypervisor without that leaf (plain QEMU). */
static inline uint64_t tsc_hz_cpuid(void)
{
    uint32_t r[4];
    cpuid(0x40000000, 0, r);
    if (r[1] != 0x72706f43u || r[2] != 0x706f4361u || r[3] != 0x6f436172u)   /* "CopraCopraCo" */
        return 0;
    cpuid(0x40000010, 0, r);
    return (uint64_t)r[0] * 1000;
}

/* Agreement of two TSC rates within `tolerance_ppm` plus both measurements'
 * own uncertainty; prints both. */
static inline bool rates_agree(const char *a_name, struct tsc_rate a, const char *b_name,
                               struct tsc_rate b, uint64_t tolerance_ppm)
{
    uint64_t apart = ppm_apart(a.hz, b.hz);
    guest_printf("TSC by %s: %llu Hz (+-%llu ppm); by %s: %llu Hz (+-%llu ppm); %llu ppm apart\n",
                 a_name, (unsigned long long)a.hz, (unsigned long long)a.ppm, b_name,
                 (unsigned long long)b.hz, (unsigned long long)b.ppm, (unsigned long long)apart);
    return apart <= tolerance_ppm + a.ppm + b.ppm;
}

/* Interrupts on for `ms` of TSC time; returns the TSC ticks that passed.
 * `halt`: wait in `sti; hlt` as an idle OS does (only while interrupts are
 * sure to come: nothing else ends the HLT), else spin. */
static inline uint64_t irq_window(uint64_t tsc_hz, unsigned ms, bool halt)
{
    uint64_t t0 = rdtsc(), want = tsc_hz / 1000 * ms;
    if (halt) {
        while (rdtsc() - t0 < want)
            __asm__ volatile("sti; hlt; cli" ::: "memory");
    } else {
        __asm__ volatile("sti" ::: "memory");
        while (rdtsc() - t0 < want)
            __asm__ volatile("pause");
        __asm__ volatile("cli" ::: "memory");
    }
    return rdtsc() - t0;
}

/* A periodic interrupt at num/den Hz counted by *counter over `ms` of TSC
 * time, halting: none extra (at most two more than the periods that
 * passed: edges latched before the window, in the IOAPIC's or PIC's IRR,
 * arrive in it), and no fewer than two thirds.  A loaded host delays the models
 * and irqd (and QEMU's own PIT) and coalesces edges, so a window that came
 * short is tried again, up to 3 times; a device at half the rate never
 * reaches two thirds, one at twice the rate always exceeds the bound. */
static inline bool irq_rate_ok(const char *what, volatile unsigned *counter, uint64_t tsc_hz,
                               uint64_t num, uint64_t den, unsigned ms)
{
    for (unsigned attempt = 0; attempt < 3; attempt++) {
        unsigned start = *counter;
        uint64_t elapsed = irq_window(tsc_hz, ms, true);
        unsigned got = *counter - start;
        unsigned want = (unsigned)(elapsed * num / den / tsc_hz);
        guest_printf("%s: %u interrupts in %llu TSC ticks (expected %u)\n", what, got,
                     (unsigned long long)elapsed, want);
        if (got > want + 2)
            return false;
        if (got * 3 >= want * 2)
            return true;
    }
    return false;
}

/* Spin for `ticks` TSC ticks. */
static inline void tsc_delay(uint64_t ticks)
{
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < ticks)
        __asm__ volatile("pause");
}

#endif
