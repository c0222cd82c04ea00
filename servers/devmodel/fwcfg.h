/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration device (fw_cfg), I/O-port interface: the
 * register logic of the `fwcfg` model (fwcfg_main.c), pure C so that
 * tests/unit/test_fwcfg.c builds it on the host.
 *
 * Ports (QEMU docs/specs/fw_cfg.rst, as its pc machine places them):
 *   0x510  selector: a 16-bit OUT selects an item and rewinds its offset
 *   0x511  data: an 8-bit IN reads the item's next byte
 * QEMU maps both as one 2-port region whose 8-bit reads are data reads at
 * either port and whose 16-bit writes at 0x510 select; its memory core
 * refuses the other accesses (reads give 0 and move nothing, writes are
 * dropped, a 16-bit write at 0x511 selects nothing: checked on QEMU 7.2
 * with tests/guests/fwcfg.c).  This model does the same.
 *
 * Items: 0x0000 signature "QEMU", 0x0001 ID (bit 0: the traditional
 * interface; no DMA, so bit 1 is clear), 0x0002 UUID (zeros), 0x0003 RAM
 * size (le64), 0x0004 nographic (le16 1: no display), 0x0005 NB_CPUS and
 * 0x000f MAX_CPUS (le16), 0x000e boot menu (le16 0), 0x0019 the file
 * directory, 0x0020.. the files.  Bit 15 of a key selects the
 * architecture-local set (empty here), bit 14 (write channel) is ignored;
 * a key at or above 0x20 + FWCFG_FILE_SLOTS selects nothing.  Reads of a
 * missing item or past an item's end give 0.
 *
 * The directory is QEMU's FWCfgFiles: a big-endian 32-bit count, then one
 * 64-byte entry per slot (big-endian 32-bit size, big-endian 16-bit key, 16
 * reserved bits, a 56-byte NUL-terminated name), sorted by name as QEMU's
 * pc machines (since 2.x) sort it; its length covers every slot, used or
 * not, as QEMU's does.
 */
#ifndef DEVMODEL_FWCFG_H
#define DEVMODEL_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "fwcfg_files.h"

#define FWCFG_PORT_BASE     0x510u
#define FWCFG_PORTS         2u

#define FWCFG_SIGNATURE     0x0000u
#define FWCFG_ID            0x0001u
#define FWCFG_UUID          0x0002u
#define FWCFG_RAM_SIZE      0x0003u
#define FWCFG_NOGRAPHIC     0x0004u
#define FWCFG_NB_CPUS       0x0005u
#define FWCFG_BOOT_MENU     0x000eu
#define FWCFG_MAX_CPUS      0x000fu
#define FWCFG_FILE_DIR      0x0019u
#define FWCFG_FILE_FIRST    0x0020u
#define FWCFG_FILE_SLOTS    0x0020u   /* QEMU's default x-file-slots */
#define FWCFG_ITEMS         (FWCFG_FILE_FIRST + FWCFG_FILE_SLOTS)
#define FWCFG_ARCH_LOCAL    0x8000u
#define FWCFG_ENTRY_MASK    0x3fffu
#define FWCFG_ID_TRADITIONAL 0x1u

#define FWCFG_DIR_ENTRY_SIZE 64u
#define FWCFG_DIR_SIZE      (4u + FWCFG_DIR_ENTRY_SIZE * FWCFG_FILE_SLOTS)

struct fwcfg_item {
    const uint8_t *data;          /* NULL: no such item */
    uint32_t len;
};

struct fwcfg {
    struct fwcfg_item items[2][FWCFG_ITEMS];   /* [arch-local][key & mask] */
    bool selected;                /* false: the last key selected nothing */
    uint16_t key;
    uint32_t offset;
    unsigned nfiles;

    /* Storage of the numeric items and the directory (little-endian items
     * as QEMU's fw_cfg_add_i16/i32/i64 store them). */
    uint8_t id[4], uuid[16], ram_size[8], nographic[2], nb_cpus[2], max_cpus[2], boot_menu[2];
    uint8_t dir[FWCFG_DIR_SIZE];
};

/* The items every pc machine has, for `ncpus` VCPUs and `ram_bytes` of RAM;
 * the signature is selected, as after QEMU's reset. */
void fwcfg_init(struct fwcfg *c, unsigned ncpus, uint64_t ram_bytes);

/* Add file `name` (1..55 bytes) with `len` bytes at `data` (kept, not
 * copied); returns its key, or -1 if the name is empty, too long or taken,
 * or every slot is used.  Keys of files after it in name order move up. */
int fwcfg_add_file(struct fwcfg *c, const char *name, const uint8_t *data, uint32_t len);

/* Select `key` and rewind (the selector port). */
void fwcfg_select(struct fwcfg *c, uint16_t key);

/* The next byte of the selected item (the data port); 0 past its end. */
uint8_t fwcfg_read_byte(struct fwcfg *c);

/* A guest access at FWCFG_PORT_BASE + offset (offset 0 or 1). */
uint64_t fwcfg_io_read(struct fwcfg *c, unsigned offset, unsigned size);
void fwcfg_io_write(struct fwcfg *c, unsigned offset, unsigned size, uint64_t value);

#endif
