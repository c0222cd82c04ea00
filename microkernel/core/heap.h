/* SPDX-License-Identifier: MIT */
/* Kernel memory: whole physical pages and small objects (kmalloc). */
#ifndef CORE_HEAP_H
#define CORE_HEAP_H

#include "core/kernel.h"
#include "core/pmm.h"

/* The kernel's page allocator and the guest pool's: main.c sets them up
 * over the memory map before the first allocation.  Allocation goes through
 * the functions below (the lock); their counts (free, total) are read
 * directly, as a snapshot. */
extern struct pmm heap_pmm, pool_pmm;
/* `count` zeroed contiguous pages aligned to `align` pages; 0 when out of memory. */
uint64_t page_alloc(uint64_t count, uint64_t align);
/* Frees kernel pages, or returns guest-pool pages to the pool. */
void page_free(uint64_t phys, uint64_t count);
/* The guest pool: the RAM below the kernel image, which the kernel never
 * uses itself, handed out by address (identity guest memory).  Claimed
 * pages come zeroed; false if any is outside the pool or taken. */
bool pool_claim(uint64_t phys, uint64_t count);
uint64_t pool_end(void);

/* Zeroed memory; NULL when out of memory. */
void *kmalloc(size_t size);
void kfree(void *p);

#endif
