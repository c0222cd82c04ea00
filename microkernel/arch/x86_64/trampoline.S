/* SPDX-License-Identifier: MIT */
/*
 * Start-up code for the other CPUs.  smp.c copies it to TRAMPOLINE_PA
 * (below 1 MiB, where a SIPI can point) and fills in the data words; a CPU
 * starts here in real mode, goes through protected mode into long mode on
 * the kernel's page tables and jumps to ap_main(cpu) on its idle stack.
 */
#include "arch/x86_64/boot.h"

#define TRAMPOLINE_PA 0x8000
#define T(sym) (TRAMPOLINE_PA + (sym) - trampoline_start)

    .section .rodata
    .globl trampoline_start, trampoline_end, trampoline_cr3, trampoline_stack
    .globl trampoline_cpu, trampoline_entry
    .code16
trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl T(tramp_gdtr)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $0x08, $T(tramp_pm32)

    .code32
tramp_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl T(trampoline_cr3), %eax
    enter_long_mode
    ljmpl $0x18, $T(tramp_lm64)

    .code64
tramp_lm64:
    movq T(trampoline_stack), %rsp
    movq T(trampoline_cpu), %rdi
    movq T(trampoline_entry), %rax
    xorl %ebp, %ebp
    jmp *%rax

    .align 8
tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF        /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
    .quad 0x00AF9A000000FFFF        /* 0x18: 64-bit code */
tramp_gdtr:
    .word tramp_gdtr - tramp_gdt - 1
    .long T(tramp_gdt)
    .align 8
trampoline_cr3:   .quad 0
trampoline_stack: .quad 0
trampoline_cpu:   .quad 0
trampoline_entry: .quad 0
trampoline_end:
