/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the kernel's ELF64 validator (microkernel/core/elf.c).
 * On success it checks what the loader relies on: every segment inside the
 * user range and not overlapping another, every file range inside the input,
 * no W+X mapping, the entry in an executable segment.  On failure: a message.
 */
#include <stddef.h>
#include <stdint.h>

#include <copra/syscall.h>
#include "core/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096ull

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_image img;
    const char *error = NULL;
    if (elf_validate(data, size, COPRA_USER_BASE, COPRA_USER_END, &img, &error) != 0) {
        if (!error || error[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (img.nsegments == 0 || img.nsegments > ELF_MAX_SEGMENTS)
        __builtin_trap();
    int entry_ok = 0;
    for (unsigned i = 0; i < img.nsegments; i++) {
        const struct elf_segment *s = &img.seg[i];
        /* Mapping inside [COPRA_USER_BASE, COPRA_USER_END), page-aligned. */
        if (s->vaddr % PAGE || s->vaddr < COPRA_USER_BASE || s->vaddr >= COPRA_USER_END)
            __builtin_trap();
        if (s->pages == 0 || s->pages > (COPRA_USER_END - s->vaddr) / PAGE)
            __builtin_trap();
        uint64_t map_end = s->vaddr + s->pages * PAGE;
        if (s->vaddr_exact < s->vaddr || s->vaddr_exact - s->vaddr >= PAGE)
            __builtin_trap();
        /* The file bytes copied in land inside the mapping... */
        if (s->filesz > map_end - s->vaddr_exact)
            __builtin_trap();
        /* ...and come from inside the input. */
        if (s->file_off > size || s->filesz > size - s->file_off)
            __builtin_trap();
        if ((s->prot & COPRA_PROT_WRITE) && (s->prot & COPRA_PROT_EXEC))
            __builtin_trap();
        if (s->prot & ~(uint32_t)(COPRA_PROT_READ | COPRA_PROT_WRITE | COPRA_PROT_EXEC))
            __builtin_trap();
        for (unsigned j = 0; j < i; j++) {
            const struct elf_segment *o = &img.seg[j];
            if (s->vaddr < o->vaddr + o->pages * PAGE && o->vaddr < map_end)
                __builtin_trap();
        }
        if ((s->prot & COPRA_PROT_EXEC) && img.entry >= s->vaddr_exact &&
            img.entry < map_end)
            entry_ok = 1;
        /* Read the bytes the loader would copy, so ASan checks the bounds. */
        uint8_t x = 0;
        for (uint64_t k = 0; k < s->filesz; k++)
            x ^= data[s->file_off + k];
        sink = x;
    }
    if (!entry_ok)
        __builtin_trap();
    return 0;
}
