/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the guest page-table walk (microkernel/virt/gpt.c).
 * Input: 48 bytes of registers, address and access, then guest-physical
 * memory (the page tables) at GPA 0.  The walk must end, read at most one
 * entry per level (5) with aligned 4/8-byte reads, only ask for memory the
 * callback can refuse (it refuses anything outside the input), and keep the
 * page offset on success; gpt_fetch must stay within 15 bytes, 2 walks and
 * one instruction read per page.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virt/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct memory {
    const uint8_t *bytes;
    size_t size;
    unsigned table_reads, reads;
    bool fetching;   /* in gpt_fetch: instruction reads of 1 to 15 bytes too */
};

static int read_gpa(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
    struct memory *m = ctx;
    m->reads++;
    if (size == 4 || size == 8)
        m->table_reads++;
    if (size == 0 || size > 15 || (!m->fetching && size != 4 && size != 8))
        __builtin_trap();
    if (!m->fetching && gpa % size)
        __builtin_trap();       /* page-table entries are naturally aligned */
    if (gpa % 4096 + size > 4096)
        __builtin_trap();       /* never across a page */
    if (gpa >= m->size || m->size - gpa < size)
        return -1;
    memcpy(buf, m->bytes + gpa, size);
    return 0;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 48)
        return 0;
    struct gpt_regs r = {
        .cr0 = get64(data), .cr3 = get64(data + 8), .cr4 = get64(data + 16), .efer = get64(data + 24),
        .maxphyaddr = data[40],
    };
    uint64_t gva = get64(data + 32);
    unsigned access = data[41] & 0xf;
    struct memory m = { data + 48, size - 48, 0, 0, false };
    /* Usually put CR3 inside the input so that walks go deep. */
    if (data[42] & 1)
        r.cr3 &= 0xffff;

    uint64_t gpa = 0, err = 0;
    int ret = gpt_walk(&r, gva, access, read_gpa, &m, &gpa, &err);
    if (ret > 0 || ret < GPT_EREAD || m.table_reads > 5)
        __builtin_trap();
    if (ret == GPT_EFAULT && (err & ~0x1full))
        __builtin_trap();
    if (ret == 0 && (r.cr0 & (1ull << 31)) && (gpa & 0xfff) != (gva & 0xfff))
        __builtin_trap();

    uint8_t buf[15];
    size_t got = 99;
    uint64_t fault_gva, fault_err;
    m.table_reads = m.reads = 0;
    m.fetching = true;
    ret = gpt_fetch(&r, gva, access & GPT_USER, read_gpa, &m, buf, data[43] % 32, &got, &fault_gva, &fault_err);
    /* Two walks of at most 5 entries, one instruction read per page. */
    if (got > 15 || got > data[43] % 32 || m.reads > 10 + 2)
        __builtin_trap();
    if (ret == 0 && got != (data[43] % 32 < 15 ? data[43] % 32 : 15))
        __builtin_trap();
    return 0;
}
