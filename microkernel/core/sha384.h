/* SPDX-License-Identifier: MIT */
/*
 * SHA-384 (FIPS 180-4 §6.5, SHA-512 with other initial values, truncated).
 * The kernel measures the initrd with it; TDX RTMRs use the same hash.
 * Pure logic; the host tests compare it with mbedtls.
 */
#ifndef CORE_SHA384_H
#define CORE_SHA384_H

#include <stdint.h>
#include <stddef.h>

#define SHA384_DIGEST_SIZE 48

void sha384(const void *data, size_t len, uint8_t out[SHA384_DIGEST_SIZE]);

#endif
