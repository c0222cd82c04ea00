/* SPDX-License-Identifier: MIT */
/*
 * How the VMM hands fw_cfg files to the fwcfg model (servers/vmm/fwcfg.c
 * writes it, servers/devmodel/fwcfg_main.c reads it): one memory object,
 * moved at EXEC with READ | MAP | TRANSFER only, holding
 *
 *   struct fwcfg_files_header                       at offset 0
 *   struct fwcfg_files_entry [count]                right after it
 *   file contents                                   at each entry's offset
 *
 * A memory object rather than argv because files such as etc/e820 (and
 * later ACPI tables) are binary and may be larger than EXEC's 4 KiB argv.
 * The model trusts nothing in it: every offset and size is checked against
 * the object's mapped size before a file is added.
 */
#ifndef DEVMODEL_FWCFG_FILES_H
#define DEVMODEL_FWCFG_FILES_H

#include <stdint.h>

#define FWCFG_FILES_MAGIC     0x73656c6966776643ull   /* "Cfwfiles" */
#define FWCFG_FILES_MAX_BYTES (64u * 4096u)            /* the largest object the model maps */
#define FWCFG_NAME_MAX        56u                      /* QEMU's FWCfgFile.name, with NUL */

struct fwcfg_files_header {
    uint64_t magic;
    uint32_t count;
    uint32_t total_bytes;   /* header, entries and contents */
};

struct fwcfg_files_entry {
    char name[FWCFG_NAME_MAX];
    uint32_t offset;        /* from the start of the object */
    uint32_t size;
};

_Static_assert(sizeof(struct fwcfg_files_header) == 16, "fwcfg files header");
_Static_assert(sizeof(struct fwcfg_files_entry) == 64, "fwcfg files entry");

#endif
