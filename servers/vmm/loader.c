/* SPDX-License-Identifier: MIT */
/*
 * Guest image parsing and loading (see loader.h).  Pure: it uses only
 * memcpy/memset/snprintf, which both the host libc and libcoco provide.
 * Every field read from the image is checked before it is used as an
 * offset, a size or an address; all arithmetic on image values is done in
 * 64 bits on 32-bit quantities, so it cannot wrap.
 */
#include "loader.h"

#include <stdarg.h>

#if __STDC_HOSTED__
#include <stdio.h>
#include <string.h>
#else
#include <coco/libc.h>
#endif

/* ELF32 (System V gABI): only what the loader reads. */
#define ELF_HEADER_SIZE  52u
#define ELF_PHDR_SIZE    32u
#define ELFCLASS32       1u
#define ELFCLASS64       2u
#define ELFDATA2LSB      1u
#define ET_EXEC          2u
#define EM_386           3u
#define PT_LOAD          1u

#define AOUT_HEADER_SIZE 32u   /* magic, flags, checksum + 5 address fields */
#define MB_HEADER_SIZE   12u   /* magic, flags, checksum */

static uint32_t read32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t read16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

enum loader_status loader_fail(struct loader_error *error, enum loader_status status,
                               const char *format, ...)
{
    va_list ap;

    error->status = status;
    va_start(ap, format);
    vsnprintf(error->message, sizeof error->message, format, ap);
    va_end(ap);
    return status;
}

/* Does [gpa, gpa + len) fit in RAM?  gpa and len are at most 2^32 each. */
static bool ram_fits(uint64_t gpa, uint64_t len, uint64_t ram_size)
{
    return gpa <= ram_size && len <= ram_size - gpa;
}

/* Checks one segment against RAM, then adds it. */
static enum loader_status plan_add(struct loader_plan *plan, struct loader_error *error,
                                   const struct loader_segment *seg, uint64_t ram_size,
                                   const char *what)
{
    if (!ram_fits(seg->gpa, seg->mem_size, ram_size))
        return loader_fail(error, LOADER_ERANGE,
                           "%s at 0x%llx..0x%llx lies outside guest RAM (%llu KiB)", what,
                           (unsigned long long)seg->gpa,
                           (unsigned long long)(seg->gpa + seg->mem_size),
                           (unsigned long long)(ram_size >> 10));
    if (plan->nsegments == LOADER_SEGMENTS_MAX)
        return loader_fail(error, LOADER_ETOO_MANY, "more than %u loadable segments",
                           LOADER_SEGMENTS_MAX);
    plan->segments[plan->nsegments++] = *seg;
    return LOADER_OK;
}

static enum loader_status parse_flat(const uint8_t *image, size_t size, uint64_t ram_size,
                                     struct loader_plan *plan, struct loader_error *error)
{
    (void)image;
    struct loader_segment seg = {
        .file_offset = 0, .file_size = size, .gpa = LOADER_FLAT_GPA, .mem_size = size,
    };

    if (size > UINT32_MAX || !ram_fits(LOADER_FLAT_GPA, size, ram_size))
        return loader_fail(error, LOADER_ERANGE,
                           "flat image of %llu bytes does not fit in guest RAM above 0x%x "
                           "(%llu KiB of RAM)", (unsigned long long)size, LOADER_FLAT_GPA,
                           (unsigned long long)(ram_size >> 10));
    plan->entry = LOADER_FLAT_GPA;
    return plan_add(plan, error, &seg, ram_size, "flat image");
}

/*
 * Multiboot §3.1.1: the header is 32-bit aligned and lies completely within
 * the first 8192 bytes.  Returns LOADER_OK with *offset set, or an error.
 */
static enum loader_status header_find(const uint8_t *image, size_t size, uint32_t *offset,
                                      struct loader_error *error)
{
    size_t window = size < LOADER_MB_SEARCH ? size : LOADER_MB_SEARCH;
    bool magic_seen = false;
    uint32_t bad_at = 0;

    for (size_t off = 0; off + MB_HEADER_SIZE <= window; off += 4) {
        const uint8_t *h = image + off;
        if (read32(h) != MULTIBOOT_HEADER_MAGIC)
            continue;
        if ((uint32_t)(read32(h) + read32(h + 4) + read32(h + 8)) == 0) {
            *offset = (uint32_t)off;
            return LOADER_OK;
        }
        if (!magic_seen)
            bad_at = (uint32_t)off;
        magic_seen = true;
    }
    if (magic_seen)
        return loader_fail(error, LOADER_EHEADER,
                           "multiboot header at offset 0x%x has a bad checksum", bad_at);
    return loader_fail(error, LOADER_ENO_HEADER,
                       "no multiboot header (magic 0x%08x) in the first %u bytes of %zu",
                       MULTIBOOT_HEADER_MAGIC, LOADER_MB_SEARCH, size);
}

/* Multiboot §3.1.3, address fields (flag 16): the image is a plain binary. */
static enum loader_status parse_aout(const uint8_t *image, size_t size, uint64_t ram_size,
                                     struct loader_plan *plan, struct loader_error *error)
{
    uint32_t off = plan->header_offset;

    if (off + AOUT_HEADER_SIZE > size || off + AOUT_HEADER_SIZE > LOADER_MB_SEARCH)
        return loader_fail(error, LOADER_EHEADER,
                           "multiboot header at offset 0x%x: address fields (flag 16) cut off",
                           off);
    const uint8_t *h = image + off;
    uint64_t header_addr = read32(h + 12), load_addr = read32(h + 16);
    uint64_t load_end_addr = read32(h + 20), bss_end_addr = read32(h + 24);
    uint64_t entry_addr = read32(h + 28);

    if (load_addr > header_addr)
        return loader_fail(error, LOADER_EHEADER,
                           "load_addr 0x%llx lies above header_addr 0x%llx",
                           (unsigned long long)load_addr, (unsigned long long)header_addr);
    uint64_t delta = header_addr - load_addr;
    if (delta > off)
        return loader_fail(error, LOADER_EHEADER,
                           "load_addr 0x%llx would start 0x%llx bytes before the file",
                           (unsigned long long)load_addr, (unsigned long long)(delta - off));
    uint64_t file_start = off - delta, load_size;
    if (load_end_addr == 0) {
        load_size = size - file_start;
    } else {
        if (load_end_addr < load_addr)
            return loader_fail(error, LOADER_EHEADER, "load_end_addr 0x%llx < load_addr 0x%llx",
                               (unsigned long long)load_end_addr, (unsigned long long)load_addr);
        load_size = load_end_addr - load_addr;
        if (load_size > size - file_start)
            return loader_fail(error, LOADER_ERANGE,
                               "load_end_addr 0x%llx lies 0x%llx bytes past the end of the file",
                               (unsigned long long)load_end_addr,
                               (unsigned long long)(load_size - (size - file_start)));
    }
    uint64_t mem_size = load_size;
    if (bss_end_addr != 0) {
        if (bss_end_addr < load_addr + load_size)
            return loader_fail(error, LOADER_EHEADER,
                               "bss_end_addr 0x%llx lies below the end of the loaded data 0x%llx",
                               (unsigned long long)bss_end_addr,
                               (unsigned long long)(load_addr + load_size));
        mem_size = bss_end_addr - load_addr;
    }
    if (mem_size == 0)
        return loader_fail(error, LOADER_EHEADER, "the address fields load nothing");
    if (entry_addr < load_addr || entry_addr >= load_addr + mem_size)
        return loader_fail(error, LOADER_EHEADER,
                           "entry_addr 0x%llx lies outside the image at 0x%llx..0x%llx",
                           (unsigned long long)entry_addr, (unsigned long long)load_addr,
                           (unsigned long long)(load_addr + mem_size));

    struct loader_segment seg = {
        .file_offset = file_start, .file_size = load_size, .gpa = load_addr, .mem_size = mem_size,
    };
    plan->aout_kludge = true;
    plan->entry = entry_addr;
    return plan_add(plan, error, &seg, ram_size, "image");
}

/* An ELF32 i386 executable: PT_LOAD segments go to p_paddr. */
static enum loader_status parse_elf(const uint8_t *image, size_t size, uint64_t ram_size,
                                    struct loader_plan *plan, struct loader_error *error)
{
    static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
    bool entry_found = false;

    if (size < 4 || memcmp(image, elf_magic, 4) != 0)
        return loader_fail(error, LOADER_EELF,
                           "not an ELF file, and the multiboot header has no address fields "
                           "(flag 16)");
    if (size < ELF_HEADER_SIZE)
        return loader_fail(error, LOADER_EELF, "ELF header cut off (%zu bytes)", size);
    if (image[4] == ELFCLASS64)
        return loader_fail(error, LOADER_EELF,
                           "ELF64 image: multiboot v1 loads ELF32 (objcopy -O elf32-i386)");
    if (image[4] != ELFCLASS32)
        return loader_fail(error, LOADER_EELF, "bad ELF class %u", image[4]);
    if (image[5] != ELFDATA2LSB)
        return loader_fail(error, LOADER_EELF, "not a little-endian ELF file");
    if (read16(image + 16) != ET_EXEC)
        return loader_fail(error, LOADER_EELF, "not an executable (e_type %u)",
                           read16(image + 16));
    if (read16(image + 18) != EM_386)
        return loader_fail(error, LOADER_EELF, "not an i386 ELF file (e_machine %u)",
                           read16(image + 18));

    uint64_t e_entry = read32(image + 24), phoff = read32(image + 28);
    unsigned phentsize = read16(image + 42), phnum = read16(image + 44);
    if (phentsize != ELF_PHDR_SIZE)
        return loader_fail(error, LOADER_EELF, "program header size %u, want %u", phentsize,
                           ELF_PHDR_SIZE);
    if (phnum == 0 || phnum > LOADER_PHDRS_MAX)
        return loader_fail(error, LOADER_EELF, "%u program headers (want 1..%u)", phnum,
                           LOADER_PHDRS_MAX);
    if (phoff > size || (uint64_t)phnum * ELF_PHDR_SIZE > size - phoff)
        return loader_fail(error, LOADER_ERANGE, "program headers lie outside the file");

    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = image + phoff + (uint64_t)i * ELF_PHDR_SIZE;
        if (read32(ph) != PT_LOAD)
            continue;
        uint64_t offset = read32(ph + 4), vaddr = read32(ph + 8), paddr = read32(ph + 12);
        uint64_t filesz = read32(ph + 16), memsz = read32(ph + 20);
        char what[32];
        snprintf(what, sizeof what, "segment %u", i);
        if (filesz > memsz)
            return loader_fail(error, LOADER_EELF,
                               "segment %u: file size 0x%llx larger than memory size 0x%llx",
                               i, (unsigned long long)filesz, (unsigned long long)memsz);
        if (offset > size || filesz > size - offset)
            return loader_fail(error, LOADER_ERANGE,
                               "segment %u: bytes 0x%llx..0x%llx lie outside the file (%zu bytes)",
                               i, (unsigned long long)offset,
                               (unsigned long long)(offset + filesz), size);
        if (memsz == 0)
            continue;
        struct loader_segment seg = {
            .file_offset = offset, .file_size = filesz, .gpa = paddr, .mem_size = memsz,
        };
        enum loader_status status = plan_add(plan, error, &seg, ram_size, what);
        if (status != LOADER_OK)
            return status;
        /* The entry is a virtual address; run it at the physical address
         * of the segment that holds it (what GRUB and QEMU do). */
        if (!entry_found && e_entry >= vaddr && e_entry - vaddr < memsz) {
            plan->entry = paddr + (e_entry - vaddr);
            entry_found = true;
        }
    }
    if (plan->nsegments == 0)
        return loader_fail(error, LOADER_EELF, "no loadable segments");
    if (!entry_found)
        return loader_fail(error, LOADER_EELF,
                           "entry point 0x%llx is not inside a loadable segment",
                           (unsigned long long)e_entry);
    return LOADER_OK;
}

static enum loader_status parse_multiboot(const uint8_t *image, size_t size, uint64_t ram_size,
                                          struct loader_plan *plan,
                                          struct loader_error *error)
{
    enum loader_status status = header_find(image, size, &plan->header_offset, error);
    if (status != LOADER_OK)
        return status;

    plan->multiboot = true;
    plan->header_flags = read32(image + plan->header_offset + 4);
    uint32_t required = plan->header_flags & 0xffffu;
    if (required & MULTIBOOT_VIDEO_MODE)
        return loader_fail(error, LOADER_EHEADER,
                           "the image requires a video mode (header flag 2): there is no display");
    if (required & ~MULTIBOOT_SUPPORTED)
        return loader_fail(error, LOADER_EHEADER,
                           "the image requires unsupported features (header flags 0x%x)",
                           required & ~MULTIBOOT_SUPPORTED);
    if (plan->header_flags & MULTIBOOT_AOUT_KLUDGE)
        return parse_aout(image, size, ram_size, plan, error);
    return parse_elf(image, size, ram_size, plan, error);
}

enum loader_status loader_parse(const uint8_t *image, size_t size,
                                enum vmm_guest_format format, uint64_t ram_size,
                                struct loader_plan *plan, struct loader_error *error)
{
    enum loader_status status;

    if (error == NULL)
        return LOADER_EINVAL;
    error->status = LOADER_OK;
    error->message[0] = '\0';
    if (plan == NULL || (image == NULL && size > 0))
        return loader_fail(error, LOADER_EINVAL, "invalid arguments");
    memset(plan, 0, sizeof *plan);
    plan->format = format;
    if (ram_size == 0 || ram_size % 4096 != 0)
        return loader_fail(error, LOADER_EINVAL, "guest RAM size %llu is not a whole number of pages",
                           (unsigned long long)ram_size);
    if (size == 0)
        return loader_fail(error, LOADER_EEMPTY, "the image is empty");

    switch (format) {
    case VMM_GUEST_FLAT:
        status = parse_flat(image, size, ram_size, plan, error);
        break;
    case VMM_GUEST_MULTIBOOT:
        status = parse_multiboot(image, size, ram_size, plan, error);
        break;
    default:
        return loader_fail(error, LOADER_EINVAL, "no guest format");
    }
    if (status == LOADER_OK && plan->entry > UINT32_MAX)
        status = loader_fail(error, LOADER_ERANGE, "entry point above 4 GiB");
    return status;
}

void loader_load(const struct loader_plan *plan, const uint8_t *image, size_t size,
                 uint8_t *ram, uint64_t ram_size)
{
    for (unsigned i = 0; i < plan->nsegments && i < LOADER_SEGMENTS_MAX; i++) {
        const struct loader_segment *seg = &plan->segments[i];
        /* loader_parse() checked all of this; a plan from elsewhere that
         * breaks it loads nothing rather than writing out of bounds. */
        if (!ram_fits(seg->gpa, seg->mem_size, ram_size) || seg->file_size > seg->mem_size ||
            seg->file_offset > size || seg->file_size > size - seg->file_offset)
            continue;
        memcpy(ram + seg->gpa, image + seg->file_offset, seg->file_size);
        memset(ram + seg->gpa + seg->file_size, 0, seg->mem_size - seg->file_size);
    }
}

/* Layout of the boot information area: the fixed part, the memory map, the
 * loader name, the module list, then the strings. */
#define BOOT_MMAP_OFFSET    0x080u
#define BOOT_NAME_OFFSET    0x100u
#define BOOT_MODS_OFFSET    0x120u
#define LEGACY_START        0x9fc00u   /* the EBDA, video memory and BIOS ROM up to 1 MiB */
#define HIGH_START          0x100000u
#define PAGE                4096u

static const char loader_name[] = "Copra VMM";
_Static_assert(BOOT_NAME_OFFSET + sizeof loader_name <= BOOT_MODS_OFFSET, "loader name fits");

/* strlen bounded by LOADER_STRING_MAX; LOADER_STRING_MAX if unterminated. */
static uint64_t string_len(const char *s)
{
    uint64_t n = 0;
    while (s != NULL && n < LOADER_STRING_MAX && s[n] != '\0')
        n++;
    return n;
}

/* The first page-aligned place at or after `cursor` for `size` bytes that
 * does not cross into the legacy hole. */
static uint64_t place_after(uint64_t cursor, uint64_t size)
{
    uint64_t start = (cursor + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    if (start < HIGH_START && start + size > LEGACY_START)
        start = HIGH_START;
    return start;
}

enum loader_status loader_place(const struct loader_plan *plan, uint64_t ram_size,
                                const struct loader_module *modules, unsigned nmodules,
                                const char *cmdline, struct loader_layout *layout,
                                struct loader_error *error)
{
    /* Everything the guest finds through EBX holds 32-bit addresses. */
    uint64_t limit = ram_size < (1ull << 32) ? ram_size : 1ull << 32, cursor = 0;
    uint64_t strings = string_len(cmdline) + 1;

    if (error == NULL)
        return LOADER_EINVAL;
    error->status = LOADER_OK;
    error->message[0] = '\0';
    if (plan == NULL || layout == NULL || nmodules > LOADER_MODULES_MAX ||
        (nmodules > 0 && modules == NULL) || strings > LOADER_STRING_MAX)
        return loader_fail(error, LOADER_EINVAL, "invalid arguments (at most %u modules, strings below %u bytes)",
                           LOADER_MODULES_MAX, LOADER_STRING_MAX);
    memset(layout, 0, sizeof *layout);
    for (unsigned i = 0; i < plan->nsegments && i < LOADER_SEGMENTS_MAX; i++) {
        uint64_t end = plan->segments[i].gpa + plan->segments[i].mem_size;
        cursor = end > cursor ? end : cursor;
    }
    for (unsigned i = 0; i < nmodules; i++) {
        uint64_t len = string_len(modules[i].string) + 1;
        if (len > LOADER_STRING_MAX || (modules[i].data == NULL && modules[i].size > 0))
            return loader_fail(error, LOADER_EINVAL, "module %u: bad string or data", i);
        strings += len;
        uint64_t at = place_after(cursor, modules[i].size);
        if (modules[i].size > limit || at > limit - modules[i].size)
            return loader_fail(error, LOADER_ENOSPACE,
                               "module %u (%llu bytes) does not fit in guest RAM after 0x%llx", i,
                               (unsigned long long)modules[i].size, (unsigned long long)cursor);
        layout->module_gpa[i] = at;
        cursor = at + modules[i].size;
    }
    layout->nmodules = nmodules;
    layout->info_size = (BOOT_MODS_OFFSET + nmodules * sizeof(struct multiboot_module) + strings + PAGE - 1) &
                        ~(uint64_t)(PAGE - 1);
    layout->info_gpa = place_after(cursor, layout->info_size);
    if (layout->info_gpa > limit - layout->info_size || layout->info_size > limit)
        return loader_fail(error, LOADER_ENOSPACE,
                           "no room for the boot information (%llu bytes) in guest RAM after 0x%llx",
                           (unsigned long long)layout->info_size, (unsigned long long)cursor);
    return LOADER_OK;
}

/* Copy a string into the area (`size` bytes) at *offset, truncated to fit
 * (only if the caller's strings differ from loader_place()'s); returns its GPA. */
static uint32_t put_string(uint8_t *area, uint64_t size, uint64_t gpa, uint64_t *offset, const char *s)
{
    uint64_t n = string_len(s);
    if (*offset >= size)
        return 0;
    if (n > size - *offset - 1)
        n = size - *offset - 1;
    memcpy(area + *offset, s, n);
    area[*offset + n] = 0;
    *offset += n + 1;
    return (uint32_t)(gpa + *offset - n - 1);
}

uint32_t loader_boot_info(uint8_t *ram, uint64_t ram_size, const struct loader_layout *layout,
                          const struct loader_module *modules, const char *cmdline)
{
    struct multiboot_info info;
    struct multiboot_mmap_entry map[3];
    unsigned nmap = 0;

    /* loader_place() checked this layout; one from elsewhere that breaks it
     * writes nothing. */
    if (layout == NULL || layout->nmodules > LOADER_MODULES_MAX || layout->info_size < PAGE ||
        (layout->nmodules > 0 && modules == NULL) ||
        !ram_fits(layout->info_gpa, layout->info_size, ram_size) || layout->info_gpa >> 32 != 0)
        return 0;
    for (unsigned i = 0; i < layout->nmodules; i++)
        if (!ram_fits(layout->module_gpa[i], modules[i].size, ram_size))
            return 0;
    uint8_t *area = ram + layout->info_gpa;
    uint64_t gpa = layout->info_gpa, strings = BOOT_MODS_OFFSET + layout->nmodules * sizeof(struct multiboot_module);
    memset(area, 0, layout->info_size);
    memset(&info, 0, sizeof info);

    uint64_t low = ram_size < LEGACY_START ? ram_size : LEGACY_START;
    uint64_t upper = ram_size > HIGH_START ? (ram_size - HIGH_START) >> 10 : 0;
    info.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_LOADER_NAME;
    info.mem_lower = (uint32_t)(low >> 10);
    info.mem_upper = upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper;

    map[nmap++] = (struct multiboot_mmap_entry){ .size = 20, .addr = 0, .len = low, .type = 1 };
    if (ram_size > LEGACY_START)
        map[nmap++] = (struct multiboot_mmap_entry){
            .size = 20, .addr = LEGACY_START, .len = HIGH_START - LEGACY_START, .type = 2 };
    if (ram_size > HIGH_START)
        map[nmap++] = (struct multiboot_mmap_entry){
            .size = 20, .addr = HIGH_START, .len = ram_size - HIGH_START, .type = 1 };
    memcpy(area + BOOT_MMAP_OFFSET, map, nmap * sizeof map[0]);
    info.mmap_addr = (uint32_t)(gpa + BOOT_MMAP_OFFSET);
    info.mmap_length = (uint32_t)(nmap * sizeof map[0]);

    memcpy(area + BOOT_NAME_OFFSET, loader_name, sizeof loader_name);
    info.boot_loader_name = (uint32_t)(gpa + BOOT_NAME_OFFSET);

    if (cmdline != NULL && cmdline[0] != '\0') {
        info.cmdline = put_string(area, layout->info_size, gpa, &strings, cmdline);
        info.flags |= MULTIBOOT_INFO_CMDLINE;
    }
    if (layout->nmodules > 0) {
        info.flags |= MULTIBOOT_INFO_MODS;
        info.mods_count = layout->nmodules;
        info.mods_addr = (uint32_t)(gpa + BOOT_MODS_OFFSET);
    }
    for (unsigned i = 0; i < layout->nmodules; i++) {
        struct multiboot_module mod = {
            .mod_start = (uint32_t)layout->module_gpa[i],
            .mod_end = (uint32_t)(layout->module_gpa[i] + modules[i].size),
            .string = put_string(area, layout->info_size, gpa, &strings, modules[i].string),
        };
        memcpy(area + BOOT_MODS_OFFSET + i * sizeof mod, &mod, sizeof mod);
        if (modules[i].size > 0)
            memcpy(ram + layout->module_gpa[i], modules[i].data, modules[i].size);
    }
    memcpy(area, &info, sizeof info);
    return (uint32_t)gpa;
}

const char *loader_status_name(enum loader_status status)
{
    switch (status) {
    case LOADER_OK:         return "OK";
    case LOADER_EINVAL:     return "EINVAL";
    case LOADER_EEMPTY:     return "EEMPTY";
    case LOADER_ENO_HEADER: return "ENO_HEADER";
    case LOADER_EHEADER:    return "EHEADER";
    case LOADER_EELF:       return "EELF";
    case LOADER_ERANGE:     return "ERANGE";
    case LOADER_ENOSPACE:   return "ENOSPACE";
    case LOADER_ETOO_MANY:  return "ETOO_MANY";
    }
    return "unknown";
}
