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

#define MEMOBJ_MAX_PAGES (1ull << 18)   /* 1 GiB per object */

struct memobj {
    struct kobject obj;
    uint64_t npages;
    uint64_t pages[];      /* physical addresses */
};

/* A zero-filled object of `npages` pages, or NULL when out of memory. */
struct memobj *memobj_create(uint64_t npages);
/* Copies `len` bytes from `src` to byte offset `off` of the object. */
void memobj_write(struct memobj *m, uint64_t off, const void *src, uint64_t len);

static inline void memobj_put(struct memobj *m) { kobject_put(&m->obj); }

#endif
