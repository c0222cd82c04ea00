/* SPDX-License-Identifier: MIT */
/*
 * The SNP part of the platform model (README.md): it plays the SEV-SNP
 * hardware, the AMD firmware's RMP and the hypervisor for L1, which runs
 * at "VMPL0" as the generic host's SVM guest (tests/tdxmodel/host.c).
 *
 * - L1 is an SEV-ES guest: its CPUID, port I/O, intercepted MSRs and
 *   VMMCALL raise #VC (vector 29, error code = SVM exit code, RIP at the
 *   instruction); it talks to the "hypervisor" with VMGEXIT (`rep vmmcall`)
 *   through the GHCB MSR protocol or a registered, shared GHCB page.
 * - An RMP entry per 4 KiB page below 4 GiB: assigned (private), validated,
 *   VMSA, and R/W/Xu/Xs for VMPL1-3.  L1 touching an assigned page it has
 *   not validated takes #VC(PAGE_NOT_VALIDATED); PVALIDATE and RMPADJUST
 *   raise #UD under QEMU (reference C3) and are emulated against the RMP.
 * - Run-VMPL runs a VMSA registered with the AP-creation request as a
 *   further SVM guest whose nested table follows the RMP permissions of its
 *   VMPL.  The VMSA must have ReflectVC: each exit of the lower VMPL, except
 *   a nested fault its permissions allow (filled in and resumed), ends the
 *   Run-VMPL request, with the SVM exit code and information written into
 *   the VMSA (the "ReflectVC contract", README.md).
 *
 * Numbers are written here from the sources named beside them, apart from
 * microkernel/virt/snp_abi.h, so that a typo in one is caught by the other;
 * a misreading shared by both sources is not.
 */
#include "host.h"

#define MSR_EFER        0xC0000080u
#define MSR_GHCB        0xC0010130u    /* LNX msr-index.h MSR_AMD64_SEV_ES_GHCB */
#define MSR_SEV_STATUS  0xC0010131u    /* LNX MSR_AMD64_SEV */
#define SEV_STATUS_L1   0x7ul          /* SEV 0, SEV-ES 1, SNP 2 (LNX MSR_AMD64_SEV_*_BIT) */
#define C_BIT           39             /* reported C-bit: below QEMU TCG's 40 address bits (README) */
#define GHCB_VERSION    2u             /* the one protocol version the model speaks */
#define VC_VECTOR       29             /* LNX trapnr.h X86_TRAP_VC */
#define EXIT_PAGE_NOT_VALIDATED 0x404u /* APM vol. 2 §15.36.10 */
#define MODEL_STATUS_PROTOCOL 118      /* L1 broke the GHCB protocol (a real hypervisor kills it) */

/* GHCB MSR protocol (LNX asm/sev-common.h): request/response codes in 11:0. */
enum {
    MSRP_SEV_INFO_RESP = 0x001, MSRP_SEV_INFO_REQ = 0x002, MSRP_CPUID_REQ = 0x004,
    MSRP_CPUID_RESP = 0x005, MSRP_REG_GPA_REQ = 0x012, MSRP_REG_GPA_RESP = 0x013,
    MSRP_PSC_REQ = 0x014, MSRP_PSC_RESP = 0x015, MSRP_VMPL_REQ = 0x016, MSRP_VMPL_RESP = 0x017,
    MSRP_HV_FT_REQ = 0x080, MSRP_HV_FT_RESP = 0x081, MSRP_TERM_REQ = 0x100,
};
#define HV_FEATURES 0x3ull   /* GHCB_HV_FT_SNP | GHCB_HV_FT_SNP_AP_CREATION */

/* GHCB page (LNX asm/svm.h struct ghcb, ghcb_save_area). */
#define GHCB_RAX        0x1F8
#define GHCB_RCX        0x308
#define GHCB_RDX        0x310
#define GHCB_RBX        0x318
#define GHCB_EXIT_CODE  0x390
#define GHCB_EXIT_INFO1 0x398
#define GHCB_EXIT_INFO2 0x3A0
#define GHCB_BITMAP     0x3F0
#define GHCB_SHARED     0x800
#define GHCB_VERSION_AT 0xFFA
#define GHCB_USAGE_AT   0xFFC
/* Errors returned with SW_EXITINFO1 = 2 (LNX sev-common.h GHCB_ERR_*). */
enum { ERR_INVALID_USAGE = 2, ERR_MISSING_INPUT = 4, ERR_INVALID_INPUT = 5, ERR_INVALID_EVENT = 6 };
/* NAE events (LNX uapi/asm/svm.h SVM_EXIT_*, SVM_VMGEXIT_*). */
#define NAE_PSC          0x80000010u
#define NAE_AP_CREATION  0x80000013u
#define NAE_HV_DOORBELL  0x80000014u
#define NAE_RUN_VMPL     0x80000018u
#define NAE_HV_FEATURES  0x8000FFFDu
#define NAE_TERM         0x8000FFFEu
/* PSC errors in SW_EXITINFO2 (our choice of the "non-zero means failed"
 * value Linux's __vmgexit_psc() checks; header vs entry as in KVM). */
#define PSC_INVALID_HDR   ((1ull << 32) | 1)
#define PSC_INVALID_ENTRY ((1ull << 32) | 2)

/* RMPADJUST / PVALIDATE (CS sev/utils.rs RMPFlags, rmp_adjust(), pvalidate()). */
#define FAIL_INPUT        1
#define FAIL_PERMISSION   2
#define FAIL_SIZEMISMATCH 6
#define RMPADJUST_PERMS   0xF00ull     /* R 8, W 9, X_USER 10, X_SUPER 11 */
#define RMPADJUST_VMSA    (1ull << 16)
#define PERM_R  1u
#define PERM_W  2u
#define PERM_XU 4u
#define PERM_XS 8u

/* VMSA (reference B1; LNX struct sev_es_save_area): the VMCB save area at 0. */
#define VMSA_VMPL        0x0CA
#define VMSA_EFER        0x0D0
#define VMSA_GPRS        0x308        /* RCX, RDX, RBX, (RSP hole), RBP, RSI, RDI, R8-R15 */
#define VMSA_EXITINFO1   0x390
#define VMSA_EXITINFO2   0x398
#define VMSA_EXITINTINFO 0x3A0
#define VMSA_NRIP        0x3A8
#define VMSA_SEV_FEATURES 0x3B0
#define VMSA_VINTR_CTRL  0x3B8
#define VMSA_EXITCODE    0x3C0
#define VMSA_EVENTINJ    0x3E0
#define SEV_FEAT_SNP       (1ull << 0)
#define SEV_FEAT_REFLECTVC (1ull << 2)
#define VINTR_IRQ_FIELDS   0xFF001F01FFull   /* V_TPR 7:0, V_IRQ 8, prio 19:16, IGN_TPR 20, vector 39:32 */
#define VINTR_SHADOW       (1ull << 10)
#define VINTR_BUSY         (1ull << 63)
#define EFER_SVME          (1ull << 12)

/* The save-area ranges VMRUN and VMLOAD use, at VMSA offset = VMCB offset
 * - 0x400 (host.h pins the VMCB side): segments, CPL, EFER, CR4-RIP, RSP,
 * RAX-CR2, G_PAT. */
static const uint16_t save_ranges[][2] = {
    { 0x000, 0x0A0 }, { 0x0CB, 0x0CC }, { 0x0D0, 0x0D8 }, { 0x148, 0x180 },
    { 0x1D8, 0x1E0 }, { 0x1F8, 0x248 }, { 0x268, 0x270 },
};

/* ---- State ------------------------------------------------------------------ */

#define RMP_PAGES     (1u << 20)      /* 4 GiB, host.c TRACK_MAX */
#define RMP_ASSIGNED  0x01            /* guest-owned (private); clear = shared */
#define RMP_VALIDATED 0x02
#define RMP_IS_VMSA   0x04
static uint8_t rmp_state[RMP_PAGES];
static uint8_t rmp_perm[3][RMP_PAGES];   /* VMPL1-3: PERM_* */

static bool no_vc;                 /* model option "no-vc": L1's CPUID/IO/MSRs run natively */
static uint64_t ghcb_msr;          /* L1's GHCB MSR */
static uint64_t ghcb_registered;   /* GPA from REG_GPA, 0 = none */
static uint64_t hv_doorbell;       /* GPA from the #HV doorbell request (recorded only) */
static bool vmgexit_seen;

struct lower_vmpl {
    uint64_t vmsa;                 /* registered VMSA GPA, 0 = none */
    uint64_t *npt;
    bool flush;
    struct guest g;
};
static struct lower_vmpl vmpls[4];   /* 1..3 */
static uint8_t vmpl_iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t vmpl_msrpm[2 * 4096] __attribute__((aligned(4096)));

static bool rmp_tracked(uint64_t gpa)
{
    return gpa < l1_track_top && host_l1_owns(gpa & ~(PAGE_SIZE - 1), PAGE_SIZE);
}

static uint64_t *q(uint64_t gpa, unsigned off)
{
    return (uint64_t *)(uintptr_t)(gpa + off);
}

/* L1 sees a page unless it is assigned and not validated (then #VC). */
static void l1_npt_update(uint64_t gpa)
{
    uint8_t s = rmp_state[gpa >> 12];
    uint64_t pte = (s & RMP_ASSIGNED) && !(s & RMP_VALIDATED) ? 0 : gpa | NPT_P | NPT_W | NPT_U;
    host_npt_set(host_l1_npt(), gpa, pte);
    host_npt_set(host_l1_npt(), gpa | (1ull << C_BIT), pte);
    l1.vmcb->tlb_control = 1;
}

/* A lower VMPL's view of a page changed: drop its leaf; NPF refills it. */
static void vmpl_npt_drop(uint64_t gpa)
{
    for (unsigned v = 1; v < 4; v++) {
        if (vmpls[v].npt != NULL) {
            host_npt_set(vmpls[v].npt, gpa, 0);
            vmpls[v].flush = true;
        }
    }
}

static bool l1_read(uint64_t la, uint64_t *value)
{
    uint64_t gpa;
    if (!host_translate(l1.vmcb, la, &gpa) || !host_l1_owns(gpa, 8))
        return false;
    *value = *(volatile uint64_t *)(uintptr_t)gpa;
    return true;
}

static bool l1_write(uint64_t la, uint64_t value)
{
    uint64_t gpa;
    if (!host_translate(l1.vmcb, la, &gpa) || !host_l1_owns(gpa, 8))
        return false;
    *(volatile uint64_t *)(uintptr_t)gpa = value;
    return true;
}

static _Noreturn void vc_fail(const char *why, uint32_t code)
{
    host_printf("snpmodel: cannot deliver #VC(0x%x) at rip 0x%lx: %s\n", code, l1.vmcb->rip, why);
    host_stop(MODEL_STATUS_ERROR);
}

/*
 * #VC with its error code, delivered here as a 64-bit CPU does (SDM vol. 3
 * §6.14: IDT gate, IST stack from the TSS, 16-byte aligned frame SS, RSP,
 * RFLAGS, CS, RIP, error code; IF cleared by an interrupt gate).  Measured:
 * QEMU 7.2 delivers an EVENTINJ exception with an error code only for
 * vectors 8, 10-14 and 17, so injecting vector 29 loses the code.  L1 at
 * CPL 0 in long mode only (Copra's kernel, the probe).
 */
static void vc(uint32_t code)
{
    struct vmcb *v = l1.vmcb;
    uint64_t lo, hi, rsp = v->rsp;
    if (!(v->efer & (1ull << 10)) || v->cpl != 0)
        vc_fail("L1 is not in long mode at CPL 0 (not modelled)", code);
    if (v->idtr.limit < VC_VECTOR * 16 + 15 || !l1_read(v->idtr.base + VC_VECTOR * 16, &lo) ||
        !l1_read(v->idtr.base + VC_VECTOR * 16 + 8, &hi) || !(lo & (1ull << 47)))
        vc_fail("no present IDT gate", code);
    unsigned ist = (lo >> 32) & 7, type = (lo >> 40) & 0xF;
    if (ist && !l1_read(v->tr.base + 0x24 + 8 * (ist - 1), &rsp))
        vc_fail("TSS IST slot not readable", code);
    rsp &= ~0xFull;
    uint64_t frame[6] = { code, v->rip, v->cs.sel, v->rflags, v->rsp, v->ss.sel };
    for (unsigned i = 0; i < 6; i++)
        if (!l1_write(rsp - 48 + 8 * i, frame[i]))
            vc_fail("stack not writable", code);
    uint16_t sel = (uint16_t)(lo >> 16);
    if (sel != v->cs.sel)
        vc_fail("the gate's CS differs from the current one (not modelled)", code);
    v->rsp = rsp - 48;
    v->rip = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000ull) | (hi << 32);
    v->rflags &= ~((1ull << 8) | (1ull << 14) | (1ull << 16) | (type == 0xE ? 1ull << 9 : 0));
}

/* ---- CPUID as the hypervisor reports it ------------------------------------- */

/* APM vol. 3 CPUID Fn8000_001F: EAX SEV 1, SEV-ES 3, SNP 4, VMPL 5; EBX
 * C-bit 5:0, physical-address reduction 11:6, number of VMPLs 15:12. */
static void snp_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    (void)subleaf;
    if (leaf == 0x80000000u && r[0] < 0x8000001Fu)
        r[0] = 0x8000001Fu;
    if (leaf == 0x8000001Fu) {
        r[0] = (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5);
        r[1] = C_BIT | 4u << 12;
        r[2] = r[3] = 0;
    }
}

static void cpuid_values(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    host_cpuid(leaf, subleaf, r);
    if (leaf == 0x80000001u)
        r[2] &= ~(1u << 2);   /* no SVM inside the SNP guest */
    snp_cpuid(leaf, subleaf, r);
}

/* ---- RMP operations ---------------------------------------------------------- */

/* Page-state change of one 4 KiB page (GHCB spec: the hypervisor's
 * RMPUPDATE): private = assigned, not validated; shared = not assigned. */
static bool psc_page(uint64_t gpa, unsigned op)
{
    if (!rmp_tracked(gpa) || (op != 1 && op != 2))
        return false;
    uint8_t *s = &rmp_state[gpa >> 12];
    *s = op == 1 ? RMP_ASSIGNED : 0;
    for (unsigned v = 0; v < 3; v++)
        rmp_perm[v][gpa >> 12] = 0;
    l1_npt_update(gpa);
    vmpl_npt_drop(gpa);
    return true;
}

/* RAX = the page's VA in L1; the result code goes to RAX (with CF for
 * PVALIDATE).  Returns false if the VA is not mapped (then #GP). */
static bool insn_page(uint64_t *gpa)
{
    return host_translate(l1.vmcb, l1.vmcb->rax, gpa) && rmp_tracked(*gpa);
}

static void pvalidate(void)
{
    struct vmcb *v = l1.vmcb;
    uint64_t gpa, size = l1.gpr[R_CX], validate = l1.gpr[R_DX] & 1;
    unsigned rc = 0;
    bool unchanged = false;
    if (v->cpl != 0 || !insn_page(&gpa)) {
        host_l1_inject(13, true, 0);
        return;
    }
    gpa &= ~(PAGE_SIZE - 1);
    uint8_t *s = &rmp_state[gpa >> 12];
    if (size > 1) {
        rc = FAIL_INPUT;
    } else if (size == 1) {
        /* Every RMP entry is 4 KiB (README): a 2 MiB request never matches. */
        rc = (gpa & 0x1FFFFF) ? FAIL_INPUT : FAIL_SIZEMISMATCH;
    } else if (!(*s & RMP_ASSIGNED)) {
        host_printf("snpmodel: PVALIDATE of shared page 0x%lx at rip 0x%lx: an RMP #NPF on "
                    "hardware\n", gpa, v->rip);
        host_stop(MODEL_STATUS_NPF);
    } else if (!!(*s & RMP_VALIDATED) == !!validate) {
        unchanged = true;
    } else {
        *s = (uint8_t)(validate ? *s | RMP_VALIDATED : *s & ~RMP_VALIDATED);
        l1_npt_update(gpa);
        vmpl_npt_drop(gpa);
    }
    v->rax = rc;
    v->rflags = unchanged ? v->rflags | 1 : v->rflags & ~1ull;
    v->rip += 4;
}

static void rmpadjust(void)
{
    struct vmcb *v = l1.vmcb;
    uint64_t gpa, size = l1.gpr[R_CX], attrs = l1.gpr[R_DX];
    unsigned vmpl = attrs & 0xFF, rc = 0;
    if (v->cpl != 0 || !insn_page(&gpa)) {
        host_l1_inject(13, true, 0);
        return;
    }
    gpa &= ~(PAGE_SIZE - 1);
    uint8_t s = rmp_state[gpa >> 12];
    if (size > 1 || (attrs & ~(0xFFull | RMPADJUST_PERMS | RMPADJUST_VMSA)) || vmpl > 3)
        rc = FAIL_INPUT;
    else if (vmpl == 0)   /* the target must be less privileged than VMPL0 (LNX snp_set_vmsa()) */
        rc = FAIL_PERMISSION;
    else if (size == 1)
        rc = (gpa & 0x1FFFFF) ? FAIL_INPUT : FAIL_SIZEMISMATCH;
    else if (!(s & RMP_ASSIGNED) || !(s & RMP_VALIDATED))
        rc = FAIL_INPUT;   /* our reading: only a validated private page has VMPL permissions */
    if (rc == 0) {
        rmp_perm[vmpl - 1][gpa >> 12] = (uint8_t)((attrs & RMPADJUST_PERMS) >> 8);
        rmp_state[gpa >> 12] = (uint8_t)((attrs & RMPADJUST_VMSA) ? s | RMP_IS_VMSA : s & ~RMP_IS_VMSA);
        vmpl_npt_drop(gpa);
    }
    v->rax = rc;
    v->rip += 4;
}

static bool snp_ud(const uint8_t insn[4])
{
    if (insn[1] != 0x0F || insn[2] != 0x01)
        return false;
    if (insn[0] == 0xF2 && insn[3] == 0xFF)   /* PVALIDATE (reference B1) */
        pvalidate();
    else if (insn[0] == 0xF3 && insn[3] == 0xFE)   /* RMPADJUST */
        rmpadjust();
    else
        return false;
    return true;
}

/* ---- Running a lower VMPL (Run-VMPL) ---------------------------------------------- */

/* Is this page a usable VMSA for `vmpl`?  (KVM-planes and COCONUT check
 * the VMPL field and EFER.SVME; BUSY means VMPL0 is editing it.) */
static bool vmsa_usable(uint64_t gpa, unsigned vmpl)
{
    if ((gpa & (PAGE_SIZE - 1)) || !rmp_tracked(gpa))
        return false;
    uint8_t s = rmp_state[gpa >> 12];
    const uint8_t *vmsa = (const uint8_t *)(uintptr_t)gpa;
    return (s & RMP_ASSIGNED) && (s & RMP_VALIDATED) && (s & RMP_IS_VMSA) &&
           vmsa[VMSA_VMPL] == vmpl && (*q(gpa, VMSA_EFER) & EFER_SVME) &&
           !(*q(gpa, VMSA_VINTR_CTRL) & VINTR_BUSY);
}

static void vmsa_to_vmcb(uint64_t vmsa, struct guest *g)
{
    uint8_t *save = (uint8_t *)g->vmcb + 0x400;
    for (unsigned i = 0; i < sizeof save_ranges / sizeof save_ranges[0]; i++)
        host_memcpy(save + save_ranges[i][0], (const uint8_t *)(uintptr_t)vmsa + save_ranges[i][0],
                    save_ranges[i][1] - save_ranges[i][0]);
    for (unsigned r = R_CX; r <= R_15; r++)
        if (r != R_SP)
            g->gpr[r] = *q(vmsa, VMSA_GPRS + 8 * (r - 1));
    uint64_t vintr = *q(vmsa, VMSA_VINTR_CTRL);
    g->vmcb->int_ctl = (vintr & VINTR_IRQ_FIELDS) | INT_CTL_V_INTR_MASKING;
    g->vmcb->int_state = (vintr & VINTR_SHADOW) ? 1 : 0;
    g->vmcb->eventinj = *q(vmsa, VMSA_EVENTINJ);
}

static void vmcb_to_vmsa(const struct guest *g, uint64_t vmsa)
{
    const struct vmcb *v = g->vmcb;
    const uint8_t *save = (const uint8_t *)v + 0x400;
    for (unsigned i = 0; i < sizeof save_ranges / sizeof save_ranges[0]; i++)
        host_memcpy((uint8_t *)(uintptr_t)vmsa + save_ranges[i][0], save + save_ranges[i][0],
                    save_ranges[i][1] - save_ranges[i][0]);
    for (unsigned r = R_CX; r <= R_15; r++)
        if (r != R_SP)
            *q(vmsa, VMSA_GPRS + 8 * (r - 1)) = g->gpr[r];
    uint64_t *vintr = q(vmsa, VMSA_VINTR_CTRL);
    *vintr = (*vintr & ~(VINTR_IRQ_FIELDS | VINTR_SHADOW)) | (v->int_ctl & VINTR_IRQ_FIELDS) |
             ((v->int_state & 1) ? VINTR_SHADOW : 0);
    *q(vmsa, VMSA_EVENTINJ) = v->eventinj;
    /* The ReflectVC contract: the exit as the SVM #VMEXIT reported it. */
    *q(vmsa, VMSA_EXITCODE) = v->exitcode;
    *q(vmsa, VMSA_EXITINFO1) = v->exitinfo1;
    *q(vmsa, VMSA_EXITINFO2) = v->exitinfo2;
    *q(vmsa, VMSA_EXITINTINFO) = v->exitintinfo;
    *q(vmsa, VMSA_NRIP) = v->nrip;
}

/* A nested fault the RMP allows (the lower VMPL's first touch of a granted
 * page): map it and resume.  NPF EXITINFO1: bit 1 write, bit 4 fetch. */
static bool vmpl_npf_fill(struct lower_vmpl *l, unsigned vmpl)
{
    struct vmcb *v = l->g.vmcb;
    uint64_t gpa = v->exitinfo2 & ~(PAGE_SIZE - 1);
    if (!rmp_tracked(gpa))
        return false;
    uint8_t s = rmp_state[gpa >> 12], p = rmp_perm[vmpl - 1][gpa >> 12];
    if (!(s & RMP_ASSIGNED) || !(s & RMP_VALIDATED) || (s & RMP_IS_VMSA) || !(p & PERM_R))
        return false;
    bool write = v->exitinfo1 & 2, fetch = v->exitinfo1 & 16;
    uint8_t x = v->cpl == 3 ? PERM_XU : PERM_XS;
    if ((write && !(p & PERM_W)) || (fetch && !(p & x)))
        return false;
    host_npt_set(l->npt, gpa, gpa | NPT_P | NPT_U | ((p & PERM_W) ? NPT_W : 0) |
                                  ((p & (PERM_XU | PERM_XS)) ? 0 : NPT_NX));
    return true;
}

static void vmpl_vmcb_init(struct lower_vmpl *l, unsigned vmpl)
{
    struct vmcb *v = l->g.vmcb = host_page_alloc();
    l->npt = host_npt_new();
    /* The hypervisor's intercepts: every #VC condition of an SEV-ES guest
     * and the automatic exits (INTR, HLT, SHUTDOWN, NPF). */
    v->misc1 = MISC1_INTR | MISC1_CPUID | MISC1_HLT | MISC1_IOIO | MISC1_MSR | MISC1_SHUTDOWN |
               MISC1_INVD;
    v->misc2 = MISC2_VMRUN | MISC2_VMMCALL | MISC2_SVM_INSNS | MISC2_WBINVD | MISC2_XSETBV;
    v->iopm_pa = (uint64_t)(uintptr_t)vmpl_iopm;
    v->msrpm_pa = (uint64_t)(uintptr_t)vmpl_msrpm;
    v->asid = 1 + vmpl;
    v->np_enable = 1;
    v->ncr3 = (uint64_t)(uintptr_t)l->npt;
    l->flush = true;
}

/* Run-VMPL: 0 on an exit reported through the VMSA, else an error. */
static unsigned run_vmpl(unsigned vmpl)
{
    if (vmpl < 1 || vmpl > 3 || vmpls[vmpl].vmsa == 0 || !vmsa_usable(vmpls[vmpl].vmsa, vmpl))
        return ERR_INVALID_INPUT;
    struct lower_vmpl *l = &vmpls[vmpl];
    uint64_t vmsa = l->vmsa;
    if (!(*q(vmsa, VMSA_SEV_FEATURES) & SEV_FEAT_REFLECTVC)) {
        host_printf("snpmodel: Run-VMPL %u of a VMSA without ReflectVC: not modelled\n", vmpl);
        return ERR_INVALID_INPUT;
    }
    if (l->g.vmcb == NULL)
        vmpl_vmcb_init(l, vmpl);
    vmsa_to_vmcb(vmsa, &l->g);
    for (;;) {
        l->g.vmcb->tlb_control = l->flush ? 1 : 0;
        l->flush = false;
        host_run(&l->g);
        if ((uint32_t)l->g.vmcb->exitcode != EXIT_NPF || !vmpl_npf_fill(l, vmpl))
            break;
    }
    vmcb_to_vmsa(&l->g, vmsa);
    return 0;
}

/* ---- The GHCB MSR protocol ----------------------------------------------------------- */

static void msr_protocol(uint64_t val)
{
    unsigned req = val & 0xFFF;
    uint32_t r[4];
    switch (req) {
    case MSRP_SEV_INFO_REQ:   /* max 63:48, min 47:32, C-bit 31:24 (GHCB_MSR_SEV_INFO) */
        ghcb_msr = (uint64_t)GHCB_VERSION << 48 | (uint64_t)GHCB_VERSION << 32 |
                   (uint64_t)C_BIT << 24 | MSRP_SEV_INFO_RESP;
        break;
    case MSRP_CPUID_REQ:      /* function 63:32, register 31:30 */
        cpuid_values((uint32_t)(val >> 32), 0, r);
        ghcb_msr = (uint64_t)r[(val >> 30) & 3] << 32 | MSRP_CPUID_RESP;
        break;
    case MSRP_REG_GPA_REQ:    /* GFN 63:12 */
        if (rmp_tracked(val & ~0xFFFull))
            ghcb_registered = val & ~0xFFFull;
        ghcb_msr = (rmp_tracked(val & ~0xFFFull) ? val & ~0xFFFull : ~0xFFFull) | MSRP_REG_GPA_RESP;
        break;
    case MSRP_PSC_REQ:        /* op 55:52, GFN 51:12; error 63:32 */
        ghcb_msr = (uint64_t)!psc_page(val & 0x000FFFFFFFFFF000ull, (val >> 52) & 0xF) << 32 |
                   MSRP_PSC_RESP;
        break;
    case MSRP_VMPL_REQ:       /* VMPL 39:32; error 63:32 */
        ghcb_msr = (uint64_t)run_vmpl((val >> 32) & 0xFF) << 32 | MSRP_VMPL_RESP;
        break;
    case MSRP_HV_FT_REQ:      /* features 63:12 */
        ghcb_msr = HV_FEATURES << 12 | MSRP_HV_FT_RESP;
        break;
    case MSRP_TERM_REQ:       /* reason set 15:12, code 23:16 */
        host_printf("snpmodel: L1 requested termination: reason set %u, code %u\n",
                    (unsigned)(val >> 12) & 0xF, (unsigned)(val >> 16) & 0xFF);
        host_stop(MODEL_STATUS_FATAL);
    default:
        host_printf("snpmodel: unknown GHCB MSR protocol request 0x%lx\n", val);
        host_stop(MODEL_STATUS_PROTOCOL);
    }
}

/* ---- The GHCB page ---------------------------------------------------------------------- */

static uint64_t ghcb_gpa;   /* the page of the current request */

static bool ghcb_valid(unsigned off)
{
    const uint8_t *bitmap = (const uint8_t *)(uintptr_t)(ghcb_gpa + GHCB_BITMAP);
    return bitmap[off / 64] >> ((off / 8) % 8) & 1;
}

static void ghcb_set(unsigned off, uint64_t value)
{
    uint8_t *bitmap = (uint8_t *)(uintptr_t)(ghcb_gpa + GHCB_BITMAP);
    *q(ghcb_gpa, off) = value;
    bitmap[off / 64] |= (uint8_t)(1u << ((off / 8) % 8));
}

/* SW_EXITINFO1 = 2, SW_EXITINFO2 = error (LNX sev-common.h). */
static void ghcb_error(unsigned err)
{
    ghcb_set(GHCB_EXIT_INFO1, 2);
    ghcb_set(GHCB_EXIT_INFO2, err);
}

/* The hypervisor asks L1 to take an exception (SW_EXITINFO1 = 1,
 * SW_EXITINFO2 = EVENTINJ format: LNX verify_exception_info()). */
static void ghcb_exception(unsigned vector)
{
    ghcb_set(GHCB_EXIT_INFO1, 1);
    ghcb_set(GHCB_EXIT_INFO2, vector | EVENTINJ_EXCP | EVENTINJ_VALID |
                                  (vector == 13 ? EVENTINJ_ERR : 0));
}

/* NAE IOIO: EXITINFO1 in the SVM IOIO format (APM vol. 2 §15.10.2). */
static void nae_ioio(uint64_t info1)
{
    unsigned size = (info1 >> 4) & 7, port = (unsigned)(info1 >> 16) & 0xFFFF;
    if ((info1 & 4) || (size != 1 && size != 2 && size != 4)) {   /* string I/O: not modelled */
        ghcb_error(ERR_INVALID_INPUT);
        return;
    }
    if (info1 & 1) {
        uint64_t mask = size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;
        ghcb_set(GHCB_RAX, host_in((uint16_t)port, size) & mask);
    } else if (ghcb_valid(GHCB_RAX)) {
        host_out((uint16_t)port, size, (uint32_t)*q(ghcb_gpa, GHCB_RAX));
    } else {
        ghcb_error(ERR_MISSING_INPUT);
        return;
    }
    ghcb_set(GHCB_EXIT_INFO1, 0);
}

/* NAE MSR: the hypervisor's MSR policy.  Reads of a few harmless MSRs go to
 * the real ones; writes only to APIC_BASE with its value unchanged; every
 * other access is answered with #GP, as a hypervisor that refuses it would. */
static bool msr_readable(uint32_t msr)
{
    return msr == 0x10 || msr == 0x1B || msr == 0xFE || msr == 0x277 || msr == 0x2FF ||
           (msr >= 0x200 && msr <= 0x20F);
}

static void nae_msr(uint64_t info1)
{
    if (!ghcb_valid(GHCB_RCX) || (info1 == 1 && (!ghcb_valid(GHCB_RAX) || !ghcb_valid(GHCB_RDX)))) {
        ghcb_error(ERR_MISSING_INPUT);
        return;
    }
    uint32_t msr = (uint32_t)*q(ghcb_gpa, GHCB_RCX);
    if (info1 == 0 && msr_readable(msr)) {
        uint64_t value = host_rdmsr(msr);
        ghcb_set(GHCB_RAX, (uint32_t)value);
        ghcb_set(GHCB_RDX, value >> 32);
        ghcb_set(GHCB_EXIT_INFO1, 0);
    } else if (info1 == 1 && msr == 0x1B &&
               ((*q(ghcb_gpa, GHCB_RDX) << 32) | (uint32_t)*q(ghcb_gpa, GHCB_RAX)) == host_rdmsr(msr)) {
        ghcb_set(GHCB_EXIT_INFO1, 0);
    } else if (info1 > 1) {
        ghcb_error(ERR_INVALID_INPUT);
    } else {
        ghcb_exception(13);
    }
}

static void nae_cpuid(void)
{
    if (!ghcb_valid(GHCB_RAX) || !ghcb_valid(GHCB_RCX)) {
        ghcb_error(ERR_MISSING_INPUT);
        return;
    }
    uint32_t r[4];
    cpuid_values((uint32_t)*q(ghcb_gpa, GHCB_RAX), (uint32_t)*q(ghcb_gpa, GHCB_RCX), r);
    ghcb_set(GHCB_RAX, r[0]);
    ghcb_set(GHCB_RBX, r[1]);
    ghcb_set(GHCB_RCX, r[2]);
    ghcb_set(GHCB_RDX, r[3]);
    ghcb_set(GHCB_EXIT_INFO1, 0);
}

/* NAE PSC: the shared buffer holds a header (cur_entry, end_entry) and up
 * to 253 entries: cur_page 11:0, GFN 51:12, op 55:52, 2M 56 (LNX
 * sev-common.h struct psc_hdr, psc_entry).  cur_entry advances as entries
 * are done. */
static void nae_psc(void)
{
    uint16_t *hdr = (uint16_t *)(uintptr_t)(ghcb_gpa + GHCB_SHARED);
    const uint64_t *entries = q(ghcb_gpa, GHCB_SHARED + 8);
    ghcb_set(GHCB_EXIT_INFO1, 0);
    if (hdr[0] > hdr[1] || hdr[1] >= 253) {
        ghcb_set(GHCB_EXIT_INFO2, PSC_INVALID_HDR);
        return;
    }
    for (; hdr[0] <= hdr[1]; hdr[0]++) {
        uint64_t e = entries[hdr[0]], gpa = e & 0x000FFFFFFFFFF000ull;
        unsigned op = (e >> 52) & 0xF, pages = (e >> 56) & 1 ? 512 : 1;
        bool ok = !(e >> 57) && (pages == 1 || !(gpa & 0x1FFFFF));
        for (unsigned i = 0; ok && i < pages; i++)
            ok = psc_page(gpa + i * PAGE_SIZE, op);
        if (!ok) {
            ghcb_set(GHCB_EXIT_INFO2, PSC_INVALID_ENTRY);
            return;
        }
    }
    ghcb_set(GHCB_EXIT_INFO2, 0);
}

/* NAE AP creation: EXITINFO1 = APIC ID 63:32 | VMPL 19:16 | request 15:0,
 * EXITINFO2 = VMSA GPA, RAX = its SEV_FEATURES (reference B1).  One vCPU:
 * only lower-VMPL VMSAs for APIC ID 0 (Run-VMPL targets), no APs. */
static void nae_ap_creation(uint64_t info1, uint64_t info2)
{
    unsigned req = info1 & 0xFFFF, vmpl = (info1 >> 16) & 0xF;
    if ((info1 >> 32) != 0 || vmpl < 1 || vmpl > 3 || req > 2) {
        ghcb_error(ERR_INVALID_INPUT);
        return;
    }
    if (req == 2) {
        vmpls[vmpl].vmsa = 0;
    } else if (!ghcb_valid(GHCB_RAX) || !vmsa_usable(info2, vmpl) ||
               *q(ghcb_gpa, GHCB_RAX) != *q(info2, VMSA_SEV_FEATURES)) {
        ghcb_error(ERR_INVALID_INPUT);
        return;
    } else {
        vmpls[vmpl].vmsa = info2;
    }
    ghcb_set(GHCB_EXIT_INFO1, 0);
}

static void ghcb_protocol(uint64_t gpa)
{
    if (gpa != ghcb_registered || !rmp_tracked(gpa) || (rmp_state[gpa >> 12] & RMP_ASSIGNED)) {
        host_printf("snpmodel: VMGEXIT with GHCB 0x%lx (registered 0x%lx): %s\n", gpa,
                    ghcb_registered, gpa != ghcb_registered ? "not the registered GHCB"
                    : "a private page, which the hypervisor cannot read");
        host_stop(MODEL_STATUS_PROTOCOL);
    }
    ghcb_gpa = gpa;
    uint64_t code = *q(gpa, GHCB_EXIT_CODE), info1 = *q(gpa, GHCB_EXIT_INFO1),
             info2 = *q(gpa, GHCB_EXIT_INFO2);
    if (*(uint32_t *)(uintptr_t)(gpa + GHCB_USAGE_AT) != 0) {
        ghcb_error(ERR_INVALID_USAGE);
        return;
    }
    if (*(uint16_t *)(uintptr_t)(gpa + GHCB_VERSION_AT) != GHCB_VERSION ||
        !ghcb_valid(GHCB_EXIT_CODE) || !ghcb_valid(GHCB_EXIT_INFO1) || !ghcb_valid(GHCB_EXIT_INFO2)) {
        ghcb_error(ERR_MISSING_INPUT);
        return;
    }
    switch (code) {
    case EXIT_IOIO:
        nae_ioio(info1);
        break;
    case EXIT_MSR:
        nae_msr(info1);
        break;
    case EXIT_CPUID:
        nae_cpuid();
        break;
    case NAE_PSC:
        nae_psc();
        break;
    case NAE_AP_CREATION:
        nae_ap_creation(info1, info2);
        break;
    case NAE_RUN_VMPL: {   /* SW_EXITINFO1 31:0 = VMPL (KVM planes sev_snp_run_vmpl()) */
        unsigned err = run_vmpl((uint32_t)info1 <= 3 ? (unsigned)info1 : 0);
        if (err)
            ghcb_error(err);
        else
            ghcb_set(GHCB_EXIT_INFO1, 0);
        break;
    }
    case NAE_HV_DOORBELL:   /* 1 set (GPA in EXITINFO2), 2 query, 3 clear (KVM #HV series) */
        if (info1 == 1 && rmp_tracked(info2) && !(info2 & 0xFFF))
            hv_doorbell = info2;
        else if (info1 == 3)
            hv_doorbell = 0;
        else if (info1 != 2) {
            ghcb_error(ERR_INVALID_INPUT);
            break;
        }
        ghcb_set(GHCB_EXIT_INFO1, 0);
        ghcb_set(GHCB_EXIT_INFO2, hv_doorbell);
        break;
    case NAE_HV_FEATURES:
        ghcb_set(GHCB_EXIT_INFO1, 0);
        ghcb_set(GHCB_EXIT_INFO2, HV_FEATURES);
        break;
    case NAE_TERM:   /* EXITINFO1: reason set 3:0, code 11:4 (LNX SVM_VMGEXIT_TERM_REASON) */
        host_printf("snpmodel: L1 requested termination: reason set %u, code %u\n",
                    (unsigned)info1 & 0xF, (unsigned)(info1 >> 4) & 0xFF);
        host_stop(MODEL_STATUS_FATAL);
    default:
        ghcb_error(ERR_INVALID_EVENT);
    }
}

/* ---- L1's exits ------------------------------------------------------------------------ */

/* VMMCALL intercept: `rep vmmcall` is VMGEXIT (QEMU reports both as exit
 * 0x81, at the first byte: reference C3); a plain VMMCALL is a #VC. */
static void l1_vmmcall(void)
{
    struct vmcb *v = l1.vmcb;
    uint8_t insn[4];
    if (!host_l1_fetch(insn)) {
        host_l1_inject(6, false, 0);
        return;
    }
    if (insn[0] == 0xF3 && insn[1] == 0x0F && insn[2] == 0x01 && insn[3] == 0xD9) {
        if (!vmgexit_seen) {
            host_printf("snpmodel: VMGEXIT arrives as #VMEXIT 0x81 with RIP at its F3 prefix\n");
            vmgexit_seen = true;
        }
        v->rip += 4;
        if (ghcb_msr & 0xFFF)
            msr_protocol(ghcb_msr);
        else
            ghcb_protocol(ghcb_msr);
    } else if (no_vc) {
        host_l1_inject(6, false, 0);
    } else {
        vc(EXIT_VMMCALL);
    }
}

/* MSR intercept: the GHCB MSR and SEV_STATUS are the CPU's own (no #VC);
 * EFER goes to the host; the rest are #VC (or the host's #GP with no-vc). */
static bool l1_msr(void)
{
    struct vmcb *v = l1.vmcb;
    uint32_t msr = (uint32_t)l1.gpr[R_CX];
    bool write = v->exitinfo1 & 1;
    uint64_t value = (l1.gpr[R_DX] << 32) | (uint32_t)v->rax;
    if (msr == MSR_GHCB || msr == MSR_SEV_STATUS) {
        if (write && msr == MSR_SEV_STATUS) {
            host_l1_inject(13, true, 0);
            return true;
        }
        if (write)
            ghcb_msr = value;
        else
            value = msr == MSR_GHCB ? ghcb_msr : SEV_STATUS_L1;
        if (!write) {
            v->rax = (uint32_t)value;
            l1.gpr[R_DX] = value >> 32;
        }
        v->rip += 2;
        return true;
    }
    if (msr == MSR_EFER || no_vc)
        return false;
    vc(EXIT_MSR);
    return true;
}

static bool snp_exit(uint32_t code)
{
    switch (code) {
    case EXIT_CPUID:
        if (no_vc)
            return false;
        vc(code);
        return true;
    case EXIT_IOIO:
        vc(code);
        return true;
    case EXIT_MSR:
        return l1_msr();
    case EXIT_VMMCALL:
        l1_vmmcall();
        return true;
    case EXIT_NPF: {
        uint64_t gpa = l1.vmcb->exitinfo2 & ~(1ull << C_BIT);
        uint8_t s = rmp_tracked(gpa) ? rmp_state[gpa >> 12] : 0;
        if ((s & RMP_ASSIGNED) && !(s & RMP_VALIDATED)) {
            vc(EXIT_PAGE_NOT_VALIDATED);   /* CR2 is not set: SVM gives the model no GVA */
            return true;
        }
        return false;
    }
    }
    return false;
}

/* MSRs an SEV-ES guest accesses without #VC (KVM sev_es_init_vmcb():
 * state in the VMSA): FS/GS/KERNEL_GS base, the SYSCALL and SYSENTER MSRs. */
static const uint32_t msr_direct[] = {
    0xC0000100u, 0xC0000101u, 0xC0000102u, 0xC0000081u, 0xC0000082u, 0xC0000083u, 0xC0000084u,
    0x174, 0x175, 0x176,
};

static void snp_init(void)
{
    no_vc = host_option("no-vc");
    for (uint64_t gpa = 0; gpa < l1_track_top; gpa += PAGE_SIZE)
        if (rmp_tracked(gpa))
            rmp_state[gpa >> 12] = RMP_ASSIGNED | RMP_VALIDATED;   /* launched validated (README) */
    host_msr_intercept(MSR_GHCB, true);
    host_msr_intercept(MSR_SEV_STATUS, true);
    if (!no_vc) {
        static const uint32_t bases[] = { 0, 0xC0000000u, 0xC0010000u };
        for (unsigned b = 0; b < 3; b++)
            for (uint32_t n = 0; n < 0x2000; n++)
                host_msr_intercept(bases[b] + n, true);
        for (unsigned i = 0; i < sizeof msr_direct / sizeof msr_direct[0]; i++)
            host_msr_intercept(msr_direct[i], false);
        host_io_intercept(true);
        l1.vmcb->misc1 |= MISC1_IOIO;
    }
    host_memset(vmpl_iopm, 0xFF, sizeof vmpl_iopm);
    host_memset(vmpl_msrpm, 0xFF, sizeof vmpl_msrpm);
    host_printf("snpmodel: SEV_STATUS 0x%lx, C-bit %u, RMP: all L1 RAM private and validated%s\n",
                SEV_STATUS_L1, C_BIT, no_vc ? ", no-vc" : "");
}

const struct model host_model = {
    .name = "SEV-SNP",
    .alias_bit = C_BIT,
    .init = snp_init,
    .ud = snp_ud,
    .cpuid = snp_cpuid,
    .exit = snp_exit,
};
