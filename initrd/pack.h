/* SPDX-License-Identifier: MIT */
/*
 * Host-side initrd packing: list-file parsing, file validation (ELF policy,
 * initrd path rules), the measurement manifest (abi/copra/manifest.h) and a
 * `newc` cpio writer.  copra-mkinitrd is a thin main() over this; the unit
 * test tests/unit/test_pack.c links the same code.
 */
#ifndef COPRA_INITRD_PACK_H
#define COPRA_INITRD_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <copra/manifest.h>

#define PACK_ERROR_MAX 1024u

/* A formatted message, "<where>: <reason>", filled in by a failing call. */
struct pack_error {
    char text[PACK_ERROR_MAX];
};

/* One -D NAME=VALUE: @NAME@ in a source path expands to VALUE. */
struct pack_define {
    const char *name;
    const char *value;
};

struct pack_entry {
    char           name[COPRA_MANIFEST_NAME_MAX]; /* path inside the initrd */
    char          *source;                         /* host path, expanded */
    unsigned       line;                           /* line in the list file */
    unsigned char *data;                           /* set by pack_list_load() */
    size_t         size;
    bool           is_elf;
    bool           guest_image;                    /* "guest" column: see pack_list_parse */
    uint8_t        sha384[COPRA_SHA384_SIZE];
};

struct pack_list {
    struct pack_entry *entries;
    size_t             count;
    size_t             capacity;
};

/* A growable byte buffer; the archive is built in memory, then written. */
struct pack_buffer {
    unsigned char *data;
    size_t         length;
    size_t         capacity;
};

void pack_list_init(struct pack_list *list);
void pack_list_free(struct pack_list *list);

/*
 * Parse a list file's text: lines "<initrd-path> <source-file> [guest]",
 * blank lines and '#' comments (a token starting with '#' ends the line).
 * `guest` marks a guest image: data the VMM loads into a VM (a multiboot
 * ELF32, a flat binary), never a Copra program, so the program ELF policy
 * (pack_elf_check) is not applied to it; it is measured like every file.  @NAME@ in a
 * source is replaced from `defines` (an unknown NAME is an error); a relative
 * source, after expansion, is taken relative to `list_dir`.  Entries are
 * appended to `list` in file order.  `list_name` only labels error messages.
 * Returns 0, or -1 with `error` set.
 */
int pack_list_parse(struct pack_list *list, const char *text, size_t length,
                    const char *list_name, const char *list_dir,
                    const struct pack_define *defines, size_t define_count,
                    struct pack_error *error);

/* Append one entry after checking its initrd path (pack_path_check) and
 * that it is not already in the list.  `line` only labels messages. */
int pack_list_add(struct pack_list *list, const char *name, const char *source,
                  unsigned line, struct pack_error *error);

/*
 * Read every entry's source, apply the ELF policy to files that start with
 * the ELF magic, and hash each file.  Returns 0, or -1 with `error` set to
 * "<source>: <reason>".
 */
int pack_list_load(struct pack_list *list, struct pack_error *error);

/* NULL when `path` is acceptable inside the initrd, else the reason. */
const char *pack_path_check(const char *path);

/* True when the data starts with the 4-byte ELF magic. */
bool pack_is_elf(const void *data, size_t size);

/*
 * The ELF policy for programs in the initrd: ELFCLASS64, little-endian,
 * EM_X86_64, ET_EXEC, no PT_INTERP and no PT_DYNAMIC, no PT_LOAD both
 * writable and executable, every segment inside the file, the entry point
 * inside an executable PT_LOAD.  Returns 0, or -1 with the reason in
 * `reason`.
 */
int pack_elf_check(const void *data, size_t size, char *reason, size_t reason_size);

void pack_sha384(const void *data, size_t size, uint8_t out[COPRA_SHA384_SIZE]);

void pack_buffer_free(struct pack_buffer *buffer);

/* The manifest: a copra_manifest_header, then one entry per list entry,
 * in list order.  Entries must have been loaded.  Returns 0 or -1 (ENOMEM). */
int pack_manifest_build(const struct pack_list *list, struct pack_buffer *out);

/* Append one newc record (regular file; uid, gid, mtime 0, nlink 1). */
int pack_cpio_append(struct pack_buffer *out, uint32_t ino, uint32_t mode,
                     const char *name, const void *data, size_t size);

/* Append the "TRAILER!!!" record that ends a newc archive. */
int pack_cpio_finish(struct pack_buffer *out);

#define PACK_MODE_DATA 0100644u
#define PACK_MODE_EXEC 0100755u

/*
 * The whole image: the manifest as the first record (ino 1, under
 * COPRA_MANIFEST_PATH), then every entry in list order (ino 2, 3, ...),
 * then the trailer.  The SHA-384 of the manifest goes to `manifest_sha384`.
 * The output depends only on the names and contents of the files.
 */
int pack_image_build(const struct pack_list *list, struct pack_buffer *out,
                     uint8_t manifest_sha384[COPRA_SHA384_SIZE],
                     struct pack_error *error);

#endif
