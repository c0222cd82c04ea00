/* SPDX-License-Identifier: MIT */
/* Kernel stacks with a guard below each (kstack.c). */
#ifndef ARCH_X86_64_KSTACK_H
#define ARCH_X86_64_KSTACK_H

#include "core/kernel.h"

/* The base of a new KSTACK_SIZE-aligned stack whose KSTACK_SIZE below is
 * unmapped, or 0 when out of memory.  Called with no lock held (it may
 * shoot down TLBs to reuse a slot). */
uint64_t kstack_alloc(void);
void kstack_init(void);   /* after paging_init() */
void kstack_free(uint64_t base);

#endif
