/* SPDX-License-Identifier: MIT */
/*
 * Guest x87/SSE/AVX state.  The host never uses the FPU (everything is
 * built -mgeneral-regs-only) and keeps CR0.TS set, so a process that tries
 * faults with #NM; the registers therefore hold the state of the last VCPU
 * that ran on the CPU (its "owner") until another VCPU enters there.
 */
#ifndef VIRT_FPU_H
#define VIRT_FPU_H

#include "core/kernel.h"

struct vcpu;
struct vm_exit;

struct fpu {
    void *area;          /* XSAVE (or FXSAVE) image, one page, when not loaded */
    uint64_t xcr0;       /* the guest's XCR0 */
    uint64_t xcr0_mask;  /* COPRA_STATE_XCR0_MASK: what XSETBV may enable */
};

/* Host set-up of this CPU: CR0.TS and MP, CR4.OSFXSR/OSXMMEXCPT/OSXSAVE, XCR0. */
void fpu_cpu_init(void);
int fpu_vcpu_init(struct vcpu *v);
void fpu_vcpu_destroy(struct vcpu *v);
/* Around VMRUN, interrupts off: load v's registers and XCR0; back to the host's XCR0. */
void fpu_enter(struct vcpu *v);
void fpu_exit(struct vcpu *v);
/* The XSETBV exit: checked as the CPU would, within the mask; 0 = re-enter. */
int fpu_xsetbv(struct vcpu *v, const struct vm_exit *e);
/* COPRA_STATE_XCR0 and _XCR0_MASK; false if `id` is not one of them. */
bool fpu_get_state(struct vcpu *v, unsigned id, uint64_t *value);
bool fpu_set_state(struct vcpu *v, unsigned id, uint64_t value, int *err);

#endif
