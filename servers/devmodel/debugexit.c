/* SPDX-License-Identifier: MIT */
/*
 * isa-debug-exit (program `debugexit`): port 0xf4, 4 ports, as QEMU's
 * `-device isa-debug-exit,iobase=0xf4,iosize=0x04`.  A guest write of value
 * v asks the VMM to stop the VM with exit status v.
 *
 *   argv:    debugexit vcpus=N
 *   handles: [0] the IOIO range
 *
 * Protocol with the VMM: this model exits with status
 *   DEBUGEXIT_STATUS(vcpu, v) = 0x1000 | vcpu << 8 | (v <= 0x7f ? v : 0x80)
 * without completing the write, so the writing VCPU stays parked until the
 * model is gone and cannot run on (to a HLT, say) before the VMM knows; the
 * VMM, which waits on this process, stops the VM with status v (values
 * above 0x7f are reported as 1, as before).  Exit statuses of a fault
 * (0x100 + vector) stay below DEBUGEXIT_STATUS_BASE, so the VMM tells a
 * request from a crash.  Reads return 0.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "debugexit.h"

static void debugexit_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)state;
    (void)size;
    if (offset != 0)
        return;
    unsigned vcpu = devmodel_current_vcpu();
    if (value > 0x7f)
        coco_printf("vcpu %u wrote 0x%llx: not a status 0..0x7f\n", vcpu,
                    (unsigned long long)value);
    coco_exit(DEBUGEXIT_STATUS(vcpu, value));
}

static uint64_t debugexit_read(void *state, uint64_t offset, unsigned size)
{
    (void)state;
    (void)offset;
    (void)size;
    return 0;
}

int main(int argc, char **argv)
{
    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    struct devmodel_range range = {
        .handle = coco_handle(0), .base = 0xf4, .read = debugexit_read, .write = debugexit_write,
    };
    struct devmodel dm = { .ranges = &range, .nranges = 1 };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
