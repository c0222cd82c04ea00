/* SPDX-License-Identifier: MIT */
/*
 * bzImage parsing and loading (see bzimage.h).  Pure, like loader.c: every
 * value read from the image is checked before it becomes an offset, a size
 * or an address, and all arithmetic on them is done in 64 bits on 32-bit
 * quantities, so it cannot wrap.
 */
#include "bzimage.h"

#if __STDC_HOSTED__
#include <stdio.h>
#include <string.h>
#else
#include <coco/libc.h>
#endif

#define HDRS_MAGIC        0x53726448u   /* "HdrS" */
#define BOOT_FLAG_MAGIC   0xAA55u
#define HEADER_MAX_END    0x290u        /* boot_params: the setup header ends before 0x290 */
/* Usable RAM below 640 KiB ends at the page below the EBDA (0x9FC00): the
 * guest pool's low range, page-granular, is all an identity platform (tdx,
 * snp) maps there (vm.h VMM_RAM_LOW_END). */
#define LEGACY_START      0x9F000ull
#define HIGH_START        0x100000ull
#define PAGE              4096ull
#define E820_RAM          1u
#define E820_RESERVED     2u

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* strlen, but at most `max` (then the string is too long). */
static uint64_t bounded_len(const char *s, uint64_t max)
{
    uint64_t n = 0;
    while (s != NULL && n < max && s[n] != '\0')
        n++;
    return n;
}

/* Where a kernel that needs `need` bytes goes: pref_address if relocatable
 * and it fits, else the lowest kernel_alignment boundary from 1 MiB on (a
 * relocatable kernel runs anywhere aligned), else 1 MiB. */
static uint64_t load_address(const uint8_t *image, uint64_t need, uint64_t ram_size)
{
    uint64_t pref = get64(image + BZ_PREF_ADDRESS), align = get32(image + BZ_KERNEL_ALIGNMENT);

    if (image[BZ_RELOCATABLE] == 0)
        return HIGH_START;
    if (pref >= HIGH_START && pref <= ram_size && need <= ram_size - pref)
        return pref;
    if (align < PAGE || (align & (align - 1)) != 0 || align > (1u << 30))
        return HIGH_START;
    return align_up(HIGH_START, align);
}

enum loader_status bzimage_parse(const uint8_t *image, size_t size, uint64_t ram_size,
                                 const char *cmdline, struct bzimage_plan *plan,
                                 struct loader_error *error)
{
    if (error == NULL)
        return LOADER_EINVAL;
    error->status = LOADER_OK;
    error->message[0] = '\0';
    if (plan == NULL || (image == NULL && size > 0))
        return loader_fail(error, LOADER_EINVAL, "invalid arguments");
    memset(plan, 0, sizeof *plan);
    if (ram_size % PAGE != 0 || ram_size > BZIMAGE_RAM_MAX)
        return loader_fail(error, LOADER_EINVAL,
                       "a Linux guest needs whole pages of RAM, at most %llu MiB (below the PCI hole)",
                       BZIMAGE_RAM_MAX >> 20);
    if (size == 0)
        return loader_fail(error, LOADER_EEMPTY, "the image is empty");
    if (size < BZ_HEADER_MIN_END)
        return loader_fail(error, LOADER_EHEADER, "%zu bytes: too short for a bzImage setup header", size);
    if (get16(image + BZ_BOOT_FLAG) != BOOT_FLAG_MAGIC || get32(image + BZ_HEADER) != HDRS_MAGIC)
        return loader_fail(error, LOADER_ENO_HEADER,
                       "no Linux setup header (boot flag 0xAA55 at 0x1FE, \"HdrS\" at 0x202)");
    plan->version = get16(image + BZ_VERSION);
    if (plan->version < BZ_VERSION_MIN)
        return loader_fail(error, LOADER_EHEADER, "boot protocol %u.%02u: need 2.10 or later",
                       plan->version >> 8, plan->version & 0xff);
    if (!(image[BZ_LOADFLAGS] & BZ_LOADED_HIGH))
        return loader_fail(error, LOADER_EHEADER, "not a bzImage (loadflags bit 0 clear: a zImage)");

    unsigned sects = image[BZ_SETUP_SECTS] ? image[BZ_SETUP_SECTS] : 4;
    plan->setup_size = (uint64_t)(sects + 1) * 512;
    plan->header_end = BZ_JUMP + 2 + (uint64_t)image[BZ_JUMP + 1];
    if (plan->header_end < BZ_HEADER_MIN_END || plan->header_end > HEADER_MAX_END ||
        plan->header_end > plan->setup_size)
        return loader_fail(error, LOADER_EHEADER, "setup header ends at 0x%llx (want 0x%x..0x%x)",
                       (unsigned long long)plan->header_end, BZ_HEADER_MIN_END, HEADER_MAX_END);
    if (plan->setup_size >= size)
        return loader_fail(error, LOADER_ERANGE, "%u setup sectors but the file has only %zu bytes",
                       sects, size);
    plan->kernel_offset = plan->setup_size;
    plan->kernel_size = size - plan->setup_size;

    plan->init_size = get32(image + BZ_INIT_SIZE);
    uint64_t need = plan->init_size > plan->kernel_size ? plan->init_size : plan->kernel_size;
    plan->load_gpa = load_address(image, need, ram_size);
    if (plan->load_gpa > ram_size || need > ram_size - plan->load_gpa)
        return loader_fail(error, LOADER_ERANGE,
                       "the kernel needs %llu KiB of RAM from 0x%llx; the guest has %llu KiB",
                       (unsigned long long)(need >> 10), (unsigned long long)plan->load_gpa,
                       (unsigned long long)(ram_size >> 10));
    plan->initrd_max = get32(image + BZ_INITRD_ADDR_MAX);
    plan->cmdline_max = (uint64_t)get32(image + BZ_CMDLINE_SIZE) + 1;
    if (plan->cmdline_max > LEGACY_START - BZIMAGE_CMDLINE_GPA)
        plan->cmdline_max = LEGACY_START - BZIMAGE_CMDLINE_GPA;
    uint64_t len = bounded_len(cmdline, plan->cmdline_max);
    if (len >= plan->cmdline_max)
        return loader_fail(error, LOADER_ERANGE, "the command line is longer than the kernel's %llu bytes",
                       (unsigned long long)plan->cmdline_max - 1);
    return LOADER_OK;
}

enum loader_status bzimage_place_initrd(struct bzimage_plan *plan, uint64_t ram_size,
                                        uint64_t initrd_size, struct loader_error *error)
{
    if (error == NULL || plan == NULL)
        return LOADER_EINVAL;
    plan->initrd_gpa = plan->initrd_size = 0;
    if (initrd_size == 0)
        return LOADER_OK;
    uint64_t top = ram_size < plan->initrd_max + 1 ? ram_size : plan->initrd_max + 1;
    uint64_t floor = align_up(plan->load_gpa + (plan->init_size > plan->kernel_size ? plan->init_size
                                                                                    : plan->kernel_size),
                              PAGE);
    if (initrd_size > top || (top - initrd_size) / PAGE * PAGE < floor)
        return loader_fail(error, LOADER_ENOSPACE,
                       "the initramfs (%llu KiB) does not fit between the kernel's end at 0x%llx and "
                       "0x%llx: give the guest more memory",
                       (unsigned long long)(initrd_size >> 10), (unsigned long long)floor,
                       (unsigned long long)top);
    plan->initrd_gpa = (top - initrd_size) / PAGE * PAGE;
    plan->initrd_size = initrd_size;
    return LOADER_OK;
}

unsigned bzimage_e820(uint64_t ram_size, uint64_t acpi_gpa, struct bzimage_e820 *map)
{
    unsigned n = 0;
    bool top = acpi_gpa >= HIGH_START && acpi_gpa < ram_size;   /* else at BZIMAGE_ACPI_GPA */

    map[n++] = (struct bzimage_e820){ 0, LEGACY_START, E820_RAM };
    map[n++] = (struct bzimage_e820){ LEGACY_START, 0xA0000 - LEGACY_START, E820_RESERVED };
    if (!top)
        map[n++] = (struct bzimage_e820){ BZIMAGE_ACPI_GPA, BZIMAGE_ACPI_SIZE, E820_RESERVED };
    if (ram_size > HIGH_START)
        map[n++] = (struct bzimage_e820){ HIGH_START, (top ? acpi_gpa : ram_size) - HIGH_START, E820_RAM };
    if (top)
        map[n++] = (struct bzimage_e820){ acpi_gpa, ram_size - acpi_gpa, E820_RESERVED };
    return n;
}

/* A flat 4 GiB segment descriptor: 0x9A code (execute/read), 0x92 data
 * (read/write); G = 1, D/B = 1. */
static uint64_t flat_descriptor(uint8_t access)
{
    return 0x00CF00000000FFFFull | (uint64_t)access << 40;
}

uint64_t bzimage_load(const struct bzimage_plan *plan, const uint8_t *image, size_t size,
                      const uint8_t *initrd, uint8_t *ram, uint64_t ram_size,
                      const char *cmdline, uint64_t rsdp_gpa)
{
    struct bzimage_e820 map[4];

    /* bzimage_parse() and bzimage_place_initrd() checked all of this; a
     * plan from elsewhere that breaks it loads nothing. */
    if (plan == NULL || image == NULL || ram == NULL || ram_size < HIGH_START ||
        plan->kernel_offset > size || plan->kernel_size != size - plan->kernel_offset ||
        plan->header_end > HEADER_MAX_END || plan->header_end > size ||
        plan->load_gpa > ram_size || plan->kernel_size > ram_size - plan->load_gpa ||
        plan->initrd_gpa > ram_size || plan->initrd_size > ram_size - plan->initrd_gpa ||
        (plan->initrd_size > 0 && initrd == NULL) || plan->cmdline_max > LEGACY_START - BZIMAGE_CMDLINE_GPA)
        return 0;
    uint64_t len = bounded_len(cmdline, plan->cmdline_max);
    if (len >= plan->cmdline_max)
        return 0;

    memcpy(ram + plan->load_gpa, image + plan->kernel_offset, plan->kernel_size);
    if (plan->initrd_size > 0)
        memcpy(ram + plan->initrd_gpa, initrd, plan->initrd_size);
    memset(ram + BZIMAGE_CMDLINE_GPA, 0, plan->cmdline_max);
    memcpy(ram + BZIMAGE_CMDLINE_GPA, cmdline, len);

    uint8_t *gdt = ram + BZIMAGE_GDT_GPA;
    memset(gdt, 0, 32);
    put64(gdt + BZIMAGE_BOOT_CS, flat_descriptor(0x9A));
    put64(gdt + BZIMAGE_BOOT_DS, flat_descriptor(0x92));

    uint8_t *bp = ram + BZIMAGE_PARAMS_GPA;
    memset(bp, 0, PAGE);
    memcpy(bp + BZ_SETUP_SECTS, image + BZ_SETUP_SECTS, plan->header_end - BZ_SETUP_SECTS);
    bp[BZ_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
    put32(bp + BZ_CODE32_START, (uint32_t)plan->load_gpa);
    put32(bp + BZ_RAMDISK_IMAGE, (uint32_t)plan->initrd_gpa);
    put32(bp + BZ_RAMDISK_SIZE, (uint32_t)plan->initrd_size);
    put32(bp + BZ_CMD_LINE_PTR, BZIMAGE_CMDLINE_GPA);
    put64(bp + BP_ACPI_RSDP_ADDR, rsdp_gpa);
    unsigned n = bzimage_e820(ram_size, rsdp_gpa, map);   /* the RSDP starts the tables' region */
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    memcpy(bp + BP_E820_TABLE, map, n * sizeof map[0]);
    return BZIMAGE_PARAMS_GPA;
}
