/* SPDX-License-Identifier: MIT */
/* A guest's control and debug registers: checks and emulation (ctrlreg.c). */
#ifndef VIRT_CTRLREG_H
#define VIRT_CTRLREG_H

#include "core/kernel.h"

struct vcpu;

/* What an emulated write raises in the guest (0: done). */
#define CTRL_GP 13
#define CTRL_UD 6
#define CTRL_NP 11
#define CTRL_PF 14

/* A value VCPU_SET_STATE may store for `id` on its own: COPRA_OK or COPRA_EINVAL. */
int ctrl_check_state(unsigned id, uint64_t value);
/* The combinations of CR0, CR4, EFER and CS an entry needs (after the VMM set state). */
bool ctrl_check_entry(struct vcpu *v);

/* Guest writes and reads: 0, CTRL_GP or CTRL_UD. */
int ctrl_write_cr(struct vcpu *v, unsigned cr, uint64_t value);
int ctrl_write_efer(struct vcpu *v, uint64_t value);
int ctrl_dr_read(struct vcpu *v, unsigned dr, uint64_t *value);
int ctrl_dr_write(struct vcpu *v, unsigned dr, uint64_t value);

#endif
