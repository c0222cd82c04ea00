/* SPDX-License-Identifier: MIT */
/* Host unit tests (Check) for servers/vmm/bzimage.c: the Linux boot
 * protocol's setup header checks, kernel and initramfs placement, and the
 * boot_params ("zero page") the VMM writes.  Offsets are from Linux's
 * Documentation/arch/x86/boot.rst ("The Real-Mode Kernel Header") and
 * zero-page.rst; each expected value cites its source beside it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bzimage.h"

#define MIB (1ull << 20)
#define SETUP_SECTS 4u
#define KERNEL_BYTES 0x3000u
#define IMAGE_SIZE ((SETUP_SECTS + 1) * 512u + KERNEL_BYTES)

static uint8_t image[IMAGE_SIZE];
static struct bzimage_plan plan;
static struct loader_error error;
static uint8_t *ram;

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

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A bzImage as Linux 6.1's build writes it: protocol 2.15, relocatable,
 * pref_address 16 MiB, 2 MiB alignment, init_size 1 MiB. */
static void image_make(void)
{
    memset(image, 0, sizeof image);
    image[0x1F1] = SETUP_SECTS;            /* setup_sects (boot.rst: 01F1/1) */
    put16(image + 0x1FE, 0xAA55);          /* boot_flag (01FE/2) */
    image[0x200] = 0xEB;                   /* jump (0200/2): jmp short to 0x26C */
    image[0x201] = 0x6A;                   /* 0x202 + 0x6A = 0x26C: the header's end in 2.15 */
    memcpy(image + 0x202, "HdrS", 4);      /* header (0202/4) */
    put16(image + 0x206, 0x020F);          /* version (0206/2): 2.15 */
    image[0x211] = 0x01;                   /* loadflags (0211/1): LOADED_HIGH */
    put32(image + 0x214, 0x100000);        /* code32_start (0214/4) */
    put32(image + 0x22C, 0x7FFFFFFF);      /* initrd_addr_max (022C/4) */
    put32(image + 0x230, 0x200000);        /* kernel_alignment (0230/4) */
    image[0x234] = 1;                      /* relocatable_kernel (0234/1) */
    put32(image + 0x238, 2047);            /* cmdline_size (0238/4): COMMAND_LINE_SIZE - 1 */
    put32(image + 0x258, 0x1000000);       /* pref_address (0258/8) */
    put32(image + 0x260, 0x100000);        /* init_size (0260/4) */
    for (unsigned i = 0; i < KERNEL_BYTES; i++)
        image[(SETUP_SECTS + 1) * 512 + i] = (uint8_t)(i * 7 + 1);
}

static enum loader_status parse(uint64_t ram_size, const char *cmdline)
{
    return bzimage_parse(image, sizeof image, ram_size, cmdline, &plan, &error);
}

static void setup(void)
{
    image_make();
    ram = calloc(1, 64 * MIB);
    ck_assert_ptr_nonnull(ram);
}

static void teardown(void)
{
    free(ram);
}

START_TEST(parse_valid)
{
    ck_assert_int_eq(parse(64 * MIB, "console=ttyS0"), LOADER_OK);
    ck_assert_str_eq(error.message, "");
    ck_assert_uint_eq(plan.version, 0x020F);
    ck_assert_uint_eq(plan.setup_size, 5 * 512);          /* (setup_sects + 1) * 512 */
    ck_assert_uint_eq(plan.kernel_offset, 5 * 512);
    ck_assert_uint_eq(plan.kernel_size, KERNEL_BYTES);
    ck_assert_uint_eq(plan.header_end, 0x26C);
    ck_assert_uint_eq(plan.load_gpa, 0x1000000);          /* pref_address fits */
    ck_assert_uint_eq(plan.cmdline_max, 2048);
}
END_TEST

START_TEST(parse_placement)
{
    /* 16 MiB of RAM: pref_address (16 MiB) + 1 MiB does not fit, so the
     * relocatable kernel goes to the first 2 MiB boundary above 1 MiB. */
    ck_assert_int_eq(parse(16 * MIB, ""), LOADER_OK);
    ck_assert_uint_eq(plan.load_gpa, 0x200000);
    /* Not relocatable: 1 MiB, as boot.rst says for protocol < 2.05 kernels. */
    image[0x234] = 0;
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_OK);
    ck_assert_uint_eq(plan.load_gpa, 0x100000);
    /* setup_sects 0 means 4 (boot.rst, 01F1). */
    image[0x1F1] = 0;
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_OK);
    ck_assert_uint_eq(plan.setup_size, 5 * 512);
}
END_TEST

START_TEST(parse_errors)
{
    ck_assert_int_eq(bzimage_parse(image, 0, 64 * MIB, "", &plan, &error), LOADER_EEMPTY);
    ck_assert_int_eq(bzimage_parse(image, 0x200, 64 * MIB, "", &plan, &error), LOADER_EHEADER);
    ck_assert_int_eq(parse(64 * MIB + 1, ""), LOADER_EINVAL);
    ck_assert_int_eq(parse(4096ull << 20, ""), LOADER_EINVAL);      /* above the PCI hole */

    image[0x202] = 'X';
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_ENO_HEADER);
    image_make();
    put16(image + 0x1FE, 0);
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_ENO_HEADER);
    image_make();
    put16(image + 0x206, 0x0209);          /* 2.09: no init_size */
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_EHEADER);
    ck_assert_ptr_nonnull(strstr(error.message, "2.10"));
    image_make();
    image[0x211] = 0;                      /* a zImage */
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_EHEADER);
    image_make();
    image[0x201] = 0x10;                   /* header ends at 0x212: before init_size */
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_EHEADER);
    image_make();
    image[0x201] = 0xF0;                   /* past boot_params' header area */
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_EHEADER);
    image_make();
    image[0x1F1] = 200;                    /* setup sectors past the end of the file */
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_ERANGE);
    image_make();
    put32(image + 0x260, 0xF0000000);      /* init_size beyond RAM */
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_ERANGE);
    ck_assert_ptr_nonnull(strstr(error.message, "KiB of RAM"));
}
END_TEST

START_TEST(parse_cmdline)
{
    char line[2100];
    memset(line, 'a', sizeof line);
    line[2047] = '\0';                     /* 2047 bytes: the most cmdline_size allows */
    ck_assert_int_eq(parse(64 * MIB, line), LOADER_OK);
    line[2047] = 'a';
    line[2048] = '\0';
    ck_assert_int_eq(parse(64 * MIB, line), LOADER_ERANGE);
    ck_assert_ptr_nonnull(strstr(error.message, "command line"));
    put32(image + 0x238, 9);
    ck_assert_int_eq(parse(64 * MIB, "123456789"), LOADER_OK);
    ck_assert_int_eq(parse(64 * MIB, "1234567890"), LOADER_ERANGE);
}
END_TEST

START_TEST(initrd_placement)
{
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_OK);
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, 0, &error), LOADER_OK);
    ck_assert_uint_eq(plan.initrd_size, 0);
    /* At the top of RAM, page-aligned. */
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, 1000000, &error), LOADER_OK);
    ck_assert_uint_eq(plan.initrd_gpa, (64 * MIB - 1000000) / 4096 * 4096);
    ck_assert_uint_le(plan.initrd_gpa + plan.initrd_size, 64 * MIB);
    /* Below initrd_addr_max (boot.rst, 022C: highest address usable). */
    put32(image + 0x22C, 0x1FFFFFF);
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_OK);
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, 4096, &error), LOADER_OK);
    ck_assert_uint_eq(plan.initrd_gpa, 0x2000000 - 4096);
    /* Never into the kernel's init_size area. */
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, 0x2000000 - 0x1000000, &error),
                     LOADER_ENOSPACE);
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, 0x2000000 - 0x1100000, &error), LOADER_OK);
    ck_assert_uint_eq(plan.initrd_gpa, 0x1100000);
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, 1ull << 40, &error), LOADER_ENOSPACE);
}
END_TEST

START_TEST(load_boot_params)
{
    static const uint8_t initrd[5000] = { 0x1F, 0x8B };
    ck_assert_int_eq(parse(64 * MIB, "console=ttyS0 quiet"), LOADER_OK);
    ck_assert_int_eq(bzimage_place_initrd(&plan, 64 * MIB, sizeof initrd, &error), LOADER_OK);
    uint64_t bp_gpa = bzimage_load(&plan, image, sizeof image, initrd, ram, 64 * MIB,
                                   "console=ttyS0 quiet", 0xE0000);
    ck_assert_uint_eq(bp_gpa, BZIMAGE_PARAMS_GPA);
    const uint8_t *bp = ram + bp_gpa;

    /* The kernel and the initramfs, byte for byte. */
    ck_assert_mem_eq(ram + 0x1000000, image + 5 * 512, KERNEL_BYTES);
    ck_assert_mem_eq(ram + plan.initrd_gpa, initrd, sizeof initrd);
    /* The setup header copied from the image (boot.rst: "copy ... from 0x01F1"). */
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(bp[0x1F1], SETUP_SECTS);
    ck_assert_uint_eq(get32(bp + 0x230), 0x200000);
    /* Fields the loader writes (boot.rst "Details of header fields"). */
    ck_assert_uint_eq(bp[0x210], 0xFF);                      /* type_of_loader: undefined */
    ck_assert_uint_eq(get32(bp + 0x214), 0x1000000);         /* code32_start */
    ck_assert_uint_eq(get32(bp + 0x218), plan.initrd_gpa);   /* ramdisk_image */
    ck_assert_uint_eq(get32(bp + 0x21C), sizeof initrd);     /* ramdisk_size */
    ck_assert_uint_eq(get32(bp + 0x228), BZIMAGE_CMDLINE_GPA); /* cmd_line_ptr */
    ck_assert_str_eq((const char *)ram + BZIMAGE_CMDLINE_GPA, "console=ttyS0 quiet");
    /* zero-page.rst: acpi_rsdp_addr at 0x070, e820_entries at 0x1E8,
     * e820_table at 0x2D0 (20-byte entries). */
    ck_assert_uint_eq(get64(bp + 0x070), 0xE0000);
    ck_assert_uint_eq(bp[0x1E8], 4);
    ck_assert_uint_eq(get64(bp + 0x2D0), 0);                 /* usable 0..0x9F000 */
    ck_assert_uint_eq(get64(bp + 0x2D8), 0x9F000);
    ck_assert_uint_eq(get32(bp + 0x2E0), 1);
    ck_assert_uint_eq(get64(bp + 0x2E4), 0x9F000);           /* up to and with the EBDA, reserved */
    ck_assert_uint_eq(get32(bp + 0x2F4), 2);
    ck_assert_uint_eq(get64(bp + 0x2F8), BZIMAGE_ACPI_GPA);  /* the ACPI tables, reserved */
    ck_assert_uint_eq(get64(bp + 0x300), BZIMAGE_ACPI_SIZE);
    ck_assert_uint_eq(get32(bp + 0x308), 2);
    ck_assert_uint_eq(get64(bp + 0x30C), 0x100000);          /* usable from 1 MiB */
    ck_assert_uint_eq(get64(bp + 0x314), 63 * MIB);
    ck_assert_uint_eq(get32(bp + 0x31C), 1);
    /* The boot GDT: __BOOT_CS = 0x10 flat code, __BOOT_DS = 0x18 flat data
     * (boot.rst, "32-bit Boot Protocol"). */
    ck_assert_uint_eq(get64(ram + BZIMAGE_GDT_GPA + 0x10), 0x00CF9A000000FFFFull);
    ck_assert_uint_eq(get64(ram + BZIMAGE_GDT_GPA + 0x18), 0x00CF92000000FFFFull);
}
END_TEST

/* No RAM in the legacy hole (tdx, snp): the tables at the top of RAM, the
 * e820 map ends usable RAM below them and reserves them. */
START_TEST(e820_tables_at_top)
{
    struct bzimage_e820 map[4];
    uint64_t acpi = 64 * MIB - BZIMAGE_ACPI_SIZE;
    ck_assert_uint_eq(bzimage_e820(64 * MIB, acpi, map), 4);
    ck_assert_uint_eq(map[0].addr, 0);
    ck_assert_uint_eq(map[0].size, 0x9F000);
    ck_assert_uint_eq(map[1].type, 2);
    ck_assert_uint_eq(map[2].addr, 0x100000);
    ck_assert_uint_eq(map[2].size, acpi - 0x100000);
    ck_assert_uint_eq(map[2].type, 1);
    ck_assert_uint_eq(map[3].addr, acpi);
    ck_assert_uint_eq(map[3].size, BZIMAGE_ACPI_SIZE);
    ck_assert_uint_eq(map[3].type, 2);
    /* At 0xE0000 (or none given): the legacy layout of load_boot_params. */
    ck_assert_uint_eq(bzimage_e820(64 * MIB, 0xE0000, map), 4);
    ck_assert_uint_eq(map[2].addr, BZIMAGE_ACPI_GPA);
    ck_assert_uint_eq(map[3].size, 63 * MIB);
}
END_TEST

START_TEST(load_rejects_bad_plan)
{
    ck_assert_int_eq(parse(64 * MIB, ""), LOADER_OK);
    struct bzimage_plan bad = plan;
    bad.load_gpa = 64 * MIB - 16;
    ck_assert_uint_eq(bzimage_load(&bad, image, sizeof image, NULL, ram, 64 * MIB, "", 0), 0);
    bad = plan;
    bad.initrd_size = 4096;               /* no initramfs given */
    bad.initrd_gpa = 0x2000000;
    ck_assert_uint_eq(bzimage_load(&bad, image, sizeof image, NULL, ram, 64 * MIB, "", 0), 0);
    bad = plan;
    bad.cmdline_max = 4;
    ck_assert_uint_eq(bzimage_load(&bad, image, sizeof image, NULL, ram, 64 * MIB, "long", 0), 0);
    ck_assert_uint_eq(bzimage_load(&plan, image, sizeof image, NULL, ram, 64 * MIB, "", 0),
                      BZIMAGE_PARAMS_GPA);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bzimage");
    TCase *tc = tcase_create("bzimage");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_valid);
    tcase_add_test(tc, e820_tables_at_top);
    tcase_add_test(tc, parse_placement);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_cmdline);
    tcase_add_test(tc, initrd_placement);
    tcase_add_test(tc, load_boot_params);
    tcase_add_test(tc, load_rejects_bad_plan);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
