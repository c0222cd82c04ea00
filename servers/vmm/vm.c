/* SPDX-License-Identifier: MIT */
/*
 * VM set-up, run and tear-down (see vm.h): RAM, the guest image, VCPUs and
 * their threads, stopping, and the summary printed at the end.
 */
#include "vm.h"

#include <stdarg.h>

#include "bzimage.h"
#include "loader.h"

/* How the VCPUs start: the image's entry and what the boot protocol puts
 * in registers (vm.h; Linux: bzimage.h). */
struct vm_entry {
    uint64_t rip;
    uint64_t rax, rbx, rsi;   /* VCPU 0 only */
    bool linux_gdt;           /* load the boot GDT and its selectors */
};

/* How long the main thread waits for a VCPU thread between two rounds of
 * VCPU_KICKs while the VM stops. */
#define STOP_KICK_INTERVAL_NS 20000000ull

static const char *const exit_names[VMM_EXIT_REASONS] = {
    [COPRA_EXIT_NONE] = "none",         [COPRA_EXIT_IO] = "io",
    [COPRA_EXIT_MMIO] = "mmio",         [COPRA_EXIT_CPUID] = "cpuid",
    [COPRA_EXIT_MSR_READ] = "msr-read", [COPRA_EXIT_MSR_WRITE] = "msr-write",
    [COPRA_EXIT_HLT] = "hlt",           [COPRA_EXIT_SHUTDOWN] = "shutdown",
    [COPRA_EXIT_VMMCALL] = "vmmcall",   [COPRA_EXIT_KICK] = "kick",
    [COPRA_EXIT_FAIL] = "fail",         [COPRA_EXIT_UNHANDLED] = "unhandled",
    [COPRA_EXIT_DEVICE_GONE] = "device-gone", [COPRA_EXIT_XSETBV] = "xsetbv",
    [COPRA_EXIT_INIT] = "init",         [COPRA_EXIT_SIPI] = "sipi",
};

/* enum copra_exit_kind, as kvm_stat names them where it has a name. */
static const char *const kind_names[COPRA_EXIT_KINDS] = {
    [COPRA_KIND_IO] = "io", [COPRA_KIND_NPF] = "npf", [COPRA_KIND_CPUID] = "cpuid",
    [COPRA_KIND_MSR] = "msr", [COPRA_KIND_HLT] = "hlt", [COPRA_KIND_SHUTDOWN] = "shutdown",
    [COPRA_KIND_VMMCALL] = "vmmcall", [COPRA_KIND_INTR] = "intr", [COPRA_KIND_WINDOW] = "vintr",
    [COPRA_KIND_CR] = "cr", [COPRA_KIND_DR] = "dr", [COPRA_KIND_LTR] = "ltr",
    [COPRA_KIND_XSETBV] = "xsetbv", [COPRA_KIND_FAIL] = "fail", [COPRA_KIND_NONE] = "none",
    [COPRA_KIND_OTHER] = "other",
};

void vm_stop(struct vmm_vm *vm, int status, const char *format, ...)
{
    int expected = 0;
    va_list ap;

    if (!__atomic_compare_exchange_n(&vm->stopping, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    vm->status = status;
    va_start(ap, format);
    vsnprintf(vm->reason, sizeof vm->reason, format, ap);
    va_end(ap);
    coco_signal(vm->stop_event);
}

void vm_reset(struct vmm_vm *vm, const char *format, ...)
{
    bool expected = vm->config->guest_expect == VMM_EXPECT_SHUTDOWN;
    char what[120];
    va_list ap;

    va_start(ap, format);
    vsnprintf(what, sizeof what, format, ap);
    va_end(ap);
    vm_stop(vm, expected ? 0 : VMM_STATUS_GUEST_CRASH, "%s%s", what,
            expected ? " (expected: expect=shutdown)" : "");
}

/* Read and validate the guest image; returns 0 or VMM_STATUS_BAD_IMAGE. */
static int image_read(const struct vmm_config *config, uint64_t ram_size, char **image,
                      size_t *size, struct loader_plan *plan)
{
    struct loader_error error;

    int r = coco_read_file(config->guest_path, image, size);
    if (r < 0) {
        coco_printf("vmm: cannot read guest image %s: %s\n", config->guest_path,
                    coco_strerror(r));
        return VMM_STATUS_BAD_IMAGE;
    }
    if (config->guest_format == VMM_GUEST_LINUX) {
        plan->format = VMM_GUEST_LINUX;
        return 0;   /* linux_read() parses it, with the initramfs */
    }
    if (loader_parse((const uint8_t *)*image, *size, config->guest_format, ram_size, plan,
                     &error) != LOADER_OK) {
        coco_printf("vmm: guest image %s is not a valid %s image: %s\n", config->guest_path,
                    vmm_guest_format_name(config->guest_format), error.message);
        free(*image);
        *image = NULL;
        return VMM_STATUS_BAD_IMAGE;
    }
    coco_printf("vmm: guest %s: %s%s image, %u segment(s), entry 0x%llx\n", config->guest_path,
                vmm_guest_format_name(config->guest_format),
                plan->multiboot ? (plan->aout_kludge ? " (a.out kludge)" : " (ELF32)") : "",
                plan->nsegments, (unsigned long long)plan->entry);
    return 0;
}

static void modules_free(struct loader_module *modules, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free((void *)modules[i].data);
        modules[i].data = NULL;
    }
}

/* Read the `module` files and place them and the boot information after
 * the image; returns 0 or VMM_STATUS_BAD_IMAGE (modules then freed). */
static int modules_read(const struct vmm_config *config, const struct loader_plan *plan,
                        struct loader_module *modules, struct loader_layout *layout)
{
    struct loader_error error;

    if (config->nmodules > 0 && !plan->multiboot) {
        coco_printf("vmm: modules need a multiboot guest, not %s\n",
                    vmm_guest_format_name(config->guest_format));
        return VMM_STATUS_BAD_IMAGE;
    }
    for (unsigned i = 0; i < config->nmodules; i++) {
        char *data = NULL;
        size_t size = 0;
        int r = coco_read_file(config->modules[i].path, &data, &size);
        if (r < 0) {
            coco_printf("vmm: cannot read module %s: %s\n", config->modules[i].path, coco_strerror(r));
            modules_free(modules, i);
            return VMM_STATUS_BAD_IMAGE;
        }
        modules[i] = (struct loader_module){ .data = (const uint8_t *)data, .size = size,
                                             .string = config->modules[i].string };
    }
    if (plan->multiboot && loader_place(plan, config->memory_bytes, modules, config->nmodules,
                                        config->guest_cmdline, layout, &error) != LOADER_OK) {
        coco_printf("vmm: guest %s: %s\n", config->guest_path, error.message);
        modules_free(modules, config->nmodules);
        return VMM_STATUS_BAD_IMAGE;
    }
    for (unsigned i = 0; i < config->nmodules; i++)
        coco_printf("vmm: module %s: %llu bytes at 0x%llx\n", config->modules[i].path,
                    (unsigned long long)modules[i].size, (unsigned long long)layout->module_gpa[i]);
    return 0;
}

/* A Linux guest: parse the bzImage, read the initramfs and place it;
 * returns 0 or VMM_STATUS_BAD_IMAGE (the initramfs then freed). */
static int linux_read(const struct vmm_config *config, const char *image, size_t size,
                      struct bzimage_plan *bz, char **initrd)
{
    struct loader_error error;
    size_t initrd_size = 0;

    *initrd = NULL;
    if (config->nmodules > 0) {
        coco_printf("vmm: modules need a multiboot guest; a Linux guest takes initrd=\n");
        return VMM_STATUS_BAD_IMAGE;
    }
    if (bzimage_parse((const uint8_t *)image, size, config->memory_bytes, config->guest_cmdline, bz,
                      &error) != LOADER_OK) {
        coco_printf("vmm: guest %s is not a valid Linux bzImage: %s\n", config->guest_path,
                    error.message);
        return VMM_STATUS_BAD_IMAGE;
    }
    if (config->guest_initrd[0] != '\0') {
        int r = coco_read_file(config->guest_initrd, initrd, &initrd_size);
        if (r < 0) {
            coco_printf("vmm: cannot read the initramfs %s: %s\n", config->guest_initrd,
                        coco_strerror(r));
            return VMM_STATUS_BAD_IMAGE;
        }
    }
    /* The top ACPI_TABLES_SIZE bytes stay free: the ACPI tables go there
     * where the legacy hole is no RAM (acpi_vm_write()). */
    if (bzimage_place_initrd(bz, config->memory_bytes - ACPI_TABLES_SIZE, initrd_size, &error) != LOADER_OK) {
        coco_printf("vmm: guest %s: %s\n", config->guest_path, error.message);
        free(*initrd);
        *initrd = NULL;
        return VMM_STATUS_BAD_IMAGE;
    }
    coco_printf("vmm: guest %s: Linux bzImage, boot protocol %u.%02u, kernel %llu KiB at 0x%llx "
                "(needs %llu KiB), initramfs %llu KiB at 0x%llx\n", config->guest_path,
                bz->version >> 8, bz->version & 0xff, (unsigned long long)(bz->kernel_size >> 10),
                (unsigned long long)bz->load_gpa, (unsigned long long)(bz->init_size >> 10),
                (unsigned long long)(bz->initrd_size >> 10), (unsigned long long)bz->initrd_gpa);
    return 0;
}

/* What the MSR model needs from the CPUID policy (leaves without VCPU state). */
static void vm_cpu_features(struct vmm_vm *vm)
{
    struct vmm_vcpu probe = { .vm = vm };
    uint32_t ext[4], l7[4], addr[4];
    cpuid_policy(&probe, 0x80000001u, 0, ext);
    cpuid_policy(&probe, 7, 0, l7);
    cpuid_policy(&probe, 0x80000008u, 0, addr);
    vm->has_tsc_aux = (ext[3] & (1u << 27)) || (l7[2] & (1u << 22));   /* RDTSCP, RDPID */
    vm->phys_bits = (addr[0] & 0xff) ? addr[0] & 0xff : 36;
}

static int setup_fail(const char *what, int64_t error)
{
    coco_printf("vmm: %s failed: %s%s\n", what, coco_strerror(error),
                error == COPRA_ENOSYS ? " (this kernel cannot run VMs)" : "");
    return VMM_STATUS_VM_SETUP;
}

/*
 * One part of guest RAM, [gpa, gpa + len): the guest pool's own pages at
 * that address (GUEST_MEM, identity: all TDX and SNP can give a guest, so
 * every run exercises it) or, where the pool has none to give (another VM
 * has them, or the PC's legacy hole 0x9F000-0xFFFFF is no RAM), ordinary
 * memory (MEM_CREATE), which only a translating platform (svm) maps at
 * another address.  Mapped into the VM and at `window + gpa` here.
 */
static int ram_part(struct vmm_vm *vm, uint64_t gpa, uint64_t len, copra_handle_t *out)
{
    int64_t r = coco_guest_mem(vm->vmctl, gpa, len / COPRA_PAGE_SIZE);
    vm->identity_parts |= (r >= 0) << (gpa >= VMM_RAM_HIGH ? 2 : gpa >= VMM_RAM_LOW_END);
    if (r < 0 && (r = coco_mem_create(len / COPRA_PAGE_SIZE)) < 0)
        return setup_fail("MEM_CREATE of guest RAM", r);
    *out = (copra_handle_t)r;
    r = coco_mmap(*out, vm->ram + gpa, len, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (r < 0)
        return setup_fail("MMAP of guest RAM", r);
    r = coco_vm_map(vm->vm, *out, gpa, 0, len, COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X);
    if (r == COPRA_EINVAL && gpa == VMM_RAM_LOW_END && !(vm->identity_parts & 2)) {
        /* A platform that maps only the pool's own pages (tdx, snp), and the
         * pool has none in the legacy hole: the guest has none there either
         * (its e820 reserves the range anyway). */
        coco_munmap(vm->ram + gpa, len);
        coco_close(*out);
        *out = COPRA_HANDLE_NONE;
        return 0;
    }
    if (r < 0)
        return setup_fail("VM_MAP of guest RAM", r);
    return 0;
}

/* RAM at GPA 0 .. ram_size, in up to three parts (VMM_RAM_*), seen here as
 * one window to load the guest. */
static int ram_create(struct vmm_vm *vm)
{
    /* A free window for all of it: map fresh memory, keep its address. */
    int64_t r = coco_mmap(COPRA_HANDLE_NONE, NULL, vm->ram_size, COPRA_PROT_READ, 0);
    if (r < 0)
        return setup_fail("MMAP of a window for guest RAM", r);
    coco_munmap((void *)(uintptr_t)r, vm->ram_size);
    vm->ram = (uint8_t *)(uintptr_t)r;
    const uint64_t bounds[4] = { 0, VMM_RAM_LOW_END, VMM_RAM_HIGH, vm->ram_size };
    copra_handle_t *parts[3] = { &vm->mem_low[0], &vm->mem_low[1], &vm->mem };
    for (unsigned i = 0; i < 3; i++) {
        uint64_t lo = bounds[i] < vm->ram_size ? bounds[i] : vm->ram_size;
        uint64_t hi = bounds[i + 1] < vm->ram_size ? bounds[i + 1] : vm->ram_size;
        int status = hi > lo ? ram_part(vm, lo, hi - lo, parts[i]) : 0;
        if (status != 0)
            return status;
    }
    /* Bit i: part i came from the guest pool (0 low, 1 legacy hole, 2 high). */
    coco_printf("vmm: guest RAM: low %s, legacy hole %s, from 1 MiB %s\n",
                vm->identity_parts & 1 ? "identity" : "translated",
                vm->identity_parts & 2 ? "identity" : vm->mem_low[1] ? "translated" : "none",
                vm->ram_size <= VMM_RAM_HIGH ? "none" : vm->identity_parts & 4 ? "identity" : "translated");
    return 0;
}

/* The entry state of VCPU `v` (convention in vm.h), in one BATCH. */
static int vcpu_set_entry(struct vmm_vcpu *v, const struct vm_entry *e)
{
    bool bsp = v->index == 0;
    uint64_t values[16][2] = {
        { COPRA_STATE_RIP, e->rip },
        { COPRA_STATE_GPR0 + COPRA_RAX, bsp ? e->rax : 0 },
        { COPRA_STATE_GPR0 + COPRA_RBX, bsp ? e->rbx : v->index },
        { COPRA_STATE_GPR0 + COPRA_RSI, bsp ? e->rsi : 0 },
        { COPRA_STATE_RFLAGS, 2 },
        /* A PC's application processors wait for INIT and SIPI (aps=sipi). */
        { COPRA_STATE_MP_STATE, v->index > 0 && v->vm->config->guest_aps == VMM_APS_SIPI ? COPRA_MP_WAIT_SIPI
                                                                                          : COPRA_MP_RUNNABLE },
        { COPRA_STATE_TSC_OFFSET, v->vm->tsc_offset },
    };
    unsigned n = v->vm->tsc_fixed ? 6 : 7;

    /* The Linux boot protocol wants a GDT with __BOOT_CS and __BOOT_DS
     * loaded and those selectors in the segment registers (the hidden
     * parts are flat already, as multiboot needs). */
    if (e->linux_gdt) {
        static const enum copra_segment data[] = { COPRA_DS, COPRA_ES, COPRA_SS, COPRA_FS, COPRA_GS };
        values[n][0] = COPRA_STATE_GDTR_BASE, values[n++][1] = BZIMAGE_GDT_GPA;
        values[n][0] = COPRA_STATE_GDTR_LIMIT, values[n++][1] = BZIMAGE_BOOT_DS + 7;
        values[n][0] = COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_SEL), values[n++][1] = BZIMAGE_BOOT_CS;
        for (unsigned i = 0; i < sizeof data / sizeof data[0]; i++)
            values[n][0] = COPRA_STATE_SEG(data[i], COPRA_SEG_SEL), values[n++][1] = BZIMAGE_BOOT_DS;
    }
    msr_vcpu_reset(v);
    int r = vcpu_set_states(v, (const uint64_t (*)[2])values, n);
    return r < 0 ? setup_fail("VCPU_SET_STATE", r) : 0;
}

static int vcpus_create(struct vmm_vm *vm, const struct vm_entry *entry)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vmm_vcpu *v = &vm->vcpus[i];
        v->vm = vm;
        v->index = i;
        int64_t r = coco_vcpu_create(vm->vm, i, i % vm->ncpus);
        if (r < 0)
            return setup_fail("VCPU_CREATE", r);
        v->handle = (copra_handle_t)r;
        r = coco_mmap(v->handle, NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (r < 0)
            return setup_fail("MMAP of a VCPU run page", r);
        v->run = (struct copra_run_page *)(uintptr_t)r;
        r = coco_irq_create(v->handle);
        if (r < 0)
            return setup_fail("IRQ_CREATE", r);
        v->irq = (copra_handle_t)r;
        if (i == 0 && coco_vcpu_set_state(v->handle, COPRA_STATE_TSC_OFFSET, vm->tsc_offset) == COPRA_EINVAL) {
            /* TDX keeps an L2 guest's TSC itself (the TD's): the guest's TSC
             * is the host's, and kvm-clock says so. */
            vm->tsc_fixed = true;
            vm->tsc_offset = 0;
            coco_printf("vmm: the platform keeps the guest TSC: it reads the host's\n");
        }
        int s = vcpu_set_entry(v, entry);
        if (s != 0)
            return s;
    }
    return 0;
}

/* Kick every VCPU whose thread is still running until all have returned. */
static void vcpus_join(struct vmm_vm *vm)
{
    unsigned left = vm->nvcpus;

    while (left > 0) {
        for (unsigned i = 0; i < vm->nvcpus; i++)
            if (!vm->vcpus[i].joined && vm->vcpus[i].thread != COPRA_HANDLE_NONE)
                coco_vcpu_kick(vm->vcpus[i].handle);
        for (unsigned i = 0; i < vm->nvcpus; i++) {
            struct vmm_vcpu *v = &vm->vcpus[i];
            if (v->joined)
                continue;
            if (v->thread == COPRA_HANDLE_NONE) {
                v->joined = true;
                left--;
                continue;
            }
            struct copra_wait_item item = { .handle = v->thread };
            if (coco_wait(&item, 1, STOP_KICK_INTERVAL_NS) >= 0 && item.ready) {
                coco_thread_join(v->thread, NULL);
                coco_close(v->thread);
                v->joined = true;
                left--;
            }
        }
    }
}

/* Every exit by kind (the kernel's counts), and where the CPUs' busy time
 * went since the VCPUs started: inside the guest, or outside it (kernel,
 * VMM, device models).  Under QEMU's -icount the TSC counts instructions. */
static void kinds_print(const struct vmm_vm *vm)
{
    uint64_t total[COPRA_EXIT_KINDS] = { 0 }, all = 0;
    struct copra_sysinfo now;
    char text[512];
    size_t used = 0;

    for (unsigned i = 0; i < vm->nvcpus; i++)
        for (unsigned k = 0; k < COPRA_EXIT_KINDS && vm->vcpus[i].run != NULL; k++)
            total[k] += vm->vcpus[i].run->kind_exits[k];
    text[0] = '\0';
    for (unsigned k = 0; k < COPRA_EXIT_KINDS && used < sizeof text; k++) {
        all += total[k];
        if (total[k] != 0)
            used += (size_t)snprintf(text + used, sizeof text - used, " %s %llu", kind_names[k],
                                     (unsigned long long)total[k]);
    }
    coco_printf("vmm: exits by kind: %llu:%s\n", (unsigned long long)all, used ? text : " none");
    if (vm->started_tsc == 0 || coco_sysinfo(&now, sizeof now) < 0)
        return;
    uint64_t cpu_time = (vmm_rdtsc() - vm->started_tsc) * vm->ncpus;
    uint64_t idle = now.idle_tsc - vm->started.idle_tsc, guest = now.guest_tsc - vm->started.guest_tsc;
    uint64_t busy = cpu_time > idle ? cpu_time - idle : 0;
    uint64_t outside = busy > guest ? busy - guest : 0;
    coco_printf("vmm: TSC since start: %llu busy on %u cpu(s) (%llu idle), %llu in guests, %llu outside "
                "them: %llu.%llu%% outside\n", (unsigned long long)busy, vm->ncpus,
                (unsigned long long)idle, (unsigned long long)guest, (unsigned long long)outside,
                (unsigned long long)(busy ? outside * 100 / busy : 0),
                (unsigned long long)(busy ? outside * 1000 / busy % 10 : 0));
}

static void summary_print(const struct vmm_vm *vm)
{
    uint64_t total[VMM_EXIT_REASONS] = { 0 };
    char text[512];
    size_t used = 0;

    coco_printf("vmm: VM stopped: %s\n", vm->reason);
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        const struct vmm_vcpu *v = &vm->vcpus[i];
        for (unsigned r = 0; r < VMM_EXIT_REASONS; r++)
            total[r] += v->exits[r];
        if (v->run != NULL)
            coco_printf("vmm: vcpu %u: %llu exits, %llu of them to the VMM\n", i,
                        (unsigned long long)v->run->exits,
                        (unsigned long long)v->run->user_exits);
    }
    text[0] = '\0';
    for (unsigned r = 0; r < VMM_EXIT_REASONS && used < sizeof text; r++)
        if (total[r] != 0)
            used += (size_t)snprintf(text + used, sizeof text - used, " %s %llu", exit_names[r],
                                     (unsigned long long)total[r]);
    coco_printf("vmm: exits served by the VMM:%s\n", used ? text : " none");
    kinds_print(vm);
    coco_printf("vmm: unclaimed port I/O: %llu reads, %llu writes; unclaimed MMIO: %llu reads, "
                "%llu writes; unknown MSRs: %llu reads, %llu writes\n",
                (unsigned long long)vm->io_unclaimed_reads,
                (unsigned long long)vm->io_unclaimed_writes,
                (unsigned long long)vm->mmio_unclaimed_reads,
                (unsigned long long)vm->mmio_unclaimed_writes,
                (unsigned long long)vm->msr_unknown_reads,
                (unsigned long long)vm->msr_unknown_writes);
    coco_printf("vmm: guest exit status %d\n", vm->status);
}

static void vm_destroy(struct vmm_vm *vm)
{
    if (vm->vcpus != NULL) {
        for (unsigned i = 0; i < vm->nvcpus; i++) {
            struct vmm_vcpu *v = &vm->vcpus[i];
            if (v->run != NULL)
                coco_munmap(v->run, COPRA_PAGE_SIZE);
            if (v->irq != COPRA_HANDLE_NONE)
                coco_close(v->irq);
            if (v->handle != COPRA_HANDLE_NONE)
                coco_close(v->handle);
        }
        free(vm->vcpus);
    }
    if (vm->ram != NULL)
        coco_munmap(vm->ram, vm->ram_size);
    if (vm->mem != COPRA_HANDLE_NONE)
        coco_close(vm->mem);
    for (unsigned i = 0; i < 2; i++)
        if (vm->mem_low[i] != COPRA_HANDLE_NONE)
            coco_close(vm->mem_low[i]);
    if (vm->vm != COPRA_HANDLE_NONE)
        coco_close(vm->vm);
    if (vm->stop_event != COPRA_HANDLE_NONE)
        coco_close(vm->stop_event);
    if (vm->fwcfg_files != COPRA_HANDLE_NONE)
        coco_close(vm->fwcfg_files);
    devmodels_stop(vm);
    free(vm);
}

int vm_run(const struct vmm_config *config, copra_handle_t console, copra_handle_t vmctl)
{
    struct loader_plan plan;
    struct copra_sysinfo info;
    struct vmm_vm *vm;
    char *image = NULL;
    size_t image_size = 0;
    int status;

    if (!config->has_memory) {
        coco_printf("vmm: a guest needs a `memory` line\n");
        return 2;
    }
    status = image_read(config, config->memory_bytes, &image, &image_size, &plan);
    if (status != 0)
        return status;
    struct loader_module modules[VMM_CONFIG_MODULES_MAX] = { 0 };   /* none for Linux */
    struct loader_layout layout;
    struct bzimage_plan bz;
    char *initrd = NULL;
    status = plan.format == VMM_GUEST_LINUX ? linux_read(config, image, image_size, &bz, &initrd)
                                            : modules_read(config, &plan, modules, &layout);
    if (status != 0) {
        free(image);
        return status;
    }

    vm = calloc(1, sizeof *vm);
    if (vm == NULL) {
        free(image);
        free(initrd);
        modules_free(modules, config->nmodules);
        return setup_fail("allocating the VM", COPRA_ENOMEM);
    }
    vm->config = config;
    vm->ram_size = config->memory_bytes;
    vm->nvcpus = config->vcpus;
    vm->mtrr_def_type = 0xc06;   /* MTRRs and fixed MTRRs on, default type WB */
    vm->vcpus = calloc(vm->nvcpus, sizeof *vm->vcpus);
    if (vm->vcpus == NULL || coco_sysinfo(&info, sizeof info) < 0 || info.ncpus == 0) {
        status = setup_fail("allocating the VCPUs", COPRA_ENOMEM);
        goto out;
    }
    vm->ncpus = info.ncpus;
    vm->xcr0_mask = vmm_host_xcr0() & VMM_XCR0_POLICY;
    vm->tsc_hz = info.tsc_hz;
    vm->tsc_offset = msr_vm_tsc_offset();
    vm_cpu_features(vm);
    vm->console = console;
    status = devmodels_configure(vm);
    if (status != 0)
        goto out;

    vm->vmctl = vmctl;
    int64_t r = coco_vm_create(vmctl);
    if (r < 0) {
        status = setup_fail("VM_CREATE", r);
        goto out;
    }
    vm->vm = (copra_handle_t)r;
    status = ram_create(vm);
    if (status != 0)
        goto out;
    struct vm_entry entry = { .rip = plan.entry };
    if (plan.format == VMM_GUEST_LINUX) {
        uint64_t rsdp = 0;
        status = acpi_vm_write(vm, &rsdp);
        if (status != 0)
            goto out;
        entry.rip = bz.load_gpa;
        entry.rsi = bzimage_load(&bz, (const uint8_t *)image, image_size, (const uint8_t *)initrd,
                                 vm->ram, vm->ram_size, config->guest_cmdline, rsdp);
        entry.linux_gdt = true;
        free(initrd);
        initrd = NULL;
    } else {
        loader_load(&plan, (const uint8_t *)image, image_size, vm->ram, vm->ram_size);
        if (plan.multiboot) {
            entry.rax = MULTIBOOT_BOOTLOADER_MAGIC;
            entry.rbx = loader_boot_info(vm->ram, vm->ram_size, &layout, modules, config->guest_cmdline);
        }
        modules_free(modules, config->nmodules);
    }
    free(image);
    image = NULL;

    r = coco_event_create(0);
    if (r < 0) {
        status = setup_fail("EVENT_CREATE", r);
        goto out;
    }
    vm->stop_event = (copra_handle_t)r;
    status = vcpus_create(vm, &entry);
    if (status != 0)
        goto out;
    status = devices_start(vm);
    if (status != 0)
        goto out;
    status = devmodels_start(vm);
    if (status != 0)
        goto out;

    coco_printf("vmm: starting %u vcpu(s) on %u cpu(s), %llu MiB of RAM\n", vm->nvcpus,
                vm->ncpus, (unsigned long long)(vm->ram_size >> 20));
    if (coco_sysinfo(&vm->started, sizeof vm->started) == 0)
        vm->started_tsc = vmm_rdtsc();
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        r = coco_thread_spawn(vcpu_thread, &vm->vcpus[i], 0, i % vm->ncpus);
        if (r < 0) {
            vm_stop(vm, VMM_STATUS_VM_SETUP, "cannot start the thread of vcpu %u: %s", i,
                    coco_strerror(r));
            break;
        }
        vm->vcpus[i].thread = (copra_handle_t)r;
    }

    /* Wait for the stop, and supervise the device models meanwhile. */
    for (;;) {
        struct copra_wait_item items[1 + VMM_DEVMODELS_MAX];
        items[0] = (struct copra_wait_item){ .handle = vm->stop_event };
        unsigned n = 1 + devmodels_wait_items(vm, items + 1, VMM_DEVMODELS_MAX);
        r = coco_wait(items, n, COPRA_WAIT_FOREVER);
        if (r == COPRA_EBADH)
            continue;   /* a VCPU thread replaced a model meanwhile */
        if (r < 0) {
            vm_stop(vm, VMM_STATUS_VM_SETUP, "WAIT_FOR_EVENT on the stop event failed: %s",
                    coco_strerror(r));
            break;
        }
        if (vm_stopping(vm))
            break;
        for (unsigned i = 1; i < n; i++)
            if (items[i].ready) {
                devmodels_reap(vm, 0);
                break;
            }
    }
    vcpus_join(vm);
    devices_stop(vm);
    summary_print(vm);
    status = vm->status;
out:
    free(image);
    free(initrd);
    modules_free(modules, config->nmodules);
    vm_destroy(vm);
    return status;
}
