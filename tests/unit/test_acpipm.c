/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/acpipm.c: the ACPI sleep and reset registers. */
#include <check.h>
#include <stdlib.h>

#include "acpipm.h"

/* What ACPICA's acpi_hw_extended_sleep() writes to SLEEP_CONTROL_REG:
 * SLP_TYP << 2 | SLP_EN (ACPI 6.4 §4.8.3.7, Table 4.22). */
#define SLEEP(type) ((type) << 2 | 0x20u)

START_TEST(test_power_on)
{
    struct acpipm p;
    acpipm_init(&p);
    for (unsigned off = 0; off < ACPIPM_PORTS; off++)
        ck_assert_uint_eq(acpipm_read(&p, off, 1), 0);
    ck_assert_uint_eq(acpipm_read(&p, 0, 4), 0);
}
END_TEST

START_TEST(test_s5_powers_off)
{
    struct acpipm p;
    unsigned type = 99;
    acpipm_init(&p);
    ck_assert_int_eq(acpipm_write(&p, ACPIPM_SLEEP_STATUS, 1, ACPIPM_WAK_STS, &type), ACPIPM_NONE);
    ck_assert_uint_eq(SLEEP(ACPIPM_SLP_TYP_S5), 0x34);
    ck_assert_int_eq(acpipm_write(&p, ACPIPM_SLEEP_CONTROL, 1, SLEEP(5), &type), ACPIPM_POWEROFF);
    ck_assert_uint_eq(type, 5);
    /* Reserved bits do not matter; without SLP_EN nothing happens. */
    ck_assert_int_eq(acpipm_write(&p, 0, 1, SLEEP(5) | 0xC3, &type), ACPIPM_POWEROFF);
    ck_assert_int_eq(acpipm_write(&p, 0, 1, 5u << 2, &type), ACPIPM_NONE);
}
END_TEST

START_TEST(test_other_sleep_types_wake_at_once)
{
    struct acpipm p;
    unsigned type = 99;
    acpipm_init(&p);
    ck_assert_int_eq(acpipm_write(&p, 0, 1, SLEEP(3), &type), ACPIPM_SLEEP_IGNORED);
    ck_assert_uint_eq(type, 3);
    ck_assert_uint_eq(acpipm_read(&p, ACPIPM_SLEEP_STATUS, 1), ACPIPM_WAK_STS);
    ck_assert(acpipm_first_ignored(&p, 3));
    ck_assert(!acpipm_first_ignored(&p, 3));
    ck_assert(acpipm_first_ignored(&p, 1));
    /* WAK_STS is write-1-to-clear; 0 bits leave it. */
    ck_assert_int_eq(acpipm_write(&p, 1, 1, 0x7F, &type), ACPIPM_NONE);
    ck_assert_uint_eq(acpipm_read(&p, 1, 1), ACPIPM_WAK_STS);
    ck_assert_int_eq(acpipm_write(&p, 1, 1, ACPIPM_WAK_STS, &type), ACPIPM_NONE);
    ck_assert_uint_eq(acpipm_read(&p, 1, 1), 0);
    ck_assert_uint_eq(acpipm_read(&p, 0, 1), 0);   /* control reads 0 */
}
END_TEST

START_TEST(test_reset_value_only)
{
    struct acpipm p;
    unsigned type = 0;
    acpipm_init(&p);
    ck_assert_int_eq(acpipm_write(&p, ACPIPM_RESET, 1, 0x41, &type), ACPIPM_NONE);
    ck_assert_int_eq(acpipm_write(&p, ACPIPM_RESET, 1, 0x06, &type), ACPIPM_NONE);
    ck_assert_int_eq(acpipm_write(&p, ACPIPM_RESET, 1, ACPIPM_RESET_VALUE, &type),
                     ACPIPM_RESET_REQUEST);
    ck_assert_uint_eq(acpipm_read(&p, ACPIPM_RESET, 1), 0);
    ck_assert_int_eq(acpipm_write(&p, 3, 1, ACPIPM_RESET_VALUE, &type), ACPIPM_NONE);
}
END_TEST

/* A wider access acts on each register it covers, lowest port first. */
START_TEST(test_wide_access)
{
    struct acpipm p;
    unsigned type = 0;
    acpipm_init(&p);
    /* 16 bits at +0: sleep type 1 (ignored, sets WAK_STS), then +1 clears it. */
    ck_assert_int_eq(acpipm_write(&p, 0, 2, SLEEP(1) | ACPIPM_WAK_STS << 8, &type),
                     ACPIPM_SLEEP_IGNORED);
    ck_assert_uint_eq(acpipm_read(&p, 1, 1), 0);
    ck_assert_int_eq(acpipm_write(&p, 0, 1, SLEEP(2), &type), ACPIPM_SLEEP_IGNORED);
    ck_assert_uint_eq(acpipm_read(&p, 0, 4), ACPIPM_WAK_STS << 8);
    /* 32 bits: the reset byte at +2 wins over an ignored sleep at +0. */
    ck_assert_int_eq(acpipm_write(&p, 0, 4, ACPIPM_RESET_VALUE << 16 | SLEEP(1), &type),
                     ACPIPM_RESET_REQUEST);
    ck_assert_int_eq(acpipm_write(&p, 1, 2, ACPIPM_RESET_VALUE << 8, &type), ACPIPM_RESET_REQUEST);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acpipm");
    TCase *t = tcase_create("acpipm");
    tcase_add_test(t, test_power_on);
    tcase_add_test(t, test_s5_powers_off);
    tcase_add_test(t, test_other_sleep_types_wake_at_once);
    tcase_add_test(t, test_reset_value_only);
    tcase_add_test(t, test_wide_access);
    suite_add_tcase(s, t);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
