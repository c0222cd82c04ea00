/* SPDX-License-Identifier: MIT */
/*
 * The ACPI PM timer (program `pmtimer`; logic in pmtimer.c).
 *
 *   argv:    pmtimer vcpus=N [base=PORT] [bits=24|32]
 *   handles: [0] IOIO range PORT..PORT+3 (default 0x608)
 *
 * 0x608 is where a guest of QEMU's pc machine finds it: SeaBIOS programs
 * the PIIX4 PM I/O base (PMBA) to 0x600 whenever QEMU supplies its ACPI
 * tables (etc/table-loader, every QEMU since 1.7), and QEMU's FADT then
 * says PM_TMR_BLK = 0x608 (q35's ICH9 has the same address).  0xB000 is
 * SeaBIOS's older default: `base=0xB008`.  A future FADT's PM_TMR_BLK
 * points here; `bits=32` goes with its TMR_VAL_EXT flag (QEMU's is 24).
 * Writes are ignored, as on hardware.
 *
 * Its own process rather than part of the PIT's: it has no state, no
 * interrupt and nothing in common with the PIT but the host clock, and it
 * belongs to the ACPI PM block (PM1 event and control registers, the SCI
 * when TMR_STS is modelled), which would grow here, not in the PIT.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "pmtimer.h"

struct pmtimer_state {
    bool wide;
};

static uint64_t pmtimer_port_read(void *state, uint64_t offset, unsigned size)
{
    const struct pmtimer_state *s = state;
    return pmtimer_read(s->wide, offset, size, (uint64_t)coco_clock());
}

int main(int argc, char **argv)
{
    static struct pmtimer_state state;
    uint64_t base = 0x608, bits = 24;

    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    devmodel_arg_u64(argc, argv, "base", &base);
    devmodel_arg_u64(argc, argv, "bits", &bits);
    state.wide = bits == 32;
    struct devmodel_range range = {
        .handle = coco_handle(0), .base = base, .read = pmtimer_port_read, .state = &state,
    };
    struct devmodel dm = { .ranges = &range, .nranges = 1 };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
