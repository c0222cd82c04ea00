/* SPDX-License-Identifier: MIT */
/*
 * Guest page-table walk: guest-virtual (linear) to guest-physical, in every
 * x86 paging mode, with the permission checks the CPU makes, so that the
 * kernel can fetch the instruction behind an exit (no decode assists on QEMU
 * TCG) and find the GPA of a guest's memory operand.  The guest controls its
 * page tables: every entry is untrusted, the walk is at most five reads, and
 * a failed read stops it.  Accessed/dirty bits are not set: the walk is a
 * read-only look (the CPU set them when the guest itself made the access).
 * Pure logic, no libc.
 */
#ifndef VIRT_GPT_H
#define VIRT_GPT_H

#include <stddef.h>
#include <stdint.h>

/* The guest's control registers, as the VMCB save area holds them. */
struct gpt_regs {
    uint64_t cr0, cr3, cr4, efer;
    uint8_t maxphyaddr;     /* CPUID 8000_0008 EAX[7:0] the guest sees; 0 means 52 */
};

/* What the access is (SDM vol. 3 §4.6). */
#define GPT_WRITE 0x1u      /* a write */
#define GPT_USER  0x2u      /* made at CPL 3 */
#define GPT_FETCH 0x4u      /* an instruction fetch */
#define GPT_AC    0x8u      /* a supervisor data access with RFLAGS.AC=1: SMAP allows user pages */

/* #PF error code bits (SDM vol. 3 §4.7, APM vol. 2 §8.4.2). */
#define GPT_PF_P    0x01ull /* protection violation (0: not present) */
#define GPT_PF_W    0x02ull
#define GPT_PF_U    0x04ull
#define GPT_PF_RSVD 0x08ull
#define GPT_PF_ID   0x10ull

enum gpt_error {
    GPT_EFAULT       = -1,  /* the guest takes #PF with *fault_error_code */
    GPT_ENONCANONICAL = -2, /* non-canonical address in long mode: #GP (#SS for stack) */
    GPT_EREAD        = -3,  /* read_gpa failed: a table outside guest memory */
};

/* Copies `size` bytes of guest-physical memory at gpa to buf: 4 or 8 for a
 * table entry (little-endian into a uint64_t), up to 15 for gpt_fetch; never
 * across a page.  Returns 0, or nonzero if gpa is not readable RAM. */
typedef int (*gpt_read_fn)(void *ctx, uint64_t gpa, void *buf, unsigned size);

/* Translates gva.  With paging off the GPA is gva truncated to 32 bits.
 * Returns 0 with *gpa_out set, or a negative enum gpt_error. */
int gpt_walk(const struct gpt_regs *r, uint64_t gva, unsigned access, gpt_read_fn read_gpa,
             void *ctx, uint64_t *gpa_out, uint64_t *fault_error_code);

/* Fetches `want` (at most 15) instruction bytes at gva into buf, walking the
 * second page separately when they cross a page boundary.  Returns 0 when all
 * were read; otherwise the error that stopped it, with *got bytes valid and
 * *fault_gva the address that faulted (the guest's CR2, if the decoder needs
 * the bytes beyond it).  `access` is GPT_USER or 0; GPT_FETCH is implied. */
int gpt_fetch(const struct gpt_regs *r, uint64_t gva, unsigned access, gpt_read_fn read_gpa,
              void *ctx, uint8_t *buf, size_t want, size_t *got, uint64_t *fault_gva,
              uint64_t *fault_error_code);

#endif
