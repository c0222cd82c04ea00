/* SPDX-License-Identifier: MIT */
/*
 * The probe's assembly: tdcall(struct tdregs *) and the code of its L2 VM.
 */
    .text
    .code64
/*
 * void tdcall(struct tdregs *r): loads RAX, RCX, RDX, RBX, RSI, RDI,
 * R8-R15 from r (that order, 8 bytes each), executes TDCALL (66 0F 01 CC)
 * and stores the same registers back.
 */
    .globl tdcall
tdcall:
    push    %rbx
    push    %rbp
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    push    %rdi
    mov     %rdi, %rbp
    mov     0x00(%rbp), %rax
    mov     0x08(%rbp), %rcx
    mov     0x10(%rbp), %rdx
    mov     0x18(%rbp), %rbx
    mov     0x20(%rbp), %rsi
    mov     0x28(%rbp), %rdi
    mov     0x30(%rbp), %r8
    mov     0x38(%rbp), %r9
    mov     0x40(%rbp), %r10
    mov     0x48(%rbp), %r11
    mov     0x50(%rbp), %r12
    mov     0x58(%rbp), %r13
    mov     0x60(%rbp), %r14
    mov     0x68(%rbp), %r15
    .byte   0x66, 0x0f, 0x01, 0xcc  /* TDCALL */
    mov     (%rsp), %rbp
    mov     %rax, 0x00(%rbp)
    mov     %rcx, 0x08(%rbp)
    mov     %rdx, 0x10(%rbp)
    mov     %rbx, 0x18(%rbp)
    mov     %rsi, 0x20(%rbp)
    mov     %rdi, 0x28(%rbp)
    mov     %r8, 0x30(%rbp)
    mov     %r9, 0x38(%rbp)
    mov     %r10, 0x40(%rbp)
    mov     %r11, 0x48(%rbp)
    mov     %r12, 0x50(%rbp)
    mov     %r13, 0x58(%rbp)
    mov     %r14, 0x60(%rbp)
    mov     %r15, 0x68(%rbp)
    pop     %rdi
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbp
    pop     %rbx
    ret

/*
 * The L2 VM's code, alone in its page (aliased R+X for VM 1).  Each
 * instruction below is one exit the probe expects, in this order; RSI,
 * RDI and R8 come from the guest-state buffer.
 */
    .section .text.l2, "ax"
    .balign 4096
    .globl l2_code, l2_out_dx, l2_read_rsi, l2_mmio, l2_hlt, l2_spin, l2_vec30, l2_ud2, l2_tdcall, l2_cr, l2_cr_write, l2_msr, l2_rdmsr_exit
l2_code:
    mov     $0x42, %al
    out     %al, $0x99              /* I/O, immediate port, 1 byte */
    mov     $0x40000000, %eax
    cpuid                           /* CPUID */
    mov     $0x98, %dx
    mov     %ebx, %eax
l2_out_dx:
    out     %eax, %dx               /* I/O, port in DX, 4 bytes: L1's RBX */
l2_read_rsi:
    mov     (%rsi), %rax            /* EPT violation (read): no alias yet */
    mov     %rax, (%rsi)            /* EPT violation (write): aliased R only */
    mov     (%rdi), %rax            /* EPT violation: page pending (not accepted) */
l2_mmio:
    mov     (%r8), %eax             /* no L1 page: host-routed EPT violation (41 8B 00) */
l2_hlt:
    hlt                             /* HLT */
l2_spin:
    jmp     l2_spin                 /* interrupt window; then a physical interrupt */
l2_vec30:
    out     %al, $0x97              /* vector 0x30, injected by L1 through 0x4016 */
l2_ud2:
    ud2                             /* #UD, in L1's exception bitmap */
l2_tdcall:
    .byte   0x66, 0x0f, 0x01, 0xcc  /* TDCALL from L2: exit 77 */
    jmp     l2_spin
l2_cr:
    mov     %cr0, %rax              /* L1 owns CD: reads its shadow, no exit */
    out     %eax, $0x96             /* I/O: CR0 as L2 sees it */
    mov     %rax, %cr0              /* CD as in the shadow: no exit */
    btr     $30, %rax
l2_cr_write:
    mov     %rax, %cr0              /* CD against the shadow: CR access exit */
    mov     %cr4, %rbx              /* every CR4 bit is L1's: the shadow */
    mov     %ebx, %eax
    out     %eax, $0x96             /* I/O: CR4 as L2 sees it */
    jmp     l2_spin
l2_msr:
    mov     $0xC0000103, %ecx       /* TSC_AUX: clear in L1's bitmap, read natively */
    rdmsr
    out     %eax, $0x95             /* I/O: what L2 read */
l2_rdmsr_exit:
    mov     $0x10, %ecx             /* TSC: set in the bitmap */
    rdmsr                           /* RDMSR exit */
    jmp     l2_spin
    .balign 4096
