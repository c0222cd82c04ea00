/* SPDX-License-Identifier: MIT */
/* Constants shared by assembly and C. */
#ifndef ARCH_X86_64_ASM_H
#define ARCH_X86_64_ASM_H

#define MSR_EFER        0xC0000080
#define MSR_APIC_BASE   0x1B
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)
#define EFER_SVME       (1 << 12)
#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define CR4_PGE         (1 << 7)
#define CR4_UMIP        (1 << 11)
#define CR4_SMEP        (1 << 20)
#define CR4_SMAP        (1 << 21)

/* Kernel stacks are KSTACK_SIZE bytes and KSTACK_SIZE-aligned, so the
 * current thread is found from RSP (see thread_current()). */
#define KSTACK_SIZE     16384

#define GDT_KCODE       0x08
#define GDT_KDATA       0x10
#define GDT_UCODE       0x18
#define GDT_UDATA       0x20
#define GDT_TSS         0x28

#define COPRA_STATUS_BOOT_ERROR_ASM 0x7d
#ifndef COPRA_STATUS_BOOT_ERROR
#define COPRA_STATUS_BOOT_ERROR COPRA_STATUS_BOOT_ERROR_ASM
#endif

#endif
