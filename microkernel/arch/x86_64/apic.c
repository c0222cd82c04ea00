/* SPDX-License-Identifier: MIT */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"

#define APIC_ID       0x020
#define APIC_EOI      0x0B0
#define APIC_SVR      0x0F0
#define APIC_ICR_LO   0x300
#define APIC_ICR_HI   0x310
#define APIC_LVT_TMR  0x320
#define APIC_LVT_LINT0 0x350
#define APIC_TMR_INIT 0x380
#define APIC_TMR_CUR  0x390
#define APIC_TMR_DIV  0x3E0
#define APIC_LVT_PERIODIC (1u << 17)
#define APIC_LVT_MASKED   (1u << 16)

#define PIT_HZ 1193182u
#define CALIBRATE_MS 10u

static volatile uint32_t *apic;
/* CPUID.1:ECX[21]: x2APIC mode, the registers are MSRs 0x800 + offset / 16
 * (SDM vol. 3 §10.12).  A TD has only this mode (its xAPIC page is MMIO, a
 * #VE); QEMU 7.2's TCG has only the other. */
static bool x2apic;
static uint32_t apic_ticks_per_tick;
static uint64_t tsc_freq;
static uint64_t tsc_boot;
static uint64_t ns_per_tsc_q32;   /* nanoseconds per TSC tick, 32.32 fixed point */

static inline uint32_t apic_read(uint32_t reg) { return x2apic ? (uint32_t)rdmsr(0x800 + reg / 16) : apic[reg / 4]; }

static inline void apic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(0x800 + reg / 16, v);
    else
        apic[reg / 4] = v;
}

uint32_t apic_id(void) { return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24; }
void apic_eoi(void) { apic_write(APIC_EOI, 0); }
uint64_t tsc_hz(void) { return tsc_freq; }

uint64_t time_ns(void)
{
    uint64_t d = rdtsc() - tsc_boot;
    return (uint64_t)(((__uint128_t)d * ns_per_tsc_q32) >> 32);
}

/* Busy-waits CALIBRATE_MS on PIT channel 2 (gate on port 0x61, no IRQ). */
static void pit_wait(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xB0);               /* channel 2, lo/hi, mode 0 */
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
    while (!(inb(0x61) & 0x20))
        cpu_relax();
}

void apic_init(void)
{
    /* The legacy PICs stay masked: Copra takes only local-APIC interrupts. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);

    uint32_t r[4];
    cpuid(1, 0, r);
    x2apic = r[2] & (1u << 21);
    if (!x2apic)
        apic = paging_map_mmio(rdmsr(MSR_APIC_BASE) & ~0xFFFull);
    apic_init_ap();   /* enables it */

    apic_write(APIC_TMR_DIV, 0x3);  /* divide by 16 */
    apic_write(APIC_LVT_TMR, APIC_LVT_MASKED);
    /* A host that stalls this CPU during the wait (a loaded QEMU host) only
     * lengthens it: of five waits the shortest is the truest. */
    uint64_t best = ~0ull;
    uint32_t elapsed = 0;
    for (unsigned i = 0; i < 5; i++) {
        apic_write(APIC_TMR_INIT, 0xFFFFFFFFu);
        uint64_t t0 = rdtsc();
        pit_wait();
        uint64_t t1 = rdtsc();
        uint32_t ticks = 0xFFFFFFFFu - apic_read(APIC_TMR_CUR);
        if (t1 - t0 < best) {
            best = t1 - t0;
            elapsed = ticks;
        }
    }
    apic_write(APIC_TMR_INIT, 0);
    tsc_freq = best * (1000 / CALIBRATE_MS);
    apic_ticks_per_tick = (uint32_t)MAX((uint64_t)elapsed * (1000 / CALIBRATE_MS) / TICK_HZ, 1);
    ns_per_tsc_q32 = (1000000000ull << 32) / tsc_freq;
    tsc_boot = rdtsc();
}

void apic_timer_start(void)
{
    apic_write(APIC_TMR_DIV, 0x3);
    apic_write(APIC_LVT_TMR, APIC_LVT_PERIODIC | VECTOR_TIMER);
    apic_write(APIC_TMR_INIT, apic_ticks_per_tick);
}

void apic_init_ap(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11) | (x2apic ? 1u << 10 : 0));   /* EN, EXTD */
    apic_write(APIC_SVR, 0x100 | VECTOR_SPURIOUS);
    /* The PIC's output (LINT0) stays masked: a guest's x87 error with
     * CR0.NE=0 raises FERR# through QEMU's PIC, which would otherwise reach
     * this LAPIC from the guest's TCG thread without QEMU's lock, an abort. */
    apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
}

static void apic_icr(uint32_t apic_id, uint32_t low)
{
    if (x2apic) {   /* one MSR, the destination in 63:32, no delivery status */
        wrmsr(0x830, (uint64_t)apic_id << 32 | low);
        return;
    }
    apic_write(APIC_ICR_HI, apic_id << 24);
    apic_write(APIC_ICR_LO, low);
    while (apic_read(APIC_ICR_LO) & (1u << 12))   /* delivery pending */
        cpu_relax();
}

void apic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    uint64_t f = irq_save();   /* ICR_HI/ICR_LO is a two-write sequence */
    apic_icr(apic_id, vector);
    irq_restore(f);
}

void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_freq / 1000000 * us;
    while (rdtsc() < end)
        cpu_relax();
}

/* Intel SDM vol. 3 §8.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI. */
void apic_start_cpu(uint32_t apic_id, uint64_t trampoline_pa)
{
    apic_icr(apic_id, 0x4500);                                  /* INIT, level assert */
    delay_us(10000);
    for (int i = 0; i < 2; i++) {
        apic_icr(apic_id, 0x4600 | (uint32_t)(trampoline_pa >> 12)); /* start-up */
        delay_us(200);
    }
}
