/* SPDX-License-Identifier: MIT */
/*
 * void svm_run(uint64_t vmcb_pa, uint64_t *gpr, uint64_t host_save_pa)
 * VMRUN switches only RAX, RSP, RIP, RFLAGS, segments and control registers
 * (APM vol. 2 §15.5.1); the other GPRs are loaded from and saved to gpr[]
 * here.  VMLOAD/VMSAVE swap FS, GS, TR, LDTR and the SYSCALL/SYSENTER MSRs,
 * which the guest owns while it runs; the host's copy is reloaded from its
 * per-CPU save area.  The caller has cleared GIF (CLGI) and sets it after.
 */
    .text
    .globl svm_run
svm_run:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdx                      /* host save area */
    pushq %rsi                      /* gpr[] */
    pushq %rdi                      /* VMCB */
    movq 8*1(%rsi), %rcx
    movq 8*2(%rsi), %rdx
    movq 8*3(%rsi), %rbx
    movq 8*5(%rsi), %rbp
    movq 8*7(%rsi), %rdi
    movq 8*8(%rsi), %r8
    movq 8*9(%rsi), %r9
    movq 8*10(%rsi), %r10
    movq 8*11(%rsi), %r11
    movq 8*12(%rsi), %r12
    movq 8*13(%rsi), %r13
    movq 8*14(%rsi), %r14
    movq 8*15(%rsi), %r15
    movq 8*6(%rsi), %rsi
    movq (%rsp), %rax               /* VMCB physical address */
    vmload %rax
    vmrun %rax
    vmsave %rax
    movq 8(%rsp), %rax              /* gpr[] (RAX and RSP live in the VMCB) */
    movq %rcx, 8*1(%rax)
    movq %rdx, 8*2(%rax)
    movq %rbx, 8*3(%rax)
    movq %rbp, 8*5(%rax)
    movq %rsi, 8*6(%rax)
    movq %rdi, 8*7(%rax)
    movq %r8, 8*8(%rax)
    movq %r9, 8*9(%rax)
    movq %r10, 8*10(%rax)
    movq %r11, 8*11(%rax)
    movq %r12, 8*12(%rax)
    movq %r13, 8*13(%rax)
    movq %r14, 8*14(%rax)
    movq %r15, 8*15(%rax)
    movq 16(%rsp), %rax             /* host FS/GS/TR/LDTR and MSRs */
    vmload %rax
    addq $24, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
