/* SPDX-License-Identifier: MIT */
/*
 * Several VMs at once, each in its own VMM process: `multivm -- A.conf
 * B.conf ...` EXECs `vmm A.conf`, `vmm B.conf` ... together and waits for
 * all of them; each VMM must exit with 0 (its guest passed).  The VMM puts
 * VCPU i on CPU i % ncpus, so the VMs' VCPU 0 share CPU 0: the guest
 * isolation tests (qemu.fpu_isolation_*) run on this.
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

#define VMS_MAX 8

int main(int argc, char **argv)
{
    int64_t vmm[VMS_MAX];
    int n = argc - 1 < VMS_MAX ? argc - 1 : VMS_MAX;
    char name[160];

    for (int i = 0; i < n; i++) {
        const char *args[] = { "vmm", argv[1 + i] };
        /* Each VMM gets what the first process got: the console (its
         * handle 0) and the VM-creation capability (its handle 1). */
        int64_t h[2] = { coco_dup(coco_handle(COCO_INIT_CONSOLE), COPRA_RIGHTS_CONSOLE),
                         coco_dup(coco_handle(COCO_INIT_VMCTL), COPRA_RIGHTS_VMCTL) };
        copra_handle_t moved[2] = { (copra_handle_t)h[0], (copra_handle_t)h[1] };
        vmm[i] = h[0] > 0 && h[1] > 0 ? coco_spawn("vmm", 2, args, moved, 2) : -1;
        snprintf(name, sizeof name, "EXEC vmm %s", argv[1 + i]);
        CHECK(name, vmm[i] > 0);
    }
    for (int i = 0; i < n; i++) {
        int64_t status = -1;
        if (vmm[i] <= 0)
            continue;
        snprintf(name, sizeof name, "vmm %s exited with 0", argv[1 + i]);
        CHECK_EQUAL(name, coco_wait_process((copra_handle_t)vmm[i], &status) == 0 ? status : -1, 0);
    }
    CHECK("at least two VMs", n >= 2);
    return coco_test_finish();
}
