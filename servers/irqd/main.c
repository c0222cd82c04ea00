/* SPDX-License-Identifier: MIT */
/*
 * irqd: the interrupt controllers of one VM (PIC pair and ELCR, IOAPIC, a
 * LAPIC with its timer per VCPU) as one user process.  The device logic is
 * pure (pic.c, ioapic.c, lapic.c, wired together in irqchip.c) and tested
 * on the host; this file is the process around it.
 *
 * Started by the VMM as
 *     EXEC("irqd", {"irqd", "vcpus=N", "lines=G1,G2,..."})
 * (GSIs in decimal; "lines=" may be empty) with these handles, in order:
 *   [0]        MMIO range, LAPIC, 0xFEE00000, 0x1000 bytes (slot = VCPU index)
 *   [1]        MMIO range, IOAPIC, 0xFEC00000, 0x1000 bytes
 *   [2]        IOIO range, PIC master, ports 0x20-0x21
 *   [3]        IOIO range, PIC slave, ports 0xA0-0xA1
 *   [4]        IOIO range, ELCR, ports 0x4D0-0x4D1
 *   [5..5+N)   IRQ handles of VCPU 0 .. N-1
 *   [5+N..)    one line event per GSI of `lines=`, in that order
 *              (EVENT_CREATE(1); struct coco_irq_line at offset 0 of its area)
 * EXEC moves at most COPRA_EXEC_HANDLES_MAX (16) handles, so N plus the
 * number of lines is at most 11.
 *
 * Each IRQ handle is also MMAPped: the VCPU's virtual-APIC page, where
 * the LAPIC keeps IRR, ISR, TMR and TPR and the kernel delivers posted
 * vectors and completes EOIs itself (struct copra_vapic_page).  Each LAPIC
 * timer is a kernel TIMER bound to its VCPU with IRQ_TIMER: its expirations
 * post the timer's vector with no trip through irqd.
 *
 * One thread, one loop: WAIT on the five ranges and the line events; take
 * every line's new state, serve every request in the ready ranges' slots;
 * let the irqchip work out what to inject; then one BATCH does the
 * IRQ_INJECTs, re-binds and re-arms the timers that changed, and WAITs
 * again -- the WAIT completes the served requests (the kernel resumes
 * those VCPUs) after the injections, so that a VCPU resumed after its
 * write finds its next interrupt already queued.
 *
 * Exit status: 2 bad arguments or handles, 3 a syscall failed at start-up,
 * 4 WAIT failed.
 */
#include <coco/coco.h>
#include <coco/irqline.h>
#include <coco/vm.h>

#include "irqchip.h"

#define RANGE_LAPIC  0u
#define RANGE_IOAPIC 1u
#define RANGE_PIC_MASTER 2u
#define RANGE_PIC_SLAVE  3u
#define RANGE_ELCR   4u
#define RANGES       5u
#define FIXED_HANDLES RANGES
#define HANDLES_MAX  COPRA_EXEC_HANDLES_MAX
#define LINES_MAX    (HANDLES_MAX - FIXED_HANDLES - 1u)
#define VCPUS_MAX    (HANDLES_MAX - FIXED_HANDLES)
#define BATCH_MAX    COPRA_BATCH_MAX

COPRA_STATIC_ASSERT(IRQCHIP_VECTOR_NMI == COPRA_IRQ_NMI, "irqchip's NMI is IRQ_INJECT's");
COPRA_STATIC_ASSERT(IRQCHIP_VECTOR_TPR(5) == COPRA_IRQ_TPR(5), "irqchip's TPR is IRQ_INJECT's");
COPRA_STATIC_ASSERT(IRQCHIP_VECTOR_INIT == COPRA_IRQ_INIT && IRQCHIP_VECTOR_SIPI(0x9A) == COPRA_IRQ_SIPI(0x9A),
                    "irqchip's INIT and SIPI are IRQ_INJECT's");
COPRA_STATIC_ASSERT(IRQCHIP_VCPUS_MAX == COPRA_VCPUS_MAX, "a LAPIC per possible VCPU");
COPRA_STATIC_ASSERT(IRQCHIP_VECTOR_POSTED == COPRA_IRQ_POSTED, "irqchip's POSTED is IRQ_INJECT's");

struct line {
    copra_handle_t event;
    const struct coco_irq_line *area;
    unsigned gsi;
    uint64_t raises_seen;
};

struct irqd {
    struct irqchip chip;
    unsigned nvcpus, nlines;
    copra_handle_t range[RANGES];
    struct copra_io_area *area[RANGES];
    copra_handle_t irq[VCPUS_MAX];
    struct copra_vapic_page *page[VCPUS_MAX];
    copra_handle_t timer[VCPUS_MAX];
    struct line line[LINES_MAX];
    struct copra_wait_item items[RANGES + LINES_MAX];
    unsigned nitems;
    struct copra_batch_call calls[BATCH_MAX];
    struct copra_batch_result results[BATCH_MAX];
    unsigned ncalls;
    unsigned inject_errors;
};

static struct irqd irqd;

static uint64_t clock_now(void *ctx)
{
    (void)ctx;
    return (uint64_t)coco_clock();
}

/* ---- Start-up ------------------------------------------------------------------ */

static bool parse_unsigned(const char *s, const char **end, unsigned max, unsigned *value)
{
    if (!isdigit((unsigned char)*s))
        return false;
    char *e;
    unsigned long v = strtoul(s, &e, 10);
    if (v > max)
        return false;
    *value = (unsigned)v;
    *end = e;
    return true;
}

static int parse_arguments(struct irqd *d, int argc, char **argv, unsigned gsis[LINES_MAX])
{
    bool have_vcpus = false, have_lines = false;

    for (int i = 1; i < argc; i++) {
        const char *end;
        if (!strncmp(argv[i], "vcpus=", 6)) {
            if (!parse_unsigned(argv[i] + 6, &end, VCPUS_MAX, &d->nvcpus) || *end || d->nvcpus == 0) {
                coco_printf("irqd: bad argument '%s' (vcpus=1..%u)\n", argv[i], VCPUS_MAX);
                return 2;
            }
            have_vcpus = true;
        } else if (!strncmp(argv[i], "lines=", 6)) {
            const char *p = argv[i] + 6;
            d->nlines = 0;
            while (*p) {
                unsigned gsi;
                if (d->nlines == LINES_MAX || !parse_unsigned(p, &end, IRQCHIP_GSIS - 1, &gsi) ||
                    (*end != ',' && *end != '\0')) {
                    coco_printf("irqd: bad argument '%s' (lines=GSI,GSI,... with GSIs 0..%u, "
                                "at most %u)\n", argv[i], IRQCHIP_GSIS - 1, LINES_MAX);
                    return 2;
                }
                for (unsigned j = 0; j < d->nlines; j++)
                    if (gsis[j] == gsi) {
                        coco_printf("irqd: GSI %u given twice in '%s'\n", gsi, argv[i]);
                        return 2;
                    }
                gsis[d->nlines++] = gsi;
                p = *end == ',' ? end + 1 : end;
            }
            have_lines = true;
        } else {
            coco_printf("irqd: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!have_vcpus || !have_lines) {
        coco_printf("irqd: usage: irqd vcpus=N lines=[GSI,...]\n");
        return 2;
    }
    return 0;
}

static int startup_fail(const char *what, int64_t error)
{
    coco_printf("irqd: %s failed: %s\n", what, coco_strerror(error));
    return 3;
}

static int handles_take(struct irqd *d, const unsigned gsis[LINES_MAX])
{
    unsigned want = FIXED_HANDLES + d->nvcpus + d->nlines;
    if (coco_handle_count() != want) {
        coco_printf("irqd: received %u handles, want %u (5 ranges, %u IRQs, %u lines)\n",
                    coco_handle_count(), want, d->nvcpus, d->nlines);
        return 2;
    }
    for (unsigned r = 0; r < RANGES; r++) {
        d->range[r] = coco_handle(r);
        int64_t a = coco_mmap(d->range[r], NULL, COPRA_PAGE_SIZE,
                              COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (a < 0)
            return startup_fail("MMAP of a range", a);
        d->area[r] = (struct copra_io_area *)(uintptr_t)a;
    }
    for (unsigned v = 0; v < d->nvcpus; v++) {
        d->irq[v] = coco_handle(FIXED_HANDLES + v);
        int64_t a = coco_mmap(d->irq[v], NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (a < 0)
            return startup_fail("MMAP of an IRQ (the virtual-APIC page)", a);
        d->page[v] = (struct copra_vapic_page *)(uintptr_t)a;
        int64_t t = coco_timer_create();
        if (t < 0)
            return startup_fail("TIMER_CREATE", t);
        d->timer[v] = (copra_handle_t)t;
    }
    for (unsigned i = 0; i < d->nlines; i++) {
        struct line *l = &d->line[i];
        l->event = coco_handle(FIXED_HANDLES + d->nvcpus + i);
        l->gsi = gsis[i];
        int64_t a = coco_mmap(l->event, NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ, 0);
        if (a < 0)
            return startup_fail("MMAP of a line event", a);
        l->area = (const struct coco_irq_line *)(uintptr_t)a;
    }
    /* Wait items: ranges, then lines. */
    d->nitems = 0;
    for (unsigned r = 0; r < RANGES; r++)
        d->items[d->nitems++].handle = d->range[r];
    for (unsigned i = 0; i < d->nlines; i++)
        d->items[d->nitems++].handle = d->line[i].event;
    return 0;
}

/* ---- Serving --------------------------------------------------------------------- */

static uint64_t range_base(unsigned r)
{
    switch (r) {
    case RANGE_LAPIC: return LAPIC_BASE;
    case RANGE_IOAPIC: return IOAPIC_BASE;
    default: return 0;   /* IOIO: addr is the port */
    }
}

static void slot_serve(struct irqd *d, unsigned r, struct copra_io_slot *s)
{
    uint64_t offset = s->addr - range_base(r);
    unsigned size = s->size;
    uint32_t value = (uint32_t)s->data;

    switch (r) {
    case RANGE_LAPIC:
        if (s->write)
            irqchip_lapic_write(&d->chip, s->vcpu, (uint32_t)offset, size, value);
        else
            s->data = irqchip_lapic_read(&d->chip, s->vcpu, (uint32_t)offset, size);
        break;
    case RANGE_IOAPIC:
        if (s->write)
            irqchip_ioapic_write(&d->chip, (uint32_t)offset, size, value);
        else
            s->data = irqchip_ioapic_read(&d->chip, (uint32_t)offset, size);
        break;
    default:
        if (s->write)
            irqchip_port_write(&d->chip, (uint16_t)s->addr, size, value);
        else
            s->data = irqchip_port_read(&d->chip, (uint16_t)s->addr, size);
        break;
    }
}

static void range_serve(struct irqd *d, unsigned r)
{
    struct copra_io_area *a = d->area[r];
    /* Slot index = VCPU index, and the VM has nvcpus of them. */
    for (unsigned i = 0; i < d->nvcpus; i++) {
        struct copra_io_slot *s = &a->slot[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != COPRA_IO_REQUEST)
            continue;
        slot_serve(d, r, s);
        __atomic_store_n(&s->state, COPRA_IO_DONE, __ATOMIC_RELEASE);
    }
}

static void line_update(struct irqd *d, struct line *l)
{
    /* raises before level: a raise (level = 1, raises++) seen half-way is
     * either complete or taken at the next SIGNAL (irqline.h). */
    uint64_t raises = __atomic_load_n(&l->area->raises, __ATOMIC_ACQUIRE);
    bool level = __atomic_load_n(&l->area->level, __ATOMIC_ACQUIRE) != 0;
    uint64_t edges = raises - l->raises_seen;
    l->raises_seen = raises;
    irqchip_set_line(&d->chip, l->gsi, level, edges > 0xFFFF ? 0xFFFF : (unsigned)edges);
}

/* ---- The batch --------------------------------------------------------------------- */

static void call_add(struct irqd *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    d->calls[d->ncalls++] = (struct copra_batch_call){ .nr = nr, .args = { a0, a1, a2 } };
}

static void batch_check(struct irqd *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (d->results[i].result >= 0)
            continue;
        if (d->calls[i].nr == COPRA_SYS_IRQ_INJECT && d->inject_errors++ < 8)
            coco_printf("irqd: IRQ_INJECT(vector 0x%llx) failed: %s\n",
                        (unsigned long long)d->calls[i].args[1], coco_strerror(d->results[i].result));
        else if (d->calls[i].nr != COPRA_SYS_IRQ_INJECT)
            coco_printf("irqd: syscall %llu in the batch failed: %s\n",
                        (unsigned long long)d->calls[i].nr, coco_strerror(d->results[i].result));
    }
}

/* Run what is queued if fewer than `room` records are left. */
static void batch_make_room(struct irqd *d, unsigned room)
{
    if (d->ncalls + room <= BATCH_MAX)
        return;
    int64_t n = coco_batch(d->calls, d->results, d->ncalls, 0);
    batch_check(d, n < 0 ? 0 : (unsigned)n);
    d->ncalls = 0;
}

/* Queue the injections and timer changes, then WAIT (which completes the
 * served requests); returns WAIT's result. */
static int64_t batch_run_and_wait(struct irqd *d)
{
    struct irqchip *chip = &d->chip;

    for (unsigned i = 0; i < chip->ninject; i++) {
        batch_make_room(d, 2);
        call_add(d, COPRA_SYS_IRQ_INJECT, d->irq[chip->inject[i].vcpu], chip->inject[i].vector, 0);
    }
    chip->ninject = 0;
    for (unsigned v = 0; v < d->nvcpus; v++) {
        struct lapic *l = &chip->lapic[v];
        if (!l->timer_changed)
            continue;
        l->timer_changed = false;
        batch_make_room(d, 3);
        call_add(d, COPRA_SYS_IRQ_TIMER, d->irq[v], d->timer[v], lapic_timer_vector(l));
        call_add(d, COPRA_SYS_TIMER_SET, d->timer[v], lapic_timer_deadline(l), lapic_timer_period(l));
    }
    for (unsigned i = 0; i < d->nitems; i++)
        d->items[i].ready = 0;
    call_add(d, COPRA_SYS_WAIT_FOR_EVENT, (uint64_t)(uintptr_t)d->items, d->nitems,
             COPRA_WAIT_FOREVER);
    unsigned n = d->ncalls;
    d->ncalls = 0;
    int64_t done = coco_batch(d->calls, d->results, n, 0);
    if (done != (int64_t)n)
        return done < 0 ? done : COPRA_EINVAL;
    batch_check(d, n - 1);
    return d->results[n - 1].result;
}

int main(int argc, char **argv)
{
    struct irqd *d = &irqd;
    unsigned gsis[LINES_MAX];

    int status = parse_arguments(d, argc, argv, gsis);
    if (status != 0)
        return status;
    status = handles_take(d, gsis);
    if (status != 0)
        return status;
    irqchip_init(&d->chip, d->nvcpus, d->page, clock_now, NULL);
    coco_printf("irqd: %u vcpu(s), %u line(s); PIC, IOAPIC (24 pins), LAPIC bus clock %llu Hz\n",
                d->nvcpus, d->nlines, (unsigned long long)LAPIC_BUS_HZ);

    for (;;) {
        int64_t r = batch_run_and_wait(d);
        if (r < 0) {
            coco_printf("irqd: WAIT failed: %s\n", coco_strerror(r));
            return 4;
        }
        /* Lines before ranges: a device model lowers its line before it
         * completes the access that served the device, so an EOI that
         * arrives together with the lowering must see the line low (or a
         * level-triggered IOAPIC entry would deliver once more). */
        struct copra_wait_item *item = d->items + RANGES;
        for (unsigned i = 0; i < d->nlines; i++, item++)
            if (item->ready)
                line_update(d, &d->line[i]);
        for (unsigned i = 0; i < RANGES; i++)
            if (d->items[i].ready)
                range_serve(d, i);
        irqchip_evaluate(&d->chip);
    }
}
