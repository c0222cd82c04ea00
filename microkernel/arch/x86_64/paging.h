/* SPDX-License-Identifier: MIT */
/* 4-level x86-64 page tables: the kernel's, and one per user address space. */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include "core/kernel.h"

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* Builds the kernel's tables (direct map of RAM, W^X image) and switches to them. */
void paging_init(const uint64_t *ram_ranges, size_t nranges);
/* Maps one 4 KiB MMIO page uncached into the direct map; returns its VA. */
void *paging_map_mmio(uint64_t pa);
/* One 4 KiB kernel page at `va` (writable, NX, not global: a CR3 reload
 * flushes it); pa 0 only makes the tables.  A table page that cannot be
 * had is fatal (the tables are made once, at boot: kstack_init()). */
void paging_map_kernel(uint64_t va, uint64_t pa);
/* Removes it (this CPU's TLB only); returns the page that was mapped. */
uint64_t paging_unmap_kernel(uint64_t va);
uint64_t paging_kernel_root(void);
/* Makes sure the direct map covers [pa, pa + len) (firmware tables outside RAM). */
void paging_map_phys(uint64_t pa, uint64_t len);
/* Maps (or unmaps) the page at `pa` at the same virtual address in the kernel root. */
void paging_identity_map(uint64_t pa, bool map);

/* An empty root for nested paging (no kernel half).  0 on OOM. */
uint64_t paging_nested_create(void);
/* A user root: a fresh PML4 that shares the kernel's upper half.  0 on OOM. */
uint64_t paging_user_create(void);
/* Maps a 4 KiB user page with COPRA_PROT_* rights. COPRA_ENOMEM if a table page is missing. */
int paging_user_map(uint64_t root, uint64_t va, uint64_t pa, uint32_t prot);
/* Removes the mapping of `va`; returns the physical address it had, or 0. */
uint64_t paging_user_unmap(uint64_t root, uint64_t va);
/* Frees every page-table page of the lower half, then the root. */
void paging_user_destroy(uint64_t root);

static inline void paging_switch(uint64_t root)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(root) : "memory");
}

#endif
