/* SPDX-License-Identifier: MIT */
/*
 * The 8259A pair, served by irqd, driven through lines GSI 4 and GSI 10
 * that the harness (tests/qemu/irqvmm.c) raises for us on port 0x530:
 * the ICW1-4 initialisation, OCW1 masks, OCW2 non-specific and specific
 * EOI, OCW3 reading IRR and ISR, level lines through the ELCR, the slave
 * on the cascade, and both ways the PIC reaches the CPU: with the LAPIC
 * software-disabled (PIC mode) and through LINT0 in ExtINT mode.
 */
#include "irqtest.h"

#define MASTER_BASE 0x30
#define SLAVE_BASE  0x38
#define IRQ_A       4     /* GSI 4 */
#define IRQ_B       10    /* GSI 10, on the slave */

static volatile unsigned hits[256];
static volatile uint8_t isr_in_handler, irr_in_handler;
static volatile unsigned keep_asserted;   /* level handler: EOIs before lowering the line */

static void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(0xA0, 0x20);
    outb(0x20, 0x20);
}

static void on_irq_a(struct guest_frame *frame)
{
    (void)frame;
    outb(0x20, 0x0B);   /* OCW3: read ISR */
    isr_in_handler = inb(0x20);
    outb(0x20, 0x0A);   /* OCW3: read IRR */
    irr_in_handler = inb(0x20);
    hits[MASTER_BASE + IRQ_A]++;
    if (keep_asserted > 0)
        keep_asserted--;
    else
        line(IRQ_A, LINE_LOWER);   /* the "device" is served: harmless for edges */
    outb(0x20, 0x60 | IRQ_A);   /* specific EOI */
}

static void on_irq_b(struct guest_frame *frame)
{
    (void)frame;
    hits[SLAVE_BASE + IRQ_B - 8]++;
    pic_eoi(IRQ_B);
}

static void pic_init(void)
{
    outb(0x20, 0x11);
    outb(0x21, MASTER_BASE);
    outb(0x21, 1u << 2);
    outb(0x21, 0x01);
    outb(0xA0, 0x11);
    outb(0xA1, SLAVE_BASE);
    outb(0xA1, 2);
    outb(0xA1, 0x01);
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    volatile unsigned *a = &hits[MASTER_BASE + IRQ_A], *b = &hits[SLAVE_BASE + IRQ_B - 8];
    guest_printf("pic_irq guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(MASTER_BASE + IRQ_A, on_irq_a);
    idt_set_handler(SLAVE_BASE + IRQ_B - 8, on_irq_b);

    pic_init();
    CHECK_EQ("ICW1 clears the mask", inb(0x21), 0);
    outb(0x21, (uint8_t)~(1u << IRQ_A | 1u << 2));
    outb(0xA1, (uint8_t)~(1u << (IRQ_B - 8)));
    CHECK_EQ("OCW1 master mask reads back", inb(0x21), 0xEB);
    CHECK_EQ("OCW1 slave mask reads back", inb(0xA1), 0xFB);
    CHECK_EQ("ELCR starts all edge", inb(0x4D0) | inb(0x4D1) << 8, 0);

    /* 1. PIC mode (LAPIC software-disabled): an edge on IRQ 4. */
    line(IRQ_A, LINE_PULSE);
    wait_for(a, 1, 100);
    CHECK_EQ("edge IRQ 4 -> vector 0x34", *a, 1);
    CHECK_EQ("ISR showed IRQ 4 in the handler", isr_in_handler, 1u << IRQ_A);
    outb(0x20, 0x0B);
    CHECK_EQ("ISR empty after the specific EOI", inb(0x20), 0);

    /* 2. Masked: latched in IRR, delivered on unmask. */
    outb(0x21, 0xFF);
    line(IRQ_A, LINE_PULSE);
    CHECK("masked IRQ 4 not delivered", !wait_polling(a, 2, 5000));
    outb(0x20, 0x0A);
    CHECK_EQ("but pending in IRR", inb(0x20) & (1u << IRQ_A), 1u << IRQ_A);
    outb(0x21, (uint8_t)~(1u << IRQ_A | 1u << 2));
    wait_for(a, 2, 100);
    CHECK_EQ("delivered after unmasking", *a, 2);

    /* 3. The slave: IRQ 10 through the cascade. */
    line(IRQ_B, LINE_PULSE);
    wait_for(b, 1, 100);
    CHECK_EQ("slave IRQ 10 -> vector 0x3a", *b, 1);
    outb(0xA0, 0x0B);
    CHECK_EQ("slave ISR clear after EOI", inb(0xA0), 0);

    /* 4. Level through the ELCR: the line stays up while the handler
     * EOIs without serving it (twice), so the interrupt comes again. */
    outb(0x4D0, 1u << IRQ_A);
    CHECK_EQ("ELCR: IRQ 4 level", inb(0x4D0), 1u << IRQ_A);
    outb(0x4D0, 0xFF);
    CHECK_EQ("ELCR: IRQ 0-2 stay edge", inb(0x4D0), 0xF8);
    outb(0x4D0, 1u << IRQ_A);
    keep_asserted = 2;
    line(IRQ_A, LINE_RAISE);
    wait_for(a, 5, 100);
    CHECK_EQ("level IRQ 4 repeats until the device is served", *a, 5);
    CHECK("IRR held the level request in the handler", irr_in_handler & (1u << IRQ_A));
    CHECK("and quiet after", !wait_polling(a, 6, 5000));
    outb(0x20, 0x0A);
    CHECK_EQ("IRR clear with the line low", inb(0x20) & (1u << IRQ_A), 0);
    outb(0x4D0, 0);

    /* 5. Virtual wire: LAPIC enabled, LINT0 masked -> nothing; ExtINT -> delivered. */
    lapic_write(LAPIC_SVR, 0x1FF);
    line(IRQ_A, LINE_PULSE);
    CHECK("LAPIC on, LINT0 masked: the PIC does not reach the CPU", !wait_polling(a, 6, 5000));
    lapic_write(LAPIC_LVT_LINT0, 0x700);   /* ExtINT */
    wait_for(a, 6, 100);
    CHECK_EQ("LINT0 ExtINT: the pending IRQ 4 arrives", *a, 6);

    /* 6. The slave through LINT0 as well (handler: slave EOI, then master). */
    line(IRQ_B, LINE_PULSE);
    wait_for(b, 2, 100);
    CHECK_EQ("slave again through LINT0", *b, 2);
    CHECK("no stray vectors", hits[MASTER_BASE + 7] == 0 && hits[SLAVE_BASE + 7] == 0);
    return guest_finish();
}
