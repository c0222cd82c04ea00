/* SPDX-License-Identifier: MIT */
/* Host unit tests (Check) for microkernel/core/pmm.c, the bitmap page allocator. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pmm.h"

#define FRAME 4096ull
/* Not a multiple of 64, so the last bitmap word is only partly backed by frames. */
#define NFRAMES 200u

static struct pmm pmm;
static uint64_t bitmap[(NFRAMES + 63) / 64];

/* A fresh allocator with every frame released except frame 0, which the
 * kernel reserves too (pmm_alloc() uses 0 to mean "no memory"). */
static void setup_released(void)
{
    pmm_init(&pmm, bitmap, NFRAMES);
    pmm_release_range(&pmm, 0, NFRAMES * FRAME);
    pmm_reserve_range(&pmm, 0, FRAME);
}

static uint64_t count_used(void)
{
    uint64_t n = 0;
    for (uint64_t f = 0; f < NFRAMES; f++)
        n += pmm_is_used(&pmm, f);
    return n;
}

/* The accounting invariant every operation must keep. */
static void check_consistent(void)
{
    ck_assert_uint_eq(pmm.free, NFRAMES - count_used());
}

START_TEST(test_init_all_used)
{
    memset(bitmap, 0, sizeof bitmap);
    pmm_init(&pmm, bitmap, NFRAMES);
    ck_assert_uint_eq(pmm.nframes, NFRAMES);
    ck_assert_uint_eq(pmm.free, 0);
    ck_assert_uint_eq(pmm.total, 0);
    for (uint64_t f = 0; f < NFRAMES; f++)
        ck_assert(pmm_is_used(&pmm, f));
    /* Frames past the end are always "used". */
    ck_assert(pmm_is_used(&pmm, NFRAMES));
    ck_assert(pmm_is_used(&pmm, UINT64_MAX));
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), 0);
}
END_TEST

START_TEST(test_release_whole_frames_only)
{
    pmm_init(&pmm, bitmap, NFRAMES);
    /* [0x800, 0x1800): no whole frame. */
    pmm_release_range(&pmm, 0x800, 0x1000);
    ck_assert_uint_eq(pmm.free, 0);
    /* [0x800, 0x2800): only frame 1 is wholly inside. */
    pmm_release_range(&pmm, 0x800, 0x2000);
    ck_assert_uint_eq(pmm.free, 1);
    ck_assert_uint_eq(pmm.total, 1);
    ck_assert(pmm_is_used(&pmm, 0));
    ck_assert(!pmm_is_used(&pmm, 1));
    ck_assert(pmm_is_used(&pmm, 2));
    /* Exactly [0x3000, 0x5000): frames 3 and 4. */
    pmm_release_range(&pmm, 0x3000, 0x2000);
    ck_assert_uint_eq(pmm.free, 3);
    ck_assert(!pmm_is_used(&pmm, 3));
    ck_assert(!pmm_is_used(&pmm, 4));
    ck_assert(pmm_is_used(&pmm, 5));
    check_consistent();
}
END_TEST

START_TEST(test_release_twice_counts_once)
{
    pmm_init(&pmm, bitmap, NFRAMES);
    pmm_release_range(&pmm, 0, 10 * FRAME);
    pmm_release_range(&pmm, 5 * FRAME, 10 * FRAME);
    ck_assert_uint_eq(pmm.free, 15);
    ck_assert_uint_eq(pmm.total, 15);
    check_consistent();
}
END_TEST

START_TEST(test_release_clamped_and_degenerate)
{
    pmm_init(&pmm, bitmap, NFRAMES);
    /* RAM beyond the bitmap is ignored. */
    pmm_release_range(&pmm, (NFRAMES - 2) * FRAME, 100 * FRAME);
    ck_assert_uint_eq(pmm.free, 2);
    pmm_release_range(&pmm, NFRAMES * FRAME, 100 * FRAME);
    ck_assert_uint_eq(pmm.free, 2);
    /* Zero length, a wrapping range, and a range near the top of the
     * address space whose rounding would wrap: all change nothing. */
    pmm_release_range(&pmm, 0, 0);
    pmm_release_range(&pmm, 0x5000, UINT64_MAX);
    pmm_release_range(&pmm, UINT64_MAX - 100, 50);
    pmm_release_range(&pmm, UINT64_MAX - FRAME + 2, FRAME - 2);
    ck_assert_uint_eq(pmm.free, 2);
    ck_assert_uint_eq(pmm.total, 2);
    for (uint64_t f = 0; f < NFRAMES - 2; f++)
        ck_assert(pmm_is_used(&pmm, f));
    /* Padding bits of the last word stay set: no frame >= NFRAMES. */
    ck_assert_uint_eq(bitmap[NFRAMES / 64] >> (NFRAMES % 64), ~0ull >> (NFRAMES % 64));
    check_consistent();
}
END_TEST

START_TEST(test_reserve_touching_frames)
{
    pmm_init(&pmm, bitmap, NFRAMES);
    pmm_release_range(&pmm, 0, NFRAMES * FRAME);
    ck_assert_uint_eq(pmm.free, NFRAMES);
    /* One byte at the end of frame 1 and one at the start of frame 2. */
    pmm_reserve_range(&pmm, 0x1fff, 2);
    ck_assert_uint_eq(pmm.free, NFRAMES - 2);
    ck_assert_uint_eq(pmm.total, NFRAMES - 2);
    ck_assert(!pmm_is_used(&pmm, 0));
    ck_assert(pmm_is_used(&pmm, 1));
    ck_assert(pmm_is_used(&pmm, 2));
    ck_assert(!pmm_is_used(&pmm, 3));
    /* Reserving what is already reserved changes nothing. */
    pmm_reserve_range(&pmm, 0x1000, 0x2000);
    ck_assert_uint_eq(pmm.free, NFRAMES - 2);
    /* Inside one frame. */
    pmm_reserve_range(&pmm, 0x5800, 1);
    ck_assert_uint_eq(pmm.free, NFRAMES - 3);
    ck_assert(pmm_is_used(&pmm, 5));
    ck_assert(!pmm_is_used(&pmm, 4));
    ck_assert(!pmm_is_used(&pmm, 6));
    check_consistent();
}
END_TEST

START_TEST(test_reserve_degenerate)
{
    pmm_init(&pmm, bitmap, NFRAMES);
    pmm_release_range(&pmm, 0, NFRAMES * FRAME);
    pmm_reserve_range(&pmm, 0x3000, 0);
    ck_assert_uint_eq(pmm.free, NFRAMES);
    /* Beyond the bitmap, and wrapping past 2^64: nothing in range. */
    pmm_reserve_range(&pmm, NFRAMES * FRAME, FRAME);
    pmm_reserve_range(&pmm, UINT64_MAX - 10, 100);
    ck_assert_uint_eq(pmm.free, NFRAMES);
    /* A huge length from inside the bitmap reserves up to its end. */
    pmm_reserve_range(&pmm, (NFRAMES - 3) * FRAME, UINT64_MAX);
    ck_assert_uint_eq(pmm.free, NFRAMES - 3);
    ck_assert(pmm_is_used(&pmm, NFRAMES - 1));
    ck_assert(!pmm_is_used(&pmm, NFRAMES - 4));
    check_consistent();
}
END_TEST

START_TEST(test_alloc_single)
{
    setup_released();
    uint64_t start = pmm.free;
    ck_assert_uint_eq(start, NFRAMES - 1);
    uint64_t a = pmm_alloc(&pmm, 1, 1);
    ck_assert_uint_ne(a, 0);
    ck_assert_uint_eq(a % FRAME, 0);
    ck_assert(pmm_is_used(&pmm, a / FRAME));
    ck_assert_uint_eq(pmm.free, start - 1);
    /* Allocating does not change the amount of usable RAM. */
    ck_assert_uint_eq(pmm.total, NFRAMES - 1);
    uint64_t b = pmm_alloc(&pmm, 1, 1);
    ck_assert_uint_ne(b, 0);
    ck_assert_uint_ne(a, b);
    ck_assert(pmm_free(&pmm, a, 1));
    ck_assert(!pmm_is_used(&pmm, a / FRAME));
    ck_assert(pmm_free(&pmm, b, 1));
    ck_assert_uint_eq(pmm.free, start);
    check_consistent();
}
END_TEST

START_TEST(test_alloc_exhaustion)
{
    setup_released();
    uint64_t start = pmm.free;
    static uint64_t got[NFRAMES];
    uint64_t n = 0;
    for (;;) {
        uint64_t a = pmm_alloc(&pmm, 1, 1);
        if (!a)
            break;
        ck_assert_uint_lt(n, NFRAMES);
        ck_assert_uint_lt(a / FRAME, NFRAMES);
        /* Never the same frame twice. */
        for (uint64_t i = 0; i < n; i++)
            ck_assert_uint_ne(got[i], a);
        got[n++] = a;
    }
    ck_assert_uint_eq(n, start);
    ck_assert_uint_eq(pmm.free, 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 2, 1), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 8), 0);
    check_consistent();
    for (uint64_t i = 0; i < n; i++)
        ck_assert(pmm_free(&pmm, got[i], 1));
    ck_assert_uint_eq(pmm.free, start);
    check_consistent();
}
END_TEST

START_TEST(test_alloc_bad_arguments)
{
    setup_released();
    uint64_t start = pmm.free;
    ck_assert_uint_eq(pmm_alloc(&pmm, 0, 1), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 0), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 3), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 2, 6), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, start + 1, 1), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, UINT64_MAX, 1), 0);
    /* Every frame but frame 0 is free, yet NFRAMES-1 frames aligned to 2
     * cannot start at 1. */
    ck_assert_uint_eq(pmm_alloc(&pmm, NFRAMES - 1, 2), 0);
    /* No frame other than 0 is aligned to 256 frames inside a 200-frame map. */
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 256), 0);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1ull << 63), 0);
    ck_assert_uint_eq(pmm.free, start);
    check_consistent();
}
END_TEST

START_TEST(test_alloc_contiguous)
{
    setup_released();
    uint64_t start = pmm.free;
    uint64_t a = pmm_alloc(&pmm, 10, 1);
    ck_assert_uint_ne(a, 0);
    for (uint64_t i = 0; i < 10; i++)
        ck_assert(pmm_is_used(&pmm, a / FRAME + i));
    ck_assert_uint_eq(pmm.free, start - 10);
    /* All of it at once: every remaining frame. */
    uint64_t rest = pmm.free;
    uint64_t b = pmm_alloc(&pmm, rest, 1);
    ck_assert_uint_ne(b, 0);
    ck_assert_uint_eq(pmm.free, 0);
    ck_assert(pmm_free(&pmm, b, rest));
    ck_assert(pmm_free(&pmm, a, 10));
    ck_assert_uint_eq(pmm.free, start);
    /* Everything except frame 0 in one run. */
    uint64_t c = pmm_alloc(&pmm, NFRAMES - 1, 1);
    ck_assert_uint_eq(c, FRAME);
    ck_assert(pmm_free(&pmm, c, NFRAMES - 1));
    check_consistent();
}
END_TEST

START_TEST(test_alloc_contiguous_skips_holes)
{
    setup_released();
    /* Used frames at 3 and 9: a run of 5 fits first at 4..8, 6 only at 10. */
    pmm_reserve_range(&pmm, 3 * FRAME, FRAME);
    pmm_reserve_range(&pmm, 9 * FRAME, FRAME);
    uint64_t a = pmm_alloc(&pmm, 5, 1);
    ck_assert_uint_eq(a, 4 * FRAME);
    uint64_t b = pmm_alloc(&pmm, 6, 1);
    ck_assert_uint_eq(b, 10 * FRAME);
    uint64_t c = pmm_alloc(&pmm, 2, 1);
    ck_assert_uint_eq(c, 1 * FRAME);
    check_consistent();
}
END_TEST

START_TEST(test_alloc_alignment)
{
    static const uint64_t aligns[] = { 1, 2, 4, 8, 16, 32, 64, 128 };
    for (size_t k = 0; k < sizeof aligns / sizeof aligns[0]; k++) {
        setup_released();
        uint64_t start = pmm.free;
        /* Make the first aligned candidates unusable. */
        pmm_reserve_range(&pmm, 0, 3 * FRAME);
        uint64_t align = aligns[k];
        uint64_t a = pmm_alloc(&pmm, 3, align);
        ck_assert_msg(a != 0, "align %lu", (unsigned long)align);
        ck_assert_uint_eq((a / FRAME) % align, 0);
        /* The first fit: the lowest aligned frame >= 3 (with align 1, frame 3). */
        uint64_t expect = (3 + align - 1) / align * align;
        ck_assert_uint_eq(a / FRAME, expect);
        ck_assert(pmm_free(&pmm, a, 3));
        pmm_release_range(&pmm, FRAME, 2 * FRAME);
        ck_assert_uint_eq(pmm.free, start);
    }
}
END_TEST

START_TEST(test_alloc_alignment_with_used_frame_inside)
{
    setup_released();
    /* Frame 17 used: an 8-aligned run of 8 cannot be at 16, comes at 24. */
    pmm_reserve_range(&pmm, 17 * FRAME, FRAME);
    pmm_reserve_range(&pmm, 0, 16 * FRAME);
    uint64_t a = pmm_alloc(&pmm, 8, 8);
    ck_assert_uint_eq(a, 24 * FRAME);
    /* A 4-aligned run of 4 after that: 16..19 holds 17, so 20. */
    uint64_t b = pmm_alloc(&pmm, 4, 4);
    ck_assert_uint_eq(b, 20 * FRAME);
    check_consistent();
}
END_TEST

START_TEST(test_free_rejects_bad_input)
{
    setup_released();
    uint64_t a = pmm_alloc(&pmm, 4, 4);
    ck_assert_uint_ne(a, 0);
    uint64_t before_free = pmm.free;
    uint64_t saved[sizeof bitmap / 8];
    memcpy(saved, bitmap, sizeof bitmap);

    /* Never allocated (free) frame. */
    uint64_t unallocated = a + 8 * FRAME;
    ck_assert(!pmm_is_used(&pmm, unallocated / FRAME));
    ck_assert(!pmm_free(&pmm, unallocated, 1));
    /* Misaligned addresses. */
    ck_assert(!pmm_free(&pmm, a + 1, 1));
    ck_assert(!pmm_free(&pmm, a + FRAME / 2, 1));
    ck_assert(!pmm_free(&pmm, a + FRAME - 1, 1));
    /* Zero frames. */
    ck_assert(!pmm_free(&pmm, a, 0));
    /* Out of range, at the end, and wrapping. */
    ck_assert(!pmm_free(&pmm, NFRAMES * FRAME, 1));
    ck_assert(!pmm_free(&pmm, (NFRAMES - 1) * FRAME, 2));
    ck_assert(!pmm_free(&pmm, UINT64_MAX & ~(FRAME - 1), 1));
    ck_assert(!pmm_free(&pmm, a, UINT64_MAX));
    ck_assert(!pmm_free(&pmm, a, UINT64_MAX - a / FRAME + 1));
    /* Partly allocated: the 4 allocated frames plus one free one. */
    ck_assert(!pmm_free(&pmm, a, 5));
    ck_assert(!pmm_free(&pmm, a - FRAME, 2));

    ck_assert_uint_eq(pmm.free, before_free);
    ck_assert_mem_eq(saved, bitmap, sizeof bitmap);

    /* The real allocation still frees, once. */
    ck_assert(pmm_free(&pmm, a, 4));
    ck_assert(!pmm_free(&pmm, a, 4));
    ck_assert(!pmm_free(&pmm, a + FRAME, 1));
    check_consistent();
}
END_TEST

START_TEST(test_free_wrapping_count_when_full)
{
    /* With every frame in use, only the overflow check can refuse a count
     * that wraps first + count past 2^64 (without it: ~2^64 iterations). */
    setup_released();
    uint64_t all = pmm_alloc(&pmm, pmm.free, 1);
    ck_assert_uint_eq(all, FRAME);
    ck_assert_uint_eq(pmm.free, 0);
    ck_assert(!pmm_free(&pmm, FRAME, UINT64_MAX));
    ck_assert(!pmm_free(&pmm, 2 * FRAME, UINT64_MAX - 1));
    ck_assert_uint_eq(pmm.free, 0);
    check_consistent();
    ck_assert(pmm_free(&pmm, all, NFRAMES - 1));
}
END_TEST

START_TEST(test_alloc_free_cycles)
{
    setup_released();
    uint64_t start = pmm.free;
    static uint64_t live[64][2];
    unsigned nlive = 0;
    uint32_t rng = 12345;
    for (int round = 0; round < 20000; round++) {
        rng = rng * 1103515245u + 12345u;
        unsigned r = rng >> 16;
        if (nlive < 64 && (r & 1)) {
            uint64_t count = 1 + (r >> 1) % 7;
            uint64_t align = 1ull << ((r >> 4) % 4);
            uint64_t a = pmm_alloc(&pmm, count, align);
            if (a) {
                ck_assert_uint_eq((a / FRAME) % align, 0);
                /* Must not overlap anything live. */
                for (unsigned i = 0; i < nlive; i++)
                    ck_assert(a + count * FRAME <= live[i][0] ||
                              live[i][0] + live[i][1] * FRAME <= a);
                live[nlive][0] = a;
                live[nlive][1] = count;
                nlive++;
            }
        } else if (nlive) {
            unsigned i = (r >> 1) % nlive;
            ck_assert(pmm_free(&pmm, live[i][0], live[i][1]));
            live[i][0] = live[nlive - 1][0];
            live[i][1] = live[nlive - 1][1];
            nlive--;
        }
        if (round % 997 == 0)
            check_consistent();
    }
    while (nlive) {
        nlive--;
        ck_assert(pmm_free(&pmm, live[nlive][0], live[nlive][1]));
    }
    ck_assert_uint_eq(pmm.free, start);
    ck_assert_uint_eq(pmm.total, NFRAMES - 1);
    check_consistent();
}
END_TEST

START_TEST(test_hint)
{
    setup_released();
    /* Consecutive single allocations go upward from the hint. */
    uint64_t a = pmm_alloc(&pmm, 1, 1);
    uint64_t b = pmm_alloc(&pmm, 1, 1);
    uint64_t c = pmm_alloc(&pmm, 1, 1);
    ck_assert_uint_eq(a, 1 * FRAME);
    ck_assert_uint_eq(b, 2 * FRAME);
    ck_assert_uint_eq(c, 3 * FRAME);
    ck_assert_uint_eq(pmm.hint, 4);
    /* Freeing a lower frame moves the hint back, so it is reused first. */
    ck_assert(pmm_free(&pmm, b, 1));
    ck_assert_uint_eq(pmm.hint, 2);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), b);
    uint64_t d = pmm_alloc(&pmm, 1, 1);
    ck_assert_uint_eq(d, 4 * FRAME);
    ck_assert_uint_eq(pmm.hint, 5);
    /* Freeing above the hint does not move it. */
    ck_assert(pmm_free(&pmm, c, 1));
    ck_assert_uint_eq(pmm.hint, 3);
    ck_assert(pmm_free(&pmm, d, 1));
    ck_assert_uint_eq(pmm.hint, 3);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), c);
}
END_TEST

START_TEST(test_hint_skips_full_words_and_wraps)
{
    setup_released();
    /* Fill the first two words (frames 0..127) except frame 5. */
    pmm_reserve_range(&pmm, 0, 128 * FRAME);
    pmm_release_range(&pmm, 5 * FRAME, FRAME);
    /* A multi-frame allocation ending near the top moves the hint there. */
    uint64_t top = pmm_alloc(&pmm, NFRAMES - 128, 1);
    ck_assert_uint_eq(top, 128 * FRAME);
    ck_assert_uint_eq(pmm.hint, NFRAMES);
    /* The only free frame is below the hint: the search wraps to it. */
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), 5 * FRAME);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), 0);
    /* With the hint in a full word, the search moves on to the next words. */
    ck_assert(pmm_free(&pmm, (NFRAMES - 1) * FRAME, 1));
    ck_assert_uint_eq(pmm.hint, 6);
    ck_assert_uint_eq(pmm_alloc(&pmm, 1, 1), (NFRAMES - 1) * FRAME);
    check_consistent();
}
END_TEST

START_TEST(test_partial_last_word_never_allocated)
{
    /* 70 frames: the second word has 6 real frames and 58 padding bits. */
    static uint64_t small[2];
    struct pmm p;
    pmm_init(&p, small, 70);
    pmm_release_range(&p, 0, 1ull << 30);
    ck_assert_uint_eq(p.free, 70);
    pmm_reserve_range(&p, 0, 64 * FRAME);
    for (int i = 0; i < 6; i++) {
        uint64_t a = pmm_alloc(&p, 1, 1);
        ck_assert_uint_ge(a / FRAME, 64);
        ck_assert_uint_lt(a / FRAME, 70);
    }
    ck_assert_uint_eq(pmm_alloc(&p, 1, 1), 0);
    ck_assert_uint_eq(p.free, 0);
}
END_TEST

/* pmm_claim: exactly the frames asked for, all or nothing (the guest pool's
 * GUEST_MEM). */
START_TEST(test_claim)
{
    setup_released();
    pmm_reserve_range(&pmm, 50 * FRAME, FRAME);            /* a hole */
    ck_assert(pmm_claim(&pmm, 10 * FRAME, 5));
    for (uint64_t f = 10; f < 15; f++)
        ck_assert(pmm_is_used(&pmm, f));
    ck_assert(!pmm_is_used(&pmm, 9) && !pmm_is_used(&pmm, 15));
    check_consistent();
    uint64_t free = pmm.free;
    ck_assert(!pmm_claim(&pmm, 14 * FRAME, 2));            /* overlaps a claim */
    ck_assert(!pmm_claim(&pmm, 48 * FRAME, 4));            /* covers the hole */
    ck_assert(!pmm_is_used(&pmm, 48) && !pmm_is_used(&pmm, 49) && !pmm_is_used(&pmm, 51));
    ck_assert(!pmm_claim(&pmm, 20 * FRAME + 1, 1));        /* unaligned */
    ck_assert(!pmm_claim(&pmm, 20 * FRAME, 0));
    ck_assert(!pmm_claim(&pmm, (NFRAMES - 1) * FRAME, 2)); /* past the end */
    ck_assert(!pmm_claim(&pmm, 20 * FRAME, UINT64_MAX));   /* wraps */
    ck_assert(!pmm_claim(&pmm, 0, 1));                     /* reserved frame 0 */
    ck_assert_uint_eq(pmm.free, free);
    ck_assert(pmm_free(&pmm, 10 * FRAME, 5));
    ck_assert(pmm_claim(&pmm, 12 * FRAME, 1));             /* free again */
    check_consistent();
}
END_TEST

static Suite *pmm_suite(void)
{
    Suite *s = suite_create("pmm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_init_all_used);
    tcase_add_test(tc, test_release_whole_frames_only);
    tcase_add_test(tc, test_release_twice_counts_once);
    tcase_add_test(tc, test_release_clamped_and_degenerate);
    tcase_add_test(tc, test_reserve_touching_frames);
    tcase_add_test(tc, test_reserve_degenerate);
    tcase_add_test(tc, test_alloc_single);
    tcase_add_test(tc, test_alloc_exhaustion);
    tcase_add_test(tc, test_alloc_bad_arguments);
    tcase_add_test(tc, test_alloc_contiguous);
    tcase_add_test(tc, test_alloc_contiguous_skips_holes);
    tcase_add_test(tc, test_alloc_alignment);
    tcase_add_test(tc, test_alloc_alignment_with_used_frame_inside);
    tcase_add_test(tc, test_free_rejects_bad_input);
    tcase_add_test(tc, test_free_wrapping_count_when_full);
    tcase_add_test(tc, test_alloc_free_cycles);
    tcase_add_test(tc, test_hint);
    tcase_add_test(tc, test_hint_skips_full_words_and_wraps);
    tcase_add_test(tc, test_partial_last_word_never_allocated);
    tcase_add_test(tc, test_claim);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pmm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
