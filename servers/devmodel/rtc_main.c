/* SPDX-License-Identifier: MIT */
/*
 * MC146818 RTC and CMOS RAM (program `rtc`), I/O ports 0x70-0x71; the
 * register logic is mc146818.c.
 *
 *   argv:    rtc vcpus=N ram=BYTES [start=SECONDS] [epoch=NS] [irq=GSI]
 *   handles: [0] the IOIO range 0x70 (2 ports)
 *            [1] the driver's DUP of the interrupt line (coco/irqline.h); optional
 *
 * Wall time: Copra has no source of it (no RTC is read at boot, and a
 * confidential VM could not trust the host's anyway), so the clock starts
 * at `start` seconds since 1970-01-01 UTC, which the VM description gives
 * (`device rtc start=...`), default RTC_DEFAULT_START, at CLOCK (monotonic
 * ns) `epoch` (default: when the model starts; the VMM gives the CLOCK of
 * the guest's TSC 0, where kvm-clock's wall clock is `start` too) and runs
 * on CLOCK from then on.
 *
 * A kernel timer wakes the loop when an enabled interrupt is due (periodic
 * tick, update, alarm); everything else is computed when the guest reads.
 * Timer expiries have the kernel's tick resolution (1 ms): periodic rates
 * above 1024 Hz lose ticks, which are dropped as QEMU drops them.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "mc146818.h"

struct rtc_model {
    struct mc146818 chip;
    struct devmodel_irq irq;
    bool has_irq;
    copra_handle_t timer;
    uint64_t armed_ns;            /* the timer's deadline, 0 when disarmed */
};

/* After every change: drive the line to C.IRQF, re-arm the timer if the
 * next deadline moved (one syscall each, and only on a change). */
static void rtc_sync(struct rtc_model *m)
{
    if (m->has_irq)
        devmodel_irq_set(&m->irq, m->chip.irq);
    uint64_t next = mc146818_next_deadline(&m->chip);
    if (next != m->armed_ns && m->timer != COPRA_HANDLE_NONE) {
        coco_timer_set(m->timer, next, 0);
        m->armed_ns = next;
    }
}

static uint64_t rtc_port_read(void *state, uint64_t offset, unsigned size)
{
    struct rtc_model *m = state;
    (void)size;
    uint8_t value = mc146818_read(&m->chip, (unsigned)offset, (uint64_t)coco_clock());
    rtc_sync(m);
    return value;
}

static void rtc_port_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct rtc_model *m = state;
    (void)size;
    if (offset == 0) {   /* the index: no clock needed, no syscall */
        mc146818_write(&m->chip, 0, (uint8_t)value, 0);
        return;
    }
    mc146818_write(&m->chip, (unsigned)offset, (uint8_t)value, (uint64_t)coco_clock());
    rtc_sync(m);
}

static void rtc_timer_expired(void *state, uint64_t value)
{
    struct rtc_model *m = state;
    (void)value;
    m->armed_ns = 0;   /* a one-shot timer, spent */
    mc146818_advance(&m->chip, (uint64_t)coco_clock());
    rtc_sync(m);
}

int main(int argc, char **argv)
{
    static struct rtc_model m;

    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    int64_t r = coco_timer_create();
    if (r < 0) {
        coco_printf("TIMER_CREATE failed: %s\n", coco_strerror(r));
        return 1;
    }
    m.timer = (copra_handle_t)r;
    if (coco_handle_count() >= 2) {
        int e = devmodel_irq_init(&m.irq, coco_handle(1));
        if (e < 0) {
            coco_printf("cannot map the interrupt line: %s\n", coco_strerror(e));
            return 1;
        }
        m.has_irq = true;
    }
    mc146818_init(&m.chip, coco_arg_u64(argc, argv, "epoch", (uint64_t)coco_clock()),
                  (int64_t)coco_arg_u64(argc, argv, "start", (uint64_t)RTC_DEFAULT_START),
                  coco_arg_u64(argc, argv, "ram", 0), (unsigned)coco_arg_u64(argc, argv, "vcpus", 1));

    struct devmodel_range range = {
        .handle = coco_handle(0), .base = RTC_PORT_BASE,
        .read = rtc_port_read, .write = rtc_port_write, .state = &m,
    };
    struct devmodel_source timer = { .handle = m.timer, .ready = rtc_timer_expired, .state = &m };
    struct devmodel dm = { .ranges = &range, .nranges = 1, .sources = &timer, .nsources = 1 };
    devmodel_init_args(&dm, argc, argv);
    r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
