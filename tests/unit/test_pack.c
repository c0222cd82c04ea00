/* SPDX-License-Identifier: MIT */
/* Unit tests for initrd/pack.c: list parsing, initrd path rules, the ELF
 * policy, the manifest layout and the newc cpio writer. */
#define _GNU_SOURCE

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pack.h"

/* ---- helpers -------------------------------------------------------------- */

static char temp_dir[64];

static void temp_setup(void)
{
    strcpy(temp_dir, "/tmp/test_pack.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(temp_dir));
}

static void temp_teardown(void)
{
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", temp_dir);
    ck_assert_int_eq(system(command), 0);
}

static void file_write(const char *name, const void *data, size_t size)
{
    char path[256];
    FILE *file;

    snprintf(path, sizeof(path), "%s/%s", temp_dir, name);
    file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(data, 1, size, file), size);
    ck_assert_int_eq(fclose(file), 0);
}

#define ELF_SIZE   0x2000u
#define ELF_BASE   0x400000u
#define ELF_TEXT   0x1000u   /* file offset of the text segment */

/* A minimal static x86-64 executable: an R+X text segment holding the entry
 * and an R+W data segment; callers then break one property. */
static void elf64_make(unsigned char image[ELF_SIZE], uint32_t text_flags)
{
    Elf64_Ehdr *ehdr = (Elf64_Ehdr *)image;
    Elf64_Phdr *phdr = (Elf64_Phdr *)(image + sizeof(*ehdr));

    memset(image, 0, ELF_SIZE);
    memcpy(ehdr->e_ident, ELFMAG, SELFMAG);
    ehdr->e_ident[EI_CLASS] = ELFCLASS64;
    ehdr->e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr->e_ident[EI_VERSION] = EV_CURRENT;
    ehdr->e_type = ET_EXEC;
    ehdr->e_machine = EM_X86_64;
    ehdr->e_version = EV_CURRENT;
    ehdr->e_entry = ELF_BASE + ELF_TEXT;
    ehdr->e_phoff = sizeof(*ehdr);
    ehdr->e_ehsize = sizeof(*ehdr);
    ehdr->e_phentsize = sizeof(*phdr);
    ehdr->e_phnum = 2;

    phdr[0].p_type = PT_LOAD;
    phdr[0].p_flags = text_flags;
    phdr[0].p_offset = ELF_TEXT;
    phdr[0].p_vaddr = phdr[0].p_paddr = ELF_BASE + ELF_TEXT;
    phdr[0].p_filesz = phdr[0].p_memsz = 0x100;
    phdr[0].p_align = 0x1000;

    phdr[1].p_type = PT_LOAD;
    phdr[1].p_flags = PF_R | PF_W;
    phdr[1].p_offset = ELF_TEXT + 0x100;
    phdr[1].p_vaddr = phdr[1].p_paddr = ELF_BASE + 0x2000 + 0x100;
    phdr[1].p_filesz = 0x100;
    phdr[1].p_memsz = 0x1000;
    phdr[1].p_align = 0x1000;

    image[ELF_TEXT] = 0xf4; /* hlt */
}

static void elf_expect_reject(const unsigned char *image, size_t size, const char *needle)
{
    char reason[256] = "";

    ck_assert_int_eq(pack_elf_check(image, size, reason, sizeof(reason)), -1);
    ck_assert_msg(strstr(reason, needle), "reason '%s' lacks '%s'", reason, needle);
}

static uint32_t hex_field(const unsigned char *header, unsigned index)
{
    char digits[9];
    memcpy(digits, header + 6 + 8 * index, 8);
    digits[8] = '\0';
    return (uint32_t)strtoul(digits, NULL, 16);
}

struct cpio_record {
    uint32_t ino, mode, nlink, mtime, size;
    const char *name;
    const unsigned char *data;
};

/* Parse the newc record at *offset and advance past it (and its padding). */
static void cpio_next(const struct pack_buffer *image, size_t *offset, struct cpio_record *record)
{
    const unsigned char *header = image->data + *offset;
    uint32_t name_size;

    ck_assert_uint_eq(*offset % 4, 0);
    ck_assert_uint_le(*offset + 110, image->length);
    ck_assert_int_eq(memcmp(header, "070701", 6), 0);
    record->ino = hex_field(header, 0);
    record->mode = hex_field(header, 1);
    ck_assert_uint_eq(hex_field(header, 2), 0); /* uid */
    ck_assert_uint_eq(hex_field(header, 3), 0); /* gid */
    record->nlink = hex_field(header, 4);
    record->mtime = hex_field(header, 5);
    record->size = hex_field(header, 6);
    for (unsigned i = 7; i <= 10; i++)
        ck_assert_uint_eq(hex_field(header, i), 0);
    name_size = hex_field(header, 11);
    ck_assert_uint_eq(hex_field(header, 12), 0);
    record->name = (const char *)header + 110;
    ck_assert_uint_eq(strlen(record->name) + 1, name_size);
    *offset = (*offset + 110 + name_size + 3) & ~(size_t)3;
    record->data = image->data + *offset;
    *offset = (*offset + record->size + 3) & ~(size_t)3;
    ck_assert_uint_le(*offset, image->length);
}

/* ---- list parsing ------------------------------------------------------- */

START_TEST(test_list_parse)
{
    static const char text[] =
        "# a comment\n"
        "\n"
        "vmm        @BIN@/vmm\n"
        "   etc/vmm.conf\t@DIR@/vmm.conf   # trailing comment\n"
        "guest      guests/linux.bin\r\n"
        "abs        /boot/@NAME@.img";
    const struct pack_define defines[] = {
        {"BIN", "/build/bin"}, {"DIR", "/src/initrd"}, {"NAME", "first"}, {"NAME", "second"},
    };
    struct pack_list list;
    struct pack_error error;

    pack_list_init(&list);
    ck_assert_int_eq(pack_list_parse(&list, text, strlen(text), "default.list", "/lists",
                                     defines, 4, &error), 0);
    ck_assert_uint_eq(list.count, 4);
    ck_assert_str_eq(list.entries[0].name, "vmm");
    ck_assert_str_eq(list.entries[0].source, "/build/bin/vmm");
    ck_assert_uint_eq(list.entries[0].line, 3);
    ck_assert_str_eq(list.entries[1].name, "etc/vmm.conf");
    ck_assert_str_eq(list.entries[1].source, "/src/initrd/vmm.conf");
    ck_assert_str_eq(list.entries[2].name, "guest");
    ck_assert_str_eq(list.entries[2].source, "/lists/guests/linux.bin"); /* relative */
    ck_assert_str_eq(list.entries[3].source, "/boot/second.img");      /* last -D wins */
    pack_list_free(&list);
}
END_TEST

START_TEST(test_list_parse_errors)
{
    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"only-one-token\n", "l:1: expected"},
        {"# ok\na b c\n", "l:2: unexpected 'c'"},
        {"a b guest extra\n", "l:1: unexpected 'guest'"},
        {"a b Guest\n", "l:1: unexpected 'Guest'"},
        {"a @MISSING@/x\n", "l:1: '@MISSING@' is not defined"},
        {"/etc/x y\n", "l:1: initrd path '/etc/x': path must be relative"},
        {"a x\nb y\na z\n", "l:3: initrd path 'a' already listed on line 1"},
    };
    const struct pack_define defines[] = {{"BIN", "/bin"}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pack_list list;
        struct pack_error error = {""};

        pack_list_init(&list);
        ck_assert_int_eq(pack_list_parse(&list, cases[i].text, strlen(cases[i].text), "l", ".",
                                         defines, 1, &error), -1);
        ck_assert_msg(strstr(error.text, cases[i].needle), "case %zu: '%s' lacks '%s'", i,
                      error.text, cases[i].needle);
        pack_list_free(&list);
    }
}
END_TEST

/* ---- path rules ------------------------------------------------------------- */

START_TEST(test_path_check)
{
    static const char *const good[] = {"vmm", "servers/irqd", "a/b/c.conf", ".hidden", "a..b"};
    static const char *const bad[] = {
        "", "/vmm", "..", "a/../b", "a/..", "a//b", "a/", "./a", "a/./b", "a b", "a\tb",
        COPRA_MANIFEST_PATH, "TRAILER!!!",
    };
    char longest[COPRA_MANIFEST_NAME_MAX + 1];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(pack_path_check(good[i]) == NULL, "'%s' rejected", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(pack_path_check(bad[i]) != NULL, "'%s' accepted", bad[i]);

    /* COPRA_MANIFEST_NAME_MAX counts the NUL: 95 characters fit, 96 do not. */
    memset(longest, 'a', sizeof(longest));
    longest[COPRA_MANIFEST_NAME_MAX - 1] = '\0';
    ck_assert_ptr_null(pack_path_check(longest));
    longest[COPRA_MANIFEST_NAME_MAX - 1] = 'a';
    longest[COPRA_MANIFEST_NAME_MAX] = '\0';
    ck_assert_ptr_nonnull(pack_path_check(longest));
}
END_TEST

/* ---- ELF policy ------------------------------------------------------------- */

START_TEST(test_elf_accepts_static)
{
    static unsigned char image[ELF_SIZE];
    char reason[256] = "";

    elf64_make(image, PF_R | PF_X);
    ck_assert_msg(pack_elf_check(image, sizeof(image), reason, sizeof(reason)) == 0, "%s", reason);
    ck_assert(pack_is_elf(image, sizeof(image)));
    ck_assert(!pack_is_elf("\177EL", 3));
    ck_assert(!pack_is_elf("#!/bin/sh\n", 10));
}
END_TEST

START_TEST(test_elf_rejects_wx_and_32bit)
{
    static unsigned char image[ELF_SIZE];
    Elf32_Ehdr *ehdr32 = (Elf32_Ehdr *)image;

    elf64_make(image, PF_R | PF_W | PF_X);
    elf_expect_reject(image, sizeof(image), "writable and executable");

    memset(image, 0, sizeof(image));
    memcpy(ehdr32->e_ident, ELFMAG, SELFMAG);
    ehdr32->e_ident[EI_CLASS] = ELFCLASS32;
    ehdr32->e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr32->e_ident[EI_VERSION] = EV_CURRENT;
    ehdr32->e_type = ET_EXEC;
    ehdr32->e_machine = EM_386;
    ehdr32->e_version = EV_CURRENT;
    elf_expect_reject(image, sizeof(image), "not a 64-bit ELF");
}
END_TEST

START_TEST(test_elf_rejects_other_violations)
{
    static unsigned char image[ELF_SIZE];
    Elf64_Ehdr *ehdr = (Elf64_Ehdr *)image;
    Elf64_Phdr *phdr = (Elf64_Phdr *)(image + sizeof(*ehdr));

    elf64_make(image, PF_R | PF_X);
    ehdr->e_ident[EI_DATA] = ELFDATA2MSB;
    elf_expect_reject(image, sizeof(image), "little-endian");

    elf64_make(image, PF_R | PF_X);
    ehdr->e_machine = EM_AARCH64;
    elf_expect_reject(image, sizeof(image), "x86-64");

    elf64_make(image, PF_R | PF_X);
    ehdr->e_type = ET_DYN;
    elf_expect_reject(image, sizeof(image), "ET_DYN");

    elf64_make(image, PF_R | PF_X);
    phdr[1].p_type = PT_INTERP;
    elf_expect_reject(image, sizeof(image), "PT_INTERP");

    elf64_make(image, PF_R | PF_X);
    phdr[1].p_type = PT_DYNAMIC;
    elf_expect_reject(image, sizeof(image), "PT_DYNAMIC");

    elf64_make(image, PF_R | PF_X);
    phdr[1].p_filesz = ELF_SIZE; /* runs past the end of the file */
    phdr[1].p_memsz = ELF_SIZE;
    elf_expect_reject(image, sizeof(image), "outside the file");

    elf64_make(image, PF_R | PF_X);
    ehdr->e_entry = phdr[1].p_vaddr; /* in the data segment */
    elf_expect_reject(image, sizeof(image), "entry point");

    elf64_make(image, PF_R | PF_X);
    elf_expect_reject(image, 0x40, "program header"); /* truncated */
}
END_TEST

/* ---- manifest and archive ------------------------------------------------------ */

static void image_pack(const char *text, struct pack_list *list, struct pack_buffer *image,
                       uint8_t sha[COPRA_SHA384_SIZE])
{
    const struct pack_define defines[] = {{"DIR", temp_dir}};
    struct pack_error error = {""};

    pack_list_init(list);
    ck_assert_msg(pack_list_parse(list, text, strlen(text), "t.list", temp_dir, defines, 1,
                                  &error) == 0, "%s", error.text);
    ck_assert_msg(pack_list_load(list, &error) == 0, "%s", error.text);
    ck_assert_msg(pack_image_build(list, image, sha, &error) == 0, "%s", error.text);
}

START_TEST(test_manifest_layout)
{
    /* FIPS 180-2 appendix D.1: SHA-384("abc"). */
    static const uint8_t abc_sha384[COPRA_SHA384_SIZE] = {
        0xcb, 0x00, 0x75, 0x3f, 0x45, 0xa3, 0x5e, 0x8b, 0xb5, 0xa0, 0x3d, 0x69,
        0x9a, 0xc6, 0x50, 0x07, 0x27, 0x2c, 0x32, 0xab, 0x0e, 0xde, 0xd1, 0x63,
        0x1a, 0x8b, 0x60, 0x5a, 0x43, 0xff, 0x5b, 0xed, 0x80, 0x86, 0x07, 0x2b,
        0xa1, 0xe7, 0xcc, 0x23, 0x58, 0xba, 0xec, 0xa1, 0x34, 0xc8, 0x25, 0xa7,
    };
    struct pack_list list;
    struct pack_buffer image = {0}, manifest = {0};
    struct copra_manifest_header header;
    struct copra_manifest_entry entry;
    uint8_t sha[COPRA_SHA384_SIZE], empty_sha[COPRA_SHA384_SIZE];

    file_write("abc", "abc", 3);
    file_write("empty", "", 0);
    image_pack("x/abc abc\nempty @DIR@/empty\n", &list, &image, sha);
    ck_assert_int_eq(pack_manifest_build(&list, &manifest), 0);
    ck_assert_uint_eq(manifest.length, sizeof(header) + 2 * sizeof(entry));

    /* Header: "COPRAMN1" in the first 8 bytes, then version and count. */
    ck_assert_int_eq(memcmp(manifest.data, "COPRAMN1", 8), 0);
    memcpy(&header, manifest.data, sizeof(header));
    ck_assert_uint_eq(header.magic, COPRA_MANIFEST_MAGIC);
    ck_assert_uint_eq(header.version, COPRA_MANIFEST_VERSION);
    ck_assert_uint_eq(header.count, 2);

    memcpy(&entry, manifest.data + 16, sizeof(entry));
    ck_assert_int_eq(memcmp(entry.sha384, abc_sha384, sizeof(abc_sha384)), 0);
    ck_assert_uint_eq(entry.size, 3);
    ck_assert_str_eq(entry.name, "x/abc");
    for (size_t i = strlen("x/abc"); i < sizeof(entry.name); i++)
        ck_assert_int_eq(entry.name[i], 0);

    memcpy(&entry, manifest.data + 16 + 152, sizeof(entry));
    pack_sha384("", 0, empty_sha);
    ck_assert_int_eq(memcmp(entry.sha384, empty_sha, sizeof(empty_sha)), 0);
    ck_assert_uint_eq(entry.size, 0);
    ck_assert_str_eq(entry.name, "empty");

    /* The reported measurement is the SHA-384 of exactly these bytes. */
    pack_sha384(manifest.data, manifest.length, empty_sha);
    ck_assert_int_eq(memcmp(sha, empty_sha, sizeof(sha)), 0);

    pack_buffer_free(&manifest);
    pack_buffer_free(&image);
    pack_list_free(&list);
}
END_TEST

START_TEST(test_cpio_parse_back)
{
    static unsigned char elf[ELF_SIZE];
    struct pack_list list;
    struct pack_buffer image = {0}, again = {0}, manifest = {0};
    struct cpio_record record;
    uint8_t sha[COPRA_SHA384_SIZE], sha_again[COPRA_SHA384_SIZE];
    size_t offset = 0;
    static const char *const names[] = {"bin/prog", "a", "abcd", "five5"};

    elf64_make(elf, PF_R | PF_X);
    file_write("prog", elf, sizeof(elf));
    file_write("a", "1", 1);
    file_write("abcd", "1234", 4);
    file_write("five5", "12345", 5);
    image_pack("bin/prog prog\na a\nabcd abcd\nfive5 five5\n", &list, &image, sha);
    ck_assert_uint_eq(image.length % 4, 0);

    /* The manifest comes first, with ino 1. */
    cpio_next(&image, &offset, &record);
    ck_assert_str_eq(record.name, COPRA_MANIFEST_PATH);
    ck_assert_uint_eq(record.ino, 1);
    ck_assert_uint_eq(record.mode, PACK_MODE_DATA);
    ck_assert_int_eq(pack_manifest_build(&list, &manifest), 0);
    ck_assert_uint_eq(record.size, manifest.length);
    ck_assert_int_eq(memcmp(record.data, manifest.data, manifest.length), 0);

    for (size_t i = 0; i < 4; i++) {
        cpio_next(&image, &offset, &record);
        ck_assert_str_eq(record.name, names[i]);
        ck_assert_uint_eq(record.ino, i + 2);
        ck_assert_uint_eq(record.mode, i == 0 ? PACK_MODE_EXEC : PACK_MODE_DATA);
        ck_assert_uint_eq(record.nlink, 1);
        ck_assert_uint_eq(record.mtime, 0);
        ck_assert_uint_eq(record.size, list.entries[i].size);
        ck_assert_int_eq(memcmp(record.data, list.entries[i].data, record.size), 0);
    }
    cpio_next(&image, &offset, &record);
    ck_assert_str_eq(record.name, "TRAILER!!!");
    ck_assert_uint_eq(record.size, 0);
    ck_assert_uint_eq(offset, image.length);

    /* Packing again gives the same bytes. */
    ck_assert_int_eq(pack_image_build(&list, &again, sha_again, NULL), 0);
    ck_assert_uint_eq(again.length, image.length);
    ck_assert_int_eq(memcmp(again.data, image.data, image.length), 0);
    ck_assert_int_eq(memcmp(sha, sha_again, sizeof(sha)), 0);

    pack_buffer_free(&manifest);
    pack_buffer_free(&again);
    pack_buffer_free(&image);
    pack_list_free(&list);
}
END_TEST

START_TEST(test_load_rejects_bad_elf)
{
    static unsigned char elf[ELF_SIZE];
    static const char text[] = "ok data\nbad wx\n";
    const struct pack_define defines[] = {{"DIR", temp_dir}};
    struct pack_list list;
    struct pack_error error = {""};
    char expected[300];

    file_write("data", "not an ELF", 10);
    elf64_make(elf, PF_R | PF_W | PF_X);
    file_write("wx", elf, sizeof(elf));
    pack_list_init(&list);
    ck_assert_int_eq(pack_list_parse(&list, text, strlen(text), "t.list", temp_dir, defines, 1,
                                     &error), 0);
    ck_assert_int_eq(pack_list_load(&list, &error), -1);
    /* "<source>: <reason>", which copra-mkinitrd prints after its name. */
    snprintf(expected, sizeof(expected), "%s/wx: segment 0 is both writable and executable",
             temp_dir);
    ck_assert_msg(strncmp(error.text, expected, strlen(expected)) == 0, "got '%s'", error.text);
    ck_assert(!list.entries[0].is_elf);
    pack_list_free(&list);

    pack_list_init(&list);
    ck_assert_int_eq(pack_list_add(&list, "gone", "/nonexistent/file", 1, &error), 0);
    ck_assert_int_eq(pack_list_load(&list, &error), -1);
    ck_assert_ptr_nonnull(strstr(error.text, "/nonexistent/file: "));
    pack_list_free(&list);
}
END_TEST

/* A `guest` entry is data for the VMM: the program ELF policy does not apply
 * (a multiboot guest is ELF32 i386), and it is packed as a data file. */
START_TEST(test_load_guest_image)
{
    static unsigned char elf[ELF_SIZE];
    static const char text[] = "vm/guest.elf @DIR@/guest32 guest\nprog @DIR@/wx\n";
    const struct pack_define defines[] = {{"DIR", temp_dir}};
    struct pack_list list;
    struct pack_error error = {""};

    elf64_make(elf, PF_R | PF_X);
    elf[EI_CLASS] = ELFCLASS32;     /* not a Copra program any more */
    file_write("guest32", elf, sizeof(elf));
    elf64_make(elf, PF_R | PF_W | PF_X);
    file_write("wx", elf, sizeof(elf));
    pack_list_init(&list);
    ck_assert_int_eq(pack_list_parse(&list, text, strlen(text), "t.list", temp_dir, defines, 1,
                                     &error), 0);
    ck_assert(list.entries[0].guest_image);
    ck_assert(!list.entries[1].guest_image);
    /* The guest passes; the W+X program after it is still refused. */
    ck_assert_int_eq(pack_list_load(&list, &error), -1);
    ck_assert_msg(strstr(error.text, "/wx: segment 0 is both writable") != NULL, "got '%s'",
                  error.text);
    ck_assert(list.entries[0].is_elf);
    pack_list_free(&list);
}
END_TEST

static Suite *pack_suite(void)
{
    Suite *suite = suite_create("pack");
    TCase *parse = tcase_create("parse");
    TCase *elf = tcase_create("elf");
    TCase *archive = tcase_create("archive");

    tcase_add_test(parse, test_list_parse);
    tcase_add_test(parse, test_list_parse_errors);
    tcase_add_test(parse, test_path_check);
    suite_add_tcase(suite, parse);

    tcase_add_test(elf, test_elf_accepts_static);
    tcase_add_test(elf, test_elf_rejects_wx_and_32bit);
    tcase_add_test(elf, test_elf_rejects_other_violations);
    suite_add_tcase(suite, elf);

    tcase_add_checked_fixture(archive, temp_setup, temp_teardown);
    tcase_add_test(archive, test_manifest_layout);
    tcase_add_test(archive, test_cpio_parse_back);
    tcase_add_test(archive, test_load_rejects_bad_elf);
    tcase_add_test(archive, test_load_guest_image);
    suite_add_tcase(suite, archive);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(pack_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
