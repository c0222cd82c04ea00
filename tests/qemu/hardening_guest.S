/* SPDX-License-Identifier: MIT */
/*
 * Guest code for tests/qemu/hardening.c: data to this process, copied into
 * guest RAM at G32 (32-bit code) and G64 (64-bit code).  Addresses inside
 * are computed for those load addresses.  Every exception handler reports
 * its vector with `out al, 0x80` and halts with interrupts off.
 */
#define G32 0x2000
#define G64 0x3000
#define A32(x) ((x) - g32_start + G32)
#define A64(x) ((x) - g64_start + G64)

    .section .rodata
    .globl g32_start, g32_end, g64_start, g64_end
    .globl g32_ltr0, g32_ltr
    .globl g32_handlers, g32_int80, g32_cr0, g32_cr4, g32_spin, g32_ins, g32_movs, g32_x87, g32_tss
    .globl g64_handlers, g64_irq30, g64_dr, g64_cr8, g64_cr3, g64_tscaux

/* 32 exception handlers of 8 bytes (the same bytes in 32- and 64-bit code):
 * vector v at NAME + 8 * v reports v and halts. */
    .macro handlers
    .set v, 0
    .rept 32
    movb $v, %al
    outb %al, $0x80
    cli
1:  hlt
    jmp 1b
    .set v, v + 1
    .endr
    .endm

    .code32
g32_start:
g32_handlers:
    handlers
g32_int80:
    movl %esp, %ebx                 /* the stack the TSS gave */
    movb $0x80, %al
    outb %al, $0x80
    cli
1:  hlt
    jmp 1b

/* CR0.NW without CD: #GP, as MOV CR0 raises it. */
g32_cr0:
    movl $0x20000011, %eax
    movl %eax, %cr0
    movb $0xFF, %al                 /* no fault: wrong */
    outb %al, $0x80
1:  hlt
    jmp 1b

/* LTR with a null selector: #GP(0) (QEMU would load a not-present TR). */
g32_ltr0:
    xorl %eax, %eax
    ltr %ax
    movb $0xFF, %al
    outb %al, $0x80
1:  hlt
    jmp 1b

/* LTR of the TSS descriptor at 0x30, then a ring transition through it. */
g32_ltr:
    movw $0x30, %ax
    ltr %ax
    movb $0x81, %al
    outb %al, $0x80
    jmp g32_tss

/* A reserved CR4 bit: #GP. */
g32_cr4:
    movl %cr4, %eax
    orl $0x8000, %eax
    movl %eax, %cr4
    movb $0xFF, %al
    outb %al, $0x80
1:  hlt
    jmp 1b

/* Keeps the CPU with interrupts off: only the host's own interrupts end it. */
g32_spin:
    cli
1:  jmp 1b

/* INS into a page mapped read-only. */
g32_ins:
    movw $0x300, %dx
    movl $0x80000, %edi
    cld
    insb
    movb $0xFE, %al
    outb %al, $0x80
1:  hlt
    jmp 1b

/* MOVS from MMIO into the read-only page. */
g32_movs:
    movl $0xC0000000, %esi
    movl $0x80010, %edi
    cld
    movsl
    movb $0xFE, %al
    outb %al, $0x80
1:  hlt
    jmp 1b

/* An x87 error with CR0.NE clear (the reset CR0): FERR#, not #MF. */
g32_x87:
    fninit
    fldcw A32(cw_zm_unmasked)
    fldz
    fld1
    fdivp
    fwait
    fninit
    movb $0x87, %al
    outb %al, $0x80
1:  hlt
    jmp 1b
cw_zm_unmasked:
    .word 0x037B

/* To ring 3 and back through INT 0x80: the ring-0 stack comes from the
 * TSS that the reset TR names (base 0). */
g32_tss:
    pushl $0x23
    pushl $0xA000
    pushl $0x2
    pushl $0x1B
    pushl $A32(g32_user)
    iret
g32_user:
    int $0x80
1:  jmp 1b
g32_end:

    .code64
g64_start:
g64_handlers:
    handlers
g64_irq30:
    movb $0x30, %al
    outb %al, $0x80
    iretq

/* A breakpoint on the address in RBX (the host kernel's code), enabled,
 * then exits the host serves: the host must not stop at it. */
g64_dr:
    movq %rbx, %dr0
    movq $0x403, %rax
    movq %rax, %dr7
    movl $100, %ecx
1:  outb %al, $0x82
    decl %ecx
    jnz 1b
    movq %dr0, %rdx
    movq %dr7, %rsi
    movb $0x84, %al
    outb %al, $0x80
    movq %rbx, %dr7                 /* DR7[63:32] set: #GP */
    movb $0xFF, %al
    outb %al, $0x80
1:  hlt
    jmp 1b

/* CR8 writes while an interrupt waits for IF (an interrupt window is
 * requested), then the interrupt once IF=1. */
g64_cr8:
    cli
    outb %al, $0x85                 /* the host queues vector 0x30 now */
    movl $200, %ecx
1:  movq %rcx, %rax
    andq $15, %rax
    movq %rax, %cr8
    decl %ecx
    jnz 1b
    movq $5, %rax
    movq %rax, %cr8
    movq %cr8, %rdx
    xorl %eax, %eax
    movq %rax, %cr8
    sti
    nop
    nop
    cli
    movb $0x86, %al
    outb %al, $0x80
    movq $16, %rax
    movq %rax, %cr8                 /* above 15: #GP */
    movb $0xFF, %al
    outb %al, $0x80
1:  hlt
    jmp 1b

/* CR3 with bits above MAXPHYADDR in long mode. */
/* Reports the low byte of what RDTSCP reads as TSC_AUX, forever. */
g64_tscaux:
    rdtscp
    movb %cl, %al
    outb %al, $0x80
    jmp g64_tscaux

g64_cr3:
    movabsq $0x4000000000006000, %rax
    movq %rax, %cr3
    movb $0xFF, %al
    outb %al, $0x80
1:  hlt
    jmp 1b
g64_end:
