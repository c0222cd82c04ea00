/* SPDX-License-Identifier: MIT */
/*
 * The TDX-partitioning part of the platform model: L1 plays the TD, and
 * this file plays the TDX module for it.  L1's TDCALLs (66 0F 01 CC) reach
 * it as #UD intercepts (reference C3); it emulates the leaves Copra needs
 * (reference A3-A8, TDX module 1.5.01 source "TDXM") and runs the TD's L2
 * VMs as further SVM guests of the host.
 *
 * Our reading of the specification, not Intel's module: see README.md for
 * what is modelled and what is not.
 */
#include "host.h"
#include "core/sha384.h"   /* the kernel's SHA-384, compiled into the model too */

/* TDCALL leaves (TDXM include/tdx_api_defs.h TDG_*_LEAF; reference A3). */
#define TDG_VP_VMCALL          0
#define TDG_VP_INFO            1
#define TDG_VP_VEINFO_GET      3
#define TDG_MR_RTMR_EXTEND     2
#define TDG_MEM_PAGE_ACCEPT    6
#define TDG_VM_RD              7
#define TDG_VM_WR              8
#define TDG_VP_RD              9
#define TDG_VP_WR              10
#define TDG_MEM_PAGE_ATTR_RD   23
#define TDG_MEM_PAGE_ATTR_WR   24
#define TDG_VP_ENTER           25
#define TDG_VP_INVEPT          26
#define TDG_VP_INVVPID         27

/* Completion statuses (TDXM include/auto_gen/tdx_error_codes_defs.h). */
#define TDX_SUCCESS                        0x0000000000000000ull
#define TDX_OPERAND_INVALID                0xC000010000000000ull
#define TDX_PAGE_ALREADY_ACCEPTED          0x00000B0A00000000ull
#define TDX_NO_VE_INFO                     0xC000070000000000ull
#define TDX_PAGE_SIZE_MISMATCH             0xC0000B0B00000000ull
#define TDX_EPT_ENTRY_STATE_INCORRECT      0xC0000B0D00000000ull
#define TDX_PAGE_ATTR_INVALID              0xC0000B1100000000ull
#define TDX_METADATA_FIELD_ID_INCORRECT    0xC0000C0000000000ull
#define TDX_METADATA_FIELD_NOT_WRITABLE    0xC0000C0100000000ull
#define TDX_METADATA_FIELD_VALUE_NOT_VALID 0xC0000C0300000000ull
#define TDX_L2_EXIT_HOST_ROUTED_ASYNC      0x0000110000000000ull
#define TDX_L2_EXIT_PENDING_INTERRUPT      0x0000110200000000ull
/* Operand ids in the low bits of TDX_OPERAND_INVALID (TDXM: register
 * numbers, and OPERAND_ID_L2_VAPIC_GPA 170, reference A4). */
#define OPERAND_RAX 0
#define OPERAND_RCX 1
#define OPERAND_RDX 2
#define OPERAND_L2_VAPIC_GPA 170

/* GHCI TDG.VP.VMCALL sub-functions and statuses (reference A8; Linux
 * arch/x86/include/asm/shared/tdx.h). */
#define VMCALL_CPUID        10
#define VMCALL_HLT          12
#define VMCALL_IO           30
#define VMCALL_RDMSR        31
#define VMCALL_WRMSR        32
#define VMCALL_MMIO         48
#define VMCALL_MAP_GPA      0x10001
#define VMCALL_FATAL        0x10003
#define VMCALL_SUCCESS          0x0ull
#define VMCALL_INVALID_OPERAND  0x8000000000000000ull
#define VMCALL_ALIGN_ERROR      0x8000000000000002ull

/* TD configuration the model reports. */
#define TD_GPAW          48                 /* TDG.VP.INFO RCX[5:0]; shared bit 47 */
#define SHARED_BIT       (1ull << (TD_GPAW - 1))
#define TD_ATTR_SEPT_VE_DISABLE (1ull << 28)  /* reference A2: Linux L1 requires it */
#define NUM_L2_VMS       3                  /* TDXM MAX_L2_VMS */
#define MD_TDCS_NUM_L2_VMS        0x9010000100000005ull   /* reference A2 */
#define MD_TDCS_NOTIFY_ENABLES    0x9100000000000010ull   /* reference A3 */
#define MD_TDVPS_L2_CTLS          0xA020000300000050ull   /* + vm, reference A7 */
#define MD_WRITE_MASK_VALID       (1ull << 51)
#define MD_RESERVED               (0xff000000ull | 0x0007fffc00000000ull | 3ull << 62)
#define NULL_PA                   (~0ull)

/* GPA attributes (reference A6, TDXM gpa_attr_single_vm_t). */
#define ATTR_R      (1u << 0)
#define ATTR_W      (1u << 1)
#define ATTR_XS     (1u << 2)
#define ATTR_XU     (1u << 3)
#define ATTR_VALID  (1u << 15)
#define ATTR_L1_MASK 0x807fu      /* GUEST_L2_GPA_ATTR_MASK: bits 6:0 and 15 */

/* VMX exit reasons (Intel SDM vol. 3 appendix C) and entry failure bit. */
#define VMX_EXCEPTION     0
#define VMX_EXT_INTR      1
#define VMX_TRIPLE_FAULT  2
#define VMX_INTR_WINDOW   7
#define VMX_CPUID         10
#define VMX_HLT           12
#define VMX_INVD          13
#define VMX_VMCALL        18
#define VMX_CR_ACCESS     28
#define VMX_DR_ACCESS     29
#define VMX_IO            30
#define VMX_RDMSR         31
#define VMX_WRMSR         32
#define VMX_ENTRY_INVALID_STATE 33
#define VMX_EPT_VIOLATION 48
#define VMX_WBINVD        54
#define VMX_XSETBV        55
#define VMX_TDCALL        77
#define VMX_ENTRY_FAILURE (1u << 31)
#define L2_EEQ_PEND_EPT_VIOLATION 6   /* R13 type (reference A4, TDXM vmcs_defs.h) */

/* VMCS field encodings (SDM vol. 3 appendix B). */
#define F_GUEST_ES_SEL   0x0800
#define F_VAPIC_ADDR     0x2012
#define F_GUEST_PHYS     0x2400
#define F_GUEST_DEBUGCTL 0x2802
#define F_GUEST_PAT      0x2804
#define F_GUEST_EFER     0x2806
#define F_PIN_CTLS       0x4000
#define F_PROC_CTLS      0x4002
#define F_EXC_BITMAP     0x4004
#define F_EXIT_CTLS      0x400C
#define F_ENTRY_CTLS     0x4012
#define F_ENTRY_INTR     0x4016
#define F_ENTRY_ERR      0x4018
#define F_ENTRY_LEN      0x401A
#define F_SECONDARY      0x401E
#define F_EXIT_REASON    0x4402
#define F_EXIT_INTR      0x4404
#define F_EXIT_INTR_ERR  0x4406
#define F_IDT_VEC        0x4408
#define F_IDT_VEC_ERR    0x440A
#define F_EXIT_LEN       0x440C
#define F_EXIT_INSN_INFO 0x440E
#define F_GUEST_ES_LIMIT 0x4800
#define F_GUEST_GDTR_LIMIT 0x4810
#define F_GUEST_IDTR_LIMIT 0x4812
#define F_GUEST_ES_AR    0x4814
#define F_INTERRUPTIBILITY 0x4824
#define F_ACTIVITY       0x4826
#define F_SYSENTER_CS    0x482A
#define F_CR0_MASK       0x6000
#define F_CR4_MASK       0x6002
#define F_CR0_SHADOW     0x6004
#define F_CR4_SHADOW     0x6006
#define F_EXIT_QUAL      0x6400
#define F_GUEST_LINEAR   0x640A
#define F_GUEST_CR0      0x6800
#define F_GUEST_CR3      0x6802
#define F_GUEST_CR4      0x6804
#define F_GUEST_ES_BASE  0x6806
#define F_GUEST_GDTR_BASE 0x6816
#define F_GUEST_IDTR_BASE 0x6818
#define F_GUEST_DR7      0x681A
#define F_GUEST_RSP      0x681C
#define F_GUEST_RIP      0x681E
#define F_GUEST_RFLAGS   0x6820
#define F_PENDING_DBG    0x6822
#define F_SYSENTER_ESP   0x6824
#define F_SYSENTER_EIP   0x6826
#define PROC_INTR_WINDOW (1u << 2)
#define PROC_CR3_LOAD    (1u << 15)
#define PROC_CR8_LOAD    (1u << 19)   /* SDM table 25-6: MOV to CR8 exits */
#define PROC_CR8_STORE   (1u << 20)   /* MOV from CR8 exits */
#define PROC_MOV_DR      (1u << 23)   /* MOV to/from DR exits */
#define VAPIC_TPR        0x80         /* TPR in the virtual-APIC page (SDM 30.1.1) */
#define ENTRY_IA32E      (1u << 9)
#define CR4_VMXE         (1ull << 13)
#define CR4_SMXE         (1ull << 14)
#define EFER_LMA         (1ull << 10)
#define EFER_LME         (1ull << 8)
#define EFER_SVME        (1ull << 12)

/* The L2 VMCS fields L1 can reach with TDG.VP.RD/WR, with the bits it may
 * write (0: read-only) and the module's initial value (reference A7: TDP
 * vmcs_lib.rs is_writable_field()/is_readonly_field(), TDXM td_vmcs_init.c). */
struct vmcs_field {
    uint16_t encoding;
    uint64_t writable, initial;
};
#define ALL ~0ull
static const struct vmcs_field vmcs_fields[] = {
    { 0x0800, 0xffff, 0 }, { 0x0802, 0xffff, 0 }, { 0x0804, 0xffff, 0 }, { 0x0806, 0xffff, 0 },
    { 0x0808, 0xffff, 0 }, { 0x080A, 0xffff, 0 }, { 0x080C, 0xffff, 0 }, { 0x080E, 0xffff, 0 },
    { F_VAPIC_ADDR, ALL, NULL_PA },
    { F_GUEST_PHYS, 0, 0 },
    { F_GUEST_DEBUGCTL, ALL, 0 },
    { F_GUEST_PAT, ALL, 0x0007040600070406ull },
    { F_GUEST_EFER, 0x501, 0x901 },       /* TDXM: EFER write mask 0x501, initial 0x901 */
    { F_PIN_CTLS, 0, 0 },
    { F_PROC_CTLS, 0x48F99A04, 0 },
    { F_EXC_BITMAP, 0xFFFBFFFF, 0 },      /* all but #MC */
    { F_EXIT_CTLS, 0, 0 },
    { F_ENTRY_CTLS, 0x200, 0 },
    { F_ENTRY_INTR, 0xffffffff, 0 }, { F_ENTRY_ERR, 0xffffffff, 0 }, { F_ENTRY_LEN, 0xffffffff, 0 },
    { 0x401C, 0xffffffff, 0 },            /* TPR threshold */
    { F_SECONDARY, 0xC513F0C, 0 },
    { F_EXIT_REASON, 0, 0 }, { F_EXIT_INTR, 0, 0 }, { F_EXIT_INTR_ERR, 0, 0 },
    { F_IDT_VEC, 0, 0 }, { F_IDT_VEC_ERR, 0, 0 }, { F_EXIT_LEN, 0, 0 }, { F_EXIT_INSN_INFO, 0, 0 },
    { 0x4800, 0xffffffff, 0xffff }, { 0x4802, 0xffffffff, 0xffff }, { 0x4804, 0xffffffff, 0xffff },
    { 0x4806, 0xffffffff, 0xffff }, { 0x4808, 0xffffffff, 0xffff }, { 0x480A, 0xffffffff, 0xffff },
    { 0x480C, 0xffffffff, 0xffff }, { 0x480E, 0xffffffff, 0xffff },
    { F_GUEST_GDTR_LIMIT, 0xffffffff, 0xffff }, { F_GUEST_IDTR_LIMIT, 0xffffffff, 0xffff },
    { 0x4814, 0xffffffff, 0x93 }, { 0x4816, 0xffffffff, 0x9b }, { 0x4818, 0xffffffff, 0x93 },
    { 0x481A, 0xffffffff, 0x93 }, { 0x481C, 0xffffffff, 0x93 }, { 0x481E, 0xffffffff, 0x93 },
    { 0x4820, 0xffffffff, 0x82 }, { 0x4822, 0xffffffff, 0x8b },
    { F_INTERRUPTIBILITY, 0xffffffff, 0 },
    { F_ACTIVITY, 0, 0 },
    { F_SYSENTER_CS, 0xffffffff, 0 },
    { F_CR0_MASK, ALL, ALL }, { F_CR4_MASK, ALL, ALL },
    { F_CR0_SHADOW, ALL, 0x21 }, { F_CR4_SHADOW, ALL, 0x2040 },
    { F_EXIT_QUAL, 0, 0 }, { F_GUEST_LINEAR, 0, 0 },
    { F_GUEST_CR0, 0x8005001F, 0x21 },
    { F_GUEST_CR3, ALL, 0 },
    { F_GUEST_CR4, 0x3FF1FBF, 0x2040 },
    { 0x6806, ALL, 0 }, { 0x6808, ALL, 0 }, { 0x680A, ALL, 0 }, { 0x680C, ALL, 0 },
    { 0x680E, ALL, 0 }, { 0x6810, ALL, 0 }, { 0x6812, ALL, 0 }, { 0x6814, ALL, 0 },
    { F_GUEST_GDTR_BASE, ALL, 0 }, { F_GUEST_IDTR_BASE, ALL, 0 },
    { F_GUEST_DR7, ALL, 0x400 },
    { F_GUEST_RSP, ALL, 0 }, { F_GUEST_RIP, ALL, 0 }, { F_GUEST_RFLAGS, ALL, 2 },
    { F_PENDING_DBG, ALL, 0 },
    { F_SYSENTER_ESP, ALL, 0 }, { F_SYSENTER_EIP, ALL, 0 },
};
#define NFIELDS (sizeof vmcs_fields / sizeof vmcs_fields[0])

/* TDXM l2_enter_guest_state_t (reference A4). */
struct l2_enter_state {
    uint64_t gpr[16];   /* RAX RCX RDX RBX RSP RBP RSI RDI R8-R15: the host.h R_* order */
    uint64_t rflags, rip, ssp;
    uint16_t interrupt_status;
};
_Static_assert(__builtin_offsetof(struct l2_enter_state, rflags) == 0x80, "buffer RFLAGS");
_Static_assert(__builtin_offsetof(struct l2_enter_state, interrupt_status) == 0x98, "buffer RVI/SVI");

/* One L2 VM (one vCPU: the model gives the TD one vCPU). */
struct l2_vm {
    uint64_t vmcs[NFIELDS];
    uint64_t l2_ctls;
    uint64_t *msr_bitmap;     /* VMX layout: read low/high, write low/high */
    uint64_t *npt;
    struct guest g;
    bool flush;
    bool nmi_blocked;         /* interruptibility bit 3: an NMI's handler runs until its IRET */
    bool lme_hidden;          /* EFER.LME kept out of the VMCB while paging is off (l2_vmcb_load) */
    uint64_t last_eventinj;   /* what the last VMRUN was to inject (trace-entries) */
    uint64_t dr[7];           /* DR0-3 and DR6 without MOV-DR exiting (l2_dr_access) */
};

/* Per tracked 4 KiB page of L1 RAM. */
#define PAGE_PENDING 1u   /* private but not accepted (after MapGPA to private) */
#define PAGE_SHARED  2u   /* converted to shared with MapGPA */
#define TRACK_PAGES  (1u << 20)   /* 4 GiB, host.c TRACK_MAX */
static uint8_t page_state[TRACK_PAGES];
/* GPA attributes of VM 1..3 (index vm - 1), one byte each: bits 6:0 as
 * in the u16 form, bit 7 = Valid (bit 15); the only bits L1 may set. */
static uint8_t page_attr8[NUM_L2_VMS][TRACK_PAGES];

static uint16_t attr_get(unsigned vm, uint64_t gpa)
{
    uint8_t b = page_attr8[vm - 1][gpa / PAGE_SIZE];
    return (uint16_t)((b & 0x7f) | ((b & 0x80) ? ATTR_VALID : 0));
}

static void attr_set(unsigned vm, uint64_t gpa, uint16_t a)
{
    page_attr8[vm - 1][gpa / PAGE_SIZE] = (uint8_t)((a & 0x7f) | ((a & ATTR_VALID) ? 0x80 : 0));
}
static struct l2_vm l2[NUM_L2_VMS + 1];
static uint64_t notify_enables;
static uint8_t l2_iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t l2_msrpm[2 * 4096] __attribute__((aligned(4096)));

/* ---- Memory: acceptance, conversion, L2 aliases -------------------------- */

/* Is gpa a page of L1's private, tracked RAM (no shared bit, not the model)? */
static bool private_page(uint64_t gpa)
{
    return !(gpa & SHARED_BIT) && gpa < l1_track_top && host_l1_owns(gpa, PAGE_SIZE);
}

/* L2 NPT leaf from a GPA attribute: R/W/X -> present/writable/executable;
 * identity GPA -> HPA (reference §0: L2 GPA == L1 GPA). */
static void l2_alias_update(unsigned vm, uint64_t gpa)
{
    uint16_t a = attr_get(vm, gpa);
    uint64_t pte = 0;
    if ((a & ATTR_VALID) && (a & ATTR_R))
        pte = gpa | NPT_P | NPT_U | ((a & ATTR_W) ? NPT_W : 0) |
              ((a & (ATTR_XS | ATTR_XU)) ? 0 : NPT_NX);
    host_npt_set(l2[vm].npt, gpa, pte);
    l2[vm].flush = true;
}

/* L1's private view of a page: present once accepted. */
static void l1_private_update(uint64_t gpa)
{
    uint8_t s = page_state[gpa / PAGE_SIZE];
    host_npt_set(host_l1_npt(), gpa, s ? 0 : gpa | NPT_P | NPT_W | NPT_U);
    l1.vmcb->tlb_control = 1;
}

/* The private page goes away (converted, or back to pending): so do its L2
 * aliases (TDXM removes L2 Secure-EPT leaves with the L1 page). */
static void page_drop_private(uint64_t gpa, uint8_t new_state)
{
    page_state[gpa / PAGE_SIZE] = new_state;
    l1_private_update(gpa);
    for (unsigned vm = 1; vm <= NUM_L2_VMS; vm++) {
        attr_set(vm, gpa, 0);
        l2_alias_update(vm, gpa);
    }
}

/* TDG.MEM.PAGE.ACCEPT: RCX = GPA | level (0 = 4 KiB, 1 = 2 MiB). Accepting
 * zeroes the page. */
static uint64_t tdx_accept(void)
{
    uint64_t rcx = l1.gpr[R_CX];
    unsigned level = rcx & 7;
    uint64_t gpa = rcx & ~0xfffull, size = level == 0 ? PAGE_SIZE : 512 * PAGE_SIZE;
    if (level > 1 || (gpa & (size - 1)) || !private_page(gpa) || !private_page(gpa + size - 1))
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    for (uint64_t p = gpa; p < gpa + size; p += PAGE_SIZE)
        if (page_state[p / PAGE_SIZE] == 0)
            return TDX_PAGE_ALREADY_ACCEPTED | level;
    for (uint64_t p = gpa; p < gpa + size; p += PAGE_SIZE) {
        if (page_state[p / PAGE_SIZE] & PAGE_SHARED)
            host_printf("tdxmodel: ACCEPT of shared page 0x%lx: converted implicitly\n", p);
        host_memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
        page_state[p / PAGE_SIZE] = 0;
        l1_private_update(p);
    }
    return TDX_SUCCESS;
}

static uint64_t attrs_of(uint64_t gpa)
{
    uint64_t r = 0;
    for (unsigned vm = 1; vm <= NUM_L2_VMS; vm++)
        r |= (uint64_t)attr_get(vm, gpa) << (16 * vm);
    return r;
}

/* TDG.MEM.PAGE.ATTR.RD: RCX = GPA -> RCX = GPA mapping (level 0, bit 62
 * pending), RDX = the four attribute words (reference A3). */
static uint64_t tdx_attr_rd(void)
{
    uint64_t gpa = l1.gpr[R_CX] & ~0xfffull;
    if (!private_page(gpa))
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    l1.gpr[R_CX] = gpa | ((page_state[gpa / PAGE_SIZE] & PAGE_PENDING) ? 1ull << 62 : 0);
    l1.gpr[R_DX] = attrs_of(gpa);
    return TDX_SUCCESS;
}

/* TDG.MEM.PAGE.ATTR.WR: RCX = GPA | level, RDX = 4 x u16 attributes, R8 =
 * 4 x u16 flags (mask 14:0, INVEPT 15).  Input checks of reference A6
 * (TDXM tdg_mem_page_attr_wr()); a zero slot leaves that VM unchanged. */
static uint64_t tdx_attr_wr(void)
{
    uint64_t rcx = l1.gpr[R_CX], rdx = l1.gpr[R_DX], r8 = l1.gpr[R_8];
    uint64_t gpa = rcx & ~0xfffull;
    if ((rcx & 0xff8) || (rcx & 7) != 0 || !private_page(gpa))
        return (rcx & 7) ? TDX_PAGE_SIZE_MISMATCH : TDX_OPERAND_INVALID | OPERAND_RCX;
    if ((rdx & 0xffff) || (r8 & 0xffff))
        return TDX_OPERAND_INVALID | OPERAND_RDX;
    for (unsigned vm = 1; vm <= 3; vm++) {
        uint16_t a = (uint16_t)(rdx >> (16 * vm));
        if (vm > NUM_L2_VMS && a)
            return TDX_OPERAND_INVALID | OPERAND_RDX;
        if (a && (!(a & ATTR_VALID) || (a & ~ATTR_L1_MASK)))
            return TDX_OPERAND_INVALID | OPERAND_RDX;
        if ((a & ATTR_W) && !(a & ATTR_R))   /* write-only: an EPT misconfiguration */
            return TDX_PAGE_ATTR_INVALID;
    }
    if (page_state[gpa / PAGE_SIZE])
        return TDX_EPT_ENTRY_STATE_INCORRECT;
    for (unsigned vm = 1; vm <= NUM_L2_VMS; vm++) {
        uint16_t a = (uint16_t)(rdx >> (16 * vm)), flags = (uint16_t)(r8 >> (16 * vm));
        if (!a)
            continue;
        uint16_t mask = (flags & 0x7fff) | ATTR_VALID;
        attr_set(vm, gpa, (uint16_t)((attr_get(vm, gpa) & ~mask) | (a & mask)));
        l2_alias_update(vm, gpa);
        if (flags & 0x8000)
            l2[vm].flush = true;
    }
    l1.gpr[R_CX] = gpa;
    l1.gpr[R_DX] = attrs_of(gpa);
    return TDX_SUCCESS;
}

/* ---- TDG.VP.VMCALL (GHCI) ------------------------------------------------- */

static uint64_t vmcall_map_gpa(void)
{
    uint64_t start = l1.gpr[R_12], size = l1.gpr[R_13];
    bool shared = start & SHARED_BIT;
    uint64_t gpa = start & ~SHARED_BIT;
    if ((gpa | size) & (PAGE_SIZE - 1))
        return VMCALL_ALIGN_ERROR;
    if (size == 0 || gpa + size < gpa || gpa + size > l1_track_top || !host_l1_owns(gpa, size))
        return VMCALL_INVALID_OPERAND;
    for (uint64_t p = gpa; p < gpa + size; p += PAGE_SIZE)
        page_drop_private(p, shared ? PAGE_SHARED : PAGE_PENDING);
    return VMCALL_SUCCESS;
}

/* ReportFatalError: R12 error code; with R12 bit 63 a 64-byte message in
 * R14, R15, RBX, RDI, RSI, R8, R9, RDX (QEMU tdx_handle_report_fatal_error()). */
static _Noreturn void vmcall_fatal(void)
{
    static const unsigned order[] = { R_14, R_15, R_BX, R_DI, R_SI, R_8, R_9, R_DX };
    char msg[65];
    for (unsigned i = 0; i < 8; i++)
        host_memcpy(msg + 8 * i, &l1.gpr[order[i]], 8);
    msg[64] = 0;
    host_printf("tdxmodel: L1 reported a fatal error: code 0x%lx, message \"%s\"\n", l1.gpr[R_12],
                (l1.gpr[R_12] & (1ull << 63)) ? msg : "");
    host_stop(MODEL_STATUS_FATAL);
}

static void tdx_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4]);
static bool x2apic_msr(uint32_t msr, bool write, uint64_t *value);

static uint64_t tdx_vmcall(void)
{
    uint64_t *status = &l1.gpr[R_10], *result = &l1.gpr[R_11];
    uint64_t fn = l1.gpr[R_11];
    if (l1.gpr[R_10] != 0) {   /* only the GHCI standard sub-functions */
        *status = VMCALL_INVALID_OPERAND;
        return TDX_SUCCESS;
    }
    *status = VMCALL_SUCCESS;
    switch (fn) {
    case VMCALL_CPUID: {
        uint32_t r[4];
        host_cpuid((uint32_t)l1.gpr[R_12], (uint32_t)l1.gpr[R_13], r);
        if (l1.gpr[R_12] == 0x80000001u)
            r[2] &= ~(1u << 2);
        tdx_cpuid((uint32_t)l1.gpr[R_12], (uint32_t)l1.gpr[R_13], r);
        l1.gpr[R_12] = r[0];
        l1.gpr[R_13] = r[1];
        l1.gpr[R_14] = r[2];
        l1.gpr[R_15] = r[3];
        break;
    }
    case VMCALL_HLT:
        host_wait_for_interrupt();
        break;
    case VMCALL_IO: {
        uint64_t size = l1.gpr[R_12], write = l1.gpr[R_13], port = l1.gpr[R_14];
        if ((size != 1 && size != 2 && size != 4) || write > 1 || port > 0xffff) {
            *status = VMCALL_INVALID_OPERAND;
            break;
        }
        if (write)
            host_out((uint16_t)port, (unsigned)size, (uint32_t)l1.gpr[R_15]);
        else
            *result = host_in((uint16_t)port, (unsigned)size);
        break;
    }
    case VMCALL_RDMSR:
        if (!x2apic_msr((uint32_t)l1.gpr[R_12], false, result))
            *result = host_rdmsr((uint32_t)l1.gpr[R_12]);
        break;
    case VMCALL_WRMSR:
        if (!x2apic_msr((uint32_t)l1.gpr[R_12], true, &l1.gpr[R_13]))
            host_wrmsr((uint32_t)l1.gpr[R_12], l1.gpr[R_13]);
        break;
    case VMCALL_MMIO: {
        uint64_t size = l1.gpr[R_12], write = l1.gpr[R_13], gpa = l1.gpr[R_14] & ~SHARED_BIT;
        if ((size != 1 && size != 2 && size != 4 && size != 8) || write > 1 ||
            gpa + size > (4ull << 30) || (gpa & (size - 1))) {
            *status = VMCALL_INVALID_OPERAND;
            break;
        }
        volatile void *p = (volatile void *)(uintptr_t)gpa;
        uint64_t v = l1.gpr[R_15];
        if (size == 1) { if (write) *(volatile uint8_t *)p = (uint8_t)v; else *result = *(volatile uint8_t *)p; }
        if (size == 2) { if (write) *(volatile uint16_t *)p = (uint16_t)v; else *result = *(volatile uint16_t *)p; }
        if (size == 4) { if (write) *(volatile uint32_t *)p = (uint32_t)v; else *result = *(volatile uint32_t *)p; }
        if (size == 8) { if (write) *(volatile uint64_t *)p = v; else *result = *(volatile uint64_t *)p; }
        break;
    }
    case VMCALL_MAP_GPA:
        *status = vmcall_map_gpa();
        break;
    case VMCALL_FATAL:
        vmcall_fatal();
    default:
        *status = VMCALL_INVALID_OPERAND;
    }
    return TDX_SUCCESS;
}

/* ---- Metadata: TDG.VM.RD/WR, TDG.VP.RD/WR --------------------------------- */

static uint64_t tdx_vm_rdwr(bool write)
{
    uint64_t id = l1.gpr[R_DX] & ~MD_WRITE_MASK_VALID;
    uint64_t *value;
    uint64_t writable;
    uint64_t num = NUM_L2_VMS;
    if (id == MD_TDCS_NUM_L2_VMS) {
        value = &num;
        writable = 0;
    } else if (id == MD_TDCS_NOTIFY_ENABLES) {
        value = &notify_enables;
        writable = 1;   /* bit 0: notify on zero-step attack suspicion */
    } else {
        return TDX_METADATA_FIELD_ID_INCORRECT;
    }
    uint64_t old = *value;
    if (write) {
        uint64_t mask = l1.gpr[R_9] & writable;
        if (!mask)
            return TDX_METADATA_FIELD_NOT_WRITABLE;
        *value = (old & ~mask) | (l1.gpr[R_8] & mask);
    }
    l1.gpr[R_8] = old;
    if (!write)
        l1.gpr[R_DX] = ~0ull;   /* no next field: the model does not enumerate */
    return TDX_SUCCESS;
}

static int vmcs_index(uint32_t encoding)
{
    for (unsigned i = 0; i < NFIELDS; i++)
        if (vmcs_fields[i].encoding == encoding)
            return (int)i;
    return -1;
}

static uint64_t *vmcs(unsigned vm, uint32_t encoding)
{
    return &l2[vm].vmcs[vmcs_index(encoding)];
}

/* Field id (reference A7, TDXM md_field_id_t): code 23:0, element size
 * 33:32, write_mask_valid 51, context 54:52 (2 = VP), class 61:56. */
static uint64_t tdx_vp_rdwr(bool write)
{
    if (l1.gpr[R_CX] != 0)
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    uint64_t id = l1.gpr[R_DX] & ~MD_WRITE_MASK_VALID;
    uint32_t code = id & 0xffffff;
    unsigned size = (id >> 32) & 3, context = (id >> 52) & 7, cls = (id >> 56) & 0x3f;
    uint64_t *value, writable;
    if (id >= MD_TDVPS_L2_CTLS + 1 && id <= MD_TDVPS_L2_CTLS + NUM_L2_VMS) {
        value = &l2[id - MD_TDVPS_L2_CTLS].l2_ctls;
        writable = 3;   /* enable_shared_eptp, enable_tdvmcall */
    } else if (context != 2 || (id & MD_RESERVED)) {
        return TDX_METADATA_FIELD_ID_INCORRECT;
    } else if (cls == 36 || cls == 44 || cls == 52) {   /* L2 VMCS of VM 1/2/3 */
        unsigned vm = (cls - 28) / 8;
        static const unsigned width_size[4] = { 1, 3, 2, 3 };   /* SDM: 16, 64, 32, natural */
        int i = vmcs_index(code);
        if (vm > NUM_L2_VMS || i < 0 || size != width_size[(code >> 13) & 3])
            return TDX_METADATA_FIELD_ID_INCORRECT;
        value = &l2[vm].vmcs[i];
        writable = vmcs_fields[i].writable;
    } else if (cls == 37 || cls == 45 || cls == 53) {   /* L2 MSR bitmaps */
        unsigned vm = (cls - 29) / 8;
        if (vm > NUM_L2_VMS || code >= 512 || size != 3)
            return TDX_METADATA_FIELD_ID_INCORRECT;
        value = &l2[vm].msr_bitmap[code];
        writable = ALL;
    } else {
        return TDX_METADATA_FIELD_ID_INCORRECT;
    }
    uint64_t old = *value;
    if (write) {
        uint64_t req = l1.gpr[R_9], mask = req & writable;
        if (!mask)
            return TDX_METADATA_FIELD_NOT_WRITABLE;
        if ((old ^ l1.gpr[R_8]) & req & ~writable)   /* TDXM md_check_forbidden_bits_unchanged() */
            return TDX_METADATA_FIELD_VALUE_NOT_VALID;
        *value = (old & ~mask) | (l1.gpr[R_8] & mask);
    } else {
        l1.gpr[R_DX] = ~0ull;   /* no next field: the model does not enumerate */
    }
    l1.gpr[R_8] = old;
    return TDX_SUCCESS;
}

/* ---- TDG.VP.ENTER ------------------------------------------------------------- */

/* VMX access rights <-> SVM attributes (reference A7): bits 11:8 of the
 * SVM form are bits 15:12 of VMX; VMX bit 16 = unusable. */
static uint16_t ar_to_attr(uint64_t ar)
{
    if (ar & (1u << 16))
        return 0;
    return (uint16_t)((ar & 0xff) | ((ar >> 4) & 0xf00));
}

static uint64_t attr_to_ar(uint16_t a)
{
    uint64_t ar = (a & 0xff) | ((uint64_t)(a & 0xf00) << 4);
    return (a & 0x80) ? ar : ar | (1u << 16);
}

/* VMX order of the guest segment fields: ES CS SS DS FS GS LDTR TR. */
static struct vmcb_seg *vmcb_seg_vmx(struct vmcb *v, unsigned i)
{
    struct vmcb_seg *segs[8] = { &v->es, &v->cs, &v->ss, &v->ds, &v->fs, &v->gs, &v->ldtr, &v->tr };
    return segs[i];
}

static void l2_vmcb_load(unsigned vm, const struct l2_enter_state *st)
{
    struct l2_vm *x = &l2[vm];
    struct vmcb *v = x->g.vmcb;
    for (unsigned i = 0; i < 8; i++) {
        struct vmcb_seg *s = vmcb_seg_vmx(v, i);
        s->sel = (uint16_t)*vmcs(vm, F_GUEST_ES_SEL + 2 * i);
        s->limit = (uint32_t)*vmcs(vm, F_GUEST_ES_LIMIT + 2 * i);
        s->attr = ar_to_attr(*vmcs(vm, F_GUEST_ES_AR + 2 * i));
        s->base = *vmcs(vm, F_GUEST_ES_BASE + 2 * i);
    }
    /* VMX wants TR busy; QEMU 7.2 aborts ("invalid tss type") on a ring
     * transition with a busy TR cached, so SVM gets it available (as
     * Copra's svm backend does) and l2_vmcb_store() sets busy again. */
    v->tr.attr &= (uint16_t)~2u;
    v->gdtr = (struct vmcb_seg){ .limit = (uint32_t)*vmcs(vm, F_GUEST_GDTR_LIMIT),
                                 .base = *vmcs(vm, F_GUEST_GDTR_BASE) };
    v->idtr = (struct vmcb_seg){ .limit = (uint32_t)*vmcs(vm, F_GUEST_IDTR_LIMIT),
                                 .base = *vmcs(vm, F_GUEST_IDTR_BASE) };
    v->cpl = (uint8_t)((v->ss.attr >> 5) & 3);
    v->cr0 = *vmcs(vm, F_GUEST_CR0);
    v->cr3 = *vmcs(vm, F_GUEST_CR3);
    v->cr4 = *vmcs(vm, F_GUEST_CR4) & ~(CR4_VMXE | CR4_SMXE);   /* VMX-only bits */
    v->efer = (*vmcs(vm, F_GUEST_EFER) & ~EFER_LMA) | EFER_SVME |
              ((*vmcs(vm, F_ENTRY_CTLS) & ENTRY_IA32E) ? EFER_LMA : 0);
    /* QEMU 7.2's #VMEXIT reloads the host's CR0 while the guest's EFER is
     * still loaded: with LME set and paging off it keeps the guest's CR0,
     * and the model ran on with paging off (README.md, the svm backend's
     * lme_hidden).  LME waits outside the VMCB until paging goes on. */
    x->lme_hidden = (v->efer & EFER_LME) && !(v->cr0 & (1ull << 31));
    if (x->lme_hidden)
        v->efer &= ~EFER_LME;
    v->dr7 = 0x400;   /* the L2's DR7 stays in the VMCS field: no breakpoint reaches QEMU */
    v->dr6 = 0xffff0ff0;
    v->g_pat = *vmcs(vm, F_GUEST_PAT);
    v->sysenter_cs = *vmcs(vm, F_SYSENTER_CS);
    v->sysenter_esp = *vmcs(vm, F_SYSENTER_ESP);
    v->sysenter_eip = *vmcs(vm, F_SYSENTER_EIP);
    v->int_state = (*vmcs(vm, F_INTERRUPTIBILITY) & 3) ? 1 : 0;
    v->rip = st->rip;
    v->rsp = st->gpr[R_SP];
    v->rflags = st->rflags;
    v->rax = st->gpr[R_AX];
    host_memcpy(x->g.gpr, st->gpr, sizeof x->g.gpr);
    /* Not switched by the module between L1 and L2 (reference A7): the
     * syscall MSRs, KERNEL_GS_BASE and CR2 are whatever L1 left there. */
    v->star = l1.vmcb->star;
    v->lstar = l1.vmcb->lstar;
    v->cstar = l1.vmcb->cstar;
    v->sfmask = l1.vmcb->sfmask;
    v->kernel_gs_base = l1.vmcb->kernel_gs_base;
    v->cr2 = l1.vmcb->cr2;

    /* What TDX routes to L1 (reference A5), as SVM intercepts; L1's
     * exception bitmap (without #MC); #UD always, for TDCALL from L2. */
    v->exc_intercepts = (uint32_t)(*vmcs(vm, F_EXC_BITMAP) & ~(1u << 18)) | (1u << 6);
    v->misc1 = MISC1_INTR | MISC1_CPUID | MISC1_INVD | MISC1_HLT | MISC1_IOIO | MISC1_MSR |
               MISC1_SHUTDOWN;
    v->misc2 = MISC2_VMRUN | MISC2_VMMCALL | MISC2_SVM_INSNS | MISC2_WBINVD | MISC2_XSETBV;
    /* CR0/CR4 accesses while L1 owns bits (guest/host masks), CR3 loads
     * with CR3-load exiting: l2_cr_access(). */
    v->cr_intercepts = (*vmcs(vm, F_CR0_MASK) ? 1u << 0 | 1u << 16 : 0) |
                       (*vmcs(vm, F_CR4_MASK) ? 1u << 4 | 1u << 20 : 0) |
                       ((*vmcs(vm, F_PROC_CTLS) & PROC_CR3_LOAD) ? 1u << 19 : 0) |
                       1u << 8 | 1u << 24;   /* CR8 always: l2_cr8() */
    v->dr_intercepts = 0xffffffffu;   /* every MOV DR: l2_dr_access() */
    v->int_ctl = INT_CTL_V_INTR_MASKING;
    if (*vmcs(vm, F_PROC_CTLS) & PROC_INTR_WINDOW) {
        v->misc1 |= MISC1_VINTR;
        v->int_ctl |= INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR;
    }
    /* VM-entry interruption information -> EVENTINJ (same vector/type/
     * error-valid/valid bits, reference A8); software events (VMX types
     * 4-6) return past their instruction. */
    uint64_t info = *vmcs(vm, F_ENTRY_INTR);
    v->eventinj = 0;
    if (info & (1u << 31)) {
        unsigned type = (info >> 8) & 7;
        if (type >= 4) {
            v->rip += *vmcs(vm, F_ENTRY_LEN);
            type = type == 4 ? 4 : 3;
        }
        v->eventinj = (info & 0x8ff) | (type << 8) | EVENTINJ_VALID |
                      (info & (1u << 11) ? *vmcs(vm, F_ENTRY_ERR) << 32 : 0);
        *vmcs(vm, F_ENTRY_INTR) = info & ~(1ull << 31);   /* consumed by the entry */
    }
    /* Virtual NMIs (the module's pin-based controls): blocked from the
     * NMI's delivery to the guest's next IRET (SDM vol. 3 §25.3), which
     * SVM does not report: the IRET is intercepted instead, as KVM does. */
    x->nmi_blocked = (*vmcs(vm, F_INTERRUPTIBILITY) & 8) || (v->eventinj & 0x700) == 0x200;
    if (x->nmi_blocked)
        v->misc1 |= MISC1_IRET;
    v->tlb_control = x->flush ? 1 : 0;
    x->flush = false;
}

/* The L2 state after an exit back into the VMCS fields L1 reads. */
static void l2_vmcb_store(unsigned vm, struct l2_enter_state *st)
{
    struct l2_vm *x = &l2[vm];
    struct vmcb *v = x->g.vmcb;
    for (unsigned i = 0; i < 8; i++) {
        struct vmcb_seg *s = vmcb_seg_vmx(v, i);
        *vmcs(vm, F_GUEST_ES_SEL + 2 * i) = s->sel;
        *vmcs(vm, F_GUEST_ES_LIMIT + 2 * i) = s->limit;
        *vmcs(vm, F_GUEST_ES_AR + 2 * i) = attr_to_ar(s->attr);
        *vmcs(vm, F_GUEST_ES_BASE + 2 * i) = s->base;
    }
    if (v->tr.attr & 0x80)
        *vmcs(vm, F_GUEST_ES_AR + 2 * 7) |= 2;   /* TR busy, as l2_vmcb_load() found it */
    *vmcs(vm, F_GUEST_GDTR_LIMIT) = v->gdtr.limit;
    *vmcs(vm, F_GUEST_GDTR_BASE) = v->gdtr.base;
    *vmcs(vm, F_GUEST_IDTR_LIMIT) = v->idtr.limit;
    *vmcs(vm, F_GUEST_IDTR_BASE) = v->idtr.base;
    *vmcs(vm, F_GUEST_CR0) = v->cr0;
    *vmcs(vm, F_GUEST_CR3) = v->cr3;
    *vmcs(vm, F_GUEST_CR4) = v->cr4 | (*vmcs(vm, F_GUEST_CR4) & (CR4_VMXE | CR4_SMXE));
    *vmcs(vm, F_GUEST_EFER) = (v->efer & ~EFER_SVME) | (x->lme_hidden ? EFER_LME : 0);
    *vmcs(vm, F_GUEST_PAT) = v->g_pat;
    *vmcs(vm, F_SYSENTER_CS) = v->sysenter_cs;
    *vmcs(vm, F_SYSENTER_ESP) = v->sysenter_esp;
    *vmcs(vm, F_SYSENTER_EIP) = v->sysenter_eip;
    *vmcs(vm, F_INTERRUPTIBILITY) = (v->int_state & 1) | (x->nmi_blocked ? 8 : 0);
    *vmcs(vm, F_GUEST_RIP) = v->rip;
    *vmcs(vm, F_GUEST_RSP) = v->rsp;
    *vmcs(vm, F_GUEST_RFLAGS) = v->rflags;
    host_memcpy(st->gpr, x->g.gpr, sizeof st->gpr);
    st->gpr[R_AX] = v->rax;
    st->gpr[R_SP] = v->rsp;
    st->rip = v->rip;
    st->rflags = v->rflags;
    st->ssp = 0;
    l1.vmcb->star = v->star;
    l1.vmcb->lstar = v->lstar;
    l1.vmcb->cstar = v->cstar;
    l1.vmcb->sfmask = v->sfmask;
    l1.vmcb->kernel_gs_base = v->kernel_gs_base;
    l1.vmcb->cr2 = v->cr2;
}

/* `-append trace-entries` (the model's command line): say why an L2 entry failed. */
static bool trace_entries;

/* Read up to n instruction bytes at the guest's CS:RIP (0 on failure). */
static unsigned guest_fetch(const struct vmcb *v, uint8_t *bytes, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa;
        if (!host_translate(v, v->rip + i, &gpa) || !host_l1_owns(gpa, 1))
            return i;
        bytes[i] = *(volatile uint8_t *)(uintptr_t)gpa;
    }
    return n;
}

static bool is_tdcall(const uint8_t b[4])
{
    return b[0] == 0x66 && b[1] == 0x0f && b[2] == 0x01 && b[3] == 0xcc;
}

struct vmx_exit {
    uint64_t status;   /* class, RAX 63:32 */
    uint32_t reason;
    uint64_t qual, gpa, intr_info, idt_info, insn_info, eeq;
    uint32_t len;
};

/*
 * An intercepted CR access of L2 (SDM vol. 3 §25.1.3 and §26.3 for what
 * VMX does with the guest/host masks and read shadows).  TCG has no decode
 * assists, so the instruction is decoded here: MOV from/to CR ([REX] 0F
 * 20/22 /r, register form) and CLTS (0F 06).  Reads return the shadow's
 * bits where L1 owns them; a write that changes an owned bit against the
 * shadow, and any CR3 load with CR3-load exiting, exits to L1 (reason 28,
 * qualification: CR 3:0, access type 5:4, GPR 11:8); other writes are
 * applied to the bits L2 owns; LMSW in l2_lmsw().  Not modelled: the
 * module's own #GP for illegal values.
 */
/* The length of a ModRM operand's bytes from the ModRM byte on (SDM vol. 2
 * §2.1.5: SIB, displacement), for 16-bit addressing or 32/64-bit. */
static unsigned modrm_len(const uint8_t *m, unsigned avail, bool addr16)
{
    unsigned mod = m[0] >> 6, rm = m[0] & 7;
    if (mod == 3)
        return 1;
    if (addr16)
        return 1 + (mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0);
    unsigned len = 1;
    if (rm == 4) {   /* SIB; base 5 with mod 0 takes a disp32 */
        if (avail < 2)
            return 0;
        if (mod == 0 && (m[1] & 7) == 5)
            len += 4;
        len++;
    }
    return len + (mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 5) ? 4 : 0);
}

/*
 * LMSW (0F 01 /6) with CR0 bits L1 owns (SDM vol. 3 §25.1.3): it exits if
 * it would set PE against a clear shadow or change MP, EM or TS against
 * the shadow; else it writes bits 3:0 L2 owns (and cannot clear PE).
 * Qualification: type 3, bit 6 memory operand, source data 31:16.  A
 * memory operand always exits here (the model does not compute its
 * address; L1 decodes the instruction itself either way).
 */
static bool l2_lmsw(struct l2_vm *x, const uint8_t *b, unsigned n, unsigned k, unsigned rex, uint64_t mask,
                    uint64_t shadow, struct vmx_exit *e)
{
    struct vmcb *v = x->g.vmcb;
    bool mem = (b[k + 2] >> 6) != 3, addr16 = !(v->cs.attr & (1u << 9)) && !(v->cs.attr & (1u << 10));
    bool a67 = false;   /* an address-size prefix flips 16 and 32 bits (64-bit code: 64 and 32) */
    for (unsigned i = 0; i < k; i++)
        a67 |= b[i] == 0x67;
    if (!(v->cs.attr & (1u << 9)))
        addr16 ^= a67;
    unsigned len = k + 2 + modrm_len(b + k + 2, n - k - 2, addr16);
    unsigned gpr = (b[k + 2] & 7) | ((rex & 1) ? 8 : 0);
    uint16_t src = mem ? 0 : (uint16_t)(gpr == R_AX ? v->rax : gpr == R_SP ? v->rsp : x->g.gpr[gpr]);
    if (mem || ((mask & 1) && (src & 1) && !(shadow & 1)) || ((src ^ shadow) & mask & 0xE)) {
        e->reason = VMX_CR_ACCESS;
        e->qual = 3u << 4 | (mem ? 1u << 6 : 0) | (uint64_t)src << 16;
        e->len = len;
        return false;
    }
    uint64_t own = 0xF & ~mask;
    v->cr0 = (v->cr0 & ~own) | (src & own) | (v->cr0 & 1);
    v->rip += len;
    return true;
}

/*
 * MOV to/from CR8 with the TPR shadow (SDM vol. 3 §30.3): with CR8-load
 * (store) exiting it exits (qualification CR 8, type 0 to / 1 from, GPR
 * 11:8), else it reaches the virtual-APIC page's TPR 7:4.  Intercepted
 * always: the L2's own V_TPR is not the VMX TPR, and QEMU 7.2's MOV to
 * CR8 under V_INTR_MASKING calls cpu_interrupt() without the BQL and
 * aborts.  Not modelled: the TPR threshold.
 */
static bool l2_cr8(unsigned vm, bool write, unsigned gpr, unsigned len, struct vmx_exit *e)
{
    struct l2_vm *x = &l2[vm];
    struct vmcb *v = x->g.vmcb;
    uint64_t *r = gpr == R_AX ? &v->rax : gpr == R_SP ? &v->rsp : &x->g.gpr[gpr];
    uint64_t page = *vmcs(vm, F_VAPIC_ADDR);
    uint32_t *tpr = host_l1_owns(page, PAGE_SIZE) ? (uint32_t *)(uintptr_t)(page + VAPIC_TPR) : NULL;
    if ((*vmcs(vm, F_PROC_CTLS) & (write ? PROC_CR8_LOAD : PROC_CR8_STORE)) || !tpr) {
        e->reason = VMX_CR_ACCESS;
        e->qual = 8u | (write ? 0 : 1u << 4) | gpr << 8;
        e->len = len;
        return false;
    }
    if (write)
        *tpr = (uint32_t)(*r & 0xF) << 4;
    else
        *r = (*tpr >> 4) & 0xF;
    v->rip += len;
    return true;
}

/* Skips legacy prefixes and, in 64-bit code, a REX prefix (the last
 * one before the opcode counts); returns the opcode's offset. */
static unsigned skip_prefixes(const struct vmcb *v, const uint8_t *b, unsigned n, unsigned *rex)
{
    static const uint8_t legacy[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
    bool code64 = (v->efer & EFER_LMA) && (v->cs.attr & (1u << 9));
    unsigned k = 0;
    *rex = 0;
    while (k < n) {
        bool is_legacy = false;
        for (unsigned i = 0; i < sizeof legacy; i++)
            is_legacy |= b[k] == legacy[i];
        if (code64 && (b[k] & 0xf0) == 0x40)
            *rex = b[k];
        else if (is_legacy)
            *rex = 0;
        else
            break;
        k++;
    }
    return k;
}

/*
 * MOV to/from DR0-7 (0F 23 / 0F 21, register operand): with MOV-DR exiting
 * it exits (SDM table 28-4: DR 2:0, bit 4 = from DR, GPR 11:8); without,
 * the L2's own debug registers (shadows in the model: they never reach
 * QEMU's, where an L2 breakpoint would trap the model or L1 itself;
 * breakpoints do not fire, DR6 and DR7 keep their fixed bits).
 */
static bool l2_dr_access(unsigned vm, uint32_t code, struct vmx_exit *e)
{
    struct l2_vm *x = &l2[vm];
    struct vmcb *v = x->g.vmcb;
    uint8_t b[15] = { 0 };
    unsigned rex, n = guest_fetch(v, b, sizeof b), k = skip_prefixes(v, b, n, &rex);
    if (n < k + 3 || b[k] != 0x0f || (b[k + 1] != 0x21 && b[k + 1] != 0x23)) {
        host_printf("tdxmodel: L2 DR access at %x:0x%lx: form not modelled\n", v->cs.sel, v->rip);
        host_stop(MODEL_STATUS_ERROR);
    }
    unsigned dr = code & 7, gpr = (b[k + 2] & 7) | ((rex & 1) ? 8 : 0), len = k + 3;
    bool write = code >= 0x30;
    if (*vmcs(vm, F_PROC_CTLS) & PROC_MOV_DR) {
        e->reason = VMX_DR_ACCESS;
        e->qual = dr | (write ? 0 : 1u << 4) | gpr << 8;
        e->len = len;
        return false;
    }
    uint64_t *r = gpr == R_AX ? &v->rax : gpr == R_SP ? &v->rsp : &x->g.gpr[gpr];
    bool dr7 = dr == 7 || dr == 5;   /* DR4/DR5 alias DR6/DR7 (CR4.DE = 0) */
    uint64_t *d = dr7 ? vmcs(vm, F_GUEST_DR7) : &x->dr[dr < 4 ? dr : 6];
    if (write)
        *d = dr7 ? (*r & ~0x2000ull) | 0x400 : dr >= 4 ? (*r | 0xffff0ff0ull) & 0xffffffffull : *r;
    else
        *r = *d;
    v->rip += len;
    return true;
}

static bool l2_cr_access(unsigned vm, uint32_t code, struct vmx_exit *e)
{
    struct l2_vm *x = &l2[vm];
    struct vmcb *v = x->g.vmcb;
    unsigned cr = code & 0xf, rex;
    bool write = code >= 0x10;
    uint8_t b[15] = { 0 };
    /* (LOCK MOV CR0 is CR8 outside long mode, AMD AltMovCr8: the exit code says so) */
    unsigned n = guest_fetch(v, b, sizeof b), k = skip_prefixes(v, b, n, &rex);
    bool p66 = false;   /* operand size (SMSW) */
    for (unsigned i = 0; i < k; i++)
        p66 |= b[i] == 0x66;
    uint64_t mask = cr == 0 ? *vmcs(vm, F_CR0_MASK) : cr == 4 ? *vmcs(vm, F_CR4_MASK) : ALL;
    uint64_t shadow = cr == 0 ? *vmcs(vm, F_CR0_SHADOW) : cr == 4 ? *vmcs(vm, F_CR4_SHADOW) : 0;
    uint64_t *real = cr == 0 ? &v->cr0 : cr == 4 ? &v->cr4 : &v->cr3;
    if (cr == 0 && write && n >= k + 2 && b[k] == 0x0f && b[k + 1] == 0x06) {   /* CLTS */
        if (mask & shadow & 8) {
            e->reason = VMX_CR_ACCESS;
            e->qual = 2u << 4;
            e->len = k + 2;
            return false;
        }
        if (!(mask & 8))
            v->cr0 &= ~8ull;
        v->rip += k + 2;
        return true;
    }
    if (cr == 0 && write && n >= k + 3 && b[k] == 0x0f && b[k + 1] == 0x01 && ((b[k + 2] >> 3) & 7) == 6)
        return l2_lmsw(x, b, n, k, rex, mask, shadow, e);
    if (cr == 0 && !write && n >= k + 3 && b[k] == 0x0f && b[k + 1] == 0x01 && b[k + 2] >= 0xe0 &&
        b[k + 2] < 0xe8) {
        /* SMSW to a register never exits on VMX: the shadow's bits where
         * L1 owns them, all of CR0's low 32 bits unless the operand is
         * 16 bits wide (SDM vol. 2 "SMSW"; 0x66 flips 16/32). */
        unsigned gpr = (b[k + 2] & 7) | ((rex & 1) ? 8 : 0);
        uint64_t *r = gpr == R_AX ? &v->rax : gpr == R_SP ? &v->rsp : &x->g.gpr[gpr];
        uint64_t val = (uint32_t)((v->cr0 & ~mask) | (shadow & mask));
        bool d32 = ((v->efer & EFER_LMA) && (v->cs.attr & (1u << 9))) || (v->cs.attr & (1u << 10));
        bool op16 = !(rex & 8) && d32 == p66;
        *r = op16 ? (*r & ~0xFFFFull) | (val & 0xFFFF) : val;
        v->rip += k + 3;
        return true;
    }
    if (n < k + 3 || b[k] != 0x0f || (b[k + 1] != 0x20 && b[k + 1] != 0x22) || (b[k + 2] >> 6) != 3) {
        host_printf("tdxmodel: L2 CR%u %s at %x:0x%lx (base 0x%lx): form not modelled (%02x %02x %02x %02x)\n",
                    cr, write ? "write" : "read", v->cs.sel, v->rip, v->cs.base, b[0], b[1], b[2], b[3]);
        host_stop(MODEL_STATUS_ERROR);
    }
    unsigned gpr = (b[k + 2] & 7) | ((rex & 1) ? 8 : 0), len = k + 3;
    if (cr == 8)
        return l2_cr8(vm, write, gpr, len, e);
    uint64_t *r = gpr == R_AX ? &v->rax : gpr == R_SP ? &v->rsp : &x->g.gpr[gpr];
    bool long_mode = (v->efer & EFER_LMA) && (v->cs.attr & (1u << 9));
    if (!write) {
        *r = (*real & ~mask) | (shadow & mask);
        if (cr == 4)
            *r |= shadow & mask & CR4_VMXE;
        if (!long_mode)
            *r = (uint32_t)*r;
        v->rip += len;
        return true;
    }
    uint64_t val = long_mode ? *r : (uint32_t)*r;
    if (cr == 3 || ((val ^ shadow) & mask)) {
        e->reason = VMX_CR_ACCESS;
        e->qual = cr | gpr << 8;
        e->len = len;
        return false;
    }
    *real = (val & ~mask) | (*real & mask);
    if (cr == 4)
        *real &= ~(CR4_VMXE | CR4_SMXE);
    if (cr == 0) {   /* what MOV to CR0 does to EFER.LMA */
        if (x->lme_hidden && (v->cr0 & (1ull << 31))) {
            v->efer |= EFER_LME;
            x->lme_hidden = false;
        }
        bool lma = (v->cr0 & (1ull << 31)) && (v->efer & (1ull << 8));
        v->efer = lma ? v->efer | EFER_LMA : v->efer & ~EFER_LMA;
    }
    v->rip += len;
    return true;
}

/* Instruction exits that go to L1 as they are, with their lengths (TCG
 * reports no next RIP, qemu-tcg-svm.md). */
static const struct {
    uint32_t svm, vmx, len;
} simple_exits[] = {
    { EXIT_CPUID, VMX_CPUID, 2 }, { EXIT_HLT, VMX_HLT, 1 }, { EXIT_INVD, VMX_INVD, 2 },
    { EXIT_WBINVD, VMX_WBINVD, 2 }, { EXIT_XSETBV, VMX_XSETBV, 3 },
    { EXIT_VMMCALL, VMX_VMCALL, 3 },   /* L2's hypercall, as VMCALL would be */
};

/* Handle what the model handles itself (true: resume L2), else describe
 * the exit for L1. */
static bool l2_exit_translate(unsigned vm, struct vmx_exit *e)
{
    struct l2_vm *x = &l2[vm];
    struct vmcb *v = x->g.vmcb;
    uint32_t code = (uint32_t)v->exitcode;
    host_memset(e, 0, sizeof *e);
    e->idt_info = (v->exitintinfo & 0x80000fffu) | ((v->exitintinfo >> 32) << 32);
    for (unsigned i = 0; i < sizeof simple_exits / sizeof simple_exits[0]; i++) {
        if (simple_exits[i].svm == code) {
            e->reason = simple_exits[i].vmx;
            e->len = simple_exits[i].len;
            return false;
        }
    }
    switch (code) {
    case 0x020 ... 0x03f:   /* MOV from/to DR0-15 */
        return l2_dr_access(vm, code, e);
    case 0x000:   /* MOV from CR0, CR4, CR8; MOV to CR0 (and CLTS, LMSW), CR3, CR4, CR8 */
    case 0x004:
    case 0x008:
    case 0x018:
    case 0x010:
    case 0x013:
    case 0x014:
        return l2_cr_access(vm, code, e);
    case EXIT_INTR:
        /* An interrupt for L1 (L1 owns every device): L1 takes it once it
         * runs with IF = 1 (TDP/ITDP enable interrupts after the exit). */
        e->status = TDX_L2_EXIT_PENDING_INTERRUPT;
        e->reason = VMX_EXT_INTR;
        return false;
    case EXIT_VINTR:
        v->int_ctl &= ~INT_CTL_V_IRQ;
        e->reason = VMX_INTR_WINDOW;
        return false;
    case EXIT_SHUTDOWN:
        e->reason = VMX_TRIPLE_FAULT;
        return false;
    case EXIT_IOIO: {
        /* SVM EXITINFO1: IN 0, string 2, rep 3, size 6:4 one-hot, port
         * 31:16 -> SDM exit qualification: size-1 2:0, IN 3, string 4,
         * rep 5, immediate operand 6, port 31:16. */
        uint64_t i1 = v->exitinfo1;
        unsigned size = (i1 & 0x10) ? 1 : (i1 & 0x20) ? 2 : 4;
        uint8_t b[4] = { 0 };
        unsigned n = guest_fetch(v, b, 4), k = 0;
        while (k < n && (b[k] == 0x66 || b[k] == 0xf3 || b[k] == 0xf2 || b[k] == 0x67))
            k++;
        bool imm = k < n && b[k] >= 0xe4 && b[k] <= 0xe7;
        e->reason = VMX_IO;
        e->qual = (size - 1) | ((i1 & 1) << 3) | (((i1 >> 2) & 1) << 4) | (((i1 >> 3) & 1) << 5) |
                  ((uint64_t)imm << 6) | (i1 & 0xffff0000u);
        e->len = (uint32_t)(v->exitinfo2 - v->rip);   /* EXITINFO2 = next RIP */
        return false;
    }
    case EXIT_MSR: {
        uint32_t msr = (uint32_t)x->g.gpr[R_CX];
        bool write = v->exitinfo1 & 1;
        /* L1's bitmap for this VM (VMX layout: read low/high, write low/high). */
        int bit = msr < 0x2000 ? (int)msr : (msr >= 0xC0000000u && msr < 0xC0002000u) ?
                  (int)(0x2000 + (msr - 0xC0000000u)) : -1;
        bool intercept = bit < 0 ||
            ((x->msr_bitmap[(write ? 0x4000 : 0) / 64 + bit / 64] >> (bit % 64)) & 1);
        if (!intercept) {   /* passed through to the (model's) hardware */
            if (write) {
                host_wrmsr(msr, (x->g.gpr[R_DX] << 32) | (uint32_t)v->rax);
                /* The VMLOAD-class MSRs (syscall MSRs, KERNEL_GS_BASE, FS/GS
                 * base, SYSENTER) still hold the L2's state since its VMSAVE
                 * (boot.S host_vmrun): save them again, or the next VMLOAD
                 * (and L1, which shares the syscall MSRs) would see the old value. */
                __asm__ volatile("vmsave %%rax" : : "a"(v) : "memory");
            } else {
                uint64_t val = host_rdmsr(msr);
                v->rax = (uint32_t)val;
                x->g.gpr[R_DX] = val >> 32;
            }
            v->rip += 2;
            return true;
        }
        e->reason = write ? VMX_WRMSR : VMX_RDMSR;
        e->len = 2;
        return false;
    }
    case EXIT_NPF: {
        /* SVM NPF error code: P 0, W 1, fetch 4, final GPA 32, walk 33 ->
         * SDM EPT-violation qualification: read 0, write 1, fetch 2,
         * entry R/W/X 3-5, GLA valid 7, final translation 8. */
        uint64_t gpa = v->exitinfo2, ec = v->exitinfo1;
        e->reason = VMX_EPT_VIOLATION;
        e->gpa = gpa;
        e->qual = (ec & 2) ? 2 : (ec & 0x10) ? 4 : 1;
        if (ec & (3ull << 32))
            e->qual |= 1u << 7 | ((ec >> 32) & 1) << 8;
        if (!private_page(gpa & ~0xfffull)) {
            /* Shared GPA or no L1 page (MMIO): the module exits to the host
             * VMM; a host with RESUME_L1 (TDP's patches) resumes L1. */
            e->status = TDX_L2_EXIT_HOST_ROUTED_ASYNC;
        } else {
            uint16_t a = attr_get(vm, gpa);
            if (a & ATTR_VALID)
                e->qual |= (a & 7u) << 3;
            if (page_state[gpa / PAGE_SIZE] & PAGE_PENDING)
                e->eeq = L2_EEQ_PEND_EPT_VIOLATION;
        }
        return false;
    }
    case EXIT_EXCP_BASE + 6: {
        uint8_t b[4];
        if (guest_fetch(v, b, 4) == 4 && is_tdcall(b)) {
            e->reason = VMX_TDCALL;
            e->len = 4;
            return false;
        }
        if (!(*vmcs(vm, F_EXC_BITMAP) & (1u << 6))) {
            v->eventinj = 6 | EVENTINJ_VALID | EVENTINJ_EXCP;
            return true;
        }
        __attribute__((fallthrough));   /* L1 intercepts #UD */
    }
    default:
        if (code >= EXIT_EXCP_BASE && code < EXIT_EXCP_BASE + 32) {
            unsigned vec = code - EXIT_EXCP_BASE;
            bool err = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
            e->reason = VMX_EXCEPTION;
            e->intr_info = vec | (vec == 2 ? 2u : 3u) << 8 | (err ? 1u << 11 : 0) | 1u << 31 |
                           (err ? (v->exitinfo1 & 0xffffffffu) << 32 : 0);
            if (vec == 14)
                e->qual = v->exitinfo2;   /* the faulting address, as CR2 */
            return false;
        }
        if (code >= EXIT_VMRUN && code <= EXIT_VMRUN + 6) {   /* no SVM in L2 either */
            v->eventinj = 6 | EVENTINJ_VALID | EVENTINJ_EXCP;
            return true;
        }
        if (code == EXIT_IRET) {   /* the NMI handler's IRET: NMIs open once it ran */
            x->nmi_blocked = false;
            v->misc1 &= ~MISC1_IRET;
            return true;
        }
        if (code == EXIT_INVALID) {
            if (trace_entries)
                host_printf("tdxmodel: VM %u: VMRUN refused the L2: cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx cs 0x%x/0x%x "
                            "tr 0x%x eventinj 0x%lx pat 0x%lx dr6 0x%lx dr7 0x%lx asid %u ss 0x%x rflags 0x%lx\n", vm, v->cr0, v->cr3, v->cr4, v->efer, v->cs.sel, v->cs.attr,
                            v->tr.attr, x->last_eventinj, v->g_pat, v->dr6, v->dr7, (unsigned)v->asid, v->ss.attr, v->rflags);
            e->reason = VMX_ENTRY_INVALID_STATE | VMX_ENTRY_FAILURE;
            return false;
        }
        host_printf("tdxmodel: unexpected L2 exit 0x%x (info 0x%lx 0x%lx)\n", code, v->exitinfo1,
                    v->exitinfo2);
        host_stop(MODEL_STATUS_ERROR);
    }
}

/*
 * The checks of the guest's control registers and EFER that VM entry makes
 * (SDM vol. 3 §26.3.1.1) and SVM's VMRUN does not (or QEMU 7.2 does not:
 * it runs a long-mode EFER with paging off).  The module enables
 * unrestricted guest, so PE and PG may be clear, but PG needs PE; the
 * IA-32e mode control must agree with EFER.LMA and needs PG and PAE; with
 * PG, LME must equal LMA.  A failure is exit reason 33 with bit 31.
 */
static bool l2_state_valid(unsigned vm)
{
    const struct vmcb *v = l2[vm].g.vmcb;
    bool ia32e = *vmcs(vm, F_ENTRY_CTLS) & ENTRY_IA32E, pg = v->cr0 & (1ull << 31);
    bool lma = v->efer & EFER_LMA, lme = v->efer & (1ull << 8);
    if (pg && !(v->cr0 & 1))
        return false;
    if (ia32e != lma || (ia32e && (!pg || !(v->cr4 & (1u << 5)))))
        return false;
    return !pg || lme == lma;
}

/* TDG.VP.ENTER (reference A4, TDXM tdg_vp_enter()). */
static uint64_t tdx_vp_enter(void)
{
    uint64_t rcx = l1.gpr[R_CX], gpa = l1.gpr[R_DX];
    unsigned vm = (rcx >> 52) & 3;
    l1.vmcb->rip += 4;   /* L1 resumes after the TDCALL, with the exit in its registers */
    if ((rcx & ~(3ull | 3ull << 52)) || vm == 0 || vm > NUM_L2_VMS)
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    if ((gpa & 0xff) || !private_page(gpa & ~0xfffull) || page_state[gpa / PAGE_SIZE])
        return TDX_OPERAND_INVALID | OPERAND_RDX;
    if (*vmcs(vm, F_VAPIC_ADDR) == NULL_PA)
        return TDX_OPERAND_INVALID | OPERAND_L2_VAPIC_GPA;
    struct l2_vm *x = &l2[vm];
    struct l2_enter_state *st = (struct l2_enter_state *)(uintptr_t)gpa;
    if (rcx & 3)
        x->flush = true;   /* INVEPT / INVVPID before entry: TCG flushes all */

    struct vmx_exit e;
    l2_vmcb_load(vm, st);
    host_memset(&e, 0, sizeof e);
    e.reason = VMX_ENTRY_INVALID_STATE | VMX_ENTRY_FAILURE;
    bool run = l2_state_valid(vm);
    if (!run && trace_entries)
        host_printf("tdxmodel: VM %u: entry refused: cr0 0x%lx cr4 0x%lx efer 0x%lx ia32e %u\n", vm,
                    x->g.vmcb->cr0, x->g.vmcb->cr4, x->g.vmcb->efer,
                    !!(*vmcs(vm, F_ENTRY_CTLS) & ENTRY_IA32E));
    while (run) {
        x->last_eventinj = x->g.vmcb->eventinj;
        host_run(&x->g);
        x->g.vmcb->tlb_control = 0;
        x->g.vmcb->eventinj = 0;
        run = l2_exit_translate(vm, &e);
    }
    if (e.reason != (VMX_ENTRY_INVALID_STATE | VMX_ENTRY_FAILURE))
        l2_vmcb_store(vm, st);   /* after a failed VMRUN the save area is garbage */
    struct vmcb *v = x->g.vmcb;
    *vmcs(vm, F_EXIT_REASON) = e.reason;
    *vmcs(vm, F_EXIT_QUAL) = e.qual;
    *vmcs(vm, F_GUEST_PHYS) = e.gpa;
    *vmcs(vm, F_EXIT_INTR) = (uint32_t)e.intr_info;
    *vmcs(vm, F_EXIT_INTR_ERR) = e.intr_info >> 32;
    *vmcs(vm, F_IDT_VEC) = (uint32_t)e.idt_info;
    *vmcs(vm, F_IDT_VEC_ERR) = e.idt_info >> 32;
    *vmcs(vm, F_EXIT_LEN) = e.len;
    l1.gpr[R_BX] = 0;
    l1.gpr[R_CX] = e.qual;
    l1.gpr[R_DX] = 0;   /* guest linear address: SVM does not report it */
    l1.gpr[R_SI] = v->cs.sel | attr_to_ar(v->cs.attr) << 16 | (uint64_t)v->cs.limit << 32;
    l1.gpr[R_DI] = v->cs.base;
    l1.gpr[R_8] = e.gpa;
    l1.gpr[R_9] = e.intr_info;
    l1.gpr[R_10] = e.idt_info;
    l1.gpr[R_11] = e.insn_info | (uint64_t)e.len << 32;
    l1.gpr[R_12] = v->cpl & 3;
    l1.gpr[R_13] = e.eeq;
    l1.gpr[R_14] = 0;
    l1.gpr[R_15] = 0;
    return e.status | e.reason;
}

/* ---- Measurement --------------------------------------------------------- */

/* TDCS RTMR 0-3: zero at TD creation; the model has no firmware that
 * extends 0 and 1, so every value is L1's own doing. */
#define NUM_RTMRS 4
static uint8_t rtmr[NUM_RTMRS][SHA384_DIGEST_SIZE];

/* TDG.MR.RTMR.EXTEND (TDXM td_dispatcher/vm_exits/tdg_mr_rtmr_extend.c):
 * RCX = GPA of 48 bytes, 64-byte aligned, mapped private in L1's view
 * (check_walk_and_map_guest_side_gpa(PRIVATE_ONLY): a shared, pending or
 * foreign GPA is an invalid RCX); RDX = the RTMR, checked after RCX as
 * there.  RTMR = SHA-384(RTMR || data).  Each extension is printed, for
 * the test that checks the value (tests/tdxmodel/measured-launch). */
static uint64_t tdx_rtmr_extend(void)
{
    uint64_t gpa = l1.gpr[R_CX], index = l1.gpr[R_DX];
    if ((gpa & 63) || !private_page(gpa & ~0xfffull) || page_state[gpa / PAGE_SIZE])
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    if (index >= NUM_RTMRS)
        return TDX_OPERAND_INVALID | OPERAND_RDX;
    uint8_t cat[2 * SHA384_DIGEST_SIZE];
    host_memcpy(cat, rtmr[index], SHA384_DIGEST_SIZE);
    host_memcpy(cat + SHA384_DIGEST_SIZE, (const void *)(uintptr_t)gpa, SHA384_DIGEST_SIZE);
    sha384(cat, sizeof cat, rtmr[index]);
    host_printf("tdxmodel: RTMR[%lu] = ", index);
    for (unsigned i = 0; i < SHA384_DIGEST_SIZE; i++)
        host_printf("%02x", rtmr[index][i]);
    host_printf("\n");
    return TDX_SUCCESS;
}

/* TDG.VP.INVEPT: RCX = bitmap of VMs (bit 0 must be 0). */
static uint64_t tdx_invept(void)
{
    uint64_t rcx = l1.gpr[R_CX];
    if ((rcx & 1) || (rcx >> (NUM_L2_VMS + 1)))
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    for (unsigned vm = 1; vm <= NUM_L2_VMS; vm++)
        if (rcx & (1u << vm))
            l2[vm].flush = true;
    return TDX_SUCCESS;
}

/* TDG.VP.INVVPID: RCX = vm << 52 | list bit 0; TCG flushes everything. */
static uint64_t tdx_invvpid(void)
{
    uint64_t rcx = l1.gpr[R_CX];
    unsigned vm = (rcx >> 52) & 3;
    if ((rcx & ~(1ull | 3ull << 52)) || vm == 0 || vm > NUM_L2_VMS)
        return TDX_OPERAND_INVALID | OPERAND_RCX;
    l2[vm].flush = true;
    return TDX_SUCCESS;
}

/* ---- L1's own #VE (`-append ve`) ------------------------------------------------ */

/* With the option `ve`, L1's port I/O and HLT raise #VE (vector 20) as in a
 * real TD, instead of reaching the devices: the exit information waits for
 * TDG.VP.VEINFO.GET in the VMX format (reason, qualification, length), and
 * L1 does the instruction through TDG.VP.VMCALL.  A second #VE before the
 * first one's VEINFO.GET is a #DF (Linux tdx_get_ve_info()). */
static bool ve_mode;
static struct {
    bool valid;
    uint32_t reason, len;
    uint64_t qual;
} ve_info;

/*
 * A TD's LAPIC is an x2APIC (its xAPIC page is MMIO, a #VE); QEMU 7.2's TCG
 * has only the xAPIC.  Under `ve` the model offers L1 the x2APIC (CPUID.1
 * ECX bit 21, APIC_BASE.EXTD) on top of QEMU's xAPIC page: MSR 0x800 +
 * offset / 16 is the register at `offset` (SDM vol. 3 §10.12), ICR is one
 * 64-bit MSR with the destination in 63:32.  TPR, EOI and SELF IPI are
 * virtualized as the module's APICv does; every other x2APIC MSR raises
 * #VE, and L1's TDVMCALL RDMSR/WRMSR reaches this too (reference A8).
 */
#define XAPIC_PA 0xFEE00000u
static bool x2apic_extd;

static bool x2apic_msr(uint32_t msr, bool write, uint64_t *value)
{
    volatile uint32_t *xapic = (volatile uint32_t *)(uintptr_t)XAPIC_PA;
    if (!ve_mode || msr < 0x800 || msr > 0x8ff)
        return false;
    unsigned reg = (msr - 0x800) << 4;
    if (msr == 0x830 && write) {
        xapic[0x310 / 4] = (uint32_t)(*value >> 32) << 24;
        xapic[0x300 / 4] = (uint32_t)*value;
    } else if (msr == 0x830) {
        *value = xapic[0x300 / 4] | (uint64_t)(xapic[0x310 / 4] >> 24) << 32;
    } else if (write) {
        xapic[reg / 4] = (uint32_t)*value;
    } else {
        *value = msr == 0x802 ? xapic[0x20 / 4] >> 24 : xapic[reg / 4];
    }
    return true;
}

static bool tdx_exit(uint32_t code)
{
    struct vmcb *v = l1.vmcb;
    if (!ve_mode || (code != EXIT_IOIO && code != EXIT_HLT && code != EXIT_MSR))
        return false;
    uint32_t msr = (uint32_t)l1.gpr[R_CX];
    bool wr = v->exitinfo1 & 1;
    uint64_t value = l1.gpr[R_DX] << 32 | (uint32_t)v->rax;
    if (code == EXIT_MSR && msr == 0x1b) {   /* APIC_BASE: EXTD is the model's */
        if (wr)
            x2apic_extd = value & (1u << 10);
        else
            value = host_rdmsr(msr) | (x2apic_extd ? 1u << 10 : 0);
        if (wr)
            host_wrmsr(msr, value & ~(1ull << 10));
    }
    if (code == EXIT_MSR && (msr == 0x1b || msr == 0x808 || msr == 0x80b || msr == 0x83f)) {
        x2apic_msr(msr, wr, &value);
        if (!wr) {
            v->rax = (uint32_t)value;
            l1.gpr[R_DX] = value >> 32;
        }
        v->rip += 2;
        return true;
    }
    if (code == EXIT_MSR && (msr < 0x800 || msr > 0x8ff))
        return false;
    if (ve_info.valid) {
        host_l1_inject(8, true, 0);
        return true;
    }
    uint64_t i1 = v->exitinfo1;   /* APM IOIO: IN 0, string 2, REP 3, SZ8/16/32 4-6, port 31:16 */
    unsigned size_1 = (i1 & 0x10) ? 0 : (i1 & 0x20) ? 1 : 3;
    ve_info.reason = code == EXIT_IOIO ? VMX_IO : code == EXIT_HLT ? VMX_HLT : wr ? VMX_WRMSR : VMX_RDMSR;
    ve_info.qual = code == EXIT_IOIO ? size_1 | (i1 & 1) << 3 | (i1 & 4) << 2 | (i1 & 8) << 2 | (i1 & 0xffff0000u) : 0;
    ve_info.len = code == EXIT_IOIO ? (uint32_t)(v->exitinfo2 - v->rip) : code == EXIT_HLT ? 1 : 2;
    ve_info.valid = true;
    host_l1_inject(20, false, 0);
    return true;
}

/* TDG.VP.VEINFO.GET: RCX reason, RDX qualification, R8 GLA, R9 GPA, R10
 * length 31:0 and instruction information 63:32 (Linux tdx_get_ve_info()). */
static uint64_t tdx_veinfo_get(void)
{
    if (!ve_info.valid)
        return TDX_NO_VE_INFO;
    l1.gpr[R_CX] = ve_info.reason;
    l1.gpr[R_DX] = ve_info.qual;
    l1.gpr[R_8] = l1.gpr[R_9] = 0;
    l1.gpr[R_10] = ve_info.len;
    ve_info.valid = false;
    return TDX_SUCCESS;
}

/* ---- Dispatch ---------------------------------------------------------------- */

static bool tdx_ud(const uint8_t insn[4])
{
    if (!is_tdcall(insn))
        return false;
    struct vmcb *v = l1.vmcb;
    /* TDCALL: #GP outside 64-bit mode (TDXM td_call()) or above CPL 0. */
    if (!(v->efer & EFER_LMA) || !(v->cs.attr & (1u << 9)) || v->cpl != 0) {
        host_l1_inject(13, true, 0);
        return true;
    }
    v->int_state = 0;   /* an STI shadow ends with the TDCALL */
    uint64_t leaf = v->rax & 0xffff, status;
    switch (leaf) {
    case TDG_VP_VMCALL:
        status = tdx_vmcall();
        break;
    case TDG_VP_VEINFO_GET:
        status = tdx_veinfo_get();
        break;
    case TDG_VP_INFO:
        l1.gpr[R_CX] = TD_GPAW;
        l1.gpr[R_DX] = TD_ATTR_SEPT_VE_DISABLE;
        l1.gpr[R_8] = 1ull | 1ull << 32;   /* one vCPU of at most one */
        l1.gpr[R_9] = 0;                   /* this vCPU's index */
        l1.gpr[R_10] = 0;
        l1.gpr[R_11] = 0;
        status = TDX_SUCCESS;
        break;
    case TDG_MR_RTMR_EXTEND:
        status = tdx_rtmr_extend();
        break;
    case TDG_MEM_PAGE_ACCEPT:
        status = tdx_accept();
        break;
    case TDG_VM_RD:
    case TDG_VM_WR:
        status = tdx_vm_rdwr(leaf == TDG_VM_WR);
        break;
    case TDG_VP_RD:
    case TDG_VP_WR:
        status = tdx_vp_rdwr(leaf == TDG_VP_WR);
        break;
    case TDG_MEM_PAGE_ATTR_RD:
        status = tdx_attr_rd();
        break;
    case TDG_MEM_PAGE_ATTR_WR:
        status = tdx_attr_wr();
        break;
    case TDG_VP_ENTER:
        v->rax = tdx_vp_enter();   /* advances RIP itself, before L2 runs */
        return true;
    case TDG_VP_INVEPT:
        status = tdx_invept();
        break;
    case TDG_VP_INVVPID:
        status = tdx_invvpid();
        break;
    default:
        status = TDX_OPERAND_INVALID | OPERAND_RAX;
    }
    v->rax = status;
    v->rip += 4;
    return true;
}

static bool tdx_vmmcall(void)
{
    return false;   /* VMMCALL is #UD in a TD */
}

/* CPUID as a TD sees it: leaf 0x21 = "IntelTDX    " (Linux TDX_IDENT, with
 * EBX, EDX, ECX = "Inte", "lTDX", "    "), so the basic range reaches it;
 * the leaves QEMU does not define between its maximum and 0x21 read 0. */
static void tdx_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    (void)subleaf;
    uint32_t max[4];
    host_cpuid(0, 0, max);
    if (leaf == 0 && r[0] < 0x21) {
        r[0] = 0x21;
    } else if (leaf == 0x21) {
        r[0] = 0;
        r[1] = 0x65746e49;   /* "Inte" */
        r[3] = 0x5844546c;   /* "lTDX" */
        r[2] = 0x20202020;   /* "    " */
    } else if (leaf == 1 && ve_mode) {
        r[2] |= 1u << 21;   /* x2APIC (x2apic_msr()) */
    } else if (leaf > max[0] && leaf < 0x21) {
        r[0] = r[1] = r[2] = r[3] = 0;
    }
}

static void tdx_init(void)
{
    ve_mode = host_option("ve");
    if (ve_mode) {
        host_io_intercept(true);
        l1.vmcb->misc1 |= MISC1_IOIO | MISC1_HLT;
        for (uint32_t msr = 0x800; msr <= 0x8ff; msr++)
            host_msr_intercept(msr, true);
        host_msr_intercept(0x1b, true);
        host_npt_set(host_l1_npt(), XAPIC_PA, 0);   /* the xAPIC page is MMIO in a TD: L1 must not touch it */
    }
    trace_entries = host_option("trace-entries");
    host_memset(l2_iopm, 0xff, sizeof l2_iopm);     /* every L2 port exits (reference A7) */
    host_memset(l2_msrpm, 0xff, sizeof l2_msrpm);   /* every L2 MSR: then L1's bitmap decides */
    for (unsigned vm = 1; vm <= NUM_L2_VMS; vm++) {
        struct l2_vm *x = &l2[vm];
        for (unsigned i = 0; i < NFIELDS; i++)
            x->vmcs[i] = vmcs_fields[i].initial;
        x->msr_bitmap = host_page_alloc();
        host_memset(x->msr_bitmap, 0xff, PAGE_SIZE);
        x->npt = host_npt_new();
        struct vmcb *v = x->g.vmcb = host_page_alloc();
        v->iopm_pa = (uint64_t)(uintptr_t)l2_iopm;
        v->msrpm_pa = (uint64_t)(uintptr_t)l2_msrpm;
        v->asid = 1 + vm;
        v->np_enable = 1;
        v->ncr3 = (uint64_t)(uintptr_t)x->npt;
        x->flush = true;
    }
}

const struct model host_model = {
    .alias_bit = TD_GPAW - 1,
    .name = "TDX-partitioning",
    .init = tdx_init,
    .ud = tdx_ud,
    .vmmcall = tdx_vmmcall,
    .cpuid = tdx_cpuid,
    .exit = tdx_exit,
};
