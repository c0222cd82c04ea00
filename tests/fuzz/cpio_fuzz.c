/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the kernel's newc parser (microkernel/core/cpio.c).
 * Walks every entry with cpio_next() until END or ERROR.  Besides memory
 * errors, it traps when a result breaks the parser's contract: an entry's
 * name or data outside the input, an offset that does not move forward, an
 * error without a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *end = data + size;
    size_t offset = 0;
    for (;;) {
        size_t before = offset;
        struct cpio_entry e;
        const char *error = NULL;
        int status = cpio_next(data, size, &offset, &e, &error);
        if (status == CPIO_END) {
            if (offset != before || before % 4 || size - before < CPIO_HEADER_SIZE)
                __builtin_trap();
            return 0;
        }
        if (status == CPIO_ERROR) {
            if (offset != before || !error || error[0] == '\0')
                __builtin_trap();
            return 0;
        }
        if (status != CPIO_ENTRY)
            __builtin_trap();

        /* The header was inside the input and 4-byte aligned. */
        if (before % 4 || before > size || size - before < CPIO_HEADER_SIZE)
            __builtin_trap();
        /* The name follows the header, lies inside the input, ends in its
         * NUL and holds no other. */
        const uint8_t *name = (const uint8_t *)e.name;
        if (name != data + before + CPIO_HEADER_SIZE)
            __builtin_trap();
        if (e.name_len == 0 || e.name_len >= CPIO_NAME_MAX || (size_t)(end - name) <= e.name_len)
            __builtin_trap();
        if (name[e.name_len] != '\0' || memchr(name, '\0', e.name_len) != NULL)
            __builtin_trap();
        /* The data starts after the name, 4-byte aligned, and ends inside the input. */
        if (e.data < name + e.name_len + 1 || e.data > end || (size_t)(e.data - data) % 4)
            __builtin_trap();
        if (e.size > (uint64_t)(end - e.data))
            __builtin_trap();
        uint32_t type = e.mode & CPIO_MODE_TYPE;
        if (type != CPIO_MODE_FILE && type != CPIO_MODE_DIR)
            __builtin_trap();
        if (type == CPIO_MODE_DIR && e.size != 0)
            __builtin_trap();
        /* Progress: the next header is past this entry's data, inside the input. */
        if (offset <= before || offset > size || offset < (size_t)(e.data - data) + e.size)
            __builtin_trap();
        /* Read every byte handed out, so ASan checks the bounds too. */
        uint8_t x = 0;
        for (uint64_t i = 0; i < e.size; i++)
            x ^= e.data[i];
        sink = x;
    }
}
