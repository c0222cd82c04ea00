/* SPDX-License-Identifier: MIT */
/*
 * The platform model's probe (ctest qemu.tdxmodel_probe): an L1 kernel on
 * the test guests' runtime that runs under tdxmodel.elf and checks each
 * TDX leaf the model emulates, the way a TD-partitioning L1 VMM uses it
 * (reference A3-A8): TDG.VP.INFO, TDG.VP.VMCALL (IO, CPUID, RDMSR/WRMSR,
 * MapGPA, HLT), TDG.VM.RD/WR, TDG.MEM.PAGE.ACCEPT, ATTR.RD/WR, TDG.MR.RTMR.EXTEND,
 * TDG.VP.RD/WR and TDG.VP.ENTER of a small L2 (probe_l2.S) with the exit
 * registers decoded.  Prints "N passed, 0 failed" and writes 0 to
 * isa-debug-exit if every check passed.
 */
#include "guest.h"

struct tdregs {
    uint64_t rax, rcx, rdx, rbx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};
void tdcall(struct tdregs *r);

extern const char l2_code[], l2_out_dx[], l2_read_rsi[], l2_mmio[], l2_hlt[], l2_spin[], l2_vec30[],
    l2_ud2[], l2_tdcall[], l2_cr[], l2_cr_write[], l2_msr[],
    l2_rdmsr_exit[];

/* The numbers the model must produce (tests/tdxmodel/tdx.c cites them). */
#define TDX_OPERAND_INVALID             0xC000010000000000ull
#define TDX_PAGE_ALREADY_ACCEPTED       0x00000B0A00000000ull
#define TDX_EPT_ENTRY_STATE_INCORRECT   0xC0000B0D00000000ull
#define TDX_PAGE_ATTR_INVALID           0xC0000B1100000000ull
#define TDX_METADATA_FIELD_ID_INCORRECT 0xC0000C0000000000ull
#define TDX_METADATA_FIELD_NOT_WRITABLE 0xC0000C0100000000ull
#define TDX_METADATA_FIELD_VALUE_NOT_VALID 0xC0000C0300000000ull
#define TDX_L2_EXIT_HOST_ROUTED_ASYNC   0x0000110000000000ull
#define TDX_L2_EXIT_PENDING_INTERRUPT   0x0000110200000000ull
#define VMCALL_ALIGN_ERROR              0x8000000000000002ull
#define SHARED_BIT                      (1ull << 47)
#define MD_TDCS_NUM_L2_VMS              0x9010000100000005ull
#define ATTR_R 1u
#define ATTR_W 2u
#define ATTR_XS 4u
#define ATTR_VALID 0x8000u

/* Field ids of VM 1's L2 VMCS (class 36, context VP, reference A7). */
static uint64_t vmcs_id(uint32_t encoding)
{
    static const uint64_t size[4] = { 1, 3, 2, 3 };   /* 16-bit, 64-bit, 32-bit, natural */
    return 36ull << 56 | 2ull << 52 | size[(encoding >> 13) & 3] << 32 | encoding;
}

static uint8_t pages[7][4096] __attribute__((aligned(4096)));
enum { PAGE_STACK, PAGE_DATA, PAGE_PENDING, PAGE_VAPIC, PAGE_ACCEPT, PAGE_GDT, PAGE_IDT };
static struct {
    uint64_t gpr[16], rflags, rip, ssp;
    uint16_t interrupt_status;
} l2_state __attribute__((aligned(256)));
enum { G_AX, G_CX, G_DX, G_BX, G_SP, G_BP, G_SI, G_DI, G_8 };
static volatile unsigned ticks;
static uint64_t probe_cr3;

static uint64_t pa(const void *p)
{
    return (uint64_t)(uintptr_t)p;   /* boot.S maps the first GiB one to one */
}

static struct tdregs leaf(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9)
{
    struct tdregs r = { .rax = rax, .rcx = rcx, .rdx = rdx, .r8 = r8, .r9 = r9 };
    tdcall(&r);
    return r;
}

static struct tdregs vmcall(uint64_t fn, uint64_t r12, uint64_t r13, uint64_t r14, uint64_t r15)
{
    struct tdregs r = { .rax = 0, .rcx = 0xfc00, .r10 = 0, .r11 = fn, .r12 = r12, .r13 = r13,
                        .r14 = r14, .r15 = r15 };
    tdcall(&r);
    return r;
}

static void td_print(const char *s)
{
    for (; *s; s++)
        vmcall(30, 1, 1, PORT_COM1, (uint8_t)*s);
}

static uint64_t attr_wr(uint64_t gpa, uint16_t vm1_attr)
{
    return leaf(24, gpa, (uint64_t)vm1_attr << 16, 0x7fffull << 16, 0).rax;
}

static uint64_t vp_wr(uint32_t encoding, uint64_t value)
{
    return leaf(10, 0, vmcs_id(encoding), value, ~0ull).rax;
}

static uint64_t vp_rd(uint32_t encoding)
{
    struct tdregs r = leaf(9, 0, vmcs_id(encoding), 0, 0);
    CHECK_EQ("TDG.VP.RD status", r.rax, 0);
    return r.r8;
}

static struct tdregs vp_enter(void)
{
    return leaf(25, 1ull << 52, pa(&l2_state), 0, 0);
}

static void timer_tick(struct guest_frame *frame)
{
    (void)frame;
    ticks++;
    outb(0x20, 0x20);   /* PIC EOI */
}

static void check_info_and_io(void)
{
    struct tdregs r = leaf(1, 0, 0, 0, 0);
    CHECK_EQ("TDG.VP.INFO status", r.rax, 0);
    CHECK_EQ("TDG.VP.INFO GPAW", r.rcx & 0x3f, 48);
    CHECK_EQ("TDG.VP.INFO vCPUs", r.r8, 1ull | 1ull << 32);
    CHECK("TDG.VP.INFO SEPT_VE_DISABLE", r.rdx & (1ull << 28));
    td_print("probe: hello through TDG.VP.VMCALL IO\n");
    r = vmcall(30, 1, 0, 0x3fd, 0);   /* COM1 line status: transmitter empty */
    CHECK_EQ("VMCALL IO read status", r.r10, 0);
    CHECK("VMCALL IO read LSR", r.r11 & 0x20);
    CHECK_EQ("VMCALL IO bad size", vmcall(30, 3, 1, 0x80, 0).r10, 0x8000000000000000ull);
    CHECK_EQ("unknown leaf", leaf(99, 0, 0, 0, 0).rax, TDX_OPERAND_INVALID);

    r = leaf(7, 0, MD_TDCS_NUM_L2_VMS, 0, 0);
    CHECK_EQ("TDG.VM.RD NUM_L2_VMS status", r.rax, 0);
    CHECK_EQ("NUM_L2_VMS", r.r8, 3);
    CHECK_EQ("TDG.VM.WR NUM_L2_VMS", leaf(8, 0, MD_TDCS_NUM_L2_VMS, 1, ~0ull).rax,
             TDX_METADATA_FIELD_NOT_WRITABLE);
    CHECK_EQ("TDG.VM.RD unknown", leaf(7, 0, 0x9010000100000777ull, 0, 0).rax,
             TDX_METADATA_FIELD_ID_INCORRECT);
}

static void check_cpu(void)
{
    uint32_t c[4];
    cpuid(0, 0, c);
    CHECK("CPUID max leaf >= 0x21", c[0] >= 0x21);
    cpuid(0x21, 0, c);
    CHECK("CPUID 0x21 IntelTDX", c[1] == 0x65746e49 && c[3] == 0x5844546c && c[2] == 0x20202020);
    cpuid(0x80000001u, 0, c);
    CHECK("no SVM in the TD", !(c[2] & 4));
    struct tdregs r = vmcall(10, 0x21, 0, 0, 0);
    CHECK("VMCALL CPUID 0x21", r.r10 == 0 && r.r13 == 0x65746e49 && r.r15 == 0x5844546c);
    uint64_t efer = rdmsr(0xC0000080u);
    CHECK("EFER: LMA, no SVME", (efer & 0x400) && !(efer & 0x1000));
    CHECK_EQ("VMCALL WRMSR TSC_AUX", vmcall(32, 0xC0000103u, 0x1234, 0, 0).r10, 0);
    r = vmcall(31, 0xC0000103u, 0, 0, 0);
    CHECK("VMCALL RDMSR TSC_AUX", r.r10 == 0 && r.r11 == 0x1234);
}

static void check_memory(void)
{
    uint8_t *p = pages[PAGE_ACCEPT];
    p[0] = 0xab;
    CHECK_EQ("MapGPA to shared", vmcall(0x10001, pa(p) | SHARED_BIT, 4096, 0, 0).r10, 0);
    CHECK_EQ("MapGPA to private", vmcall(0x10001, pa(p), 4096, 0, 0).r10, 0);
    CHECK_EQ("MapGPA unaligned", vmcall(0x10001, pa(p) + 8, 4096, 0, 0).r10, VMCALL_ALIGN_ERROR);
    struct tdregs r = leaf(23, pa(p), 0, 0, 0);
    CHECK("ATTR.RD: pending", r.rax == 0 && (r.rcx & (1ull << 62)));
    CHECK_EQ("ATTR.WR of a pending page", attr_wr(pa(p), ATTR_VALID | ATTR_R),
             TDX_EPT_ENTRY_STATE_INCORRECT);
    CHECK_EQ("ACCEPT", leaf(6, pa(p), 0, 0, 0).rax, 0);
    CHECK_EQ("accepted page is zero", p[0], 0);
    CHECK_EQ("ACCEPT again", leaf(6, pa(p), 0, 0, 0).rax, TDX_PAGE_ALREADY_ACCEPTED);
    CHECK_EQ("ACCEPT of the model", leaf(6, 0x70000000, 0, 0, 0).rax, TDX_OPERAND_INVALID | 1);

    /* A 2 MiB page (8 MiB, free RAM below the probe's L2 pages). */
    CHECK_EQ("MapGPA 2 MiB to private", vmcall(0x10001, 0x800000, 0x200000, 0, 0).r10, 0);
    CHECK_EQ("ACCEPT 2 MiB", leaf(6, 0x800000 | 1, 0, 0, 0).rax, 0);
    CHECK_EQ("ACCEPT 4 KiB inside it", leaf(6, 0x801000, 0, 0, 0).rax, TDX_PAGE_ALREADY_ACCEPTED);
    CHECK_EQ("ACCEPT 2 MiB unaligned", leaf(6, 0x801000 | 1, 0, 0, 0).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("2 MiB page readable", *(volatile uint64_t *)(uintptr_t)0x9ff000, 0);

    /* ATTR.WR input checks (reference A6). */
    CHECK_EQ("ATTR.WR VM0 slot", leaf(24, pa(p), 0x8001, 0, 0).rax, TDX_OPERAND_INVALID | 2);
    CHECK_EQ("ATTR.WR without Valid", leaf(24, pa(p), 1ull << 16, 0x7fffull << 16, 0).rax,
             TDX_OPERAND_INVALID | 2);
    CHECK_EQ("ATTR.WR write-only", attr_wr(pa(p), ATTR_VALID | ATTR_W), TDX_PAGE_ATTR_INVALID);
    CHECK_EQ("ATTR.WR R", attr_wr(pa(p), ATTR_VALID | ATTR_R), 0);
    r = leaf(23, pa(p), 0, 0, 0);
    CHECK("ATTR.RD after WR", r.rax == 0 && r.rdx == (uint64_t)(ATTR_VALID | ATTR_R) << 16 &&
          !(r.rcx & (1ull << 62)));
    CHECK_EQ("ATTR.WR remove", attr_wr(pa(p), ATTR_VALID), 0);
}

/* TDG.MR.RTMR.EXTEND (tests/tdxmodel/tdx.c tdx_rtmr_extend()): the input
 * checks here; the values, RTMR 3 extended twice with bytes 0..47, the
 * test greps from the model's output (tests/tdxmodel/CMakeLists.txt). */
static void check_measurement(void)
{
    static uint8_t data[64] __attribute__((aligned(64)));
    uint8_t *p = pages[PAGE_ACCEPT];
    for (unsigned i = 0; i < 48; i++)
        data[i] = (uint8_t)i;
    CHECK_EQ("RTMR.EXTEND 32-byte aligned", leaf(2, pa(data) + 32, 3, 0, 0).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("RTMR.EXTEND shared GPA", leaf(2, pa(data) | SHARED_BIT, 3, 0, 0).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("RTMR.EXTEND the model's memory", leaf(2, 0x70000000, 3, 0, 0).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("RTMR.EXTEND RTMR 4", leaf(2, pa(data), 4, 0, 0).rax, TDX_OPERAND_INVALID | 2);
    CHECK_EQ("RTMR.EXTEND bad GPA before bad index", leaf(2, pa(data) + 8, 4, 0, 0).rax,
             TDX_OPERAND_INVALID | 1);
    CHECK_EQ("MapGPA to shared again", vmcall(0x10001, pa(p) | SHARED_BIT, 4096, 0, 0).r10, 0);
    CHECK_EQ("MapGPA to private again", vmcall(0x10001, pa(p), 4096, 0, 0).r10, 0);
    CHECK_EQ("RTMR.EXTEND pending page", leaf(2, pa(p), 3, 0, 0).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("ACCEPT it back", leaf(6, pa(p), 0, 0, 0).rax, 0);
    CHECK_EQ("RTMR.EXTEND RTMR 3", leaf(2, pa(data), 3, 0, 0).rax, 0);
    CHECK_EQ("RTMR.EXTEND RTMR 3 again", leaf(2, pa(data), 3, 0, 0).rax, 0);
}

/* VM 1's L2: 64-bit flat segments, L1's own page tables. */
static void check_vmcs(void)
{
    CHECK_EQ("VP.WR RCX != 0", leaf(10, 1, vmcs_id(0x6800), 0, ~0ull).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("VP.WR unknown field", vp_wr(0x6c00, 0), TDX_METADATA_FIELD_ID_INCORRECT);
    CHECK_EQ("VP.WR pin-based", vp_wr(0x4000, 0), TDX_METADATA_FIELD_NOT_WRITABLE);
    CHECK_EQ("VP.WR CR4 without VMXE", vp_wr(0x6804, 0x20), TDX_METADATA_FIELD_VALUE_NOT_VALID);
    CHECK_EQ("VP.RD wrong size", leaf(9, 0, vmcs_id(0x6800) - (1ull << 32), 0, 0).rax,
             TDX_METADATA_FIELD_ID_INCORRECT);
    CHECK_EQ("VP.RD CR0 read shadow", vp_rd(0x6004), 0x21);

    uint64_t ok = 0;
    for (unsigned i = 0; i < 8; i++) {   /* ES CS SS DS FS GS LDTR TR */
        bool cs = i == 1, ldtr = i == 6, tr = i == 7;
        ok |= vp_wr(0x800 + 2 * i, cs ? 0x08 : (ldtr || tr) ? 0 : 0x10);
        ok |= vp_wr(0x4800 + 2 * i, tr ? 0x67 : 0xffffffff);
        ok |= vp_wr(0x4814 + 2 * i, cs ? 0xa09b : ldtr ? 0x10000 : tr ? 0x8b : 0xc093);
        ok |= vp_wr(0x6806 + 2 * i, 0);
    }
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    probe_cr3 = cr3;
    ok |= vp_wr(0x6800, 0x80000031);   /* PG NE ET PE */
    ok |= vp_wr(0x6802, cr3);
    ok |= vp_wr(0x6804, 0x2060);       /* PAE, and the fixed MCE VMXE */
    ok |= vp_wr(0x2806, 0xd01);        /* EFER: LMA LME SCE (NXE fixed) */
    ok |= vp_wr(0x4012, 0x200);        /* IA-32e mode guest */
    CHECK_EQ("VP.WR of the L2 state", ok, 0);
    CHECK_EQ("VP.RD CR0", vp_rd(0x6800), 0x80000031);

    /* Aliases for VM 1: code R+X, stack and the page tables R+W. */
    const uint64_t *pml4 = (const uint64_t *)(uintptr_t)cr3;
    const uint64_t *pdpt = (const uint64_t *)(uintptr_t)(pml4[0] & ~0xfffull);
    uint64_t rw[] = { pa(pages[PAGE_STACK]), cr3, pml4[0] & ~0xfffull, pdpt[0] & ~0xfffull,
                      pdpt[3] & ~0xfffull };
    ok = attr_wr(pa(l2_code), ATTR_VALID | ATTR_R | ATTR_XS);
    for (unsigned i = 0; i < sizeof rw / sizeof rw[0]; i++)
        ok |= attr_wr(rw[i], ATTR_VALID | ATTR_R | ATTR_W);
    CHECK_EQ("ATTR.WR of the L2 pages", ok, 0);
}

static void check_enter(void)
{
    l2_state.rip = pa(l2_code);
    l2_state.gpr[G_SP] = pa(pages[PAGE_STACK]) + 4096;
    l2_state.rflags = 2;
    l2_state.gpr[G_SI] = pa(pages[PAGE_DATA]);
    l2_state.gpr[G_DI] = pa(pages[PAGE_PENDING]);
    l2_state.gpr[G_8] = 0xC0000000u;
    CHECK_EQ("MapGPA L2 page to private", vmcall(0x10001, pa(pages[PAGE_PENDING]), 4096, 0, 0).r10, 0);

    CHECK_EQ("VP.ENTER without vAPIC page", vp_enter().rax, TDX_OPERAND_INVALID | 170);
    CHECK_EQ("VP.WR vAPIC page", vp_wr(0x2012, pa(pages[PAGE_VAPIC])), 0);
    CHECK_EQ("VP.ENTER VM 0", leaf(25, 0, pa(&l2_state), 0, 0).rax, TDX_OPERAND_INVALID | 1);
    CHECK_EQ("VP.ENTER unaligned", leaf(25, 1ull << 52, pa(&l2_state) + 8, 0, 0).rax,
             TDX_OPERAND_INVALID | 2);

    struct tdregs r = vp_enter();
    CHECK_EQ("exit 1: I/O", r.rax, 30);
    CHECK_EQ("exit 1: qualification", r.rcx, 0x00990040);   /* port 0x99, immediate, OUT, 1 byte */
    CHECK_EQ("exit 1: length", r.r11 >> 32, 2);
    CHECK_EQ("exit 1: RIP", l2_state.rip, pa(l2_code) + 2);
    CHECK_EQ("exit 1: AL", l2_state.gpr[G_AX] & 0xff, 0x42);
    CHECK_EQ("exit 1: CS selector and AR", r.rsi & 0xffffffff, 0xa09b0008);
    l2_state.rip += 2;

    r = vp_enter();
    CHECK_EQ("exit 2: CPUID", r.rax, 10);
    CHECK_EQ("exit 2: leaf", l2_state.gpr[G_AX], 0x40000000);
    l2_state.gpr[G_BX] = 0x7d7d1234;
    l2_state.rip += r.r11 >> 32;

    r = vp_enter();
    CHECK_EQ("exit 3: I/O", r.rax, 30);
    CHECK_EQ("exit 3: qualification", r.rcx, 0x00980003);   /* port 0x98 in DX, OUT, 4 bytes */
    CHECK_EQ("exit 3: RIP", l2_state.rip, pa(l2_out_dx));
    CHECK_EQ("exit 3: EAX from L1's CPUID result", l2_state.gpr[G_AX], 0x7d7d1234);
    l2_state.rip += r.r11 >> 32;

    r = vp_enter();
    CHECK_EQ("exit 4: EPT violation", r.rax, 48);
    CHECK_EQ("exit 4: GPA", r.r8, pa(pages[PAGE_DATA]));
    CHECK_EQ("exit 4: read, no access", r.rcx & 0x3f, 1);
    CHECK_EQ("exit 4: RIP", l2_state.rip, pa(l2_read_rsi));
    CHECK_EQ("alias R", attr_wr(pa(pages[PAGE_DATA]), ATTR_VALID | ATTR_R), 0);

    r = vp_enter();
    CHECK_EQ("exit 5: EPT violation", r.rax, 48);
    CHECK_EQ("exit 5: write, R allowed", r.rcx & 0x3f, 2 | 1 << 3);
    CHECK_EQ("alias RW", attr_wr(pa(pages[PAGE_DATA]), ATTR_VALID | ATTR_R | ATTR_W), 0);

    r = vp_enter();
    CHECK_EQ("exit 6: EPT violation", r.rax, 48);
    CHECK_EQ("exit 6: GPA", r.r8, pa(pages[PAGE_PENDING]));
    CHECK_EQ("exit 6: pending page (R13 type 6)", r.r13, 6);
    CHECK_EQ("accept L2 page", leaf(6, pa(pages[PAGE_PENDING]), 0, 0, 0).rax, 0);
    CHECK_EQ("alias it", attr_wr(pa(pages[PAGE_PENDING]), ATTR_VALID | ATTR_R | ATTR_W), 0);

    r = vp_enter();
    CHECK_EQ("exit 7: host-routed EPT violation", r.rax, TDX_L2_EXIT_HOST_ROUTED_ASYNC | 48);
    CHECK_EQ("exit 7: GPA", r.r8, 0xC0000000u);
    CHECK_EQ("exit 7: RIP", l2_state.rip, pa(l2_mmio));
    l2_state.rip += 3;

    r = vp_enter();
    CHECK_EQ("exit 8: HLT", r.rax, 12);
    CHECK_EQ("exit 8: RIP", l2_state.rip, pa(l2_hlt));
    CHECK_EQ("exit 8: length", r.r11 >> 32, 1);
    l2_state.rip += 1;
    l2_state.rflags |= RFLAGS_IF;
    CHECK_EQ("request interrupt window", leaf(10, 0, vmcs_id(0x4002), 4, 4).rax, 0);

    r = vp_enter();
    CHECK_EQ("exit 9: interrupt window", r.rax, 7);
    CHECK_EQ("VP.RD exit reason", vp_rd(0x4402), 7);
    CHECK_EQ("VP.RD guest CR3", vp_rd(0x6802), probe_cr3);
    CHECK_EQ("clear interrupt window", leaf(10, 0, vmcs_id(0x4002), 0, 4).rax, 0);
}

/* Events into and out of L2: an interrupt injected through the VM-entry
 * interruption information (delivered through L2's own IDT and GDT), an
 * exception in L1's exception bitmap, a TDCALL from L2. */
static void check_events(void)
{
    uint64_t *gdt = (uint64_t *)pages[PAGE_GDT], *idt = (uint64_t *)pages[PAGE_IDT];
    gdt[1] = 0x00AF9B000000FFFFull;   /* 0x08: 64-bit code, accessed */
    gdt[2] = 0x00CF93000000FFFFull;   /* 0x10: data, accessed */
    uint64_t h = pa(l2_vec30);
    idt[2 * 0x30] = (h & 0xffff) | 0x08ull << 16 | 0x8E00ull << 32 | ((h >> 16) & 0xffff) << 48;
    idt[2 * 0x30 + 1] = h >> 32;
    uint64_t ok = attr_wr(pa(gdt), ATTR_VALID | ATTR_R | ATTR_W) |
                  attr_wr(pa(idt), ATTR_VALID | ATTR_R | ATTR_W) |
                  vp_wr(0x6816, pa(gdt)) | vp_wr(0x4810, 23) | vp_wr(0x6818, pa(idt)) |
                  vp_wr(0x4812, 0xfff) | vp_wr(0x4016, 0x80000030u);
    CHECK_EQ("L2 GDT, IDT and an injected interrupt", ok, 0);
    l2_state.rip = pa(l2_spin);
    l2_state.rflags = 0x202;
    l2_state.gpr[G_SP] = pa(pages[PAGE_STACK]) + 4096;
    struct tdregs r = vp_enter();
    CHECK_EQ("injected vector 0x30 ran", r.rax, 30);
    CHECK_EQ("its I/O qualification", r.rcx, 0x00970040);
    CHECK_EQ("RIP in the handler", l2_state.rip, pa(l2_vec30));
    const uint64_t *frame = (const uint64_t *)(uintptr_t)l2_state.gpr[G_SP];
    CHECK("interrupt frame: RIP, CS", l2_state.gpr[G_SP] == pa(pages[PAGE_STACK]) + 4096 - 40 &&
          frame[0] == pa(l2_spin) && frame[1] == 0x08);
    CHECK_EQ("entry interruption info consumed", vp_rd(0x4016) >> 31, 0);
    l2_state.rip += 2;

    CHECK_EQ("exception bitmap #UD", vp_wr(0x4004, 1u << 6), 0);
    r = vp_enter();
    CHECK_EQ("exception exit", r.rax, 0);
    CHECK_EQ("exit interruption info: #UD, hardware exception", r.r9 & 0xffffffff, 0x80000306);
    CHECK_EQ("RIP at ud2", l2_state.rip, pa(l2_ud2));
    CHECK_EQ("clear exception bitmap", vp_wr(0x4004, 0), 0);
    l2_state.rip += 2;

    r = vp_enter();
    CHECK_EQ("TDCALL from L2", r.rax, 77);
    CHECK_EQ("TDCALL length", r.r11 >> 32, 4);
    CHECK_EQ("TDCALL RIP", l2_state.rip, pa(l2_tdcall));
}

/* CR0/CR4 under L1's guest/host masks and read shadows. */
static void check_cr(void)
{
    CHECK_EQ("CR0 mask and shadow: CD", vp_wr(0x6000, 1u << 30) | vp_wr(0x6004, 1u << 30), 0);
    l2_state.rip = pa(l2_cr);
    struct tdregs r = vp_enter();
    CHECK_EQ("CR0 read: I/O exit", r.rax, 30);
    CHECK_EQ("CR0 read: shadow's CD", l2_state.gpr[G_AX] & 0xffffffff, 0xC0000031);
    l2_state.rip += 2;
    r = vp_enter();
    CHECK_EQ("CR0 write against the shadow", r.rax, 28);
    CHECK_EQ("CR access qualification: CR0, MOV to, RAX", r.rcx, 0);
    CHECK_EQ("CR access RIP", l2_state.rip, pa(l2_cr_write));
    CHECK_EQ("CR access length", r.r11 >> 32, 3);
    CHECK_EQ("CR0 unchanged", vp_rd(0x6800), 0x80000031);
    l2_state.rip += 3;
    r = vp_enter();
    CHECK_EQ("CR4 read: I/O exit", r.rax, 30);
    CHECK_EQ("CR4 read: shadow", l2_state.gpr[G_AX] & 0xffffffff, 0x2040);
}

/* L1's MSR bitmap for VM 1 (class 37): a clear bit lets L2 at the MSR. */
static void check_msr(void)
{
    unsigned bit = 8192 + 0x103;   /* read bitmap for 0xC0000000-0xC0001FFF starts at bit 8192 */
    uint64_t id = 37ull << 56 | 2ull << 52 | 3ull << 32 | bit / 64;
    CHECK_EQ("MSR bitmap: TSC_AUX reads pass", leaf(10, 0, id, 0, 1ull << (bit % 64)).rax, 0);
    struct tdregs r = leaf(9, 0, id, 0, 0);
    CHECK("MSR bitmap read back", r.rax == 0 && r.r8 == ~(1ull << (bit % 64)));
    l2_state.rip = pa(l2_msr);
    r = vp_enter();
    CHECK_EQ("passed-through RDMSR: I/O exit", r.rax, 30);
    CHECK_EQ("L2 read TSC_AUX", l2_state.gpr[G_AX] & 0xffffffff, 0x1234);
    l2_state.rip += 2;
    r = vp_enter();
    CHECK_EQ("RDMSR exit", r.rax, 31);
    CHECK_EQ("RDMSR RIP", l2_state.rip, pa(l2_rdmsr_exit) + 5);
    CHECK_EQ("RDMSR ECX", l2_state.gpr[G_CX], 0x10);
}

/* Interrupts are L1's: the PIT through the PIC (vector 0x20), taken by
 * L1 after TDG.VP.VMCALL HLT, and while L2 runs as an exit with
 * TDX_L2_EXIT_PENDING_INTERRUPT. */
static void check_interrupts(void)
{
    idt_set_handler(0x20, timer_tick);
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);   /* PIC: base 0x20 */
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0xa1, 0xff);
    outb(0x21, 0xfe);                                  /* IRQ0 only */
    outb(0x43, 0x34); outb(0x40, 0xa9); outb(0x40, 0x04);   /* PIT: 1193182 / 1193 = 1 kHz */

    unsigned before = ticks;
    __asm__ volatile("sti");
    struct tdregs r = vmcall(12, 0, 0, 0, 0);
    __asm__ volatile("cli");
    CHECK_EQ("VMCALL HLT status", r.r10, 0);
    CHECK("timer interrupt after VMCALL HLT", ticks > before);

    before = ticks;
    l2_state.rip = pa(l2_spin);
    r = vp_enter();   /* L1 has IF = 0: the tick ends L2 and waits for L1 */
    CHECK_EQ("exit: pending interrupt", r.rax, TDX_L2_EXIT_PENDING_INTERRUPT | 1);
    CHECK_EQ("no tick with IF = 0", ticks, before);
    __asm__ volatile("sti; nop; nop; cli");
    CHECK("tick taken after the exit", ticks > before);
    outb(0x21, 0xff);
}

int guest_main(unsigned cpu, uint32_t multiboot_info)
{
    (void)cpu;
    idt_init();
    if (guest_cmdline_number(multiboot_info, "fatal=", 0)) {
        /* ReportFatalError with a message (GHCI; R12 bit 63: message valid). */
        static const char msg[64] = "probe: fatal error requested";
        struct tdregs r = { .rcx = 0xfc00, .r11 = 0x10003, .r12 = 1ull << 63 | 0x42 };
        uint64_t *m[8] = { &r.r14, &r.r15, &r.rbx, &r.rdi, &r.rsi, &r.r8, &r.r9, &r.rdx };
        for (unsigned i = 0; i < 8; i++)
            memcpy(m[i], msg + 8 * i, 8);
        tdcall(&r);
        return 1;   /* not reached: the model stops */
    }
    outb(0x21, 0xff);   /* the firmware's timer interrupt would end every L2 entry */
    outb(0xa1, 0xff);
    check_info_and_io();
    check_cpu();
    check_memory();
    check_measurement();
    check_vmcs();
    check_enter();
    check_events();
    check_cr();
    check_msr();
    check_interrupts();
    return guest_finish();
}
