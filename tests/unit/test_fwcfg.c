/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/fwcfg.c: QEMU fw_cfg over I/O ports. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwcfg.h"

static struct fwcfg c;

static void setup(void)
{
    fwcfg_init(&c, 2, 64ull << 20);
}

static void select_key(uint16_t key)
{
    fwcfg_io_write(&c, 0, 2, key);
}

static void read_bytes(uint8_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = (uint8_t)fwcfg_io_read(&c, 1, 1);
}

static uint64_t read_le(unsigned n)
{
    uint8_t b[8];
    uint64_t v = 0;
    read_bytes(b, n);
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

static uint64_t read_be(unsigned n)
{
    uint8_t b[8];
    uint64_t v = 0;
    read_bytes(b, n);
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

START_TEST(test_signature_selected_at_reset)
{
    uint8_t sig[5];
    read_bytes(sig, 5);
    ck_assert_mem_eq(sig, "QEMU", 4);
    ck_assert_uint_eq(sig[4], 0);   /* past the end */
}
END_TEST

START_TEST(test_numbers)
{
    select_key(FWCFG_ID);
    ck_assert_uint_eq(read_le(4), 1);   /* traditional interface, no DMA */
    select_key(FWCFG_NB_CPUS);
    ck_assert_uint_eq(read_le(2), 2);
    select_key(FWCFG_MAX_CPUS);
    ck_assert_uint_eq(read_le(2), 2);
    select_key(FWCFG_RAM_SIZE);
    ck_assert_uint_eq(read_le(8), 64ull << 20);
    select_key(FWCFG_NOGRAPHIC);
    ck_assert_uint_eq(read_le(2), 1);
    select_key(FWCFG_UUID);
    ck_assert_uint_eq(read_le(8), 0);
}
END_TEST

START_TEST(test_select_rewinds_and_missing_keys)
{
    uint8_t b[4];
    read_bytes(b, 2);
    select_key(FWCFG_SIGNATURE);
    read_bytes(b, 1);
    ck_assert_uint_eq(b[0], 'Q');
    select_key(0x0010);           /* a key without an item */
    ck_assert_uint_eq(read_le(4), 0);
    select_key(0x3fff);           /* beyond every item */
    ck_assert_uint_eq(read_le(4), 0);
    select_key(FWCFG_ARCH_LOCAL | FWCFG_SIGNATURE);   /* the (empty) arch-local set */
    ck_assert_uint_eq(read_le(4), 0);
    select_key(0x4000 | FWCFG_SIGNATURE);   /* write channel bit: the same item */
    ck_assert_uint_eq(read_le(1), 'Q');
}
END_TEST

START_TEST(test_port_access_rules)
{
    ck_assert_uint_eq(fwcfg_io_read(&c, 0, 1), 'Q');   /* 8-bit reads at 0x510 are data too */
    ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 'E');
    ck_assert_uint_eq(fwcfg_io_read(&c, 0, 2), 0);     /* refused: moves nothing */
    ck_assert_uint_eq(fwcfg_io_read(&c, 0, 4), 0);
    ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 'M');
    fwcfg_io_write(&c, 1, 1, 0);                       /* 8-bit writes: ignored */
    ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 'U');
    fwcfg_io_write(&c, 0, 4, FWCFG_SIGNATURE);         /* 32-bit writes: refused */
    ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 0);
    fwcfg_io_write(&c, 0, 2, FWCFG_SIGNATURE);
    ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 'Q');
    fwcfg_io_write(&c, 1, 2, FWCFG_SIGNATURE);         /* 16 bits at 0x511: nothing, as in QEMU */
    ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 'E');
}
END_TEST

START_TEST(test_directory_sorted_with_keys)
{
    static const uint8_t e820[20] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1, 0, 0, 0 };
    static const uint8_t hello[] = "hello";
    ck_assert_int_eq(fwcfg_add_file(&c, "opt/b", hello, 5), 0x20);
    ck_assert_int_eq(fwcfg_add_file(&c, "etc/e820", e820, sizeof e820), 0x20);   /* sorts first */
    ck_assert_int_eq(fwcfg_add_file(&c, "opt/a", hello, 3), 0x21);
    ck_assert_int_eq(fwcfg_add_file(&c, "opt/a", hello, 3), -1);   /* taken */
    ck_assert_int_eq(fwcfg_add_file(&c, "", hello, 3), -1);

    select_key(FWCFG_FILE_DIR);
    ck_assert_uint_eq(read_be(4), 3);
    static const char *const names[3] = { "etc/e820", "opt/a", "opt/b" };
    static const uint32_t sizes[3] = { 20, 3, 5 };
    for (unsigned i = 0; i < 3; i++) {
        uint8_t name[56];
        ck_assert_uint_eq(read_be(4), sizes[i]);
        ck_assert_uint_eq(read_be(2), 0x20 + i);
        ck_assert_uint_eq(read_be(2), 0);
        read_bytes(name, sizeof name);
        ck_assert_str_eq((const char *)name, names[i]);
    }
    /* The rest of the 32 slots read as zeros, and the item ends there. */
    for (unsigned i = 3 * 64 + 4; i < FWCFG_DIR_SIZE; i++)
        ck_assert_uint_eq(fwcfg_io_read(&c, 1, 1), 0);

    select_key(0x21);
    uint8_t b[4];
    read_bytes(b, 4);
    ck_assert_mem_eq(b, "hel\0", 4);   /* 3 bytes, then zeros */
    select_key(0x22);
    read_bytes(b, 4);
    ck_assert_mem_eq(b, "hell", 4);
    select_key(0x20);
    ck_assert_uint_eq(read_le(8), 0);
    ck_assert_uint_eq(read_le(8), 64ull << 20);
    ck_assert_uint_eq(read_le(4), 1);
}
END_TEST

START_TEST(test_slots_and_names)
{
    static const uint8_t x = 7;
    char name[64];
    memset(name, 'n', sizeof name);
    name[56] = '\0';
    ck_assert_int_eq(fwcfg_add_file(&c, name, &x, 1), -1);   /* 56 bytes: no room for NUL */
    name[55] = '\0';
    ck_assert_int_ge(fwcfg_add_file(&c, name, &x, 1), 0x20);
    for (unsigned i = 1; i < FWCFG_FILE_SLOTS; i++) {
        snprintf(name, sizeof name, "f%02u", i);
        ck_assert_int_ge(fwcfg_add_file(&c, name, &x, 1), 0x20);
    }
    ck_assert_int_eq(fwcfg_add_file(&c, "full", &x, 1), -1);
    select_key(FWCFG_FILE_FIRST + FWCFG_FILE_SLOTS);   /* one past the last slot */
    ck_assert_uint_eq(read_le(1), 0);
    select_key(FWCFG_FILE_FIRST + FWCFG_FILE_SLOTS - 1);
    ck_assert_uint_eq(read_le(1), 7);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fwcfg");
    TCase *t = tcase_create("fwcfg");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, test_signature_selected_at_reset);
    tcase_add_test(t, test_numbers);
    tcase_add_test(t, test_select_rewinds_and_missing_keys);
    tcase_add_test(t, test_port_access_rules);
    tcase_add_test(t, test_directory_sorted_with_keys);
    tcase_add_test(t, test_slots_and_names);
    suite_add_tcase(s, t);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
