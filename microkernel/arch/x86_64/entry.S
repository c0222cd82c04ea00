/* SPDX-License-Identifier: MIT */
/*
 * Interrupt, exception and syscall entry, the return to user mode, the
 * thread context switch and the user-memory copy routines.
 *
 * Every vector enters through a stub that makes the stack look the same
 * (an error code, real or 0, then the vector), then trap_common saves the
 * GPRs into a struct trap_frame (trap.h) and calls trap_dispatch().
 */
#include "arch/x86_64/asm.h"

/* CLAC, which faults on a CPU without SMAP, only where cpu.c enabled it. */
.macro clac_if_smap
    testb $1, smap_enabled(%rip)
    jz 1f
    clac
1:
.endm

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .text
    .align 16
    .globl trap_stubs
trap_stubs:
    vector = 0
    .rept 256
    .align 16
    .if !HAS_ERR(vector)
    pushq $0
    .endif
    pushq $vector
    .if vector == 1 || vector == 2 || vector == 8 || vector == 18
    jmp trap_ist
    .else
    jmp trap_common
    .endif
    vector = vector + 1
    .endr

/*
 * #DB, NMI, #DF and #MC arrive on this CPU's own IST stacks (cpu.c).  From
 * user mode the frame moves to the thread's kernel stack (word 1 at the
 * IST stack's base), so the handler may block or end the thread as on any
 * other vector; from kernel mode it stays where it is.
 */
trap_ist:
    testb $3, 24(%rsp)              /* CS: above vector, error code, RIP */
    jz trap_common
    movq %rax, -8(%rsp)
    movq %rcx, -16(%rsp)
    movq %rsp, %rax
    andq $-KSTACK_SIZE, %rax
    movq 8(%rax), %rax
    subq $56, %rax                  /* vector, error, RIP, CS, RFLAGS, RSP, SS */
    .irp off, 0, 8, 16, 24, 32, 40, 48
    movq \off(%rsp), %rcx
    movq %rcx, \off(%rax)
    .endr
    movq -16(%rsp), %rcx
    xchgq %rax, %rsp
    movq -8(%rax), %rax

trap_common:
    /* SMAP: user mode may have set RFLAGS.AC; never run the kernel with it. */
    clac_if_smap
    .irp r, rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15
    pushq %\r
    .endr
    mov %rsp, %rdi
    cld
    call trap_dispatch
    .globl trap_return
trap_return:
    .irp r, r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax
    popq %\r
    .endr
    add $16, %rsp                   /* vector, error code */
    iretq

/*
 * void context_switch(uint64_t *save_rsp, uint64_t new_rsp)
 * Saves the callee-saved registers on the current stack, stores RSP in
 * *save_rsp, loads new_rsp and pops the new thread's registers.
 */
    .globl context_switch
context_switch:
    .irp r, rbx, rbp, r12, r13, r14, r15
    pushq %\r
    .endr
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    .irp r, r15, r14, r13, r12, rbp, rbx
    popq %\r
    .endr
    ret

/* First code of a new thread: finish the switch in C, then leave through
 * the trap frame that thread_create() placed above. */
    .globl thread_trampoline
thread_trampoline:
    call thread_started
    jmp trap_return

/*
 * int64_t usercopy(void *dst, const void *src, size_t len)
 * Copies with SMAP lifted.  A fault between usercopy_start and usercopy_end
 * is redirected by trap.c to usercopy_fault, which returns COPRA_EFAULT.
 * The callers check that the user side lies below COPRA_USER_END first.
 */
    .globl usercopy, usercopy_start, usercopy_end, usercopy_fault
usercopy:
    testb $1, smap_enabled(%rip)
    jz usercopy_start
    stac
usercopy_start:
    /* Quadwords, then the tail (each REP iteration costs under TCG). */
    mov %rdx, %rcx
    shr $3, %rcx
    rep movsq
    mov %rdx, %rcx
    and $7, %rcx
    rep movsb
usercopy_end:
    clac_if_smap
    xor %eax, %eax
    ret
usercopy_fault:
    clac_if_smap
    mov $-7, %rax                   /* COPRA_EFAULT */
    ret
