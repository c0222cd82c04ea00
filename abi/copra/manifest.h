/* SPDX-License-Identifier: MIT */
/*
 * The measurement manifest stored in the initrd as COPRA_MANIFEST_PATH.
 * The host packer (initrd/mkinitrd) writes one record per file with the
 * file's SHA-384; the kernel checks every file against it at boot and
 * prints the SHA-384 of the whole manifest, which therefore measures the image.
 */
#ifndef COPRA_ABI_MANIFEST_H
#define COPRA_ABI_MANIFEST_H

#include "types.h"

#define COPRA_MANIFEST_PATH     "copra.manifest"
#define COPRA_MANIFEST_MAGIC    0x314e4d4152504f43ull /* "COPRAMN1", little endian */
#define COPRA_MANIFEST_VERSION  1u
#define COPRA_MANIFEST_NAME_MAX 96u  /* bytes, including the terminating NUL */
#define COPRA_SHA384_SIZE       48u

struct copra_manifest_header {
    uint64_t magic;
    uint32_t version;
    uint32_t count;       /* number of entries that follow */
};
COPRA_STATIC_ASSERT(sizeof(struct copra_manifest_header) == 16, "manifest header");

struct copra_manifest_entry {
    uint8_t  sha384[COPRA_SHA384_SIZE];
    uint64_t size;                        /* file size in bytes */
    char     name[COPRA_MANIFEST_NAME_MAX]; /* NUL-terminated, NUL-padded */
};
COPRA_STATIC_ASSERT(sizeof(struct copra_manifest_entry) == 152, "manifest entry");

#endif
