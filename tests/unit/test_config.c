/* SPDX-License-Identifier: MIT */
/* Host unit tests (Check) for servers/vmm/config.c, the VM description parser. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static struct vmm_config config;
static struct vmm_config_error error;

/* Parse a C string (its NUL is not passed). */
static enum vmm_config_status parse(const char *text)
{
    return vmm_config_parse(text, strlen(text), &config, &error);
}

/* Assert that `text` fails with `status` on `line` and message `message`. */
#define ck_parse_fails(text, expected_status, expected_line, expected_message) \
    do {                                                                      \
        ck_assert_int_eq(parse(text), (expected_status));                     \
        ck_assert_int_eq(error.status, (expected_status));                    \
        ck_assert_uint_eq(error.line, (expected_line));                       \
        ck_assert_str_eq(error.message, (expected_message));                  \
    } while (0)

START_TEST(test_empty)
{
    ck_assert_int_eq(parse(""), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.nservers, 0);
    ck_assert_uint_eq(config.ndevices, 0);
    ck_assert(!config.has_memory);
    ck_assert(!config.has_vcpus);
    ck_assert(!config.has_guest);
    ck_assert_uint_eq(config.vcpus, 1);
    ck_assert_str_eq(error.message, "");
    /* A NULL text of length 0 is an empty file too. */
    ck_assert_int_eq(vmm_config_parse(NULL, 0, &config, &error), VMM_CONFIG_OK);
}
END_TEST

START_TEST(test_comments_and_blanks)
{
    ck_assert_int_eq(parse("# a comment\n\n   \t\n  # indented comment\n"
                           "vcpus 2 # trailing comment\r\n"
                           "\r\n"),
                     VMM_CONFIG_OK);
    ck_assert(config.has_vcpus);
    ck_assert_uint_eq(config.vcpus, 2);
    ck_assert_uint_eq(config.nservers, 0);
}
END_TEST

START_TEST(test_full_config)
{
    const char *text =
        "# the test VM\n"
        "memory 64M\n"
        "vcpus\t4\n"
        "guest guests/hello.bin flat\n"
        "server bin/irqd\n"
        "server bin/uart --port=0x3f8 verbose\n"
        "device uart port=0x3f8 irq=4\n"
        "device rtc\n";
    ck_assert_int_eq(parse(text), VMM_CONFIG_OK);
    ck_assert(config.has_memory);
    ck_assert_uint_eq(config.memory_bytes, 64ull << 20);
    ck_assert_uint_eq(config.vcpus, 4);
    ck_assert(config.has_guest);
    ck_assert_str_eq(config.guest_path, "guests/hello.bin");
    ck_assert_int_eq(config.guest_format, VMM_GUEST_FLAT);
    ck_assert_str_eq(vmm_guest_format_name(config.guest_format), "flat");

    ck_assert_uint_eq(config.nservers, 2);
    ck_assert_str_eq(config.servers[0].path, "bin/irqd");
    ck_assert_uint_eq(config.servers[0].argc, 0);
    ck_assert_uint_eq(config.servers[0].line, 5);
    ck_assert_str_eq(config.servers[1].path, "bin/uart");
    ck_assert_uint_eq(config.servers[1].argc, 2);
    ck_assert_str_eq(config.servers[1].args[0], "--port=0x3f8");
    ck_assert_str_eq(config.servers[1].args[1], "verbose");

    ck_assert_uint_eq(config.ndevices, 2);
    ck_assert_str_eq(config.devices[0].name, "uart");
    ck_assert_uint_eq(config.devices[0].nparams, 2);
    ck_assert_str_eq(config.devices[0].params[0].key, "port");
    ck_assert_str_eq(config.devices[0].params[0].value, "0x3f8");
    ck_assert_str_eq(config.devices[0].params[1].key, "irq");
    ck_assert_str_eq(config.devices[0].params[1].value, "4");
    ck_assert_str_eq(config.devices[1].name, "rtc");
    ck_assert_uint_eq(config.devices[1].nparams, 0);
}
END_TEST

START_TEST(test_memory_suffixes)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {
        { "memory 4096", 4096 },
        { "memory 8K", 8192 },
        { "memory 8k", 8192 },
        { "memory 2m", 2ull << 20 },
        { "memory 1G", 1ull << 30 },
        { "memory 0x10000", 0x10000 },
        { "memory 0x10M", 16ull << 20 },
        { "memory 16777216G", 1ull << 54 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(parse(cases[i].text) == VMM_CONFIG_OK, "%s: %s", cases[i].text,
                      error.message);
        ck_assert_uint_eq(config.memory_bytes, cases[i].bytes);
    }
}
END_TEST

START_TEST(test_guest_options)
{
    ck_assert_int_eq(parse("guest k.elf multiboot cmdline=quiet,x=1 expect=shutdown"), VMM_CONFIG_OK);
    ck_assert_str_eq(config.guest_cmdline, "quiet,x=1");
    ck_assert_int_eq(config.guest_expect, VMM_EXPECT_SHUTDOWN);
    ck_assert_int_eq(parse("guest k.elf flat expect=halt cmdline="), VMM_CONFIG_OK);
    ck_assert_str_eq(config.guest_cmdline, "");
    ck_assert_int_eq(config.guest_expect, VMM_EXPECT_HALT);
    ck_assert_int_eq(parse("guest k.elf flat"), VMM_CONFIG_OK);
    ck_assert_int_eq(config.guest_expect, VMM_EXPECT_EXIT);
    ck_parse_fails("guest g flat extra", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: guest: option 'extra' is not key=value");
    ck_parse_fails("guest g flat =x", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: guest: option '=x' is not key=value");
    ck_assert_int_eq(parse("guest k.elf multiboot aps=entry"), VMM_CONFIG_OK);
    ck_assert_int_eq(config.guest_aps, VMM_APS_ENTRY);
    ck_assert_int_eq(parse("guest k.elf multiboot"), VMM_CONFIG_OK);
    ck_assert_int_eq(config.guest_aps, VMM_APS_SIPI);
    ck_parse_fails("guest g flat aps=all", VMM_CONFIG_EBAD_PARAM, 1, "line 1: guest: aps='all' (sipi or entry)");
    ck_parse_fails("guest g flat expect=crash", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: guest: expect='crash' (exit, shutdown or halt)");
    ck_parse_fails("guest g flat colour=red", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: guest: unknown option 'colour' (cmdline=, initrd=, aps= or expect=)");
    /* Linux guests (issue 10): the format, initrd= and a quoted command line. */
    ck_assert_int_eq(parse("guest bzImage linux initrd=rootfs.gz cmdline=\"console=ttyS0 quiet\""),
                     VMM_CONFIG_OK);
    ck_assert_int_eq(config.guest_format, VMM_GUEST_LINUX);
    ck_assert_str_eq(vmm_guest_format_name(config.guest_format), "linux");
    ck_assert_str_eq(config.guest_initrd, "rootfs.gz");
    ck_assert_str_eq(config.guest_cmdline, "console=ttyS0 quiet");
    ck_assert_int_eq(parse("guest bzImage linux"), VMM_CONFIG_OK);
    ck_assert_str_eq(config.guest_initrd, "");
    ck_parse_fails("guest k.elf multiboot initrd=x.gz", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: guest: initrd= needs the linux format");
}
END_TEST

START_TEST(test_quotes_and_modules)
{
    /* Quotes keep blanks and '#' in one token and are dropped from it. */
    ck_assert_int_eq(parse("guest k.elf multiboot cmdline=\"console=ttyS0  quiet #x\" expect=halt # c"),
                     VMM_CONFIG_OK);
    ck_assert_str_eq(config.guest_cmdline, "console=ttyS0  quiet #x");
    ck_assert_int_eq(config.guest_expect, VMM_EXPECT_HALT);
    ck_assert_int_eq(parse("guest k.elf multiboot cmdline=\"a b\"\ndevice \"my dev\" k=\"v w\""), VMM_CONFIG_OK);
    ck_assert_str_eq(config.guest_cmdline, "a b");
    ck_assert_str_eq(config.devices[0].name, "my dev");
    ck_assert_str_eq(config.devices[0].params[0].value, "v w");
    ck_parse_fails("server \"\"\"\"", VMM_CONFIG_EQUOTE, 1, "line 1: token '\"\"\"\"' is empty");
    ck_parse_fails("device d \"\"=v", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: device: parameter '\"\"=v' has an empty key");
    ck_parse_fails("vcpus 1\nguest k flat cmdline=\"open", VMM_CONFIG_EQUOTE, 2,
                   "line 2: token 'cmdline=\"open' has no closing quote");
    /* A command line up to VMM_CONFIG_CMDLINE_MAX bytes; quoted names still
     * fit their fields or fail. */
    static char text[4096];
    strcpy(text, "guest k flat cmdline=\"");
    size_t n = strlen(text);
    memset(text + n, 'y', VMM_CONFIG_CMDLINE_MAX);
    strcpy(text + n + VMM_CONFIG_CMDLINE_MAX, "\"");
    ck_assert_int_eq(parse(text), VMM_CONFIG_OK);
    ck_assert_uint_eq(strlen(config.guest_cmdline), VMM_CONFIG_CMDLINE_MAX);
    strcpy(text + n + VMM_CONFIG_CMDLINE_MAX, "y\"");
    ck_assert_int_eq(parse(text), VMM_CONFIG_ETOKEN_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(error.message, "(max 2047 bytes)"));
    strcpy(text, "server \"");
    memset(text + 8, 'z', VMM_CONFIG_TOKEN_MAX + 1);
    strcpy(text + 8 + VMM_CONFIG_TOKEN_MAX + 1, "\"");
    ck_assert_int_eq(parse(text), VMM_CONFIG_ETOKEN_TOO_LONG);

    /* Modules, in order, with the string the guest sees. */
    ck_assert_int_eq(parse("module initrd.img\nmodule m2 cmdline=\"a b\"\nguest k multiboot"), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.nmodules, 2);
    ck_assert_str_eq(config.modules[0].path, "initrd.img");
    ck_assert_str_eq(config.modules[0].string, "initrd.img");
    ck_assert_str_eq(config.modules[1].string, "m2 a b");
    ck_assert_uint_eq(config.modules[1].line, 2);
    ck_parse_fails("module", VMM_CONFIG_EMISSING, 1, "line 1: module: missing initrd path");
    ck_parse_fails("module a b", VMM_CONFIG_EBAD_PARAM, 1, "line 1: module: option 'b' is not cmdline=<text>");
    ck_parse_fails("module a cmdline=x y", VMM_CONFIG_ETOO_MANY_ARGS, 1, "line 1: module: too many arguments");
    strcpy(text, "");
    for (unsigned i = 0; i <= VMM_CONFIG_MODULES_MAX; i++)
        strcat(text, "module m\n");
    ck_parse_fails(text, VMM_CONFIG_ETOO_MANY_MODULES, VMM_CONFIG_MODULES_MAX + 1,
                   "line 9: too many modules (max 8)");
}
END_TEST

START_TEST(test_multiboot_and_no_trailing_newline)
{
    ck_assert_int_eq(parse("guest kernel.elf multiboot"), VMM_CONFIG_OK);
    ck_assert_int_eq(config.guest_format, VMM_GUEST_MULTIBOOT);
    ck_assert_str_eq(config.guest_path, "kernel.elf");
}
END_TEST

START_TEST(test_limits_accepted)
{
    char text[4096] = "";
    for (unsigned i = 0; i < VMM_CONFIG_SERVERS_MAX; i++)
        strcat(text, "server s a1 a2 a3 a4 a5 a6 a7 a8\n");
    strcat(text, "vcpus 64\n");
    ck_assert_int_eq(parse(text), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.nservers, VMM_CONFIG_SERVERS_MAX);
    ck_assert_uint_eq(config.servers[15].argc, VMM_CONFIG_SERVER_ARGS_MAX);
    ck_assert_str_eq(config.servers[15].args[7], "a8");
    ck_assert_uint_eq(config.vcpus, 64);

    /* A token of exactly VMM_CONFIG_TOKEN_MAX bytes fits. */
    char line[256] = "server ";
    memset(line + 7, 'p', VMM_CONFIG_TOKEN_MAX);
    line[7 + VMM_CONFIG_TOKEN_MAX] = '\0';
    ck_assert_int_eq(parse(line), VMM_CONFIG_OK);
    ck_assert_uint_eq(strlen(config.servers[0].path), VMM_CONFIG_TOKEN_MAX);
}
END_TEST

START_TEST(test_unknown_directive)
{
    ck_parse_fails("vcpus 1\n\nfoo bar\n", VMM_CONFIG_EUNKNOWN, 3,
                   "line 3: unknown directive 'foo'");
    /* Directive names are case-sensitive and whole-word. */
    ck_parse_fails("Server x", VMM_CONFIG_EUNKNOWN, 1, "line 1: unknown directive 'Server'");
    ck_parse_fails("servers x", VMM_CONFIG_EUNKNOWN, 1, "line 1: unknown directive 'servers'");
    ck_parse_fails("serve x", VMM_CONFIG_EUNKNOWN, 1, "line 1: unknown directive 'serve'");
}
END_TEST

START_TEST(test_missing_arguments)
{
    ck_parse_fails("server", VMM_CONFIG_EMISSING, 1, "line 1: server: missing initrd path");
    ck_parse_fails("\nmemory   # none\n", VMM_CONFIG_EMISSING, 2, "line 2: memory: missing size");
    ck_parse_fails("vcpus", VMM_CONFIG_EMISSING, 1, "line 1: vcpus: missing count");
    ck_parse_fails("guest", VMM_CONFIG_EMISSING, 1, "line 1: guest: missing initrd path");
    ck_parse_fails("guest g.bin", VMM_CONFIG_EMISSING, 1,
                   "line 1: guest: missing format (flat, multiboot or linux)");
    ck_parse_fails("device", VMM_CONFIG_EMISSING, 1, "line 1: device: missing name");
}
END_TEST

START_TEST(test_too_many_arguments)
{
    ck_parse_fails("server s 1 2 3 4 5 6 7 8 9", VMM_CONFIG_ETOO_MANY_ARGS, 1,
                   "line 1: server: too many arguments (9, max 8)");
    /* Far more tokens than a line can hold: still counted, not stored. */
    ck_parse_fails("server s 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
                   VMM_CONFIG_ETOO_MANY_ARGS, 1,
                   "line 1: server: too many arguments (20, max 8)");
    ck_parse_fails("memory 4K 8K", VMM_CONFIG_ETOO_MANY_ARGS, 1,
                   "line 1: memory: too many arguments");
    ck_parse_fails("vcpus 1 2", VMM_CONFIG_ETOO_MANY_ARGS, 1, "line 1: vcpus: too many arguments");
    ck_parse_fails("guest g flat a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8", VMM_CONFIG_ETOO_MANY_ARGS, 1,
                   "line 1: guest: too many arguments");
    ck_parse_fails("device d a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9", VMM_CONFIG_ETOO_MANY_ARGS, 1,
                   "line 1: device: too many parameters (9, max 8)");
}
END_TEST

START_TEST(test_too_many_servers_and_devices)
{
    char text[4096] = "";
    for (unsigned i = 0; i <= VMM_CONFIG_SERVERS_MAX; i++)
        strcat(text, "server s\n");
    ck_parse_fails(text, VMM_CONFIG_ETOO_MANY_SERVERS, 17, "line 17: too many servers (max 16)");

    text[0] = '\0';
    for (unsigned i = 0; i <= VMM_CONFIG_DEVICES_MAX; i++)
        strcat(text, "device d\n");
    ck_parse_fails(text, VMM_CONFIG_ETOO_MANY_DEVICES, 17, "line 17: too many devices (max 16)");
}
END_TEST

START_TEST(test_token_too_long)
{
    char text[512] = "vcpus 1\nserver ";
    size_t n = strlen(text);
    memset(text + n, 'x', VMM_CONFIG_TOKEN_MAX + 1);
    text[n + VMM_CONFIG_TOKEN_MAX + 1] = '\0';
    ck_parse_fails(text, VMM_CONFIG_ETOKEN_TOO_LONG, 2,
                   "line 2: token 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' too long "
                   "(max 127 bytes)");
    /* A long comment is fine. */
    memset(text, ' ', sizeof text - 1);
    text[0] = '#';
    text[sizeof text - 1] = '\0';
    ck_assert_int_eq(parse(text), VMM_CONFIG_OK);
}
END_TEST

START_TEST(test_bad_numbers)
{
    ck_parse_fails("vcpus abc", VMM_CONFIG_EBAD_NUMBER, 1, "line 1: bad vcpus count 'abc'");
    ck_parse_fails("vcpus 4x", VMM_CONFIG_EBAD_NUMBER, 1, "line 1: bad vcpus count '4x'");
    ck_parse_fails("vcpus -1", VMM_CONFIG_EBAD_NUMBER, 1, "line 1: bad vcpus count '-1'");
    ck_parse_fails("vcpus 0x", VMM_CONFIG_EBAD_NUMBER, 1, "line 1: bad vcpus count '0x'");
    ck_parse_fails("vcpus 0", VMM_CONFIG_ERANGE, 1, "line 1: vcpus count '0' out of range 1..64");
    ck_parse_fails("vcpus 65", VMM_CONFIG_ERANGE, 1, "line 1: vcpus count '65' out of range 1..64");
    ck_parse_fails("vcpus 99999999999999999999999", VMM_CONFIG_ERANGE, 1,
                   "line 1: vcpus count '99999999999999999999999' out of range 1..64");
    ck_parse_fails("memory lots", VMM_CONFIG_EBAD_NUMBER, 1, "line 1: bad memory size 'lots'");
    ck_parse_fails("memory 64T", VMM_CONFIG_EBAD_NUMBER, 1,
                   "line 1: bad memory size '64T' (suffix must be K, M or G)");
    ck_parse_fails("memory 64MB", VMM_CONFIG_EBAD_NUMBER, 1,
                   "line 1: bad memory size '64MB' (suffix must be K, M or G)");
    ck_parse_fails("memory M", VMM_CONFIG_EBAD_NUMBER, 1, "line 1: bad memory size 'M'");
}
END_TEST

START_TEST(test_memory_range_and_overflow)
{
    ck_parse_fails("\n\n\n\nmemory 99999999999999999999", VMM_CONFIG_EOVERFLOW, 5,
                   "line 5: memory size overflows");
    ck_parse_fails("memory 0xffffffffffffffffff", VMM_CONFIG_EOVERFLOW, 1,
                   "line 1: memory size overflows");
    ck_parse_fails("memory 17179869184G", VMM_CONFIG_EOVERFLOW, 1,
                   "line 1: memory size overflows");
    ck_parse_fails("memory 0", VMM_CONFIG_ERANGE, 1, "line 1: memory size must not be zero");
    ck_parse_fails("memory 0M", VMM_CONFIG_ERANGE, 1, "line 1: memory size must not be zero");
    ck_parse_fails("memory 1000", VMM_CONFIG_ERANGE, 1,
                   "line 1: memory size '1000' is not a multiple of 4096");
    ck_parse_fails("memory 3K", VMM_CONFIG_ERANGE, 1,
                   "line 1: memory size '3K' is not a multiple of 4096");
}
END_TEST

START_TEST(test_duplicates)
{
    ck_parse_fails("memory 64M\nvcpus 1\nmemory 64M\n", VMM_CONFIG_EDUPLICATE, 3,
                   "line 3: duplicate memory (first on line 1)");
    ck_parse_fails("vcpus 1\n# x\nvcpus 2\n", VMM_CONFIG_EDUPLICATE, 3,
                   "line 3: duplicate vcpus (first on line 1)");
    ck_parse_fails("\nguest a flat\nguest b multiboot\n", VMM_CONFIG_EDUPLICATE, 3,
                   "line 3: duplicate guest (first on line 2)");
    /* Several servers and devices are fine. */
    ck_assert_int_eq(parse("server a\nserver a\ndevice d\ndevice d\n"), VMM_CONFIG_OK);
}
END_TEST

START_TEST(test_guest_format)
{
    ck_parse_fails("guest g.bin elf", VMM_CONFIG_EBAD_FORMAT, 1,
                   "line 1: unknown guest format 'elf' (flat, multiboot or linux)");
    ck_parse_fails("guest g.bin FLAT", VMM_CONFIG_EBAD_FORMAT, 1,
                   "line 1: unknown guest format 'FLAT' (flat, multiboot or linux)");
    ck_parse_fails("guest g.bin flatx", VMM_CONFIG_EBAD_FORMAT, 1,
                   "line 1: unknown guest format 'flatx' (flat, multiboot or linux)");
}
END_TEST

START_TEST(test_device_params)
{
    ck_assert_int_eq(parse("device virtio-blk file=disk.img ro= x==y"), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.devices[0].nparams, 3);
    ck_assert_str_eq(config.devices[0].params[1].key, "ro");
    ck_assert_str_eq(config.devices[0].params[1].value, "");
    ck_assert_str_eq(config.devices[0].params[2].key, "x");
    ck_assert_str_eq(config.devices[0].params[2].value, "=y");

    ck_parse_fails("device uart port", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: device: parameter 'port' is not key=value");
    ck_parse_fails("device uart =1", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: device: parameter '=1' is not key=value");
    ck_parse_fails("device port=1", VMM_CONFIG_EBAD_PARAM, 1,
                   "line 1: device: name 'port=1' must not contain '='");
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char text[] = "vcpus 1\nserver a\0b\n";
    ck_assert_int_eq(vmm_config_parse(text, sizeof text - 1, &config, &error), VMM_CONFIG_ENUL);
    ck_assert_uint_eq(error.line, 2);
    ck_assert_str_eq(error.message, "line 2: NUL byte in file (offset 16)");

    /* Also inside a comment. */
    static const char comment[] = "# \0\n";
    ck_assert_int_eq(vmm_config_parse(comment, sizeof comment - 1, &config, &error),
                     VMM_CONFIG_ENUL);
    ck_assert_uint_eq(error.line, 1);
}
END_TEST

START_TEST(test_bounded_read)
{
    /* The parser must stop at len: the rest of the buffer is not its input. */
    const char *text = "vcpus 2\nfoo";
    ck_assert_int_eq(vmm_config_parse(text, 8, &config, &error), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.vcpus, 2);

    /* A token cut by len: "vcpus 12" seen as "vcpus 1". */
    ck_assert_int_eq(vmm_config_parse("vcpus 12", 7, &config, &error), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.vcpus, 1);

    /* An exactly sized heap buffer without NUL (ASan catches overreads). */
    static const char src[] = "server bin/x a b";
    char *exact = malloc(sizeof src - 1);
    ck_assert_ptr_nonnull(exact);
    memcpy(exact, src, sizeof src - 1);
    ck_assert_int_eq(vmm_config_parse(exact, sizeof src - 1, &config, &error), VMM_CONFIG_OK);
    ck_assert_str_eq(config.servers[0].args[1], "b");
    free(exact);
}
END_TEST

START_TEST(test_unprintable_in_message)
{
    ck_parse_fails("fo\x01o x", VMM_CONFIG_EUNKNOWN, 1, "line 1: unknown directive 'fo?o'");
}
END_TEST

START_TEST(test_invalid_arguments)
{
    ck_assert_int_eq(vmm_config_parse("x", 1, NULL, &error), VMM_CONFIG_EINVAL);
    ck_assert_int_eq(error.status, VMM_CONFIG_EINVAL);
    ck_assert_uint_eq(error.line, 0);
    ck_assert_int_eq(vmm_config_parse(NULL, 1, &config, &error), VMM_CONFIG_EINVAL);
    ck_assert_int_eq(vmm_config_parse("x", 1, &config, NULL), VMM_CONFIG_EINVAL);
}
END_TEST

START_TEST(test_reparse_clears)
{
    ck_assert_int_eq(parse("server a\nmemory 4K\nguest g flat\n"), VMM_CONFIG_OK);
    ck_assert_int_eq(parse("vcpus 3\n"), VMM_CONFIG_OK);
    ck_assert_uint_eq(config.nservers, 0);
    ck_assert(!config.has_memory);
    ck_assert_uint_eq(config.memory_bytes, 0);
    ck_assert(!config.has_guest);
    ck_assert_int_eq(config.guest_format, VMM_GUEST_NONE);
    ck_assert_str_eq(error.message, "");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("vmm_config");
    TCase *good = tcase_create("good");
    TCase *bad = tcase_create("malformed");

    tcase_add_test(good, test_empty);
    tcase_add_test(good, test_comments_and_blanks);
    tcase_add_test(good, test_full_config);
    tcase_add_test(good, test_memory_suffixes);
    tcase_add_test(good, test_multiboot_and_no_trailing_newline);
    tcase_add_test(good, test_guest_options);
    tcase_add_test(good, test_limits_accepted);
    tcase_add_test(good, test_bounded_read);
    tcase_add_test(good, test_reparse_clears);
    suite_add_tcase(s, good);

    tcase_add_test(bad, test_unknown_directive);
    tcase_add_test(bad, test_missing_arguments);
    tcase_add_test(bad, test_too_many_arguments);
    tcase_add_test(bad, test_too_many_servers_and_devices);
    tcase_add_test(bad, test_token_too_long);
    tcase_add_test(bad, test_bad_numbers);
    tcase_add_test(bad, test_memory_range_and_overflow);
    tcase_add_test(bad, test_duplicates);
    tcase_add_test(bad, test_guest_format);
    tcase_add_test(bad, test_device_params);
    tcase_add_test(bad, test_nul_byte);
    tcase_add_test(bad, test_unprintable_in_message);
    tcase_add_test(bad, test_invalid_arguments);
    tcase_add_test(bad, test_quotes_and_modules);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(config_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
