/* SPDX-License-Identifier: MIT */
/*
 * The VM description the VMM reads at boot (default initrd path "vmm.conf").
 *
 * Text, one directive per line; tokens are separated by spaces or tabs; a
 * token starting with '#' begins a comment running to the end of the line;
 * blank lines are ignored; "\r\n" line ends are accepted.  Double quotes
 * make blanks and '#' part of a token and are dropped from its value:
 * cmdline="console=ttyS0 quiet" is one token; there is no escape, so no
 * value holds '"'.
 *
 *   server <initrd-path> [arg ...]   start this server with EXEC
 *   memory <size>                    guest RAM: decimal or 0x-hex bytes,
 *                                    optional suffix K, M or G (x1024^n,
 *                                    either case); nonzero, multiple of 4 KiB
 *   vcpus <n>                        1 .. VMM_CONFIG_VCPUS_MAX
 *   guest <initrd-path> <format> [option ...]
 *                                    format: flat | multiboot | linux;
 *                                    options:
 *                                    cmdline=<text>  the guest's command
 *                                      line (multiboot, linux; quote it
 *                                      for spaces; at most
 *                                      VMM_CONFIG_CMDLINE_MAX bytes);
 *                                    initrd=<initrd-path>  a Linux
 *                                      guest's initramfs (linux only);
 *                                    aps=sipi|entry  application processors
 *                                      wait for INIT/SIPI (default, as on a
 *                                      PC) or start at the entry with EBX =
 *                                      VCPU index;
 *                                    expect=shutdown|halt  the VM stopping
 *                                      by a triple fault (shutdown) or by
 *                                      HLT with interrupts off (halt) is
 *                                      the expected outcome: exit status 0
 *   module <initrd-path> [cmdline=<text>]
 *                                    a multiboot module, in file order; the
 *                                    guest sees the string "<initrd-path>
 *                                    <text>" (as GRUB and QEMU give it)
 *   device <name> [key=value ...]    key non-empty; value may be empty
 *
 * `memory`, `vcpus` and `guest` may appear at most once.  `server`,
 * `module` and `device` entries keep their file order.
 *
 * The parser is pure: no syscalls, no allocation, no libc; it builds on the
 * host (unit test, fuzzer) and in libcoco programs alike.  It reads exactly
 * `len` bytes and never past them; the text need not be NUL-terminated.
 */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_CONFIG_TOKEN_MAX      127u /* bytes of one token, without NUL */
#define VMM_CONFIG_CMDLINE_MAX    2047u /* bytes of a command line, without NUL (Linux: 2048 with it) */
#define VMM_CONFIG_QUOTED_MAX     (VMM_CONFIG_CMDLINE_MAX + 64u) /* a token with quotes, as written */
#define VMM_CONFIG_MODULES_MAX    8u
#define VMM_CONFIG_SERVERS_MAX    16u
#define VMM_CONFIG_SERVER_ARGS_MAX 8u  /* arguments after the server path */
#define VMM_CONFIG_DEVICES_MAX    16u
#define VMM_CONFIG_DEVICE_PARAMS_MAX 8u
#define VMM_CONFIG_VCPUS_MAX      64u
#define VMM_CONFIG_MEMORY_ALIGN   4096u
#define VMM_CONFIG_MESSAGE_MAX    160u /* bytes of an error message, with NUL */

enum vmm_guest_format {
    VMM_GUEST_NONE = 0,       /* no `guest` line */
    VMM_GUEST_FLAT,
    VMM_GUEST_MULTIBOOT,
    VMM_GUEST_LINUX,          /* a bzImage, by the Linux x86 boot protocol (bzimage.h) */
};

/* How the application processors start (guest ... aps=). */
enum vmm_guest_aps {
    VMM_APS_SIPI = 0,         /* default: wait for INIT and SIPI, as on a PC */
    VMM_APS_ENTRY,            /* at the image's entry with EBX = VCPU index (Copra's test guests) */
};

/* What stopping the VM the guest declares a success (guest ... expect=). */
enum vmm_guest_expect {
    VMM_EXPECT_EXIT = 0,      /* default: only the guest's debug-exit status */
    VMM_EXPECT_SHUTDOWN,      /* a triple fault */
    VMM_EXPECT_HALT,          /* HLT with RFLAGS.IF = 0 */
};

struct vmm_config_server {
    char path[VMM_CONFIG_TOKEN_MAX + 1];
    unsigned argc;            /* arguments after the path */
    char args[VMM_CONFIG_SERVER_ARGS_MAX][VMM_CONFIG_TOKEN_MAX + 1];
    unsigned line;            /* where it was declared, for messages */
};

struct vmm_config_param {
    char key[VMM_CONFIG_TOKEN_MAX + 1];
    char value[VMM_CONFIG_TOKEN_MAX + 1];
};

struct vmm_config_device {
    char name[VMM_CONFIG_TOKEN_MAX + 1];
    unsigned nparams;
    struct vmm_config_param params[VMM_CONFIG_DEVICE_PARAMS_MAX];
    unsigned line;
};

struct vmm_config_module {
    char path[VMM_CONFIG_TOKEN_MAX + 1];
    char string[VMM_CONFIG_TOKEN_MAX + 1 + VMM_CONFIG_CMDLINE_MAX + 1]; /* "path[ cmdline]" */
    unsigned line;
};

struct vmm_config {
    unsigned nservers;
    struct vmm_config_server servers[VMM_CONFIG_SERVERS_MAX];

    bool has_memory;
    uint64_t memory_bytes;    /* 0 without a `memory` line */

    bool has_vcpus;
    unsigned vcpus;           /* 1 without a `vcpus` line */

    bool has_guest;
    char guest_path[VMM_CONFIG_TOKEN_MAX + 1];
    enum vmm_guest_format guest_format;
    char guest_cmdline[VMM_CONFIG_CMDLINE_MAX + 1]; /* "" without cmdline= */
    char guest_initrd[VMM_CONFIG_TOKEN_MAX + 1];    /* "" without initrd= */
    enum vmm_guest_expect guest_expect;
    enum vmm_guest_aps guest_aps;

    unsigned nmodules;
    struct vmm_config_module modules[VMM_CONFIG_MODULES_MAX];

    unsigned ndevices;
    struct vmm_config_device devices[VMM_CONFIG_DEVICES_MAX];
};

enum vmm_config_status {
    VMM_CONFIG_OK = 0,
    VMM_CONFIG_EINVAL,            /* NULL text with len > 0, NULL config or error */
    VMM_CONFIG_EUNKNOWN,          /* unknown directive */
    VMM_CONFIG_EMISSING,          /* a required argument is missing */
    VMM_CONFIG_ETOO_MANY_ARGS,    /* more arguments than the directive takes */
    VMM_CONFIG_ETOKEN_TOO_LONG,   /* a token exceeds VMM_CONFIG_TOKEN_MAX */
    VMM_CONFIG_EBAD_NUMBER,       /* not a number, or a bad size suffix */
    VMM_CONFIG_EOVERFLOW,         /* a number does not fit */
    VMM_CONFIG_ERANGE,            /* a number outside its documented range */
    VMM_CONFIG_ETOO_MANY_SERVERS,
    VMM_CONFIG_ETOO_MANY_DEVICES,
    VMM_CONFIG_EDUPLICATE,        /* second memory / vcpus / guest line */
    VMM_CONFIG_EBAD_FORMAT,       /* guest format is not flat, multiboot or linux */
    VMM_CONFIG_EBAD_PARAM,        /* device parameter or guest option is not key=value,
                                     or an unknown guest option or value */
    VMM_CONFIG_ENUL,              /* a NUL byte in the text */
    VMM_CONFIG_EQUOTE,            /* a double quote without its closing one */
    VMM_CONFIG_ETOO_MANY_MODULES,
};

struct vmm_config_error {
    enum vmm_config_status status;
    unsigned line;            /* 1-based; 0 when not about a line */
    /* "line N: what went wrong", NUL-terminated; "" on success. */
    char message[VMM_CONFIG_MESSAGE_MAX];
};

/*
 * Parse `len` bytes of `text` into *config (fully overwritten first).
 * Returns VMM_CONFIG_OK, or the first error found, described in *error.
 * On error *config holds what was parsed before the bad line; do not use it.
 */
enum vmm_config_status vmm_config_parse(const char *text, size_t len,
                                        struct vmm_config *config,
                                        struct vmm_config_error *error);

/* "flat", "multiboot", "linux", or "none". */
const char *vmm_guest_format_name(enum vmm_guest_format format);

#endif
