/* SPDX-License-Identifier: MIT */
/*
 * What one LAPIC timer interrupt costs the whole machine, in instructions,
 * run under `-icount shift=0` with one host CPU (tests/qemu/irqvmm.c runs
 * it; qemu.bench lapic_timer_interrupt).  With icount every instruction
 * QEMU executes -- guest, kernel, irqd, the harness -- advances the
 * virtual clock by 1 ns, and the TSC the guest reads is that clock, so TSC
 * ticks are instructions executed by anyone.
 *
 * Method: the guest spins `count++` until W TSC ticks have passed, twice:
 * once with the LAPIC timer off (C0 iterations), once with a periodic
 * timer interrupt (vector 0x40, EOI in the handler) arriving n times
 * (C1 iterations).  Everything else that takes the CPU (the kernel's own
 * tick, QEMU's) does so in both windows alike, so the loop iterations lost
 * are what the interrupts cost:
 *     cost per interrupt = W * (C0 - C1) / (C0 * n)  instructions,
 * the kernel timer expiring, irqd woken and scheduled, IRQ_INJECT, the
 * VCPU kicked and re-entered with the event, the guest's handler, its EOI
 * write (an MMIO exit served by irqd) and the resumption -- everything
 * from the timer to the loop running again.
 */
#include "irqtest.h"

#define TIMER_VECTOR 0x40
#define WINDOW       200000000ull   /* TSC ticks = instructions under icount */
#define PERIOD_NS    1000000u       /* 1 ms (the kernel's timer resolution): ~200 per window */

static volatile unsigned ticks;

static void on_timer(struct guest_frame *frame)
{
    (void)frame;
    ticks++;
    lapic_eoi();
}

static uint64_t spin(uint64_t window)
{
    uint64_t count = 0, t0 = rdtsc();
    while (rdtsc() - t0 < window)
        count++;
    return count;
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    (void)cpu;
    idt_init();
    idt_set_handler(TIMER_VECTOR, on_timer);
    lapic_write(LAPIC_SVR, 0x1FF);
    lapic_write(LAPIC_TIMER_DIVIDE, 0xB);

    spin(WINDOW / 10);   /* warm up */
    uint64_t c0 = spin(WINDOW);

    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, PERIOD_NS);
    __asm__ volatile("sti");
    spin(WINDOW / 10);
    unsigned n0 = ticks;
    uint64_t c1 = spin(WINDOW);
    unsigned n = ticks - n0;
    __asm__ volatile("cli");
    lapic_write(LAPIC_TIMER_INITIAL, 0);

    guest_printf("idle window: %llu iterations; with the timer: %llu iterations, %u interrupts\n",
                 (unsigned long long)c0, (unsigned long long)c1, n);
    CHECK("interrupts arrived", n > 0);
    CHECK("they cost something", c1 < c0);
    if (n > 0 && c1 < c0) {
        uint64_t cost = WINDOW * (c0 - c1) / (c0 * n);
        guest_printf("bench lapic_timer_interrupt %llu insns\n", (unsigned long long)cost);
    }
    return guest_finish();
}
