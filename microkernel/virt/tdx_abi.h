/* SPDX-License-Identifier: MIT */
/*
 * The TDX module's L1 interface for TD partitioning, as pure encoders and
 * decoders for the tdx backend: TDCALL leaves, metadata field ids, the L2
 * VMCS fields behind Copra's state ids, GPA attributes, TDG.VP.ENTER's
 * inputs and outputs.  No TDCALL is executed here.  Each value is checked
 * against its source in tests/unit/test_tdx.c.  Sources: TDXM =
 * intel/tdx-module tag TDX_1.5.01; SDM = Intel SDM vol. 3C; reference =
 * shared/reference/tdx-snp-backends.md (section given as A<n>).
 */
#ifndef VIRT_TDX_ABI_H
#define VIRT_TDX_ABI_H

#include "virt/platform.h"

/* TDCALL leaf numbers in RAX (TDXM include/tdx_api_defs.h, tdcall_leaf_opcode_t). */
enum tdx_leaf {
    TDG_VP_VMCALL = 0, TDG_VP_INFO = 1, TDG_MR_RTMR_EXTEND = 2, TDG_VP_VEINFO_GET = 3,
    TDG_MEM_PAGE_ACCEPT = 6, TDG_VM_RD = 7, TDG_VM_WR = 8, TDG_VP_RD = 9, TDG_VP_WR = 10,
    TDG_MEM_PAGE_ATTR_RD = 23, TDG_MEM_PAGE_ATTR_WR = 24, TDG_VP_ENTER = 25, TDG_VP_INVEPT = 26,
};

/* TDG.VP.VMCALL sub-functions in R11 (R10 = 0), numbered like VMX exit
 * reasons (Linux asm/shared/tdx.h hcall_func(), TDVMCALL_MAP_GPA,
 * TDVMCALL_REPORT_FATAL_ERROR); MapGPA answers RETRY with R11 = where to resume. */
enum tdx_vmcall {
    TDVMCALL_CPUID = 10, TDVMCALL_HLT = 12, TDVMCALL_IO = 30, TDVMCALL_RDMSR = 31,
    TDVMCALL_WRMSR = 32, TDVMCALL_MAP_GPA = 0x10001, TDVMCALL_REPORT_FATAL_ERROR = 0x10003,
};
#define TDVMCALL_STATUS_RETRY 1

/* Completion status in RAX 63:32 (TDXM include/auto_gen/tdx_error_codes_defs.h). */
#define TDX_PAGE_ALREADY_ACCEPTED        0x00000B0A00000000ull
#define TDX_L2_EXIT_HOST_ROUTED_ASYNC    0x0000110000000000ull
#define TDX_L2_EXIT_HOST_ROUTED_TDVMCALL 0x0000110100000000ull
#define TDX_L2_EXIT_PENDING_INTERRUPT    0x0000110200000000ull
#define TDX_PENDING_INTERRUPT            0x0000112000000000ull

/* TDG.MR.RTMR.EXTEND: RCX = GPA of the 48-byte extension data, 64-byte
 * aligned, private; RDX = the RTMR, below 4; RTMR = SHA-384(RTMR || data)
 * (TDXM td_dispatcher/vm_exits/tdg_mr_rtmr_extend.c, NUM_RTMRS; Linux
 * coco/tdx/tdx.c tdx_mcall_extend_rtmr()).  Copra measures into RTMR 2,
 * the OS's register (UEFI 2.10 §38.4.1: RTMR[2] = PCR 8-15; 0 and 1 are
 * the firmware's and the loader's, 3 is left to the workload). */
#define TDX_RTMR_DATA_ALIGN 64
#define TDX_NUM_RTMRS 4
#define TDX_RTMR_OS 2
static inline bool tdx_rtmr_extend_args(uint64_t data_gpa, unsigned rtmr, uint64_t r[16])
{
    r[COPRA_RAX] = TDG_MR_RTMR_EXTEND;
    r[COPRA_RCX] = data_gpa;
    r[COPRA_RDX] = rtmr;
    return !(data_gpa % TDX_RTMR_DATA_ALIGN) && rtmr < TDX_NUM_RTMRS;
}

/* TDG.VP.INFO: RCX 5:0 is the GPA width; the shared bit is the top one
 * (Linux arch/x86/coco/tdx/tdx.c tdx_parse_tdinfo()). */
static inline uint64_t tdx_shared_bit(uint64_t info_rcx) { return 1ull << ((info_rcx & 0x3F) - 1); }

/*
 * Metadata field ids for TDG.VM.RD/WR and TDG.VP.RD/WR (TDXM
 * include/tdx_api_defs.h md_field_id_t): code 23:0, element size 33:32
 * (1/2/3 = 16/32/64 bits), write_mask_valid 51 (ignored by the 1.5.01
 * module for single fields: metadata_generic.c md_check_as_single_element_id()),
 * context 54:52 (2 = VP), class 61:56.
 */
#define TDX_MD_CONTEXT_VP 2ull
#define MD_TDCS_NUM_L2_VMS 0x9010000100000005ull   /* TDG.VM.RD, value in R8 */
#define MD_TDVPS_L2_CTLS(vm) (0xA020000300000050ull + (vm))   /* 0: no shared EPT, no L2 TDVMCALL */
static inline uint64_t tdx_md_field_id(unsigned cls, unsigned size, uint32_t code, bool write)
{
    return (uint64_t)cls << 56 | TDX_MD_CONTEXT_VP << 52 | (uint64_t)write << 51 | (uint64_t)size << 32 | code;
}
/* L2 VMCS fields: class 36/44/52 for VM 1/2/3 (TDXM tdvps_fields_lookup.h
 * MD_TDVPS_VMCS_<n>_CLASS_CODE), code = SDM encoding, element size from its
 * width bits 14:13 (SDM appendix B: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural). */
static inline uint64_t tdx_vmcs_field_id(unsigned vm, uint32_t encoding, bool write)
{
    unsigned width = (encoding >> 13) & 3;
    return tdx_md_field_id(36 + 8 * (vm - 1), width == 0 ? 1 : width == 2 ? 2 : 3, encoding, write);
}
/* The L2 MSR bitmap page as 512 64-bit fields, class 37/45/53. */
static inline uint64_t tdx_msr_bitmap_field_id(unsigned vm, unsigned qword, bool write)
{
    return tdx_md_field_id(37 + 8 * (vm - 1), 3, qword, write);
}

/* Qword `q` of a VMX MSR bitmap (SDM "MSR-Bitmap Address": read low, read
 * high, write low, write high, 1 KiB each; low = MSRs 0-0x1FFF, high =
 * 0xC0000000-0xC0001FFF): all ones, every MSR exiting, but for the `n`
 * MSRs in `pass`, cleared for reads and writes. */
static inline uint64_t tdx_msr_bitmap_qword(unsigned q, const uint32_t *pass, unsigned n)
{
    uint64_t value = ~0ull;
    for (unsigned i = 0; i < n; i++) {
        unsigned bit = (pass[i] & 0x1FFF) + (pass[i] >= 0xC0000000u ? 0x2000 : 0);
        if (q % 256 == bit / 64)
            value &= ~(1ull << (bit % 64));
    }
    return value;
}

/* L2 VMCS field encodings (SDM appendix B; TDXM src/common/x86_defs/vmcs_defs.h). */
enum vmcs_field {   /* segments: ES's field + 2 * enum copra_segment (ES CS SS DS FS GS LDTR TR) */
    VMCS_GUEST_SEL = 0x0800, VMCS_GUEST_LIMIT = 0x4800, VMCS_GUEST_AR = 0x4814, VMCS_GUEST_BASE = 0x6806,
    VMCS_VIRTUAL_APIC = 0x2012, VMCS_GUEST_PAT = 0x2804, VMCS_GUEST_EFER = 0x2806, VMCS_PROC_CTLS = 0x4002,
    VMCS_EXCEPTION_BITMAP = 0x4004, VMCS_ENTRY_CTLS = 0x4012, VMCS_ENTRY_INTR_INFO = 0x4016, VMCS_ENTRY_ERROR_CODE = 0x4018,
    VMCS_ENTRY_INSN_LEN = 0x401A, VMCS_IDT_VECTORING_INFO = 0x4408, VMCS_IDT_VECTORING_ERROR = 0x440A,
    VMCS_GUEST_GDTR_LIMIT = 0x4810, VMCS_GUEST_IDTR_LIMIT = 0x4812, VMCS_INTERRUPTIBILITY = 0x4824,
    VMCS_ACTIVITY = 0x4826, VMCS_GUEST_SYSENTER_CS = 0x482A, VMCS_CR0_MASK = 0x6000, VMCS_CR4_MASK = 0x6002,
    VMCS_CR0_SHADOW = 0x6004, VMCS_CR4_SHADOW = 0x6006, VMCS_GUEST_CR0 = 0x6800, VMCS_GUEST_CR3 = 0x6802,
    VMCS_GUEST_CR4 = 0x6804, VMCS_GUEST_GDTR_BASE = 0x6816, VMCS_GUEST_IDTR_BASE = 0x6818,
    VMCS_GUEST_DR7 = 0x681A, VMCS_GUEST_SYSENTER_ESP = 0x6824, VMCS_GUEST_SYSENTER_EIP = 0x6826,
};
#define VMCS_PROC_INTR_WINDOW (1u << 2)   /* SDM "Primary Processor-Based VM-Execution Controls" */
enum { VMCS_BLOCK_STI = 1, VMCS_BLOCK_MOV_SS = 2, VMCS_BLOCK_NMI = 8 };   /* SDM "Format of Interruptibility State" */

/* The VMCS field behind an enum copra_state_id, or 0: GPRs, RIP and RFLAGS
 * live in the guest-state buffer, the syscall MSRs and CR2 in Copra's
 * copies (reference A4, A7), events and the rest need the backend. */
static inline uint32_t tdx_state_field(unsigned id)
{
    static const uint16_t field[COPRA_STATE_SEG_BASE_ID] = {
        [COPRA_STATE_CR0] = VMCS_GUEST_CR0, [COPRA_STATE_CR3] = VMCS_GUEST_CR3, [COPRA_STATE_CR4] = VMCS_GUEST_CR4,
        [COPRA_STATE_EFER] = VMCS_GUEST_EFER, [COPRA_STATE_PAT] = VMCS_GUEST_PAT, [COPRA_STATE_DR7] = VMCS_GUEST_DR7,
        [COPRA_STATE_GDTR_BASE] = VMCS_GUEST_GDTR_BASE, [COPRA_STATE_GDTR_LIMIT] = VMCS_GUEST_GDTR_LIMIT,
        [COPRA_STATE_IDTR_BASE] = VMCS_GUEST_IDTR_BASE, [COPRA_STATE_IDTR_LIMIT] = VMCS_GUEST_IDTR_LIMIT,
        [COPRA_STATE_SYSENTER_CS] = VMCS_GUEST_SYSENTER_CS, [COPRA_STATE_SYSENTER_ESP] = VMCS_GUEST_SYSENTER_ESP,
        [COPRA_STATE_SYSENTER_EIP] = VMCS_GUEST_SYSENTER_EIP,
    };
    /* by enum copra_segment_field: SEL, BASE, LIMIT, ATTR */
    static const uint16_t seg_field[4] = { VMCS_GUEST_SEL, VMCS_GUEST_BASE, VMCS_GUEST_LIMIT, VMCS_GUEST_AR };
    if (id >= COPRA_STATE_COUNT)
        return 0;
    if (id < COPRA_STATE_SEG_BASE_ID)
        return field[id];
    id -= COPRA_STATE_SEG_BASE_ID;
    return seg_field[id % 4] + 2 * (id / 4);
}

/* VMX access rights <-> the VMCB's 12-bit attributes Copra's state uses:
 * bits 15:12 <-> 11:8, and unusable (bit 16) <-> not present, as KVM does
 * (arch/x86/kvm/vmx/vmx.c vmx_segment_access_rights(), vmx_get_segment()). */
#define VMX_AR_UNUSABLE (1u << 16)
static inline uint32_t tdx_ar_from_attr(uint64_t attr)
{
    return (uint32_t)((attr & 0xFF) | ((attr & 0xF00) << 4)) | ((attr & 0x80) ? 0 : VMX_AR_UNUSABLE);
}
static inline uint16_t tdx_attr_from_ar(uint32_t ar)
{
    return (uint16_t)((ar & 0x7F) | ((ar >> 4) & 0xF00) | ((ar & VMX_AR_UNUSABLE) ? 0 : 0x80));
}

/* COPRA_EVENT_* (the VMCB's EVENTINJ) <-> VM-entry interruption information
 * and IDT-vectoring information: vector 7:0, type 10:8 (0 external, 2 NMI,
 * 3 exception, 4 INTn agree), error code valid 11, valid 31 (SDM "Format of
 * the VM-Entry Interruption-Information Field"); the error code goes to its
 * own field.  VMX types 4-6 also need the instruction length
 * (VMCS_ENTRY_INSN_LEN; SDM "Checks on VM-Entry Control Fields").  R10 after
 * TDG.VP.ENTER (IDT-vectoring info 31:0, error code 63:32) has the event's
 * layout: tdx_entry_info/error(r10) re-inject what an exit interrupted. */
static inline uint32_t tdx_entry_info(uint64_t event) { return (uint32_t)event & 0x80000FFFu; }
static inline uint32_t tdx_entry_error(uint64_t event) { return (uint32_t)(event >> 32); }
static inline uint64_t tdx_event_of(uint32_t info, uint32_t error)
{
    return !(info & COPRA_EVENT_VALID) ? 0
         : (info & 0x80000FFFu) | ((info & COPRA_EVENT_ERROR_CODE) ? (uint64_t)error << 32 : 0);
}

/* TDG.MEM.PAGE.ATTR.WR (reference A6; TDXM tdx_api_defs.h gpa_attr_single_vm_t,
 * tdx_tdvps.h attr_flags_t): RDX and R8 hold one u16 per VM 0-3 (VM 0 = L1,
 * always 0).  Valid alone revokes; a VM whose RDX word lacks Valid is left alone. */
enum {
    TDX_GPA_R = 1, TDX_GPA_W = 2, TDX_GPA_XS = 4, TDX_GPA_XU = 8, TDX_GPA_VALID = 0x8000,
    TDX_GPA_ATTR_MASK = 0x7F,        /* what L1 may set: GUEST_L2_GPA_ATTR_MASK bits 6:0 */
    TDX_ATTR_FLAG_INVEPT = 0x8000,   /* R8 word bit 15: flush that VM's EPT too */
};
/* COPRA_GUEST_X grants supervisor and user fetches: one EPT X bit without
 * mode-based execute control, Xs and Xu with it (SDM "EPT Translation
 * Mechanism"; L1 may enable it: the L2 secondary-controls mask 0xC513F0C has
 * bit 22, reference A7). */
static inline uint16_t tdx_gpa_attr(uint32_t prot)
{
    unsigned x = (prot & COPRA_GUEST_X) ? TDX_GPA_XS | TDX_GPA_XU : 0, w = (prot & COPRA_GUEST_W) ? TDX_GPA_W : 0;
    return (uint16_t)(TDX_GPA_VALID | x | w | ((prot & COPRA_GUEST_R) ? TDX_GPA_R : 0));
}
static inline uint64_t tdx_attr_rdx(unsigned vm, uint16_t attr) { return (uint64_t)attr << (16 * vm); }
static inline uint64_t tdx_attr_r8(unsigned vm, bool invept)
{
    return (uint64_t)(TDX_GPA_ATTR_MASK | (invept ? TDX_ATTR_FLAG_INVEPT : 0)) << (16 * vm);
}

/* TDG.VP.ENTER RCX (TDXM tdg_vp_enter.c vm_and_flags_t): TLB action 1:0,
 * VM index 53:52; RDX = GPA of struct tdx_l2_state. */
enum tdx_enter_tlb { TDX_TLB_NONE, TDX_TLB_INVEPT, TDX_TLB_INVVPID, TDX_TLB_INVVPID_NONGLOBAL };
static inline uint64_t tdx_enter_rcx(unsigned vm, enum tdx_enter_tlb tlb) { return (uint64_t)vm << 52 | (tlb & 3u); }

/* The L2 guest-state buffer (TDXM tdx_api_defs.h l2_enter_guest_state_t),
 * read on entry and written back on every exit; 256-byte aligned
 * (tdg_vp_enter() rejects RDX otherwise). */
struct tdx_l2_state {
    uint64_t gpr[16];              /* enum copra_gpr order, RSP included */
    uint64_t rflags, rip, ssp;
    uint16_t interrupt_status;     /* RVI 7:0, SVI 15:8 */
    uint8_t reserved[256 - 0x9A];
} __attribute__((aligned(256)));
_Static_assert(__builtin_offsetof(struct tdx_l2_state, rflags) == 0x80 &&
               __builtin_offsetof(struct tdx_l2_state, rip) == 0x88 &&
               __builtin_offsetof(struct tdx_l2_state, interrupt_status) == 0x98 &&
               sizeof(struct tdx_l2_state) == 256 && _Alignof(struct tdx_l2_state) == 256, "l2_enter_guest_state");

/* What TDG.VP.ENTER's RAX says (reference A4; TDXM td_exit.c
 * td_l2_to_l1_exit_internal(), tdh_vp_enter.c set_l2_to_l1_async_exit_gprs(),
 * td_l2 dispatcher): an L2 exit with the registers filled, no entry at all
 * (an interrupt for L1 is pending: VMX_NO_ENTRY), or an error. */
enum tdx_enter_result { TDX_ENTER_EXIT, TDX_ENTER_NONE, TDX_ENTER_ERROR };
static inline enum tdx_enter_result tdx_enter_status(uint64_t rax)
{
    uint64_t status = rax & ~0xFFFFFFFFull;   /* 31:0 = the L2 exit reason */
    if (status == 0 || (status >= TDX_L2_EXIT_HOST_ROUTED_ASYNC && status <= TDX_L2_EXIT_PENDING_INTERRUPT))
        return TDX_ENTER_EXIT;
    return status == TDX_PENDING_INTERRUPT ? TDX_ENTER_NONE : TDX_ENTER_ERROR;
}

/* VMX basic exit reasons (SDM appendix C; TDXM vmcs_defs.h vm_exit_basic_reason_e). */
enum vmx_reason {
    VMX_REASON_INTR = 1, VMX_REASON_TRIPLE_FAULT = 2, VMX_REASON_INTR_WINDOW = 7, VMX_REASON_CPUID = 10,
    VMX_REASON_HLT = 12, VMX_REASON_VMCALL = 18, VMX_REASON_CR = 28, VMX_REASON_DR = 29, VMX_REASON_IO = 30,
    VMX_REASON_RDMSR = 31, VMX_REASON_WRMSR = 32, VMX_REASON_EPT_VIOLATION = 48, VMX_REASON_XSETBV = 55,
};
#define VMX_REASON_ENTRY_FAIL (1u << 31)
/* For struct platform: L2 VMs 1-3 (TDXM tdx_tdvps.h MAX_L2_VMS), every exit
 * kind but LTR, which tdx_exit_decode() never reports (LTR exits are VMX_OTHER). */
#define TDX_MAX_VMS 3
#define TDX_EXIT_KINDS (((1u << COPRA_EXIT_KINDS) - 1) & ~(1u << VMX_LTR))
/* Exits caused by an instruction, for which R11 63:32 holds its length. */
#define VMX_INSN_EXITS (1ull << VMX_REASON_CPUID | 1ull << VMX_REASON_HLT | 1ull << VMX_REASON_VMCALL | \
                        1ull << VMX_REASON_CR | 1ull << VMX_REASON_DR | 1ull << VMX_REASON_IO | \
                        1ull << VMX_REASON_RDMSR | 1ull << VMX_REASON_WRMSR | 1ull << VMX_REASON_XSETBV)

/*
 * TDG.VP.ENTER's output registers (out[], by enum copra_gpr) as a struct
 * vm_exit: RAX status and exit reason, RCX exit qualification, R8 GPA,
 * R11 instruction length in 63:32 (reference A4); rip comes from the
 * guest-state buffer.  code/info1/info2 = reason, qualification, GPA.
 */
static inline void tdx_exit_decode(const uint64_t out[16], uint64_t rip, struct vm_exit *e)
{
    uint64_t q = out[COPRA_RCX];
    uint32_t reason = (uint32_t)out[COPRA_RAX], basic = reason & 0xFFFF;
    enum tdx_enter_result status = tdx_enter_status(out[COPRA_RAX]);
    *e = (struct vm_exit){ .kind = VMX_OTHER, .code = reason, .info1 = q, .info2 = out[COPRA_R8],
                           .rip = rip, .ctl_gpr = -1 };
    if (status != TDX_ENTER_EXIT || (reason & VMX_REASON_ENTRY_FAIL)) {
        e->kind = status == TDX_ENTER_NONE ? VMX_NO_ENTRY : VMX_FAIL;
        e->code = status == TDX_ENTER_EXIT ? reason : out[COPRA_RAX];
        return;
    }
    if (basic < 64 && ((VMX_INSN_EXITS >> basic) & 1))
        e->insn_len = (uint8_t)(out[COPRA_R11] >> 32);
    switch (basic) {
    case VMX_REASON_INTR: e->kind = VMX_INTR; break;
    case VMX_REASON_INTR_WINDOW: e->kind = VMX_WINDOW; break;
    case VMX_REASON_TRIPLE_FAULT: e->kind = VMX_SHUTDOWN; break;
    case VMX_REASON_CPUID: e->kind = VMX_CPUID; break;
    case VMX_REASON_HLT: e->kind = VMX_HLT; break;
    case VMX_REASON_VMCALL: e->kind = VMX_VMMCALL; break;
    case VMX_REASON_XSETBV: e->kind = VMX_XSETBV; break;
    case VMX_REASON_RDMSR: case VMX_REASON_WRMSR:
        e->kind = VMX_MSR;
        e->msr_write = basic == VMX_REASON_WRMSR;
        break;
    case VMX_REASON_IO:   /* SDM table 28-5: size-1 2:0 (0, 1, 3 only), IN 3, string 4, REP 5, port 31:16 */
        if ((q & 7) == 2 || (q & 7) > 3)
            break;
        e->kind = VMX_IO;
        e->io = (__typeof__(e->io)){ .port = (uint16_t)(q >> 16), .size = (uint8_t)((q & 7) + 1),
                                     .in = (q >> 3) & 1, .string = (q >> 4) & 1, .rep = (q >> 5) & 1 };
        break;
    case VMX_REASON_EPT_VIOLATION:   /* SDM table 28-7: read 0, write 1, fetch 2 */
        e->kind = VMX_NPF;
        e->gpa = out[COPRA_R8];
        e->write = (q >> 1) & 1;
        e->fetch = (q >> 2) & 1;
        break;
    case VMX_REASON_CR:   /* SDM table 28-3: CR 3:0, type 5:4 (0 MOV to, 1 MOV from, 2 CLTS, 3 LMSW), GPR 11:8 */
        e->kind = ((q >> 4) & 3) == 1 ? VMX_OTHER : VMX_CR_WRITE;   /* a read: the VMM decides */
        e->ctl_reg = q & 15;   /* CLTS and LMSW name no GPR: vcpu.c hands them to the VMM */
        e->ctl_gpr = ((q >> 4) & 3) ? -1 : (int8_t)((q >> 8) & 15);
        break;
    case VMX_REASON_DR:   /* SDM table 28-4: DR 2:0, from-DR 4, GPR 11:8 */
        e->kind = VMX_DR;
        e->ctl_reg = q & 7;
        e->ctl_write = !(q & 0x10);
        e->ctl_gpr = (int8_t)((q >> 8) & 15);
        break;
    }
    /* The L2 went to the host, which then resumed L1 (RESUME_L1), or an
     * interrupt for L1 ended it: only an EPT violation the host could not
     * serve (an L2 MMIO access, A5) is L1's; the rest is "enter again". */
    uint64_t cls = out[COPRA_RAX] & ~0xFFFFFFFFull;
    if ((cls == TDX_L2_EXIT_HOST_ROUTED_ASYNC && e->kind != VMX_NPF) || cls == TDX_L2_EXIT_PENDING_INTERRUPT) {
        e->kind = VMX_INTR;
        e->insn_len = 0;
    }
}

#endif
