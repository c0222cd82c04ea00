/* SPDX-License-Identifier: MIT */
/* Host unit tests (Check) for servers/vmm/loader.c: flat and multiboot v1
 * images (ELF32, a.out kludge) and the multiboot information. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define RAM_SIZE (4u << 20)
#define IMAGE_MAX 0x4000u

static uint8_t image[IMAGE_MAX];
static struct loader_plan plan;
static struct loader_error error;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A multiboot header with a correct checksum at `offset`. */
static void header_put(uint32_t offset, uint32_t flags)
{
    put32(image + offset, MULTIBOOT_HEADER_MAGIC);
    put32(image + offset + 4, flags);
    put32(image + offset + 8, (uint32_t)-(MULTIBOOT_HEADER_MAGIC + flags));
}

/* ELF32 i386 executable: header, `phnum` program headers at 52, the
 * multiboot header at 0x400, segment data from 0x1000.  Program header i is
 * PT_LOAD offset 0x1000, vaddr 0xC0100000 + i * 0x1000 (paddr 0x100000 + ...),
 * filesz 0x800, memsz 0x1000; entry 0xC0100010. */
static size_t elf_make(unsigned phnum)
{
    memset(image, 0, sizeof image);
    memcpy(image, "\177ELF", 4);
    image[4] = 1;              /* ELFCLASS32 */
    image[5] = 1;              /* little endian */
    image[6] = 1;
    put16(image + 16, 2);      /* ET_EXEC */
    put16(image + 18, 3);      /* EM_386 */
    put32(image + 20, 1);
    put32(image + 24, 0xC0100010u);
    put32(image + 28, 52);     /* e_phoff */
    put16(image + 40, 52);
    put16(image + 42, 32);     /* e_phentsize */
    put16(image + 44, (uint16_t)phnum);
    for (unsigned i = 0; i < phnum; i++) {
        uint8_t *ph = image + 52 + 32 * i;
        put32(ph, 1);                                /* PT_LOAD */
        put32(ph + 4, 0x1000);
        put32(ph + 8, 0xC0100000u + i * 0x1000);
        put32(ph + 12, 0x100000u + i * 0x1000);
        put32(ph + 16, 0x800);
        put32(ph + 20, 0x1000);
        put32(ph + 24, 5);
    }
    header_put(0x400, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO);
    for (unsigned i = 0; i < 0x800; i++)
        image[0x1000 + i] = (uint8_t)(i * 3 + 1);
    return 0x1800;
}

/* a.out kludge: header at 0x40 says header_addr 0x100040, load_addr
 * 0x100000 (file offset 0), load_end 0x101000, bss_end 0x102000, entry
 * 0x100080. */
static size_t aout_make(void)
{
    memset(image, 0, sizeof image);
    header_put(0x40, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_MEMORY_INFO);
    put32(image + 0x40 + 12, 0x100040);
    put32(image + 0x40 + 16, 0x100000);
    put32(image + 0x40 + 20, 0x101000);
    put32(image + 0x40 + 24, 0x102000);
    put32(image + 0x40 + 28, 0x100080);
    for (unsigned i = 0x60; i < 0x1000; i++)
        image[i] = (uint8_t)i;
    return 0x1000;
}

static enum loader_status parse(size_t size, enum vmm_guest_format format)
{
    return loader_parse(image, size, format, RAM_SIZE, &plan, &error);
}

#define ck_parse_fails(size, format, want, needle)                                         \
    do {                                                                                     \
        ck_assert_int_eq(parse((size), (format)), (want));                                   \
        ck_assert_int_eq(error.status, (want));                                              \
        ck_assert_msg(strstr(error.message, (needle)) != NULL, "message '%s' lacks '%s'",    \
                      error.message, (needle));                                              \
    } while (0)

/* ---- flat ---------------------------------------------------------------- */

START_TEST(test_flat)
{
    memset(image, 0x90, 100);
    ck_assert_int_eq(parse(100, VMM_GUEST_FLAT), LOADER_OK);
    ck_assert_str_eq(error.message, "");
    ck_assert(!plan.multiboot);
    ck_assert_uint_eq(plan.entry, LOADER_FLAT_GPA);
    ck_assert_uint_eq(plan.nsegments, 1);
    ck_assert_uint_eq(plan.segments[0].gpa, LOADER_FLAT_GPA);
    ck_assert_uint_eq(plan.segments[0].file_size, 100);
    ck_assert_uint_eq(plan.segments[0].mem_size, 100);
    ck_parse_fails(0, VMM_GUEST_FLAT, LOADER_EEMPTY, "empty");
    /* Exactly filling RAM above 1 MiB is fine, one byte more is not. */
    static uint8_t big[RAM_SIZE - LOADER_FLAT_GPA + 1];
    ck_assert_int_eq(loader_parse(big, sizeof big - 1, VMM_GUEST_FLAT, RAM_SIZE, &plan, &error),
                     LOADER_OK);
    ck_assert_int_eq(loader_parse(big, sizeof big, VMM_GUEST_FLAT, RAM_SIZE, &plan, &error),
                     LOADER_ERANGE);
    ck_assert_ptr_nonnull(strstr(error.message, "does not fit"));
}
END_TEST

START_TEST(test_invalid_arguments)
{
    ck_assert_int_eq(loader_parse(image, 10, VMM_GUEST_FLAT, RAM_SIZE, &plan, NULL), LOADER_EINVAL);
    ck_assert_int_eq(loader_parse(NULL, 10, VMM_GUEST_FLAT, RAM_SIZE, &plan, &error), LOADER_EINVAL);
    ck_assert_int_eq(loader_parse(image, 10, VMM_GUEST_FLAT, RAM_SIZE, NULL, &error), LOADER_EINVAL);
    ck_assert_int_eq(loader_parse(image, 10, VMM_GUEST_FLAT, 0, &plan, &error), LOADER_EINVAL);
    ck_assert_int_eq(loader_parse(image, 10, VMM_GUEST_FLAT, 4097, &plan, &error), LOADER_EINVAL);
    ck_assert_int_eq(loader_parse(image, 10, VMM_GUEST_FLAT, 0x8000, &plan, &error), LOADER_ERANGE);
    ck_assert_int_eq(loader_parse(image, 10, VMM_GUEST_NONE, RAM_SIZE, &plan, &error), LOADER_EINVAL);
}
END_TEST

/* ---- multiboot header ------------------------------------------------------ */

START_TEST(test_header_search)
{
    size_t size = elf_make(1);

    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert(plan.multiboot);
    ck_assert(!plan.aout_kludge);
    ck_assert_uint_eq(plan.header_offset, 0x400);

    /* No magic at all. */
    memset(image + 0x400, 0, 12);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ENO_HEADER, "no multiboot header");
    /* Misaligned: not found. */
    elf_make(1);
    memset(image + 0x400, 0, 12);
    header_put(0x402, MULTIBOOT_MEMORY_INFO);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ENO_HEADER, "no multiboot header");
    /* Bad checksum. */
    elf_make(1);
    put32(image + 0x408, 0);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "bad checksum");
    /* A bad one first, a good one later: the good one counts. */
    header_put(0x600, MULTIBOOT_MEMORY_INFO);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert_uint_eq(plan.header_offset, 0x600);
    /* Past the first 8 KiB: not found (the header must lie wholly inside). */
    memset(image, 0, sizeof image);
    header_put(8192 - 8, 0);
    ck_parse_fails(IMAGE_MAX, VMM_GUEST_MULTIBOOT, LOADER_ENO_HEADER, "first 8192 bytes");
    memset(image, 0, sizeof image);
    header_put(8192 - 12, 0);
    ck_assert_int_ne(parse(IMAGE_MAX, VMM_GUEST_MULTIBOOT), LOADER_ENO_HEADER);
    /* An image shorter than a header. */
    ck_parse_fails(8, VMM_GUEST_MULTIBOOT, LOADER_ENO_HEADER, "no multiboot header");
}
END_TEST

START_TEST(test_header_flags)
{
    size_t size = elf_make(1);

    header_put(0x400, MULTIBOOT_VIDEO_MODE);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "video mode");
    header_put(0x400, 1u << 5);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "unsupported features (header flags 0x20)");
    /* Unknown optional bits (16-31 other than 16) are ignored. */
    header_put(0x400, 1u << 20);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
}
END_TEST

/* ---- ELF32 ------------------------------------------------------------------ */

START_TEST(test_elf_good)
{
    size_t size = elf_make(2);

    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert_uint_eq(plan.nsegments, 2);
    ck_assert_uint_eq(plan.segments[0].gpa, 0x100000);
    ck_assert_uint_eq(plan.segments[1].gpa, 0x101000);
    ck_assert_uint_eq(plan.segments[0].file_offset, 0x1000);
    ck_assert_uint_eq(plan.segments[0].file_size, 0x800);
    ck_assert_uint_eq(plan.segments[0].mem_size, 0x1000);
    /* The virtual entry runs at the physical address of its segment. */
    ck_assert_uint_eq(plan.entry, 0x100010);

    /* A segment with memsz 0 and other program header types are skipped. */
    put32(image + 52 + 32 + 20, 0);
    put32(image + 52 + 32 + 16, 0);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert_uint_eq(plan.nsegments, 1);
    put32(image + 52 + 32, 4);   /* PT_NOTE */
    put32(image + 52 + 32 + 16, 0x7fffffff);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert_uint_eq(plan.nsegments, 1);
}
END_TEST

START_TEST(test_elf_identity)
{
    size_t size = elf_make(1);

    image[4] = 2;
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "ELF64 image: multiboot v1 loads ELF32");
    image[4] = 7;
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "bad ELF class 7");
    elf_make(1);
    image[5] = 2;
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "little-endian");
    elf_make(1);
    put16(image + 16, 3);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "not an executable (e_type 3)");
    elf_make(1);
    put16(image + 18, 62);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "e_machine 62");
    elf_make(1);
    image[0] = 'X';
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "not an ELF file");
    /* A header, then the file ends inside the ELF header. */
    memset(image, 0, sizeof image);
    memcpy(image, "\177ELF", 4);
    header_put(4, 0);
    ck_parse_fails(40, VMM_GUEST_MULTIBOOT, LOADER_EELF, "ELF header cut off");
}
END_TEST

START_TEST(test_elf_program_headers)
{
    size_t size = elf_make(1);

    put16(image + 42, 56);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "program header size 56");
    elf_make(1);
    put16(image + 44, 0);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "0 program headers");
    elf_make(1);
    put16(image + 44, LOADER_PHDRS_MAX + 1);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "program headers (want");
    elf_make(1);
    put32(image + 28, (uint32_t)size - 16);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "program headers lie outside");
    elf_make(1);
    put32(image + 28, 0xfffffff0u);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "program headers lie outside");
    /* No PT_LOAD at all. */
    elf_make(1);
    put32(image + 52, 6);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "no loadable segments");
    /* 17 loadable segments. */
    size = elf_make(LOADER_SEGMENTS_MAX + 1);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ETOO_MANY, "more than 16");
    size = elf_make(LOADER_SEGMENTS_MAX);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
}
END_TEST

START_TEST(test_elf_segments)
{
    size_t size = elf_make(1);
    uint8_t *ph = image + 52;

    put32(ph + 16, 0x2000);   /* filesz > memsz */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "larger than memory size");
    elf_make(1);
    put32(ph + 4, (uint32_t)size - 0x10);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "lie outside the file");
    elf_make(1);
    put32(ph + 4, 0xffffff00u);   /* offset + filesz would wrap in 32 bits */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "lie outside the file");
    elf_make(1);
    put32(ph + 12, RAM_SIZE - 0x800);   /* memsz 0x1000 runs past RAM */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "outside guest RAM");
    elf_make(1);
    put32(ph + 12, 0xfffff800u);   /* paddr + memsz would wrap in 32 bits */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "outside guest RAM");
    elf_make(1);
    put32(ph + 12, 0x7800);   /* low memory: fine (the boot information goes after it) */
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    elf_make(1);
    put32(image + 24, 0xC0101000u);   /* one past the segment */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EELF, "entry point 0xc0101000");
}
END_TEST

/* ---- a.out kludge ------------------------------------------------------------ */

START_TEST(test_aout_good)
{
    size_t size = aout_make();

    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert(plan.aout_kludge);
    ck_assert_uint_eq(plan.nsegments, 1);
    ck_assert_uint_eq(plan.segments[0].file_offset, 0);
    ck_assert_uint_eq(plan.segments[0].gpa, 0x100000);
    ck_assert_uint_eq(plan.segments[0].file_size, 0x1000);
    ck_assert_uint_eq(plan.segments[0].mem_size, 0x2000);
    ck_assert_uint_eq(plan.entry, 0x100080);

    /* load_end_addr 0: to the end of the file; bss_end_addr 0: no BSS. */
    put32(image + 0x40 + 20, 0);
    put32(image + 0x40 + 24, 0);
    ck_assert_int_eq(parse(size - 0x10, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert_uint_eq(plan.segments[0].file_size, size - 0x10);
    ck_assert_uint_eq(plan.segments[0].mem_size, size - 0x10);

    /* The file starts before load_addr's byte: a header at 0x40 whose
     * header_addr is 0x20 past load_addr means file offset 0x20. */
    aout_make();
    put32(image + 0x40 + 12, 0x100020);
    put32(image + 0x40 + 20, 0x100800);
    put32(image + 0x40 + 24, 0);
    put32(image + 0x40 + 28, 0x100000);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    ck_assert_uint_eq(plan.segments[0].file_offset, 0x20);
    ck_assert_uint_eq(plan.segments[0].file_size, 0x800);
}
END_TEST

START_TEST(test_aout_bad)
{
    size_t size = aout_make();
    uint8_t *h = image + 0x40;

    put32(h + 16, 0x100080);   /* load_addr above header_addr */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "lies above header_addr");
    aout_make();
    put32(h + 16, 0xf0000);    /* would start 0x10040 - 0x40 bytes before the file */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "before the file");
    aout_make();
    put32(h + 20, 0xfff00);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "load_end_addr 0xfff00 < load_addr");
    aout_make();
    put32(h + 20, 0x101001);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "past the end of the file");
    aout_make();
    put32(h + 24, 0x100fff);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "bss_end_addr 0x100fff");
    aout_make();
    put32(h + 28, 0x102000);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "entry_addr 0x102000");
    aout_make();
    put32(h + 16, 0x100040);
    put32(h + 20, 0x100040);
    put32(h + 24, 0);
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "load nothing");
    aout_make();
    put32(h + 24, 0xfffff000u);   /* BSS to the top of 4 GiB: not in RAM */
    ck_parse_fails(size, VMM_GUEST_MULTIBOOT, LOADER_ERANGE, "outside guest RAM");
    /* The address fields cut off by the end of the file. */
    aout_make();
    ck_parse_fails(0x40 + 20, VMM_GUEST_MULTIBOOT, LOADER_EHEADER, "cut off");
    /* Loaded at 0x8000, where a fixed boot information page used to lie: fine. */
    aout_make();
    put32(h + 12, 0x8040);
    put32(h + 16, 0x8000);
    put32(h + 20, 0x8800);
    put32(h + 24, 0);
    put32(h + 28, 0x8000);
    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
}
END_TEST

/* ---- loading and boot information -------------------------------------------- */

START_TEST(test_load)
{
    static uint8_t ram[RAM_SIZE];
    size_t size = elf_make(2);

    ck_assert_int_eq(parse(size, VMM_GUEST_MULTIBOOT), LOADER_OK);
    memset(ram, 0xaa, sizeof ram);
    loader_load(&plan, image, size, ram, sizeof ram);
    ck_assert_int_eq(memcmp(ram + 0x100000, image + 0x1000, 0x800), 0);
    ck_assert_int_eq(memcmp(ram + 0x101000, image + 0x1000, 0x800), 0);
    for (unsigned i = 0x800; i < 0x1000; i++)
        ck_assert_uint_eq(ram[0x100000 + i], 0);   /* BSS zeroed */
    ck_assert_uint_eq(ram[0xfffff], 0xaa);          /* nothing outside */
    ck_assert_uint_eq(ram[0x102000], 0xaa);

    /* A forged plan that breaks the contract loads nothing. */
    plan.segments[0].gpa = RAM_SIZE - 0x10;
    plan.segments[1].file_offset = size;
    memset(ram, 0xaa, sizeof ram);
    loader_load(&plan, image, size, ram, sizeof ram);
    ck_assert_uint_eq(ram[RAM_SIZE - 1], 0xaa);
    ck_assert_uint_eq(ram[0x101000], 0xaa);
}
END_TEST

static uint32_t place_and_write(uint8_t *ram, uint64_t ram_size, const struct loader_module *mods,
                                unsigned n, const char *cmdline, struct loader_layout *layout)
{
    struct loader_error error;
    ck_assert_int_eq(loader_place(&plan, ram_size, mods, n, cmdline, layout, &error), LOADER_OK);
    ck_assert_str_eq(error.message, "");
    return loader_boot_info(ram, ram_size, layout, mods, cmdline);
}

START_TEST(test_boot_info)
{
    static uint8_t ram[RAM_SIZE];
    struct multiboot_info info;
    struct multiboot_mmap_entry map[3];
    struct loader_layout layout;

    ck_assert_int_eq(parse(elf_make(2), VMM_GUEST_MULTIBOOT), LOADER_OK);   /* 0x100000..0x102000 */
    memset(ram, 0xaa, sizeof ram);
    uint32_t gpa = place_and_write(ram, sizeof ram, NULL, 0, "console=ttyS0 quiet", &layout);
    ck_assert_uint_eq(gpa, 0x102000);   /* right after the image, as QEMU puts it */
    ck_assert_uint_eq(layout.info_size, 0x1000);
    memcpy(&info, ram + gpa, sizeof info);
    ck_assert_uint_eq(info.flags, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
                                  MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_LOADER_NAME);
    ck_assert_uint_eq(info.mem_lower, 639);
    ck_assert_uint_eq(info.mem_upper, (RAM_SIZE - 0x100000) / 1024);
    ck_assert_str_eq((const char *)ram + info.cmdline, "console=ttyS0 quiet");
    ck_assert_str_eq((const char *)ram + info.boot_loader_name, "Copra VMM");
    ck_assert_uint_eq(info.mmap_length, 3 * sizeof map[0]);
    memcpy(map, ram + info.mmap_addr, sizeof map);
    ck_assert_uint_eq(map[0].size, 20);
    ck_assert_uint_eq(map[0].addr, 0);
    ck_assert_uint_eq(map[0].len, 0x9fc00);
    ck_assert_uint_eq(map[0].type, 1);
    ck_assert_uint_eq(map[1].addr, 0x9fc00);
    ck_assert_uint_eq(map[1].type, 2);
    ck_assert_uint_eq(map[2].addr, 0x100000);
    ck_assert_uint_eq(map[2].len, RAM_SIZE - 0x100000);
    ck_assert_uint_eq(map[2].type, 1);
    /* Everything lies in the area; RAM around it untouched. */
    ck_assert(info.cmdline >= gpa && info.cmdline < gpa + layout.info_size);
    ck_assert(info.mmap_addr >= gpa && info.mmap_addr < gpa + layout.info_size);
    ck_assert_uint_eq(ram[gpa - 1], 0xaa);
    ck_assert_uint_eq(ram[gpa + layout.info_size], 0xaa);

    /* No cmdline: no flag.  A long one (Linux's 2 KiB) fits whole; one of
     * LOADER_STRING_MAX bytes or more is refused. */
    place_and_write(ram, sizeof ram, NULL, 0, NULL, &layout);
    ck_assert_uint_eq(get32(ram + gpa) & MULTIBOOT_INFO_CMDLINE, 0);
    static char huge[LOADER_STRING_MAX + 1];
    memset(huge, 'x', 2047);
    place_and_write(ram, sizeof ram, NULL, 0, huge, &layout);
    memcpy(&info, ram + gpa, sizeof info);
    ck_assert_uint_eq(strlen((const char *)ram + info.cmdline), 2047);
    memset(huge, 'x', LOADER_STRING_MAX);
    struct loader_error error;
    ck_assert_int_eq(loader_place(&plan, sizeof ram, NULL, 0, huge, &layout, &error), LOADER_EINVAL);

    /* Two modules: page-aligned after the image in order, then the area;
     * their strings and bytes where the list says. */
    static const uint8_t one[5000] = { 1, 2, 3 }, two[10] = { 9 };
    const struct loader_module mods[2] = {
        { .data = one, .size = sizeof one, .string = "one.bin arg=1" },
        { .data = two, .size = sizeof two, .string = "two" },
    };
    memset(ram, 0xaa, sizeof ram);
    gpa = place_and_write(ram, sizeof ram, mods, 2, "cmd", &layout);
    ck_assert_uint_eq(layout.module_gpa[0], 0x102000);
    ck_assert_uint_eq(layout.module_gpa[1], 0x104000);
    ck_assert_uint_eq(gpa, 0x105000);
    memcpy(&info, ram + gpa, sizeof info);
    ck_assert_uint_eq(info.flags & MULTIBOOT_INFO_MODS, MULTIBOOT_INFO_MODS);
    ck_assert_uint_eq(info.mods_count, 2);
    struct multiboot_module list[2];
    memcpy(list, ram + info.mods_addr, sizeof list);
    ck_assert_uint_eq(list[0].mod_start, 0x102000);
    ck_assert_uint_eq(list[0].mod_end, 0x102000 + sizeof one);
    ck_assert_uint_eq(list[1].mod_start, 0x104000);
    ck_assert_uint_eq(list[1].mod_end, 0x104000 + sizeof two);
    ck_assert_str_eq((const char *)ram + list[0].string, "one.bin arg=1");
    ck_assert_str_eq((const char *)ram + list[1].string, "two");
    ck_assert_int_eq(memcmp(ram + 0x102000, one, sizeof one), 0);
    ck_assert_uint_eq(ram[0x104000], 9);
    ck_assert_str_eq((const char *)ram + info.cmdline, "cmd");

    /* An image in low memory: the area follows it, and skips the legacy
     * hole when it would cross into it. */
    plan.nsegments = 1;
    plan.segments[0] = (struct loader_segment){ .gpa = 0x8000, .mem_size = 0x800 };
    ck_assert_uint_eq(place_and_write(ram, sizeof ram, NULL, 0, "", &layout), 0x9000);
    plan.segments[0] = (struct loader_segment){ .gpa = 0x8000, .mem_size = 0x9f000 - 0x8000 };
    ck_assert_uint_eq(place_and_write(ram, sizeof ram, mods, 1, "", &layout), 0x102000);
    ck_assert_uint_eq(layout.module_gpa[0], 0x100000);

    /* No room: the module does not fit, or the area does not. */
    ck_assert_int_eq(loader_place(&plan, 0x100000, mods, 1, "", &layout, &error), LOADER_ENOSPACE);
    ck_assert_ptr_nonnull(strstr(error.message, "module 0"));
    plan.segments[0] = (struct loader_segment){ .gpa = 0x100000, .mem_size = RAM_SIZE - 0x100000 };
    ck_assert_int_eq(loader_place(&plan, RAM_SIZE, NULL, 0, "", &layout, &error), LOADER_ENOSPACE);
    ck_assert_ptr_nonnull(strstr(error.message, "boot information"));

    /* 640 KiB of RAM: no high memory, no reserved hole. */
    plan.segments[0] = (struct loader_segment){ .gpa = 0x8000, .mem_size = 0x800 };
    gpa = place_and_write(ram, 0xa0000, NULL, 0, "", &layout);
    memcpy(&info, ram + gpa, sizeof info);
    ck_assert_uint_eq(info.mem_upper, 0);
    ck_assert_uint_eq(info.mmap_length, 2 * sizeof map[0]);
    /* A layout for more RAM than there is writes nothing. */
    ck_assert_uint_eq(loader_boot_info(ram, 0x9000, &layout, NULL, ""), 0);
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *suite = suite_create("vmm_loader");
    TCase *flat = tcase_create("flat");
    TCase *header = tcase_create("header");
    TCase *elf = tcase_create("elf");
    TCase *aout = tcase_create("aout");
    TCase *load = tcase_create("load");

    tcase_add_test(flat, test_flat);
    tcase_add_test(flat, test_invalid_arguments);
    tcase_add_test(header, test_header_search);
    tcase_add_test(header, test_header_flags);
    tcase_add_test(elf, test_elf_good);
    tcase_add_test(elf, test_elf_identity);
    tcase_add_test(elf, test_elf_program_headers);
    tcase_add_test(elf, test_elf_segments);
    tcase_add_test(aout, test_aout_good);
    tcase_add_test(aout, test_aout_bad);
    tcase_add_test(load, test_load);
    tcase_add_test(load, test_boot_info);
    suite_add_tcase(suite, flat);
    suite_add_tcase(suite, header);
    suite_add_tcase(suite, elf);
    suite_add_tcase(suite, aout);
    suite_add_tcase(suite, load);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(loader_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
