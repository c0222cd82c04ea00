/* SPDX-License-Identifier: MIT */
/* Host unit tests (Check) for servers/vmm/pvclock.c: kvm-clock's time scale
 * as KVM computes it, and the time info the VMM writes for a VCPU. */
#include <check.h>
#include <stdlib.h>

#include "pvclock.h"

#define NS 1000000000ull

/*
 * Expected mul/shift worked by hand through KVM's kvm_get_time_scale
 * (arch/x86/kvm/x86.c, Linux 6.1) with scaled_hz = 1e9, base_hz = the TSC rate:
 *   loop 1 halves base while base > 2 * scaled or base >= 2^32 (shift--);
 *   loop 2 doubles base (or halves scaled) while base <= scaled (shift++);
 *   mul = floor(scaled * 2^32 / base).
 *   1 GHz:   loop 2 once: base 2e9, shift 1, mul = 2^32 / 2 = 2147483648.
 *   2.6 GHz: 2.6e9 > 2e9: base 1.3e9, shift -1, mul = floor(2^32 / 1.3) = 3303820996.
 *   3.7 GHz: base 1.85e9, shift -1, mul = floor(2^32 / 1.85) = 2321603943.
 *   100 MHz: loop 2 four times: base 1.6e9, shift 4, mul = 2^32 / 1.6 = 2684354560.
 *   5 GHz:   2.5e9, then 1.25e9: shift -2, mul = floor(2^32 / 1.25) = 3435973836.
 */
static const struct {
    uint64_t hz;
    int8_t shift;
    uint32_t mul;
} scales[] = {
    { 1000000000ull, 1, 2147483648u },
    { 2600000000ull, -1, 3303820996u },
    { 3700000000ull, -1, 2321603943u },
    { 100000000ull, 4, 2684354560u },
    { 5000000000ull, -2, 3435973836u },
};
#define NSCALES (sizeof scales / sizeof scales[0])

START_TEST(scale_matches_kvm)
{
    int8_t shift;
    uint32_t mul;
    pvclock_time_scale(scales[_i].hz, &shift, &mul);
    ck_assert_int_eq(shift, scales[_i].shift);
    ck_assert_uint_eq(mul, scales[_i].mul);
}
END_TEST

static uint64_t distance(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* delta_tsc -> ns within 1 ns per second (and 1 ns below a second). */
START_TEST(round_trip)
{
    static const uint64_t seconds[] = { 1, 7, 60, 3600, 86400 };
    uint64_t hz = scales[_i].hz;
    int8_t shift;
    uint32_t mul;

    pvclock_time_scale(hz, &shift, &mul);
    for (unsigned k = 0; k < sizeof seconds / sizeof seconds[0]; k++) {
        uint64_t ns = pvclock_scale_delta(seconds[k] * hz, mul, shift);
        ck_assert_msg(distance(ns, seconds[k] * NS) <= seconds[k],
                      "%llu Hz, %llu s: %llu ns", (unsigned long long)hz,
                      (unsigned long long)seconds[k], (unsigned long long)ns);
    }
    /* 7 ms and 50 ms: within 1 ns. */
    ck_assert_uint_le(distance(pvclock_scale_delta(hz / 1000 * 7, mul, shift), 7000000), 1);
    ck_assert_uint_le(distance(pvclock_scale_delta(hz / 20, mul, shift), 50000000), 1);
    ck_assert_uint_eq(pvclock_scale_delta(0, mul, shift), 0);
}
END_TEST

/* The guest's reading: system_time + scale(tsc - tsc_timestamp). */
static uint64_t guest_ns(const struct pvclock_vcpu_time_info *t, uint64_t guest_tsc)
{
    return t->system_time +
           pvclock_scale_delta(guest_tsc - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
}

START_TEST(time_info)
{
    const uint64_t hz = 2600000000ull, started = 5000000000ull;   /* host TSC at VM start */
    struct pvclock_vcpu_time_info t = { .version = 7, .flags = 0xff, .pad0 = 1 };
    uint64_t vm_offset = -started;

    /* 2 s after the start, a VCPU whose TSC is the VM's. */
    pvclock_time_info(&t, started + 2 * hz, vm_offset, vm_offset, hz);
    ck_assert_uint_eq(t.version, 7);                 /* msr.c's to manage */
    ck_assert_uint_eq(t.flags, 0);                   /* no PVCLOCK_TSC_STABLE_BIT */
    ck_assert_uint_eq(t.pad0, 0);
    ck_assert_uint_eq(t.tsc_timestamp, 2 * hz);
    ck_assert_uint_le(distance(t.system_time, 2 * NS), 2);
    ck_assert_int_eq(t.tsc_shift, -1);
    ck_assert_uint_eq(t.tsc_to_system_mul, 3303820996u);
    ck_assert_uint_le(distance(guest_ns(&t, 3 * hz), 3 * NS), 3);

    /* The guest wrote 10^12 to its TSC at 2 s: the clock still says 2 s
     * there and advances with the new TSC. */
    uint64_t vcpu_offset = 1000000000000ull - (started + 2 * hz);
    pvclock_time_info(&t, started + 2 * hz, vcpu_offset, vm_offset, hz);
    ck_assert_uint_eq(t.tsc_timestamp, 1000000000000ull);
    ck_assert_uint_le(distance(t.system_time, 2 * NS), 2);
    ck_assert_uint_le(distance(guest_ns(&t, 1000000000000ull + hz / 2), 2 * NS + NS / 2), 3);

    /* A CPU whose TSC is 1000 ticks behind the one the VM's offset came
     * from, read right at the start: a time just before 0 that the
     * guest's sums carry through. */
    pvclock_time_info(&t, started - 1000, vm_offset, vm_offset, hz);
    ck_assert_uint_eq(t.tsc_timestamp, (uint64_t)-1000);
    ck_assert_int_lt((int64_t)t.system_time, 0);
    ck_assert_int_ge((int64_t)t.system_time, -385);  /* 1000 ticks at 2.6 GHz: 384.6 ns */
    ck_assert_uint_le(distance(guest_ns(&t, hz), NS), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pvclock");
    TCase *tc = tcase_create("pvclock");
    tcase_add_loop_test(tc, scale_matches_kvm, 0, NSCALES);
    tcase_add_loop_test(tc, round_trip, 0, NSCALES);
    tcase_add_test(tc, time_info);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
