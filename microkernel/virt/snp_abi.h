/* SPDX-License-Identifier: MIT */
/*
 * SEV-SNP's interface to VMPL0, as pure encoders and decoders for the snp
 * backend: the GHCB MSR protocol, the GHCB page, the NAE exit codes,
 * page-state-change entries, RMPADJUST and PVALIDATE operands, the VMSA
 * and the #HV doorbell page.  No instruction is executed here.  Each value
 * is checked against its source in tests/unit/test_snp_abi.c.  Sources:
 * LNX = torvalds/linux arch/x86 (asm/sev-common.h, asm/svm.h,
 * uapi/asm/svm.h, asm/sev.h), CS = coconut-svsm/svsm kernel/src/sev
 * (utils.rs, hv_doorbell.rs), APM = AMD64 APM vol. 2 §15.34-15.36,
 * reference = shared/reference/tdx-snp-backends.md (section B<n>).
 */
#ifndef VIRT_SNP_ABI_H
#define VIRT_SNP_ABI_H

#include <stdbool.h>
#include <stdint.h>

/* MSRs (LNX asm/msr-index.h MSR_AMD64_SEV_ES_GHCB, MSR_AMD64_SEV); SEV_STATUS
 * bit 2 = SNP active (reference C3: the only detection QEMU cannot fake). */
#define SNP_MSR_GHCB       0xC0010130u
#define SNP_MSR_SEV_STATUS 0xC0010131u
#define SEV_STATUS_SNP     (1ull << 2)

/* ---- GHCB MSR protocol (LNX sev-common.h): request/response in 11:0 ---- */
#define GHCB_MSR_SEV_INFO_RESP 0x001u
#define GHCB_MSR_SEV_INFO_REQ  0x002u
#define GHCB_MSR_CPUID_REQ     0x004u
#define GHCB_MSR_CPUID_RESP    0x005u
#define GHCB_MSR_REG_GPA_REQ   0x012u
#define GHCB_MSR_REG_GPA_RESP  0x013u
#define GHCB_MSR_PSC_REQ       0x014u
#define GHCB_MSR_PSC_RESP      0x015u
#define GHCB_MSR_VMPL_REQ      0x016u
#define GHCB_MSR_VMPL_RESP     0x017u
#define GHCB_MSR_HV_FT_REQ     0x080u
#define GHCB_MSR_HV_FT_RESP    0x081u
#define GHCB_MSR_TERM_REQ      0x100u
#define GHCB_HV_FT_SNP         (1ull << 0)
#define GHCB_HV_FT_AP_CREATION (1ull << 1)
#define GHCB_PROTOCOL_SNP      2u   /* SNP needs protocol 2 (LNX sev-shared.c sev_es_negotiate_protocol()) */

static inline unsigned ghcb_msr_info(uint64_t v) { return (unsigned)(v & 0xFFF); }
/* Responses carry their value in 63:32 (CPUID register, PSC and VMPL error). */
static inline uint32_t ghcb_msr_value(uint64_t v) { return (uint32_t)(v >> 32); }
/* SEV_INFO response: max protocol 63:48, min 47:32, C-bit position 31:24. */
static inline unsigned ghcb_msr_proto_max(uint64_t v) { return (unsigned)(v >> 48); }
static inline unsigned ghcb_msr_proto_min(uint64_t v) { return (unsigned)(v >> 32) & 0xFFFF; }
/* CPUID: function 63:32, register (0 EAX .. 3 EDX) 31:30. */
static inline uint64_t ghcb_msr_cpuid_req(uint32_t fn, unsigned reg)
{
    return (uint64_t)fn << 32 | (uint64_t)(reg & 3) << 30 | GHCB_MSR_CPUID_REQ;
}
/* GHCB registration: GFN in 63:12, i.e. the page-aligned GPA itself. */
static inline uint64_t ghcb_msr_reg_gpa_req(uint64_t gpa) { return (gpa & ~0xFFFull) | GHCB_MSR_REG_GPA_REQ; }
/* Page-state change: op 55:52 (1 private, 2 shared), GFN 51:12. */
enum snp_psc_op { SNP_PSC_PRIVATE = 1, SNP_PSC_SHARED = 2 };
static inline uint64_t ghcb_msr_psc_req(uint64_t gpa, enum snp_psc_op op)
{
    return (uint64_t)(op & 0xF) << 52 | (gpa & 0x000FFFFFFFFFF000ull) | GHCB_MSR_PSC_REQ;
}
/* Run at VMPL: target VMPL 39:32 (LNX GHCB_MSR_VMPL_REQ_LEVEL after the
 * 2025 operator-precedence fix; CS switch_to_vmpl puts it in EDX). */
static inline uint64_t ghcb_msr_vmpl_req(unsigned vmpl) { return (uint64_t)(vmpl & 0xFF) << 32 | GHCB_MSR_VMPL_REQ; }
/* Termination: reason set 15:12, reason code 23:16. */
static inline uint64_t ghcb_msr_term_req(unsigned set, unsigned code)
{
    return (uint64_t)(code & 0xFF) << 16 | (uint64_t)(set & 0xF) << 12 | GHCB_MSR_TERM_REQ;
}

/* ---- The GHCB page (LNX asm/svm.h struct ghcb, ghcb_save_area) ---------- */
struct ghcb {
    uint8_t pad0[0xCB];
    uint8_t cpl;
    uint8_t pad1[0x1F8 - 0xCC];
    uint64_t rax;
    uint8_t pad2[0x308 - 0x200];
    uint64_t rcx, rdx, rbx;
    uint8_t pad3[0x390 - 0x320];
    uint64_t sw_exit_code, sw_exit_info1, sw_exit_info2, sw_scratch;
    uint8_t pad4[0x3E8 - 0x3B0];
    uint64_t xcr0;
    uint8_t valid_bitmap[16];   /* bit n: the quadword at 8 * n is valid */
    uint8_t pad5[0x800 - 0x400];
    uint8_t shared[2032];       /* GHCB_SHARED_BUF_SIZE */
    uint8_t pad6[10];
    uint16_t protocol_version;
    uint32_t usage;             /* 0: the default (GHCB_DEFAULT_USAGE) */
};
_Static_assert(__builtin_offsetof(struct ghcb, cpl) == 0xCB, "GHCB CPL");
_Static_assert(__builtin_offsetof(struct ghcb, rax) == 0x1F8, "GHCB RAX");
_Static_assert(__builtin_offsetof(struct ghcb, rcx) == 0x308, "GHCB RCX");
_Static_assert(__builtin_offsetof(struct ghcb, rbx) == 0x318, "GHCB RBX");
_Static_assert(__builtin_offsetof(struct ghcb, sw_exit_code) == 0x390, "GHCB SW_EXITCODE");
_Static_assert(__builtin_offsetof(struct ghcb, sw_scratch) == 0x3A8, "GHCB SW_SCRATCH");
_Static_assert(__builtin_offsetof(struct ghcb, valid_bitmap) == 0x3F0, "GHCB valid bitmap");
_Static_assert(__builtin_offsetof(struct ghcb, shared) == 0x800, "GHCB shared buffer");
_Static_assert(__builtin_offsetof(struct ghcb, protocol_version) == 0xFFA, "GHCB version");
_Static_assert(sizeof(struct ghcb) == 4096, "GHCB is one page");

/* Mark the quadword at `field` valid (LNX DEFINE_GHCB_ACCESSORS). */
static inline void ghcb_mark_valid(struct ghcb *g, const void *field)
{
    unsigned n = (unsigned)((const uint8_t *)field - (const uint8_t *)g) / 8;
    g->valid_bitmap[n / 8] |= (uint8_t)(1u << (n % 8));
}
static inline bool ghcb_is_valid(const struct ghcb *g, const void *field)
{
    unsigned n = (unsigned)((const uint8_t *)field - (const uint8_t *)g) / 8;
    return n < 128 && (g->valid_bitmap[n / 8] >> (n % 8) & 1);
}
/* SW_EXITINFO1 31:0 after the VMGEXIT: 0 ok, 1 the hypervisor asks for an
 * exception (EXITINFO2), 2 a GHCB error in EXITINFO2 (LNX sev-common.h
 * GHCB_ERR_*, verify_exception_info()). */
#define GHCB_RESULT_OK        0u
#define GHCB_RESULT_EXCEPTION 1u
#define GHCB_RESULT_ERROR     2u

/* ---- Exit codes: #VC error codes and GHCB SW_EXITCODE (LNX uapi/asm/svm.h) */
#define SVM_EXIT_CPUID        0x072u
#define SVM_EXIT_IOIO         0x07Bu
#define SVM_EXIT_MSR          0x07Cu
#define SVM_EXIT_VMMCALL      0x081u
#define SVM_EXIT_NPF          0x400u
#define SVM_EXIT_VMGEXIT      0x403u
#define SVM_EXIT_PAGE_NOT_VALIDATED 0x404u   /* APM §15.36.10: #VC on an unvalidated page */
#define SNP_NAE_PSC           0x80000010u
#define SNP_NAE_GUEST_REQUEST 0x80000011u
#define SNP_NAE_AP_CREATION   0x80000013u
#define SNP_NAE_HV_DOORBELL   0x80000014u
#define SNP_NAE_RUN_VMPL      0x80000018u
#define SNP_NAE_TERM_REQUEST  0x8000FFFEu
#define SNP_VC_VECTOR         29            /* #VC */
#define SNP_HV_VECTOR         28            /* #HV */
/* #HV doorbell NAE: EXITINFO1 = request (LNX SVM_VMGEXIT_HVDB_SET 1), EXITINFO2 = GPA. */
#define SNP_HV_DOORBELL_SET   1u

/* IOIO EXITINFO1 (APM vol. 2 §15.10.2): type 0 (1 = IN), string 2, rep 3,
 * size one-hot 6:4 (8/16/32), port 31:16. */
static inline uint64_t snp_ioio_info(uint16_t port, unsigned size, bool in)
{
    return (uint64_t)port << 16 | (uint64_t)(size & 7) << 4 | (in ? 1u : 0u);
}

/* AP creation NAE: EXITINFO1 = APIC ID 63:32 | VMPL 19:16 | request,
 * EXITINFO2 = VMSA GPA, RAX = SEV_FEATURES (reference B1; LNX
 * vmgexit_ap_control()). */
enum snp_ap_request { SNP_AP_CREATE_ON_INIT = 0, SNP_AP_CREATE = 1, SNP_AP_DESTROY = 2 };
static inline uint64_t snp_ap_creation_info(uint32_t apic_id, unsigned vmpl, enum snp_ap_request req)
{
    return (uint64_t)apic_id << 32 | (uint64_t)(vmpl & 0xF) << 16 | req;
}

/* Page-state change through the GHCB shared buffer (LNX sev-common.h
 * struct psc_hdr / psc_entry): header cur_entry, end_entry (inclusive);
 * entries cur_page 11:0, GFN 51:12, op 55:52, 2M 56. */
#define SNP_PSC_MAX_ENTRY 253
static inline uint64_t snp_psc_entry(uint64_t gpa, enum snp_psc_op op, bool size_2m)
{
    return (uint64_t)size_2m << 56 | (uint64_t)(op & 0xF) << 52 | (gpa & 0x000FFFFFFFFFF000ull);
}

/* ---- RMPADJUST and PVALIDATE (CS utils.rs RMPFlags, rmp_adjust(), pvalidate()) */
/* RDX: target VMPL 7:0, R 8, W 9, X_USER 10, X_SUPER 11, VMSA 16; RCX: 0 4K, 1 2M. */
#define RMP_READ   (1u << 8)
#define RMP_WRITE  (1u << 9)
#define RMP_XUSER  (1u << 10)
#define RMP_XSUPER (1u << 11)
#define RMP_VMSA   (1u << 16)
#define RMP_RWX    (RMP_READ | RMP_WRITE | RMP_XUSER | RMP_XSUPER)
static inline uint64_t snp_rmpadjust_attrs(unsigned vmpl, uint32_t perms) { return (vmpl & 0xFF) | perms; }
/* Return codes in RAX; PVALIDATE sets CF when the validated state did not change. */
#define SNP_FAIL_INPUT        1u
#define SNP_FAIL_PERMISSION   2u
#define SNP_FAIL_SIZEMISMATCH 6u

/* ---- The VMSA: the VMCB save area at offset 0 (reference B1; LNX asm/svm.h
 * struct sev_es_save_area).  Copra's VMCB offsets minus 0x400. -------- */
#define SNP_VMSA_FROM_VMCB(off) ((off) - 0x400u)
#define VMSA_VMPL        0x0CA
#define VMSA_CPL         0x0CB
#define VMSA_EFER        0x0D0
#define VMSA_RFLAGS      0x170
#define VMSA_RIP         0x178
#define VMSA_RSP         0x1D8
#define VMSA_RAX         0x1F8
#define VMSA_RCX         0x308   /* RCX, RDX, RBX, -, RBP, RSI, RDI, R8-R15: 8 apart */
#define VMSA_EXITINFO1   0x390
#define VMSA_EXITINFO2   0x398
#define VMSA_EXITINTINFO 0x3A0
#define VMSA_NRIP        0x3A8
#define VMSA_SEV_FEATURES 0x3B0
#define VMSA_VINTR_CTRL  0x3B8
#define VMSA_EXITCODE    0x3C0
#define VMSA_EVENTINJ    0x3E0
/* VMSA offset of GPR n in the x86 numbering (RAX 0 ... R15 15). */
static inline unsigned snp_vmsa_gpr(unsigned n)
{
    return n == 0 ? VMSA_RAX : n == 4 ? VMSA_RSP : VMSA_RCX + 8 * (n - 1);
}
/* SEV_FEATURES = SEV_STATUS >> 2 (reference B1; LNX asm/svm.h SVM_SEV_FEAT_*). */
#define SEV_FEAT_SNP_ACTIVE    (1ull << 0)
#define SEV_FEAT_REFLECT_VC    (1ull << 2)
#define SEV_FEAT_RESTRICTED_INJ (1ull << 3)
#define SEV_FEAT_ALTERNATE_INJ (1ull << 4)
/* VINTR_CTRL (CS VIntrCtrl): V_IRQ 8, INT_SHADOW 10, vector 39:32, BUSY 63. */
#define VINTR_V_IRQ      (1ull << 8)
#define VINTR_INT_SHADOW (1ull << 10)
#define VINTR_BUSY       (1ull << 63)

/* ---- #HV doorbell page (CS hv_doorbell.rs HVDoorbell): pending vector
 * byte 0, flags byte 1 (NMI 0, MC 1, NoFurtherSignal 7), no-EOI byte 2. */
#define HV_DOORBELL_VECTOR      0
#define HV_DOORBELL_FLAGS       1
#define HV_DOORBELL_NO_FURTHER_SIGNAL 0x80u

#endif
