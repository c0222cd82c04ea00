/* SPDX-License-Identifier: MIT */
/*
 * The HPET (program `hpet`; the logic is hpet.c).
 *
 *   argv:    hpet vcpus=N [irq=GSI] [irq2=GSI]
 *   handles: [0] MMIO range 0xFED00000, 0x400 bytes; then the event of
 *            line `irq=` (GSI 2: ISA IRQ 0, legacy timer 0 and the one
 *            route QEMU's pc HPET offers, Tn_INT_ROUTE_CAP = bit 2), then
 *            that of `irq2=` (GSI 8: ISA IRQ 8, legacy timer 1).
 *
 * The VMM hands over exactly these two lines (servers/vmm/devmodels.c):
 * every interrupt a QEMU pc HPET can raise lands on one of them.  A timer
 * routed elsewhere (its route field holds a value outside the capability)
 * sets its status bit but drives no line.  Edge-triggered timers pulse
 * their line; level-triggered ones hold it while their status bit is set.
 * GSI 2 is shared with the PIT and GSI 8 with the RTC: each driver has its
 * own DUP of the line's event, and this model only lowers a level it
 * raised itself, so an edge or level of the other driver is left alone
 * (when two drivers hold one level, the last write wins, as on QEMU's
 * shared GSI inputs).
 *
 * One kernel TIMER, armed (one-shot, absolute) for the next comparator
 * match of a timer with its interrupt enabled and disarmed when there is
 * none; the matches themselves are found from the device clock at every
 * wake-up and every access, so the count of periodic interrupts does not
 * depend on when the model runs.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "hpet.h"

#define HPET_LINES 2u

struct hpet_line {
    bool present;
    unsigned gsi;
    bool level;                  /* what this model drives */
    struct devmodel_irq irq;
};

struct hpet_server {
    struct hpet chip;
    struct hpet_line line[HPET_LINES];
    struct devmodel_deadline timer;
};

static void hpet_update(struct hpet_server *s, uint64_t now)
{
    hpet_advance(&s->chip, now);
    unsigned edges = hpet_take_edges(&s->chip);
    for (unsigned l = 0; l < HPET_LINES; l++) {
        struct hpet_line *line = &s->line[l];
        bool level = false, pulse = false;
        if (!line->present)
            continue;
        for (unsigned n = 0; n < HPET_TIMERS; n++) {
            if (hpet_timer_gsi(&s->chip, n) != line->gsi)
                continue;
            level |= hpet_level(&s->chip, n);
            pulse |= (edges >> n) & 1u;
        }
        if (level != line->level) {
            line->level = level;
            if (level)
                devmodel_irq_raise(&line->irq);
            else
                devmodel_irq_lower(&line->irq);
        }
        if (pulse && !line->level)
            devmodel_irq_pulse(&line->irq);
    }
    uint64_t next = hpet_next_deadline(&s->chip, now);
    devmodel_deadline_set(&s->timer, next == HPET_NEVER ? 0 : next);
}

static uint64_t hpet_mmio_read(void *state, uint64_t offset, unsigned size)
{
    struct hpet_server *s = state;
    uint64_t now = (uint64_t)coco_clock();
    uint64_t v = hpet_read(&s->chip, offset, size, now);
    hpet_update(s, now);
    return v;
}

static void hpet_mmio_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct hpet_server *s = state;
    uint64_t now = (uint64_t)coco_clock();
    hpet_write(&s->chip, offset, size, value, now);
    hpet_update(s, now);
}

static void timer_ready(void *state, uint64_t value)
{
    struct hpet_server *s = state;
    (void)value;
    devmodel_deadline_expired(&s->timer);
    hpet_update(s, (uint64_t)coco_clock());
}

int main(int argc, char **argv)
{
    static struct hpet_server server;
    struct hpet_server *s = &server;
    static const char *const keys[HPET_LINES] = { "irq", "irq2" };
    unsigned next = 1;

    if (coco_handle_count() < 1) {
        coco_printf("no MMIO range handle\n");
        return 1;
    }
    hpet_reset(&s->chip);
    for (unsigned l = 0; l < HPET_LINES; l++) {
        uint64_t gsi;
        if (!devmodel_arg_u64(argc, argv, keys[l], &gsi) || next >= coco_handle_count())
            continue;
        int r = devmodel_irq_init(&s->line[l].irq, coco_handle(next++));
        if (r < 0) {
            coco_printf("cannot map the IRQ %llu line: %s\n", (unsigned long long)gsi, coco_strerror(r));
            continue;
        }
        s->line[l].present = true;
        s->line[l].gsi = (unsigned)gsi;
    }
    int r = devmodel_deadline_init(&s->timer);
    if (r < 0) {
        coco_printf("TIMER_CREATE failed: %s\n", coco_strerror(r));
        return 1;
    }

    struct devmodel_range range = {
        .handle = coco_handle(0), .base = HPET_BASE,
        .read = hpet_mmio_read, .write = hpet_mmio_write, .state = s,
    };
    struct devmodel_source timer = { .handle = s->timer.timer, .ready = timer_ready, .state = s };
    struct devmodel dm = { .ranges = &range, .nranges = 1, .sources = &timer, .nsources = 1 };
    devmodel_init_args(&dm, argc, argv);
    r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
