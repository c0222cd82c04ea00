/* SPDX-License-Identifier: MIT */
#include "core/memobj.h"
#include "core/heap.h"
#include "core/string.h"

static void memobj_destroy(struct kobject *o)
{
    struct memobj *m = container_of(o, struct memobj, obj);
    for (uint64_t i = 0; i < m->npages; i++)
        if (m->pages[i])
            page_free(m->pages[i], 1);
    kfree(m);
}

struct memobj *memobj_create(uint64_t npages)
{
    /* More than is free fails before zeroing it all (a request too large by
     * one page would otherwise cost a pass over all free memory). */
    if (npages == 0 || npages > MEMOBJ_MAX_PAGES || npages > page_free_count())
        return NULL;
    struct memobj *m = kmalloc(sizeof(*m) + npages * (sizeof(uint64_t) + sizeof(uint32_t)));
    if (!m)
        return NULL;
    kobject_init(&m->obj, COPRA_OBJ_MEMORY, memobj_destroy);
    m->npages = npages;
    m->maps = (uint32_t *)&m->pages[npages];
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
    struct memobj *m = kmalloc(sizeof(*m) + npages * (sizeof(uint64_t) + sizeof(uint32_t)));
    if (!m || !pool_claim(phys, npages)) {
        kfree(m);
        return m ? COPRA_EBUSY : COPRA_ENOMEM;
    }
    kobject_init(&m->obj, COPRA_OBJ_MEMORY, memobj_destroy);
    m->npages = npages;
    m->maps = (uint32_t *)&m->pages[npages];
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
        __atomic_add_fetch(&m->maps[i], (uint32_t)delta, __ATOMIC_RELAXED);
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
