/* SPDX-License-Identifier: MIT */
/*
 * Device models: each `device` line of the VM description is a process the
 * VMM starts with EXEC, moving exactly the handles it serves with, and
 * supervises for the VM's lifetime.
 *
 *   device uart [irq=N|none] [debug-crash=1]
 *       program `uart` (servers/devmodel/uart16550.c): IOIO range
 *       0x3f8-0x3ff, a DUP of the console (the VMM's received handle 0)
 *       and the driver's DUP of the line of GSI N (default 4).
 *   device debugexit
 *       program `debugexit`: IOIO range 0xf4-0xf7.  It exits with
 *       DEBUGEXIT_STATUS(vcpu, value) when the guest writes there, and
 *       that exit stops the VM with the value (servers/devmodel/debugexit.h).
 *   device fwcfg [opt/NAME=PATH ...]
 *       program `fwcfg` (servers/devmodel/fwcfg_main.c): IOIO range
 *       0x510-0x511, argv ram=BYTES, and a read-only DUP of the files
 *       object fwcfg.c builds (etc/e820, and each opt/NAME from the initrd
 *       file PATH).
 *   device rtc [irq=N|none] [start=SECONDS]
 *       program `rtc` (servers/devmodel/rtc_main.c): IOIO range 0x70-0x71,
 *       argv ram=BYTES and start= (the wall time it starts at, seconds
 *       since 1970 UTC), and the driver's DUP of the line of GSI N
 *       (default 8).
 *   device port92
 *       program `port92`: IOIO port 0x92.  It exits with
 *       PORT92_STATUS_RESET(vcpu) when the guest asks for a reset there,
 *       and that exit resets the VM as a triple fault does (vm_reset()).
 *   device pit [irq=N|none]
 *       program `pit` (servers/devmodel/pit_main.c): IOIO ranges
 *       0x40-0x43 and 0x61, and the line of GSI N (default 2: ISA IRQ 0,
 *       which irqd feeds to PIC input 0 and IOAPIC pin 2).
 *   device hpet
 *       program `hpet` (servers/devmodel/hpet_main.c): MMIO range
 *       0xFED00000 +0x400 and two lines, `irq=2` (legacy timer 0 and the
 *       Tn_INT_ROUTE_CAP route of QEMU's pc HPET) and `irq2=8` (legacy
 *       timer 1): every interrupt that HPET can raise.
 *   device pmtimer [base=PORT] [bits=24|32]
 *       program `pmtimer` (servers/devmodel/pmtimer_main.c): the ACPI PM
 *       timer, IOIO range PORT..PORT+3 (default 0x608: QEMU pc's PIIX4 PM
 *       block, which SeaBIOS puts at 0x600); no handles besides.
 *   device virtio-blk disk=PATH [base=GPA] [irq=N|none]
 *   device virtio-rng [base=GPA] [irq=N|none]
 *       programs `virtio-blk` and `virtio-rng` (servers/devmodel/virtio_*.c,
 *       on libcoco's virtio-mmio transport, coco/virtio.h): MMIO range
 *       GPA +0x200 (default VIRTIO_MMIO_DEFAULT_BASE + 0x200 * k for the
 *       k-th virtio device of the description), argv ram= and base=, a DUP
 *       of guest RAM from 1 MiB up (vm->mem, ram_at=) with only MAP | WRITE (and TRANSFER, to move
 *       it), and the driver's DUP of the line of GSI N (default 16 + k:
 *       IOAPIC pins above the ISA ones, level-triggered, active-high).
 *       virtio-blk also gets argv disk=BYTES and a DUP of a memory object
 *       the VMM filled once with the initrd file PATH: the guest's writes
 *       go there (the initrd is read-only) and survive a model restart.
 *       devmodels_virtio() tells the ACPI tables where each one is.
 *   device acpipm [base=PORT]
 *       program `acpipm` (servers/devmodel/acpipm_main.c): the sleep
 *       control, sleep status and reset registers the FADT of a
 *       hardware-reduced ACPI guest names (acpi.c), IOIO range
 *       PORT..PORT+3 (default 0x600).  It exits with
 *       ACPIPM_STATUS_POWEROFF(vcpu) when the guest enters S5 there (the
 *       VM stops with status 0: a clean power-off) and with
 *       ACPIPM_STATUS_RESET(vcpu) for a reset, which is handled as port92's.
 *   device irqd
 *       program `irqd` (servers/irqd), also started without this line when
 *       any device has an interrupt line (then a missing irqd program only
 *       means "no interrupts").  The contract:
 *       argv {"irqd", "vcpus=N", "lines=G1,G2,..."}; handles [0] MMIO LAPIC
 *       0xFEE00000 +0x1000, [1] MMIO IOAPIC 0xFEC00000 +0x1000, [2] IOIO
 *       PIC master 0x20 +2, [3] IOIO PIC slave 0xA0 +2, [4] IOIO ELCR 0x4D0
 *       +2, [5..5+N-1] an IRQ handle per VCPU, [5+N..] one event per line
 *       in `lines=` order (EVENT_CREATE(1), protocol in coco/irqline.h).
 * Every model also gets `vcpus=N` (the slots of a range it must scan).
 *
 * Lines: the VMM creates each line's event, writes the GSI into its area
 * and keeps one full-rights handle; a driver gets a DUP with
 * SIGNAL | MAP | TRANSFER, irqd one with all event rights.
 *
 * Restarts: a model's ranges die with its handles when it exits.  The VMM
 * hears of it from the process handle (the main thread waits on all of
 * them) or, if a VCPU was waiting for an answer, from its VCPU wait
 * (COPRA_EXIT_DEVICE_GONE: the access completed as all-ones, or the write
 * was dropped).  Either way devmodels_reap() logs the exit, creates fresh
 * ranges and EXECs the program again, at most VMM_DEVMODEL_RESTARTS_MAX
 * times per model; after that the VM stops (status 1).  The VCPU that met
 * DEVICE_GONE re-enters the guest only once the exit has been handled; a
 * VCPU that touches the model's ports in between finds them unclaimed
 * (reads all-ones, served by devices.c).
 */
#include "vm.h"

#include <coco/virtio.h>

#include "../devmodel/acpipm.h"
#include "../devmodel/debugexit.h"
#include "../devmodel/mc146818.h"
#include "../devmodel/port92.h"
#include "pvclock.h"

#define GONE_WAIT_NS      (5000000000ull)   /* DEVICE_GONE to the model's exit */
#define GONE_POLL_NS      (50000000ull)
#define UART_DEFAULT_GSI  4u
#define RTC_DEFAULT_GSI   8u
#define PIT_DEFAULT_GSI   2u    /* ISA IRQ 0 */
#define HPET_LEGACY_GSI0  2u    /* ISA IRQ 0 */
#define HPET_LEGACY_GSI1  8u    /* ISA IRQ 8 */
#define PMTIMER_PORT      0x608u
#define VIRTIO_MMIO_DEFAULT_BASE 0xFEB00000ull   /* below the IOAPIC, as QEMU's microvm */
#define VIRTIO_DEFAULT_GSI       16u
#define VIRTIO_DISK_MAX_BYTES    (COPRA_MEM_MAX_PAGES * COPRA_PAGE_SIZE)

static const struct vmm_devmodel_range irqd_ranges[] = {
    { true, 0xFEE00000ull, 0x1000 },   /* LAPIC */
    { true, 0xFEC00000ull, 0x1000 },   /* IOAPIC */
    { false, 0x20, 2 },                /* PIC master */
    { false, 0xA0, 2 },                /* PIC slave */
    { false, 0x4D0, 2 },               /* ELCR */
};

/* The lock: an event holding one pending SIGNAL while free. */
static void models_lock(struct vmm_vm *vm)
{
    struct copra_wait_item item = { .handle = vm->models_lock };
    while (coco_wait(&item, 1, COPRA_WAIT_FOREVER) < 0 || !item.ready)
        item.ready = 0;
}

static void models_unlock(struct vmm_vm *vm)
{
    coco_signal(vm->models_lock);
}

/* ---- Configuration ---------------------------------------------------- */

static const char *device_param(const struct vmm_config_device *d, const char *key)
{
    for (unsigned i = 0; i < d->nparams; i++)
        if (strcmp(d->params[i].key, key) == 0)
            return d->params[i].value;
    return NULL;
}

static int config_fail(const struct vmm_config_device *d, const char *what)
{
    coco_printf("vmm: line %u: device %s: %s\n", d->line, d->name, what);
    return 2;
}

static struct vmm_devmodel *model_add(struct vmm_vm *vm, const char *name)
{
    for (unsigned i = 0; i < vm->nmodels; i++)
        if (strcmp(vm->models[i].name, name) == 0)
            return NULL;   /* one instance of each */
    if (vm->nmodels == VMM_DEVMODELS_MAX)
        return NULL;
    struct vmm_devmodel *m = &vm->models[vm->nmodels++];
    *m = (struct vmm_devmodel){ .name = name, .line = -1, .line2 = -1, .required = true };
    return m;
}

static void model_range(struct vmm_devmodel *m, bool mmio, uint64_t base, uint64_t len)
{
    m->ranges[m->nranges++] = (struct vmm_devmodel_range){ mmio, base, len };
}

static int line_add(struct vmm_vm *vm, unsigned gsi)
{
    for (unsigned i = 0; i < vm->nlines; i++)
        if (vm->lines[i].gsi == gsi)
            return (int)i;   /* a shared line: each driver gets its own DUP */
    if (vm->nlines == VMM_IRQ_LINES_MAX)
        return -1;
    vm->lines[vm->nlines] = (struct vmm_irq_line){ .gsi = gsi };
    return (int)vm->nlines++;
}

/* m's interrupt line from `irq=N|none` (default `gsi`); 0 or 2. */
static int model_line(struct vmm_vm *vm, const struct vmm_config_device *d,
                      struct vmm_devmodel *m, unsigned gsi)
{
    const char *v = device_param(d, "irq");
    if (v != NULL && strcmp(v, "none") == 0)
        return 0;
    if (v != NULL) {
        char *end;
        unsigned long n = strtoul(v, &end, 0);
        if (*v == '\0' || *end != '\0' || n > 23)
            return config_fail(d, "irq= wants a GSI 0..23 or none");
        gsi = (unsigned)n;
    }
    m->line = line_add(vm, gsi);
    return m->line < 0 ? config_fail(d, "too many interrupt lines") : 0;
}

/* An extra argv word for m (formatted like printf). */
static void model_arg(struct vmm_devmodel *m, const char *format, unsigned long long value)
{
    if (m->nargs < VMM_DEVMODEL_ARGS_MAX)
        snprintf(m->args[m->nargs++], VMM_DEVMODEL_ARG_BYTES, format, value);
}

/* Every parameter of d is one of `allowed` (NULL-terminated); 0 or 2. */
static int params_check(const struct vmm_config_device *d, const char *const *allowed,
                        const char *message)
{
    for (unsigned k = 0; k < d->nparams; k++) {
        unsigned i = 0;
        while (allowed[i] != NULL && strcmp(d->params[k].key, allowed[i]) != 0)
            i++;
        if (allowed[i] == NULL)
            return config_fail(d, message);
    }
    return 0;
}

/* A base= port with room for 4 ports (default `port`): m's argument and
 * IOIO range; 0 or 2. */
static int port4_configure(const struct vmm_config_device *d, struct vmm_devmodel *m,
                           unsigned long port)
{
    const char *v = device_param(d, "base");
    char *end;

    if (v != NULL) {
        port = strtoul(v, &end, 0);
        if (*v == '\0' || *end != '\0' || port > 0xFFFC)
            return config_fail(d, "base= wants a port 0..0xfffc");
        model_arg(m, "base=%llu", port);
    }
    model_range(m, false, port, 4);
    return 0;
}

/* pmtimer's base= (a port with room for 4) and bits= (24 or 32). */
static int pmtimer_configure(const struct vmm_config_device *d, struct vmm_devmodel *m)
{
    static const char *const params[] = { "base", "bits", NULL };
    const char *v;

    if (port4_configure(d, m, PMTIMER_PORT) != 0)
        return 2;
    if ((v = device_param(d, "bits")) != NULL) {
        if (strcmp(v, "24") != 0 && strcmp(v, "32") != 0)
            return config_fail(d, "bits= wants 24 or 32");
        model_arg(m, "bits=%llu", strtoull(v, NULL, 10));
    }
    return params_check(d, params, "unknown parameter (base=, bits=)");
}

/* The size of initrd file `handle`: READ returns 0 past its end, so a
 * binary search with 1-byte reads finds it in ~60 calls. */
static uint64_t file_size(copra_handle_t handle)
{
    uint64_t lo = 0, hi = VIRTIO_DISK_MAX_BYTES + 1;   /* size in [lo, hi) */
    uint8_t byte;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (coco_read(handle, &byte, 1, mid - 1) == 1)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* A fresh memory object holding initrd file `path`: the disk of a
 * virtio-blk model.  Returns 0 or 2 (bad description). */
static int disk_create(const struct vmm_config_device *d, struct vmm_devmodel *m, const char *path)
{
    int64_t file = coco_open(path, strlen(path));
    if (file < 0)
        return config_fail(d, "cannot open the disk= file in the initrd");
    uint64_t size = file_size((copra_handle_t)file);
    uint64_t bytes = (size + COPRA_PAGE_SIZE - 1) & ~(COPRA_PAGE_SIZE - 1);
    int status = 0;
    int64_t r = 0;
    if (size < 512 || size > VIRTIO_DISK_MAX_BYTES)
        status = config_fail(d, "the disk= file is under one sector or over 1 GiB");
    else if ((r = coco_mem_create(bytes / COPRA_PAGE_SIZE)) >= 0)
        m->disk = (copra_handle_t)r;
    if (status == 0 && r >= 0)
        r = coco_mmap(m->disk, NULL, bytes, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (status == 0 && r >= 0) {
        int64_t got = coco_read((copra_handle_t)file, (void *)(uintptr_t)r, size, 0);
        coco_munmap((void *)(uintptr_t)r, bytes);
        r = got == (int64_t)size ? 0 : got < 0 ? got : COPRA_EINVAL;
    }
    coco_close((copra_handle_t)file);
    if (status == 0 && r < 0) {
        coco_printf("vmm: line %u: device %s: cannot load the disk: %s\n", d->line, d->name,
                    coco_strerror(r));
        status = 2;
    }
    if (status == 0)
        model_arg(m, "disk=%llu", (unsigned long long)size);
    return status;
}

/* `device virtio-blk|virtio-rng`, the k-th virtio device; 0 or 2. */
static int virtio_configure(struct vmm_vm *vm, const struct vmm_config_device *d, unsigned k)
{
    static const char *const blk_params[] = { "base", "irq", "disk", NULL };
    static const char *const rng_params[] = { "base", "irq", NULL };
    bool blk = strcmp(d->name, "virtio-blk") == 0;
    uint64_t base = VIRTIO_MMIO_DEFAULT_BASE + (uint64_t)VIRTIO_MMIO_SIZE * k;
    const char *v;
    struct vmm_devmodel *m = model_add(vm, blk ? "virtio-blk" : "virtio-rng");

    if (m == NULL)
        return config_fail(d, "a second one, or too many devices");
    if (params_check(d, blk ? blk_params : rng_params,
                     blk ? "unknown parameter (base=, irq=, disk=)" : "unknown parameter (base=, irq=)"))
        return 2;
    if ((v = device_param(d, "base")) != NULL) {
        char *end;
        base = strtoull(v, &end, 0);
        /* 32-bit, for the ACPI Memory32Fixed descriptor; above RAM, or the
         * accesses would never exit. */
        if (*v == '\0' || *end != '\0' || base % VIRTIO_MMIO_SIZE != 0 || base < vm->ram_size ||
            base > 0x100000000ull - VIRTIO_MMIO_SIZE)
            return config_fail(d, "base= wants a 0x200-aligned GPA above RAM and below 4 GiB");
    }
    if (vm->ram_size <= VMM_RAM_HIGH)
        return config_fail(d, "virtio devices need guest RAM above 1 MiB");
    m->virtio = true;
    model_range(m, true, base, VIRTIO_MMIO_SIZE);
    /* The RAM object from 1 MiB up (vm.c ram_create). */
    model_arg(m, "ram=%llu", (unsigned long long)(vm->ram_size - VMM_RAM_HIGH));
    model_arg(m, "ram_at=%llu", (unsigned long long)VMM_RAM_HIGH);
    model_arg(m, "base=%llu", (unsigned long long)base);
    if (model_line(vm, d, m, VIRTIO_DEFAULT_GSI + k) != 0)
        return 2;
    if (!blk)
        return 0;
    if ((v = device_param(d, "disk")) == NULL)
        return config_fail(d, "disk=PATH (an initrd file) is required");
    return disk_create(d, m, v);
}

bool devmodels_virtio(const struct vmm_vm *vm, unsigned k, const char **name, uint64_t *base,
                      int *gsi)
{
    for (unsigned i = 0; i < vm->nmodels; i++) {
        const struct vmm_devmodel *m = &vm->models[i];
        if (!m->virtio || k-- > 0)
            continue;
        *name = m->name;
        *base = m->ranges[0].base;
        *gsi = m->line >= 0 ? (int)vm->lines[m->line].gsi : -1;
        return true;
    }
    return false;
}

/* The CLOCK (ns) at which the guest's TSC read 0: the rtc's time is
 * `start` there (argv epoch=), as kvm-clock's wall clock is (msr.c), so the
 * two agree, and a restarted rtc keeps the time. */
static uint64_t rtc_epoch(const struct vmm_vm *vm)
{
    int8_t shift;
    uint32_t mul;
    pvclock_time_scale(vm->tsc_hz, &shift, &mul);
    uint64_t since = pvclock_scale_delta(vmm_rdtsc() + vm->tsc_offset, mul, shift);
    uint64_t now = (uint64_t)coco_clock();
    return since < now ? now - since : 0;
}

int devmodels_configure(struct vmm_vm *vm)
{
    unsigned nvirtio = 0;
    const struct vmm_config *c = vm->config;
    bool want_irqd = false;

    vm->wall_start = RTC_DEFAULT_START;
    for (unsigned i = 0; i < c->ndevices; i++) {
        const struct vmm_config_device *d = &c->devices[i];
        struct vmm_devmodel *m;
        const char *v;

        if (strcmp(d->name, "uart") == 0) {
            if (!(m = model_add(vm, "uart")))
                return config_fail(d, "a second uart, or too many devices");
            model_range(m, false, 0x3f8, 8);
            m->console = true;
            if (model_line(vm, d, m, UART_DEFAULT_GSI) != 0)
                return 2;
            m->debug_crash = (v = device_param(d, "debug-crash")) != NULL && strcmp(v, "0") != 0;
        } else if (strcmp(d->name, "debugexit") == 0) {
            if (!(m = model_add(vm, "debugexit")))
                return config_fail(d, "a second debugexit, or too many devices");
            model_range(m, false, 0xf4, 4);
            m->debugexit = true;
        } else if (strcmp(d->name, "fwcfg") == 0) {
            if (!(m = model_add(vm, "fwcfg")))
                return config_fail(d, "a second fwcfg, or too many devices");
            model_range(m, false, 0x510, 2);
            model_arg(m, "ram=%llu", (unsigned long long)vm->ram_size);
            m->files = true;
            int s = fwcfg_files_create(vm, d);   /* checks the opt/ parameters */
            if (s != 0)
                return s;
            continue;
        } else if (strcmp(d->name, "rtc") == 0) {
            static const char *const rtc_params[] = { "irq", "start", NULL };
            if (!(m = model_add(vm, "rtc")))
                return config_fail(d, "a second rtc, or too many devices");
            model_range(m, false, 0x70, 2);
            model_arg(m, "ram=%llu", (unsigned long long)vm->ram_size);
            if ((v = device_param(d, "start")) != NULL) {
                char *end;
                unsigned long long start = strtoull(v, &end, 0);
                if (*v == '\0' || *end != '\0')
                    return config_fail(d, "start= wants seconds since 1970-01-01 UTC");
                model_arg(m, "start=%llu", start);
                vm->wall_start = (int64_t)start;
            }
            model_arg(m, "epoch=%llu", (unsigned long long)rtc_epoch(vm));
            if (model_line(vm, d, m, RTC_DEFAULT_GSI) != 0 ||
                params_check(d, rtc_params, "unknown parameter (irq=, start=)") != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "port92") == 0) {
            static const char *const no_params[] = { NULL };
            if (!(m = model_add(vm, "port92")))
                return config_fail(d, "a second port92, or too many devices");
            model_range(m, false, PORT92_PORT, 1);
            m->port92 = true;
            if (params_check(d, no_params, "takes no parameters") != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "pit") == 0) {
            static const char *const pit_params[] = { "irq", NULL };
            if (!(m = model_add(vm, "pit")))
                return config_fail(d, "a second pit, or too many devices");
            model_range(m, false, 0x40, 4);
            model_range(m, false, 0x61, 1);
            if (model_line(vm, d, m, PIT_DEFAULT_GSI) != 0 ||
                params_check(d, pit_params, "unknown parameter (irq=)") != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "hpet") == 0) {
            static const char *const no_params[] = { NULL };
            if (!(m = model_add(vm, "hpet")))
                return config_fail(d, "a second hpet, or too many devices");
            model_range(m, true, 0xFED00000ull, 0x400);
            m->line = line_add(vm, HPET_LEGACY_GSI0);
            m->line2 = line_add(vm, HPET_LEGACY_GSI1);
            if (m->line < 0 || m->line2 < 0)
                return config_fail(d, "too many interrupt lines");
            if (params_check(d, no_params, "takes no parameters") != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "pmtimer") == 0) {
            if (!(m = model_add(vm, "pmtimer")))
                return config_fail(d, "a second pmtimer, or too many devices");
            if (pmtimer_configure(d, m) != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "virtio-blk") == 0 || strcmp(d->name, "virtio-rng") == 0) {
            if (virtio_configure(vm, d, nvirtio++) != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "acpipm") == 0) {
            static const char *const acpipm_params[] = { "base", NULL };
            if (!(m = model_add(vm, "acpipm")))
                return config_fail(d, "a second acpipm, or too many devices");
            m->acpipm = true;
            if (port4_configure(d, m, ACPIPM_PORT) != 0 ||
                params_check(d, acpipm_params, "unknown parameter (base=)") != 0)
                return 2;
            continue;
        } else if (strcmp(d->name, "irqd") == 0) {
            want_irqd = true;
            continue;
        } else {
            return config_fail(d, "unknown device (uart, debugexit, fwcfg, rtc, port92, pit, hpet, pmtimer, virtio-blk, virtio-rng, acpipm or irqd)");
        }
        static const char *const uart_params[] = { "irq", "debug-crash", NULL };   /* and debugexit */
        if (params_check(d, uart_params, "unknown parameter (irq=, debug-crash=)") != 0)
            return 2;
    }
    if (want_irqd || vm->nlines > 0) {
        struct vmm_devmodel *m = model_add(vm, "irqd");
        if (m == NULL) {
            coco_printf("vmm: too many devices for irqd\n");
            return 2;
        }
        for (unsigned i = 0; i < sizeof irqd_ranges / sizeof irqd_ranges[0]; i++)
            m->ranges[m->nranges++] = irqd_ranges[i];
        m->irqd = true;
        m->required = want_irqd;
        if (5 + vm->nvcpus + vm->nlines > COPRA_EXEC_HANDLES_MAX) {
            if (want_irqd) {
                coco_printf("vmm: irqd takes at most %u handles: %u vcpus and %u lines are too many\n",
                            COPRA_EXEC_HANDLES_MAX, vm->nvcpus, vm->nlines);
                return 2;
            }
            coco_printf("vmm: %u vcpus and %u lines do not fit irqd's %u handles: no interrupts\n",
                        vm->nvcpus, vm->nlines, COPRA_EXEC_HANDLES_MAX);
            vm->nmodels--;
        }
    }
    return 0;
}

/* ---- Starting --------------------------------------------------------- */

static void handles_close(copra_handle_t *handles, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        coco_close(handles[i]);
}

/* Create m's handles and EXEC it; returns 0 or a negative error. */
static int64_t model_exec(struct vmm_vm *vm, struct vmm_devmodel *m)
{
    copra_handle_t handles[COPRA_EXEC_HANDLES_MAX];
    char vcpus[24], lines[8 * VMM_IRQ_LINES_MAX], irq[16], irq2[16];
    const char *argv[8 + VMM_DEVMODEL_ARGS_MAX];
    unsigned n = 0, argc = 0;
    int64_t r = 0;

    for (unsigned i = 0; i < m->nranges && r >= 0; i++) {
        const struct vmm_devmodel_range *g = &m->ranges[i];
        r = g->mmio ? coco_mmio_event(vm->vm, g->base, g->len)
                    : coco_ioio_event(vm->vm, (uint16_t)g->base, (uint32_t)g->len);
        if (r >= 0)
            handles[n++] = (copra_handle_t)r;
    }
    argv[argc++] = m->name;
    snprintf(vcpus, sizeof vcpus, "vcpus=%u", vm->nvcpus);
    argv[argc++] = vcpus;
    if (m->irqd) {
        size_t used = 0;
        for (unsigned i = 0; i < vm->nvcpus && r >= 0; i++)
            if ((r = coco_irq_create(vm->vcpus[i].handle)) >= 0)
                handles[n++] = (copra_handle_t)r;
        used += (size_t)snprintf(lines, sizeof lines, "lines=");
        for (unsigned i = 0; i < vm->nlines && r >= 0; i++) {
            if ((r = coco_dup(vm->lines[i].event, COPRA_RIGHTS_EVENT)) >= 0)
                handles[n++] = (copra_handle_t)r;
            used += (size_t)snprintf(lines + used, sizeof lines - used, "%s%u", i ? "," : "",
                                     vm->lines[i].gsi);
        }
        argv[argc++] = lines;
    } else {
        if (m->console && vm->console != COPRA_HANDLE_NONE && r >= 0) {
            if ((r = coco_dup(vm->console, COPRA_RIGHTS_CONSOLE)) >= 0) {
                handles[n++] = (copra_handle_t)r;
                argv[argc++] = "console";
            }
        }
        /* Guest RAM: what mapping it read/write takes, nothing more. */
        if (m->virtio && r >= 0 &&
            (r = coco_dup(vm->mem, COPRA_RIGHT_MAP | COPRA_RIGHT_WRITE | COPRA_RIGHT_TRANSFER)) >= 0)
            handles[n++] = (copra_handle_t)r;
        if (m->line >= 0 && r >= 0) {
            if ((r = coco_dup(vm->lines[m->line].event, COCO_IRQ_LINE_DRIVER_RIGHTS)) >= 0) {
                handles[n++] = (copra_handle_t)r;
                snprintf(irq, sizeof irq, "irq=%u", vm->lines[m->line].gsi);
                argv[argc++] = irq;
            }
        }
        if (m->line2 >= 0 && r >= 0) {
            if ((r = coco_dup(vm->lines[m->line2].event, COCO_IRQ_LINE_DRIVER_RIGHTS)) >= 0) {
                handles[n++] = (copra_handle_t)r;
                snprintf(irq2, sizeof irq2, "irq2=%u", vm->lines[m->line2].gsi);
                argv[argc++] = irq2;
            }
        }
        if (m->debug_crash)
            argv[argc++] = "debug-crash";
        if (m->disk != COPRA_HANDLE_NONE && r >= 0 &&
            (r = coco_dup(m->disk, COPRA_RIGHT_MAP | COPRA_RIGHT_WRITE | COPRA_RIGHT_TRANSFER)) >= 0)
            handles[n++] = (copra_handle_t)r;
        if (m->files && vm->fwcfg_files != COPRA_HANDLE_NONE && r >= 0) {
            r = coco_dup(vm->fwcfg_files, COPRA_RIGHT_READ | COPRA_RIGHT_MAP | COPRA_RIGHT_TRANSFER);
            if (r >= 0)
                handles[n++] = (copra_handle_t)r;
        }
        for (unsigned i = 0; i < m->nargs; i++)
            argv[argc++] = m->args[i];
    }
    if (r >= 0)
        r = coco_spawn(m->name, (int)argc, argv, handles, n);
    if (r < 0) {
        handles_close(handles, n);   /* EXEC moves nothing when it fails */
        return r;
    }
    m->process = (copra_handle_t)r;
    return 0;
}

int devmodels_start(struct vmm_vm *vm)
{
    int64_t r = coco_event_create(0);
    if (r < 0)
        goto fail;
    vm->models_lock = (copra_handle_t)r;
    coco_signal(vm->models_lock);

    for (unsigned i = 0; i < vm->nlines; i++) {
        struct vmm_irq_line *l = &vm->lines[i];
        r = coco_event_create(COCO_IRQ_LINE_PAGES);
        if (r < 0)
            goto fail;
        l->event = (copra_handle_t)r;
        r = coco_mmap(l->event, NULL, COCO_IRQ_LINE_PAGES * COPRA_PAGE_SIZE,
                      COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (r < 0)
            goto fail;
        ((struct coco_irq_line *)(uintptr_t)r)->gsi = l->gsi;
        coco_munmap((void *)(uintptr_t)r, COCO_IRQ_LINE_PAGES * COPRA_PAGE_SIZE);
    }
    /* irqd (last in the table) first, so its controllers exist before any
     * device model can raise a line. */
    for (unsigned k = vm->nmodels; k-- > 0;) {
        struct vmm_devmodel *m = &vm->models[k];
        r = model_exec(vm, m);
        if (r == COPRA_ENOENT && m->irqd && !m->required) {
            coco_printf("vmm: no irqd in the initrd: devices run without interrupts\n");
            continue;
        }
        if (r < 0) {
            coco_printf("vmm: cannot start device model %s: %s\n", m->name, coco_strerror(r));
            return VMM_STATUS_VM_SETUP;
        }
        coco_printf("vmm: device model %s started (%u range(s)%s%s)\n", m->name, m->nranges,
                    m->line2 >= 0 ? ", two interrupt lines" : m->line >= 0 ? ", an interrupt line" : "", m->console && vm->console ? ", the console" : "");
    }
    return 0;
fail:
    coco_printf("vmm: cannot set up the device models: %s\n", coco_strerror(r));
    return VMM_STATUS_VM_SETUP;
}

void devmodels_stop(struct vmm_vm *vm)
{
    for (unsigned i = 0; i < vm->nlines; i++)
        if (vm->lines[i].event != COPRA_HANDLE_NONE)
            coco_close(vm->lines[i].event);
    if (vm->models_lock != COPRA_HANDLE_NONE)
        coco_close(vm->models_lock);
    for (unsigned i = 0; i < vm->nmodels; i++)
        if (vm->models[i].disk != COPRA_HANDLE_NONE)
            coco_close(vm->models[i].disk);
    /* Running models live on until the VMM (the first process) exits,
     * which ends the system; there is no call to kill them earlier. */
}

/* ---- Supervision ------------------------------------------------------ */

unsigned devmodels_wait_items(struct vmm_vm *vm, struct copra_wait_item *items, unsigned max)
{
    unsigned n = 0;

    models_lock(vm);
    for (unsigned i = 0; i < vm->nmodels && n < max; i++)
        if (vm->models[i].process != COPRA_HANDLE_NONE)
            items[n++] = (struct copra_wait_item){ .handle = vm->models[i].process };
    models_unlock(vm);
    return n;
}

/* m's process exited with `status`: restart it or stop the VM.  Under
 * models_lock; model_exited() then tells waiting VCPUs (see below). */
static void model_restart(struct vmm_vm *vm, struct vmm_devmodel *m, int64_t status)
{
    coco_close(m->process);
    m->process = COPRA_HANDLE_NONE;

    if (m->debugexit && status >= DEBUGEXIT_STATUS_BASE &&
        status < DEBUGEXIT_STATUS_BASE + (int64_t)(COPRA_VCPUS_MAX << 8)) {
        unsigned vcpu = (unsigned)((status - DEBUGEXIT_STATUS_BASE) >> 8);
        unsigned value = (unsigned)(status & 0xff);
        if (value <= 0x7f)
            vm_stop(vm, (int)value, "vcpu %u: guest wrote 0x%x to the debug-exit port 0xf4", vcpu,
                    value);
        else
            vm_stop(vm, VMM_STATUS_GUEST_CRASH, "vcpu %u: guest wrote a value above 0x7f to the "
                    "debug-exit port 0xf4 (reported as 1)", vcpu);
        return;
    }
    if (m->port92 && status >= PORT92_STATUS_RESET_BASE &&
        status < PORT92_STATUS_RESET_BASE + (int64_t)COPRA_VCPUS_MAX) {
        vm_reset(vm, "vcpu %u: reset through port 0x92",
                 (unsigned)(status - PORT92_STATUS_RESET_BASE));
        return;
    }
    if (m->acpipm && status >= ACPIPM_STATUS_POWEROFF_BASE &&
        status < ACPIPM_STATUS_POWEROFF_BASE + (int64_t)COPRA_VCPUS_MAX) {
        vm_stop(vm, 0, "vcpu %u: ACPI power-off (S5 through the sleep control register)",
                (unsigned)(status - ACPIPM_STATUS_POWEROFF_BASE));
        return;
    }
    if (m->acpipm && status >= ACPIPM_STATUS_RESET_BASE &&
        status < ACPIPM_STATUS_RESET_BASE + (int64_t)COPRA_VCPUS_MAX) {
        vm_reset(vm, "vcpu %u: reset through the ACPI reset register",
                 (unsigned)(status - ACPIPM_STATUS_RESET_BASE));
        return;
    }
    if (status >= 0x100 && status < 0x200)
        coco_printf("vmm: device model %s killed by a fault (vector %lld)\n", m->name,
                    (long long)(status - 0x100));
    else
        coco_printf("vmm: device model %s exited with status %lld\n", m->name, (long long)status);
    if (vm_stopping(vm))
        return;
    if (m->restarts >= VMM_DEVMODEL_RESTARTS_MAX) {
        vm_stop(vm, VMM_STATUS_GUEST_CRASH, "device model %s died after %u restarts: giving up",
                m->name, m->restarts);
        return;
    }
    m->restarts++;
    int64_t r = model_exec(vm, m);
    if (r < 0) {
        vm_stop(vm, VMM_STATUS_GUEST_CRASH, "cannot restart device model %s: %s", m->name,
                coco_strerror(r));
        return;
    }
    coco_printf("vmm: device model %s restarted with fresh ranges (restart %u of %u)\n", m->name,
                m->restarts, VMM_DEVMODEL_RESTARTS_MAX);
}

/* The generation moves only once the new ranges exist (or the VM is
 * stopping): a VCPU released earlier would find its ports unclaimed. */
static void model_exited(struct vmm_vm *vm, struct vmm_devmodel *m, int64_t status)
{
    model_restart(vm, m, status);
    __atomic_add_fetch(&vm->models_generation, 1, __ATOMIC_RELEASE);
}

void devmodels_reap(struct vmm_vm *vm, uint64_t timeout_ns)
{
    struct copra_wait_item items[VMM_DEVMODELS_MAX];
    struct vmm_devmodel *owner[VMM_DEVMODELS_MAX];
    unsigned n = 0;

    models_lock(vm);
    for (unsigned i = 0; i < vm->nmodels; i++) {
        if (vm->models[i].process == COPRA_HANDLE_NONE)
            continue;
        owner[n] = &vm->models[i];
        items[n++] = (struct copra_wait_item){ .handle = vm->models[i].process };
    }
    if (n > 0 && coco_wait(items, n, timeout_ns) > 0)
        for (unsigned i = 0; i < n; i++)
            if (items[i].ready)
                model_exited(vm, owner[i], (int64_t)items[i].value);
    models_unlock(vm);
}

void devmodels_device_gone(struct vmm_vcpu *v)
{
    struct vmm_vm *vm = v->vm;
    uint64_t deadline = (uint64_t)coco_clock() + GONE_WAIT_NS;

    /* The range died before the process is reported exited (the kernel
     * closes the handles first): wait for that exit to be handled. */
    while (!vm_stopping(vm) &&
           __atomic_load_n(&vm->models_generation, __ATOMIC_ACQUIRE) == v->models_generation) {
        if ((uint64_t)coco_clock() >= deadline) {
            coco_printf("vmm: vcpu %u: a device model went away mid-request, but none exited\n",
                        v->index);
            return;
        }
        devmodels_reap(vm, GONE_POLL_NS);
    }
}
