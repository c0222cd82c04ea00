/* SPDX-License-Identifier: MIT */
#include "core/pmm.h"

#define FRAME_SHIFT 12

static inline void bit_set(uint64_t *bm, uint64_t i) { bm[i / 64] |= 1ull << (i % 64); }
static inline void bit_clear(uint64_t *bm, uint64_t i) { bm[i / 64] &= ~(1ull << (i % 64)); }

bool pmm_is_used(const struct pmm *p, uint64_t frame)
{
    return frame >= p->nframes || (p->bitmap[frame / 64] >> (frame % 64)) & 1;
}

void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t nframes)
{
    p->bitmap = bitmap;
    p->nframes = nframes;
    p->free = p->total = p->hint = 0;
    for (size_t i = 0; i < pmm_bitmap_bytes(nframes) / 8; i++)
        bitmap[i] = ~0ull;
}

void pmm_release_range(struct pmm *p, uint64_t base, uint64_t len)
{
    if (len == 0 || base + len < base)
        return;
    /* Round up without computing base + 4095, which wraps for a range in
     * the last page of the address space and would release frame 0 onward. */
    uint64_t first = (base >> FRAME_SHIFT) + ((base & ((1u << FRAME_SHIFT) - 1)) != 0);
    uint64_t end = (base + len) >> FRAME_SHIFT;
    for (uint64_t f = first; f < end && f < p->nframes; f++) {
        if (pmm_is_used(p, f)) {
            bit_clear(p->bitmap, f);
            p->free++;
            p->total++;
        }
    }
}

void pmm_reserve_range(struct pmm *p, uint64_t base, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t last = base + len - 1 < base ? UINT64_MAX : base + len - 1;
    for (uint64_t f = base >> FRAME_SHIFT; f <= (last >> FRAME_SHIFT) && f < p->nframes; f++) {
        if (!pmm_is_used(p, f)) {
            bit_set(p->bitmap, f);
            p->free--;
            p->total--;
        }
    }
}

static uint64_t pmm_find_one(struct pmm *p)
{
    uint64_t words = (p->nframes + 63) / 64;
    for (uint64_t n = 0; n < words; n++) {
        uint64_t w = (p->hint / 64 + n) % words;
        if (p->bitmap[w] != ~0ull) {
            uint64_t f = w * 64 + (uint64_t)__builtin_ctzll(~p->bitmap[w]);
            if (f < p->nframes)
                return f;
        }
    }
    return UINT64_MAX;
}

uint64_t pmm_alloc(struct pmm *p, uint64_t count, uint64_t align)
{
    if (count == 0 || count > p->free || align == 0 || (align & (align - 1)))
        return 0;
    uint64_t start = UINT64_MAX;
    if (count == 1 && align == 1) {
        start = pmm_find_one(p);
    } else {
        for (uint64_t f = 0; f + count <= p->nframes; f += align) {
            uint64_t i = 0;
            while (i < count && !pmm_is_used(p, f + i))
                i++;
            if (i == count) {
                start = f;
                break;
            }
            /* Skip past the used frame, keeping alignment. */
            f = ((f + i) / align) * align;
        }
    }
    if (start == UINT64_MAX || !pmm_claim(p, start << FRAME_SHIFT, count))
        return 0;
    p->hint = start + count;
    return start << FRAME_SHIFT;
}

bool pmm_claim(struct pmm *p, uint64_t phys, uint64_t count)
{
    uint64_t first = phys >> FRAME_SHIFT;
    if (phys & ((1u << FRAME_SHIFT) - 1) || count == 0 || count > p->free || first + count > p->nframes ||
        first + count < first)
        return false;
    for (uint64_t i = 0; i < count; i++)
        if (pmm_is_used(p, first + i))
            return false;
    for (uint64_t i = 0; i < count; i++)
        bit_set(p->bitmap, first + i);
    p->free -= count;
    return true;
}

bool pmm_free(struct pmm *p, uint64_t phys, uint64_t count)
{
    uint64_t first = phys >> FRAME_SHIFT;
    if (phys & ((1u << FRAME_SHIFT) - 1) || count == 0 || first + count > p->nframes ||
        first + count < first)
        return false;
    for (uint64_t i = 0; i < count; i++)
        if (!pmm_is_used(p, first + i))
            return false;
    for (uint64_t i = 0; i < count; i++)
        bit_clear(p->bitmap, first + i);
    p->free += count;
    if (first < p->hint)
        p->hint = first;
    return true;
}
