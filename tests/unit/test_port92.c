/* SPDX-License-Identifier: MIT */
/* Unit tests for servers/devmodel/port92.c: System Control Port A. */
#include <check.h>
#include <stdlib.h>

#include "port92.h"

START_TEST(test_power_on)
{
    struct port92 p;
    port92_init(&p);
    ck_assert_uint_eq(port92_read(&p), 0x02);
    ck_assert(port92_a20(&p));
}
END_TEST

START_TEST(test_a20_recorded)
{
    struct port92 p;
    port92_init(&p);
    ck_assert(!port92_write(&p, 0x00));
    ck_assert(!port92_a20(&p));
    ck_assert_uint_eq(port92_read(&p), 0x00);
    ck_assert(!port92_write(&p, 0xc2));   /* other bits read back, as in QEMU */
    ck_assert(port92_a20(&p));
    ck_assert_uint_eq(port92_read(&p), 0xc2);
}
END_TEST

START_TEST(test_reset_on_rising_bit0)
{
    struct port92 p;
    port92_init(&p);
    ck_assert(port92_write(&p, 0x03));    /* 0 -> 1: reset */
    ck_assert(!port92_write(&p, 0x03));   /* stays 1: no second request */
    ck_assert(!port92_write(&p, 0x02));
    ck_assert(port92_write(&p, 0x01));    /* again 0 -> 1 */
    ck_assert(!port92_a20(&p));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("port92");
    TCase *t = tcase_create("port92");
    tcase_add_test(t, test_power_on);
    tcase_add_test(t, test_a20_recorded);
    tcase_add_test(t, test_reset_on_rising_bit0);
    suite_add_tcase(s, t);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
