/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/irqd/ioapic.c: registers, edge and level pins,
 * remote IRR and EOI, and the IOAPIC's path through irqchip.c. */
#include <check.h>
#include <stdlib.h>

#include "ioapic.h"
#include "irqchip.h"

#define MESSAGES_MAX 16

static struct ioapic io;
static struct apic_message messages[MESSAGES_MAX];
static unsigned nmessages;
static bool accept_messages;

static bool record(void *ctx, const struct apic_message *m)
{
    (void)ctx;
    if (nmessages < MESSAGES_MAX)
        messages[nmessages++] = *m;
    return accept_messages;
}

static void setup(void)
{
    ioapic_reset(&io, record, NULL);
    nmessages = 0;
    accept_messages = true;
}

static uint32_t reg_read(uint8_t reg)
{
    ioapic_write(&io, IOAPIC_REGSEL, 4, reg);
    return ioapic_read(&io, IOAPIC_WINDOW, 4);
}

static void reg_write(uint8_t reg, uint32_t value)
{
    ioapic_write(&io, IOAPIC_REGSEL, 4, reg);
    ioapic_write(&io, IOAPIC_WINDOW, 4, value);
}

static void redir_write(unsigned pin, uint64_t e)
{
    reg_write((uint8_t)(0x11 + 2 * pin), (uint32_t)(e >> 32));
    reg_write((uint8_t)(0x10 + 2 * pin), (uint32_t)e);
}

static uint64_t redir_read(unsigned pin)
{
    return (uint64_t)reg_read((uint8_t)(0x11 + 2 * pin)) << 32 | reg_read((uint8_t)(0x10 + 2 * pin));
}

START_TEST(test_registers)
{
    ck_assert_uint_eq(reg_read(IOAPIC_REG_VERSION), 0x00170011);
    ck_assert_uint_eq((reg_read(IOAPIC_REG_VERSION) >> 16) + 1, IOAPIC_PINS);
    ck_assert_uint_eq(reg_read(IOAPIC_REG_ID), 0);
    reg_write(IOAPIC_REG_ID, 0xFFFFFFFF);
    ck_assert_uint_eq(reg_read(IOAPIC_REG_ID), 0x0F000000);
    ck_assert_uint_eq(reg_read(IOAPIC_REG_ARBITRATION), 0x0F000000);
    reg_write(IOAPIC_REG_VERSION, 0);
    ck_assert_uint_eq(reg_read(IOAPIC_REG_VERSION), 0x00170011);
    ck_assert_uint_eq(ioapic_read(&io, IOAPIC_REGSEL, 4), IOAPIC_REG_VERSION);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ck_assert_uint_eq(redir_read(pin), IOAPIC_REDIR_MASKED);
    ck_assert_uint_eq(reg_read(0x10 + 2 * IOAPIC_PINS), 0);   /* past the table */
    /* Read-only bits (delivery status, remote IRR) and reserved high bits. */
    redir_write(5, 0xFFFFFFFFFFFFFFFFull);
    ck_assert_uint_eq(redir_read(5), 0xFF0000000001AFFFull);
    /* Byte write of IOREGSEL, byte read of IOWIN. */
    ioapic_write(&io, IOAPIC_REGSEL, 1, IOAPIC_REG_VERSION);
    ck_assert_uint_eq(ioapic_read(&io, IOAPIC_WINDOW, 1), 0x11);
    ck_assert_uint_eq(ioapic_read(&io, 0x20, 4), 0);
}
END_TEST

START_TEST(test_edge)
{
    redir_write(4, 0x0300000000000034ull);   /* vector 0x34, fixed, physical, dest 3 */
    ioapic_set_line(&io, 4, true, 1);
    ck_assert_uint_eq(nmessages, 1);
    ck_assert_uint_eq(messages[0].vector, 0x34);
    ck_assert_uint_eq(messages[0].destination, 3);
    ck_assert_uint_eq(messages[0].delivery_mode, APIC_DM_FIXED);
    ck_assert(!messages[0].logical);
    ck_assert(!messages[0].level);
    /* Staying high is not another edge; a pulse is. */
    ioapic_set_line(&io, 4, true, 0);
    ck_assert_uint_eq(nmessages, 1);
    ioapic_set_line(&io, 4, false, 1);
    ck_assert_uint_eq(nmessages, 2);
    /* Masked: the edge is dropped, not held. */
    redir_write(4, 0x0300000000010034ull);
    ioapic_set_line(&io, 4, true, 1);
    redir_write(4, 0x0300000000000034ull);
    ck_assert_uint_eq(nmessages, 2);
    ck_assert_uint_eq(redir_read(4) & IOAPIC_REDIR_REMOTE_IRR, 0);
}
END_TEST

START_TEST(test_level_remote_irr)
{
    redir_write(9, 0x000000000000A041ull | (1ull << 11));   /* level, active low, logical */
    ioapic_set_line(&io, 9, true, 1);
    ck_assert_uint_eq(nmessages, 1);
    ck_assert(messages[0].level);
    ck_assert(messages[0].logical);
    ck_assert(redir_read(9) & IOAPIC_REDIR_REMOTE_IRR);
    /* Asserted, but remote IRR: nothing more. */
    ioapic_set_line(&io, 9, true, 1);
    ck_assert_uint_eq(nmessages, 1);
    /* EOI of another vector changes nothing. */
    ioapic_eoi(&io, 0x42);
    ck_assert(redir_read(9) & IOAPIC_REDIR_REMOTE_IRR);
    /* EOI while still asserted: delivered again. */
    ioapic_eoi(&io, 0x41);
    ck_assert_uint_eq(nmessages, 2);
    ck_assert(redir_read(9) & IOAPIC_REDIR_REMOTE_IRR);
    /* Deasserted, then EOI: remote IRR clears, no message. */
    ioapic_set_line(&io, 9, false, 0);
    ioapic_eoi(&io, 0x41);
    ck_assert_uint_eq(nmessages, 2);
    ck_assert_uint_eq(redir_read(9) & IOAPIC_REDIR_REMOTE_IRR, 0);
}
END_TEST

START_TEST(test_level_unmask_delivers)
{
    redir_write(10, 0x0000000000018050ull);   /* level, masked */
    ioapic_set_line(&io, 10, true, 1);
    ck_assert_uint_eq(nmessages, 0);
    redir_write(10, 0x0000000000008050ull);
    ck_assert_uint_eq(nmessages, 1);
    ck_assert_uint_eq(messages[0].vector, 0x50);
}
END_TEST

START_TEST(test_level_refused_and_edge_switch)
{
    accept_messages = false;
    redir_write(11, 0x0000000000008051ull);
    ioapic_set_line(&io, 11, true, 1);
    ck_assert_uint_eq(nmessages, 1);
    ck_assert_uint_eq(redir_read(11) & IOAPIC_REDIR_REMOTE_IRR, 0);   /* nobody took it */
    accept_messages = true;
    ioapic_set_line(&io, 11, true, 0);
    ck_assert_uint_eq(nmessages, 2);
    ck_assert(redir_read(11) & IOAPIC_REDIR_REMOTE_IRR);
    /* Linux's version-0x11 workaround: mask, edge, level clears remote IRR. */
    redir_write(11, 0x0000000000010051ull);
    ck_assert_uint_eq(redir_read(11) & IOAPIC_REDIR_REMOTE_IRR, 0);
    ioapic_set_line(&io, 11, false, 0);
    redir_write(11, 0x0000000000008051ull);
    ck_assert_uint_eq(nmessages, 2);
}
END_TEST

START_TEST(test_delivery_modes)
{
    redir_write(1, 0x0F00000000000961ull);   /* lowest priority, logical, dest 0x0F */
    redir_write(2, 0x0000000000000400ull);   /* NMI */
    redir_write(3, 0x0000000000000700ull);   /* ExtINT */
    ioapic_set_line(&io, 1, true, 1);
    ioapic_set_line(&io, 2, true, 1);
    ioapic_set_line(&io, 3, true, 1);
    ck_assert_uint_eq(nmessages, 3);
    ck_assert_uint_eq(messages[0].delivery_mode, APIC_DM_LOWEST);
    ck_assert(messages[0].logical);
    ck_assert_uint_eq(messages[0].destination, 0x0F);
    ck_assert_uint_eq(messages[1].delivery_mode, APIC_DM_NMI);
    ck_assert_uint_eq(messages[2].delivery_mode, APIC_DM_EXTINT);
    ioapic_set_line(&io, 30, true, 1);   /* no such pin */
    ck_assert_uint_eq(nmessages, 3);
}
END_TEST

/* ---- Through the irqchip: IOAPIC -> LAPIC -> injection ---------------------- */

static struct irqchip chip;

static void chip_ioapic_redir(unsigned pin, uint64_t e)
{
    irqchip_ioapic_write(&chip, IOAPIC_REGSEL, 4, 0x11 + 2 * pin);
    irqchip_ioapic_write(&chip, IOAPIC_WINDOW, 4, (uint32_t)(e >> 32));
    irqchip_ioapic_write(&chip, IOAPIC_REGSEL, 4, 0x10 + 2 * pin);
    irqchip_ioapic_write(&chip, IOAPIC_WINDOW, 4, (uint32_t)e);
}

START_TEST(test_irqchip_level_gsi_to_lapic)
{
    irqchip_init(&chip, 2, NULL, NULL, NULL);
    irqchip_lapic_write(&chip, 1, LAPIC_SVR, 4, 0x1FF);
    chip_ioapic_redir(4, 0x0100000000008061ull);   /* GSI 4 -> APIC 1, vector 0x61, level */
    irqchip_set_line(&chip, 4, true, 1);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_POSTED);
    ck_assert_int_eq(lapic_take(&chip.lapic[1]), 0x61);   /* the kernel delivers it */
    chip.ninject = 0;
    ck_assert_uint_eq(irqchip_lapic_read(&chip, 1, LAPIC_TMR + 0x30, 4), 1u << 1);
    ck_assert_uint_eq(irqchip_lapic_read(&chip, 1, LAPIC_ISR + 0x30, 4), 1u << 1);
    /* EOI with the line still high: again. */
    irqchip_lapic_write(&chip, 1, LAPIC_EOI, 4, 0);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_int_eq(lapic_take(&chip.lapic[1]), 0x61);
    chip.ninject = 0;
    /* The device lowers the line, the guest EOIs: quiet. */
    irqchip_set_line(&chip, 4, false, 0);
    irqchip_lapic_write(&chip, 1, LAPIC_EOI, 4, 0);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 0);
    ck_assert_uint_eq(chip.ioapic.redir[4] & IOAPIC_REDIR_REMOTE_IRR, 0);
}
END_TEST

START_TEST(test_irqchip_routing_ioapic_or_pic)
{
    irqchip_init(&chip, 1, NULL, NULL, NULL);
    /* PIC initialised with IRQ 4 unmasked; LAPIC disabled (PIC mode). */
    irqchip_port_write(&chip, 0x20, 1, 0x11);
    irqchip_port_write(&chip, 0x21, 1, 0x30);
    irqchip_port_write(&chip, 0x21, 1, 0x04);
    irqchip_port_write(&chip, 0x21, 1, 0x01);
    irqchip_port_write(&chip, 0x21, 1, 0xEF);
    irqchip_set_line(&chip, 4, true, 1);
    irqchip_set_line(&chip, 4, false, 0);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, 0x34);
    chip.ninject = 0;
    irqchip_port_write(&chip, 0x20, 1, 0x20);

    /* Unmasked in the IOAPIC: the IOAPIC delivers, the PIC stays quiet. */
    irqchip_lapic_write(&chip, 0, LAPIC_SVR, 4, 0x1FF);
    irqchip_lapic_write(&chip, 0, LAPIC_LVT_LINT0, 4, 0x700);
    chip_ioapic_redir(4, 0x0000000000000044ull);
    ck_assert_uint_eq(chip.pic.diverted, 1u << 4);
    irqchip_set_line(&chip, 4, true, 1);
    irqchip_set_line(&chip, 4, false, 0);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_POSTED);
    ck_assert_int_eq(lapic_take(&chip.lapic[0]), 0x44);
    chip.ninject = 0;

    /* GSI 2 is ISA IRQ 0 for both. */
    ck_assert_uint_eq(irqchip_gsi_to_pic(2), 0);
    ck_assert_uint_eq(irqchip_gsi_to_pic(0), IRQCHIP_NO_PIC_IRQ);
    ck_assert_uint_eq(irqchip_gsi_to_pic(16), IRQCHIP_NO_PIC_IRQ);
    chip_ioapic_redir(2, 0x0000000000000045ull);
    ck_assert_uint_eq(chip.pic.diverted, 1u << 4 | 1u << 0);
}
END_TEST

START_TEST(test_irqchip_ioapic_nmi_extint)
{
    irqchip_init(&chip, 1, NULL, NULL, NULL);
    chip_ioapic_redir(7, 0x0000000000000400ull);   /* NMI to APIC 0 */
    irqchip_set_line(&chip, 7, true, 1);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_NMI);
    chip.ninject = 0;
    /* ExtINT: fetch the vector from the PIC (IRQ 5 pending there). */
    irqchip_port_write(&chip, 0x20, 1, 0x11);
    irqchip_port_write(&chip, 0x21, 1, 0x30);
    irqchip_port_write(&chip, 0x21, 1, 0x04);
    irqchip_port_write(&chip, 0x21, 1, 0x01);
    irqchip_lapic_write(&chip, 0, LAPIC_SVR, 4, 0x1FF);   /* LINT0 masked: no virtual wire */
    irqchip_set_line(&chip, 5, true, 1);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 0);
    chip_ioapic_redir(0, 0x0000000000000700ull);
    irqchip_set_line(&chip, 0, true, 1);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, 0x35);
    /* INIT through a redirection entry reaches the VCPU; SMI is counted and ignored. */
    chip.ninject = 0;
    chip_ioapic_redir(6, 0x0000000000000500ull);
    irqchip_set_line(&chip, 6, true, 1);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_INIT);
    chip_ioapic_redir(7, 0x0000000000000200ull);
    irqchip_set_line(&chip, 7, true, 1);
    ck_assert_uint_eq(chip.stats.ignored_messages, 1);
}
END_TEST

static Suite *ioapic_suite(void)
{
    Suite *s = suite_create("irqd_ioapic");
    TCase *t = tcase_create("ioapic");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_registers);
    tcase_add_test(t, test_edge);
    tcase_add_test(t, test_level_remote_irr);
    tcase_add_test(t, test_level_unmask_delivers);
    tcase_add_test(t, test_level_refused_and_edge_switch);
    tcase_add_test(t, test_delivery_modes);
    suite_add_tcase(s, t);
    TCase *w = tcase_create("irqchip");
    tcase_add_test(w, test_irqchip_level_gsi_to_lapic);
    tcase_add_test(w, test_irqchip_routing_ioapic_or_pic);
    tcase_add_test(w, test_irqchip_ioapic_nmi_extint);
    suite_add_tcase(s, w);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(ioapic_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
