/* SPDX-License-Identifier: MIT */
/*
 * The guest's ACPI tables from the VM's devices: the glue between the
 * device-model table devmodels_configure() resolved (every model's ports,
 * MMIO ranges and GSIs, defaults applied) and the pure builder acpi.c.
 *
 *   model      becomes
 *   irqd       MADT: the LAPICs (one per VCPU), the IOAPIC at 0xFEC00000
 *              (24 pins, GSI base 0) and PCAT_COMPAT (its 8259s)
 *   uart       DSDT COM1 (PNP0501): its port and its line's GSI
 *   rtc        DSDT RTC_ (PNP0B00), FADT CENTURY
 *   pmtimer    FADT X_PM_TMR_BLK (TMR_VAL_EXT with bits=32)
 *   acpipm     FADT sleep control, sleep status and reset registers, \_S5
 *   virtio-*   DSDT VRnn (LNRO0005, VIRTIO_MMIO_SIZE at its base, its
 *              line's GSI): devmodels_virtio(), in the description's order
 * Other models (debugexit, fwcfg, port92, pit, hpet) are found by guests
 * without ACPI, as on QEMU's pc machine, and are not described.
 */
#include "vm.h"

#include <coco/virtio.h>

#include "../devmodel/acpipm.h"

static bool model_is(const struct vmm_devmodel *m, const char *name)
{
    return strcmp(m->name, name) == 0;
}

static unsigned model_gsi(const struct vmm_vm *vm, const struct vmm_devmodel *m)
{
    return m->line >= 0 ? vm->lines[m->line].gsi : ACPI_NO_GSI;
}

static bool model_has_arg(const struct vmm_devmodel *m, const char *arg)
{
    for (unsigned i = 0; i < m->nargs; i++)
        if (strcmp(m->args[i], arg) == 0)
            return true;
    return false;
}

/* Every virtio-mmio model, in the description's order (devmodels_virtio());
 * 0 or VMM_STATUS_VM_SETUP with a message. */
static int virtio_describe(const struct vmm_vm *vm, struct acpi_desc *d)
{
    const char *name;
    uint64_t base;
    int gsi;

    for (unsigned k = 0; devmodels_virtio(vm, k, &name, &base, &gsi); k++) {
        if (k == ACPI_VIRTIO_MAX) {
            coco_printf("vmm: ACPI: more than %u virtio devices\n", ACPI_VIRTIO_MAX);
            return VMM_STATUS_VM_SETUP;
        }
        if (gsi < 0) {   /* Linux's virtio_mmio needs one */
            coco_printf("vmm: ACPI: %s has no interrupt line (irq=none)\n", name);
            return VMM_STATUS_VM_SETUP;
        }
        d->virtio[d->nvirtio++] = (struct acpi_virtio_mmio){
            .base = base, .size = VIRTIO_MMIO_SIZE, .gsi = (unsigned)gsi,
        };
    }
    return 0;
}

int acpi_vm_describe(const struct vmm_vm *vm, struct acpi_desc *d)
{
    bool irqd = false;

    *d = (struct acpi_desc){ .ncpus = vm->nvcpus };
    for (unsigned i = 0; i < vm->nmodels; i++) {
        const struct vmm_devmodel *m = &vm->models[i];
        if (m->irqd) {
            irqd = true;
            d->ioapic_base = ACPI_IOAPIC_BASE;
            d->ioapic_pins = ACPI_IOAPIC_PINS;
            d->pic = true;
        } else if (model_is(m, "uart")) {
            d->uart = true;
            d->uart_port = (uint16_t)m->ranges[0].base;
            d->uart_gsi = model_gsi(vm, m);
        } else if (model_is(m, "rtc")) {
            d->rtc = true;
            d->rtc_gsi = model_gsi(vm, m);
        } else if (model_is(m, "pmtimer")) {
            d->pm_timer_port = (uint16_t)m->ranges[0].base;
            d->pm_timer_32bit = model_has_arg(m, "bits=32");
        } else if (m->acpipm) {
            d->power_port = (uint16_t)m->ranges[0].base;
        }
    }
    if (!irqd) {
        coco_printf("vmm: ACPI: no irqd, so no LAPIC and IOAPIC for the MADT (add `device irqd`)\n");
        return VMM_STATUS_VM_SETUP;
    }
    return virtio_describe(vm, d);
}

int acpi_vm_write(struct vmm_vm *vm, uint64_t *rsdp_gpa)
{
    struct acpi_desc d;
    const char *why = NULL;
    size_t used = 0;

    int s = acpi_vm_describe(vm, &d);
    if (s != 0)
        return s;
    /* At 0xE0000, where a guest scanning for the RSDP looks; a platform
     * that maps only the guest pool's own pages (tdx, snp) has no RAM in
     * the legacy hole: then at the top of RAM, which the initramfs leaves
     * free (vm.c) and the e820 reserves (bzimage_e820()), found through
     * boot_params.acpi_rsdp_addr. */
    bool legacy = vm->mem_low[1] != COPRA_HANDLE_NONE;
    uint64_t gpa = legacy ? ACPI_TABLES_GPA : vm->ram_size - ACPI_TABLES_SIZE;
    if (vm->ram_size < VMM_RAM_HIGH + ACPI_TABLES_SIZE) {
        coco_printf("vmm: ACPI: the tables' region 0x%llx-0x%llx is not in guest RAM\n",
                    (unsigned long long)gpa, (unsigned long long)(gpa + ACPI_TABLES_SIZE - 1));
        return VMM_STATUS_VM_SETUP;
    }
    uint8_t *region = vm->ram + gpa;
    memset(region, 0, ACPI_TABLES_SIZE);
    if (acpi_build(&d, region, ACPI_TABLES_SIZE, gpa, rsdp_gpa, &used, &why) != ACPI_BUILD_OK) {
        coco_printf("vmm: ACPI: cannot build the tables: %s\n", why);
        return VMM_STATUS_VM_SETUP;
    }
    if (d.power_port != 0 && legacy)   /* the reset vector lives in the legacy hole too */
        acpi_reset_vector((uint16_t)(d.power_port + ACPIPM_RESET), ACPIPM_RESET_VALUE,
                        vm->ram + ACPI_RESET_VECTOR_GPA);
    coco_printf("vmm: ACPI tables at 0x%llx, %zu bytes: %u cpu(s)%s%s%s%s, %u virtio-mmio\n",
                (unsigned long long)*rsdp_gpa, used, d.ncpus, d.uart ? ", COM1" : "",
                d.rtc ? ", RTC" : "", d.pm_timer_port ? ", PM timer" : "",
                d.power_port ? ", power registers" : "", d.nvirtio);
    return 0;
}
