/* SPDX-License-Identifier: MIT */
/*
 * Guest x87/SSE/AVX state.  The host never uses the FPU (everything is
 * built -mgeneral-regs-only) and keeps CR0.TS set, so a process that tries
 * faults with #NM; the registers therefore hold the state of the last VCPU
 * that ran on the CPU (its "owner") until another VCPU enters there.  A
 * VCPU runs on the one CPU VCPU_CREATE bound it to, so its state is either
 * in that CPU's registers (it is the owner there) or in its area.
 */
#ifndef VIRT_FPU_H
#define VIRT_FPU_H

#include "core/kernel.h"

struct vcpu;

struct fpu {
    void *area;          /* XSAVE (or FXSAVE) image, one page, when not loaded */
    uint64_t xcr0;       /* the guest's XCR0 (COPRA_STATE_XCR0) */
};

/* Host set-up of this CPU: CR0.TS and MP, CR4.OSFXSR/OSXMMEXCPT/OSXSAVE, XCR0. */
void fpu_cpu_init(void);
int fpu_vcpu_init(struct vcpu *v);
void fpu_vcpu_destroy(struct vcpu *v);
/* Around VMRUN on this CPU (`cpu`), interrupts off: load v's registers and
 * XCR0; after it, back to the host's XCR0. */
void fpu_enter(struct vcpu *v, unsigned cpu);
void fpu_exit(struct vcpu *v);
/* The guest's XMM/YMM register `reg` as n bytes (4, 8, 16 or 32) for the
 * MMIO moves, read, or written as the instruction writes it (MOVD/MOVQ zero
 * the rest of the XMM register; a VEX encoding also the upper YMM half).  Its registers
 * are taken into the area first, on its CPU. */
void fpu_vector(struct vcpu *v, unsigned reg, uint8_t *bytes, unsigned n, bool write, bool vex);
/* COPRA_STATE_XCR0 from the VMM (which serves the XSETBV exit): 0 or COPRA_EINVAL. */
int fpu_set_xcr0(struct vcpu *v, uint64_t xcr0);

#endif
