/* SPDX-License-Identifier: MIT */
/*
 * The AMD SVM backend (APM vol. 2 ch. 15).  Under QEMU TCG there is no
 * NRIPS and no decode assist (shared/reference/qemu-tcg-svm.md), so the
 * generic code knows instruction lengths and decodes MMIO itself; IOIO gives
 * the next RIP in EXITINFO2 architecturally.
 */
#include "virt/platform.h"
#include "virt/vcpu.h"
#include "virt/vm.h"
#include "virt/fpu.h"
#include "core/heap.h"
#include "core/string.h"
#include "arch/x86_64/cpu.h"
#include "core/thread.h"
#include "arch/x86_64/paging.h"

#define MSR_VM_HSAVE_PA 0xC0010117u
#define MSR_TSC_AUX     0xC0000103u

/* Control area intercept bits (APM vol. 2 appendix B, table B-1). */
#define INTERCEPT_INTR     (1u << 0)
#define INTERCEPT_NMI      (1u << 1)
#define INTERCEPT_SMI      (1u << 2)
#define INTERCEPT_INIT     (1u << 3)
#define INTERCEPT_VINTR    (1u << 4)
#define INTERCEPT_CR0_SEL  (1u << 5)    /* CR0 writes that change bits other than TS, MP */
#define INTERCEPT_TR_WRITE (1u << 13)   /* LTR */
#define INTERCEPT_CPUID    (1u << 18)
#define INTERCEPT_IRET     (1u << 20)
#define INTERCEPT_INVD     (1u << 22)
#define INTERCEPT_HLT      (1u << 24)
#define INTERCEPT_IOIO     (1u << 27)
#define INTERCEPT_MSR      (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
/* misc2: VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, RDTSCP? no; ICEBP, WBINVD, MONITOR, MWAIT */
#define INTERCEPT2_SVM_INSNS 0x7Fu
#define INTERCEPT2_VMMCALL   (1u << 1)
/* CR4 and CR8 writes (CR0 through the selective intercept), every DR0-7 access. */
#define INTERCEPT_CR_WRITES  ((1u << (16 + 4)) | (1u << (16 + 8)))
#define INTERCEPT_DR_ALL     0x00FF00FFu
#define INTERCEPT2_XSETBV    (1u << 13)

#define EXIT_CR_WRITE 0x10   /* + CR number */
#define EXIT_DR_READ  0x20   /* + DR number; writes at 0x30 */
#define EXIT_INTR     0x60
#define EXIT_NMI      0x61
#define EXIT_SMI      0x62
#define EXIT_INIT     0x63
#define EXIT_VINTR    0x64
#define EXIT_CR0_SEL  0x65
#define EXIT_TR_WRITE 0x6D
#define EXIT_EXCP_DB  0x41
#define EXIT_CPUID    0x72
#define EXIT_IRET     0x74
#define EXIT_HLT      0x78
#define EXIT_IOIO     0x7B
#define EXIT_MSR      0x7C
#define EXIT_SHUTDOWN 0x7F
#define EXIT_VMMCALL  0x81
#define EXIT_XSETBV   0x8D
#define EXIT_NPF      0x400
#define EXIT_INVALID  0xFFFFFFFFu   /* QEMU writes it as a 32-bit value (reference, pitfall 5) */

struct vmcb_seg {
    uint16_t sel, attr;
    uint32_t limit;
    uint64_t base;
};

/* APM vol. 2 appendix B; offsets pinned below. */
struct vmcb {
    uint32_t cr_intercepts, dr_intercepts, exc_intercepts, misc1, misc2;
    uint8_t pad0[0x3c - 0x14];
    uint16_t pause_threshold, pause_count;
    uint64_t iopm_pa, msrpm_pa, tsc_offset;
    uint32_t asid;
    uint8_t tlb_control, pad1[3];
    uint64_t int_ctl;          /* V_TPR 0-7, V_IRQ 8, V_INTR_PRIO 16-19, V_IGN_TPR 20, V_INTR_MASKING 24, V_INTR_VECTOR 32-39 */
    uint64_t int_state;        /* bit 0: interrupt shadow */
    uint64_t exitcode, exitinfo1, exitinfo2, exitintinfo;
    uint64_t np_enable;
    uint8_t pad2[0xa8 - 0x98];
    uint64_t eventinj;
    uint64_t ncr3;
    uint64_t lbr;
    uint32_t clean, pad3;
    uint64_t nrip;
    uint8_t insn_len, insn_bytes[15];
    uint8_t pad4[0x400 - 0xe0];
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
    uint8_t pad5[0x4cb - 0x4a0];
    uint8_t cpl;
    uint32_t pad6;
    uint64_t efer;
    uint8_t pad7[0x548 - 0x4d8];
    uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;
    uint8_t pad8[0x5d8 - 0x580];
    uint64_t rsp;
    uint8_t pad9[0x5f8 - 0x5e0];
    uint64_t rax, star, lstar, cstar, sfmask, kernel_gs_base, sysenter_cs, sysenter_esp, sysenter_eip, cr2;
    uint8_t pad10[0x668 - 0x648];
    uint64_t g_pat;
    uint8_t pad11[4096 - 0x670];
};
_Static_assert(__builtin_offsetof(struct vmcb, iopm_pa) == 0x40, "VMCB IOPM");
_Static_assert(__builtin_offsetof(struct vmcb, asid) == 0x58, "VMCB ASID");
_Static_assert(__builtin_offsetof(struct vmcb, int_ctl) == 0x60, "VMCB int_ctl");
_Static_assert(__builtin_offsetof(struct vmcb, exitcode) == 0x70, "VMCB exitcode");
_Static_assert(__builtin_offsetof(struct vmcb, np_enable) == 0x90, "VMCB NP");
_Static_assert(__builtin_offsetof(struct vmcb, eventinj) == 0xa8, "VMCB EVENTINJ");
_Static_assert(__builtin_offsetof(struct vmcb, ncr3) == 0xb0, "VMCB nCR3");
_Static_assert(__builtin_offsetof(struct vmcb, nrip) == 0xc8, "VMCB nRIP");
_Static_assert(__builtin_offsetof(struct vmcb, es) == 0x400, "VMCB save area");
_Static_assert(__builtin_offsetof(struct vmcb, cpl) == 0x4cb, "VMCB CPL");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB EFER");
_Static_assert(__builtin_offsetof(struct vmcb, cr4) == 0x548, "VMCB CR4");
_Static_assert(__builtin_offsetof(struct vmcb, rip) == 0x578, "VMCB RIP");
_Static_assert(__builtin_offsetof(struct vmcb, rsp) == 0x5d8, "VMCB RSP");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB RAX");
_Static_assert(__builtin_offsetof(struct vmcb, cr2) == 0x640, "VMCB CR2");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB G_PAT");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

struct svm_vcpu {
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
    int32_t last_cpu;
    uint64_t tlb_gen;
    bool lme_hidden;   /* the guest's EFER.LME, kept out of the VMCB (efer_sync) */
};

/* Shared by every VCPU: every port intercepted; MSRs intercepted but for
 * those the VMCB save area swaps (VMLOAD/VMSAVE, G_PAT). */
static uint64_t iopm_pa, msrpm_pa;
static uint64_t host_save_pa[COPRA_CPUS_MAX];
static struct vmcb *last_vmcb[COPRA_CPUS_MAX];

void svm_run(uint64_t vmcb_pa, uint64_t *gpr, uint64_t host_save_pa);

static void msrpm_allow(uint8_t *pm, uint32_t msr)
{
    uint32_t base = msr >= 0xC0010000u ? 0x1000 : msr >= 0xC0000000u ? 0x800 : 0;
    uint32_t n = msr & 0x1fff;
    pm[base + n / 4] &= (uint8_t)~(3u << (2 * (n % 4)));
}

static bool svm_cpu_init(struct cpu *cpu)
{
    if (!iopm_pa) {
        iopm_pa = page_alloc(3, 1);
        msrpm_pa = page_alloc(2, 1);
        if (!iopm_pa || !msrpm_pa)
            return false;
        memset(phys_to_virt(iopm_pa), 0xff, 3 * PAGE_SIZE);
        uint8_t *pm = phys_to_virt(msrpm_pa);
        memset(pm, 0xff, 2 * PAGE_SIZE);
        static const uint32_t swapped[] = { 0x174, 0x175, 0x176, 0x277, 0xC0000081, 0xC0000082,
                                            0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101, 0xC0000102 };
        for (unsigned i = 0; i < ARRAY_SIZE(swapped); i++)
            msrpm_allow(pm, swapped[i]);
    }
    uint64_t hsave = page_alloc(1, 1), host = page_alloc(1, 1);
    if (!hsave || !host)
        return false;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, hsave);
    /* The host's FS/GS/TR/LDTR and syscall MSRs, reloaded after every exit. */
    __asm__ volatile("vmsave %0" : : "a"(host) : "memory");
    host_save_pa[cpu->index] = host;
    return true;
}

static int svm_vm_init(struct vm *vm)
{
    vm->npt_root = paging_nested_create();
    vm->asid = 1;   /* TCG has no flush-by-ASID: entries flush the TLB instead */
    return vm->npt_root ? COPRA_OK : COPRA_ENOMEM;
}

static void svm_vm_destroy(struct vm *vm)
{
    if (vm->npt_root)
        paging_user_destroy(vm->npt_root);
}

static int svm_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint32_t prot)
{
    /* Nested walks are user accesses (reference, pitfall 9): the user-page
     * helper sets U, W and NX as NPT wants them. */
    uint32_t p = COPRA_PROT_READ | ((prot & COPRA_GUEST_W) ? COPRA_PROT_WRITE : 0) |
                 ((prot & COPRA_GUEST_X) ? COPRA_PROT_EXEC : 0);
    return paging_user_map(vm->npt_root, gpa, hpa, p);
}

static void svm_vm_unmap(struct vm *vm, uint64_t gpa)
{
    paging_user_unmap(vm->npt_root, gpa);
}

static void seg_set(struct vmcb_seg *s, uint16_t sel, uint16_t attr, uint32_t limit)
{
    s->sel = sel;
    s->attr = attr;
    s->limit = limit;
    s->base = 0;
}

/* Every control field the kernel owns.  Set at creation and again after a
 * failed entry, whose #VMEXIT may have written anything back (reference,
 * pitfall 6); V_INTR_MASKING is also re-set before every entry. */
static void vmcb_controls(struct vmcb *c, struct vcpu *v)
{
    c->cr_intercepts = INTERCEPT_CR_WRITES;
    c->dr_intercepts = INTERCEPT_DR_ALL;
    c->exc_intercepts = 0;
    c->misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT | INTERCEPT_CR0_SEL |
               INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_HLT | INTERCEPT_IOIO | INTERCEPT_MSR |
               INTERCEPT_SHUTDOWN | INTERCEPT_TR_WRITE;
    /* VMRUN (required), VMMCALL, VMLOAD/SAVE, STGI/CLGI, SKINIT; XSETBV (the VMM's) */
    c->misc2 = INTERCEPT2_SVM_INSNS | INTERCEPT2_XSETBV;
    c->iopm_pa = iopm_pa;
    c->msrpm_pa = msrpm_pa;
    c->tsc_offset = 0;
    c->asid = v->vm->asid;
    c->int_ctl = 1ull << 24;           /* V_INTR_MASKING: guest IF gates only virtual interrupts */
    c->int_state = 0;
    c->eventinj = 0;
    c->np_enable = 1;
    c->ncr3 = v->vm->npt_root;
}

/* The documented initial state: 32-bit protected mode, paging off, flat
 * segments (the multiboot v1 entry state); the VMM sets RIP, RAX, RBX.
 * Also what a failed entry leaves, so no host value reaches GET_STATE. */
static void vmcb_reset_state(struct vmcb *c, struct vcpu *v)
{
    memset(&c->es, 0, sizeof(*c) - offsetof(struct vmcb, es));
    seg_set(&c->cs, 0x08, 0xC9B, 0xFFFFFFFF);
    seg_set(&c->ds, 0x10, 0xC93, 0xFFFFFFFF);
    c->es = c->ss = c->fs = c->gs = c->ds;
    seg_set(&c->gdtr, 0, 0, 0xFFFF);
    seg_set(&c->idtr, 0, 0, 0xFFFF);
    seg_set(&c->ldtr, 0, 0x82, 0xFFFF);
    /* An available 32-bit TSS: QEMU aborts on a ring transition through a
     * cached TR of busy type (its LTR caches the available type); the CPU
     * uses the cached base and limit either way. */
    seg_set(&c->tr, 0, 0x89, 0xFFFF);
    c->cr0 = 0x11;                      /* PE | ET */
    c->efer = EFER_SVME;                /* required by VMRUN; hidden from the guest */
    c->rflags = 2;
    c->dr6 = 0xFFFF0FF0;
    c->dr7 = 0x400;                     /* guest breakpoints live in struct vcpu, never here */
    c->g_pat = 0x0007040600070406ull;
    memset(v->gpr, 0, sizeof(v->gpr));
}

static int svm_vcpu_init(struct vcpu *v)
{
    struct svm_vcpu *s = kmalloc(sizeof(*s));
    uint64_t pa = page_alloc(1, 1);
    if (!s || !pa) {
        kfree(s);
        if (pa)
            page_free(pa, 1);
        return COPRA_ENOMEM;
    }
    s->vmcb_pa = pa;
    s->vmcb = phys_to_virt(pa);
    s->last_cpu = -1;
    v->arch = s;
    vmcb_controls(s->vmcb, v);
    vmcb_reset_state(s->vmcb, v);
    return COPRA_OK;
}

/* After a refused entry: the reset state, so no host value reaches
 * GET_STATE and no refused event is retried. */
static void svm_vcpu_reset(struct vcpu *v)
{
    struct svm_vcpu *s = v->arch;
    vmcb_controls(s->vmcb, v);
    vmcb_reset_state(s->vmcb, v);
    s->last_cpu = -1;
    s->lme_hidden = false;
    v->nmi_block = 0;
    v->nmi_step = false;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = v->arch;
    for (unsigned i = 0; i < COPRA_CPUS_MAX; i++)
        if (last_vmcb[i] == s->vmcb)
            last_vmcb[i] = NULL;
    page_free(s->vmcb_pa, 1);
    kfree(s);
    v->arch = NULL;
}

/* Where each enum copra_state_id lives in the VMCB (0: nowhere). */
#define STATE_AT(id, field) [COPRA_STATE_##id] = (uint16_t)__builtin_offsetof(struct vmcb, field)
static const uint16_t state_offset[COPRA_STATE_COUNT] = {
    STATE_AT(RIP, rip), STATE_AT(RFLAGS, rflags), STATE_AT(CR0, cr0), STATE_AT(CR2, cr2),
    STATE_AT(CR3, cr3), STATE_AT(CR4, cr4), STATE_AT(EFER, efer), STATE_AT(GDTR_BASE, gdtr.base),
    STATE_AT(IDTR_BASE, idtr.base), STATE_AT(PAT, g_pat), STATE_AT(STAR, star), STATE_AT(LSTAR, lstar),
    STATE_AT(CSTAR, cstar), STATE_AT(SFMASK, sfmask), STATE_AT(KERNEL_GS_BASE, kernel_gs_base),
    STATE_AT(SYSENTER_CS, sysenter_cs), STATE_AT(SYSENTER_ESP, sysenter_esp),
    STATE_AT(SYSENTER_EIP, sysenter_eip), STATE_AT(DR6, dr6), STATE_AT(TSC_OFFSET, tsc_offset),
};
#undef STATE_AT

/* Segments in enum copra_segment order: ES CS SS DS FS GS LDTR TR. */
static struct vmcb_seg *seg_of(struct vmcb *c, unsigned seg)
{
    static const uint16_t off[] = {
        offsetof(struct vmcb, es), offsetof(struct vmcb, cs), offsetof(struct vmcb, ss),
        offsetof(struct vmcb, ds), offsetof(struct vmcb, fs), offsetof(struct vmcb, gs),
        offsetof(struct vmcb, ldtr), offsetof(struct vmcb, tr),
    };
    return (struct vmcb_seg *)((uint8_t *)c + off[seg]);
}

static uint64_t *reg_of(struct vmcb *c, unsigned id)
{
    return id < COPRA_STATE_COUNT && state_offset[id] ? (uint64_t *)((uint8_t *)c + state_offset[id]) : NULL;
}

static uint64_t svm_get_state(struct vcpu *v, unsigned id)
{
    struct vmcb *c = ((struct svm_vcpu *)v->arch)->vmcb;
    if (id == COPRA_STATE_RIP)
        return c->rip;   /* read and written on every exit: no table walk */
    if (id == COPRA_STATE_RFLAGS)
        return c->rflags;   /* read on every completion (step_rip) */
    if (id >= COPRA_STATE_SEG_BASE_ID) {
        struct vmcb_seg *s = seg_of(c, (id - COPRA_STATE_SEG_BASE_ID) / 4);
        unsigned field = (id - COPRA_STATE_SEG_BASE_ID) % 4;
        return field == COPRA_SEG_SEL ? s->sel : field == COPRA_SEG_BASE ? s->base
             : field == COPRA_SEG_LIMIT ? s->limit : s->attr;
    }
    if (id == COPRA_STATE_GDTR_LIMIT || id == COPRA_STATE_IDTR_LIMIT)
        return (id == COPRA_STATE_GDTR_LIMIT ? &c->gdtr : &c->idtr)->limit;
    if (id == COPRA_STATE_CR8)
        return c->int_ctl & 0xF;   /* V_TPR */
    uint64_t *r = reg_of(c, id);
    uint64_t value = r ? *r : 0;
    if (id == COPRA_STATE_EFER)
        value = (value & ~(uint64_t)EFER_SVME) | (((struct svm_vcpu *)v->arch)->lme_hidden ? 1u << 8 : 0);
    return value;
}

/*
 * QEMU 7.2's #VMEXIT reloads the host's CR0 while CR4 and EFER are still the
 * guest's; with the guest's EFER.LME set and its CR0.PG and CR4.PAE clear,
 * the host's CR0 (PG on, LME, no PAE) is refused without a word, and the
 * host runs on with the guest's CR0: paging off, a lost machine.  Hardware
 * ignores LME until paging goes on, so until then (the kernel sees every CR0,
 * CR4 and EFER change of the guest) LME stays out of the VMCB.
 */
static void efer_sync(struct svm_vcpu *s)
{
    struct vmcb *c = s->vmcb;
    uint64_t lme = 1u << 8;
    if (s->lme_hidden)
        c->efer |= lme;
    s->lme_hidden = (c->efer & lme) && !(c->cr0 & (1ull << 31)) && !(c->cr4 & (1u << 5));
    if (s->lme_hidden)
        c->efer &= ~lme;
}

static int svm_set_state(struct vcpu *v, unsigned id, uint64_t value)
{
    struct vmcb *c = ((struct svm_vcpu *)v->arch)->vmcb;
    if (id == COPRA_STATE_RIP) {
        /* A new RIP means the instruction was completed for the guest: an
         * STI shadow it sat in ends with it, as KVM's skip does.  (Left
         * set, a HLT after STI passed the shadow on to the next
         * instruction, often a CLI, and the interrupt waited.) */
        c->rip = value;
        c->int_state &= ~1ull;
        return COPRA_OK;
    }
    if (id >= COPRA_STATE_SEG_BASE_ID) {
        struct vmcb_seg *s = seg_of(c, (id - COPRA_STATE_SEG_BASE_ID) / 4);
        unsigned field = (id - COPRA_STATE_SEG_BASE_ID) % 4;
        if (field == COPRA_SEG_SEL)
            s->sel = (uint16_t)value;
        else if (field == COPRA_SEG_BASE)
            s->base = value;
        else if (field == COPRA_SEG_LIMIT)
            s->limit = (uint32_t)value;
        else
            s->attr = value & 0xFFF;
        if (s == &c->tr && field == COPRA_SEG_ATTR)
            s->attr &= ~2u;   /* cached as available, as QEMU's LTR does (vmcb_reset_state) */
        if (s == &c->ss)
            c->cpl = (s->attr >> 5) & 3;   /* CPL follows SS.DPL (reference, pitfall 8) */
        return COPRA_OK;
    }
    if (id == COPRA_STATE_GDTR_LIMIT || id == COPRA_STATE_IDTR_LIMIT) {
        (id == COPRA_STATE_GDTR_LIMIT ? &c->gdtr : &c->idtr)->limit = (uint32_t)(value & 0xFFFF);
        return COPRA_OK;
    }
    /* Values were checked against what VMRUN accepts (ctrlreg.c). */
    if (id == COPRA_STATE_CR8) {
        c->int_ctl = (c->int_ctl & ~0xFull) | (value & 0xF);
        return COPRA_OK;
    }
    struct svm_vcpu *sv = v->arch;
    if (id == COPRA_STATE_EFER) {
        value |= EFER_SVME;
        sv->lme_hidden = false;
    }
    uint64_t *r = reg_of(c, id);
    if (!r)
        return COPRA_EINVAL;
    *r = value;
    if (id == COPRA_STATE_CR0 || id == COPRA_STATE_CR3 || id == COPRA_STATE_CR4 || id == COPRA_STATE_EFER) {
        sv->last_cpu = -1;   /* translations change: flush at entry */
        efer_sync(sv);
    }
    return COPRA_OK;
}

static bool svm_event_pending(struct vcpu *v)
{
    return ((struct svm_vcpu *)v->arch)->vmcb->eventinj & (1u << 31);
}

static bool svm_irq_window_open(struct vcpu *v)
{
    struct vmcb *c = ((struct svm_vcpu *)v->arch)->vmcb;
    return (c->rflags & (1u << 9)) && !(c->int_state & 1);
}

static void svm_inject(struct vcpu *v, uint64_t event)
{
    struct vmcb *c = ((struct svm_vcpu *)v->arch)->vmcb;
    c->eventinj = event;
    if (((event >> 8) & 7) == 2) {
        /* SVM does not block NMIs behind an injected one: the kernel does,
         * until the guest's IRET (APM §15.21.3, as KVM without vNMI). */
        v->nmi_block = 1;
        c->misc1 |= INTERCEPT_IRET;
    }
}

static bool svm_nmi_allowed(struct vcpu *v)
{
    return !v->nmi_block;
}

/*
 * NMI blocking after an exit.  The IRET intercept comes before the IRET
 * executes: blocking ends once RIP has left it; with another NMI waiting,
 * TF makes the CPU trap right after the IRET (#DB intercepted, the trap
 * taken from the TF in effect before it, which the IRET then replaces).
 * True if the exit was only that.
 */
static bool nmi_exit(struct vcpu *v, struct vmcb *c, uint32_t code)
{
    if (!v->nmi_block && !v->nmi_step && code != EXIT_IRET)
        return false;   /* the common case: one test */
    if (v->nmi_block == 2 && c->rip != v->iret_rip)
        v->nmi_block = 0;
    if (v->nmi_step && (code == EXIT_EXCP_DB || !v->nmi_block)) {
        v->nmi_step = false;
        c->dr6 &= ~(1ull << 14);   /* our step's BS */
        c->exc_intercepts &= ~(1u << 1);
        if (code == EXIT_EXCP_DB)
            return true;
    }
    if (code != EXIT_IRET)
        return false;
    c->misc1 &= ~INTERCEPT_IRET;
    if (v->nmi_block != 1)
        return true;   /* left from before an INIT or reset */
    v->nmi_block = 2;
    v->iret_rip = c->rip;
    if (v->nmi_pending && !(c->rflags & (1u << 8))) {
        v->nmi_step = true;
        c->rflags |= 1u << 8;
        c->exc_intercepts |= 1u << 1;
    }
    return true;
}

static void svm_request_window(struct vcpu *v, bool on)
{
    struct vmcb *c = ((struct svm_vcpu *)v->arch)->vmcb;
    /* A virtual interrupt of priority 0xF that ignores TPR: VINTR exits as
     * soon as the guest could take it (APM §15.21.4). */
    if (on) {
        c->int_ctl |= (1ull << 8) | (0xFull << 16) | (1ull << 20);
        c->misc1 |= INTERCEPT_VINTR;
    } else {
        c->int_ctl &= ~((1ull << 8) | (0xFull << 16) | (1ull << 20));
        c->misc1 &= ~INTERCEPT_VINTR;
    }
}

static void svm_vcpu_enter(struct vcpu *v, struct vm_exit *e)
{
    struct svm_vcpu *s = v->arch;
    struct vmcb *c = s->vmcb;
    unsigned cpu = cpu_this()->index;
    uint64_t gen = __atomic_load_n(&v->vm->tlb_gen, __ATOMIC_ACQUIRE);
    /* Flush guest translations when the VCPU changes CPU, another VMCB ran
     * here, or a guest mapping went away. */
    c->tlb_control = (s->last_cpu != (int32_t)cpu || last_vmcb[cpu] != c || s->tlb_gen != gen) ? 1 : 0;
    s->last_cpu = (int32_t)cpu;
    s->tlb_gen = gen;
    last_vmcb[cpu] = c;
    c->rax = v->gpr[COPRA_RAX];
    c->rsp = v->gpr[COPRA_RSP];
    c->int_ctl |= 1ull << 24;   /* V_INTR_MASKING, whatever an exit wrote back */
    fpu_enter(v, cpu);   /* its x87/SSE/AVX registers and XCR0 (fpu.c) */
    /* The VMCB has no TSC_AUX: the MSR holds the guest's while it runs and
     * the host's (0) otherwise, so no other process reads it with RDTSCP. */
    if (v->tsc_aux)
        wrmsr(MSR_TSC_AUX, v->tsc_aux);
    /* With V_INTR_MASKING the host's RFLAGS.IF at VMRUN decides whether host
     * interrupts reach the guest as INTR exits (APM §15.21.1): set IF under
     * GIF=0, so a spinning guest is still preempted by the tick. */
    __asm__ volatile("clgi; sti" : : : "memory");
    svm_run(s->vmcb_pa, v->gpr, host_save_pa[cpu]);
    __asm__ volatile("cli; stgi" : : : "memory");
    if (v->tsc_aux)
        wrmsr(MSR_TSC_AUX, 0);
    fpu_exit(v);
    v->gpr[COPRA_RAX] = c->rax;
    v->gpr[COPRA_RSP] = c->rsp;

    if ((uint32_t)c->exitcode == EXIT_INVALID) {
        /* Refused: the save area may hold a mix of guest and host state
         * (reference, pitfall 6); the generic code resets the VCPU. */
        c->eventinj = 0;
        e->kind = VMX_FAIL;
        e->code = EXIT_INVALID;
        e->info1 = e->info2 = 0;
        e->rip = c->rip;
        e->insn_len = 0;
        return;
    }
    /* An event the exit interrupted is delivered again on the next entry. */
    c->eventinj = (c->exitintinfo & (1u << 31)) ? c->exitintinfo : 0;

    /* Only the fields of the exit's kind are set (struct vm_exit). */
    e->code = c->exitcode;
    e->info1 = c->exitinfo1;
    e->info2 = c->exitinfo2;
    e->rip = c->rip;
    e->insn_len = 0;
    uint32_t code = (uint32_t)c->exitcode;
    if (nmi_exit(v, c, code)) {
        e->kind = VMX_NONE;
        return;
    }
    switch (code) {
    case EXIT_INTR:
    case EXIT_NMI:
    case EXIT_SMI:
    case EXIT_INIT:
        e->kind = VMX_INTR;
        break;
    case EXIT_VINTR:
        e->kind = VMX_WINDOW;
        break;
    case EXIT_CPUID:
        e->kind = VMX_CPUID;
        e->insn_len = 2;
        break;
    case EXIT_HLT:
        e->kind = VMX_HLT;
        e->insn_len = 1;
        break;
    case EXIT_IOIO:
        /* EXITINFO1 (APM §15.10.2): port 31:16, SZ32/16/8 6:4, A64/32/16 9:7,
         * REP 3, STR 2, IN 0.  EXITINFO2 is the next RIP.  QEMU leaves the
         * address-size bits clear for plain IN/OUT (reference, pitfall 12). */
        e->kind = VMX_IO;
        e->io.port = (uint16_t)(c->exitinfo1 >> 16);
        e->io.size = (c->exitinfo1 & 0x40) ? 4 : (c->exitinfo1 & 0x20) ? 2 : 1;
        e->io.in = c->exitinfo1 & 1;
        e->io.string = (c->exitinfo1 >> 2) & 1;
        e->io.rep = (c->exitinfo1 >> 3) & 1;
        e->insn_len = (uint8_t)(c->exitinfo2 - c->rip);
        break;
    case EXIT_MSR:
        e->kind = VMX_MSR;
        e->msr_write = c->exitinfo1 & 1;
        e->insn_len = 2;
        break;
    case EXIT_SHUTDOWN:
        e->kind = VMX_SHUTDOWN;
        break;
    case EXIT_TR_WRITE:
        e->kind = VMX_LTR;
        break;
    case EXIT_VMMCALL:
        e->kind = VMX_VMMCALL;
        e->insn_len = 3;
        break;
    case EXIT_XSETBV:
        e->kind = VMX_XSETBV;
        e->insn_len = 3;
        break;
    case EXIT_NPF:
        /* EXITINFO1 is a #PF-style error code, EXITINFO2 the faulting GPA. */
        e->kind = VMX_NPF;
        e->gpa = c->exitinfo2;
        e->write = (c->exitinfo1 >> 1) & 1;
        e->fetch = (c->exitinfo1 >> 4) & 1;
        break;
    default:
        /* Decode assists name the GPR of a MOV CR/DR (APM §15.8.1); QEMU has none. */
        e->ctl_gpr = (c->exitinfo1 >> 63) ? (int8_t)(c->exitinfo1 & 15) : -1;
        e->ctl_reg = code == EXIT_CR0_SEL ? 0 : (uint8_t)(code & 15);
        e->ctl_write = code >= EXIT_DR_READ + 16;
        if (code == EXIT_CR0_SEL || (code >= EXIT_CR_WRITE && code < EXIT_CR_WRITE + 16))
            e->kind = VMX_CR_WRITE;
        else if (code >= EXIT_DR_READ && code < EXIT_DR_READ + 32)
            e->kind = VMX_DR;
        else
            e->kind = VMX_OTHER;
        break;
    }
}

const struct platform platform_svm = {
    .name = "svm",
    .exit_kinds = (1u << COPRA_EXIT_KINDS) - 1,
    .cpu_init = svm_cpu_init,
    .vm_init = svm_vm_init,
    .vm_destroy = svm_vm_destroy,
    .vm_map = svm_vm_map,
    .vm_unmap = svm_vm_unmap,
    .vcpu_init = svm_vcpu_init,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_reset = svm_vcpu_reset,
    .vcpu_enter = svm_vcpu_enter,
    .get_state = svm_get_state,
    .set_state = svm_set_state,
    .event_pending = svm_event_pending,
    .irq_window_open = svm_irq_window_open,
    .nmi_allowed = svm_nmi_allowed,
    .inject = svm_inject,
    .request_window = svm_request_window,
};

bool svm_probe(void)
{
    uint32_t r[4];
    cpuid(0x80000000, 0, r);
    if (r[0] < 0x8000000A)
        return false;
    cpuid(0x80000001, 0, r);
    if (!(r[2] & (1u << 2)))   /* SVM */
        return false;
    cpuid(0x8000000A, 0, r);
    if (!(r[3] & 1))           /* NPT */
        kprintf("copra: svm: no nested paging; guests disabled\n");
    return r[3] & 1;
}
