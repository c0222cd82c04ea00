/* SPDX-License-Identifier: MIT */
/*
 * A user address space: a page-table root and a sorted list of regions,
 * each a window onto a memory object.  Every mapping is made eagerly, so a
 * user page fault is always a real fault.
 */
#ifndef CORE_ASPACE_H
#define CORE_ASPACE_H

#include "core/kernel.h"
#include "core/memobj.h"
#include "core/spinlock.h"

struct region {
    uint64_t start, end;        /* [start, end), page-aligned */
    uint32_t prot;
    struct memobj *mem;         /* holds a reference */
    uint64_t first_page;        /* page of `mem` mapped at `start` */
    struct region *next;
};

struct aspace {
    uint64_t root;              /* physical address of the PML4 */
    struct region *regions;     /* sorted by start */
    struct spinlock lock;
    volatile uint64_t active_cpus; /* CPUs that may hold TLB entries of it */
};

int aspace_init(struct aspace *as);
void aspace_destroy(struct aspace *as);
/*
 * Maps pages [first_page, first_page + npages) of `mem` with `prot`.
 * At exactly `addr` if it is non-zero (COPRA_EEXIST if that overlaps a
 * region), else at the first free range at or above COPRA_MMAP_BASE.
 */
int aspace_map(struct aspace *as, uint64_t addr, uint64_t npages, uint32_t prot,
               struct memobj *mem, uint64_t first_page, uint64_t *out);
/* Unmaps every page in [addr, addr + len); parts of regions are split off.
 * Returns once no CPU can still reach the pages through its TLB. */
int aspace_unmap(struct aspace *as, uint64_t addr, uint64_t len);
/* This CPU runs (or stopped running) a thread in `as`. */
void aspace_activate(struct aspace *as, struct cpu *cpu);
void aspace_deactivate(struct aspace *as, struct cpu *cpu);

/* Makes every CPU flush its TLB and waits for it (no lock held). */
void tlb_shootdown_all(void);

#endif
