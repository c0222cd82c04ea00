/* SPDX-License-Identifier: MIT */
/*
 * The application processors' start code for tests/guests/sipi.c: 16-bit
 * real mode, copied to 0x8000 (SIPI vector 0x08) by the boot VCPU.  It
 * records what it finds (CS, CR0, EDX) at 0x8F10 + 16 * n (n = 0xF08, the
 * starts so far), counts itself at 0xF0A,
 * then halts with interrupts off.  An NMI (IVT entry 2 points at nmi_entry
 * with CS = 0x0800) is counted and returns to the HLT loop.
 */
    .section .rodata
    .code16
    .globl sipi_tramp_start, sipi_tramp_end, sipi_tramp_nmi
sipi_tramp_start:
    cli
    movw %cs, %ax
    movw %ax, %ds
    movw $1, %bx
    lock xaddw %bx, 0xF08          /* bx = n, the starts before this one */
    shlw $4, %bx
    movw %ax, 0xF10(%bx)           /* CS */
    movl %cr0, %eax
    movl %eax, 0xF14(%bx)          /* CR0 */
    movl %edx, 0xF18(%bx)          /* EDX: the processor signature after INIT */
    lock incw 0xF0A                /* started */
1:  hlt
    jmp 1b
sipi_tramp_nmi = . - sipi_tramp_start
    pushw %ds
    pushw %cs
    popw %ds
    lock incw 0xF0C                /* NMIs taken */
    popw %ds
    iret
sipi_tramp_end:
    .code64
