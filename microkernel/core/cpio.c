/* SPDX-License-Identifier: MIT */
#include "core/cpio.h"

enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR,
       F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK, F_COUNT };

static int hex_field(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p[i], lower = c | 0x20;   /* 'A'..'F' -> 'a'..'f' */
        if (c >= '0' && c <= '9')
            v = (v << 4) | (uint32_t)(c - '0');
        else if (lower >= 'a' && lower <= 'f')
            v = (v << 4) | (uint32_t)(lower - 'a' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t pad4(size_t x) { return (x + 3) & ~(size_t)3; }

#define FAIL(msg) do { *error = (msg); return CPIO_ERROR; } while (0)

int cpio_next(const uint8_t *a, size_t size, size_t *offset, struct cpio_entry *e, const char **error)
{
    size_t off = *offset;
    uint32_t f[F_COUNT];

    if (off > size || size - off < CPIO_HEADER_SIZE)
        FAIL("archive ends without TRAILER!!!");
    if (off & 3)
        FAIL("header not 4-byte aligned");
    const uint8_t *h = a + off;
    if (h[0] != '0' || h[1] != '7' || h[2] != '0' || h[3] != '7' || h[4] != '0' || h[5] != '1')
        FAIL("bad magic (not a newc archive)");
    for (int i = 0; i < F_COUNT; i++)
        if (hex_field(h + 6 + 8 * i, &f[i]))
            FAIL("header field is not 8 hex digits");
    if (f[F_NAMESIZE] < 2 || f[F_NAMESIZE] > CPIO_NAME_MAX)
        FAIL("name size out of range");

    size_t name_off = off + CPIO_HEADER_SIZE;
    if (size - name_off < f[F_NAMESIZE])
        FAIL("name runs past the end of the archive");
    const char *name = (const char *)(a + name_off);
    size_t name_len = f[F_NAMESIZE] - 1;
    if (name[name_len] != 0)
        FAIL("name is not NUL-terminated");
    for (size_t i = 0; i < name_len; i++)
        if (name[i] == 0)
            FAIL("name contains a NUL byte");

    size_t data_off = pad4(name_off + f[F_NAMESIZE]);
    if (data_off > size || size - data_off < f[F_FILESIZE])
        FAIL("file data runs past the end of the archive");

    if (name_len == 10 && __builtin_memcmp(name, "TRAILER!!!", 10) == 0)
        return CPIO_END;

    uint32_t type = f[F_MODE] & CPIO_MODE_TYPE;
    if (type != CPIO_MODE_FILE && type != CPIO_MODE_DIR)
        FAIL("entry is neither a regular file nor a directory");
    if (type == CPIO_MODE_DIR && f[F_FILESIZE] != 0)
        FAIL("directory entry has data");

    e->name = name;
    e->name_len = name_len;
    e->data = a + data_off;
    e->size = f[F_FILESIZE];
    e->mode = f[F_MODE];
    size_t next = pad4(data_off + f[F_FILESIZE]);
    *offset = next > size ? size : next;
    return CPIO_ENTRY;
}
