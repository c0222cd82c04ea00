/* SPDX-License-Identifier: MIT */
/*
 * Guest page-table walk (see gpt.h).  SDM vol. 3 chapter 4 ("Paging") and
 * APM vol. 2 chapter 5 ("Page Translation and Protection").
 */
#include "virt/gpt.h"

#include <stdbool.h>

#define CR0_WP    (1ull << 16)
#define CR0_PG    (1ull << 31)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define CR4_SMEP  (1ull << 20)
#define CR4_SMAP  (1ull << 21)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)

#define PTE_P     (1ull << 0)
#define PTE_RW    (1ull << 1)
#define PTE_US    (1ull << 2)
#define PTE_PS    (1ull << 7)
#define PTE_XD    (1ull << 63)

static uint64_t bits(unsigned hi, unsigned lo)      /* mask of bits hi..lo; 0 if lo > hi */
{
    if (lo > hi || lo > 63)
        return 0;
    return (hi >= 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
}

/* The walk's state: the access and, accumulated over the levels, whether
 * every entry allows writes and user access, and whether any forbids fetches
 * (SDM vol. 3 §4.6.1: rights are the AND of R/W and U/S, the OR of XD). */
struct walk {
    const struct gpt_regs *r;
    unsigned access;
    bool writable, user, no_exec;
};

static uint64_t error_code(const struct walk *w, uint64_t extra)
{
    uint64_t e = extra;
    if (w->access & GPT_WRITE)
        e |= GPT_PF_W;
    if (w->access & GPT_USER)
        e |= GPT_PF_U;
    /* SDM vol. 3 §4.7: I/D is reported for fetches when SMEP is on, or
     * with PAE/4-level paging when EFER.NXE is. */
    bool nx_paging = (w->r->cr4 & CR4_PAE) && (w->r->efer & EFER_NXE);
    if ((w->access & GPT_FETCH) && (nx_paging || (w->r->cr4 & CR4_SMEP)))
        e |= GPT_PF_ID;
    return e;
}

static int fault(const struct walk *w, uint64_t extra, uint64_t *err)
{
    *err = error_code(w, extra);
    return GPT_EFAULT;
}

static void accumulate(struct walk *w, uint64_t entry)
{
    w->writable = w->writable && (entry & PTE_RW);
    w->user = w->user && (entry & PTE_US);
    w->no_exec = w->no_exec || (entry & PTE_XD);
}

/* SDM vol. 3 §4.6.1 (access rights), §4.6.1 SMEP/SMAP; APM vol. 2 §5.6. */
static bool access_allowed(const struct walk *w)
{
    const struct gpt_regs *r = w->r;
    bool user_access = w->access & GPT_USER;
    if (user_access && !w->user)
        return false;
    if ((w->access & GPT_WRITE) && !w->writable && (user_access || (r->cr0 & CR0_WP)))
        return false;
    if ((w->access & GPT_FETCH) && w->no_exec && (r->cr4 & CR4_PAE) && (r->efer & EFER_NXE))
        return false;
    if (!user_access && w->user) {
        if ((w->access & GPT_FETCH) && (r->cr4 & CR4_SMEP))
            return false;
        if (!(w->access & GPT_FETCH) && (r->cr4 & CR4_SMAP) && !(w->access & GPT_AC))
            return false;
    }
    return true;
}

/* Reads a paging-structure entry: GPT_EREAD if it is not RAM, the #PF of a
 * not-present entry, else 0. */
static int read_entry(const struct walk *w, gpt_read_fn read_gpa, void *ctx, uint64_t gpa, unsigned size,
                      uint64_t *entry, uint64_t *err)
{
    *entry = 0;   /* a 4-byte entry fills the low half (little-endian) */
    if (read_gpa(ctx, gpa, entry, size))
        return GPT_EREAD;
    return (*entry & PTE_P) ? 0 : fault(w, 0, err);
}

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with CR4.PSE
 * (PSE-36: PDE bits 20:13 are physical bits 39:32), SDM vol. 3 §4.3. */
static int walk_32bit(struct walk *w, uint32_t gva, gpt_read_fn read_gpa, void *ctx,
                      unsigned maxpa, uint64_t *gpa_out, uint64_t *err)
{
    uint64_t pde, pte;
    int e = read_entry(w, read_gpa, ctx, (w->r->cr3 & 0xFFFFF000ull) + (gva >> 22) * 4, 4, &pde, err);
    if (e)
        return e;
    accumulate(w, pde);
    if ((pde & PTE_PS) && (w->r->cr4 & CR4_PSE)) {
        unsigned m = maxpa < 32 ? 32 : maxpa > 40 ? 40 : maxpa;
        uint64_t reserved = bits(21, 13 + (m - 32));   /* bit 21, and bits above MAXPHYADDR */
        if (pde & reserved)
            return fault(w, GPT_PF_P | GPT_PF_RSVD, err);
        *gpa_out = (pde & 0xFFC00000ull) | (((pde >> 13) & 0xFF) << 32) | (gva & 0x3FFFFF);
        return 0;
    }
    e = read_entry(w, read_gpa, ctx, (pde & 0xFFFFF000ull) + ((gva >> 12) & 0x3FF) * 4, 4, &pte, err);
    if (e)
        return e;
    accumulate(w, pte);
    *gpa_out = (pte & 0xFFFFF000ull) | (gva & 0xFFF);
    return 0;
}

int gpt_walk(const struct gpt_regs *r, uint64_t gva, unsigned access, gpt_read_fn read_gpa,
             void *ctx, uint64_t *gpa_out, uint64_t *fault_error_code)
{
    struct walk w = { .r = r, .access = access, .writable = true, .user = true };
    unsigned maxpa = r->maxphyaddr && r->maxphyaddr < 52 ? r->maxphyaddr : 52;
    if (maxpa < 32)
        maxpa = 32;
    uint64_t addr_mask = bits(maxpa - 1, 12);
    bool long_mode = r->efer & EFER_LMA;
    bool nxe = r->efer & EFER_NXE;
    uint64_t entry, table;
    int levels, e;

    *gpa_out = 0;
    *fault_error_code = 0;
    if (!(r->cr0 & CR0_PG)) {
        *gpa_out = gva & 0xFFFFFFFFull;     /* no paging: linear = physical (32-bit) */
        return 0;
    }
    if (!(r->cr4 & CR4_PAE)) {
        e = walk_32bit(&w, (uint32_t)gva, read_gpa, ctx, maxpa, gpa_out, fault_error_code);
        if (e)
            return e;
        goto check;
    }

    /* Bits above MAXPHYADDR are reserved: 51:M in 4/5-level entries (62:52
     * are ignored/protection keys), 62:M with PAE paging (SDM vol. 3 tables
     * 4-8..4-11, 4-15..4-20).  XD is reserved unless EFER.NXE. */
    uint64_t reserved = long_mode ? bits(51, maxpa) : bits(62, maxpa);
    if (!nxe)
        reserved |= PTE_XD;

    if (long_mode) {
        /* SDM vol. 3 §4.5: 4-level (or 5-level with CR4.LA57) paging; the
         * address must be canonical (sign-extended from bit 47 or 56). */
        levels = (r->cr4 & CR4_LA57) ? 5 : 4;
        unsigned width = levels == 5 ? 57 : 48;
        int64_t canonical = (int64_t)(gva << (64 - width)) >> (64 - width);
        if ((uint64_t)canonical != gva)
            return GPT_ENONCANONICAL;
        table = r->cr3 & addr_mask;
    } else {
        /* SDM vol. 3 §4.4: PAE paging.  The four PDPTEs are loaded by MOV CR3
         * on hardware; we read them now.  Bits 2:1 and 8:5 are reserved, XD
         * is reserved (no NX at this level). */
        gva &= 0xFFFFFFFFull;
        e = read_entry(&w, read_gpa, ctx, (r->cr3 & 0xFFFFFFE0ull) + (gva >> 30) * 8, 8, &entry, fault_error_code);
        if (e)
            return e;
        if (entry & (reserved | PTE_XD | bits(2, 1) | bits(8, 5)))
            return fault(&w, GPT_PF_P | GPT_PF_RSVD, fault_error_code);
        table = entry & addr_mask;
        levels = 2;
    }

    /* At most five iterations: a self-referencing table only repeats reads. */
    for (int level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        e = read_entry(&w, read_gpa, ctx, table + ((gva >> shift) & 511) * 8, 8, &entry, fault_error_code);
        if (e)
            return e;
        /* PS is reserved in PML4E/PML5E; a 1 GiB (PDPTE) or 2 MiB (PDE) page
         * has reserved bits shift-1..13 (bit 12 is PAT). */
        bool large = level > 1 && (entry & PTE_PS);
        uint64_t rsvd = entry & reserved;
        if (large && level >= 4)
            rsvd |= PTE_PS;
        else if (large)
            rsvd |= entry & bits(shift - 1, 13);
        if (rsvd)
            return fault(&w, GPT_PF_P | GPT_PF_RSVD, fault_error_code);
        accumulate(&w, entry);
        if (level == 1 || large) {
            uint64_t offset = bits(shift - 1, 0);
            *gpa_out = (entry & addr_mask & ~offset) | (gva & offset);
            break;
        }
        table = entry & addr_mask;
    }

check:
    if (!access_allowed(&w)) {
        *gpa_out = 0;
        return fault(&w, GPT_PF_P, fault_error_code);
    }
    return 0;
}

int gpt_fetch(const struct gpt_regs *r, uint64_t gva, unsigned access, gpt_read_fn read_gpa,
              void *ctx, uint8_t *buf, size_t want, size_t *got, uint64_t *fault_gva,
              uint64_t *fault_error_code)
{
    bool wrap32 = !(r->efer & EFER_LMA);    /* outside long mode linear addresses wrap at 4 GiB */
    size_t n = 0;
    int e = 0;

    if (want > 15)
        want = 15;
    *fault_gva = 0;
    *fault_error_code = 0;
    /* Each pass reads to the end of one page; 15 bytes span at most two. */
    while (n < want) {
        uint64_t va = gva + n, gpa;
        if (wrap32)
            va &= 0xFFFFFFFFull;
        e = gpt_walk(r, va, (access & GPT_USER) | GPT_FETCH, read_gpa, ctx, &gpa, fault_error_code);
        if (e) {
            *fault_gva = va;
            break;
        }
        size_t chunk = 4096 - (size_t)(va & 0xFFF);
        if (chunk > want - n)
            chunk = want - n;
        if (read_gpa(ctx, gpa, buf + n, (unsigned)chunk)) {
            e = GPT_EREAD;
            break;
        }
        n += chunk;
    }
    *got = n;
    return e;
}
