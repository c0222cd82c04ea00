/* SPDX-License-Identifier: MIT */
/*
 * The HPET model (servers/devmodel/hpet.c, `device hpet`) as QEMU's pc
 * machine has it: capabilities and reset values, the main counter written
 * while halted and running at 100 MHz (its TSC rate checked against the PM
 * timer's and PIT channel 2's), a one-shot and a periodic timer on route 2
 * (IOAPIC pin 2, edge), and in legacy replacement mode a level-triggered
 * timer 1 on ISA IRQ 8 (IOAPIC pin 8) cleared through the status register,
 * and timer 0 on ISA IRQ 0.  Registers are accessed 32 bits wide, as Linux
 * does, except the counter's 64-bit reads in the rate measurement.  Runs
 * unchanged on plain QEMU.
 */
#include "timers.h"

#define EDGE_VECTOR     0x31
#define LEVEL_VECTOR    0x32
#define SPURIOUS_VECTOR 0xFF
#define TOLERANCE_PPM   50000

#define CFG       0x010
#define STATUS    0x020
#define COUNTER   0x0F0
#define TCFG(n)   (0x100 + 0x20 * (n))
#define TCMP(n)   (0x108 + 0x20 * (n))
#define TN_LEVEL    (1u << 1)
#define TN_INT_ENB  (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_SETVAL   (1u << 6)
#define TN_32BIT    (1u << 8)
#define TN_ROUTE(g) ((uint32_t)(g) << 9)

static volatile unsigned edges, levels, empty_levels;
static volatile uint64_t edge_counter;
static volatile uint32_t status_in_handler;

static uint64_t counter(void)
{
    uint32_t hi, lo;
    do {
        hi = hpet_read32(COUNTER + 4);
        lo = hpet_read32(COUNTER);
    } while (hpet_read32(COUNTER + 4) != hi);
    return (uint64_t)hi << 32 | lo;
}

static void on_edge(struct guest_frame *frame)
{
    (void)frame;
    if (edges == 0)
        edge_counter = counter();
    edges++;
    lapic_eoi();
}

static void on_level(struct guest_frame *frame)
{
    (void)frame;
    uint32_t s = hpet_read32(STATUS);
    if (s & 2u) {
        status_in_handler = s;
        levels++;
        hpet_write32(STATUS, 2u);       /* write 1 to clear: the line drops */
    } else {
        empty_levels++;
    }
    lapic_eoi();                        /* level: the EOI goes to the IOAPIC */
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("hpet guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(EDGE_VECTOR, on_edge);
    idt_set_handler(LEVEL_VECTOR, on_level);
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    /* The PIT shares ISA IRQ 0: a one-shot of one count leaves it quiet
     * (on QEMU the BIOS left channel 0 running at 18.2 Hz). */
    outb(PIT_CONTROL, 0x30);
    outb(PIT_CH0, 1);
    outb(PIT_CH0, 0);

    /* 1. Capabilities and reset values. */
    CHECK_EQ("capabilities: vendor 8086, legacy, 64-bit, 3 timers, rev 1", hpet_read32(0x000), 0x8086A201u);
    CHECK_EQ("capabilities: period 10,000,000 fs (100 MHz)", hpet_read32(0x004), 10000000u);
    CHECK_EQ("configuration 0 at reset", hpet_read32(CFG), 0);
    for (unsigned n = 0; n < 3; n++) {
        CHECK_EQ("timer: periodic- and 64-bit-capable, off", hpet_read32(TCFG(n)), 0x30);
        CHECK_EQ("timer: route capability IRQ 2 (QEMU pc)", hpet_read32(TCFG(n) + 4), 0x4);
    }

    /* 2. The main counter: halted, written, then running. */
    uint64_t c0 = counter();
    tsc_delay(1000000);
    CHECK_EQ("halted: the counter stands", counter(), c0);
    hpet_write32(COUNTER + 4, 0);
    hpet_write32(COUNTER, 0x12345678u);
    CHECK_EQ("halted: the counter takes a write", counter(), 0x12345678u);
    hpet_write32(CFG, 1);
    tsc_delay(1000000);
    uint64_t c1 = counter();
    CHECK("enabled: the counter runs", c1 > 0x12345678u);
    hpet_write32(COUNTER, 0);
    CHECK("enabled: a counter write is ignored", counter() >= c1);

    /* 3. 100 MHz: the TSC rate against the PM timer and PIT channel 2. */
    struct tsc_rate by_hpet = NO_RATE, by_pm = NO_RATE, by_pit = NO_RATE;
    for (unsigned attempt = 0; attempt < RATE_ATTEMPTS; attempt++) {
        if (by_hpet.ppm + by_pm.ppm <= NOISE_MAX_PPM && by_hpet.ppm + by_pit.ppm <= NOISE_MAX_PPM)
            break;
        by_hpet = rate_better(by_hpet, tsc_rate_hpet(50));
        by_pm = rate_better(by_pm, tsc_rate_pmtimer(PMTIMER_PORT, 50));
        by_pit = rate_better(by_pit, tsc_rate_pit(50));
    }
    CHECK("rate measurements precise enough (5 %)",
          by_hpet.ppm + by_pm.ppm <= NOISE_MAX_PPM && by_hpet.ppm + by_pit.ppm <= NOISE_MAX_PPM);
    CHECK("the HPET and the PM timer agree on the TSC rate",
          rates_agree("HPET", by_hpet, "PM timer", by_pm, TOLERANCE_PPM));
    CHECK("the HPET and PIT channel 2 agree on the TSC rate",
          rates_agree("HPET", by_hpet, "PIT", by_pit, TOLERANCE_PPM));
    uint64_t tsc_hz = by_pm.hz;

    /* 4. A one-shot timer, 10 ms, route 2 -> IOAPIC pin 2, edge. */
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    uint64_t dest = (uint64_t)(lapic_read(LAPIC_ID) >> 24) << 56;
    ioapic_redirect(TIMER_GSI, dest | EDGE_VECTOR);
    irq_window(tsc_hz, 5, false);                 /* the PIT's last edge, if any, lands */
    edges = 0;
    uint64_t cmp = counter() + 1000000;
    hpet_write32(TCMP(0) + 4, (uint32_t)(cmp >> 32));
    hpet_write32(TCMP(0), (uint32_t)cmp);
    hpet_write32(TCFG(0), TN_INT_ENB | TN_ROUTE(2));
    CHECK_EQ("timer 0: configuration reads back", hpet_read32(TCFG(0)), 0x30 | TN_INT_ENB | TN_ROUTE(2));
    /* Not early is shown by the counter read in the handler (a TSC window
     * cannot: a loaded host may stop the whole VM while the TSC runs on). */
    irq_window(tsc_hz, 100, false);
    CHECK_EQ("one-shot: one interrupt", edges, 1);
    CHECK("one-shot: not before the counter reached the comparator", edge_counter >= cmp);
    CHECK_EQ("edge-triggered: no status bit", hpet_read32(STATUS), 0);
    irq_window(tsc_hz, 20, false);
    CHECK_EQ("one-shot: once", edges, 1);

    /* 5. Periodic, 50 ms (20 Hz, slow enough for a loaded host: see
     * pit.c), in 32-bit mode as Linux programs it, counted over 1 s of TSC
     * with the guest idle in HLT. */
    edges = 0;
    hpet_write32(TCFG(0), TN_INT_ENB | TN_PERIODIC | TN_SETVAL | TN_32BIT | TN_ROUTE(2));
    hpet_write32(TCMP(0), (uint32_t)counter() + 5000000);   /* first match (and period) */
    hpet_write32(TCMP(0), 5000000);                          /* the period */
    CHECK("periodic 50 ms: the rate", irq_rate_ok("periodic 20 Hz", &edges, tsc_hz, 20, 1, 1000));
    hpet_write32(TCFG(0), 0);
    ioapic_redirect(TIMER_GSI, REDIR_MASKED | EDGE_VECTOR);

    /* 6. Legacy replacement: timer 1 -> ISA IRQ 8 (pin 8), level. */
    ioapic_redirect(8, dest | REDIR_LEVEL | LEVEL_VECTOR);
    hpet_write32(CFG, 3);
    CHECK_EQ("legacy replacement on", hpet_read32(CFG), 3);
    cmp = counter() + 500000;
    hpet_write32(TCMP(1) + 4, (uint32_t)(cmp >> 32));
    hpet_write32(TCMP(1), (uint32_t)cmp);
    hpet_write32(TCFG(1), TN_INT_ENB | TN_LEVEL);
    /* Due in 5 ms; a loaded host may keep the model or irqd from running
     * for longer, so wait up to 2 s for it (a level cannot come twice: the
     * handler clears the status bit that holds it). */
    for (unsigned i = 0; i < 20 && levels == 0; i++)
        irq_window(tsc_hz, 100, false);
    guest_printf("level: %u interrupts, %u without status\n", levels, empty_levels);
    CHECK_EQ("level timer 1 on IRQ 8: one interrupt with its status bit", levels, 1);
    CHECK_EQ("status bit 1 in the handler", status_in_handler & 7u, 2);
    CHECK_EQ("status clear after the write", hpet_read32(STATUS), 0);
    CHECK_EQ("remote IRR clear after the EOI", ioapic_read(0x10 + 2 * 8) & (1u << 14), 0);
    hpet_write32(TCFG(1), 0);
    ioapic_redirect(8, REDIR_MASKED | REDIR_LEVEL | LEVEL_VECTOR);

    /* 7. Legacy timer 0 -> ISA IRQ 0 (pin 2), whatever its route says. */
    ioapic_redirect(TIMER_GSI, dest | EDGE_VECTOR);
    edges = 0;
    cmp = counter() + 300000;
    hpet_write32(TCMP(0) + 4, (uint32_t)(cmp >> 32));
    hpet_write32(TCMP(0), (uint32_t)cmp);
    hpet_write32(TCFG(0), TN_INT_ENB | TN_ROUTE(5));
    irq_window(tsc_hz, 100, false);
    CHECK_EQ("legacy timer 0 on IRQ 0: one interrupt", edges, 1);
    hpet_write32(TCFG(0), 0);
    ioapic_redirect(TIMER_GSI, REDIR_MASKED | EDGE_VECTOR);

    /* 8. Halted again: the counter stands. */
    hpet_write32(CFG, 0);
    uint64_t h0 = counter();
    tsc_delay(1000000);
    CHECK_EQ("halted again: the counter stands", counter(), h0);
    return guest_finish();
}
