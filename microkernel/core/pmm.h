/* SPDX-License-Identifier: MIT */
/*
 * Physical page allocator: one bit per 4 KiB frame (1 = in use).
 * Pure logic with no locking, so the host unit tests run it as it is;
 * the kernel wraps the one global instance in page_alloc()/page_free().
 */
#ifndef CORE_PMM_H
#define CORE_PMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct pmm {
    uint64_t *bitmap;
    uint64_t nframes;     /* frames covered by the bitmap */
    uint64_t free;        /* frames currently free */
    uint64_t total;       /* frames ever released (usable RAM) */
    uint64_t hint;        /* where the next single-frame search starts */
};

/* Bytes of bitmap needed for `nframes` frames. */
static inline size_t pmm_bitmap_bytes(uint64_t nframes) { return (size_t)((nframes + 63) / 64 * 8); }

void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t nframes);
/* Marks the frames wholly inside [base, base+len) free (usable RAM). */
void pmm_release_range(struct pmm *p, uint64_t base, uint64_t len);
/* Marks every frame touching [base, base+len) used (kernel, modules, ...). */
void pmm_reserve_range(struct pmm *p, uint64_t base, uint64_t len);
/* `count` contiguous frames whose first frame number is a multiple of
 * `align` (a power of two, in frames).  Returns the physical address, 0 if none. */
uint64_t pmm_alloc(struct pmm *p, uint64_t count, uint64_t align);
/* The `count` frames from `phys` exactly, if all are free (usable and not
 * allocated); false (and nothing changed) otherwise. */
bool pmm_claim(struct pmm *p, uint64_t phys, uint64_t count);
/* Returns false (and changes nothing) if any frame was not allocated. */
bool pmm_free(struct pmm *p, uint64_t phys, uint64_t count);
bool pmm_is_used(const struct pmm *p, uint64_t frame);

#endif
