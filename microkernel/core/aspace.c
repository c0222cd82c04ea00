/* SPDX-License-Identifier: MIT */
#include "core/aspace.h"
#include "core/event.h"
#include "core/heap.h"
#include "core/initrd.h"
#include "core/process.h"
#include "core/syscall.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"

int aspace_init(struct aspace *as)
{
    as->regions = NULL;
    as->lock.locked = 0;
    as->active_cpus = 0;
    as->root = paging_user_create();
    return as->root ? COPRA_OK : COPRA_ENOMEM;
}

void aspace_activate(struct aspace *as, struct cpu *cpu)
{
    __atomic_or_fetch(&as->active_cpus, 1ull << cpu->index, __ATOMIC_SEQ_CST);
    if (read_cr3() != as->root) {
        paging_switch(as->root);
        cpu->cr3_switches++;
    }
}

void aspace_deactivate(struct aspace *as, struct cpu *cpu)
{
    /* Leave the tables before saying so: a CPU that has cleared its bit
     * must hold no TLB entry of `as` any more. */
    if (read_cr3() == as->root) {
        paging_switch(paging_kernel_root());
        cpu->cr3_switches++;
    }
    __atomic_and_fetch(&as->active_cpus, ~(1ull << cpu->index), __ATOMIC_SEQ_CST);
}

/* Frees a list of regions that no page table maps any more. */
static void regions_free(struct region *r)
{
    while (r) {
        struct region *next = r->next;
        memobj_mapped(r->mem, r->first_page, (r->end - r->start) / PAGE_SIZE, -1);
        memobj_put(r->mem);
        kfree(r);
        r = next;
    }
}

void aspace_destroy(struct aspace *as)
{
    regions_free(as->regions);
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
    /* Counted before the state is read: SET_MEM_STATE then leaves it alone. */
    if (!err)
        memobj_mapped(mem, first_page, npages, 1);
    for (uint64_t i = 0; !err && i < npages; i++) {
        err = paging_user_map(as->root, addr + i * PAGE_SIZE,
                              mem->pages[first_page + i] | memobj_pte_bits(mem, first_page + i), prot);
        if (err) {   /* nothing else saw these entries: no shoot-down needed */
            for (uint64_t j = 0; j < i; j++)
                paging_user_unmap(as->root, addr + j * PAGE_SIZE);
            memobj_mapped(mem, first_page, npages, -1);
        }
    }
    if (err) {
        spin_unlock_irqrestore(&as->lock, f);
        kfree(nr);
        return err;
    }
    *nr = (struct region){ .start = addr, .end = addr + size, .prot = prot, .mem = mem, .first_page = first_page };
    kobject_get(&mem->obj);
    struct region **pp = &as->regions;
    while (*pp && (*pp)->start < addr)
        pp = &(*pp)->next;
    nr->next = *pp;
    *pp = nr;
    spin_unlock_irqrestore(&as->lock, f);
    *out = addr;
    return COPRA_OK;
}

/*
 * Makes every CPU that may cache translations of `as` flush its TLB, and
 * waits until each has.  Called with no lock held: a CPU spinning on a lock
 * with interrupts off could otherwise never take the IPI.  While waiting we
 * take interrupts ourselves, so two CPUs shooting down at once cannot wait
 * for each other.
 */
static void tlb_shootdown(uint64_t mask)
{
    uint64_t targets = mask & ~(1ull << cpu_this()->index);
    uint64_t seen[COPRA_CPUS_MAX];
    cpu_flush_tlb();
    for (unsigned i = 0; i < cpu_count; i++) {
        if (!(targets & (1ull << i)))
            continue;
        seen[i] = cpus[i].tlb_flushes;
        apic_send_ipi(cpus[i].apic_id, VECTOR_TLB);
    }
    for (unsigned i = 0; i < cpu_count; i++)
        while ((targets & (1ull << i)) && cpus[i].tlb_flushes == seen[i])
            __asm__ volatile("sti; pause; cli" : : : "memory");
}

/* Every CPU flushes (kstack.c, before it reuses a stack's addresses). */
void tlb_shootdown_all(void) { tlb_shootdown(~0ull); }

int aspace_unmap(struct aspace *as, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    struct region *gone = NULL;   /* freed only after the shoot-down */
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
        if (r->start < addr) {
            /* Keep the part below `addr`; the rest becomes a region of its
             * own, which the next round cuts.  Only the first region a range
             * touches can start below it: one split at most. */
            struct region *rest = spare;
            ASSERT(rest);
            spare = NULL;
            *rest = *r;
            rest->start = addr;
            rest->first_page += (addr - r->start) / PAGE_SIZE;
            kobject_get(&r->mem->obj);
            r->end = addr;
            r->next = rest;
            pp = &r->next;
            continue;
        }
        uint64_t cut_end = MIN(r->end, end);
        for (uint64_t va = r->start; va < cut_end; va += PAGE_SIZE)
            paging_user_unmap(as->root, va);
        if (cut_end < r->end) {
            uint64_t cut = (cut_end - r->start) / PAGE_SIZE;
            memobj_mapped(r->mem, r->first_page, cut, -1);
            r->first_page += cut;
            r->start = cut_end;
            pp = &r->next;
        } else {
            *pp = r->next;
            r->next = gone;
            gone = r;   /* regions_free() drops its mapping counts */
        }
    }
    spin_unlock_irqrestore(&as->lock, f);
    tlb_shootdown(as->active_cpus);
    regions_free(gone);
    kfree(spare);
    return COPRA_OK;
}

/* ---- syscalls ---- */

static int64_t mmap_object(struct kobject *o, uint32_t rights, uint64_t len, uint64_t prot,
                           uint64_t offset, struct memobj **out, uint64_t *first)
{
    uint64_t pages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
    *first = 0;
    switch (o ? o->type : COPRA_OBJ_NONE) {
    case COPRA_OBJ_NONE:
        if (offset)
            return COPRA_EINVAL;
        *out = memobj_create(pages);
        return *out ? COPRA_OK : COPRA_ENOMEM;
    case COPRA_OBJ_FILE: {
        struct initrd_file *file = container_of(o, struct initrd_file, obj);
        if (!(rights & COPRA_RIGHT_READ))
            return COPRA_ERIGHTS;
        if (prot & (COPRA_PROT_WRITE | COPRA_PROT_EXEC))
            return COPRA_EPERM;   /* initrd files map read-only */
        if (offset >= file->size)
            return COPRA_EINVAL;
        /* newc data is only 4-byte aligned, so a file mapping is a private
         * copy; read-only, so the copy is invisible to the process. */
        if (!(*out = memobj_create(pages)))
            return COPRA_ENOMEM;
        memobj_write(*out, 0, file->data + offset, MIN(len, file->size - offset));
        return COPRA_OK;
    }
    default: {
        /* Memory objects and event areas are core's; the rest (run pages,
         * virtual-APIC pages, range slots) their owner's (kobject_ops). */
        struct memobj *m = o->type == COPRA_OBJ_MEMORY ? container_of(o, struct memobj, obj)
                         : o->type == COPRA_OBJ_EVENT  ? container_of(o, struct event, obj)->area
                                                       : kobject_ops[o->type]->map(o);
        if (o->type != COPRA_OBJ_MEMORY && (prot & COPRA_PROT_EXEC))
            return COPRA_EPERM;
        if (o->type == COPRA_OBJ_MEMORY && (prot & COPRA_PROT_WRITE) && !(rights & COPRA_RIGHT_WRITE))
            return COPRA_ERIGHTS;
        if (!m || offset / PAGE_SIZE >= m->npages || pages > m->npages - offset / PAGE_SIZE)
            return COPRA_EINVAL;
        kobject_get(&m->obj);
        *out = m;
        *first = offset / PAGE_SIZE;
        return COPRA_OK;
    }
    }
}

int64_t sys_mmap(uint64_t h, uint64_t addr, uint64_t len, uint64_t prot, uint64_t offset)
{
    struct kobject *o = NULL;
    uint32_t rights = 0;
    if (h != COPRA_HANDLE_NONE) {
        int err = process_handle_lookup(h, COPRA_OBJ_NONE, 0, &o, &rights);
        if (err)
            return err;
        if (o->type != COPRA_OBJ_FILE && o->type != COPRA_OBJ_MEMORY && o->type != COPRA_OBJ_EVENT &&
            !(kobject_ops[o->type] && kobject_ops[o->type]->map))
            err = COPRA_ETYPE;
        else if (!(rights & COPRA_RIGHT_MAP))
            err = COPRA_ERIGHTS;
        if (err) {
            kobject_put(o);
            return err;
        }
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
    struct memobj *m = NULL;
    uint64_t first = 0;
    if (!ret)
        ret = mmap_object(o, rights, len, prot, offset, &m, &first);
    kobject_put(o);
    if (ret)
        return ret;
    uint64_t va;
    ret = aspace_map(&process_current()->as, addr, ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE,
                     (uint32_t)prot, m, first, &va);
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
