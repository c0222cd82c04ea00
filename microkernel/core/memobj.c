/* SPDX-License-Identifier: MIT */
#include "core/memobj.h"
#include "core/heap.h"
#include "core/string.h"

static void memobj_destroy(struct kobject *o)
{
    struct memobj *m = container_of(o, struct memobj, obj);
    /* Shared pages turn private before anything reuses them: the kernel
     * reaches its memory through the private alias.  An object the platform
     * will not take back is left allocated, not handed out half-shared. */
    for (uint64_t i = 0; mem_state_hook && i < m->npages; i++)
        if ((m->maps[i] & MEMOBJ_SHARED) && mem_state_hook(m->pages[i], false)) {
            kprintf("copra: memobj: page 0x%lx stays shared: %lu pages leaked\n", m->pages[i], m->npages);
            return;
        }
    if (m->pool_vm)   /* one range of the guest pool, which may start at page 0 */
        page_free(m->pages[0], m->npages);
    for (uint64_t i = 0; !m->pool_vm && i < m->npages; i++)
        if (m->pages[i])   /* 0: not allocated (memobj_create ran out) */
            page_free(m->pages[i], 1);
    kfree(m);
}

/* An object of `npages` pages, none allocated yet (all 0). */
static struct memobj *memobj_alloc(uint64_t npages)
{
    struct memobj *m = kmalloc(sizeof(*m) + npages * (sizeof(uint64_t) + sizeof(uint32_t)));
    if (m) {
        kobject_init(&m->obj, COPRA_OBJ_MEMORY, memobj_destroy);
        m->npages = npages;
        m->maps = (uint32_t *)&m->pages[npages];
    }
    return m;
}

struct memobj *memobj_create(uint64_t npages)
{
    /* More than is free fails before zeroing it all (a request too large by
     * one page would otherwise cost a pass over all free memory). */
    if (npages == 0 || npages > MEMOBJ_MAX_PAGES || npages > heap_pmm.free)
        return NULL;
    struct memobj *m = memobj_alloc(npages);
    if (!m)
        return NULL;
    for (uint64_t i = 0; i < npages; i++) {
        m->pages[i] = page_alloc(1, 1);
        if (!m->pages[i]) {
            memobj_put(m);   /* frees the pages allocated so far */
            return NULL;
        }
    }
    return m;
}

int memobj_create_at(uint64_t phys, uint64_t npages, struct memobj **out)
{
    struct memobj *m = memobj_alloc(npages);
    if (!m || !pool_claim(phys, npages)) {
        kfree(m);
        return m ? COPRA_EBUSY : COPRA_ENOMEM;
    }
    m->pool_vm = UINT64_MAX;   /* no VM yet (VM ids start at 1) */
    for (uint64_t i = 0; i < npages; i++)
        m->pages[i] = phys + i * PAGE_SIZE;
    *out = m;
    return COPRA_OK;
}

void memobj_write(struct memobj *m, uint64_t off, const void *src, uint64_t len)
{
    const uint8_t *s = src;
    while (len) {
        uint64_t page = off / PAGE_SIZE, in = off % PAGE_SIZE;
        uint64_t n = MIN(len, PAGE_SIZE - in);
        ASSERT(page < m->npages);
        memcpy((uint8_t *)phys_to_virt(m->pages[page]) + in, s, n);
        s += n;
        off += n;
        len -= n;
    }
}

void memobj_mapped(struct memobj *m, uint64_t first, uint64_t n, int delta)
{
    for (uint64_t i = first; i < first + n; i++)
        __atomic_add_fetch(&m->maps[i], (uint32_t)delta, __ATOMIC_ACQ_REL);
}

uint64_t mem_shared_mask;   /* set by the platform: TDX's shared GPA bit */

uint64_t memobj_pte_bits(const struct memobj *m, uint64_t i)
{
    return __atomic_load_n(&m->maps[i], __ATOMIC_ACQUIRE) & MEMOBJ_SHARED ? mem_shared_mask : 0;
}

/* ---- syscalls ---- */

#include "core/process.h"

int64_t sys_mem_create(uint64_t pages)
{
    if (pages == 0)
        return COPRA_EINVAL;
    if (pages > MEMOBJ_MAX_PAGES)
        return COPRA_ERANGE;
    struct memobj *m = memobj_create(pages);
    if (!m)
        return COPRA_ENOMEM;
    return process_handle_install(&m->obj, COPRA_RIGHTS_MEMORY);
}

int (*mem_state_hook)(uint64_t phys, bool shared);

/*
 * Each page flips only while nothing maps it: a mapping counts itself in
 * maps[] before it reads the state, so the exchange below fails if one
 * slipped in.  The content does not survive (TDX re-accepts a private page
 * zeroed): it is zeroed on this side as well, so that no private data
 * reaches the host by a conversion.
 */
int64_t sys_set_mem_state(uint64_t h, uint64_t offset, uint64_t len, uint64_t state)
{
    struct kobject *o;
    int err = process_handle_get(h, COPRA_OBJ_MEMORY, COPRA_RIGHT_WRITE, &o);
    if (err)
        return err;
    struct memobj *m = container_of(o, struct memobj, obj);
    uint64_t first = offset / PAGE_SIZE, n = len / PAGE_SIZE, i;
    if (state > COPRA_MEM_SHARED || len == 0)
        err = COPRA_EINVAL;
    else if (!IS_ALIGNED(offset, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE))
        err = COPRA_EALIGN;
    else if (first >= m->npages || n > m->npages - first)
        err = COPRA_ERANGE;
    for (i = first; !err && i < first + n; i++) {
        uint32_t want = state ? MEMOBJ_SHARED : 0, old = __atomic_load_n(&m->maps[i], __ATOMIC_ACQUIRE);
        if ((old & ~MEMOBJ_SHARED) || (old != want && !__atomic_compare_exchange_n(&m->maps[i], &old, want, false,
                                                                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
            err = COPRA_EBUSY;   /* mapped, or a mapping was being made */
        else if (old != want) {
            /* Zeroed while private: the kernel reaches it only through the private alias. */
            if (state)
                memset(phys_to_virt(m->pages[i]), 0, PAGE_SIZE);
            if (mem_state_hook && (err = mem_state_hook(m->pages[i], state)))
                __atomic_store_n(&m->maps[i], old, __ATOMIC_RELEASE);
            else if (!state)
                memset(phys_to_virt(m->pages[i]), 0, PAGE_SIZE);
        }
    }
    kobject_put(o);
    return err;
}
