/* SPDX-License-Identifier: MIT */
/*
 * HLT woken by an interrupt.  The guest asks the VMM's test interrupt
 * service (port 0xf0) for a vector about 1 ms later, then HLTs with
 * interrupts enabled: the kernel parks the VCPU (no exit to the VMM) until
 * IRQ_INJECT queues the vector, injects it, and the handler runs.  Also:
 * an interrupt requested while IF=0 waits for STI; an NMI wakes HLT too.
 */
#include "guest.h"

static volatile unsigned hits[256];
static volatile uint64_t last_rip;

static void on_interrupt(struct guest_frame *frame)
{
    hits[frame->vector]++;
    last_rip = frame->rip;
}

/* sti; hlt until `vector` has been seen `want` times, at most `rounds` HLTs. */
static unsigned wait_for(unsigned vector, unsigned want, unsigned rounds)
{
    unsigned halts = 0;
    while (hits[vector] < want && halts < rounds) {
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        halts++;
    }
    return halts;
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("hlt guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(0x40, on_interrupt);
    idt_set_handler(0x41, on_interrupt);
    idt_set_handler(0xfe, on_interrupt);
    idt_set_handler(2, on_interrupt);

    /* 1. One interrupt, one HLT. */
    uint64_t t0 = rdtsc();
    outb(PORT_TEST_IRQ, 0x40);
    unsigned halts = wait_for(0x40, 1, 100);
    uint64_t t1 = rdtsc();
    guest_printf("vector 0x40 after %u HLT(s), %llu TSC ticks\n", halts,
                 (unsigned long long)(t1 - t0));
    CHECK_EQ("HLT with IF=1 woken by vector 0x40", hits[0x40], 1);
    CHECK("the handler interrupted the HLT loop", last_rip > 0x100000 && last_rip < 0x200000);

    /* 2. Requested with IF=0: delivered only after STI. */
    outb(PORT_TEST_IRQ, 0x41);
    for (volatile unsigned i = 0; i < 2000000 && hits[0x41] == 0; i++)
        __asm__ volatile("pause");
    CHECK_EQ("no delivery while IF=0", hits[0x41], 0);
    halts = wait_for(0x41, 1, 100);
    CHECK_EQ("delivered after STI", hits[0x41], 1);

    /* 3. Several in a row, the highest vector. */
    for (unsigned i = 0; i < 5; i++) {
        outb(PORT_TEST_IRQ, 0xfe);
        wait_for(0xfe, i + 1, 100);
    }
    CHECK_EQ("5 interrupts, 5 wake-ups", hits[0xfe], 5);

    /* 4. An NMI (value 0x100) wakes HLT as well. */
    outw(PORT_TEST_IRQ, 0x100);
    wait_for(2, 1, 100);
    CHECK_EQ("NMI wakes HLT", hits[2], 1);

    CHECK("no stray interrupts", hits[0x42] == 0 && hits[0x20] == 0);
    return guest_finish();
}
