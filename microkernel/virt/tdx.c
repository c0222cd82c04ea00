/* SPDX-License-Identifier: MIT */
/*
 * The TDX-partitioning backend: Copra is the L1 VMM inside a TD, guests are
 * the TD's L2 VMs (shared/reference/tdx-snp-backends.md, A3-A9; encoders and
 * decoders in tdx_abi.h).  The TDX module owns the L2 VMCS: every field goes
 * through TDG.VP.RD/WR, GPRs, RIP and RFLAGS through the guest-state buffer,
 * guest memory is L1's own pages granted with TDG.MEM.PAGE.ATTR.WR.  An L2
 * VMCS lives in one L1 vCPU's TDVPS: a VCPU's state is reached only on its
 * CPU (platform.h `state_on_cpu`), and each CPU holds one VCPU per VM.
 * Never run on real TDX hardware: see HARDWARE.md.
 */
#include "virt/tdx_abi.h"
#include "virt/vcpu.h"
#include "virt/vm.h"
#include "virt/fpu.h"
#include "core/heap.h"
#include "core/memobj.h"
#include "core/initrd.h"
#include "core/string.h"
#include "core/thread.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/trap.h"

#define MSR_TSC_AUX 0xC0000103u
#define CR0_OWNED   (~0xAull)                /* every CR0 bit but MP and TS exits (svm.c INTERCEPT_CR0_SEL) */
#define CR0_WRITABLE 0x8005001Full           /* TDG.VP.WR masks (reference A7, TDP vmcs_lib.rs) */
#define CR4_WRITABLE 0x3FF1FBFull
#define EFER_WRITABLE 0x501ull
#define ENTRY_IA32E 0x200u                   /* VM-entry controls bit 9 = EFER.LMA (SDM 26.2.1.1) */
#define EFER_LMA (1ull << 10)
/* Primary controls (SDM table 25-6) L1 sets: interrupt window 2, CR3 load 15 / store 16,
 * CR8 load 19 / store 20, MOV-DR 23, all inside the writable mask 0x48F99A04 (A7). */
#define PROC_OWNED (VMCS_PROC_INTR_WINDOW | 1u << 15 | 1u << 16 | 1u << 19 | 1u << 20 | 1u << 23)
#define PROC_SET   (1u << 19 | 1u << 23)     /* CR8 writes and DR accesses exit, as on svm */
#define VAPIC_TPR 0x80                       /* TPR shadow in the virtual-APIC page (SDM 30.1.1) */
#define TDVMCALL_REGS 0xFC00u                /* RCX: R10-R15 go to the host (GHCI; Linux __tdx_hypercall) */

uint64_t tdx_call(uint64_t r[16]);   /* tdx_call.S */

/* The MSRs the guest accesses directly; every other one exits.  The first
 * five, the syscall MSRs, the module does not switch (A7): Copra loads the
 * guest's around TDG.VP.ENTER.  The L2 VMCS holds the rest (SYSENTER,
 * FS/GS base).  svm.c passes the same through, and PAT. */
static const uint32_t direct_msr[] = { 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000102,
                                       0x174, 0x175, 0x176, 0xC0000100, 0xC0000101 };
#define SWAPPED 5
static const uint8_t swapped_state[SWAPPED] = { COPRA_STATE_STAR, COPRA_STATE_LSTAR, COPRA_STATE_CSTAR,
                                                COPRA_STATE_SFMASK, COPRA_STATE_KERNEL_GS_BASE };

struct tdx_vcpu {
    struct tdx_l2_state *gs;   /* the guest-state buffer (one page) */
    uint64_t gs_pa, vapic_pa;
    uint64_t msr[SWAPPED];
    uint64_t cr2, dr6;
    uint64_t event;            /* COPRA_EVENT_* for the next entry */
    uint8_t event_len;         /* its instruction length (re-queued INTn) */
    uint32_t proc;             /* PROC_OWNED bits as last written */
    uint64_t tlb_gen;
};

static bool in_td;                                      /* tdx_probe() ran: measure the initrd */
static unsigned num_vms;                                /* TDG.VM.RD NUM_L2_VMS, at most 3 */
static uint32_t vm_used;                                /* bit n: L2 VM n is taken */
static struct vcpu *owner[TDX_MAX_VMS + 1][COPRA_CPUS_MAX];   /* the VCPU using a CPU's L2 VMCS */

static uint64_t vp_rd(uint64_t id, uint64_t *value)
{
    uint64_t r[16] = { [COPRA_RAX] = TDG_VP_RD, [COPRA_RDX] = id };
    uint64_t status = tdx_call(r);
    *value = status ? 0 : r[COPRA_R8];
    return status;
}

static uint64_t vp_wr(uint64_t id, uint64_t value, uint64_t mask)
{
    uint64_t r[16] = { [COPRA_RAX] = TDG_VP_WR, [COPRA_RDX] = id, [COPRA_R8] = value, [COPRA_R9] = mask };
    return tdx_call(r);
}

static uint64_t vmcs_rd(struct vcpu *v, uint32_t field)
{
    uint64_t value;
    vp_rd(tdx_vmcs_field_id(v->vm->asid, field, false), &value);
    return value;
}

static int vmcs_wr(struct vcpu *v, uint32_t field, uint64_t value, uint64_t mask)
{
    return vp_wr(tdx_vmcs_field_id(v->vm->asid, field, true), value, mask) ? COPRA_EINVAL : COPRA_OK;
}

/* The kernel console through TDG.VP.VMCALL<Instruction.IO> (a native IN/OUT
 * raises #VE in a TD): R12 size, R13 direction, R14 port, R15 data, R11 result
 * (reference A8; Linux arch/x86/coco/tdx/tdx.c handle_in()/handle_out()). */
static uint8_t tdx_port_io(uint16_t port, int value)
{
    uint64_t r[16] = { [COPRA_RAX] = TDG_VP_VMCALL, [COPRA_RCX] = TDVMCALL_REGS, [COPRA_R11] = TDVMCALL_IO,
                       [COPRA_R12] = 1, [COPRA_R13] = value >= 0, [COPRA_R14] = port,
                       [COPRA_R15] = (uint8_t)value };
    return tdx_call(r) || r[COPRA_R10] ? 0xFF : (uint8_t)r[COPRA_R11];
}

/*
 * #VE: an instruction of the kernel's own that a TD may not execute (port
 * I/O, HLT, an MSR or CPUID leaf the module does not virtualize).
 * TDG.VP.VEINFO.GET says which (exit reason, qualification, length in R10
 * 31:0); the host does it through TDG.VP.VMCALL, whose sub-functions are
 * numbered like the exit reasons; the kernel goes on after it (A8; Linux
 * tdx_handle_virt_exception()).  CPUID leaves outside the hypervisor range
 * read zero, as Linux has them: the host's answer is not to be trusted.
 */
static bool tdx_ve(struct trap_frame *f)
{
    uint64_t ve[16] = { [COPRA_RAX] = TDG_VP_VEINFO_GET };
    if (tdx_call(ve))
        return false;
    uint32_t reason = (uint32_t)ve[COPRA_RCX];
    uint64_t q = ve[COPRA_RDX], r[16] = { [COPRA_RAX] = TDG_VP_VMCALL, [COPRA_RCX] = TDVMCALL_REGS,
                                          [COPRA_R11] = reason, [COPRA_R12] = (uint32_t)f->rcx,
                                          [COPRA_R13] = f->rdx << 32 | (uint32_t)f->rax, [COPRA_R15] = f->rax };
    unsigned io_bits = 8 * ((q & 7) + 1);   /* SDM table 28-5: size - 1 in 2:0, IN 3, string 4, port 31:16 */
    switch (reason) {
    case TDVMCALL_IO:
        if (q & 0x10)
            return false;
        r[COPRA_R12] = io_bits / 8;
        r[COPRA_R13] = !(q & 8);
        r[COPRA_R14] = q >> 16;
        break;
    case TDVMCALL_HLT:
        r[COPRA_R12] = !(f->rflags & (1u << 9));   /* IF clear: only an NMI wakes it */
        break;
    case TDVMCALL_CPUID:
        r[COPRA_R12] = (uint32_t)f->rax;
        r[COPRA_R13] = (uint32_t)f->rcx;
        break;
    case TDVMCALL_RDMSR:
    case TDVMCALL_WRMSR:
        break;
    default:
        return false;
    }
    if (reason != TDVMCALL_CPUID || ((uint32_t)f->rax >> 28) == 4) {
        if (tdx_call(r) || r[COPRA_R10])
            return false;
    } else {
        r[COPRA_R12] = r[COPRA_R13] = r[COPRA_R14] = r[COPRA_R15] = 0;
    }
    if (reason == TDVMCALL_IO && (q & 8) && io_bits == 32)
        f->rax = (uint32_t)r[COPRA_R11];   /* a 32-bit write zero-extends */
    else if (reason == TDVMCALL_IO && (q & 8))
        f->rax = (f->rax & ~((1ull << io_bits) - 1)) | r[COPRA_R11];
    if (reason == TDVMCALL_RDMSR) {
        f->rax = (uint32_t)r[COPRA_R11];
        f->rdx = r[COPRA_R11] >> 32;
    }
    if (reason == TDVMCALL_CPUID) {
        f->rax = (uint32_t)r[COPRA_R12];
        f->rbx = (uint32_t)r[COPRA_R13];
        f->rcx = (uint32_t)r[COPRA_R14];
        f->rdx = (uint32_t)r[COPRA_R15];
    }
    f->rip += (uint32_t)ve[COPRA_R10];
    return true;
}

static bool tdx_cpu_init(struct cpu *cpu)
{
    (void)cpu;   /* nothing to enable: the module runs the L2 VMs */
    return true;
}

/* L2 VM indexes 1..num_vms, one per live VM (TDXM tdg_vp_enter() rejects others). */
static int tdx_vm_init(struct vm *vm)
{
    for (unsigned n = 1; n <= num_vms; n++) {
        uint32_t used = __atomic_load_n(&vm_used, __ATOMIC_RELAXED);
        if (!(used & (1u << n)) &&
            __atomic_compare_exchange_n(&vm_used, &used, used | (1u << n), false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            vm->asid = n;
            return COPRA_OK;
        }
    }
    return COPRA_EFULL;
}

/* ATTR.WR of one 4 KiB page for one VM.  The host may have to add L2
 * Secure-EPT pages first (a TD exit inside the call): the call is repeated
 * until the result holds the attributes asked for, once per EPT level as
 * Intel's L1 KVM does (ITDP td_part.c add_alias()). */
static bool attr_wr(unsigned vm, uint64_t gpa, uint16_t attr, bool invept)
{
    for (unsigned tries = 0; tries < 4; tries++) {
        uint64_t r[16] = { [COPRA_RAX] = TDG_MEM_PAGE_ATTR_WR, [COPRA_RCX] = gpa,
                           [COPRA_RDX] = tdx_attr_rdx(vm, attr), [COPRA_R8] = tdx_attr_r8(vm, invept) };
        if (!tdx_call(r) && ((r[COPRA_RDX] >> (16 * vm)) & TDX_GPA_ATTR_MASK) == (attr & TDX_GPA_ATTR_MASK))
            return true;
    }
    return false;
}

/* A private page is usable once accepted (accepting zeroes it);
 * TDX_PAGE_ALREADY_ACCEPTED is the common answer (A3). */
static bool tdx_accept(uint64_t gpa)
{
    uint64_t r[16] = { [COPRA_RAX] = TDG_MEM_PAGE_ACCEPT, [COPRA_RCX] = gpa };   /* level 0: 4 KiB */
    uint64_t status = tdx_call(r);
    return !status || (status & ~0xFFFFFFFFull) == TDX_PAGE_ALREADY_ACCEPTED;
}

/* SET_MEM_STATE (memobj.c): MapGPA moves the page to its shared alias (the
 * GPA with the shared bit) or back, and a page made private is accepted
 * before the kernel touches it again.  The host may answer RETRY, and does
 * nothing then (GHCI MapGPA; Linux tdx_map_gpa()). */
static int tdx_mem_state(uint64_t pa, bool shared)
{
    for (unsigned tries = 0; tries < 4; tries++) {
        uint64_t r[16] = { [COPRA_RAX] = TDG_VP_VMCALL, [COPRA_RCX] = TDVMCALL_REGS,
                           [COPRA_R11] = TDVMCALL_MAP_GPA, [COPRA_R12] = pa | (shared ? mem_shared_mask : 0),
                           [COPRA_R13] = PAGE_SIZE };
        if (tdx_call(r) || (r[COPRA_R10] && r[COPRA_R10] != TDVMCALL_STATUS_RETRY))
            return COPRA_ENOMEM;
        if (!r[COPRA_R10])
            return shared || tdx_accept(pa) ? COPRA_OK : COPRA_ENOMEM;
    }
    return COPRA_ENOMEM;
}

/* vm.c checked hpa == gpa (identity) and that the page is private. */
static int tdx_vm_map(struct vm *vm, uint64_t gpa, uint64_t hpa, uint32_t prot)
{
    (void)hpa;
    if (!tdx_accept(gpa))
        return COPRA_EINVAL;
    /* Readable always, as on svm (NPT has no write- or execute-only pages;
     * the module refuses W without R). */
    return attr_wr(vm->asid, gpa, tdx_gpa_attr(prot | COPRA_GUEST_R), false) ? COPRA_OK : COPRA_ENOMEM;
}

/* Valid alone removes the L2 alias; the same call flushes the VM's EPT
 * (A6), and every VCPU flushes again at its next entry (tlb_gen). */
static void tdx_vm_unmap(struct vm *vm, uint64_t gpa)
{
    if (!attr_wr(vm->asid, gpa, TDX_GPA_VALID, true))
        kprintf("copra: tdx: revoking gpa 0x%lx from VM %u failed\n", gpa, vm->asid);
}

/* The next VM with this index must not inherit a page: revoke them all. */
static void tdx_vm_destroy(struct vm *vm)
{
    for (struct vm_mapping *m = vm->maps; m; m = m->next)
        for (uint64_t i = 0; i < m->npages; i++)
            tdx_vm_unmap(vm, m->gpa + i * PAGE_SIZE);
    __atomic_and_fetch(&vm_used, ~(1u << vm->asid), __ATOMIC_ACQ_REL);
}

static int tdx_set_state(struct vcpu *v, unsigned id, uint64_t value);

/* The documented initial state (abi/README.md "Initial VCPU state", as
 * svm.c vmcb_reset_state()): 32-bit protected mode, paging off, flat
 * segments; and the control fields Copra owns. */
static void tdx_vcpu_reset(struct vcpu *v)
{
    struct tdx_vcpu *t = v->arch;
    static const struct { uint16_t id; uint64_t value; } init[] = {
        { COPRA_STATE_CR0, 0x11 }, { COPRA_STATE_CR3, 0 }, { COPRA_STATE_CR4, 0 }, { COPRA_STATE_EFER, 0 },
        { COPRA_STATE_PAT, 0x0007040600070406ull }, { COPRA_STATE_GDTR_BASE, 0 }, { COPRA_STATE_IDTR_BASE, 0 },
        { COPRA_STATE_GDTR_LIMIT, 0xFFFF }, { COPRA_STATE_IDTR_LIMIT, 0xFFFF }, { COPRA_STATE_SYSENTER_CS, 0 },
        { COPRA_STATE_SYSENTER_ESP, 0 }, { COPRA_STATE_SYSENTER_EIP, 0 },
    };
    memset(t->gs, 0, sizeof(*t->gs));
    t->gs->rflags = 2;
    memset(v->gpr, 0, sizeof(v->gpr));
    memset(t->msr, 0, sizeof(t->msr));
    t->cr2 = t->event = 0;
    t->dr6 = 0xFFFF0FF0;
    t->proc = PROC_SET;
    vmcs_wr(v, VMCS_PROC_CTLS, PROC_SET, PROC_OWNED);
    vmcs_wr(v, VMCS_EXCEPTION_BITMAP, 0, ~(1ull << 18));   /* #MC stays the module's (A7) */
    vmcs_wr(v, VMCS_CR0_MASK, CR0_OWNED, ~0ull);
    vmcs_wr(v, VMCS_CR4_MASK, ~0ull, ~0ull);
    vmcs_wr(v, VMCS_ENTRY_INTR_INFO, 0, ~0ull);
    vmcs_wr(v, VMCS_INTERRUPTIBILITY, 0, ~0ull);
    vmcs_wr(v, VMCS_GUEST_DR7, 0x400, ~0ull);   /* guest breakpoints live in struct vcpu (ctrlreg.c) */
    for (unsigned i = 0; i < ARRAY_SIZE(init); i++)
        tdx_set_state(v, init[i].id, init[i].value);
    for (unsigned seg = 0; seg < 8; seg++) {   /* ES CS SS DS FS GS LDTR TR */
        uint64_t sel = seg == COPRA_CS ? 0x08 : seg < COPRA_LDTR ? 0x10 : 0;
        uint64_t attr = seg == COPRA_CS ? 0xC9B : seg < COPRA_LDTR ? 0xC93 : seg == COPRA_LDTR ? 0x82 : 0x8B;
        tdx_set_state(v, COPRA_STATE_SEG(seg, COPRA_SEG_SEL), sel);
        tdx_set_state(v, COPRA_STATE_SEG(seg, COPRA_SEG_BASE), 0);
        tdx_set_state(v, COPRA_STATE_SEG(seg, COPRA_SEG_LIMIT), seg < COPRA_LDTR ? 0xFFFFFFFF : 0xFFFF);
        tdx_set_state(v, COPRA_STATE_SEG(seg, COPRA_SEG_ATTR), attr);
    }
    *(uint32_t *)((uint8_t *)phys_to_virt(t->vapic_pa) + VAPIC_TPR) = 0;
    v->nmi_block = 0;
    v->nmi_step = false;
}

static int tdx_vcpu_init(struct vcpu *v)
{
    unsigned vm = v->vm->asid;
    struct vcpu *none = NULL;
    if (cpu_this()->index != (unsigned)v->cpu ||
        !__atomic_compare_exchange_n(&owner[vm][v->cpu], &none, v, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return COPRA_EBUSY;   /* this CPU's L2 VMCS for the VM is taken */
    struct tdx_vcpu *t = kmalloc(sizeof(*t));
    uint64_t pa = page_alloc(2, 1);
    if (!t || !pa) {
        kfree(t);
        owner[vm][v->cpu] = NULL;
        return COPRA_ENOMEM;
    }
    memset(t, 0, sizeof(*t));
    t->gs_pa = pa;
    t->gs = phys_to_virt(pa);
    t->vapic_pa = pa + PAGE_SIZE;
    v->arch = t;
    /* TDG.VP.ENTER refuses a VM whose virtual-APIC page is unset (A4). */
    int err = vmcs_wr(v, VMCS_VIRTUAL_APIC, t->vapic_pa, ~0ull);
    err |= (int)vp_wr(MD_TDVPS_L2_CTLS(vm), 0, ~0ull);   /* no shared EPT, L2 TDCALLs come here */
    for (unsigned q = 0; q < 512 && !err; q++) {
        uint64_t bits = tdx_msr_bitmap_qword(q, direct_msr, ARRAY_SIZE(direct_msr));
        err = (int)vp_wr(tdx_msr_bitmap_field_id(vm, q, true), bits, ~0ull);
    }
    if (err) {
        kprintf("copra: tdx: VCPU set-up for VM %u refused\n", vm);
        return COPRA_EINVAL;   /* vcpu_destroy frees it */
    }
    tdx_vcpu_reset(v);
    return COPRA_OK;
}

static void tdx_vcpu_destroy(struct vcpu *v)
{
    struct tdx_vcpu *t = v->arch;
    page_free(t->gs_pa, 2);
    kfree(t);
    __atomic_store_n(&owner[v->vm->asid][v->cpu], NULL, __ATOMIC_RELEASE);
    v->arch = NULL;
}

static uint64_t *state_copy(struct tdx_vcpu *t, unsigned id)
{
    for (unsigned i = 0; i < SWAPPED; i++)
        if (swapped_state[i] == id)
            return &t->msr[i];
    return id == COPRA_STATE_CR2 ? &t->cr2 : id == COPRA_STATE_DR6 ? &t->dr6 : NULL;
}

static bool is_ar(uint32_t field) { return field >= VMCS_GUEST_AR && field <= VMCS_GUEST_AR + 2 * COPRA_TR; }

static uint64_t tdx_get_state(struct vcpu *v, unsigned id)
{
    struct tdx_vcpu *t = v->arch;
    uint64_t *copy = state_copy(t, id);
    uint32_t field = tdx_state_field(id);
    if (id == COPRA_STATE_RIP)
        return t->gs->rip;
    if (id == COPRA_STATE_RFLAGS)
        return t->gs->rflags;
    if (copy)
        return *copy;
    if (id == COPRA_STATE_CR8)
        return *(uint32_t *)((uint8_t *)phys_to_virt(t->vapic_pa) + VAPIC_TPR) >> 4;
    if (id == COPRA_STATE_CR0)   /* the bits Copra owns read as the guest last wrote them */
        return (vmcs_rd(v, VMCS_GUEST_CR0) & ~CR0_OWNED) | (vmcs_rd(v, VMCS_CR0_SHADOW) & CR0_OWNED);
    if (id == COPRA_STATE_CR4)
        return vmcs_rd(v, VMCS_CR4_SHADOW);
    uint64_t value = field ? vmcs_rd(v, field) : 0;
    return is_ar(field) ? tdx_attr_from_ar((uint32_t)value) : value;
}

static int tdx_set_state(struct vcpu *v, unsigned id, uint64_t value)
{
    struct tdx_vcpu *t = v->arch;
    uint64_t *copy = state_copy(t, id);
    uint32_t field = tdx_state_field(id);
    if (id == COPRA_STATE_RIP) {
        /* A new RIP completes the instruction: an STI or MOV-SS shadow ends (svm.c). */
        t->gs->rip = value;
        return vmcs_wr(v, VMCS_INTERRUPTIBILITY, 0, VMCS_BLOCK_STI | VMCS_BLOCK_MOV_SS);
    }
    if (id == COPRA_STATE_RFLAGS) {
        t->gs->rflags = value;
        return COPRA_OK;
    }
    if (copy) {
        *copy = value;
        return COPRA_OK;
    }
    if (id == COPRA_STATE_CR8) {
        *(uint32_t *)((uint8_t *)phys_to_virt(t->vapic_pa) + VAPIC_TPR) = (uint32_t)(value & 0xF) << 4;
        return COPRA_OK;
    }
    /* CR0, CR4: the shadow is what the guest reads; the module keeps the bits
     * VMX fixes (NE, VMXE, MCE) outside the write masks (A7). */
    if (id == COPRA_STATE_CR0)
        return vmcs_wr(v, VMCS_CR0_SHADOW, value, ~0ull) | vmcs_wr(v, VMCS_GUEST_CR0, value, CR0_WRITABLE);
    if (id == COPRA_STATE_CR4)
        return vmcs_wr(v, VMCS_CR4_SHADOW, value, ~0ull) | vmcs_wr(v, VMCS_GUEST_CR4, value, CR4_WRITABLE);
    if (id == COPRA_STATE_EFER)
        return vmcs_wr(v, VMCS_GUEST_EFER, value, EFER_WRITABLE) |
               vmcs_wr(v, VMCS_ENTRY_CTLS, (value & EFER_LMA) ? ENTRY_IA32E : 0, ENTRY_IA32E);
    if (!field)
        return COPRA_EINVAL;   /* TSC_OFFSET: the module's */
    if (is_ar(field))
        /* TR must read as busy for VM entry (SDM 26.3.1.2); the ABI's TR is available or busy. */
        value = tdx_ar_from_attr(value | (field == VMCS_GUEST_AR + 2 * COPRA_TR ? 2 : 0));
    return vmcs_wr(v, field, value, ~0ull);
}

static bool tdx_event_pending(struct vcpu *v)
{
    return ((struct tdx_vcpu *)v->arch)->event & COPRA_EVENT_VALID;
}

/* Virtual NMIs (the module's pin-based controls): the CPU blocks NMIs
 * until the guest's IRET and shows it in the interruptibility state. */
static bool tdx_nmi_allowed(struct vcpu *v)
{
    return !(vmcs_rd(v, VMCS_INTERRUPTIBILITY) & VMCS_BLOCK_NMI);
}

static bool tdx_irq_window_open(struct vcpu *v)
{
    struct tdx_vcpu *t = v->arch;
    return (t->gs->rflags & (1u << 9)) && !(vmcs_rd(v, VMCS_INTERRUPTIBILITY) & (VMCS_BLOCK_STI | VMCS_BLOCK_MOV_SS));
}

static void tdx_inject(struct vcpu *v, uint64_t event)
{
    struct tdx_vcpu *t = v->arch;
    t->event = event;
    t->event_len = 0;
}

static void tdx_request_window(struct vcpu *v, bool on)
{
    struct tdx_vcpu *t = v->arch;
    uint32_t proc = on ? t->proc | VMCS_PROC_INTR_WINDOW : t->proc & ~VMCS_PROC_INTR_WINDOW;
    if (proc != t->proc && !vmcs_wr(v, VMCS_PROC_CTLS, proc, VMCS_PROC_INTR_WINDOW))
        t->proc = proc;
}

static void tdx_vcpu_enter(struct vcpu *v, struct vm_exit *e)
{
    struct tdx_vcpu *t = v->arch;
    unsigned vm = v->vm->asid;
    uint64_t gen = __atomic_load_n(&v->vm->tlb_gen, __ATOMIC_ACQUIRE), l1[SWAPPED];
    if (t->event & COPRA_EVENT_VALID) {   /* VM-entry event injection (A8) */
        vmcs_wr(v, VMCS_ENTRY_ERROR_CODE, tdx_entry_error(t->event), ~0ull);
        vmcs_wr(v, VMCS_ENTRY_INSN_LEN, t->event_len, ~0ull);
        vmcs_wr(v, VMCS_ENTRY_INTR_INFO, tdx_entry_info(t->event), ~0ull);
    }
    memcpy(t->gs->gpr, v->gpr, sizeof(v->gpr));
    for (unsigned i = 0; i < SWAPPED; i++) {
        l1[i] = rdmsr(direct_msr[i]);
        wrmsr(direct_msr[i], t->msr[i]);
    }
    uint64_t cr2 = read_cr2();
    write_cr2(t->cr2);
    fpu_enter(v, cpu_this()->index);
    if (v->tsc_aux)
        wrmsr(MSR_TSC_AUX, v->tsc_aux);
    /* A mapping went away since this VCPU last entered: flush its EPT (A4 RCX 1:0). */
    uint64_t r[16] = { [COPRA_RAX] = TDG_VP_ENTER, [COPRA_RDX] = t->gs_pa,
                       [COPRA_RCX] = tdx_enter_rcx(vm, t->tlb_gen != gen ? TDX_TLB_INVEPT : TDX_TLB_NONE) };
    tdx_call(r);
    if (v->tsc_aux)
        wrmsr(MSR_TSC_AUX, 0);
    fpu_exit(v);
    t->cr2 = read_cr2();
    write_cr2(cr2);
    for (unsigned i = 0; i < SWAPPED; i++) {
        t->msr[i] = rdmsr(direct_msr[i]);
        wrmsr(direct_msr[i], l1[i]);
    }
    tdx_exit_decode(r, t->gs->rip, e);
    if (e->kind == VMX_NO_ENTRY)
        return;   /* nothing ran: the event stays queued, the flush still due */
    t->tlb_gen = gen;
    memcpy(v->gpr, t->gs->gpr, sizeof(v->gpr));
    /* An event the exit interrupted is delivered again (R10: IDT-vectoring
     * information and error code, A8), with its instruction length for INTn. */
    t->event = tdx_event_of((uint32_t)r[COPRA_R10], (uint32_t)(r[COPRA_R10] >> 32));
    t->event_len = (uint8_t)(r[COPRA_R11] >> 32);
}

const struct platform platform_tdx = {
    .name = "tdx",
    .identity = true,
    .state_on_cpu = true,
    .exit_kinds = TDX_EXIT_KINDS,
    .cpu_init = tdx_cpu_init,
    .vm_init = tdx_vm_init,
    .vm_destroy = tdx_vm_destroy,
    .vm_map = tdx_vm_map,
    .vm_unmap = tdx_vm_unmap,
    .vcpu_init = tdx_vcpu_init,
    .vcpu_destroy = tdx_vcpu_destroy,
    .vcpu_reset = tdx_vcpu_reset,
    .vcpu_enter = tdx_vcpu_enter,
    .get_state = tdx_get_state,
    .set_state = tdx_set_state,
    .event_pending = tdx_event_pending,
    .irq_window_open = tdx_irq_window_open,
    .nmi_allowed = tdx_nmi_allowed,
    .inject = tdx_inject,
    .request_window = tdx_request_window,
};

/* Called when CPUID says TDX: the console moves to TDG.VP.VMCALL, and
 * guests need a TD created with L2 VMs (A2: TDG.VM.RD NUM_L2_VMS). */
bool tdx_probe(void)
{
    serial_port_io = tdx_port_io;
    trap_platform_hook = tdx_ve;
    trap_platform_vector = 20;
    in_td = true;
    uint64_t r[16] = { [COPRA_RAX] = TDG_VM_RD, [COPRA_RDX] = MD_TDCS_NUM_L2_VMS };
    if (tdx_call(r) || !r[COPRA_R8]) {
        kprintf("copra: tdx: the TD has no L2 VMs (num_l2_vms = 0): guests disabled\n");
        return false;
    }
    num_vms = MIN(r[COPRA_R8], TDX_MAX_VMS);
    /* TDG.VP.INFO RCX 5:0: the GPA width; its top bit selects the shared alias (A6). */
    uint64_t info[16] = { [COPRA_RAX] = TDG_VP_INFO };
    if (tdx_call(info) || (info[COPRA_RCX] & 0x3F) < 32 || (info[COPRA_RCX] & 0x3F) > 52) {
        kprintf("copra: tdx: TDG.VP.INFO failed: guests disabled\n");
        return false;
    }
    mem_shared_mask = 1ull << ((info[COPRA_RCX] & 0x3F) - 1);
    mem_state_hook = tdx_mem_state;
    return true;
}

/* Measured launch: the initrd manifest's SHA-384 (it names every server
 * and its digest; initrd_init() ran before this hook) goes into RTMR 2, so
 * a quote ties the servers that run to the TD.  A failed extension stops
 * the boot: RTMR 2 would not describe what runs, and a verifier that
 * accepted it would trust servers nobody measured. */
static void tdx_measure(void)
{
    static uint8_t data[48] __attribute__((aligned(TDX_RTMR_DATA_ALIGN)));
    uint64_t r[16] = { 0 };
    if (!in_td)
        return;
    memcpy(data, initrd_manifest_sha384, sizeof(data));
    if (!tdx_rtmr_extend_args(virt_to_phys(data), TDX_RTMR_OS, r) || tdx_call(r)) {
        kprintf("copra: boot error: tdx: extending RTMR[%u] failed: status 0x%lx\n", TDX_RTMR_OS, r[COPRA_RAX]);
        cpu_poweroff(COPRA_STATUS_BOOT_ERROR);
    }
    kprintf("copra: tdx: RTMR[%u] extended with the manifest sha384 ", TDX_RTMR_OS);
    for (unsigned i = 0; i < sizeof(data); i++)
        kprintf("%02x", data[i]);
    kprintf("\n");
}
KERNEL_INIT(tdx_measure);
