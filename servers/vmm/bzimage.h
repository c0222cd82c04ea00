/* SPDX-License-Identifier: MIT */
/*
 * Linux guests: a bzImage loaded by the x86 boot protocol, as QEMU's -kernel
 * and GRUB's `linux` command load it, entered at its 32-bit entry point.
 *
 *   bzimage_parse()        checks the setup header (boot flag, "HdrS",
 *                          protocol 2.10 or later, LOADED_HIGH, the
 *                          protected-mode code inside the file) and decides
 *                          where the kernel goes: pref_address for a
 *                          relocatable kernel, else 1 MiB, with init_size
 *                          bytes of RAM free from there (the decompressor's
 *                          working area);
 *   bzimage_place_initrd() puts the initramfs at the top of RAM below
 *                          initrd_addr_max and above the kernel's area;
 *   bzimage_load()         copies the kernel and the initramfs, and writes
 *                          the boot GDT, the command line and boot_params
 *                          ("the zero page": the setup header from the
 *                          image, the e820 map, ramdisk fields, the RSDP).
 *
 * Guest-physical layout below 1 MiB (all under 0x9F000, the page below the EBDA):
 *   0x6000  the boot GDT: __BOOT_CS (0x10) and __BOOT_DS (0x18), flat
 *   0x7000  boot_params (4 KiB), ESI at entry
 *   0x20000 the command line (at most cmdline_size bytes with NUL)
 * The e820 map marks 0x9F000-0xA0000 and BZIMAGE_ACPI_GPA-1 MiB reserved
 * (the ACPI tables the VMM builds live there) and all other RAM usable.
 *
 * Pure like loader.c (no syscalls, no allocation), for tests/unit and
 * tests/fuzz.  Every field read from the image is checked before use.
 *
 * Reference: Documentation/arch/x86/boot.rst in Linux ("The Linux/x86 Boot
 * Protocol"): the setup header from offset 0x1F1, "32-bit boot protocol",
 * and Documentation/arch/x86/zero-page.rst for boot_params offsets.
 */
#ifndef VMM_BZIMAGE_H
#define VMM_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

#define BZIMAGE_GDT_GPA         0x6000u
#define BZIMAGE_PARAMS_GPA      0x7000u
#define BZIMAGE_CMDLINE_GPA     0x20000u
#define BZIMAGE_ACPI_GPA        0xE0000u     /* ACPI tables, up to 1 MiB */
#define BZIMAGE_ACPI_SIZE       0x20000u
#define BZIMAGE_RAM_MAX         0xC0000000ull /* RAM below the PCI hole (3 GiB) */
#define BZIMAGE_BOOT_CS         0x10u
#define BZIMAGE_BOOT_DS         0x18u

/* Setup header offsets in the image and in boot_params (boot.rst). */
#define BZ_SETUP_SECTS          0x1F1u
#define BZ_BOOT_FLAG            0x1FEu   /* 0xAA55 */
#define BZ_JUMP                 0x200u   /* jmp short: its byte at 0x201 ends the header */
#define BZ_HEADER               0x202u   /* "HdrS" */
#define BZ_VERSION              0x206u
#define BZ_TYPE_OF_LOADER       0x210u
#define BZ_LOADFLAGS            0x211u
#define BZ_CODE32_START         0x214u
#define BZ_RAMDISK_IMAGE        0x218u
#define BZ_RAMDISK_SIZE         0x21Cu
#define BZ_HEAP_END_PTR         0x224u
#define BZ_CMD_LINE_PTR         0x228u
#define BZ_INITRD_ADDR_MAX      0x22Cu
#define BZ_KERNEL_ALIGNMENT     0x230u
#define BZ_RELOCATABLE          0x234u
#define BZ_XLOADFLAGS           0x236u
#define BZ_CMDLINE_SIZE         0x238u
#define BZ_PREF_ADDRESS         0x258u
#define BZ_INIT_SIZE            0x260u
#define BZ_HEADER_MIN_END       0x264u   /* through init_size: protocol 2.10 */

/* boot_params fields outside the setup header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR       0x070u
#define BP_EXT_RAMDISK_IMAGE    0x0C0u
#define BP_EXT_RAMDISK_SIZE     0x0C4u
#define BP_EXT_CMD_LINE_PTR     0x0C8u
#define BP_E820_ENTRIES         0x1E8u
#define BP_E820_TABLE           0x2D0u
#define BP_E820_MAX             128u

#define BZ_LOADED_HIGH          0x01u    /* loadflags bit 0: a bzImage */
#define BZ_VERSION_MIN          0x020Au  /* 2.10: pref_address, init_size */
#define BZ_LOADER_UNDEFINED     0xFFu    /* type_of_loader: not an assigned ID */

/* An e820 entry as boot_params holds it. */
struct bzimage_e820 {
    uint64_t addr, size;
    uint32_t type;                /* 1 usable RAM, 2 reserved */
} __attribute__((packed));
_Static_assert(sizeof(struct bzimage_e820) == 20, "e820 entry (zero-page.rst)");

struct bzimage_plan {
    uint16_t version;             /* boot protocol, 0x020F = 2.15 */
    uint64_t setup_size;          /* the real-mode part: (setup_sects + 1) * 512 */
    uint64_t header_end;          /* offset just past the setup header */
    uint64_t kernel_offset, kernel_size;  /* the protected-mode part in the file */
    uint64_t load_gpa;            /* where it goes; also the 32-bit entry */
    uint64_t init_size;           /* RAM it needs from load_gpa on */
    uint64_t initrd_max;          /* highest byte an initramfs may use (initrd_addr_max) */
    uint64_t cmdline_max;         /* bytes of command line with its NUL */
    uint64_t initrd_gpa, initrd_size;   /* bzimage_place_initrd() */
};

/*
 * Validate `size` bytes of `image` as a bzImage for a guest with `ram_size`
 * bytes of RAM at GPA 0, with command line `cmdline`; fills *plan.
 * Returns LOADER_OK or an error described in *error.
 */
enum loader_status bzimage_parse(const uint8_t *image, size_t size, uint64_t ram_size,
                                 const char *cmdline, struct bzimage_plan *plan,
                                 struct loader_error *error);

/* Place an initramfs of `initrd_size` bytes (0: none); LOADER_OK or
 * LOADER_ENOSPACE described in *error. */
enum loader_status bzimage_place_initrd(struct bzimage_plan *plan, uint64_t ram_size,
                                        uint64_t initrd_size, struct loader_error *error);

/*
 * Copy the kernel and the initramfs into `ram` (ram_size bytes, GPA 0 at
 * ram[0]) by a plan bzimage_parse() and bzimage_place_initrd() accepted,
 * and write the boot GDT, the command line and boot_params; `rsdp_gpa` (0:
 * none) goes into boot_params.acpi_rsdp_addr.  Returns the GPA of
 * boot_params (ESI at entry), or 0 if the plan does not fit.
 */
uint64_t bzimage_load(const struct bzimage_plan *plan, const uint8_t *image, size_t size,
                      const uint8_t *initrd, uint8_t *ram, uint64_t ram_size,
                      const char *cmdline, uint64_t rsdp_gpa);

/* The e820 map for `ram_size` bytes with the ACPI tables at `acpi_gpa`
 * (BZIMAGE_ACPI_SIZE bytes at the top of RAM, if it is above 1 MiB; else
 * at BZIMAGE_ACPI_GPA); returns the number of entries (<= 4). */
unsigned bzimage_e820(uint64_t ram_size, uint64_t acpi_gpa, struct bzimage_e820 *map);

#endif
