/* SPDX-License-Identifier: MIT */
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "core/heap.h"
#include "core/string.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
extern char boot_kstack_guard[], boot_kstack[];   /* boot.S */

static uint64_t kernel_root;

uint64_t paging_kernel_root(void) { return kernel_root; }

static inline uint64_t *table(uint64_t pa) { return phys_to_virt(pa & PTE_ADDR); }
static inline unsigned idx(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

/*
 * Returns the entry for `va` at `level` (0 = 4 KiB PTE, 1 = 2 MiB PDE),
 * creating intermediate tables with `table_flags` when `create`.
 * NULL when a table is missing (and !create) or a page could not be had.
 */
static uint64_t *paging_walk(uint64_t root, uint64_t va, int level, bool create, uint64_t table_flags)
{
    uint64_t *t = table(root);
    for (int l = 3; l > level; l--) {
        uint64_t *e = &t[idx(va, l)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            uint64_t pa = page_alloc(1, 1);
            if (!pa)
                return NULL;
            *e = pa | table_flags;
        }
        if (*e & PTE_PS)
            return NULL;
        t = table(*e);
    }
    return &t[idx(va, level)];
}

/* The kernel's entry for `va` at `level`, made if missing: failing here is fatal. */
static uint64_t *kernel_entry(uint64_t va, int level)
{
    uint64_t *e = paging_walk(kernel_root, va, level, true, PTE_P | PTE_W);
    if (!e)
        panic("paging: cannot map %lx (out of memory, or inside a 2 MiB page)", va);
    return e;
}

static void map_kernel_range(const char *start, const char *end, uint64_t flags)
{
    for (uint64_t va = (uint64_t)(uintptr_t)start; va < (uint64_t)(uintptr_t)end; va += PAGE_SIZE)
        *kernel_entry(va, 0) = (va - KERNEL_VBASE) | flags | PTE_P | PTE_G;
}

void paging_init(const uint64_t *ram, size_t nranges)
{
    kernel_root = page_alloc(1, 1);
    if (!kernel_root)
        panic("paging: no page for the kernel root");
    /* Pre-create every upper-half PML4 slot (512 GiB each, up to the top of
     * the address space), so user roots can copy the upper half once and
     * still see later kernel mappings. */
    for (uint64_t va = PHYS_MAP_BASE; va; va += 1ull << 39)
        kernel_entry(va, 2);
    /* Direct map of RAM in 2 MiB pages, never executable. */
    for (size_t r = 0; r < nranges; r++) {
        uint64_t start = ALIGN_DOWN(ram[2 * r], 1ull << 21);
        uint64_t end = ALIGN_UP(ram[2 * r] + ram[2 * r + 1], 1ull << 21);
        for (uint64_t pa = start; pa < end; pa += 1ull << 21)
            *kernel_entry(PHYS_MAP_BASE + pa, 1) = pa | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
    }
    map_kernel_range(__text_start, __text_end, 0);
    map_kernel_range(__rodata_start, __rodata_end, PTE_NX);
    map_kernel_range(__data_start, __data_end, PTE_W | PTE_NX);
    for (uint64_t va = (uint64_t)(uintptr_t)boot_kstack_guard; va < (uint64_t)(uintptr_t)boot_kstack; va += PAGE_SIZE)
        *paging_walk(kernel_root, va, 0, false, 0) = 0;
    paging_switch(kernel_root);
}

void *paging_map_mmio(uint64_t pa)
{
    uint64_t va = PHYS_MAP_BASE + ALIGN_DOWN(pa, PAGE_SIZE);
    *kernel_entry(va, 0) = ALIGN_DOWN(pa, PAGE_SIZE) | PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_G;
    invlpg(va);
    return (void *)(uintptr_t)(va + (pa & (PAGE_SIZE - 1)));
}

void paging_map_kernel(uint64_t va, uint64_t pa)
{
    uint64_t *e = kernel_entry(va, 0);
    if (pa)
        *e = pa | PTE_P | PTE_W | PTE_NX;
}

uint64_t paging_unmap_kernel(uint64_t va)
{
    uint64_t pa = paging_user_unmap(kernel_root, va);
    invlpg(va);
    return pa;
}

void paging_map_phys(uint64_t pa, uint64_t len)
{
    for (uint64_t p = ALIGN_DOWN(pa, PAGE_SIZE); p < pa + len; p += PAGE_SIZE) {
        uint64_t va = PHYS_MAP_BASE + p;
        uint64_t *pde = paging_walk(kernel_root, va, 1, true, PTE_P | PTE_W);
        if (pde && (*pde & PTE_P) && (*pde & PTE_PS))
            continue;   /* inside a 2 MiB page of the direct map */
        uint64_t *e = kernel_entry(va, 0);
        if (!(*e & PTE_P)) {
            *e = p | PTE_P | PTE_NX | PTE_G;
            invlpg(va);
        }
    }
}

void paging_identity_map(uint64_t pa, bool map)
{
    *kernel_entry(pa, 0) = map ? (pa | PTE_P | PTE_W) : 0;
    invlpg(pa);
}

uint64_t paging_nested_create(void)
{
    return page_alloc(1, 1);
}

uint64_t paging_user_create(void)
{
    uint64_t root = page_alloc(1, 1);
    if (!root)
        return 0;
    memcpy(table(root) + 256, table(kernel_root) + 256, 256 * sizeof(uint64_t));
    return root;
}

int paging_user_map(uint64_t root, uint64_t va, uint64_t pa, uint32_t prot)
{
    uint64_t *e = paging_walk(root, va, 0, true, PTE_P | PTE_W | PTE_U);
    if (!e)
        return COPRA_ENOMEM;
    *e = pa | PTE_P | PTE_U | (prot & COPRA_PROT_WRITE ? PTE_W : 0) | (prot & COPRA_PROT_EXEC ? 0 : PTE_NX);
    return COPRA_OK;
}

uint64_t paging_user_unmap(uint64_t root, uint64_t va)
{
    uint64_t *e = paging_walk(root, va, 0, false, 0);
    if (!e || !(*e & PTE_P))
        return 0;
    uint64_t pa = *e & PTE_ADDR;
    *e = 0;
    return pa;
}

/* Frees the table at `pa` (a level `level` table), and first every table
 * that its entries [0, n) point to. */
static void free_table(uint64_t pa, int level, int n)
{
    uint64_t *t = table(pa);
    for (int i = 0; level > 0 && i < n; i++)
        if (t[i] & PTE_P)
            free_table(t[i] & PTE_ADDR, level - 1, 512);
    page_free(pa, 1);
}

void paging_user_destroy(uint64_t root)
{
    free_table(root, 3, 256);   /* the upper half is the kernel's */
}
