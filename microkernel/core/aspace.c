/* SPDX-License-Identifier: MIT */
#include "core/aspace.h"
#include "core/heap.h"
#include "arch/x86_64/paging.h"

int aspace_init(struct aspace *as)
{
    as->regions = NULL;
    as->lock.locked = 0;
    as->root = paging_user_create();
    return as->root ? COPRA_OK : COPRA_ENOMEM;
}

static void region_unmap_pages(struct aspace *as, uint64_t start, uint64_t end)
{
    for (uint64_t va = start; va < end; va += PAGE_SIZE)
        if (paging_user_unmap(as->root, va))
            invlpg(va);   /* only ever the current address space; IPIs come with SMP */
}

void aspace_destroy(struct aspace *as)
{
    struct region *r = as->regions;
    while (r) {
        struct region *next = r->next;
        memobj_put(r->mem);
        kfree(r);
        r = next;
    }
    as->regions = NULL;
    if (as->root)
        paging_user_destroy(as->root);
    as->root = 0;
}

static bool range_free(const struct aspace *as, uint64_t start, uint64_t end)
{
    for (const struct region *r = as->regions; r; r = r->next)
        if (start < r->end && r->start < end)
            return false;
    return true;
}

static uint64_t find_free(const struct aspace *as, uint64_t size)
{
    uint64_t cand = COPRA_MMAP_BASE;
    for (const struct region *r = as->regions; r; r = r->next) {
        if (r->end <= cand)
            continue;
        if (r->start >= cand && r->start - cand >= size)
            return cand;
        cand = r->end;
    }
    return COPRA_USER_END - cand >= size ? cand : 0;
}

int aspace_map(struct aspace *as, uint64_t addr, uint64_t npages, uint32_t prot,
               struct memobj *mem, uint64_t first_page, uint64_t *out)
{
    uint64_t size = npages * PAGE_SIZE;
    if (npages == 0 || first_page + npages > mem->npages || first_page + npages < first_page)
        return COPRA_EINVAL;
    struct region *nr = kmalloc(sizeof(*nr));
    if (!nr)
        return COPRA_ENOMEM;

    uint64_t f = spin_lock_irqsave(&as->lock);
    int err = COPRA_OK;
    if (addr) {
        if (addr < COPRA_USER_BASE || addr >= COPRA_USER_END || COPRA_USER_END - addr < size)
            err = COPRA_EINVAL;
        else if (!range_free(as, addr, addr + size))
            err = COPRA_EEXIST;
    } else if (!(addr = find_free(as, size))) {
        err = COPRA_ENOMEM;
    }
    for (uint64_t i = 0; !err && i < npages; i++) {
        err = paging_user_map(as->root, addr + i * PAGE_SIZE, mem->pages[first_page + i], prot);
        if (err)
            region_unmap_pages(as, addr, addr + i * PAGE_SIZE);
    }
    if (err) {
        spin_unlock_irqrestore(&as->lock, f);
        kfree(nr);
        return err;
    }
    nr->start = addr;
    nr->end = addr + size;
    nr->prot = prot;
    nr->mem = mem;
    kobject_get(&mem->obj);
    nr->first_page = first_page;
    struct region **pp = &as->regions;
    while (*pp && (*pp)->start < addr)
        pp = &(*pp)->next;
    nr->next = *pp;
    *pp = nr;
    spin_unlock_irqrestore(&as->lock, f);
    *out = addr;
    return COPRA_OK;
}

int aspace_unmap(struct aspace *as, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    /* A split may need one new region; allocate it before taking the lock. */
    struct region *spare = kmalloc(sizeof(*spare));
    if (!spare)
        return COPRA_ENOMEM;
    uint64_t f = spin_lock_irqsave(&as->lock);
    struct region **pp = &as->regions;
    while (*pp) {
        struct region *r = *pp;
        if (r->end <= addr || r->start >= end) {
            pp = &r->next;
            continue;
        }
        uint64_t cut_start = MAX(r->start, addr), cut_end = MIN(r->end, end);
        region_unmap_pages(as, cut_start, cut_end);
        if (cut_start > r->start && cut_end < r->end) {
            /* Hole in the middle: the tail becomes a new region. */
            struct region *tail = spare;
            spare = NULL;
            *tail = *r;
            tail->start = cut_end;
            tail->first_page = r->first_page + (cut_end - r->start) / PAGE_SIZE;
            kobject_get(&r->mem->obj);
            r->end = cut_start;
            r->next = tail;
            pp = &tail->next;
        } else if (cut_start > r->start) {
            r->end = cut_start;
            pp = &r->next;
        } else if (cut_end < r->end) {
            r->first_page += (cut_end - r->start) / PAGE_SIZE;
            r->start = cut_end;
            pp = &r->next;
        } else {
            *pp = r->next;
            memobj_put(r->mem);
            kfree(r);
        }
    }
    spin_unlock_irqrestore(&as->lock, f);
    kfree(spare);
    return COPRA_OK;
}

/* ---- syscalls ---- */

#include "core/initrd.h"
#include "core/process.h"
#include "core/syscall.h"

int64_t sys_mmap(uint64_t h, uint64_t addr, uint64_t len, uint64_t prot, uint64_t offset)
{
    struct initrd_file *file = NULL;
    struct kobject *o = NULL;

    if (h != COPRA_HANDLE_NONE) {
        int err = h > UINT32_MAX ? COPRA_EBADH
                  : process_handle_get((copra_handle_t)h, COPRA_OBJ_FILE, COPRA_RIGHT_READ | COPRA_RIGHT_MAP, &o);
        if (err)
            return err;
        file = container_of(o, struct initrd_file, obj);
    }
    int64_t ret = COPRA_OK;
    if (len == 0 || (prot & ~(uint64_t)(COPRA_PROT_READ | COPRA_PROT_WRITE | COPRA_PROT_EXEC)) ||
        !(prot & COPRA_PROT_READ))
        ret = COPRA_EINVAL;
    else if (len > MEMOBJ_MAX_PAGES * PAGE_SIZE)
        ret = COPRA_ERANGE;
    else if (!IS_ALIGNED(addr, PAGE_SIZE) || !IS_ALIGNED(offset, PAGE_SIZE))
        ret = COPRA_EALIGN;
    else if ((prot & COPRA_PROT_WRITE) && (prot & COPRA_PROT_EXEC))
        ret = COPRA_EPERM;   /* W^X */
    else if (file && (prot & (COPRA_PROT_WRITE | COPRA_PROT_EXEC)))
        ret = COPRA_EPERM;   /* initrd files map read-only */
    else if (file ? offset >= file->size : offset != 0)
        ret = COPRA_EINVAL;
    if (ret) {
        kobject_put(o);
        return ret;
    }

    uint64_t pages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
    struct memobj *m = memobj_create(pages);
    if (!m) {
        kobject_put(o);
        return COPRA_ENOMEM;
    }
    /* newc data is only 4-byte aligned, so a file mapping is a private copy;
     * read-only, so the copy is invisible to the process. */
    if (file)
        memobj_write(m, 0, file->data + offset, MIN(len, file->size - offset));
    kobject_put(o);
    uint64_t va;
    ret = aspace_map(&process_current()->as, addr, pages, (uint32_t)prot, m, 0, &va);
    memobj_put(m);
    return ret ? ret : (int64_t)va;
}

int64_t sys_munmap(uint64_t addr, uint64_t len)
{
    if (!IS_ALIGNED(addr, PAGE_SIZE))
        return COPRA_EALIGN;
    if (len == 0 || addr >= COPRA_USER_END || len > COPRA_USER_END - addr)
        return COPRA_EINVAL;
    return aspace_unmap(&process_current()->as, addr, ALIGN_UP(len, PAGE_SIZE));
}
