/* SPDX-License-Identifier: MIT */
/*
 * Guest image loading: `flat` binaries and multiboot v1 images (ELF32 or the
 * a.out kludge), multiboot modules, plus the multiboot information structure
 * the guest finds through EBX.
 *
 * Validation comes first, so that a malformed image is refused before any VM
 * exists:
 *   loader_parse()      validates the image against the RAM size and
 *                       describes what goes where (struct loader_plan);
 *   loader_place()      places the modules and the boot information after
 *                       the image, as QEMU's multiboot loader does (each
 *                       page-aligned, in that order, skipping the legacy
 *                       hole at 0x9FC00-0xFFFFF), so an image may load
 *                       itself anywhere in RAM, low memory included;
 *   loader_load()       copies the segments into RAM and zeroes their BSS;
 *   loader_boot_info()  copies the modules and writes the information.
 * All four are pure: no syscalls, no allocation; they build on the host for
 * tests/unit/test_loader.c and tests/fuzz/loader_fuzz.c.  Every read of the
 * image is bounded by its size and every write by the RAM size.
 *
 * References: the Multiboot Specification version 0.6.96 (§3.1 the header,
 * §3.2 machine state, §3.3 boot information), and the System V ABI / Intel
 * 386 supplement for the ELF32 header and program headers.
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define LOADER_FLAT_GPA        0x100000u    /* where a flat binary goes and starts */
#define LOADER_SEGMENTS_MAX    16u          /* PT_LOAD segments of one ELF image */
#define LOADER_PHDRS_MAX       64u          /* program headers looked at, all types */
#define LOADER_MB_SEARCH       8192u        /* the header lies in the first 8 KiB (§3.1) */
#define LOADER_MESSAGE_MAX     160u

#define LOADER_MODULES_MAX     8u
#define LOADER_STRING_MAX      4096u        /* bytes of a command line or module string, with NUL */

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u  /* EAX at entry */

/* Multiboot header flags (§3.1.2).  Bits 0-15 are "required": a loader that
 * does not support one must refuse the image. */
#define MULTIBOOT_PAGE_ALIGN   (1u << 0)   /* modules page-aligned (they always are) */
#define MULTIBOOT_MEMORY_INFO  (1u << 1)   /* mem_* fields wanted: always given */
#define MULTIBOOT_VIDEO_MODE   (1u << 2)   /* video mode table: not supported */
#define MULTIBOOT_AOUT_KLUDGE  (1u << 16)  /* load addresses are in the header */
#define MULTIBOOT_SUPPORTED    (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_AOUT_KLUDGE)

/* Multiboot information flags (§3.3). */
#define MULTIBOOT_INFO_MEMORY      (1u << 0)
#define MULTIBOOT_INFO_CMDLINE     (1u << 2)
#define MULTIBOOT_INFO_MODS        (1u << 3)
#define MULTIBOOT_INFO_MEM_MAP     (1u << 6)
#define MULTIBOOT_INFO_LOADER_NAME (1u << 9)

/* The fixed part of the multiboot information (§3.3), up to boot_loader_name. */
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;   /* KiB below 640 KiB / above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
};
_Static_assert(sizeof(struct multiboot_info) == 68, "multiboot info up to boot_loader_name");

/* A memory map entry (§3.3): `size` does not count itself. */
struct multiboot_mmap_entry {
    uint32_t size;                   /* 20 */
    uint64_t addr, len;
    uint32_t type;                   /* 1 available, 2 reserved */
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "multiboot mmap entry");

/* A module list entry (§3.3): [mod_start, mod_end) and its string. */
struct multiboot_module {
    uint32_t mod_start, mod_end;
    uint32_t string;
    uint32_t reserved;
};
_Static_assert(sizeof(struct multiboot_module) == 16, "multiboot module entry");

enum loader_status {
    LOADER_OK = 0,
    LOADER_EINVAL,        /* NULL arguments, RAM size zero or not page-aligned */
    LOADER_EEMPTY,        /* an empty image */
    LOADER_ENO_HEADER,    /* no multiboot header in the first 8 KiB */
    LOADER_EHEADER,       /* the header is there but bad (checksum, flags, a.out fields) */
    LOADER_EELF,          /* not a usable ELF32 executable */
    LOADER_ERANGE,        /* something lies outside the file or outside guest RAM */
    LOADER_ENOSPACE,      /* modules and boot information do not fit after the image */
    LOADER_ETOO_MANY,     /* more segments than LOADER_SEGMENTS_MAX */
};

struct loader_error {
    enum loader_status status;
    char message[LOADER_MESSAGE_MAX];    /* what is wrong, NUL-terminated; "" on success */
};

/* Copy file bytes [file_offset, + file_size) to gpa, then zero up to mem_size. */
struct loader_segment {
    uint64_t file_offset, file_size;
    uint64_t gpa, mem_size;
};

struct loader_plan {
    enum vmm_guest_format format;
    unsigned nsegments;
    struct loader_segment segments[LOADER_SEGMENTS_MAX];
    uint64_t entry;              /* guest-physical entry point, < 4 GiB */
    bool multiboot;              /* EAX/EBX get the multiboot values */
    bool aout_kludge;            /* loaded by the header's addresses, not ELF */
    uint32_t header_offset;      /* of the multiboot header in the file */
    uint32_t header_flags;
};

/*
 * Validate `size` bytes of `image` as `format` for a guest with `ram_size`
 * bytes of RAM at GPA 0, and describe how to load it in *plan.
 * Returns LOADER_OK, or an error described in *error (plan then unusable).
 */
enum loader_status loader_parse(const uint8_t *image, size_t size,
                                enum vmm_guest_format format, uint64_t ram_size,
                                struct loader_plan *plan, struct loader_error *error);

/* Copy a plan loader_parse() accepted for this image and RAM size into
 * `ram` (ram_size bytes, GPA 0 at ram[0]). */
void loader_load(const struct loader_plan *plan, const uint8_t *image, size_t size,
                 uint8_t *ram, uint64_t ram_size);

/* A module: its bytes and its string (the path and arguments, as GRUB and
 * QEMU give them); NUL-terminated within LOADER_STRING_MAX bytes. */
struct loader_module {
    const uint8_t *data;
    uint64_t size;
    const char *string;
};

/* Where loader_place() put the modules and the boot information. */
struct loader_layout {
    unsigned nmodules;
    uint64_t module_gpa[LOADER_MODULES_MAX];
    uint64_t info_gpa, info_size;   /* the boot information area, page-aligned */
};

/*
 * Place `nmodules` modules and the boot information (with `cmdline`, NULL or
 * "" for none) for the multiboot image `plan` describes in a guest with
 * `ram_size` bytes of RAM.  Returns LOADER_OK, or LOADER_ENOSPACE or
 * LOADER_EINVAL described in *error.
 */
enum loader_status loader_place(const struct loader_plan *plan, uint64_t ram_size,
                                const struct loader_module *modules, unsigned nmodules,
                                const char *cmdline, struct loader_layout *layout,
                                struct loader_error *error);

/*
 * Copy the modules to where `layout` (from loader_place() with the same
 * modules, command line and RAM size) puts them, and write the multiboot
 * information: memory sizes, the memory map, the command line, the module
 * list and the loader name.  Returns the GPA of the structure (the EBX
 * value), or 0 if `layout` does not fit `ram_size`.
 */
uint32_t loader_boot_info(uint8_t *ram, uint64_t ram_size, const struct loader_layout *layout,
                          const struct loader_module *modules, const char *cmdline);

const char *loader_status_name(enum loader_status status);

/* Record `status` and its printf-formatted message in *error; returns
 * `status` (also for bzimage.c). */
enum loader_status loader_fail(struct loader_error *error, enum loader_status status,
                               const char *format, ...) __attribute__((format(printf, 3, 4)));

#endif
