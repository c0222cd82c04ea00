/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests (Check) for microkernel/core/sha384.c: the FIPS 180-4
 * example vectors and agreement with mbedtls (an independent implementation)
 * on pseudo-random inputs of every length around the block and padding
 * boundaries.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#include "core/sha384.h"

static void reference_sha384(const uint8_t *data, size_t len, uint8_t out[64])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    ck_assert_int_eq(mbedtls_sha512(data, len, out, 1), 0);
#else
    ck_assert_int_eq(mbedtls_sha512_ret(data, len, out, 1), 0);
#endif
}

static void hex(const uint8_t *digest, char out[2 * SHA384_DIGEST_SIZE + 1])
{
    for (int i = 0; i < SHA384_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static void ck_digest_hex(const uint8_t *digest, const char *expect)
{
    char text[2 * SHA384_DIGEST_SIZE + 1];
    hex(digest, text);
    ck_assert_str_eq(text, expect);
}

/* Deterministic bytes (xorshift64), so a failure is reproducible. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(rng() >> 32);
}

/* FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values",
 * SHA-384), plus the widely published empty-string and million-'a' digests. */
static const char ABC[] = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                          "8086072ba1e7cc2358baeca134c825a7";
static const char EMPTY[] = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
                            "274edebfe76f65fbd51ad2f14898b95b";
static const char MSG896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                             "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
static const char MSG896_DIGEST[] = "09330c33f71147e83d192fc782cd1b4753111b173b3b05d2"
                                    "2fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039";
static const char MSG448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char MSG448_DIGEST[] = "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05ab"
                                    "fe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b";
static const char MILLION_A[] = "9d0e1809716474cb086e834e310a4a1ced149e9c00f24852"
                                "7972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985";

START_TEST(test_fips_abc)
{
    uint8_t d[SHA384_DIGEST_SIZE];
    sha384("abc", 3, d);
    ck_digest_hex(d, ABC);
}
END_TEST

START_TEST(test_fips_empty)
{
    uint8_t d[SHA384_DIGEST_SIZE];
    sha384("", 0, d);
    ck_digest_hex(d, EMPTY);
    /* A NULL pointer with length 0 is an empty message too. */
    sha384(NULL, 0, d);
    ck_digest_hex(d, EMPTY);
}
END_TEST

START_TEST(test_fips_two_block)
{
    /* 896 bits = 112 bytes: the length no longer fits, so padding spills
     * into a second block. */
    ck_assert_uint_eq(strlen(MSG896), 112);
    uint8_t d[SHA384_DIGEST_SIZE];
    sha384(MSG896, 112, d);
    ck_digest_hex(d, MSG896_DIGEST);
    ck_assert_uint_eq(strlen(MSG448), 56);
    sha384(MSG448, 56, d);
    ck_digest_hex(d, MSG448_DIGEST);
}
END_TEST

START_TEST(test_million_a)
{
    static uint8_t buf[1000000];
    memset(buf, 'a', sizeof buf);
    uint8_t d[SHA384_DIGEST_SIZE];
    sha384(buf, sizeof buf, d);
    ck_digest_hex(d, MILLION_A);
}
END_TEST

START_TEST(test_matches_mbedtls)
{
    static uint8_t buf[1001];
    for (size_t len = 0; len <= 1000; len++) {
        fill_random(buf, len);
        uint8_t ours[SHA384_DIGEST_SIZE], ref[64];
        sha384(buf, len, ours);
        reference_sha384(buf, len, ref);
        ck_assert_msg(memcmp(ours, ref, SHA384_DIGEST_SIZE) == 0, "length %zu differs", len);
    }
}
END_TEST

START_TEST(test_matches_mbedtls_patterns)
{
    /* All-zero and all-one bytes at lengths around the block and padding
     * boundaries, where carries in the message schedule differ from random data. */
    static uint8_t buf[4 * 128 + 1];
    static const uint8_t fills[] = { 0x00, 0xff, 0x80, 0x01 };
    for (size_t f = 0; f < sizeof fills; f++) {
        memset(buf, fills[f], sizeof buf);
        for (size_t len = 0; len <= sizeof buf; len++) {
            uint8_t ours[SHA384_DIGEST_SIZE], ref[64];
            sha384(buf, len, ours);
            reference_sha384(buf, len, ref);
            ck_assert_msg(memcmp(ours, ref, SHA384_DIGEST_SIZE) == 0, "fill %02x length %zu",
                          fills[f], len);
        }
    }
}
END_TEST

START_TEST(test_single_bit_changes_digest)
{
    static uint8_t buf[300];
    fill_random(buf, sizeof buf);
    uint8_t base[SHA384_DIGEST_SIZE];
    sha384(buf, sizeof buf, base);
    for (size_t bit = 0; bit < sizeof buf * 8; bit += 37) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint8_t d[SHA384_DIGEST_SIZE];
        sha384(buf, sizeof buf, d);
        ck_assert(memcmp(d, base, sizeof d) != 0);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}
END_TEST

static Suite *sha384_suite(void)
{
    Suite *s = suite_create("sha384");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fips_abc);
    tcase_add_test(tc, test_fips_empty);
    tcase_add_test(tc, test_fips_two_block);
    tcase_add_test(tc, test_million_a);
    tcase_add_test(tc, test_matches_mbedtls);
    tcase_add_test(tc, test_matches_mbedtls_patterns);
    tcase_add_test(tc, test_single_bit_changes_digest);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sha384_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
