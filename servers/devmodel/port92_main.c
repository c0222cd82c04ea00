/* SPDX-License-Identifier: MIT */
/*
 * System Control Port A (program `port92`), I/O port 0x92; the register
 * logic is port92.c.
 *
 *   argv:    port92 vcpus=N
 *   handles: [0] the IOIO range 0x92 (1 port)
 *
 * A reset request is this model exiting with PORT92_STATUS_RESET(vcpu)
 * without completing the write, the way debugexit asks for a stop: the
 * writing VCPU stays parked until the VMM, which waits on this process,
 * has handled it.  The VMM resets the VM as it does for a triple fault
 * (vm_reset(), servers/vmm/vm.c).  A model of its own because nothing else
 * owns this port (the keyboard controller's 0xFE reset, 0x64, is not
 * modelled) and the VMM has no device code to put it in.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "port92.h"

static uint64_t port92_port_read(void *state, uint64_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    return port92_read(state);
}

static void port92_port_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset;
    (void)size;
    if (port92_write(state, (uint8_t)value))
        coco_exit(PORT92_STATUS_RESET(devmodel_current_vcpu()));
}

int main(int argc, char **argv)
{
    static struct port92 p;

    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    port92_init(&p);
    struct devmodel_range range = {
        .handle = coco_handle(0), .base = PORT92_PORT,
        .read = port92_port_read, .write = port92_port_write, .state = &p,
    };
    struct devmodel dm = { .ranges = &range, .nranges = 1 };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
