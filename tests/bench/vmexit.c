/* SPDX-License-Identifier: MIT */
/*
 * Guest exit round trips.
 *
 * `vmexit [wall]` -- served by the VMM's VCPU thread (issue 4 figure):
 * a 32-bit guest loops `out 0x80, al` N times; this process, acting as the
 * VMM, waits on the VCPU for each exit and re-enters.  Under
 * `-icount shift=0` the TSC counts instructions, so TSC ticks per exit are
 * counted instructions per round trip (they include the guest's own 3
 * loop instructions).  `vmexit wall` reports wall-clock exits per second
 * (run it without -icount).
 *
 * `vmexit cpuid` -- the same loop with CPUID instead of OUT: this process
 * answers each CPUID exit as a VMM does (EAX..EDX set, RIP += 2 through
 * the run page, dirty GPRS | RIP), the round trip of an exit whose
 * emulation is the VMM's.
 *
 * `vmexit dm-io|dm-mmio [wall|endless]` -- served by a device model in its own
 * process (issue 5): this process creates an IOIO range (ports 0x80-0x81)
 * and an MMIO range (0xC0000000, one page) and EXECs itself as `vmexit dm`,
 * a device model on libcoco's devmodel loop, with both.  The guest's N
 * accesses (`out 0x80, al` or `mov [0xC0000000], eax`) never reach this
 * process; it times them between two CPUID exits.  A write to port 0x81
 * resets (0) or reports (1) the model's own counters: the kernel entries
 * it made per request (1 when SIGNAL and the next WAIT share a BATCH) and
 * its wake-ups per request.  VM entries, kernel entries and address-space
 * switches per exit come from the kernel's counters (SYSINFO) across the
 * loop; two switches per exit are expected (VCPU thread -> model -> VCPU
 * thread).  `endless` makes the loop 2^32 exits long, for
 * tests/bench/trace-profile to attach to.
 *
 * `vmexit fpu` -- the guest FPU switch (issue 9): one VM, two VCPUs on CPU
 * 0 looping `out 0x80, al`.  N round trips of VCPU 0 alone (its x87/SSE/AVX
 * registers stay loaded: no switch), then N alternating between the VCPUs
 * (each entry saves one VCPU's state and loads the other's), both with
 * XCR0 = the kernel's; then N of VCPU 0 alone with XCR0 = 1 (the kernel
 * loads the guest's XCR0 for VMRUN and the host's after it).  The
 * differences per round trip are the costs: XSAVE and XRSTOR count as one
 * instruction each, though on hardware each takes on the order of 100
 * cycles for an 832-byte area.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>
#include <coco/vm.h>

#define ITERATIONS 20000u
#define ENTRY 0x1000

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* A VM with 64 KiB of RAM at 0 holding `code` at ENTRY; its handle or < 0. */
static int64_t vm_with_guest(const uint8_t *code, size_t len)
{
    int64_t vm = coco_vm_create(coco_handle(COCO_INIT_VMCTL)), mem = coco_mem_create(16);
    if (vm < 0 || mem < 0 ||
        coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, 0, 0, 16 * 4096, COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X))
        return -1;
    uint8_t *ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, 16 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if ((int64_t)(uintptr_t)ram < 0)
        return -1;
    memcpy(ram + ENTRY, code, len);
    return vm;
}

/* ---- The device model (`vmexit dm`) ---------------------------------- */

struct dm_bench {
    struct devmodel *dm;
    const char *name;
    uint64_t requests0, syscalls0, wakeups0;
};

static void ratio_print(const char *name, const char *figure, uint64_t x, uint64_t n,
                        const char *unit)
{
    coco_printf("bench %s_%s %lu.%02lu %s\n", name, figure, (unsigned long)(x / n),
                (unsigned long)(x * 100 / n % 100), unit);
}

static void control_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct dm_bench *b = state;
    (void)size;
    if (offset != 1)
        return;
    if (value == 0) {
        b->requests0 = b->dm->requests;
        b->syscalls0 = b->dm->syscalls;
        b->wakeups0 = b->dm->wakeups;
        return;
    }
    uint64_t n = b->dm->requests - b->requests0;
    if (n == 0)
        return;
    ratio_print(b->name, "model_syscalls_per_exit", b->dm->syscalls - b->syscalls0, n, "entries");
    ratio_print(b->name, "model_wakeups_per_exit", b->dm->wakeups - b->wakeups0, n, "wakeups");
}

static uint64_t zero_read(void *state, uint64_t offset, unsigned size)
{
    (void)state;
    (void)offset;
    (void)size;
    return 0;
}

static int device_model(int argc, char **argv)
{
    struct devmodel dm = { 0 };
    struct dm_bench b = { .dm = &dm, .name = argc >= 3 ? argv[2] : "vmexit_dm" };
    struct devmodel_range ranges[2] = {
        { .handle = coco_handle(0), .base = 0x80, .read = zero_read, .write = control_write, .state = &b },
        { .handle = coco_handle(1), .base = 0xC0000000ull, .read = zero_read },
    };
    if (coco_handle_count() != 2)
        return 10;
    dm.ranges = ranges;
    dm.nranges = 2;
    devmodel_init_args(&dm, argc, argv);
    return devmodel_run(&dm);
}

/* ---- The VMM side of dm-io / dm-mmio ---------------------------------- */

static int run_dm(bool mmio, bool wall, bool endless)
{
    const char *name = mmio ? (wall ? "vmexit_mmio_dm_wall" : "vmexit_mmio_dm")
                            : (wall ? "vmexit_io_dm_wall" : "vmexit_io_dm");
    uint8_t guest[64];
    unsigned n = 0;
    const uint8_t head[] = {
        0xB0, 0x00, 0xE6, 0x81,                                   /* mov al, 0; out 0x81, al (reset) */
        0x0F, 0xA2,                                               /* cpuid (t0)   */
        0xB9, ITERATIONS & 0xff, (ITERATIONS >> 8) & 0xff, 0, 0,  /* mov ecx, N   */
    };
    const unsigned ecx = sizeof head - 4;
    const uint8_t io_loop[] = { 0xE6, 0x80, 0x49, 0x75, 0xFB };  /* out 0x80, al; dec ecx; jnz */
    const uint8_t mmio_loop[] = { 0xA3, 0x00, 0x00, 0x00, 0xC0,  /* mov [0xC0000000], eax */
                                  0x49, 0x75, 0xF8 };             /* dec ecx; jnz */
    const uint8_t tail[] = {
        0x0F, 0xA2,                                               /* cpuid (t1)   */
        0xB0, 0x01, 0xE6, 0x81,                                   /* mov al, 1; out 0x81, al (report) */
        0xFA, 0xF4,                                               /* cli; hlt     */
    };
    memcpy(guest + n, head, sizeof head), n += sizeof head;
    if (endless)
        guest[ecx] = guest[ecx + 1] = 0;   /* 2^32 exits: for tests/bench/trace-profile */
    if (mmio)
        memcpy(guest + n, mmio_loop, sizeof mmio_loop), n += sizeof mmio_loop;
    else
        memcpy(guest + n, io_loop, sizeof io_loop), n += sizeof io_loop;
    memcpy(guest + n, tail, sizeof tail), n += sizeof tail;

    int64_t vm = vm_with_guest(guest, n);
    if (vm < 0)
        return 2;
    copra_handle_t vcpu = (copra_handle_t)coco_vcpu_create((copra_handle_t)vm, 0, 0);
    struct copra_run_page *rp = (struct copra_run_page *)coco_mmap(vcpu, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    coco_vcpu_set_state(vcpu, COPRA_STATE_RIP, ENTRY);

    int64_t io = coco_ioio_event((copra_handle_t)vm, 0x80, 2);
    int64_t mr = coco_mmio_event((copra_handle_t)vm, 0xC0000000ull, 4096);
    if (io < 0 || mr < 0)
        return 6;
    copra_handle_t handles[2] = { (copra_handle_t)io, (copra_handle_t)mr };
    const char *dm_argv[] = { "vmexit", "dm", name, "vcpus=1" };
    if (coco_spawn("vmexit", 4, dm_argv, handles, 2) < 0)
        return 7;

    struct copra_wait_item w = { .handle = vcpu };
    if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1 || w.value != COPRA_EXIT_CPUID)
        return 8;
    rp->regs.rip += 2;
    rp->dirty = COPRA_DIRTY_RIP;
    struct copra_sysinfo s0, s1;
    coco_sysinfo(&s0, sizeof(s0));
    uint64_t t0 = rdtsc(), ns0 = (uint64_t)coco_clock();
    if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1 || w.value != COPRA_EXIT_CPUID)
        return 9;
    uint64_t t1 = rdtsc(), ns1 = (uint64_t)coco_clock();
    coco_sysinfo(&s1, sizeof(s1));
    rp->regs.rip += 2;
    rp->dirty = COPRA_DIRTY_RIP;
    if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1 || w.value != COPRA_EXIT_HLT)
        return 11;
    if (wall) {
        coco_printf("bench %s %lu exits/s\n", name,
                    (unsigned long)(ITERATIONS * 1000000000ull / (ns1 - ns0)));
        return 0;
    }
    /* The CPUID exit that ends the loop is included: one in N + 1. */
    coco_printf("bench %s %lu insns/roundtrip\n", name, (unsigned long)((t1 - t0) / ITERATIONS));
    /* Kernel counters across the loop (the CPUID exit, WAIT and the two
     * SYSINFOs add a handful in all, not per exit). */
    ratio_print(name, "vmruns_per_exit", s1.guest_entries - s0.guest_entries, ITERATIONS, "vmruns");
    ratio_print(name, "kernel_entries_per_exit", s1.kernel_entries - s0.kernel_entries, ITERATIONS,
                "entries");
    ratio_print(name, "address_space_switches_per_exit",
                s1.address_space_switches - s0.address_space_switches, ITERATIONS, "switches");
    return 0;
}

/* ---- The FPU switch (`vmexit fpu`) ------------------------------------ */

static uint64_t fpu_loop(copra_handle_t vcpu[2], bool alternate)
{
    struct copra_wait_item w = { 0 };
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < ITERATIONS; i++) {
        w.handle = vcpu[alternate ? i & 1 : 0];
        if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1 || w.value != COPRA_EXIT_IO)
            return 0;
    }
    return rdtsc() - t0;
}

static int run_fpu(void)
{
    const uint8_t guest[] = { 0xE6, 0x80, 0xEB, 0xFC };   /* 1: out 0x80, al; jmp 1b */
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));   /* the kernel's XCR0 */
    uint64_t host_xcr0 = (uint64_t)hi << 32 | lo;
    int64_t vm = vm_with_guest(guest, sizeof guest);
    if (vm < 0)
        return 2;
    copra_handle_t vcpu[2];
    for (unsigned i = 0; i < 2; i++) {
        int64_t h = coco_vcpu_create((copra_handle_t)vm, i, 0);
        if (h < 0 || coco_vcpu_set_state((copra_handle_t)h, COPRA_STATE_RIP, ENTRY) ||
            coco_vcpu_set_state((copra_handle_t)h, COPRA_STATE_XCR0, host_xcr0))
            return 3;
        vcpu[i] = (copra_handle_t)h;
    }
    uint64_t same = fpu_loop(vcpu, false), alternating = fpu_loop(vcpu, true);
    if (coco_vcpu_set_state(vcpu[0], COPRA_STATE_XCR0, 1))
        return 4;
    uint64_t xcr0 = fpu_loop(vcpu, false);
    if (!same || !alternating || !xcr0)
        return 5;
    coco_printf("bench vmexit_io_vmm_same_vcpu %lu insns/roundtrip\n", (unsigned long)(same / ITERATIONS));
    coco_printf("bench vmexit_io_vmm_vcpu_switch %lu insns/roundtrip\n", (unsigned long)(alternating / ITERATIONS));
    ratio_print("fpu", "switch_per_vcpu_switch", alternating - same, ITERATIONS, "insns");
    ratio_print("fpu", "xcr0_switch_per_exit", xcr0 > same ? xcr0 - same : 0, ITERATIONS, "insns");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "fpu"))
        return run_fpu();
    if (argc >= 2 && !strcmp(argv[1], "dm"))
        return device_model(argc, argv);
    if (argc >= 2 && (!strcmp(argv[1], "dm-io") || !strcmp(argv[1], "dm-mmio")))
        return run_dm(!strcmp(argv[1], "dm-mmio"), argc >= 3 && !strcmp(argv[2], "wall"),
                      argc >= 3 && !strcmp(argv[2], "endless"));
    bool wall = argc >= 2 && !strcmp(argv[1], "wall");
    bool cpuid = argc >= 2 && !strcmp(argv[1], "cpuid");
    const uint8_t guest_io[] = {
        0xB9, ITERATIONS & 0xff, (ITERATIONS >> 8) & 0xff, 0, 0,  /* mov ecx, N   */
        0xE6, 0x80,                                               /* out 0x80, al */
        0x49,                                                     /* dec ecx      */
        0x75, 0xFB,                                               /* jnz out      */
        0xFA, 0xF4,                                               /* cli; hlt     */
    };
    const uint8_t guest_cpuid[] = {
        0xBE, ITERATIONS & 0xff, (ITERATIONS >> 8) & 0xff, 0, 0,  /* mov esi, N   */
        0x0F, 0xA2,                                               /* cpuid        */
        0x4E,                                                     /* dec esi      */
        0x75, 0xFB,                                               /* jnz cpuid    */
        0xFA, 0xF4,                                               /* cli; hlt     */
    };
    const uint8_t *guest = cpuid ? guest_cpuid : guest_io;
    const uint32_t exit_reason = cpuid ? COPRA_EXIT_CPUID : COPRA_EXIT_IO;
    int64_t vm = vm_with_guest(guest, sizeof guest_io);
    if (vm < 0)
        return 2;
    copra_handle_t vcpu = (copra_handle_t)coco_vcpu_create((copra_handle_t)vm, 0, 0);
    coco_vcpu_set_state(vcpu, COPRA_STATE_RIP, ENTRY);
    struct copra_run_page *run = (struct copra_run_page *)coco_mmap(vcpu, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);

    struct copra_wait_item w = { .handle = vcpu };
    unsigned n = 0;
    /* The first exit warms up; time the rest. */
    if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1 || w.value != exit_reason)
        return 3;
    struct copra_sysinfo s0, s1;
    coco_sysinfo(&s0, sizeof(s0));
    uint64_t t0 = rdtsc(), ns0 = (uint64_t)coco_clock();
    for (;;) {
        if (cpuid) {   /* the answer to the last exit, as a VMM gives it */
            run->regs.gpr[COPRA_RAX] = run->regs.gpr[COPRA_RBX] = 0;
            run->regs.gpr[COPRA_RCX] = run->regs.gpr[COPRA_RDX] = 0;
            run->regs.rip += 2;
            run->dirty = COPRA_DIRTY_GPRS | COPRA_DIRTY_RIP;
        }
        if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1)
            return 4;
        if (w.value != exit_reason)
            break;
        n++;
    }
    uint64_t t1 = rdtsc(), ns1 = (uint64_t)coco_clock();
    coco_sysinfo(&s1, sizeof(s1));
    if (w.value != COPRA_EXIT_HLT || n != ITERATIONS - 1)
        return 5;
    if (wall) {
        coco_printf("bench vmexit_io_vmm_wall %lu exits/s\n", (unsigned long)(n * 1000000000ull / (ns1 - ns0)));
        return 0;
    }
    if (cpuid) {
        coco_printf("bench vmexit_cpuid_vmm %lu insns/roundtrip\n", (unsigned long)((t1 - t0) / n));
        return 0;
    }
    coco_printf("bench vmexit_io_vmm %lu insns/roundtrip\n", (unsigned long)((t1 - t0) / n));
    /* Per exit, from the kernel's own counters (SYSINFO) across the loop;
     * the two SYSINFO calls add 2 kernel entries in all, not per exit. */
    ratio_print("vmexit_io_vmm", "vmruns_per_exit", s1.guest_entries - s0.guest_entries, n, "vmruns");
    ratio_print("vmexit_io_vmm", "kernel_entries_per_exit", s1.kernel_entries - s0.kernel_entries, n, "entries");
    ratio_print("vmexit_io_vmm", "address_space_switches_per_exit",
                s1.address_space_switches - s0.address_space_switches, n, "switches");
    return 0;
}
