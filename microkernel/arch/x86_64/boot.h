/* SPDX-License-Identifier: MIT */
/* Assembler macros of the start-up code (boot.S, trampoline.S): assembly
 * only, so no C file includes it. */
#ifndef ARCH_X86_64_BOOT_H
#define ARCH_X86_64_BOOT_H

#include "arch/x86_64/asm.h"

/* From 32-bit protected mode, paging off, EAX = the PML4, into long mode
 * (Intel SDM vol. 3 §9.8.5): the boot CPU (boot.S) and the others
 * (trampoline.S).  CR3 may be loaded first: it is unused until CR0.PG. */
.macro enter_long_mode
    mov %eax, %cr3
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $(EFER_LME | EFER_NXE), %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PG | CR0_WP), %eax
    mov %eax, %cr0
.endm

#endif
