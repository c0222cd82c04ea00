/* SPDX-License-Identifier: MIT */
/*
 * Kernel stacks live in their own region of the shared upper half, each in
 * a slot of two KSTACK_SIZE halves: the lower half is never mapped, so an
 * overflow faults (#PF, then #DF on its own IST stack) instead of
 * overwriting whatever lies below.  The pages are not global, and a freed
 * slot is reused only after every CPU has flushed its TLB, so no CPU can
 * reach a new stack through an old translation.
 */
#include "arch/x86_64/kstack.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "core/heap.h"
#include "core/aspace.h"
#include "core/spinlock.h"
#include "core/string.h"

#define KSTACK_VBASE 0xFFFFFE0000000000ull   /* PML4 slot 508 */
#define KSTACK_SLOTS 4096u
#define KSTACK_PAGES (KSTACK_SIZE / PAGE_SIZE)

static struct spinlock kstack_lock;
static uint64_t used[KSTACK_SLOTS / 64], stale[KSTACK_SLOTS / 64];

static int slot_take(void)
{
    for (unsigned w = 0; w < KSTACK_SLOTS / 64; w++) {
        uint64_t busy = used[w] | stale[w];
        if (~busy) {
            unsigned b = (unsigned)__builtin_ctzll(~busy);
            used[w] |= 1ull << b;
            return (int)(w * 64 + b);
        }
    }
    return -1;
}

/* The page tables of the whole region, made once, so that the free-page
 * count does not depend on how many stacks were ever live. */
void kstack_init(void)
{
    for (uint64_t va = KSTACK_VBASE; va < KSTACK_VBASE + KSTACK_SLOTS * 2ull * KSTACK_SIZE; va += 1ull << 21)
        paging_map_kernel(va, 0);
}

uint64_t kstack_alloc(void)
{
    uint64_t f = spin_lock_irqsave(&kstack_lock);
    int slot = slot_take();
    spin_unlock_irqrestore(&kstack_lock, f);
    if (slot < 0) {
        /* Only freed slots are left: flush every CPU, then they are clean. */
        tlb_shootdown_all();
        f = spin_lock_irqsave(&kstack_lock);
        memset(stale, 0, sizeof(stale));
        slot = slot_take();
        spin_unlock_irqrestore(&kstack_lock, f);
        if (slot < 0)
            return 0;
    }
    uint64_t base = KSTACK_VBASE + (uint64_t)slot * 2 * KSTACK_SIZE + KSTACK_SIZE;
    for (unsigned i = 0; i < KSTACK_PAGES; i++) {
        uint64_t pa = page_alloc(1, 1);
        if (!pa) {
            kstack_free(base);   /* the pages mapped so far */
            return 0;
        }
        paging_map_kernel(base + i * PAGE_SIZE, pa);   /* cannot fail: kstack_init() made the tables */
    }
    return base;
}

void kstack_free(uint64_t base)
{
    unsigned slot = (unsigned)((base - KSTACK_VBASE) / (2 * KSTACK_SIZE));
    for (unsigned i = 0; i < KSTACK_PAGES; i++) {
        uint64_t pa = paging_unmap_kernel(base + i * PAGE_SIZE);
        if (pa)   /* 0: never mapped (kstack_alloc ran out of pages) */
            page_free(pa, 1);
    }
    uint64_t f = spin_lock_irqsave(&kstack_lock);
    used[slot / 64] &= ~(1ull << (slot % 64));
    stale[slot / 64] |= 1ull << (slot % 64);
    spin_unlock_irqrestore(&kstack_lock, f);
}
