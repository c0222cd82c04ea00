/* SPDX-License-Identifier: MIT */
/*
 * The power registers of the hardware-reduced ACPI platform (program
 * `acpipm`; logic in acpipm.c, layout in acpipm.h): what a Linux guest's
 * `poweroff` and `reboot` write, through the FADT's SLEEP_CONTROL_REG and
 * RESET_REG.
 *
 *   argv:    acpipm vcpus=N [base=PORT]
 *   handles: [0] IOIO range PORT..PORT+3 (default ACPIPM_PORT, 0x600)
 *
 * Power-off and reset are requests to the VMM, made the way debugexit and
 * port92 make theirs: the model exits with ACPIPM_STATUS_POWEROFF(vcpu) or
 * ACPIPM_STATUS_RESET(vcpu) without completing the write, so the writing
 * VCPU stays parked until the VMM, which waits on this process, has
 * stopped the VM (status 0) or reset it (vm_reset(), as a triple fault).
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "acpipm.h"

static uint64_t acpipm_port_read(void *state, uint64_t offset, unsigned size)
{
    return acpipm_read(state, (unsigned)offset, size);
}

static void acpipm_port_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct acpipm *p = state;
    unsigned type = 0;
    unsigned vcpu = devmodel_current_vcpu();

    switch (acpipm_write(p, (unsigned)offset, size, value, &type)) {
    case ACPIPM_POWEROFF:
        coco_exit(ACPIPM_STATUS_POWEROFF(vcpu));
        break;
    case ACPIPM_RESET_REQUEST:
        coco_exit(ACPIPM_STATUS_RESET(vcpu));
        break;
    case ACPIPM_SLEEP_IGNORED:
        if (acpipm_first_ignored(p, type))
            coco_printf("vcpu %u: sleep type %u is not supported (only S5, type %u): "
                        "woken at once\n", vcpu, type, ACPIPM_SLP_TYP_S5);
        break;
    case ACPIPM_NONE:
        break;
    }
}

int main(int argc, char **argv)
{
    static struct acpipm p;
    uint64_t base = ACPIPM_PORT;

    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    devmodel_arg_u64(argc, argv, "base", &base);
    acpipm_init(&p);
    struct devmodel_range range = {
        .handle = coco_handle(0), .base = base,
        .read = acpipm_port_read, .write = acpipm_port_write, .state = &p,
    };
    struct devmodel dm = { .ranges = &range, .nranges = 1 };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
