/* SPDX-License-Identifier: MIT */
/*
 * uint64_t tdx_call(uint64_t r[16])
 * One TDCALL (66 0F 01 CC) with every GPR but RSP and RBP loaded from r[]
 * (enum copra_gpr order: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15) and saved
 * back after it; returns RAX, the completion status.  The leaves use
 * different registers (reference A3, A4: TDG.VP.ENTER returns RAX-RDI and
 * R8-R13, TDG.VP.VMCALL passes R10-R15), so one routine serves them all.
 */
    .text
    .globl tdx_call
tdx_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi
    movq 8*0(%rdi), %rax
    movq 8*1(%rdi), %rcx
    movq 8*2(%rdi), %rdx
    movq 8*3(%rdi), %rbx
    movq 8*6(%rdi), %rsi
    movq 8*8(%rdi), %r8
    movq 8*9(%rdi), %r9
    movq 8*10(%rdi), %r10
    movq 8*11(%rdi), %r11
    movq 8*12(%rdi), %r12
    movq 8*13(%rdi), %r13
    movq 8*14(%rdi), %r14
    movq 8*15(%rdi), %r15
    movq 8*7(%rdi), %rdi
    .byte 0x66, 0x0f, 0x01, 0xcc    /* tdcall */
    pushq %rdi
    movq 8(%rsp), %rdi
    popq 8*7(%rdi)
    movq %rax, 8*0(%rdi)
    movq %rcx, 8*1(%rdi)
    movq %rdx, 8*2(%rdi)
    movq %rbx, 8*3(%rdi)
    movq %rsi, 8*6(%rdi)
    movq %r8, 8*8(%rdi)
    movq %r9, 8*9(%rdi)
    movq %r10, 8*10(%rdi)
    movq %r11, 8*11(%rdi)
    movq %r12, 8*12(%rdi)
    movq %r13, 8*13(%rdi)
    movq %r14, 8*14(%rdi)
    movq %r15, 8*15(%rdi)
    popq %rdi
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
