/* SPDX-License-Identifier: MIT */
/*
 * Regression cases of the hardening issue (issue 13), one per QEMU run:
 *   hardening CASE [ARG]
 * Each builds a VM by hand (this process is its VMM), runs guest code from
 * hardening_guest.S and checks what a guest or a VMM may not do:
 *   cr0       guest CR0.NW without CD -> #GP; the CPU is still the host's
 *   cr4       guest reserved CR4 bit -> #GP
 *   setstate  VCPU_SET_STATE refuses what VMRUN refuses; a bad combination
 *             fails without an entry; a refused event wedges nothing
 *   dr ADDR   a guest breakpoint on host code (ADDR) never fires in the host
 *   ro        INS and MOVS never write RAM mapped read-only
 *   cr8       CR8 writes while an interrupt window is open (QEMU abort)
 *   x87       an x87 error with CR0.NE=0 (QEMU abort through FERR#)
 *   tss       a ring transition through the reset TR (QEMU abort)
 *   ltr       LTR of a null selector raises #GP (QEMU would load a
 *             not-present TR and abort later); LTR of a TSS loads it
 *   cr3       a bad CR3 in long mode: #GP (QEMU reports it as a failed
 *             entry), and no host value in the state the VMM reads
 * The VCPU runs on the last CPU, so -smp 2 puts it beside this thread.
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

extern const uint8_t g32_start[], g32_end[], g64_start[], g64_end[];
extern const uint8_t g32_ltr0[], g32_ltr[];
extern const uint8_t g32_handlers[], g32_int80[], g32_cr0[], g32_cr4[], g32_spin[], g32_ins[], g32_movs[],
    g32_x87[], g32_tss[];
extern const uint8_t g64_handlers[], g64_irq30[], g64_dr[], g64_cr8[], g64_cr3[], g64_tscaux[];

#define G32 0x2000u
#define G64 0x3000u
#define A32(sym) (G32 + (uint64_t)((sym) - g32_start))
#define A64(sym) (G64 + (uint64_t)((sym) - g64_start))
#define GDT 0x800u
#define IDT32 0x4000u
#define IDT64 0x5000u
#define PML4 0x6000u
#define RO_PAGE 0x80000u
#define RAM_PAGES 128u   /* 512 KiB at 0, the read-only page right above */

static copra_handle_t vm, vcpu;
static uint8_t *ram, *ro;
static struct copra_run_page *rp;

static int64_t run(void)
{
    struct copra_wait_item w = { .handle = vcpu };
    int64_t r = coco_wait(&w, 1, COPRA_WAIT_FOREVER);
    return r == 1 && w.ready ? (int64_t)w.value : r;
}

/* Runs until an OUT to port 0x80 (returns its byte), serving OUTs to other
 * ports; any other exit returns -(100 + reason). */
static int64_t run_to_report(void)
{
    for (;;) {
        int64_t r = run();
        if (r != COPRA_EXIT_IO)
            return r < 0 ? r : -(100 + r);
        if (rp->io.port == 0x80 && !rp->io.in)
            return (int64_t)(rp->io.data & 0xff);
    }
}

static void set(unsigned id, uint64_t value)
{
    int err = coco_vcpu_set_state(vcpu, id, value);
    if (err)
        coco_printf("SET_STATE %u = 0x%lx: %d\n", id, (unsigned long)value, err);
}

static uint64_t get(unsigned id)
{
    uint64_t v = 0;
    coco_vcpu_get_state(vcpu, id, &v);
    return v;
}

static void gate32(unsigned vector, uint64_t handler, unsigned dpl)
{
    uint32_t *g = (uint32_t *)(ram + IDT32 + 8 * vector);
    g[0] = (uint32_t)(handler & 0xFFFF) | (0x08u << 16);
    g[1] = (uint32_t)(handler & 0xFFFF0000u) | 0x8E00u | (dpl << 13);
}

static void gate64(unsigned vector, uint64_t handler)
{
    uint32_t *g = (uint32_t *)(ram + IDT64 + 16 * vector);
    g[0] = (uint32_t)(handler & 0xFFFF) | (0x28u << 16);
    g[1] = (uint32_t)(handler & 0xFFFF0000u) | 0x8E00u;
    g[2] = (uint32_t)(handler >> 32);
    g[3] = 0;
}

static void seg(unsigned s, uint16_t sel, uint16_t attr)
{
    set(COPRA_STATE_SEG(s, COPRA_SEG_SEL), sel);
    set(COPRA_STATE_SEG(s, COPRA_SEG_BASE), 0);
    set(COPRA_STATE_SEG(s, COPRA_SEG_LIMIT), 0xFFFFFFFF);
    set(COPRA_STATE_SEG(s, COPRA_SEG_ATTR), attr);
}

/* 32-bit protected mode with paging off, or 64-bit mode with 1 GiB
 * identity-mapped in 2 MiB pages; our GDT and IDT; at `entry`. */
static void enter_mode(bool long64, uint64_t entry)
{
    set(COPRA_STATE_CR3, long64 ? PML4 : 0);
    set(COPRA_STATE_CR4, long64 ? 0x20 : 0);
    set(COPRA_STATE_EFER, long64 ? 0x500 : 0);
    set(COPRA_STATE_CR0, long64 ? 0x80000011 : 0x11);
    seg(COPRA_CS, long64 ? 0x28 : 0x08, long64 ? 0xA9B : 0xC9B);
    for (unsigned s = COPRA_ES; s <= COPRA_GS; s++)
        if (s != COPRA_CS)
            seg(s, 0x10, 0xC93);
    set(COPRA_STATE_GDTR_BASE, GDT);
    set(COPRA_STATE_GDTR_LIMIT, 7 * 8 - 1);
    set(COPRA_STATE_IDTR_BASE, long64 ? IDT64 : IDT32);
    set(COPRA_STATE_IDTR_LIMIT, 256 * (long64 ? 16 : 8) - 1);
    set(COPRA_STATE_RFLAGS, 2);
    set(COPRA_RSP, 0x9000);
    set(COPRA_STATE_RIP, entry);
}
#define mode32(entry) enter_mode(false, (entry))
#define mode64(entry) enter_mode(true, (entry))

static bool setup(void)
{
    int64_t h = coco_vm_create(coco_handle(COCO_INIT_VMCTL));
    int64_t mem = coco_mem_create(RAM_PAGES), rom = coco_mem_create(1);
    if (!CHECK("VM, RAM and a read-only page", h > 0 && mem > 0 && rom > 0))
        return false;
    vm = (copra_handle_t)h;
    CHECK("VM_MAP RAM", coco_vm_map(vm, (copra_handle_t)mem, 0, 0, RAM_PAGES * 4096ull,
                                    COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X) == 0);
    CHECK("VM_MAP the read-only page", coco_vm_map(vm, (copra_handle_t)rom, RO_PAGE, 0, 4096, COPRA_GUEST_R) == 0);
    ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, RAM_PAGES * 4096ull, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    ro = (uint8_t *)coco_mmap((copra_handle_t)rom, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    memset(ro, 0x5A, 4096);
    memcpy(ram + G32, g32_start, (size_t)(g32_end - g32_start));
    memcpy(ram + G64, g64_start, (size_t)(g64_end - g64_start));
    uint64_t *gdt = (uint64_t *)(ram + GDT);
    gdt[1] = 0x00CF9A000000FFFFull;   /* ring-0 code, 32-bit */
    gdt[2] = 0x00CF92000000FFFFull;   /* ring-0 data */
    gdt[3] = 0x00CFFA000000FFFFull;   /* ring-3 code */
    gdt[4] = 0x00CFF2000000FFFFull;   /* ring-3 data */
    gdt[5] = 0x00AF9A000000FFFFull;   /* ring-0 code, 64-bit */
    gdt[6] = 0x0000890000000067ull;   /* 32-bit TSS at 0, available */
    for (unsigned v = 0; v < 32; v++) {
        gate32(v, A32(g32_handlers) + 8 * v, 0);
        gate64(v, A64(g64_handlers) + 8 * v);
    }
    gate32(0x80, A32(g32_int80), 3);
    gate64(0x30, A64(g64_irq30));
    uint32_t *tss = (uint32_t *)ram;   /* the reset TR: base 0 */
    tss[1] = 0x8000;                   /* ESP0 */
    tss[2] = 0x10;                     /* SS0 */
    uint64_t *pt = (uint64_t *)(ram + PML4);
    pt[0] = (PML4 + 0x1000) | 7;
    pt[512] = (PML4 + 0x2000) | 7;
    for (unsigned i = 0; i < 512; i++)
        pt[1024 + i] = ((uint64_t)i << 21) | 0x87;
    struct copra_sysinfo si;
    coco_sysinfo(&si, sizeof(si));
    h = coco_vcpu_create(vm, 0, si.ncpus - 1);
    if (!CHECK("VCPU on the last CPU", h > 0))
        return false;
    vcpu = (copra_handle_t)h;
    rp = (struct copra_run_page *)coco_mmap(vcpu, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    return CHECK("run page", (int64_t)rp > 0);
}

static int kicker(void *arg)
{
    (void)arg;
    int64_t until = coco_clock() + 200 * 1000 * 1000;
    while (coco_clock() < until)
        ;
    coco_vcpu_kick(vcpu);
    return 0;
}

/* The guest spins with IF=0; the host must still take its ticks and IPIs,
 * so a kick from another thread ends the run. */
static void check_cpu_kept(void)
{
    mode32(A32(g32_spin));
    int64_t t = coco_thread_spawn(kicker, NULL, 16384, COPRA_CPU_ANY);
    CHECK_EQUAL("a guest spinning with IF=0 still leaves on a kick", run(), COPRA_EXIT_KICK);
    if (t > 0)
        coco_thread_join((copra_handle_t)t, NULL);
}

static void case_cr0(void)
{
    mode32(A32(g32_cr0));
    CHECK_EQUAL("MOV CR0 with NW and not CD raises #GP", run_to_report(), 13);
    CHECK_EQUAL("CR0 is unchanged", get(COPRA_STATE_CR0), 0x11);
    check_cpu_kept();
}

static void case_cr4(void)
{
    mode32(A32(g32_cr4));
    CHECK_EQUAL("MOV CR4 with a reserved bit raises #GP", run_to_report(), 13);
    CHECK_EQUAL("CR4 is unchanged", get(COPRA_STATE_CR4), 0);
    check_cpu_kept();
}

static void case_setstate(void)
{
    mode32(A32(g32_spin));
    CHECK_EQUAL("SET_STATE CR0 NW without CD", coco_vcpu_set_state(vcpu, COPRA_STATE_CR0, 0x20000011), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE CR0 PG without PE", coco_vcpu_set_state(vcpu, COPRA_STATE_CR0, 0x80000010), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE CR4 reserved bit 15", coco_vcpu_set_state(vcpu, COPRA_STATE_CR4, 1u << 15), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE CR3 above MAXPHYADDR", coco_vcpu_set_state(vcpu, COPRA_STATE_CR3, 1ull << 62), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE EFER reserved bit", coco_vcpu_set_state(vcpu, COPRA_STATE_EFER, 1ull << 20), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE DR7[63:32]", coco_vcpu_set_state(vcpu, COPRA_STATE_DR7, 1ull << 40), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE DR6[63:32]", coco_vcpu_set_state(vcpu, COPRA_STATE_DR6, 1ull << 40), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE TR not present", coco_vcpu_set_state(vcpu, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR), 0x0B),
             COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE TR a data segment", coco_vcpu_set_state(vcpu, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR), 0x93),
             COPRA_EINVAL);
    CHECK_EQUAL("PENDING_EVENT exception with vector 2", coco_vcpu_set_state(vcpu, COPRA_STATE_PENDING_EVENT,
             COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | 2), COPRA_EINVAL);
    CHECK_EQUAL("PENDING_EVENT of type 1", coco_vcpu_set_state(vcpu, COPRA_STATE_PENDING_EVENT,
             COPRA_EVENT_VALID | (1u << 8) | 0x20), COPRA_EINVAL);
    CHECK_EQUAL("PENDING_EVENT exception vector 40", coco_vcpu_set_state(vcpu, COPRA_STATE_PENDING_EVENT,
             COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | 40), COPRA_EINVAL);
    CHECK_EQUAL("PENDING_EVENT reserved bits", coco_vcpu_set_state(vcpu, COPRA_STATE_PENDING_EVENT,
             COPRA_EVENT_VALID | (1u << 20) | 0x20), COPRA_EINVAL);
    CHECK_EQUAL("TR attributes of a busy TSS are taken", coco_vcpu_set_state(vcpu,
             COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR), 0x8B), 0);

    /* Long mode with paging but no PAE: each value alone is fine, together
     * VMRUN refuses them, so no entry is made. */
    mode32(A32(g32_spin));
    set(COPRA_STATE_EFER, 0x100);
    set(COPRA_STATE_CR0, 0x80000011);
    set(COPRA_STATE_RIP, 0x1234);
    CHECK_EQUAL("LME + PG without PAE: the entry fails", run(), COPRA_EXIT_FAIL);
    CHECK_EQUAL("... refused before any entry", rp->fail.info1, 1);
    CHECK_EQUAL("... and the state is the VMM's", get(COPRA_STATE_RIP), 0x1234);

    /* After a refused event, a good one reaches the guest. */
    mode32(A32(g32_spin));
    CHECK_EQUAL("PENDING_EVENT #UD", coco_vcpu_set_state(vcpu, COPRA_STATE_PENDING_EVENT,
             COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | 6), 0);
    CHECK_EQUAL("the guest takes #UD", run_to_report(), 6);
    check_cpu_kept();
}

static void case_dr(uint64_t host_addr)
{
    mode64(A64(g64_dr));
    set(COPRA_RBX, host_addr);
    unsigned exits = 0;
    int64_t r;
    for (;;) {
        r = run();
        if (r != COPRA_EXIT_IO || rp->io.port != 0x82)
            break;
        exits++;
    }
    CHECK_EQUAL("100 exits with a guest breakpoint on host code", exits, 100);
    CHECK("the guest reads its DR0 and DR7 back", r == COPRA_EXIT_IO && rp->io.port == 0x80 &&
          (rp->io.data & 0xff) == 0x84 && rp->regs.gpr[COPRA_RDX] == host_addr &&
          (rp->regs.gpr[COPRA_RSI] & 0xFF) == 0x03);
    CHECK_EQUAL("DR7 with bits 63:32 raises #GP", run_to_report(), 13);
    uint64_t dr7 = 0;
    CHECK("GET_STATE DR7 and DR0", coco_vcpu_get_state(vcpu, COPRA_STATE_DR7, &dr7) == 0 && (dr7 & 0xFF) == 0x03 &&
          get(COPRA_STATE_DR0) == host_addr);
}

static void case_ro(void)
{
    mode32(A32(g32_ins));
    int64_t r = run();
    CHECK("INS: the IN exit", r == COPRA_EXIT_IO && rp->io.port == 0x300 && rp->io.in);
    rp->io.data = 0xAA;
    r = run_to_report();
    CHECK_EQUAL("INS into read-only RAM wrote nothing", ro[0], 0x5A);
    coco_printf("INS ended with %ld\n", (long)r);

    mode32(A32(g32_movs));
    for (int i = 0; i < 4 && (r = run()) == COPRA_EXIT_MMIO; i++) {
        if (!rp->mmio.write)
            rp->mmio.data = 0x11223344;
        else
            CHECK_EQUAL("MOVS: the store to read-only RAM reaches the VMM as MMIO", rp->mmio.gpa, RO_PAGE + 0x10);
    }
    CHECK("MOVS into read-only RAM wrote nothing", ro[0x10] == 0x5A && ro[0x11] == 0x5A);
}

static void case_cr8(void)
{
    int64_t irq = coco_irq_create(vcpu);
    CHECK("IRQ_CREATE", irq > 0);
    mode64(A64(g64_cr8));
    int64_t r = run();
    CHECK("the guest waits with IF=0", r == COPRA_EXIT_IO && rp->io.port == 0x85);
    coco_irq_inject((copra_handle_t)irq, 0x30);
    CHECK_EQUAL("vector 0x30 taken after the CR8 writes", run_to_report(), 0x30);
    CHECK_EQUAL("then the end of the sequence", run_to_report(), 0x86);
    CHECK_EQUAL("CR8 read back 5", rp->regs.gpr[COPRA_RDX], 5);
    CHECK_EQUAL("CR8 of 16 raises #GP", run_to_report(), 13);
    CHECK_EQUAL("GET_STATE CR8", get(COPRA_STATE_CR8), 0);
}

static void case_x87(void)
{
    mode32(A32(g32_x87));
    CHECK_EQUAL("an x87 error with CR0.NE=0 leaves QEMU and the host standing", run_to_report(), 0x87);
    check_cpu_kept();
}

static void case_tss(void)
{
    mode32(A32(g32_tss));
    set(COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_BASE), 0);
    set(COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_LIMIT), 0x67);
    CHECK_EQUAL("INT 0x80 from ring 3 through the reset TR", run_to_report(), 0x80);
    CHECK_EQUAL("on the ring-0 stack the TSS names", rp->regs.gpr[COPRA_RBX] & ~0xFFull, 0x7F00);
}

static void case_ltr(void)
{
    mode32(A32(g32_ltr0));
    CHECK_EQUAL("LTR of a null selector raises #GP", run_to_report(), 13);
    mode32(A32(g32_ltr));
    CHECK_EQUAL("LTR of a TSS descriptor", run_to_report(), 0x81);
    CHECK("TR is the descriptor's", get(COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_SEL)) == 0x30 &&
          get(COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_LIMIT)) == 0x67 &&
          (get(COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR)) & 0x9F) == 0x89);
    CHECK_EQUAL("the descriptor is marked busy", ((uint64_t *)(ram + GDT))[6] >> 40 & 0xFF, 0x8B);
    CHECK_EQUAL("INT 0x80 from ring 3 through it", run_to_report(), 0x80);
}

static void case_cr3(void)
{
    mode64(A64(g64_cr3));
    int64_t r = run_to_report();
    coco_printf("bad CR3 in long mode: %ld\n", (long)r);
    CHECK_EQUAL("#GP in the guest, as the CPU raises it", r, 13);
    static const unsigned ids[] = { COPRA_STATE_RIP, COPRA_STATE_CR3, COPRA_STATE_GDTR_BASE, COPRA_STATE_IDTR_BASE,
                                    COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_BASE), COPRA_RSP, COPRA_RAX };
    bool host = false;
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        host |= get(ids[i]) >= 0xFFFF800000000000ull;
    CHECK("no kernel address in the state the VMM reads", !host);
    check_cpu_kept();
}

/* TSC_AUX (issue 9, item 5): the guest's RDTSCP reads the VCPU's value;
 * the VMM on the same CPU, right after the exit, reads the host's 0. */
static void case_tscaux(void)
{
    uint32_t r[4];
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(0x80000001u), "c"(0));
    if (!(r[3] & (1u << 27))) {
        coco_printf("no RDTSCP on this CPU: nothing to check\n");
        return;
    }
    CHECK_EQUAL("TSC_AUX with bit 32 is refused", coco_vcpu_set_state(vcpu, COPRA_STATE_TSC_AUX, 1ull << 32),
                COPRA_EINVAL);
    set(COPRA_STATE_TSC_AUX, 0x5A);
    CHECK_EQUAL("TSC_AUX reads back", get(COPRA_STATE_TSC_AUX), 0x5A);
    mode64(A64(g64_tscaux));
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQUAL("the guest's RDTSCP reads its TSC_AUX", run_to_report(), 0x5A);
        uint32_t lo, hi, aux;
        __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
        CHECK_EQUAL("the VMM's RDTSCP after the exit reads the host's 0", aux, 0);
    }
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    if (!setup())
        return coco_test_finish();
    if (!strcmp(which, "cr0"))
        case_cr0();
    else if (!strcmp(which, "cr4"))
        case_cr4();
    else if (!strcmp(which, "setstate"))
        case_setstate();
    else if (!strcmp(which, "dr") && argc > 2)
        case_dr(strtoull(argv[2], NULL, 16));
    else if (!strcmp(which, "ro"))
        case_ro();
    else if (!strcmp(which, "cr8"))
        case_cr8();
    else if (!strcmp(which, "x87"))
        case_x87();
    else if (!strcmp(which, "tss"))
        case_tss();
    else if (!strcmp(which, "ltr"))
        case_ltr();
    else if (!strcmp(which, "cr3"))
        case_cr3();
    else if (!strcmp(which, "tscaux"))
        case_tscaux();
    else
        CHECK("a known case", false);
    return coco_test_finish();
}
