/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests (Check) for microkernel/virt/gpt.c.  Guest page tables are
 * built in a host buffer that stands for guest-physical memory at GPA 0, for
 * every paging mode; the walks check translations, large pages, each kind of
 * #PF with its error code, instruction fetches that cross a page, and tables
 * that point at themselves or outside guest memory.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "virt/gpt.h"

#define MEM_SIZE (64 * 4096)

#define P   0x1ull
#define RW  0x2ull
#define US  0x4ull
#define PS  0x80ull
#define XD  (1ull << 63)

#define CR0_PE 0x1ull
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

struct guest {
    uint8_t mem[MEM_SIZE];
    unsigned reads;
};

static struct guest g;

static int read_gpa(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
    struct guest *m = ctx;
    m->reads++;
    ck_assert(size >= 1 && size <= 15);
    ck_assert_uint_le(gpa % 4096 + size, 4096);   /* never across a page */
    if (gpa >= MEM_SIZE || MEM_SIZE - gpa < size)
        return -1;
    memcpy(buf, m->mem + gpa, size);    /* host is little-endian like the guest */
    return 0;
}

static void put64(uint64_t gpa, uint64_t v) { memcpy(g.mem + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(g.mem + gpa, &v, 4); }

static void setup(void) { memset(&g, 0, sizeof g); }

static const struct gpt_regs long_mode = {
    .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE,
    .efer = EFER_LME | EFER_LMA | EFER_NXE, .maxphyaddr = 48,
};

/* Maps gva -> page with 4-level tables at 0x1000 (PML4), 0x2000, 0x3000, 0x4000
 * and the given leaf flags; upper levels get `upper` flags. */
static void map4(uint64_t gva, uint64_t page, uint64_t upper, uint64_t leaf)
{
    put64(0x1000 + ((gva >> 39) & 511) * 8, 0x2000 | upper);
    put64(0x2000 + ((gva >> 30) & 511) * 8, 0x3000 | upper);
    put64(0x3000 + ((gva >> 21) & 511) * 8, 0x4000 | upper);
    put64(0x4000 + ((gva >> 12) & 511) * 8, page | leaf);
}

static int walk(const struct gpt_regs *r, uint64_t gva, unsigned access, uint64_t *gpa, uint64_t *err)
{
    return gpt_walk(r, gva, access, read_gpa, &g, gpa, err);
}

START_TEST(test_paging_off)
{
    struct gpt_regs r = { .cr0 = CR0_PE };
    uint64_t gpa, err;
    ck_assert_int_eq(walk(&r, 0x123456789abcull, GPT_WRITE, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x56789abc);
    ck_assert_uint_eq(g.reads, 0);
}
END_TEST

START_TEST(test_long_mode_4k)
{
    const uint64_t gva = 0x00007fff12345678ull;
    uint64_t gpa, err;
    map4(gva, 0x9000, P | RW | US, P | RW | US);
    ck_assert_int_eq(walk(&long_mode, gva, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x9678);
    ck_assert_uint_eq(g.reads, 4);
    ck_assert_int_eq(walk(&long_mode, gva, GPT_WRITE | GPT_USER, &gpa, &err), 0);
    ck_assert_int_eq(walk(&long_mode, gva, GPT_FETCH | GPT_USER, &gpa, &err), 0);
    /* Kernel half, canonical. */
    const uint64_t kva = 0xffff800000201000ull;
    map4(kva, 0xa000, P | RW, P | RW);
    ck_assert_int_eq(walk(&long_mode, kva + 5, GPT_WRITE, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0xa005);
}
END_TEST

START_TEST(test_long_mode_large_pages)
{
    uint64_t gpa, err;
    /* 2 MiB: PDE with PS; physical base 0x40000000 + 2M. */
    put64(0x1000, 0x2000 | P | RW);
    put64(0x2000, 0x3000 | P | RW);
    put64(0x3000 + 3 * 8, 0x40200000ull | P | RW | PS);
    ck_assert_int_eq(walk(&long_mode, 3ull << 21 | 0x1abcde, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x40200000ull | 0x1abcde);
    ck_assert_uint_eq(g.reads, 3);
    /* PAT (bit 12) in a large page is not reserved. */
    put64(0x3000 + 3 * 8, 0x40200000ull | P | RW | PS | (1ull << 12));
    ck_assert_int_eq(walk(&long_mode, 3ull << 21, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x40200000ull);
    /* 1 GiB: PDPTE with PS. */
    put64(0x2000 + 5 * 8, 0x80000000ull | P | RW | PS);
    ck_assert_int_eq(walk(&long_mode, 5ull << 30 | 0x3456789a, GPT_WRITE, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x80000000ull | 0x3456789a);
    /* 1 GiB page with a reserved bit (13..29) set. */
    put64(0x2000 + 6 * 8, 0xc0000000ull | (1ull << 20) | P | RW | PS);
    ck_assert_int_eq(walk(&long_mode, 6ull << 30, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD);
    /* 2 MiB page with bit 13 set. */
    put64(0x3000 + 4 * 8, 0x40400000ull | (1ull << 13) | P | RW | PS);
    ck_assert_int_eq(walk(&long_mode, 4ull << 21, GPT_WRITE | GPT_USER, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD | GPT_PF_W | GPT_PF_U);
}
END_TEST

START_TEST(test_long_mode_faults)
{
    const uint64_t gva = 0x0000000040123000ull;
    uint64_t gpa, err;
    struct gpt_regs r = long_mode;

    /* Not present at the leaf; the error code reflects the access. */
    map4(gva, 0x9000, P | RW | US, 0);
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE | GPT_USER, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_W | GPT_PF_U);
    ck_assert_int_eq(walk(&r, gva, GPT_FETCH, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_ID);
    /* Not present at the top: one read. */
    g.reads = 0;
    ck_assert_int_eq(walk(&r, 0x0000700000000000ull, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, 0);
    ck_assert_uint_eq(g.reads, 1);

    /* Read-only page: supervisor writes fault only with CR0.WP; user writes always. */
    map4(gva, 0x9000, P | RW | US, P | US);
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W);
    r.cr0 &= ~CR0_WP;
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE, &gpa, &err), 0);
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE | GPT_USER, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W | GPT_PF_U);
    r.cr0 |= CR0_WP;
    /* R/W clear at an upper level counts too. */
    map4(gva, 0x9000, P | US, P | RW | US);
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE, &gpa, &err), GPT_EFAULT);
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), 0);

    /* Supervisor-only (U/S clear in the PDE): user access faults. */
    map4(gva, 0x9000, P | RW | US, P | RW | US);
    put64(0x3000 + ((gva >> 21) & 511) * 8, 0x4000 | P | RW);
    ck_assert_int_eq(walk(&r, gva, GPT_USER, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_U);
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), 0);

    /* NX: fetch faults with EFER.NXE; without NXE bit 63 is reserved. */
    map4(gva, 0x9000, P | RW | US, P | RW | US | XD);
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), 0);
    ck_assert_int_eq(walk(&r, gva, GPT_FETCH | GPT_USER, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_U | GPT_PF_ID);
    r.efer &= ~EFER_NXE;
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD);
    r.efer |= EFER_NXE;
    /* XD at an upper level. */
    map4(gva, 0x9000, P | RW | US | XD, P | RW | US);
    ck_assert_int_eq(walk(&r, gva, GPT_FETCH, &gpa, &err), GPT_EFAULT);

    /* Reserved: a physical-address bit above MAXPHYADDR (48). */
    map4(gva, 0x9000 | (1ull << 50), P | RW | US, P | RW | US);
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD | GPT_PF_W);
    r.maxphyaddr = 52;
    ck_assert_int_eq(walk(&r, gva, GPT_WRITE, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x9000 | (1ull << 50));
    r.maxphyaddr = 48;
    /* PS in a PML4E is reserved. */
    map4(gva, 0x9000, P | RW | US, P | RW | US);
    put64(0x1000, 0x2000 | P | RW | US | PS);
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD);

    /* Non-canonical. */
    ck_assert_int_eq(walk(&r, 0x0000800000000000ull, 0, &gpa, &err), GPT_ENONCANONICAL);
    ck_assert_int_eq(walk(&r, 0xfff0000000000000ull, 0, &gpa, &err), GPT_ENONCANONICAL);
}
END_TEST

START_TEST(test_smep_smap)
{
    const uint64_t gva = 0x200000;
    uint64_t gpa, err;
    struct gpt_regs r = long_mode;
    map4(gva, 0x9000, P | RW | US, P | RW | US);   /* a user page */
    r.cr4 |= CR4_SMEP | CR4_SMAP;
    ck_assert_int_eq(walk(&r, gva, GPT_FETCH, &gpa, &err), GPT_EFAULT);      /* SMEP */
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_ID);
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), GPT_EFAULT);              /* SMAP */
    ck_assert_uint_eq(err, GPT_PF_P);
    ck_assert_int_eq(walk(&r, gva, GPT_AC | GPT_WRITE, &gpa, &err), 0);      /* STAC */
    ck_assert_int_eq(walk(&r, gva, GPT_USER | GPT_FETCH, &gpa, &err), 0);    /* user itself */
}
END_TEST

START_TEST(test_five_level)
{
    struct gpt_regs r = long_mode;
    r.cr4 |= CR4_LA57;
    const uint64_t gva = 0x00ff123456789abcull;     /* canonical for 57 bits */
    uint64_t gpa, err;
    put64(0x1000 + ((gva >> 48) & 511) * 8, 0x5000 | P | RW);
    put64(0x5000 + ((gva >> 39) & 511) * 8, 0x2000 | P | RW);
    put64(0x2000 + ((gva >> 30) & 511) * 8, 0x3000 | P | RW);
    put64(0x3000 + ((gva >> 21) & 511) * 8, 0x4000 | P | RW);
    put64(0x4000 + ((gva >> 12) & 511) * 8, 0x9000 | P | RW);
    ck_assert_int_eq(walk(&r, gva, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x9abc);
    ck_assert_uint_eq(g.reads, 5);
    ck_assert_int_eq(walk(&long_mode, gva, 0, &gpa, &err), GPT_ENONCANONICAL);
}
END_TEST

static const struct gpt_regs pae = {
    .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1020, .cr4 = CR4_PAE, .efer = EFER_NXE, .maxphyaddr = 40,
};

START_TEST(test_pae)
{
    const uint64_t gva = 0xc0345678;     /* PDPTE 3, PDE 1, PTE 0x145 */
    uint64_t gpa, err;
    put64(0x1020 + 3 * 8, 0x2000 | P);
    put64(0x2000 + 1 * 8, 0x3000 | P | RW);
    put64(0x3000 + 0x145 * 8, 0x7000 | P | RW);
    ck_assert_int_eq(walk(&pae, gva, GPT_WRITE, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x7678);
    ck_assert_uint_eq(g.reads, 3);
    /* Upper 32 bits of the GVA do not exist outside long mode. */
    ck_assert_int_eq(walk(&pae, 0xabcd00000000ull | gva, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x7678);
    /* 2 MiB page. */
    put64(0x2000 + 2 * 8, 0x00e00000 | P | RW | PS);
    ck_assert_int_eq(walk(&pae, 0xc0412345, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x00e12345);
    /* NX with NXE in PAE. */
    put64(0x3000 + 0x145 * 8, 0x7000 | P | RW | XD);
    ck_assert_int_eq(walk(&pae, gva, GPT_FETCH, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_ID);
    /* Bits 62:MAXPHYADDR are reserved in PAE entries. */
    put64(0x3000 + 0x145 * 8, 0x7000 | P | RW | (1ull << 55));
    ck_assert_int_eq(walk(&pae, gva, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD);
    /* PDPTE: R/W (bit 1) is reserved; not-present PDPTE. */
    put64(0x1020 + 3 * 8, 0x2000 | P | RW);
    ck_assert_int_eq(walk(&pae, gva, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD);
    ck_assert_int_eq(walk(&pae, 0x00001000, GPT_USER, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_U);
}
END_TEST

static const struct gpt_regs legacy = {
    .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PSE, .maxphyaddr = 36,
};

START_TEST(test_32bit)
{
    uint64_t gpa, err;
    const uint32_t gva = 0x80403abc;     /* PDE 0x201, PTE 0x003 */
    put32(0x1000 + 0x201 * 4, 0x2000 | P | RW | US);
    put32(0x2000 + 0x003 * 4, 0x5000 | P | US);
    ck_assert_int_eq(walk(&legacy, gva, GPT_USER, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x5abc);
    ck_assert_uint_eq(g.reads, 2);
    /* Read-only for users; WP=0 lets the supervisor write. */
    ck_assert_int_eq(walk(&legacy, gva, GPT_USER | GPT_WRITE, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_W | GPT_PF_U);
    ck_assert_int_eq(walk(&legacy, gva, GPT_WRITE, &gpa, &err), 0);
    /* No NX in 32-bit paging: a fetch is fine; I/D is not reported without SMEP. */
    ck_assert_int_eq(walk(&legacy, gva, GPT_FETCH, &gpa, &err), 0);
    ck_assert_int_eq(walk(&legacy, 0x00400000, GPT_FETCH, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, 0);
    /* 4 MiB page with PSE-36: PDE bits 20:13 are physical bits 39:32. */
    put32(0x1000 + 0x3ff * 4, 0xffc00000u | (0x5u << 13) | P | RW | PS);
    ck_assert_int_eq(walk(&legacy, 0xffc12345, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x5ffc12345ull);
    /* ... above MAXPHYADDR (36) is reserved, as is bit 21. */
    put32(0x1000 + 0x3ff * 4, 0xffc00000u | (0x10u << 13) | P | RW | PS);
    ck_assert_int_eq(walk(&legacy, 0xffc12345, 0, &gpa, &err), GPT_EFAULT);
    ck_assert_uint_eq(err, GPT_PF_P | GPT_PF_RSVD);
    put32(0x1000 + 0x3ff * 4, 0xffc00000u | (1u << 21) | P | RW | PS);
    ck_assert_int_eq(walk(&legacy, 0xffc12345, 0, &gpa, &err), GPT_EFAULT);
    /* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
    struct gpt_regs nopse = legacy;
    nopse.cr4 = 0;
    put32(0x1000 + 0x3ff * 4, 0x3000 | P | RW | PS);
    put32(0x3000 + 0x012 * 4, 0x6000 | P);
    ck_assert_int_eq(walk(&nopse, 0xffc12345, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x6345);
}
END_TEST

START_TEST(test_tables_outside_memory)
{
    uint64_t gpa, err;
    struct gpt_regs r = long_mode;
    r.cr3 = 0x7ffff000;                  /* beyond guest memory */
    ck_assert_int_eq(walk(&r, 0x1000, 0, &gpa, &err), GPT_EREAD);
    map4(0x1000, 0x9000, P | RW, P | RW);
    put64(0x3000, 0x40000000 | P | RW);  /* PD -> a PT outside memory */
    ck_assert_int_eq(walk(&long_mode, 0x1000, 0, &gpa, &err), GPT_EREAD);
    struct gpt_regs l = legacy;
    l.cr3 = 0xfffff000;
    ck_assert_int_eq(walk(&l, 0x1000, 0, &gpa, &err), GPT_EREAD);
}
END_TEST

/* Every entry of the top table points back at itself: the walk ends after
 * one read per level and lands on the table page. */
START_TEST(test_self_referencing)
{
    uint64_t gpa, err;
    for (int i = 0; i < 512; i++)
        put64(0x1000 + (uint64_t)i * 8, 0x1000 | P | RW | US);
    ck_assert_int_eq(walk(&long_mode, 0x00007fffffffffffull, GPT_WRITE, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x1fff);
    ck_assert_uint_eq(g.reads, 4);
    struct gpt_regs r5 = long_mode;
    r5.cr4 |= CR4_LA57;
    g.reads = 0;
    ck_assert_int_eq(walk(&r5, 0x00ffffffffffffffull, 0, &gpa, &err), 0);
    ck_assert_uint_eq(g.reads, 5);
    /* 32-bit: the PD is its own page table. */
    for (int i = 0; i < 1024; i++)
        put32(0x1000 + (uint64_t)i * 4, 0x1000 | P | RW);
    g.reads = 0;
    ck_assert_int_eq(walk(&legacy, 0xdeadbeef, 0, &gpa, &err), 0);
    ck_assert_uint_eq(gpa, 0x1eef);
    ck_assert_uint_eq(g.reads, 2);
}
END_TEST

START_TEST(test_fetch_across_pages)
{
    const uint64_t gva = 0x0000000000400ff8ull;    /* 8 bytes before a page end */
    uint8_t buf[16];
    size_t got;
    uint64_t fault_gva, err;
    map4(gva, 0x9000, P | RW | US, P | RW | US);
    map4(gva + 0x1000, 0xb000, P | RW | US, P | RW | US);  /* not contiguous in GPA */
    for (int i = 0; i < 8; i++)
        g.mem[0x9ff8 + i] = (uint8_t)(0x10 + i);
    for (int i = 0; i < 7; i++)
        g.mem[0xb000 + i] = (uint8_t)(0x18 + i);
    ck_assert_int_eq(gpt_fetch(&long_mode, gva, 0, read_gpa, &g, buf, 15, &got, &fault_gva, &err), 0);
    ck_assert_uint_eq(got, 15);
    for (int i = 0; i < 15; i++)
        ck_assert_uint_eq(buf[i], 0x10 + i);

    /* Second page not present: the bytes of the first page and the fault. */
    put64(0x4000 + (((gva + 0x1000) >> 12) & 511) * 8, 0);
    ck_assert_int_eq(gpt_fetch(&long_mode, gva, GPT_USER, read_gpa, &g, buf, 15, &got, &fault_gva, &err),
                     GPT_EFAULT);
    ck_assert_uint_eq(got, 8);
    ck_assert_uint_eq(fault_gva, gva + 8);
    ck_assert_uint_eq(err, GPT_PF_U | GPT_PF_ID);
    /* Fewer bytes wanted than reach the second page: no fault. */
    ck_assert_int_eq(gpt_fetch(&long_mode, gva, 0, read_gpa, &g, buf, 8, &got, &fault_gva, &err), 0);
    ck_assert_uint_eq(got, 8);
    /* Non-executable first page. */
    map4(gva, 0x9000, P | RW | US, P | RW | US | XD);
    ck_assert_int_eq(gpt_fetch(&long_mode, gva, 0, read_gpa, &g, buf, 15, &got, &fault_gva, &err), GPT_EFAULT);
    ck_assert_uint_eq(got, 0);
    ck_assert_uint_eq(fault_gva, gva);
    /* Asking for more than 15 is clamped. */
    map4(gva, 0x9000, P | RW | US, P | RW | US);
    map4(gva + 0x1000, 0xb000, P | RW | US, P | RW | US);
    ck_assert_int_eq(gpt_fetch(&long_mode, gva, 0, read_gpa, &g, buf, 100, &got, &fault_gva, &err), 0);
    ck_assert_uint_eq(got, 15);
}
END_TEST

START_TEST(test_fetch_wraps_outside_long_mode)
{
    /* Paging off, 32-bit linear addresses: 0xfffffffe + 2 wraps to 0. */
    struct gpt_regs r = { .cr0 = CR0_PE };
    uint8_t buf[16];
    size_t got;
    uint64_t fault_gva, err;
    g.mem[0] = 0xaa;
    g.mem[1] = 0xbb;
    /* 0xfffffffe is outside the 256 KiB of guest memory: read fails after 0 bytes. */
    ck_assert_int_eq(gpt_fetch(&r, 0xfffffffe, 0, read_gpa, &g, buf, 4, &got, &fault_gva, &err), GPT_EREAD);
    ck_assert_uint_eq(got, 0);
    /* At the end of guest memory in real mode: 4 bytes, 2 of which exist. */
    g.mem[MEM_SIZE - 2] = 0x11;
    g.mem[MEM_SIZE - 1] = 0x22;
    ck_assert_int_eq(gpt_fetch(&r, MEM_SIZE - 2, 0, read_gpa, &g, buf, 4, &got, &fault_gva, &err), GPT_EREAD);
    ck_assert_uint_eq(got, 2);
    ck_assert_uint_eq(buf[0], 0x11);
    ck_assert_uint_eq(buf[1], 0x22);
    /* 32-bit paging: the page after 0xfffff000 is 0x00000000. */
    put32(0x1000 + 0x3ff * 4, 0x2000 | P);
    put32(0x2000 + 0x3ff * 4, 0x5000 | P);
    put32(0x1000, 0x3000 | P);
    put32(0x3000, 0x6000 | P);
    g.mem[0x5fff] = 0x90;
    g.mem[0x6000] = 0x91;
    ck_assert_int_eq(gpt_fetch(&legacy, 0xffffffff, 0, read_gpa, &g, buf, 2, &got, &fault_gva, &err), 0);
    ck_assert_uint_eq(buf[0], 0x90);
    ck_assert_uint_eq(buf[1], 0x91);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gpt");
    TCase *tc = tcase_create("gpt");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_paging_off);
    tcase_add_test(tc, test_long_mode_4k);
    tcase_add_test(tc, test_long_mode_large_pages);
    tcase_add_test(tc, test_long_mode_faults);
    tcase_add_test(tc, test_smep_smap);
    tcase_add_test(tc, test_five_level);
    tcase_add_test(tc, test_pae);
    tcase_add_test(tc, test_32bit);
    tcase_add_test(tc, test_tables_outside_memory);
    tcase_add_test(tc, test_self_referencing);
    tcase_add_test(tc, test_fetch_across_pages);
    tcase_add_test(tc, test_fetch_wraps_outside_long_mode);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
