/* SPDX-License-Identifier: MIT */
#include "core/elf.h"
#include <copra/syscall.h>

/* ELF64 structures (System V ABI, gABI ch. 4), read with memcpy-free field access. */
struct elf64_ehdr {
    uint8_t  ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

#define PT_LOAD    1
#define PT_DYNAMIC 2
#define PT_INTERP  3
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define PAGE 4096ull

#define FAIL(msg) do { *error = (msg); return -1; } while (0)

int elf_validate(const uint8_t *file, size_t size, uint64_t user_base, uint64_t user_end,
                 struct elf_image *img, const char **error)
{
    struct elf64_ehdr eh;
    if (size < sizeof(eh))
        FAIL("file is smaller than an ELF header");
    __builtin_memcpy(&eh, file, sizeof(eh));
    if (eh.ident[0] != 0x7f || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F')
        FAIL("no ELF magic");
    if (eh.ident[4] != 2)
        FAIL("not ELFCLASS64");
    if (eh.ident[5] != 1)
        FAIL("not little-endian");
    if (eh.ident[6] != 1 || eh.version != 1)
        FAIL("bad ELF version");
    if (eh.type != 2)
        FAIL("not an executable (ET_EXEC)");
    if (eh.machine != 62)
        FAIL("not x86-64");
    if (eh.phentsize != sizeof(struct elf64_phdr))
        FAIL("bad program header size");
    if (eh.phnum == 0 || eh.phnum > 64)
        FAIL("program header count out of range");
    if (eh.phoff > size || (size - eh.phoff) / sizeof(struct elf64_phdr) < eh.phnum)
        FAIL("program headers run past the end of the file");
    if (eh.phoff % 8)
        FAIL("program headers are misaligned");

    img->nsegments = 0;
    img->entry = eh.entry;
    int entry_ok = 0;
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        __builtin_memcpy(&ph, file + eh.phoff + i * sizeof(ph), sizeof(ph));
        if (ph.type == PT_INTERP || ph.type == PT_DYNAMIC)
            FAIL("dynamically linked (PT_INTERP/PT_DYNAMIC)");
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if ((ph.flags & PF_W) && (ph.flags & PF_X))
            FAIL("segment is writable and executable");
        if (ph.filesz > ph.memsz)
            FAIL("segment file size exceeds memory size");
        if (ph.offset > size || size - ph.offset < ph.filesz)
            FAIL("segment data runs past the end of the file");
        if (ph.align > 1 && (ph.align & (ph.align - 1)))
            FAIL("segment alignment is not a power of two");
        if (ph.vaddr % PAGE != ph.offset % PAGE)
            FAIL("segment address and offset disagree modulo the page size");
        if (ph.vaddr < user_base || ph.vaddr >= user_end || user_end - ph.vaddr < ph.memsz)
            FAIL("segment lies outside the user address range");
        if (img->nsegments == ELF_MAX_SEGMENTS)
            FAIL("too many loadable segments");

        struct elf_segment *s = &img->seg[img->nsegments];
        s->vaddr = ph.vaddr & ~(PAGE - 1);
        s->pages = (ph.vaddr + ph.memsz - s->vaddr + PAGE - 1) / PAGE;
        s->vaddr_exact = ph.vaddr;
        s->file_off = ph.offset;
        s->filesz = ph.filesz;
        s->prot = ((ph.flags & PF_R) ? COPRA_PROT_READ : 0) |
                  ((ph.flags & PF_W) ? COPRA_PROT_WRITE : 0) |
                  ((ph.flags & PF_X) ? COPRA_PROT_EXEC : 0);
        for (unsigned j = 0; j < img->nsegments; j++) {
            const struct elf_segment *o = &img->seg[j];
            if (s->vaddr < o->vaddr + o->pages * PAGE && o->vaddr < s->vaddr + s->pages * PAGE)
                FAIL("segments overlap");
        }
        if ((ph.flags & PF_X) && eh.entry >= ph.vaddr && eh.entry - ph.vaddr < ph.memsz)
            entry_ok = 1;
        img->nsegments++;
    }
    if (img->nsegments == 0)
        FAIL("no loadable segment");
    if (!entry_ok)
        FAIL("entry point is not in an executable segment");
    return 0;
}
