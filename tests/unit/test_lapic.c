/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/irqd/lapic.c: registers, priority and EOI, the
 * timer on a fake clock, and IPIs through irqchip.c. */
#include <check.h>
#include <stdlib.h>

#include "irqchip.h"
#include "lapic.h"

static struct lapic l;
static struct copra_vapic_page page;   /* the kernel's share (lapic.h) */

static void setup(void)
{
    lapic_reset(&l, 0, &page);
}

static void write_reg(struct lapic *a, uint32_t offset, uint32_t value, uint64_t now)
{
    struct lapic_write_effect e;
    lapic_write(a, offset, 4, value, now, &e);
    ck_assert(!e.send && !e.eoi_broadcast);
}

static struct lapic_write_effect eoi(struct lapic *a)
{
    struct lapic_write_effect e;
    lapic_write(a, LAPIC_EOI, 4, 0, 0, &e);
    return e;
}

static void enable(struct lapic *a)
{
    write_reg(a, LAPIC_SVR, 0x1FF, 0);
}

START_TEST(test_reset_registers)
{
    struct lapic b;
    struct copra_vapic_page bpage = { .irr = { ~0ull }, .tpr = 0x40 };
    lapic_reset(&b, 3, &bpage);
    ck_assert_uint_eq(bpage.apic_base, LAPIC_BASE);   /* EOIs at 0xFEE000B0 in the kernel */
    ck_assert_uint_eq(bpage.irr[0], 0);
    ck_assert(b.timer_changed);                        /* unbind the kernel's timer */
    ck_assert_uint_eq(lapic_read(&b, LAPIC_ID, 4, 0), 3u << 24);
    ck_assert_uint_eq(lapic_read(&b, LAPIC_ID + 3, 1, 0), 3);   /* byte read */
    ck_assert_uint_eq(lapic_read(&b, LAPIC_ID + 4, 4, 0), 0);   /* past the register */
    ck_assert_uint_eq(lapic_read(&b, LAPIC_VER, 4, 0), LAPIC_VERSION);
    ck_assert_uint_eq(lapic_read(&b, LAPIC_SVR, 4, 0), 0xFF);
    ck_assert_uint_eq(lapic_read(&b, LAPIC_DFR, 4, 0), 0xFFFFFFFF);
    ck_assert_uint_eq(lapic_read(&b, LAPIC_TPR, 4, 0), 0);
    for (uint32_t reg = LAPIC_LVT_TIMER; reg <= LAPIC_LVT_ERROR; reg += 0x10)
        ck_assert_uint_eq(lapic_read(&b, reg, 4, 0), LAPIC_LVT_MASKED);
    ck_assert_uint_eq(lapic_read(&b, LAPIC_LVT_CMCI, 4, 0), LAPIC_LVT_MASKED);
    ck_assert(!lapic_enabled(&b));
}
END_TEST

START_TEST(test_register_writes)
{
    write_reg(&l, LAPIC_LDR, 0x12345678, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_LDR, 4, 0), 0x12000000);
    write_reg(&l, LAPIC_DFR, 0x0, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_DFR, 4, 0), 0x0FFFFFFF);
    write_reg(&l, LAPIC_TPR, 0x1234, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TPR, 4, 0), 0x34);
    write_reg(&l, LAPIC_VER, 0, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_VER, 4, 0), LAPIC_VERSION);
    write_reg(&l, LAPIC_SVR, 0xFFFFFFFF, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_SVR, 4, 0), 0x3FF);
    write_reg(&l, LAPIC_ICR_HIGH, 0xFFFFFFFF, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_ICR_HIGH, 4, 0), 0xFF000000);
    write_reg(&l, LAPIC_TIMER_DIVIDE, 0xFF, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_DIVIDE, 4, 0), 0xB);
    /* Writes narrower than 4 bytes or off the register start are ignored. */
    struct lapic_write_effect e;
    lapic_write(&l, LAPIC_TPR, 1, 0x77, 0, &e);
    lapic_write(&l, LAPIC_TPR + 4, 4, 0x77, 0, &e);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TPR, 4, 0), 0x34);
}
END_TEST

START_TEST(test_software_disable)
{
    ck_assert(!lapic_accept(&l, 0x40, false));
    write_reg(&l, LAPIC_LVT_TIMER, 0x20, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_LVT_TIMER, 4, 0), LAPIC_LVT_MASKED | 0x20);
    enable(&l);
    write_reg(&l, LAPIC_LVT_TIMER, 0x20, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_LVT_TIMER, 4, 0), 0x20);
    ck_assert(lapic_accept(&l, 0x40, false));
    /* Disabling masks every LVT. */
    write_reg(&l, LAPIC_SVR, 0xFF, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_LVT_TIMER, 4, 0), LAPIC_LVT_MASKED | 0x20);
}
END_TEST

START_TEST(test_priority_and_eoi)
{
    enable(&l);
    ck_assert(lapic_accept(&l, 0x31, false));
    ck_assert(lapic_accept(&l, 0x45, false));
    ck_assert_uint_eq(lapic_read(&l, LAPIC_IRR + 0x10, 4, 0), 1u << 0x11);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_IRR + 0x20, 4, 0), 1u << 0x05);
    ck_assert_int_eq(lapic_take(&l), 0x45);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_ISR + 0x20, 4, 0), 1u << 0x05);
    ck_assert_uint_eq(lapic_ppr(&l), 0x40);
    ck_assert_int_eq(lapic_take(&l), -1);        /* class 3 < class 4 */
    /* Same class as the one in service: waits too. */
    ck_assert(lapic_accept(&l, 0x4F, false));
    ck_assert_int_eq(lapic_take(&l), -1);
    /* A higher class nests. */
    ck_assert(lapic_accept(&l, 0x50, false));
    ck_assert_int_eq(lapic_take(&l), 0x50);
    struct lapic_write_effect e = eoi(&l);       /* ends 0x50 */
    ck_assert(!e.eoi_broadcast);
    ck_assert_int_eq(lapic_take(&l), -1);
    eoi(&l);                                     /* ends 0x45 */
    ck_assert_int_eq(lapic_take(&l), 0x4F);
    eoi(&l);
    ck_assert_int_eq(lapic_take(&l), 0x31);
    eoi(&l);
    ck_assert_uint_eq(lapic_ppr(&l), 0);
    eoi(&l);                                     /* nothing in service: harmless */
}
END_TEST

START_TEST(test_tpr)
{
    enable(&l);
    write_reg(&l, LAPIC_TPR, 0x50, 0);
    ck_assert(lapic_accept(&l, 0x45, false));
    ck_assert_int_eq(lapic_take(&l), -1);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_PPR, 4, 0), 0x50);
    ck_assert(lapic_accept(&l, 0x61, false));
    ck_assert_int_eq(lapic_take(&l), 0x61);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_PPR, 4, 0), 0x60);
    eoi(&l);
    write_reg(&l, LAPIC_TPR, 0x0, 0);
    ck_assert_int_eq(lapic_take(&l), 0x45);
}
END_TEST

START_TEST(test_level_eoi_broadcast_and_illegal_vector)
{
    enable(&l);
    ck_assert(lapic_accept(&l, 0x71, true));
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TMR + 0x30, 4, 0), 1u << 0x11);
    ck_assert_int_eq(lapic_take(&l), 0x71);
    struct lapic_write_effect e = eoi(&l);
    ck_assert(e.eoi_broadcast);
    ck_assert_uint_eq(e.eoi_vector, 0x71);
    /* An edge delivery of the same vector clears its TMR bit. */
    ck_assert(lapic_accept(&l, 0x71, false));
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TMR + 0x30, 4, 0), 0);

    ck_assert(!lapic_accept(&l, 0x05, false));
    ck_assert_uint_eq(lapic_read(&l, LAPIC_ESR, 4, 0), 0);   /* until an ESR write */
    write_reg(&l, LAPIC_ESR, 0, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_ESR, 4, 0), LAPIC_ESR_RECEIVE_ILLEGAL);
    write_reg(&l, LAPIC_ESR, 0, 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_ESR, 4, 0), 0);
}
END_TEST

START_TEST(test_timer_one_shot)
{
    enable(&l);
    write_reg(&l, LAPIC_TIMER_DIVIDE, 0xB, 0);       /* divide by 1 */
    write_reg(&l, LAPIC_LVT_TIMER, 0x40, 0);         /* one-shot, vector 0x40 */
    write_reg(&l, LAPIC_TIMER_INITIAL, 1000, 5000);
    ck_assert(l.timer_changed);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 6000);
    ck_assert_uint_eq(lapic_timer_period(&l), 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_CURRENT, 4, 5250), 750);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_INITIAL, 4, 5250), 1000);
    ck_assert(lapic_timer_fired(&l));
    ck_assert_int_eq(lapic_take(&l), 0x40);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_CURRENT, 4, 7000), 0);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 0);
    ck_assert(!lapic_timer_fired(&l));               /* a stopped timer stays quiet */
    /* Initial count 0 stops the timer. */
    write_reg(&l, LAPIC_TIMER_INITIAL, 500, 8000);
    write_reg(&l, LAPIC_TIMER_INITIAL, 0, 8100);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 0);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_CURRENT, 4, 8200), 0);
}
END_TEST

START_TEST(test_timer_periodic)
{
    enable(&l);
    write_reg(&l, LAPIC_TIMER_DIVIDE, 0x0, 0);       /* divide by 2 */
    write_reg(&l, LAPIC_LVT_TIMER, 0x20000 | 0x41, 0);
    write_reg(&l, LAPIC_TIMER_INITIAL, 100000, 0);   /* 200 us */
    ck_assert_uint_eq(lapic_timer_period(&l), 200000);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 200000);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_CURRENT, 4, 50000), 75000);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_TIMER_CURRENT, 4, 250000), 75000);   /* reloaded */
    ck_assert(lapic_timer_fired(&l));
    ck_assert(lapic_timer_fired(&l));                /* coalesces in IRR */
    ck_assert_int_eq(lapic_take(&l), 0x41);
    ck_assert_int_eq(lapic_take(&l), -1);
    ck_assert(lapic_timer_deadline(&l) != 0);        /* still running */
    /* Masked: counts on, raises nothing. */
    eoi(&l);
    write_reg(&l, LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | 0x20000 | 0x41, 0);
    ck_assert(!lapic_timer_fired(&l));
    ck_assert_int_eq(lapic_take(&l), -1);
    /* A short period is stretched to the kernel's minimum. */
    write_reg(&l, LAPIC_TIMER_DIVIDE, 0xB, 0);
    write_reg(&l, LAPIC_TIMER_INITIAL, 10, 1000);
    ck_assert_uint_eq(lapic_timer_period(&l), LAPIC_TIMER_MIN_PERIOD_NS);
    /* Switching to one-shot restarts the count. */
    l.timer_changed = false;
    write_reg(&l, LAPIC_LVT_TIMER, 0x41, 2000);
    ck_assert(l.timer_changed);
    ck_assert_uint_eq(lapic_timer_period(&l), 0);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 2010);
}
END_TEST

START_TEST(test_timer_divisors)
{
    static const uint32_t config[8] = { 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB };
    static const uint64_t divisor[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
    enable(&l);
    write_reg(&l, LAPIC_LVT_TIMER, 0x40, 0);
    for (unsigned i = 0; i < 8; i++) {
        write_reg(&l, LAPIC_TIMER_DIVIDE, config[i], 0);
        write_reg(&l, LAPIC_TIMER_INITIAL, 1000, 0);
        ck_assert_uint_eq(lapic_timer_deadline(&l), 1000 * divisor[i]);
    }
}
END_TEST

/* ---- IPIs through the irqchip ------------------------------------------------- */

static struct irqchip chip;

static void chip_setup(unsigned n)
{
    irqchip_init(&chip, n, NULL, NULL, NULL);
    for (unsigned i = 0; i < n; i++)
        irqchip_lapic_write(&chip, i, LAPIC_SVR, 4, 0x1FF);
}

static void send_ipi(unsigned from, uint8_t dest, uint32_t icr_low)
{
    irqchip_lapic_write(&chip, from, LAPIC_ICR_HIGH, 4, (uint32_t)dest << 24);
    irqchip_lapic_write(&chip, from, LAPIC_ICR_LOW, 4, icr_low);
}

START_TEST(test_ipi_fixed_and_shorthands)
{
    chip_setup(3);
    send_ipi(0, 1, 0x4050);   /* fixed, physical, vector 0x50 */
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_POSTED);
    ck_assert_int_eq(lapic_take(&chip.lapic[1]), 0x50);
    ck_assert_uint_eq(irqchip_lapic_read(&chip, 0, LAPIC_ICR_LOW, 4) & (1u << 12), 0);   /* idle */
    chip.ninject = 0;

    send_ipi(2, 0, 0x40000 | 0x61);     /* self */
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 2);
    chip.ninject = 0;

    send_ipi(1, 0, 0xC0000 | 0x72);     /* all but self */
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 2);
    ck_assert_uint_eq(chip.inject[0].vcpu, 0);
    ck_assert_uint_eq(chip.inject[1].vcpu, 2);
    chip.ninject = 0;

    send_ipi(1, 0xFF, 0x83);            /* physical broadcast */
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 3);
    chip.ninject = 0;

    send_ipi(0, 2, 0x400);              /* NMI */
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 2);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_NMI);
    chip.ninject = 0;

    /* INIT resets the target's LAPIC (its SVR too) and reaches it; the
     * de-assert does nothing; STARTUP carries its vector. */
    irqchip_lapic_write(&chip, 1, LAPIC_SVR, 4, 0x1FF);
    send_ipi(0, 1, 0x4500);             /* INIT, assert */
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_INIT);
    ck_assert_uint_eq(irqchip_lapic_read(&chip, 1, LAPIC_SVR, 4) & 0x100, 0);
    send_ipi(0, 1, 0x8500);             /* INIT level de-assert */
    ck_assert_uint_eq(chip.ninject, 1);
    send_ipi(0, 1, 0x4608);             /* STARTUP, vector 8 */
    ck_assert_uint_eq(chip.ninject, 2);
    ck_assert_uint_eq(chip.inject[1].vector, IRQCHIP_VECTOR_SIPI(8));
    send_ipi(0, 1, 0x4200);             /* SMI: counted and ignored */
    ck_assert_uint_eq(chip.stats.ignored_messages, 1);
    chip.ninject = 0;
}
END_TEST

START_TEST(test_ipi_logical)
{
    chip_setup(3);
    for (unsigned i = 0; i < 3; i++)
        irqchip_lapic_write(&chip, i, LAPIC_LDR, 4, (1u << i) << 24);
    send_ipi(0, 0x06, 0x800 | 0x60);     /* flat: VCPUs 1 and 2 */
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 2);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
    ck_assert_uint_eq(chip.inject[1].vcpu, 2);
    chip.ninject = 0;

    /* Cluster model: cluster 1 members 1 and 2 are VCPUs 0 and 1. */
    for (unsigned i = 0; i < 3; i++) {
        irqchip_lapic_write(&chip, i, LAPIC_DFR, 4, 0x0FFFFFFF);
        irqchip_lapic_write(&chip, i, LAPIC_LDR, 4, (i < 2 ? 0x10u | (1u << i) : 0x21u) << 24);
    }
    send_ipi(2, 0x12, 0x800 | 0x71);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
    chip.ninject = 0;

    /* Lowest priority: the destination with the lowest TPR.  A TPR write
     * also hands the class on for the VCPU's CR8. */
    irqchip_lapic_write(&chip, 0, LAPIC_TPR, 4, 0x30);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 0);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_TPR(3));
    chip.ninject = 0;
    send_ipi(2, 0x13, 0x900 | 0x82);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 1);
}
END_TEST

START_TEST(test_ipi_illegal_vector)
{
    chip_setup(2);
    irqchip_lapic_write(&chip, 0, LAPIC_LVT_ERROR, 4, 0xFE);
    send_ipi(0, 1, 0x4005);
    irqchip_evaluate(&chip);
    /* Not sent; the error interrupt fires on the sender instead. */
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vcpu, 0);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_POSTED);
    ck_assert_int_eq(lapic_take(&chip.lapic[0]), 0xFE);
    irqchip_lapic_write(&chip, 0, LAPIC_ESR, 4, 0);
    ck_assert_uint_eq(irqchip_lapic_read(&chip, 0, LAPIC_ESR, 4), LAPIC_ESR_SEND_ILLEGAL);
}
END_TEST

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

START_TEST(test_irqchip_timer)
{
    irqchip_init(&chip, 1, NULL, fake_clock, NULL);
    irqchip_lapic_write(&chip, 0, LAPIC_SVR, 4, 0x1FF);
    irqchip_lapic_write(&chip, 0, LAPIC_TIMER_DIVIDE, 4, 0xB);
    irqchip_lapic_write(&chip, 0, LAPIC_LVT_TIMER, 4, 0x20000 | 0xEF);
    fake_now = 1000000;
    irqchip_lapic_write(&chip, 0, LAPIC_TIMER_INITIAL, 4, 1000000);   /* 1 ms */
    ck_assert_uint_eq(lapic_timer_deadline(&chip.lapic[0]), 2000000);
    fake_now = 1400000;
    ck_assert_uint_eq(irqchip_lapic_read(&chip, 0, LAPIC_TIMER_CURRENT, 4), 600000);
    irqchip_timer_fired(&chip, 0);
    irqchip_evaluate(&chip);
    ck_assert_uint_eq(chip.ninject, 1);
    ck_assert_uint_eq(chip.inject[0].vector, IRQCHIP_VECTOR_POSTED);
    ck_assert_int_eq(lapic_take(&chip.lapic[0]), 0xEF);
}
END_TEST

/* The kernel posts the timer's vector (IRQ_TIMER): what it is bound to. */
START_TEST(test_timer_binding)
{
    ck_assert_uint_eq(lapic_timer_vector(&l), 0);          /* masked at reset */
    enable(&l);
    l.timer_changed = false;
    write_reg(&l, LAPIC_LVT_TIMER, 0x45, 0);
    ck_assert(l.timer_changed);
    ck_assert_uint_eq(lapic_timer_vector(&l), 0x45);
    write_reg(&l, LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | 0x45, 0);
    ck_assert_uint_eq(lapic_timer_vector(&l), 0);
    write_reg(&l, LAPIC_LVT_TIMER, 0x05, 0);               /* an illegal vector posts nothing */
    ck_assert_uint_eq(lapic_timer_vector(&l), 0);
    /* A one-shot the kernel fired already is not re-armed by an LVT write. */
    write_reg(&l, LAPIC_LVT_TIMER, 0x45, 0);
    write_reg(&l, LAPIC_TIMER_DIVIDE, 0xB, 0);
    write_reg(&l, LAPIC_TIMER_INITIAL, 1000, 0);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 1000);
    write_reg(&l, LAPIC_LVT_TIMER, 0x46, 1500);
    ck_assert_uint_eq(lapic_timer_deadline(&l), 0);
    ck_assert_uint_eq(lapic_timer_vector(&l), 0x46);
    /* A software disable unbinds it. */
    l.timer_changed = false;
    write_reg(&l, LAPIC_SVR, 0xFF, 0);
    ck_assert(l.timer_changed);
    ck_assert_uint_eq(lapic_timer_vector(&l), 0);
}
END_TEST

/* The page is the shared state: what the kernel did shows in the registers,
 * and an accepted vector marks the LAPIC for a POSTED notification. */
START_TEST(test_page_shared)
{
    enable(&l);
    ck_assert(!l.posted);
    ck_assert(lapic_accept(&l, 0x93, true));
    ck_assert(l.posted);
    ck_assert_uint_eq(page.irr[2], 1ull << 0x13);
    ck_assert_uint_eq(page.eoi_exit[2], 1ull << 0x13);
    /* The kernel delivers it (IRR -> ISR) ... */
    page.irr[2] = 0;
    page.isr[2] = 1ull << 0x13;
    ck_assert_uint_eq(lapic_read(&l, LAPIC_ISR + 0x40, 4, 0), 1u << 0x13);
    ck_assert_uint_eq(lapic_read(&l, LAPIC_PPR, 4, 0), 0x90);
    /* ... and leaves its EOI to irqd, a level-triggered vector. */
    struct lapic_write_effect e = eoi(&l);
    ck_assert(e.eoi_broadcast);
    ck_assert_uint_eq(page.isr[2], 0);
    write_reg(&l, LAPIC_TPR, 0x20, 0);
    ck_assert_uint_eq(page.tpr, 0x20);
}
END_TEST

static Suite *lapic_suite(void)
{
    Suite *s = suite_create("irqd_lapic");
    TCase *t = tcase_create("lapic");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_reset_registers);
    tcase_add_test(t, test_register_writes);
    tcase_add_test(t, test_software_disable);
    tcase_add_test(t, test_priority_and_eoi);
    tcase_add_test(t, test_tpr);
    tcase_add_test(t, test_level_eoi_broadcast_and_illegal_vector);
    tcase_add_test(t, test_timer_one_shot);
    tcase_add_test(t, test_timer_periodic);
    tcase_add_test(t, test_timer_divisors);
    tcase_add_test(t, test_timer_binding);
    tcase_add_test(t, test_page_shared);
    suite_add_tcase(s, t);
    TCase *w = tcase_create("irqchip");
    tcase_add_test(w, test_ipi_fixed_and_shorthands);
    tcase_add_test(w, test_ipi_logical);
    tcase_add_test(w, test_ipi_illegal_vector);
    tcase_add_test(w, test_irqchip_timer);
    suite_add_tcase(s, w);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(lapic_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
