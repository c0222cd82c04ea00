/* SPDX-License-Identifier: MIT */
/*
 * Validation of user ELF64 executables.  Everything is checked against the
 * file and the user address range before the loader maps a byte.  Pure logic.
 */
#ifndef CORE_ELF_H
#define CORE_ELF_H

#include <stdint.h>
#include <stddef.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
    uint64_t vaddr;     /* page-aligned start of the mapping */
    uint64_t pages;     /* pages to map */
    uint64_t file_off;  /* file offset of vaddr_exact */
    uint64_t vaddr_exact;
    uint64_t filesz;
    uint32_t prot;      /* COPRA_PROT_* */
};

struct elf_image {
    uint64_t entry;
    uint32_t nsegments;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/* Returns 0 and fills *img, or -1 with *error saying what is wrong. */
int elf_validate(const uint8_t *file, size_t size, uint64_t user_base, uint64_t user_end,
                 struct elf_image *img, const char **error);

#endif
