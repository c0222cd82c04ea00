/* SPDX-License-Identifier: MIT */
/*
 * The LAPIC and its timer, served by irqd (tests/qemu/irqvmm.c runs it):
 * registers after reset, software enable through the SVR, the periodic
 * timer counting interrupts against the harness's clock, the current
 * count running down, one-shot mode, a masked LVT, the TPR holding an
 * interrupt back in IRR, ISR/PPR while a handler runs, a self-IPI, and
 * priority: a higher class nests inside a handler, a lower one waits for
 * its EOI (the kernel delivers from the virtual-APIC page and completes
 * these EOIs itself; irqd only sets IRR).
 * irqd's APIC bus clock is 1 GHz: with divide-by-1 one count is 1 ns.
 */
#include "irqtest.h"

#define TIMER_VECTOR    0x40
#define ONESHOT_VECTOR  0x41
#define SELF_VECTOR     0x42
#define SPURIOUS_VECTOR 0xFF
#define LOW_VECTOR      0x55
#define MID_VECTOR      0x60
#define HIGH_VECTOR     0x70
#define PERIOD_COUNT    1000000u   /* 1 ms at divide-by-1 */
#define PERIODS         20u

static volatile unsigned hits[256];
static volatile bool isr_seen, ppr_ok;

static void on_timer(struct guest_frame *frame)
{
    unsigned v = (unsigned)frame->vector;
    if (hits[v] == 0) {
        isr_seen = lapic_bit(LAPIC_ISR, v);
        ppr_ok = (lapic_read(LAPIC_PPR) & 0xF0) == (v & 0xF0);
    }
    hits[v]++;
    lapic_eoi();
}

static void self_ipi(unsigned vector)
{
    lapic_write(LAPIC_ICR_HIGH, 0);
    lapic_write(LAPIC_ICR_LOW, 0x40000 | vector);
}

static volatile unsigned order[8], norder;
static volatile bool low_waited;

/* MID sends LOW (class 5, below its own 6) and HIGH (class 7) to itself
 * and opens IF: HIGH must run at once, LOW only after MID's EOI. */
static void on_nest(struct guest_frame *frame)
{
    unsigned v = (unsigned)frame->vector;
    order[norder++ & 7] = v;
    if (v == MID_VECTOR) {
        self_ipi(LOW_VECTOR);
        self_ipi(HIGH_VECTOR);
        __asm__ volatile("sti");
        delay_us(2000);
        __asm__ volatile("cli");
        low_waited = lapic_bit(LAPIC_IRR, LOW_VECTOR) && !lapic_bit(LAPIC_ISR, LOW_VECTOR) &&
                     (lapic_read(LAPIC_PPR) & 0xF0) == 0x60;
    }
    lapic_eoi();
}

/* TPR 0x50, a 100 us one-shot of vector 0x41 (class 4): wait (IF=1) until
 * it sits in IRR, held by the TPR; returns with IF=0. */
static void oneshot_behind_tpr(void)
{
    lapic_write(LAPIC_TPR, 0x50);
    lapic_write(LAPIC_TIMER_INITIAL, 100000);
    __asm__ volatile("sti");
    uint32_t t0 = clock_us();
    while (!lapic_bit(LAPIC_IRR, ONESHOT_VECTOR) && clock_us() - t0 < 1000000)
        __asm__ volatile("pause");
    __asm__ volatile("cli");
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("lapic_timer guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(TIMER_VECTOR, on_timer);
    idt_set_handler(ONESHOT_VECTOR, on_timer);
    idt_set_handler(SELF_VECTOR, on_timer);
    idt_set_handler(LOW_VECTOR, on_nest);
    idt_set_handler(MID_VECTOR, on_nest);
    idt_set_handler(HIGH_VECTOR, on_nest);

    /* 1. Reset state. */
    CHECK_EQ("LAPIC ID of vcpu 0", lapic_read(LAPIC_ID), 0);
    CHECK_EQ("version 0x14, max LVT 5", lapic_read(LAPIC_VER), 0x00050014);
    CHECK_EQ("SVR 0xff: software-disabled", lapic_read(LAPIC_SVR), 0xFF);
    CHECK_EQ("LVT timer masked", lapic_read(LAPIC_LVT_TIMER), LVT_MASKED);
    lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);
    CHECK_EQ("LVT stays masked while disabled", lapic_read(LAPIC_LVT_TIMER), LVT_MASKED | TIMER_VECTOR);

    /* 2. Software enable; periodic timer, 1 ms. */
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    CHECK_EQ("SVR enable bit", lapic_read(LAPIC_SVR), 0x1FF);
    lapic_write(LAPIC_TIMER_DIVIDE, 0xB);   /* divide by 1 */
    /* The count runs down (masked, one-shot, ~4 s: no wrap however slow the host). */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
    uint32_t c1 = lapic_read(LAPIC_TIMER_CURRENT);
    uint32_t c2 = lapic_read(LAPIC_TIMER_CURRENT);
    CHECK("current count runs down from the initial count", c1 < 0xFFFFFFFFu && c2 < c1 && c2 > 0);
    CHECK_EQ("initial count reads back", lapic_read(LAPIC_TIMER_INITIAL), 0xFFFFFFFFu);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
    uint32_t t0 = clock_us();
    lapic_write(LAPIC_TIMER_INITIAL, PERIOD_COUNT);
    wait_for(&hits[TIMER_VECTOR], PERIODS, 10 * PERIODS);
    uint32_t elapsed = clock_us() - t0;
    guest_printf("%u periodic interrupts in %u us\n", hits[TIMER_VECTOR], elapsed);
    CHECK_EQ("periodic timer: 20 interrupts", hits[TIMER_VECTOR] >= PERIODS, 1);
    CHECK("20 periods of 1 ms take 19 ms or more", elapsed >= (PERIODS - 1) * 1000);
    CHECK("and not forever (under 2 s of clock)", elapsed < 2000000);
    CHECK("ISR bit set while the handler runs", isr_seen);
    CHECK("PPR is the in-service class", ppr_ok);

    /* 3. Stop by writing 0: no more interrupts. */
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    /* What was raised before the stop (one in service, one in IRR, held
     * while IF=0) still comes. */
    __asm__ volatile("sti");
    delay_us(3000);
    __asm__ volatile("cli");
    unsigned before = hits[TIMER_VECTOR];
    __asm__ volatile("sti");
    delay_us(5000);
    __asm__ volatile("cli");
    CHECK_EQ("initial count 0 stops the timer", hits[TIMER_VECTOR], before);
    CHECK_EQ("current count 0 when stopped", lapic_read(LAPIC_TIMER_CURRENT), 0);
    CHECK("nothing in service once the stopped timer's interrupts are handled",
          !lapic_bit(LAPIC_ISR, TIMER_VECTOR) && !lapic_bit(LAPIC_IRR, TIMER_VECTOR));

    /* 4. One-shot, 2 ms, divide by 2: exactly one interrupt. */
    lapic_write(LAPIC_TIMER_DIVIDE, 0x0);
    lapic_write(LAPIC_LVT_TIMER, ONESHOT_VECTOR);
    t0 = clock_us();
    lapic_write(LAPIC_TIMER_INITIAL, PERIOD_COUNT);
    wait_for(&hits[ONESHOT_VECTOR], 1, 100);
    elapsed = clock_us() - t0;
    CHECK_EQ("one-shot fired", hits[ONESHOT_VECTOR], 1);
    CHECK("after 2 ms (1000000 counts at divide-by-2)", elapsed >= 1900);
    __asm__ volatile("sti");
    delay_us(5000);
    __asm__ volatile("cli");
    CHECK_EQ("one-shot fires once", hits[ONESHOT_VECTOR], 1);
    CHECK_EQ("and reads 0 after", lapic_read(LAPIC_TIMER_CURRENT), 0);

    /* 5. Masked LVT: the timer runs, nothing is raised. */
    lapic_write(LAPIC_TIMER_DIVIDE, 0xB);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | TIMER_VECTOR);
    before = hits[TIMER_VECTOR];
    lapic_write(LAPIC_TIMER_INITIAL, PERIOD_COUNT);
    __asm__ volatile("sti");
    delay_us(5000);
    __asm__ volatile("cli");
    CHECK_EQ("masked timer raises nothing", hits[TIMER_VECTOR], before);
    CHECK("but counts", lapic_read(LAPIC_TIMER_CURRENT) != 0);
    lapic_write(LAPIC_TIMER_INITIAL, 0);

    /* 6. TPR 0x50 holds vector 0x41 (class 4) in IRR. */
    lapic_write(LAPIC_LVT_TIMER, ONESHOT_VECTOR);
    oneshot_behind_tpr();
    CHECK_EQ("TPR blocks a lower class", hits[ONESHOT_VECTOR], 1);
    CHECK("the vector waits in IRR", lapic_bit(LAPIC_IRR, ONESHOT_VECTOR));
    CHECK_EQ("PPR = TPR", lapic_read(LAPIC_PPR), 0x50);
    CHECK_EQ("nothing in service (vectors 0x40-0x5f)", lapic_read(LAPIC_ISR + 0x20), 0);
    lapic_write(LAPIC_TPR, 0);
    wait_for(&hits[ONESHOT_VECTOR], 2, 100);
    CHECK_EQ("delivered once the TPR drops", hits[ONESHOT_VECTOR], 2);
    CHECK("IRR clear after", !lapic_bit(LAPIC_IRR, ONESHOT_VECTOR));

    /* 6b. STI's shadow covers one instruction, even one the kernel
     * completes: with the vector pending at IF=0, `sti; out; cli` takes it
     * after the OUT (an IO exit inside the shadow), before the CLI. */
    oneshot_behind_tpr();
    lapic_write(LAPIC_TPR, 0);                  /* injected now, held by IF=0 */
    __asm__ volatile("sti; outb %%al, $0x80; cli" : : "a"(0) : "memory");
    CHECK_EQ("taken right after the instruction in STI's shadow", hits[ONESHOT_VECTOR], 3);

    /* 7. Self-IPI through the ICR. */
    lapic_write(LAPIC_ICR_HIGH, 0);
    lapic_write(LAPIC_ICR_LOW, 0x40000 | SELF_VECTOR);
    wait_for(&hits[SELF_VECTOR], 1, 100);
    CHECK_EQ("self-IPI", hits[SELF_VECTOR], 1);
    CHECK_EQ("ICR delivery status idle", lapic_read(LAPIC_ICR_LOW) & (1u << 12), 0);

    /* 8. Priority classes: nesting and waiting. */
    self_ipi(MID_VECTOR);
    __asm__ volatile("sti");
    wait_for(&norder, 3, 100);
    __asm__ volatile("cli");
    CHECK_EQ("three interrupts", norder, 3);
    CHECK("a higher class nests, a lower one waits for the EOI",
          order[0] == MID_VECTOR && order[1] == HIGH_VECTOR && order[2] == LOW_VECTOR);
    CHECK("the lower one sat in IRR behind the PPR meanwhile", low_waited);

    CHECK("nothing in service at the end", !lapic_bit(LAPIC_ISR, TIMER_VECTOR) &&
                                           !lapic_bit(LAPIC_ISR, ONESHOT_VECTOR) &&
                                           !lapic_bit(LAPIC_ISR, LOW_VECTOR) &&
                                           !lapic_bit(LAPIC_ISR, MID_VECTOR) &&
                                           !lapic_bit(LAPIC_ISR, HIGH_VECTOR));
    return guest_finish();
}
