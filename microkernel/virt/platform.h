/* SPDX-License-Identifier: MIT */
/*
 * The platform layer: the one interface between the generic VM/VCPU code
 * and a hardware backend, one file each.  `svm` runs under QEMU TCG and on
 * bare-metal AMD; `tdx` (TD partitioning: TDG.VP.ENTER, L2 VMCS fields
 * through TDG.VP.RD/WR) and `snp` (guest at VMPL1, RUN_VMPL through the
 * GHCB) implement the same operations.  platform.c picks the backend at
 * boot from what the CPU (or the TDX module, or the SNP firmware) reports.
 *
 * Rules every backend and the generic code keep:
 *   - A VCPU runs on the physical CPU it was created for, always (TDX keeps
 *     an L2 VMCS in one L1 vCPU's TDVPS; SNP registers a VMSA for one APIC
 *     ID): vcpu_wait moves its thread there, nothing moves a VCPU.  With
 *     `state_on_cpu` (tdx) vcpu_init and get/set_state from a syscall run
 *     there too (vcpu.c moves the calling thread for the call).
 *   - With `identity`, vm_map succeeds only for hpa == gpa: the platform
 *     grants the guest pages of the kernel's own physical space and cannot
 *     translate (TDG.MEM.PAGE.ATTR.WR, RMPADJUST).
 *   - vm_init refuses a VM beyond the platform's limit (COPRA_EFULL).
 *   - Only the exit kinds in `exit_kinds` (a bit per enum vm_exit_kind)
 *     can happen: on SNP without ReflectVC the guest's port I/O and MMIO
 *     never reach the kernel.
 */
#ifndef VIRT_PLATFORM_H
#define VIRT_PLATFORM_H

#include "core/kernel.h"

struct vm;
struct vcpu;
struct cpu;

/* What the generic code needs to know about an exit. */
enum vm_exit_kind {   /* the ABI's enum copra_exit_kind, which counts them */
    VMX_IO = COPRA_KIND_IO,             /* port I/O: io.* */
    VMX_NPF = COPRA_KIND_NPF,           /* nested page fault: gpa, write, fetch */
    VMX_CPUID = COPRA_KIND_CPUID,
    VMX_MSR = COPRA_KIND_MSR,           /* msr_write */
    VMX_HLT = COPRA_KIND_HLT,
    VMX_SHUTDOWN = COPRA_KIND_SHUTDOWN, /* triple fault */
    VMX_VMMCALL = COPRA_KIND_VMMCALL,
    VMX_INTR = COPRA_KIND_INTR,         /* a host interrupt arrived: the host must take it */
    VMX_WINDOW = COPRA_KIND_WINDOW,     /* the guest can take an interrupt now */
    VMX_CR_WRITE = COPRA_KIND_CR,       /* a write to ctl_reg (CR0, CR4, CR8) the kernel checks */
    VMX_DR = COPRA_KIND_DR,             /* a debug-register access: ctl_reg, ctl_write */
    VMX_LTR = COPRA_KIND_LTR,           /* LTR: the kernel loads TR itself */
    VMX_XSETBV = COPRA_KIND_XSETBV,     /* the guest writes an XCR: the VMM checks it */
    VMX_FAIL = COPRA_KIND_FAIL,         /* the platform refused the entry; the backend reset the VCPU's state */
    VMX_NONE = COPRA_KIND_NONE,         /* the backend handled it (NMI blocking): enter again */
    VMX_OTHER = COPRA_KIND_OTHER,       /* anything else: code/info1/info2 go to user space */
    VMX_NO_ENTRY = COPRA_EXIT_KINDS,    /* the guest did not run (TDX_PENDING_INTERRUPT): take the
                                           host interrupt and enter again; not an exit, not counted */
};

/* What the backend reports of an exit: kind, raw values, RIP and insn_len
 * always; the other fields only for the kinds they belong to. */
struct vm_exit {
    enum vm_exit_kind kind;
    uint64_t code, info1, info2;   /* raw platform values */
    uint64_t rip;                  /* of the exiting instruction */
    uint8_t insn_len;              /* length of the exiting instruction if known, else 0 */
    struct {
        uint16_t port;
        uint8_t size, in, string, rep;
    } io;
    uint64_t gpa;
    bool write, fetch;
    bool msr_write;
    uint8_t ctl_reg;               /* VMX_CR_WRITE, VMX_DR: register number */
    bool ctl_write;                /* VMX_DR */
    int8_t ctl_gpr;                /* the GPR operand if the platform decoded it, else -1 */
};

struct platform {
    const char *name;
    bool identity;                 /* guest-physical = host-physical (above) */
    bool state_on_cpu;             /* vcpu_init, get/set_state only on the VCPU's CPU (above) */
    uint32_t exit_kinds;           /* 1 << enum vm_exit_kind for each kind it reports */
    /* Per-CPU set-up (enable virtualization); false if this CPU cannot. */
    bool (*cpu_init)(struct cpu *cpu);
    /* COPRA_EFULL when the platform's VMs are all in use (TD partitioning:
     * NUM_L2_VMS, at most 3; SNP: VMPL1-3); the backend owns the slots. */
    int (*vm_init)(struct vm *vm);
    void (*vm_destroy)(struct vm *vm);
    /* Guest-physical -> host-physical, one 4 KiB page; COPRA_GUEST_* prot. */
    int (*vm_map)(struct vm *vm, uint64_t gpa, uint64_t hpa, uint32_t prot);
    void (*vm_unmap)(struct vm *vm, uint64_t gpa);
    int (*vcpu_init)(struct vcpu *v);
    void (*vcpu_destroy)(struct vcpu *v);
    /* Back to the initial state, control fields included (after VMX_FAIL). */
    void (*vcpu_reset)(struct vcpu *v);
    /* Runs the guest once on this CPU (interrupts off) and describes the exit.
     * v->gpr[] is loaded before and saved after. */
    void (*vcpu_enter)(struct vcpu *v, struct vm_exit *exit);
    /* One piece of guest state, by enum copra_state_id (not GPRs). */
    uint64_t (*get_state)(struct vcpu *v, unsigned id);
    int (*set_state)(struct vcpu *v, unsigned id, uint64_t value);
    /* Whether an event is already queued for the next entry (e.g. one whose
     * delivery an exit interrupted, re-queued by the backend). */
    bool (*event_pending)(struct vcpu *v);
    /* Whether an NMI can be injected now: not while the guest's handler of
     * the last one runs (until its IRET), as the CPU blocks NMIs. */
    bool (*nmi_allowed)(struct vcpu *v);
    /* Whether an external interrupt can be delivered now (IF=1, no shadow). */
    bool (*irq_window_open)(struct vcpu *v);
    /* Queue an event (COPRA_EVENT_* format) for the next entry, or ask for an
     * exit when the interrupt window opens. */
    void (*inject)(struct vcpu *v, uint64_t event);
    void (*request_window)(struct vcpu *v, bool on);
};

/* The backend in use, or NULL when the CPU cannot run guests. */
extern const struct platform *platform;
void platform_init(void);
void platform_cpu_init(struct cpu *cpu);

/* Each backend: its operations, and whether this machine offers it. */
extern const struct platform platform_svm, platform_tdx;
bool svm_probe(void);
bool tdx_probe(void);   /* CPUID said TDX: a TD with L2 VMs? */

#endif
