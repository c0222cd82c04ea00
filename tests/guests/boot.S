/* SPDX-License-Identifier: MIT */
/*
 * Entry of every test guest: a multiboot v1 image (Multiboot Specification
 * 0.6.96), entered in 32-bit protected mode with paging off.
 *
 * Offset 0 holds a jump to the entry, so the same bytes also work as a
 * `flat` image (loaded and entered at 0x100000).  The 32-bit code enables
 * PAE, long mode and paging with the static page tables below, loads a
 * 64-bit GDT and calls guest_start(cpu, multiboot_info) in 64-bit mode.
 *
 * VCPUs: the VMM starts every VCPU at the entry (servers/vmm/vm.h).  EAX =
 * 0x2BADB002 marks VCPU 0 (EBX = multiboot information); otherwise EBX is
 * the VCPU index (a flat image's VCPU 0 has EAX = EBX = 0).  Each VCPU gets
 * its own stack; the page tables are static data, so no VCPU builds
 * anything another one uses.
 *
 * Guest virtual layout (2 MiB pages, all RW):
 *   0 - 1 GiB        identity (RAM)
 *   1 GiB - 2 GiB    alias of guest-physical 3 GiB - 4 GiB (the MMIO scratch
 *                    device at 0xC0000000 appears at 0x40000000 too, so the
 *                    kernel's page walk is tested with VA != GPA, and code can
 *                    reach MMIO RIP-relatively)
 *   2 GiB - 4 GiB    identity (MMIO)
 */
#define MB_MAGIC        0x1BADB002
#ifdef GUEST_AOUT_KLUDGE
#define MB_FLAGS        0x00010003   /* page-align, memory info, address fields */
#else
#define MB_FLAGS        0x00000003   /* page-align, memory info */
#endif
#define MB_BOOT_MAGIC   0x2BADB002
#define GUEST_STACK     16384
#define GUEST_CPUS_MAX  8

    .section .boot, "ax"
    .code32
    .globl _start
_start:
    jmp     entry32

    .align 4
multiboot_header:
    .long   MB_MAGIC
    .long   MB_FLAGS
    .long   -(MB_MAGIC + MB_FLAGS)
#ifdef GUEST_AOUT_KLUDGE
    .long   multiboot_header        /* header_addr */
    .long   __image_start           /* load_addr */
    .long   __data_end              /* load_end_addr */
    .long   __image_end             /* bss_end_addr */
    .long   _start                  /* entry_addr */
#endif

entry32:
    cli
    cld
    cmp     $MB_BOOT_MAGIC, %eax
    je      1f
    mov     %ebx, %edi              /* VCPU index */
    xor     %ebx, %ebx              /* no multiboot information */
    jmp     2f
1:  xor     %edi, %edi
2:
    mov     %cr4, %eax
    or      $0x20, %eax             /* PAE */
    mov     %eax, %cr4
    mov     $pml4, %eax
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx       /* EFER */
    rdmsr
    or      $0x100, %eax            /* LME */
    wrmsr
    mov     %cr0, %eax
    or      $0x80000001, %eax       /* PG | PE */
    mov     %eax, %cr0
    lgdt    gdt_pointer
    ljmp    $0x08, $entry64

    .code64
entry64:
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    cmp     $GUEST_CPUS_MAX, %edi
    jae     3f
    mov     %edi, %eax
    inc     %eax
    imul    $GUEST_STACK, %eax
    lea     guest_stacks(%rip), %rsp
    add     %rax, %rsp
    mov     %ebx, %esi              /* multiboot information */
    call    guest_start             /* does not return */
3:  cli
    hlt
    jmp     3b

    .section .rodata
    .align 16
gdt:
    .quad   0
    .quad   0x00AF9A000000FFFF      /* 0x08: 64-bit code, DPL 0 */
    .quad   0x00CF92000000FFFF      /* 0x10: data */
gdt_end:
gdt_pointer:
    .word   gdt_end - gdt - 1
    .long   gdt

/* A page directory of 512 2 MiB pages starting at guest-physical `base`. */
.macro page_directory base
    .set    page, \base
    .rept   512
    .quad   page | 0x83             /* P | RW | PS */
    .set    page, page + 0x200000
    .endr
.endm

    .section .data.page_tables, "aw"
    .align 4096
pml4:
    .quad   pdpt + 0x3
    .fill   511, 8, 0
pdpt:
    .quad   pd0 + 0x3
    .quad   pd3 + 0x3               /* 1 GiB alias of 3 GiB */
    .quad   pd2 + 0x3
    .quad   pd3 + 0x3
    .fill   508, 8, 0
pd0:
    page_directory 0x00000000
pd2:
    page_directory 0x80000000
pd3:
    page_directory 0xC0000000

    .section .bss
    .align 16
    .globl guest_stacks
guest_stacks:
    .fill   GUEST_STACK * GUEST_CPUS_MAX, 1, 0
