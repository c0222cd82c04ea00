/* SPDX-License-Identifier: MIT */
/*
 * What an IPI between two VCPUs costs, in instructions, under `-icount
 * shift=0` with one host CPU (tests/qemu/irqvmm.c runs it;
 * bench.ipi_roundtrip): VCPU 0 sends a fixed IPI to VCPU 1 through irqd's
 * LAPIC ICR and halts (`sti; hlt`) until VCPU 1's handler has answered with
 * one back; VCPU 1 waits in `sti; hlt`.  With icount the TSC counts every
 * instruction anyone executes (guest, kernel, irqd), so TSC ticks per round
 * are the instructions of two IPIs: the ICR write (an MMIO exit irqd
 * serves), IRQ_INJECT, the target VCPU woken from HLT and entered with the
 * vector, its handler and EOI (another MMIO exit), and the same back.
 */
#include "irqtest.h"

#define PING_VECTOR 0x50
#define PONG_VECTOR 0x51
#define ROUNDS      2000u

static volatile unsigned pongs, ap_ready;

static void send_ipi(unsigned apic_id, uint32_t vector)
{
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, 0x4000 | vector);
}

static void on_ping(struct guest_frame *frame)
{
    (void)frame;
    send_ipi(0, PONG_VECTOR);
    lapic_eoi();
}

static void on_pong(struct guest_frame *frame)
{
    (void)frame;
    pongs++;
    lapic_eoi();
}

void guest_ap_main(unsigned cpu)
{
    if (cpu != 1)
        return;
    idt_init();
    lapic_write(LAPIC_SVR, 0x1FF);
    __atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("sti; hlt");
}

static uint64_t rounds(unsigned n)
{
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < n; i++) {
        unsigned want = pongs + 1;
        send_ipi(1, PING_VECTOR);
        while (pongs < want)
            __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    return rdtsc() - t0;
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    (void)cpu;
    idt_set_handler(PING_VECTOR, on_ping);
    idt_set_handler(PONG_VECTOR, on_pong);
    idt_init();
    lapic_write(LAPIC_SVR, 0x1FF);
    while (!__atomic_load_n(&ap_ready, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
    rounds(ROUNDS / 10);   /* warm up */
    unsigned p0 = pongs;
    uint64_t ticks = rounds(ROUNDS);
    CHECK_EQ("every ping answered", pongs - p0, ROUNDS);
    guest_printf("bench ipi_roundtrip %llu insns\n", (unsigned long long)(ticks / ROUNDS));
    return guest_finish();
}
