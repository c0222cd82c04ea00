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
    testb $1, smap_enabled(%rip)
    jz 1f
    clac
1:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    cld
    call trap_dispatch
    .globl trap_return
trap_return:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp                   /* vector, error code */
    iretq

/*
 * void context_switch(uint64_t *save_rsp, uint64_t new_rsp)
 * Saves the callee-saved registers on the current stack, stores RSP in
 * *save_rsp, loads new_rsp and pops the new thread's registers.
 */
    .globl context_switch
context_switch:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
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
    testb $1, smap_enabled(%rip)
    jz 1f
    clac
1:  xor %eax, %eax
    ret
usercopy_fault:
    testb $1, smap_enabled(%rip)
    jz 2f
    clac
2:  mov $-7, %rax                   /* COPRA_EFAULT */
    ret
