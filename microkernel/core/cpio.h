/* SPDX-License-Identifier: MIT */
/*
 * Parser for the `newc` cpio format (what `cpio -H newc` writes and Linux
 * reads).  The archive comes from outside the trusted base, so every field
 * is checked before it is used.  Pure logic, shared with the host tests.
 */
#ifndef CORE_CPIO_H
#define CORE_CPIO_H

#include <stdint.h>
#include <stddef.h>

#define CPIO_HEADER_SIZE 110u
#define CPIO_NAME_MAX    4096u
#define CPIO_MODE_TYPE   0170000u
#define CPIO_MODE_FILE   0100000u
#define CPIO_MODE_DIR    0040000u

struct cpio_entry {
    const char *name;      /* NUL-terminated inside the archive */
    size_t name_len;       /* without the NUL */
    const uint8_t *data;
    uint64_t size;
    uint32_t mode;
};

enum cpio_status {
    CPIO_ENTRY = 1,        /* *entry is valid, *offset advanced */
    CPIO_END = 0,          /* the trailer was reached */
    CPIO_ERROR = -1,       /* *error says why; *offset is the bad header */
};

int cpio_next(const uint8_t *archive, size_t size, size_t *offset,
              struct cpio_entry *entry, const char **error);

#endif
