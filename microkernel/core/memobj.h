/* SPDX-License-Identifier: MIT */
/*
 * A memory object: a set of physical pages that address spaces map.
 * Anonymous MMAP memory, ELF segments, stacks and private copies of initrd
 * files are all memory objects; MEM_CREATE (next issue) hands them out.
 */
#ifndef CORE_MEMOBJ_H
#define CORE_MEMOBJ_H

#include "core/kernel.h"
#include "core/object.h"

#define MEMOBJ_MAX_PAGES COPRA_MEM_MAX_PAGES

struct memobj {
    struct kobject obj;
    uint64_t npages;
    /* Per page: how many mappings it has, in processes and VMs, and
     * MEMOBJ_SHARED: a page mapped anywhere keeps its private/shared state
     * (SET_MEM_STATE). */
    uint32_t *maps;
    /* Guest-pool objects (GUEST_MEM): the id of the one VM they may be
     * mapped into, UINT64_MAX before the first VM_MAP; 0 for the others. */
    uint64_t pool_vm;
    uint64_t pages[];      /* physical addresses */
};

/* A zero-filled object of `npages` pages, or NULL when out of memory. */
struct memobj *memobj_create(uint64_t npages);
#define MEMOBJ_SHARED (1u << 31)
/* What a page table entry for page `i` adds to its physical address. */
uint64_t memobj_pte_bits(const struct memobj *m, uint64_t i);
/* The guest-pool pages [phys, phys + npages * 4 KiB) exactly, zero-filled
 * (pool_claim): COPRA_EBUSY if any is not free in the pool, COPRA_ENOMEM. */
int memobj_create_at(uint64_t phys, uint64_t npages, struct memobj **out);
/* Copies `len` bytes from `src` to byte offset `off` of the object. */
void memobj_write(struct memobj *m, uint64_t off, const void *src, uint64_t len);

/* Counts user mappings of pages [first, first + n). */
void memobj_mapped(struct memobj *m, uint64_t first, uint64_t n, int delta);

/* The platform's part (NULL: state tracked only, as on svm): make the page
 * at `phys` shared with the host or private again; 0 or a COPRA_E* error. */
extern int (*mem_state_hook)(uint64_t phys, bool shared);
/* Set by the platform: what a PTE of a shared page ORs in (TDX: the shared
 * GPA bit), 0 where shared pages need no alias. */
extern uint64_t mem_shared_mask;

static inline void memobj_put(struct memobj *m) { kobject_put(&m->obj); }

#endif
