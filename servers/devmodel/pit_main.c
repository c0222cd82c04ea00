/* SPDX-License-Identifier: MIT */
/*
 * The i8254 PIT and port 0x61 (program `pit`; the logic is i8254.c).
 *
 *   argv:    pit vcpus=N [irq=GSI]
 *   handles: [0] IOIO range 0x40-0x43, [1] IOIO range 0x61 (one port),
 *            then the interrupt line's event (coco/irqline.h) if `irq=`.
 *
 * The counters run from the host clock (CLOCK), so a guest reading them
 * sees them move at 1.193182 MHz of the same time its TSC measures.
 * Channel 0's OUT drives the line (GSI 2 by default: ISA IRQ 0, which
 * irqd feeds to PIC input 0 and IOAPIC pin 2 as QEMU's pc machine and its
 * MADT override do) with one pulse per rising edge: ISA IRQ 0 is edge
 * triggered on a PC (the ELCR cannot make it level), and edges keep the
 * line shareable with the HPET's legacy timer 0.
 *
 * One kernel TIMER wakes the model for channel 0's next rising edge,
 * armed one-shot at the edge's host time (computed from the device clock,
 * so wake-up latency never shifts the rate) and disarmed while channel 0
 * is not counting or its one-shot is done.  Edges are counted from the
 * device clock at each wake-up and at every access; several found at once
 * (the model, or the whole VM, was not running) are one interrupt, as on
 * QEMU's PIT.  (KVM's in-kernel PIT re-injects such lost ticks once the
 * guest acknowledges the last; the acknowledgement, an EOI, goes to irqd,
 * which this model does not see.)  In modes 2 and 3 a wake-up comes at
 * most every 100 us (the kernel's shortest timer period): faster rates
 * coalesce edges, as a PIC with IRR still set would.  (A periodic kernel
 * TIMER, tried first, delivered 45 of 50 edges at 100 Hz in one run of
 * tests/guests/pit.c where the one-shot deadlines delivered all.)
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "devclock.h"
#include "i8254.h"

#define PIT_BASE       0x40u
#define PORT61         0x61u
#define TIMER_MIN_NS   100000ull   /* the kernel's shortest timer period (abi/README.md) */

struct pit {
    struct i8254 chip;
    bool has_irq;
    struct devmodel_irq irq;
    struct devmodel_deadline timer;
    uint64_t irqs;                 /* pulses sent, for the exit log */
};

static uint64_t now_ns(void)
{
    return (uint64_t)coco_clock();
}

/* Deliver channel 0's edges so far and keep the timer in step. */
static void pit_update(struct pit *p, uint64_t now)
{
    struct i8254_channel *c = &p->chip.ch[0];
    /* Several edges found at once (the model, or the whole VM, was not
     * running) are one pulse: lost ticks, as on QEMU's PIT and on a PIC
     * whose IRR is still set. */
    if (i8254_take_rises(&p->chip, 0, now) > 0 && p->has_irq) {
        devmodel_irq_pulse(&p->irq);
        p->irqs++;
    }
    if (!p->has_irq)
        return;   /* no line: no timer either */
    uint64_t next = i8254_next_rise(&p->chip, 0, c->seen_d);
    uint64_t want = next == I8254_NEVER ? 0 : next;
    if (want != 0 && want < now + TIMER_MIN_NS && i8254_period(&p->chip, 0) > 0)
        want = now + TIMER_MIN_NS;   /* faster rates coalesce, as with IRR set */
    devmodel_deadline_set(&p->timer, want);
}

static uint64_t pit_read(void *state, uint64_t offset, unsigned size)
{
    struct pit *p = state;
    uint64_t now = now_ns(), value = 0;

    for (unsigned i = 0; i < size && offset + i < I8254_PORTS; i++)
        value |= (uint64_t)i8254_read(&p->chip, (unsigned)offset + i, now) << (8 * i);
    pit_update(p, now);
    return value;
}

static void pit_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct pit *p = state;
    uint64_t now = now_ns();

    for (unsigned i = 0; i < size && offset + i < I8254_PORTS; i++)
        i8254_write(&p->chip, (unsigned)offset + i, (uint8_t)(value >> (8 * i)), now);
    pit_update(p, now);
}

static uint64_t port61_read(void *state, uint64_t offset, unsigned size)
{
    struct pit *p = state;
    (void)size;
    return offset == 0 ? i8254_port61_read(&p->chip, now_ns()) : 0xff;
}

static void port61_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct pit *p = state;
    (void)size;
    if (offset == 0)
        i8254_port61_write(&p->chip, (uint8_t)value, now_ns());
}

static void timer_ready(void *state, uint64_t value)
{
    struct pit *p = state;
    (void)value;
    devmodel_deadline_expired(&p->timer);
    pit_update(p, now_ns());
}

int main(int argc, char **argv)
{
    static struct pit pit;
    struct pit *p = &pit;
    uint64_t gsi;

    if (coco_handle_count() < 2) {
        coco_printf("want two IOIO range handles (0x40, 0x61)\n");
        return 1;
    }
    i8254_reset(&p->chip, now_ns());
    if (devmodel_arg_u64(argc, argv, "irq", &gsi) && coco_handle_count() > 2) {
        int r = devmodel_irq_init(&p->irq, coco_handle(2));
        if (r < 0)
            coco_printf("cannot map the IRQ %llu line: %s; running without an interrupt\n",
                        (unsigned long long)gsi, coco_strerror(r));
        else
            p->has_irq = true;
    }
    if (p->has_irq) {
        int r = devmodel_deadline_init(&p->timer);
        if (r < 0) {
            coco_printf("TIMER_CREATE failed: %s\n", coco_strerror(r));
            return 1;
        }
    }

    struct devmodel_range ranges[2] = {
        { .handle = coco_handle(0), .base = PIT_BASE, .read = pit_read, .write = pit_write, .state = p },
        { .handle = coco_handle(1), .base = PORT61, .read = port61_read, .write = port61_write, .state = p },
    };
    struct devmodel_source timer = { .handle = p->timer.timer, .ready = timer_ready, .state = p };
    struct devmodel dm = {
        .ranges = ranges, .nranges = 2, .sources = &timer, .nsources = p->has_irq ? 1 : 0,
    };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s (%llu interrupts sent)\n", coco_strerror(r),
                (unsigned long long)p->irqs);
    return 1;
}
