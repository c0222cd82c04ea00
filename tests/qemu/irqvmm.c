/* SPDX-License-Identifier: MIT */
/*
 * A small VMM for testing irqd before the real VMM wires it in:
 *     irqvmm <guest.elf> vcpus=N lines=G1,G2,...
 * loads a multiboot test guest (servers/vmm/loader.c) into 16 MiB of RAM,
 * creates N VCPUs, starts irqd with exactly the start-up contract of
 * servers/irqd/main.c (ranges for the LAPIC, IOAPIC, PIC pair and ELCR,
 * an IRQ handle per VCPU, a line event per GSI) and runs one thread per
 * VCPU.  It plays the devices too:
 *   0x3f8-0x3ff  COM1 output, printed as "[guest] ..." lines (a line that
 *                starts with "bench " is printed bare, so that
 *                tests/bench/summarize finds it); LSR reads "empty"
 *   0xf4         debug exit: irqvmm exits with the value (0 = passed)
 *   0x530        OUT: drive a line (tests/guests/irqtest.h), as a device
 *                model would through libcoco/include/coco/irqline.h
 *   0x534        IN: CLOCK in microseconds
 * Other ports read all-ones; other MMIO reads all-ones (and is counted).
 * Exit status: the guest's, or 1 if the VM died (HLT with IF=0 on VCPU 0,
 * triple fault, an entry failure, irqd gone mid-request), 2 bad arguments,
 * 3 set-up failed.
 */
#include <coco/coco.h>
#include <coco/irqline.h>
#include <coco/vm.h>

#include "loader.h"

#define RAM_SIZE        (16ull << 20)
#define VCPUS_MAX       4u
#define LINES_MAX       8u
#define PORT_COM1       0x3f8u
#define PORT_DEBUG_EXIT 0xf4u
#define PORT_IRQ_LINE   0x530u
#define PORT_CLOCK_US   0x534u
#define LINE_MAX_CHARS  200u

struct vcpu {
    unsigned index;
    copra_handle_t handle;
    struct copra_run_page *run;
    char text[LINE_MAX_CHARS + 1];
    unsigned len;
};

struct irqline {
    unsigned gsi;
    copra_handle_t event;          /* our DUP, with the driver's rights */
    struct coco_irq_line *area;
};

static struct vcpu vcpus[VCPUS_MAX];
static struct irqline lines[LINES_MAX];
static unsigned nvcpus, nlines;
static uint64_t unclaimed_mmio;

static int setup_fail(const char *what, int64_t error)
{
    coco_printf("irqvmm: %s failed: %s\n", what, coco_strerror(error));
    return 3;
}

static void serial_flush(struct vcpu *v)
{
    v->text[v->len] = '\0';
    if (!strncmp(v->text, "bench ", 6))
        coco_printf("%s\n", v->text);
    else if (v->index == 0)
        coco_printf("[guest] %s\n", v->text);
    else
        coco_printf("[guest %u] %s\n", v->index, v->text);
    v->len = 0;
}

static void serial_putc(struct vcpu *v, char c)
{
    if (c == '\r')
        return;
    if (c == '\n' || v->len == LINE_MAX_CHARS) {
        serial_flush(v);
        if (c == '\n')
            return;
    }
    v->text[v->len++] = (c >= 0x20 && c < 0x7f) ? c : '?';
}

static void line_drive(uint64_t value)
{
    unsigned gsi = value & 0xff, op = (value >> 8) & 3;
    for (unsigned i = 0; i < nlines; i++) {
        struct coco_irq_line *l = lines[i].area;
        if (lines[i].gsi != gsi)
            continue;
        if (op == 0) {
            l->level = 0;
        } else {
            l->level = 1;
            __atomic_add_fetch(&l->raises, 1, __ATOMIC_RELEASE);
            if (op == 2)
                l->level = 0;
        }
        coco_signal(lines[i].event);
        return;
    }
    coco_printf("irqvmm: the guest drives GSI %u, which has no line\n", gsi);
}

static _Noreturn void finish(int status, const char *why)
{
    for (unsigned i = 0; i < nvcpus; i++)
        if (vcpus[i].len)
            serial_flush(&vcpus[i]);
    coco_printf("irqvmm: %s; exit status %d (unclaimed MMIO %llu)\n", why, status,
                (unsigned long long)unclaimed_mmio);
    coco_exit(status);
}

static void exit_io(struct vcpu *v)
{
    struct copra_run_page *run = v->run;
    uint16_t port = run->io.port;

    if (run->io.in) {
        if (port == PORT_COM1 + 5)
            run->io.data = 0x60;
        else if (port >= PORT_COM1 && port < PORT_COM1 + 8)
            run->io.data = 0;
        else if (port == PORT_CLOCK_US)
            run->io.data = (uint32_t)((uint64_t)coco_clock() / 1000);
        else
            run->io.data = ~0ull;
        return;
    }
    if (port == PORT_COM1)
        serial_putc(v, (char)run->io.data);
    else if (port == PORT_DEBUG_EXIT)
        finish((int)(run->io.data & 0x7f), "guest wrote to the debug-exit port");
    else if (port == PORT_IRQ_LINE)
        line_drive(run->io.data);
}

static int vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct copra_run_page *run = v->run;

    for (;;) {
        struct copra_wait_item w = { .handle = v->handle };
        int64_t r = coco_wait(&w, 1, COPRA_WAIT_FOREVER);
        if (r < 0) {
            coco_printf("irqvmm: vcpu %u: WAIT failed: %s\n", v->index, coco_strerror(r));
            finish(1, "WAIT on a VCPU failed");
        }
        switch (w.value) {
        case COPRA_EXIT_IO:
            exit_io(v);
            break;
        case COPRA_EXIT_MMIO:
            if (!run->mmio.write)
                run->mmio.data = ~0ull;
            if (__atomic_fetch_add(&unclaimed_mmio, 1, __ATOMIC_RELAXED) < 4)
                coco_printf("irqvmm: vcpu %u: unclaimed MMIO %s 0x%llx\n", v->index,
                            run->mmio.write ? "write" : "read", (unsigned long long)run->mmio.gpa);
            break;
        case COPRA_EXIT_CPUID:
            run->regs.gpr[COPRA_RAX] = run->regs.gpr[COPRA_RBX] = 0;
            run->regs.gpr[COPRA_RCX] = run->regs.gpr[COPRA_RDX] = 0;
            run->regs.rip += 2;
            run->dirty |= COPRA_DIRTY_GPRS | COPRA_DIRTY_RIP;
            break;
        case COPRA_EXIT_KICK:
            break;
        case COPRA_EXIT_HLT:
            if (v->index != 0)
                return 0;   /* an AP that is done */
            finish(1, "vcpu 0: HLT with interrupts off");
        case COPRA_EXIT_DEVICE_GONE:
            finish(1, "irqd went away with a request outstanding");
        default:
            coco_printf("irqvmm: vcpu %u: exit %llu at rip 0x%llx\n", v->index,
                        (unsigned long long)w.value, (unsigned long long)run->regs.rip);
            finish(1, "the VM cannot go on");
        }
    }
}

static bool parse_lines(const char *s)
{
    while (*s) {
        char *end;
        unsigned long gsi = strtoul(s, &end, 10);
        if (end == s || gsi > 23 || nlines == LINES_MAX || (*end != ',' && *end))
            return false;
        lines[nlines++].gsi = (unsigned)gsi;
        s = *end ? end + 1 : end;
    }
    return true;
}

static int vm_build(const char *image_path, copra_handle_t *vm_out)
{
    char *image;
    size_t size;
    struct loader_plan plan;
    struct loader_error error;

    int r = coco_read_file(image_path, &image, &size);
    if (r < 0)
        return setup_fail("reading the guest image", r);
    if (loader_parse((const uint8_t *)image, size, VMM_GUEST_MULTIBOOT, RAM_SIZE, &plan,
                     &error) != LOADER_OK) {
        coco_printf("irqvmm: %s: %s\n", image_path, error.message);
        return 3;
    }
    int64_t vm = coco_vm_create(coco_handle(COCO_INIT_VMCTL)), mem = coco_mem_create(RAM_SIZE / COPRA_PAGE_SIZE);
    if (vm < 0 || mem < 0)
        return setup_fail("VM_CREATE/MEM_CREATE", vm < 0 ? vm : mem);
    int64_t ram = coco_mmap((copra_handle_t)mem, NULL, RAM_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (ram < 0)
        return setup_fail("MMAP of RAM", ram);
    r = coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, 0, 0, RAM_SIZE,
                    COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X);
    if (r < 0)
        return setup_fail("VM_MAP", r);
    loader_load(&plan, (const uint8_t *)image, size, (uint8_t *)(uintptr_t)ram, RAM_SIZE);
    struct loader_layout layout;
    if (loader_place(&plan, RAM_SIZE, NULL, 0, NULL, &layout, &error) != LOADER_OK)
        return setup_fail(error.message, COPRA_EINVAL);
    uint32_t info = loader_boot_info((uint8_t *)(uintptr_t)ram, RAM_SIZE, &layout, NULL, NULL);
    free(image);

    struct copra_sysinfo sys;
    coco_sysinfo(&sys, sizeof sys);
    for (unsigned i = 0; i < nvcpus; i++) {
        struct vcpu *v = &vcpus[i];
        v->index = i;
        int64_t h = coco_vcpu_create((copra_handle_t)vm, i, i % (sys.ncpus ? sys.ncpus : 1));
        if (h < 0)
            return setup_fail("VCPU_CREATE", h);
        v->handle = (copra_handle_t)h;
        int64_t run = coco_mmap(v->handle, NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (run < 0)
            return setup_fail("MMAP of a run page", run);
        v->run = (struct copra_run_page *)(uintptr_t)run;
        /* servers/vmm/vm.h's boot convention: EAX/EBX tell VCPU 0 from the others. */
        coco_vcpu_set_state(v->handle, COPRA_STATE_RIP, plan.entry);
        coco_vcpu_set_state(v->handle, COPRA_STATE_GPR0 + COPRA_RAX, i == 0 ? MULTIBOOT_BOOTLOADER_MAGIC : 0);
        coco_vcpu_set_state(v->handle, COPRA_STATE_GPR0 + COPRA_RBX, i == 0 ? info : i);
        coco_vcpu_set_state(v->handle, COPRA_STATE_RFLAGS, 2);
    }
    *vm_out = (copra_handle_t)vm;
    return 0;
}

/* irqd's start-up contract (servers/irqd/main.c). */
static int irqd_start(copra_handle_t vm, const char *lines_arg)
{
    copra_handle_t handles[COPRA_EXEC_HANDLES_MAX];
    unsigned n = 0;
    int64_t r;

    if ((r = coco_mmio_event(vm, 0xFEE00000ull, 0x1000)) < 0 ||
        (handles[n++] = (copra_handle_t)r, (r = coco_mmio_event(vm, 0xFEC00000ull, 0x1000)) < 0) ||
        (handles[n++] = (copra_handle_t)r, (r = coco_ioio_event(vm, 0x20, 2)) < 0) ||
        (handles[n++] = (copra_handle_t)r, (r = coco_ioio_event(vm, 0xA0, 2)) < 0) ||
        (handles[n++] = (copra_handle_t)r, (r = coco_ioio_event(vm, 0x4D0, 2)) < 0))
        return setup_fail("creating irqd's ranges", r);
    handles[n++] = (copra_handle_t)r;
    for (unsigned i = 0; i < nvcpus; i++) {
        r = coco_irq_create(vcpus[i].handle);
        if (r < 0)
            return setup_fail("IRQ_CREATE", r);
        handles[n++] = (copra_handle_t)r;
    }
    for (unsigned i = 0; i < nlines; i++) {
        struct irqline *l = &lines[i];
        r = coco_event_create(COCO_IRQ_LINE_PAGES);
        if (r < 0)
            return setup_fail("EVENT_CREATE of a line", r);
        copra_handle_t event = (copra_handle_t)r;
        int64_t a = coco_mmap(event, NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        int64_t d = coco_dup(event, COCO_IRQ_LINE_DRIVER_RIGHTS);
        if (a < 0 || d < 0)
            return setup_fail("mapping a line", a < 0 ? a : d);
        l->area = (struct coco_irq_line *)(uintptr_t)a;
        l->area->gsi = l->gsi;
        l->event = (copra_handle_t)d;
        handles[n++] = event;
    }
    char vcpus_arg[16];
    snprintf(vcpus_arg, sizeof vcpus_arg, "vcpus=%u", nvcpus);
    const char *argv[] = { "irqd", vcpus_arg, lines_arg };
    r = coco_spawn("irqd", 3, argv, handles, n);
    if (r < 0)
        return setup_fail("starting irqd", r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *lines_arg = "lines=";
    if (argc != 4 || strncmp(argv[2], "vcpus=", 6) || strncmp(argv[3], "lines=", 6)) {
        coco_printf("usage: irqvmm <guest.elf> vcpus=N lines=GSI,...\n");
        return 2;
    }
    nvcpus = (unsigned)strtoul(argv[2] + 6, NULL, 10);
    lines_arg = argv[3];
    if (nvcpus == 0 || nvcpus > VCPUS_MAX || !parse_lines(argv[3] + 6)) {
        coco_printf("irqvmm: bad vcpus= or lines=\n");
        return 2;
    }
    copra_handle_t vm = COPRA_HANDLE_NONE;
    int status = vm_build(argv[1], &vm);
    if (status == 0)
        status = irqd_start(vm, lines_arg);
    if (status != 0)
        return status;
    coco_printf("irqvmm: %s on %u vcpu(s), irqd started\n", argv[1], nvcpus);
    struct copra_sysinfo sys;
    coco_sysinfo(&sys, sizeof sys);
    for (unsigned i = 1; i < nvcpus; i++) {
        int64_t t = coco_thread_spawn(vcpu_thread, &vcpus[i], 0, i % (sys.ncpus ? sys.ncpus : 1));
        if (t < 0)
            return setup_fail("starting a VCPU thread", t);
    }
    return vcpu_thread(&vcpus[0]);
}
