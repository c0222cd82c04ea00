/* SPDX-License-Identifier: MIT */
/* The boot image: read-only file objects parsed from the cpio module. */
#ifndef CORE_INITRD_H
#define CORE_INITRD_H

#include "core/kernel.h"
#include "core/object.h"

struct initrd_file {
    struct kobject obj;        /* lives forever: the initrd holds a reference */
    const char *name;
    size_t name_len;
    const uint8_t *data;
    uint64_t size;
};

/* Parses and verifies the archive; stops the system with a boot error naming
 * the bad entry if anything is malformed or does not match the manifest. */
void initrd_init(const uint8_t *archive, size_t size);
/* `path` need not be NUL-terminated; one leading '/' is ignored. */
struct initrd_file *initrd_find(const char *path, size_t len);
extern uint8_t initrd_manifest_sha384[48];

#endif
