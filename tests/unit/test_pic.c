/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/irqd/pic.c: the 8259A pair and the ELCR, and the
 * PIC's path through irqchip.c (ExtINT to VCPU 0). */
#include <check.h>
#include <stdlib.h>

#include "irqchip.h"
#include "pic.h"

static struct pic pic;

/* The initialisation Linux and most PC kernels use: master base 0x20,
 * slave base 0x28, cascade on IR2, 8086 mode; everything masked after. */
static void pic_init_pc(struct pic *p, uint8_t icw4)
{
    pic_write(p, 0x20, 0x11);
    pic_write(p, 0x21, 0x20);
    pic_write(p, 0x21, 0x04);
    pic_write(p, 0x21, icw4);
    pic_write(p, 0xA0, 0x11);
    pic_write(p, 0xA1, 0x28);
    pic_write(p, 0xA1, 0x02);
    pic_write(p, 0xA1, icw4);
}

static void setup(void)
{
    pic_reset(&pic);
    pic_init_pc(&pic, 0x01);
}

static void pulse(unsigned irq)
{
    pic_set_line(&pic, irq, true, 1);
    pic_set_line(&pic, irq, false, 0);
}

START_TEST(test_reset_state)
{
    struct pic p;
    pic_reset(&p);
    ck_assert_uint_eq(p.chip[0].init, PIC_READY);
    ck_assert_uint_eq(pic_read(&p, 0x21), 0);
    ck_assert_uint_eq(p.chip[0].vector_base, 0x08);
    ck_assert_uint_eq(p.chip[1].vector_base, 0x70);
    ck_assert(!pic_output(&p));
}
END_TEST

START_TEST(test_init_sequence)
{
    ck_assert_uint_eq(pic.chip[0].init, PIC_READY);
    ck_assert_uint_eq(pic.chip[1].init, PIC_READY);
    ck_assert_uint_eq(pic.chip[0].vector_base, 0x20);
    ck_assert_uint_eq(pic.chip[1].vector_base, 0x28);
    ck_assert_uint_eq(pic.chip[0].icw3, 0x04);
    ck_assert_uint_eq(pic.chip[1].icw3, 0x02);
    ck_assert_uint_eq(pic_read(&pic, 0x21), 0);   /* ICW1 clears the mask */
    pic_write(&pic, 0x21, 0xFB);                   /* OCW1 */
    ck_assert_uint_eq(pic_read(&pic, 0x21), 0xFB);
    ck_assert_uint_eq(pic_read(&pic, 0xA1), 0x00);

    /* ICW2 with low bits set: the base keeps only bits 3-7. */
    pic_write(&pic, 0x20, 0x11);
    pic_write(&pic, 0x21, 0x37);
    ck_assert_uint_eq(pic.chip[0].init, PIC_WANT_ICW3);
    pic_write(&pic, 0x21, 0x04);
    ck_assert_uint_eq(pic.chip[0].init, PIC_WANT_ICW4);
    pic_write(&pic, 0x21, 0x01);
    ck_assert_uint_eq(pic.chip[0].vector_base, 0x30);

    /* Single mode without ICW4: ICW2 ends the sequence. */
    pic_write(&pic, 0x20, 0x12);
    pic_write(&pic, 0x21, 0x40);
    ck_assert_uint_eq(pic.chip[0].init, PIC_READY);
    pic_write(&pic, 0x21, 0x55);
    ck_assert_uint_eq(pic_read(&pic, 0x21), 0x55);
}
END_TEST

START_TEST(test_edge_delivery_and_eoi)
{
    pulse(4);
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_intack(&pic), 0x24);
    ck_assert_uint_eq(pic.chip[0].isr, 0x10);
    ck_assert_uint_eq(pic.chip[0].irr, 0x00);
    ck_assert(!pic_output(&pic));

    /* Lower priority waits, higher priority nests. */
    pulse(5);
    ck_assert(!pic_output(&pic));
    pulse(1);
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_intack(&pic), 0x21);
    ck_assert_uint_eq(pic.chip[0].isr, 0x12);

    /* Non-specific EOI ends the highest-priority one (IRQ 1). */
    pic_write(&pic, 0x20, 0x20);
    ck_assert_uint_eq(pic.chip[0].isr, 0x10);
    ck_assert(!pic_output(&pic));
    /* Specific EOI for IRQ 4; then IRQ 5 comes. */
    pic_write(&pic, 0x20, 0x64);
    ck_assert_uint_eq(pic.chip[0].isr, 0x00);
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_intack(&pic), 0x25);
    pic_write(&pic, 0x20, 0x20);
    ck_assert(!pic_output(&pic));
}
END_TEST

START_TEST(test_edge_needs_new_edge)
{
    pic_set_line(&pic, 3, true, 1);
    ck_assert_uint_eq(pic_intack(&pic), 0x23);
    pic_write(&pic, 0x20, 0x20);
    /* The line stays high: no second interrupt without a new edge. */
    pic_set_line(&pic, 3, true, 0);
    ck_assert(!pic_output(&pic));
    /* Several edges between two looks give one request. */
    pic_set_line(&pic, 3, true, 3);
    ck_assert_uint_eq(pic_intack(&pic), 0x23);
    ck_assert(!pic_output(&pic));
}
END_TEST

START_TEST(test_mask)
{
    pic_write(&pic, 0x21, 0x10);
    pulse(4);
    ck_assert(!pic_output(&pic));
    ck_assert_uint_eq(pic.chip[0].irr, 0x10);   /* latched while masked */
    pic_write(&pic, 0x21, 0x00);
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_intack(&pic), 0x24);
}
END_TEST

START_TEST(test_ocw3_read_irr_isr)
{
    pic_write(&pic, 0x21, 0xFF);
    pulse(6);
    pulse(7);
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0xC0);   /* IRR after ICW1 */
    pic_write(&pic, 0x21, 0x00);
    ck_assert_uint_eq(pic_intack(&pic), 0x26);
    pic_write(&pic, 0x20, 0x0B);                     /* OCW3: read ISR */
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x40);
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x40);   /* stays selected */
    pic_write(&pic, 0x20, 0x0A);                     /* OCW3: read IRR */
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x80);
    /* OCW3 without RR leaves the selection alone. */
    pic_write(&pic, 0x20, 0x08);
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x80);
}
END_TEST

START_TEST(test_poll)
{
    pulse(5);
    pic_write(&pic, 0x20, 0x0C);                     /* OCW3: poll */
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x85);
    ck_assert_uint_eq(pic.chip[0].isr, 0x20);
    pic_write(&pic, 0x20, 0x0C);
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x00);   /* nothing pending */
}
END_TEST

START_TEST(test_cascade)
{
    pulse(10);   /* slave IR2 */
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_read(&pic, 0x20) & 0x04, 0x04);   /* master IRR shows IR2 */
    ck_assert_uint_eq(pic_intack(&pic), 0x2A);
    ck_assert_uint_eq(pic.chip[0].isr, 0x04);
    ck_assert_uint_eq(pic.chip[1].isr, 0x04);

    /* A higher slave request waits for the master's EOI of IR2. */
    pulse(9);
    ck_assert(!pic_output(&pic));
    pic_write(&pic, 0xA0, 0x20);   /* slave EOI (ends IRQ 10) */
    ck_assert(!pic_output(&pic));
    pic_write(&pic, 0x20, 0x20);   /* master EOI */
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_intack(&pic), 0x29);

    /* Two slave requests pending at once: the second one is not lost. */
    pic_write(&pic, 0xA0, 0x20);
    pic_write(&pic, 0x20, 0x20);
    pic_write(&pic, 0x21, 0xFF);
    pulse(12);
    pulse(14);
    pic_write(&pic, 0x21, 0x00);
    ck_assert_uint_eq(pic_intack(&pic), 0x2C);
    pic_write(&pic, 0xA0, 0x20);
    pic_write(&pic, 0x20, 0x20);
    ck_assert_uint_eq(pic_intack(&pic), 0x2E);

    /* Masking the cascade input masks the whole slave. */
    pic_write(&pic, 0xA0, 0x20);
    pic_write(&pic, 0x20, 0x20);
    pic_write(&pic, 0x21, 0x04);
    pulse(8);
    ck_assert(!pic_output(&pic));
    pic_write(&pic, 0x21, 0x00);
    ck_assert_uint_eq(pic_intack(&pic), 0x28);
}
END_TEST

START_TEST(test_elcr_level)
{
    ck_assert_uint_eq(pic_elcr_read(&pic, 0x4D1), 0);
    pic_elcr_write(&pic, 0x4D0, 0xFF);
    pic_elcr_write(&pic, 0x4D1, 0xFF);
    ck_assert_uint_eq(pic_elcr_read(&pic, 0x4D0), PIC_ELCR_MASTER_WRITABLE);
    ck_assert_uint_eq(pic_elcr_read(&pic, 0x4D1), PIC_ELCR_SLAVE_WRITABLE);
    pic_elcr_write(&pic, 0x4D0, 0x00);
    pic_elcr_write(&pic, 0x4D1, 0x08);   /* IRQ 11 level */

    pic_set_line(&pic, 11, true, 1);
    ck_assert_uint_eq(pic_intack(&pic), 0x2B);
    ck_assert_uint_eq(pic.chip[1].irr, 0x08);   /* level: IRR follows the line */
    pic_write(&pic, 0xA0, 0x20);
    pic_write(&pic, 0x20, 0x20);
    /* Still asserted: asks again after the EOIs. */
    ck_assert(pic_output(&pic));
    ck_assert_uint_eq(pic_intack(&pic), 0x2B);
    pic_write(&pic, 0xA0, 0x20);
    pic_write(&pic, 0x20, 0x20);
    /* Deasserted before the acknowledge: the request goes away. */
    pic_set_line(&pic, 11, false, 0);
    ck_assert(!pic_output(&pic));
    /* A pulse on a level line is gone by the time anyone looks. */
    pic_set_line(&pic, 11, false, 1);
    ck_assert(!pic_output(&pic));
    /* A line already high when it becomes level-sensitive. */
    pic_elcr_write(&pic, 0x4D1, 0x00);
    pic_set_line(&pic, 9, true, 0);
    ck_assert(!pic_output(&pic));
    pic_elcr_write(&pic, 0x4D1, 0x02);
    ck_assert_uint_eq(pic_intack(&pic), 0x29);
}
END_TEST

START_TEST(test_spurious)
{
    ck_assert_uint_eq(pic_intack(&pic), 0x27);
    ck_assert_uint_eq(pic.chip[0].isr, 0);
}
END_TEST

START_TEST(test_auto_eoi)
{
    pic_init_pc(&pic, 0x03);
    pulse(4);
    ck_assert_uint_eq(pic_intack(&pic), 0x24);
    ck_assert_uint_eq(pic.chip[0].isr, 0);
    pulse(5);
    ck_assert_uint_eq(pic_intack(&pic), 0x25);
}
END_TEST

START_TEST(test_icw1_resets_edges_and_mask)
{
    pic_write(&pic, 0x21, 0xFF);
    pulse(4);
    pic_init_pc(&pic, 0x01);
    ck_assert_uint_eq(pic_read(&pic, 0x21), 0);
    ck_assert(!pic_output(&pic));
}
END_TEST

START_TEST(test_diverted)
{
    pic_set_diverted(&pic, 1u << 4 | 1u << PIC_CASCADE_IRQ);
    pulse(4);
    ck_assert(!pic_output(&pic));
    ck_assert_uint_eq(pic_read(&pic, 0x20), 0x10);
    pulse(10);   /* the cascade input cannot be diverted */
    ck_assert_uint_eq(pic_intack(&pic), 0x2A);
}
END_TEST

START_TEST(test_irqchip_extint_to_vcpu0)
{
    static struct irqchip chip;
    irqchip_init(&chip, 2, NULL, NULL, NULL);
    /* A PIC left at the BIOS base 0x08 gives vectors the kernel refuses. */
    irqchip_set_line(&chip, 1, true, 1);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 0);
    ck_assert_uint_eq(chip.stats.low_vectors, 1);

    pic_init_pc(&chip.pic, 0x01);
    irqchip_port_write(&chip, 0x21, 1, 0xEF);      /* only IRQ 4 */
    ck_assert_uint_eq(irqchip_port_read(&chip, 0x21, 1), 0xEF);
    ck_assert_uint_eq(irqchip_port_read(&chip, 0x20, 2), 0xEF00);   /* IRR, IMR */
    irqchip_set_line(&chip, 4, true, 1);
    irqchip_set_line(&chip, 4, false, 0);
    irqchip_evaluate(&chip);
    /* LAPIC 0 software-disabled: the PIC's INTR goes straight to VCPU 0. */
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 0);
    ck_assert_uint_eq(chip.inject[0].vector, 0x24);
    chip.ninject = 0;
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 0);           /* in service until EOI */
    irqchip_port_write(&chip, 0x20, 1, 0x20);

    /* GSI 2 is ISA IRQ 0. */
    irqchip_port_write(&chip, 0x21, 1, 0xFE);
    irqchip_set_line(&chip, 2, true, 1);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, 0x20);
    chip.ninject = 0;
    irqchip_port_write(&chip, 0x20, 1, 0x20);

    /* LAPIC enabled, LINT0 masked: no ExtINT; LINT0 ExtINT: delivered. */
    irqchip_port_write(&chip, 0x21, 1, 0xEF);
    irqchip_lapic_write(&chip, 0, LAPIC_SVR, 4, 0x1FF);
    irqchip_set_line(&chip, 4, true, 1);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 0);
    irqchip_lapic_write(&chip, 1, LAPIC_SVR, 4, 0x1FF);
    irqchip_lapic_write(&chip, 1, LAPIC_LVT_LINT0, 4, 0x700);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
    ck_assert_uint_eq(chip.inject[0].vector, 0x24);
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("irqd_pic");
    TCase *t = tcase_create("pic");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_reset_state);
    tcase_add_test(t, test_init_sequence);
    tcase_add_test(t, test_edge_delivery_and_eoi);
    tcase_add_test(t, test_edge_needs_new_edge);
    tcase_add_test(t, test_mask);
    tcase_add_test(t, test_ocw3_read_irr_isr);
    tcase_add_test(t, test_poll);
    tcase_add_test(t, test_cascade);
    tcase_add_test(t, test_elcr_level);
    tcase_add_test(t, test_spurious);
    tcase_add_test(t, test_auto_eoi);
    tcase_add_test(t, test_icw1_resets_edges_and_mask);
    tcase_add_test(t, test_diverted);
    tcase_add_test(t, test_irqchip_extint_to_vcpu0);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(pic_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
