/* SPDX-License-Identifier: MIT */
/*
 * Small objects come from one-page slabs per power-of-two size class.  A
 * slab whose last object is freed goes straight back to the page allocator,
 * so "free pages" measures every kernel allocation (the EXEC/EXIT cycle test
 * relies on that).  Larger requests take whole pages with a 16-byte header.
 */
#include "core/heap.h"
#include "core/spinlock.h"
#include "core/string.h"

#define SLAB_MAGIC  0x51ab51abu
#define LARGE_MAGIC 0x1a26e1a2u
#define MIN_CLASS   4   /* 16 bytes */
#define MAX_CLASS   11  /* 2048 bytes */

struct slab {
    uint32_t magic;
    uint16_t class_shift;
    uint16_t inuse;
    void *free_list;
    struct slab *next, *prev;
};
_Static_assert(sizeof(struct slab) <= 32, "slab header fits before the first object");

struct large {
    uint32_t magic;
    uint32_t pages;
    uint64_t pad;
};

struct pmm heap_pmm, pool_pmm;
static struct spinlock pmm_lock;   /* both */
static struct spinlock heap_lock;
static struct slab *partial[MAX_CLASS + 1];  /* slabs with a free object */

uint64_t page_alloc(uint64_t count, uint64_t align)
{
    uint64_t f = spin_lock_irqsave(&pmm_lock);
    uint64_t pa = pmm_alloc(&heap_pmm, count, align);
    spin_unlock_irqrestore(&pmm_lock, f);
    if (pa)
        memset(phys_to_virt(pa), 0, count * PAGE_SIZE);
    return pa;
}

bool pool_claim(uint64_t phys, uint64_t count)
{
    uint64_t f = spin_lock_irqsave(&pmm_lock);
    bool ok = pmm_claim(&pool_pmm, phys, count);
    spin_unlock_irqrestore(&pmm_lock, f);
    if (ok)   /* the last owner's data must not reach the next */
        memset(phys_to_virt(phys), 0, count * PAGE_SIZE);
    return ok;
}

uint64_t pool_end(void) { return pool_pmm.nframes * PAGE_SIZE; }

void page_free(uint64_t phys, uint64_t count)
{
    uint64_t f = spin_lock_irqsave(&pmm_lock);
    bool ok = pmm_free(phys < pool_end() ? &pool_pmm : &heap_pmm, phys, count);
    spin_unlock_irqrestore(&pmm_lock, f);
    if (!ok)
        panic("page_free: %lx (+%lu) was not allocated", phys, count);
}

static void slab_unlink(struct slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        partial[s->class_shift] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void slab_push(struct slab *s)
{
    s->prev = NULL;
    s->next = partial[s->class_shift];
    if (s->next)
        s->next->prev = s;
    partial[s->class_shift] = s;
}

static struct slab *slab_create(unsigned shift)
{
    uint64_t pa = page_alloc(1, 1);
    if (!pa)
        return NULL;
    struct slab *s = phys_to_virt(pa);
    size_t size = 1ul << shift;
    *s = (struct slab){ .magic = SLAB_MAGIC, .class_shift = (uint16_t)shift };
    for (size_t off = PAGE_SIZE - size; off >= MAX(size, sizeof(struct slab)); off -= size) {
        void **obj = (void **)((char *)s + off);
        *obj = s->free_list;
        s->free_list = obj;
    }
    return s;
}

void *kmalloc(size_t size)
{
    if (size > (1ul << MAX_CLASS)) {
        uint64_t pages = ALIGN_UP(size + sizeof(struct large), PAGE_SIZE) / PAGE_SIZE;
        if (size > (1ull << 40))
            return NULL;
        uint64_t pa = page_alloc(pages, 1);
        if (!pa)
            return NULL;
        struct large *l = phys_to_virt(pa);
        l->magic = LARGE_MAGIC;
        l->pages = (uint32_t)pages;
        return l + 1;
    }
    unsigned shift = MIN_CLASS;   /* also the class of size 0 */
    while ((1ul << shift) < size)
        shift++;

    uint64_t f = spin_lock_irqsave(&heap_lock);
    struct slab *s = partial[shift];
    if (!s) {
        spin_unlock_irqrestore(&heap_lock, f);
        s = slab_create(shift);
        if (!s)
            return NULL;
        f = spin_lock_irqsave(&heap_lock);
        slab_push(s);
    }
    void **obj = s->free_list;
    s->free_list = *obj;
    s->inuse++;
    if (!s->free_list)
        slab_unlink(s);
    spin_unlock_irqrestore(&heap_lock, f);
    memset(obj, 0, 1ul << shift);
    return obj;
}

void kfree(void *p)
{
    if (!p)
        return;
    void *page = (void *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
    struct large *l = page;
    if (l->magic == LARGE_MAGIC && (void *)(l + 1) == p) {
        l->magic = 0;
        page_free(virt_to_phys(l), l->pages);
        return;
    }
    struct slab *s = page;
    if (s->magic != SLAB_MAGIC)
        panic("kfree: %p is not a heap object", p);
    uint64_t f = spin_lock_irqsave(&heap_lock);
    bool was_full = s->free_list == NULL;
    *(void **)p = s->free_list;
    s->free_list = p;
    s->inuse--;
    if (s->inuse == 0) {
        if (!was_full)
            slab_unlink(s);
        s->magic = 0;
        spin_unlock_irqrestore(&heap_lock, f);
        page_free(virt_to_phys(s), 1);
        return;
    }
    if (was_full)
        slab_push(s);
    spin_unlock_irqrestore(&heap_lock, f);
}
