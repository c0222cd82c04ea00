/* SPDX-License-Identifier: MIT */
/*
 * The IOAPIC, served by irqd, with GSI 4 driven by the harness
 * (tests/qemu/irqvmm.c, port 0x530): the version register, redirection
 * entries read back, an edge entry, a level entry with remote IRR cleared
 * by the LAPIC's EOI broadcast (and the interrupt repeating while the line
 * stays asserted), a masked level entry delivering when unmasked, and a
 * logical (flat) destination.  The PIC stays masked.
 */
#include "irqtest.h"

#define GSI          4
#define EDGE_VECTOR  0x44
#define LEVEL_VECTOR 0x45
#define LOGICAL_VECTOR 0x46
#define REDIR_LEVEL  (1ull << 15)
#define REDIR_MASKED (1ull << 16)
#define REDIR_LOGICAL (1ull << 11)
#define REMOTE_IRR   (1u << 14)

static volatile unsigned hits[256];
static volatile unsigned keep_asserted;
static volatile bool remote_irr_in_handler, tmr_in_handler;

static void on_edge(struct guest_frame *frame)
{
    hits[frame->vector]++;
    lapic_eoi();
}

static void on_level(struct guest_frame *frame)
{
    hits[frame->vector]++;
    remote_irr_in_handler = (ioapic_read(0x10 + 2 * GSI) & REMOTE_IRR) != 0;
    tmr_in_handler = lapic_bit(LAPIC_TMR, (unsigned)frame->vector);
    if (keep_asserted > 0)
        keep_asserted--;
    else
        line(GSI, LINE_LOWER);   /* the device is served */
    lapic_eoi();                 /* broadcast to the IOAPIC: level vector */
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("ioapic_irq guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(EDGE_VECTOR, on_edge);
    idt_set_handler(LEVEL_VECTOR, on_level);
    idt_set_handler(LOGICAL_VECTOR, on_edge);
    outb(0x21, 0xFF);   /* PIC masked: everything through the IOAPIC */
    outb(0xA1, 0xFF);
    lapic_write(LAPIC_SVR, 0x1FF);

    /* 1. Registers. */
    CHECK_EQ("version 0x11, 24 entries", ioapic_read(0x01), 0x00170011);
    CHECK_EQ("entry 4 masked at reset", ioapic_read(0x10 + 2 * GSI), REDIR_MASKED);
    ioapic_redirect(GSI, 0x0000000000000000ull | REDIR_MASKED | EDGE_VECTOR);
    CHECK_EQ("entry reads back", ioapic_read(0x10 + 2 * GSI), REDIR_MASKED | EDGE_VECTOR);
    ioapic_write(0x11 + 2 * GSI, 0xFF000000u);
    CHECK_EQ("destination reads back", ioapic_read(0x11 + 2 * GSI), 0xFF000000u);

    /* 2. Edge, physical destination 0. */
    ioapic_redirect(GSI, EDGE_VECTOR);
    line(GSI, LINE_PULSE);
    wait_for(&hits[EDGE_VECTOR], 1, 100);
    CHECK_EQ("edge GSI 4 -> vector 0x44", hits[EDGE_VECTOR], 1);
    line(GSI, LINE_RAISE);
    wait_for(&hits[EDGE_VECTOR], 2, 100);
    CHECK_EQ("a raise is an edge too", hits[EDGE_VECTOR], 2);
    CHECK("staying high is not another edge", !wait_polling(&hits[EDGE_VECTOR], 3, 5000));
    line(GSI, LINE_LOWER);

    /* 3. Level: remote IRR while in service; EOI with the line still up
     * delivers again; lowered and EOIed: quiet. */
    ioapic_redirect(GSI, REDIR_LEVEL | LEVEL_VECTOR);
    keep_asserted = 2;
    line(GSI, LINE_RAISE);
    wait_for(&hits[LEVEL_VECTOR], 3, 100);
    CHECK_EQ("level GSI 4 repeats until served", hits[LEVEL_VECTOR], 3);
    CHECK("remote IRR set in the handler", remote_irr_in_handler);
    CHECK("TMR bit set for the level vector", tmr_in_handler);
    CHECK("quiet once lowered", !wait_polling(&hits[LEVEL_VECTOR], 4, 5000));
    CHECK_EQ("remote IRR clear after the EOI", ioapic_read(0x10 + 2 * GSI) & REMOTE_IRR, 0);
    CHECK("TMR bit still set (last delivery was level)", lapic_bit(LAPIC_TMR, LEVEL_VECTOR));

    /* 4. Asserted while masked; unmasking delivers. */
    ioapic_redirect(GSI, REDIR_MASKED | REDIR_LEVEL | LEVEL_VECTOR);
    line(GSI, LINE_RAISE);
    CHECK("masked: not delivered", !wait_polling(&hits[LEVEL_VECTOR], 4, 5000));
    ioapic_redirect(GSI, REDIR_LEVEL | LEVEL_VECTOR);
    wait_for(&hits[LEVEL_VECTOR], 4, 100);
    CHECK_EQ("unmasked with the line up: delivered", hits[LEVEL_VECTOR], 4);

    /* 5. Logical destination, flat model: LDR bit 0. */
    lapic_write(LAPIC_DFR, 0xFFFFFFFF);
    lapic_write(LAPIC_LDR, 0x01000000);
    ioapic_redirect(GSI, 0x0100000000000000ull | REDIR_LOGICAL | LOGICAL_VECTOR);
    line(GSI, LINE_PULSE);
    wait_for(&hits[LOGICAL_VECTOR], 1, 100);
    CHECK_EQ("logical destination 0x01", hits[LOGICAL_VECTOR], 1);
    ioapic_redirect(GSI, 0x0200000000000000ull | REDIR_LOGICAL | LOGICAL_VECTOR);
    line(GSI, LINE_PULSE);
    CHECK("logical destination 0x02 is nobody", !wait_polling(&hits[LOGICAL_VECTOR], 2, 5000));

    CHECK("nothing left in service", !lapic_bit(LAPIC_ISR, LEVEL_VECTOR) &&
                                     !lapic_bit(LAPIC_ISR, EDGE_VECTOR));
    return guest_finish();
}
