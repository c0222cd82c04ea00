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
    /* How many user mappings each page has: a page that any process maps
     * must not change private/shared state (SET_MEM_STATE, later issues). */
    uint32_t *maps;
    /* Guest-pool objects (GUEST_MEM): the id of the one VM they may be
     * mapped into, UINT64_MAX before the first VM_MAP; 0 for the others. */
    uint64_t pool_vm;
    uint64_t pages[];      /* physical addresses */
};

/* A zero-filled object of `npages` pages, or NULL when out of memory. */
struct memobj *memobj_create(uint64_t npages);
/* The guest-pool pages [phys, phys + npages * 4 KiB) exactly, zero-filled
 * (pool_claim): COPRA_EBUSY if any is not free in the pool, COPRA_ENOMEM. */
int memobj_create_at(uint64_t phys, uint64_t npages, struct memobj **out);
/* Copies `len` bytes from `src` to byte offset `off` of the object. */
void memobj_write(struct memobj *m, uint64_t off, const void *src, uint64_t len);

/* Counts user mappings of pages [first, first + n). */
void memobj_mapped(struct memobj *m, uint64_t first, uint64_t n, int delta);
static inline bool memobj_page_mapped(const struct memobj *m, uint64_t page)
{
    return __atomic_load_n(&m->maps[page], __ATOMIC_RELAXED) != 0;
}

int64_t sys_mem_create(uint64_t pages);

static inline void memobj_put(struct memobj *m) { kobject_put(&m->obj); }

#endif
