/* SPDX-License-Identifier: MIT */
/*
 * 256 interrupt stubs, 16 bytes apart from isr_stubs (runtime.c points IDT
 * gate n at isr_stubs + 16 * n).  Each pushes an error code of 0 where the
 * CPU pushes none (SDM vol. 3 §6.13: vectors 8, 10-14, 17, 21, 29, 30 have
 * one) and the vector, then joins isr_common, which saves the GPRs and
 * calls guest_isr(struct guest_frame *).
 */
    .text
    .code64
    .align 16
    .globl isr_stubs
isr_stubs:
    .set    vector, 0
    .rept   256
    .align  16
    .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    pushq   $0
    .endif
    pushq   $vector
    jmp     isr_common
    .set    vector, vector + 1
    .endr

isr_common:
    push    %rax
    push    %rcx
    push    %rdx
    push    %rbx
    push    %rbp
    push    %rsi
    push    %rdi
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, %rdi
    cld
    call    guest_isr
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rdi
    pop     %rsi
    pop     %rbp
    pop     %rbx
    pop     %rdx
    pop     %rcx
    pop     %rax
    add     $16, %rsp
    iretq
