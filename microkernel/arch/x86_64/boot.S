/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 entry.  QEMU jumps here in 32-bit protected mode, paging off,
 * EAX = 0x2BADB002, EBX = physical address of the multiboot info.  We build
 * a throw-away page table (identity 0-2 GiB so this code, loaded at 1 GiB,
 * keeps running, and the same 2 GiB at KERNEL_VBASE), enter long mode and
 * jump to the higher half.  paging_init() replaces these tables with the
 * real ones.
 */
#include "arch/x86_64/boot.h"

#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003        /* page-align modules, give memory info */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .boot.bss, "aw", @nobits
    .align 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 8192             /* two page directories: 0-1 GiB, 1-2 GiB */
boot_stack:     .skip 4096
boot_stack_top:

    .section .boot.data, "aw"
    .align 16
boot_gdt:
    .quad 0
    .quad 0x00209A0000000000        /* 0x08: 64-bit code */
    .quad 0x0000920000000000        /* 0x10: data */
boot_gdt_end:
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
boot_no_lm_msg:
    .asciz "copra: this CPU has no long mode\n"

    .section .boot.text, "ax"
    .code32
    .globl boot_entry32
boot_entry32:
    cli
    cld
    mov $boot_stack_top, %esp
    mov %eax, %esi                  /* multiboot magic */
    mov %ebx, %edi                  /* multiboot info (physical) */

    mov $0x80000001, %eax
    cpuid
    bt $29, %edx                    /* long mode */
    jnc boot_no_long_mode

    /* boot_pd: 1024 x 2 MiB pages covering 0-2 GiB. */
    mov $boot_pd, %ebx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                  /* P | RW | PS */
    mov %eax, (%ebx, %ecx, 8)
    movl $0, 4(%ebx, %ecx, 8)
    inc %ecx
    cmp $1024, %ecx
    jne 1b

    mov $boot_pdpt_low, %eax
    movl $(boot_pd + 3), (%eax)
    movl $(boot_pd + 4096 + 3), 8(%eax)
    mov $boot_pdpt_high, %eax
    movl $(boot_pd + 3), 510*8(%eax)    /* 0xFFFFFFFF80000000 -> 0 */
    movl $(boot_pd + 4096 + 3), 511*8(%eax)
    mov $boot_pml4, %eax
    movl $(boot_pdpt_low + 3), (%eax)
    movl $(boot_pdpt_high + 3), 511*8(%eax)
    movl $(boot_pdpt_low + 3), 256*8(%eax)   /* PHYS_MAP_BASE -> 0, until paging_init */

    mov $boot_pml4, %eax
    enter_long_mode

    lgdt boot_gdtr
    ljmp $0x08, $boot_entry64

boot_no_long_mode:
    mov $boot_no_lm_msg, %ebx
2:  movb (%ebx), %al
    test %al, %al
    jz 3f
    mov $0x3f8, %dx
    outb %al, %dx
    inc %ebx
    jmp 2b
3:  mov $(COPRA_STATUS_BOOT_ERROR), %eax
    mov $0xf4, %dx
    outl %eax, %dx
    hlt
    jmp 3b

    .code64
boot_entry64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $kernel_entry64, %rax
    jmp *%rax

    .text
kernel_entry64:
    /* Now in the higher half.  EDI = multiboot info, ESI = magic. */
    movabs $(boot_kstack + KSTACK_SIZE), %rsp
    xor %ebp, %ebp
    mov %edi, %edi
    mov %esi, %esi
    xchg %rdi, %rsi                 /* kmain(magic, info_phys) */
    call kmain
1:  cli
    hlt
    jmp 1b

    .bss
    .align KSTACK_SIZE
    .globl boot_kstack_guard, boot_kstack
boot_kstack_guard:                  /* unmapped by paging_init(): an overflow faults */
    .skip KSTACK_SIZE
boot_kstack:
    .skip KSTACK_SIZE
