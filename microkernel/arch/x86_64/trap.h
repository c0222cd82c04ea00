/* SPDX-License-Identifier: MIT */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include "core/kernel.h"

/* What entry.S saves on the kernel stack, lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;          /* pushed by the CPU */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame matches entry.S");

#define VECTOR_TIMER    0x20
#define VECTOR_WAKEUP   0xF0   /* IPI: a thread was queued on an idle CPU */
#define VECTOR_TLB      0xF1   /* IPI: flush this CPU's TLB */
#define VECTOR_KICK     0xF2   /* IPI: enter the kernel (process exit, later VCPU kick) */
#define VECTOR_SPURIOUS 0xFF

void trap_dispatch(struct trap_frame *f);
/* A confidential platform's exception for what the kernel itself executes
 * (TDX #VE 20, SNP #VC 29): the hook emulates it and returns true, or
 * false for a fault. */
extern bool (*trap_platform_hook)(struct trap_frame *f);
extern uint8_t trap_platform_vector;
void trap_print_frame(const struct trap_frame *f);
const char *trap_vector_name(uint64_t vector);

static inline bool trap_from_user(const struct trap_frame *f) { return (f->cs & 3) == 3; }

#endif
