/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests (Check) for microkernel/core/cpio.c, the newc parser.
 * The archives are built here by a small newc writer, then broken one field
 * at a time: every field of the format is one the parser must not trust.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpio.h"

/* newc header: "070701" then 13 fields of 8 hex digits (the order of cpio(5)). */
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR,
       F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK, F_COUNT };

#define FIELD_OFFSET(field) (6u + 8u * (field))

struct archive {
    uint8_t buf[3 * 4096 + 1024];
    size_t size;
};

static struct archive ar;

static void pad_to_4(struct archive *a)
{
    while (a->size % 4)
        a->buf[a->size++] = 0;
}

static void set_field(struct archive *a, size_t header, int field, uint32_t value)
{
    char text[9];
    snprintf(text, sizeof text, "%08X", value);
    memcpy(a->buf + header + FIELD_OFFSET(field), text, 8);
}

/* Appends one entry whose name is `namesize` bytes (NUL included) of `name`;
 * returns the offset of its header. */
static size_t add_entry_sized(struct archive *a, const char *name, size_t namesize, uint32_t mode,
                              const void *data, size_t len)
{
    size_t header = a->size;
    ck_assert_uint_le(header + CPIO_HEADER_SIZE + namesize + 3 + len + 3, sizeof a->buf);
    memcpy(a->buf + header, "070701", 6);
    static uint32_t ino = 100;
    const uint32_t fields[F_COUNT] = {
        [F_INO] = ino++, [F_MODE] = mode, [F_NLINK] = 1, [F_MTIME] = 0x5f000000,
        [F_FILESIZE] = (uint32_t)len, [F_NAMESIZE] = (uint32_t)namesize,
    };
    for (int f = 0; f < F_COUNT; f++)
        set_field(a, header, f, fields[f]);
    a->size += CPIO_HEADER_SIZE;
    memcpy(a->buf + a->size, name, namesize);
    a->size += namesize;
    pad_to_4(a);
    if (len)
        memcpy(a->buf + a->size, data, len);
    a->size += len;
    pad_to_4(a);
    return header;
}

static size_t add_entry(struct archive *a, const char *name, uint32_t mode, const void *data, size_t len)
{
    return add_entry_sized(a, name, strlen(name) + 1, mode, data, len);
}

static size_t add_file(struct archive *a, const char *name, const char *text)
{
    return add_entry(a, name, CPIO_MODE_FILE | 0644, text, strlen(text));
}

static size_t add_trailer(struct archive *a)
{
    return add_entry(a, "TRAILER!!!", 0, NULL, 0);
}

static void setup(void)
{
    memset(&ar, 0xa5, sizeof ar);
    ar.size = 0;
}

/* Walks the archive from `offset`; the next call must fail with `message`,
 * at the header where it started, leaving *offset there. */
static void expect_error_at(size_t offset, const char *message)
{
    size_t off = offset;
    struct cpio_entry e;
    memset(&e, 0, sizeof e);
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ERROR);
    ck_assert_ptr_nonnull(error);
    ck_assert_str_eq(error, message);
    ck_assert_uint_eq(off, offset);
    ck_assert_ptr_null(e.name);   /* no entry handed out */
}

/* The first entry of a one-entry archive (plus trailer) is `message`. */
#define ck_first_fails(message) expect_error_at(0, (message))

/* Every returned entry lies inside the archive. */
static void check_entry_inside(const struct cpio_entry *e)
{
    const uint8_t *lo = ar.buf, *hi = ar.buf + ar.size;
    ck_assert((const uint8_t *)e->name >= lo + CPIO_HEADER_SIZE);
    ck_assert((const uint8_t *)e->name + e->name_len + 1 <= hi);
    ck_assert_uint_eq(strlen(e->name), e->name_len);
    ck_assert(e->data >= lo && e->data <= hi);
    ck_assert_uint_le(e->size, (uint64_t)(hi - e->data));
    ck_assert_uint_eq((uintptr_t)(e->data - lo) % 4, 0);
}

START_TEST(test_valid_archive)
{
    static const char long_text[] = "0123456789abcdef0123456789abcdef0123456789abcdef!";
    add_entry(&ar, "etc", CPIO_MODE_DIR | 0755, NULL, 0);
    add_file(&ar, "etc/hello.txt", "hello");        /* 5 bytes: data padded */
    add_file(&ar, "four", "four");                  /* exactly aligned data */
    add_file(&ar, "empty", "");
    add_file(&ar, "a", long_text);                  /* name of one character */
    add_entry(&ar, "bin", CPIO_MODE_DIR | 0700, NULL, 0);
    size_t trailer = add_trailer(&ar);

    static const struct { const char *name; uint32_t mode; const char *data; } expect[] = {
        { "etc", CPIO_MODE_DIR | 0755, "" },
        { "etc/hello.txt", CPIO_MODE_FILE | 0644, "hello" },
        { "four", CPIO_MODE_FILE | 0644, "four" },
        { "empty", CPIO_MODE_FILE | 0644, "" },
        { "a", CPIO_MODE_FILE | 0644, long_text },
        { "bin", CPIO_MODE_DIR | 0700, "" },
    };
    size_t off = 0, prev = 0;
    const char *error = NULL;
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        struct cpio_entry e;
        ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
        check_entry_inside(&e);
        ck_assert_str_eq(e.name, expect[i].name);
        ck_assert_uint_eq(e.name_len, strlen(expect[i].name));
        ck_assert_uint_eq(e.mode, expect[i].mode);
        ck_assert_uint_eq(e.size, strlen(expect[i].data));
        ck_assert_mem_eq(e.data, expect[i].data, e.size);
        /* Offsets move forward to the next 4-aligned header. */
        ck_assert_uint_gt(off, prev);
        ck_assert_uint_eq(off % 4, 0);
        prev = off;
    }
    ck_assert_uint_eq(off, trailer);
    struct cpio_entry e;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_END);
    /* END leaves the offset on the trailer, so a second call says END again. */
    ck_assert_uint_eq(off, trailer);
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_END);
}
END_TEST

START_TEST(test_trailer_only)
{
    add_trailer(&ar);
    size_t off = 0;
    struct cpio_entry e;
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_END);
    ck_assert_uint_eq(off, 0);
    /* Bytes after the trailer (padding to 512, as GNU cpio writes) are ignored. */
    memset(ar.buf + ar.size, 0, 512 - ar.size);
    ar.size = 512;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_END);
}
END_TEST

START_TEST(test_lowercase_hex)
{
    size_t h = add_file(&ar, "x", "0123456789ab");
    add_trailer(&ar);
    /* GNU cpio writes lower case; the size field "0000000c". */
    memcpy(ar.buf + h + FIELD_OFFSET(F_FILESIZE), "0000000c", 8);
    memcpy(ar.buf + h + FIELD_OFFSET(F_MODE), "000081a4", 8);
    size_t off = 0;
    struct cpio_entry e;
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    ck_assert_uint_eq(e.size, 12);
    ck_assert_uint_eq(e.mode, 0100644);
}
END_TEST

START_TEST(test_name_max)
{
    static char name[CPIO_NAME_MAX];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    add_entry_sized(&ar, name, CPIO_NAME_MAX, CPIO_MODE_FILE | 0600, "z", 1);
    add_trailer(&ar);
    size_t off = 0;
    struct cpio_entry e;
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    check_entry_inside(&e);
    ck_assert_uint_eq(e.name_len, CPIO_NAME_MAX - 1);
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_END);
}
END_TEST

START_TEST(test_empty_and_short_input)
{
    expect_error_at(0, "archive ends without TRAILER!!!");
    add_file(&ar, "f", "data");
    add_trailer(&ar);
    size_t full = ar.size;
    /* Every truncation inside the first header. */
    for (size_t n = 0; n < CPIO_HEADER_SIZE; n++) {
        ar.size = n;
        expect_error_at(0, "archive ends without TRAILER!!!");
    }
    ar.size = full;
    /* Offsets at or past the end. */
    expect_error_at(full, "archive ends without TRAILER!!!");
    expect_error_at(full + 4, "archive ends without TRAILER!!!");
    expect_error_at(SIZE_MAX & ~(size_t)3, "archive ends without TRAILER!!!");
}
END_TEST

START_TEST(test_truncated_anywhere)
{
    add_entry(&ar, "dir", CPIO_MODE_DIR | 0755, NULL, 0);
    add_file(&ar, "dir/file", "some file contents");
    add_trailer(&ar);
    size_t full = ar.size;
    /* Cut the archive at every length: the walk must end in an error (never
     * END, since the trailer is cut too) and never hand out bytes past the cut. */
    for (size_t n = 0; n < full - 3; n++) {
        ar.size = n;
        size_t off = 0;
        int status;
        int steps = 0;
        struct cpio_entry e;
        const char *error = NULL;
        while ((status = cpio_next(ar.buf, ar.size, &off, &e, &error)) == CPIO_ENTRY) {
            check_entry_inside(&e);
            ck_assert_uint_le(off, ar.size);
            ck_assert_int_lt(++steps, 3);
        }
        ck_assert_msg(status == CPIO_ERROR, "cut at %zu: status %d", n, status);
        ck_assert_ptr_nonnull(error);
    }
}
END_TEST

START_TEST(test_no_trailer)
{
    add_file(&ar, "one", "1");
    add_file(&ar, "two", "22");
    size_t off = 0;
    struct cpio_entry e;
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    ck_assert_uint_eq(off, ar.size);
    expect_error_at(off, "archive ends without TRAILER!!!");
}
END_TEST

START_TEST(test_last_data_unpadded)
{
    /* An archive whose last bytes are file data with no padding after it:
     * the offset is clamped to the end, then the missing trailer is reported. */
    add_file(&ar, "f", "abcde");
    ar.size -= 3;   /* drop the padding */
    size_t off = 0;
    struct cpio_entry e;
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    ck_assert_uint_eq(e.size, 5);
    ck_assert_uint_eq(off, ar.size);
    expect_error_at(off, "archive ends without TRAILER!!!");
}
END_TEST

START_TEST(test_bad_magic)
{
    static const char *const magics[] = { "070702", "070707", "070700", "170701", "07070",
                                          "\0\0\0\0\0\0", "707010" };
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        setup();
        add_file(&ar, "f", "x");
        add_trailer(&ar);
        memcpy(ar.buf, magics[i], 6);
        ck_first_fails("bad magic (not a newc archive)");
    }
    /* A bad magic on the second header is found there. */
    setup();
    add_file(&ar, "f", "x");
    size_t second = add_trailer(&ar);
    ar.buf[second + 5] = '2';
    size_t off = 0;
    struct cpio_entry e;
    const char *error;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    ck_assert_uint_eq(off, second);
    expect_error_at(second, "bad magic (not a newc archive)");
}
END_TEST

START_TEST(test_non_hex_digit)
{
    static const char bad[] = { 'g', 'G', 'x', ' ', '-', '+', '\0', ':', '@', '`', 0x7f, (char)0xff };
    /* Every byte of every field, with a few non-hex characters. */
    for (int field = 0; field < F_COUNT; field++) {
        for (int pos = 0; pos < 8; pos++) {
            char c = bad[(size_t)(field * 8 + pos) % sizeof bad];
            setup();
            add_file(&ar, "f", "x");
            add_trailer(&ar);
            ar.buf[FIELD_OFFSET(field) + pos] = (uint8_t)c;
            ck_first_fails("header field is not 8 hex digits");
        }
    }
}
END_TEST

START_TEST(test_namesize_out_of_range)
{
    static const uint32_t sizes[] = { 0, 1, CPIO_NAME_MAX + 1, 0x10000, 0x7fffffff, 0xffffffff };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        setup();
        size_t h = add_file(&ar, "name", "x");
        add_trailer(&ar);
        set_field(&ar, h, F_NAMESIZE, sizes[i]);
        ck_first_fails("name size out of range");
    }
}
END_TEST

START_TEST(test_name_past_end)
{
    /* Name size in range but larger than what is left of the archive. */
    size_t h = add_file(&ar, "name", "x");
    set_field(&ar, h, F_NAMESIZE, CPIO_NAME_MAX);
    ck_first_fails("name runs past the end of the archive");
    /* The name's NUL is exactly one byte past the end. */
    setup();
    add_entry_sized(&ar, "abc", 4, CPIO_MODE_FILE, NULL, 0);
    ar.size = CPIO_HEADER_SIZE + 3;
    ck_first_fails("name runs past the end of the archive");
}
END_TEST

START_TEST(test_name_without_nul)
{
    /* namesize 3 over the name "abc": its last byte is 'c', not NUL. */
    add_entry_sized(&ar, "abc", 3, CPIO_MODE_FILE | 0644, "data", 4);
    add_trailer(&ar);
    ck_first_fails("name is not NUL-terminated");
}
END_TEST

START_TEST(test_nul_inside_name)
{
    add_entry_sized(&ar, "a\0b", 4, CPIO_MODE_FILE | 0644, "data", 4);
    add_trailer(&ar);
    ck_first_fails("name contains a NUL byte");
    /* A leading NUL too (an empty name padded out). */
    setup();
    add_entry_sized(&ar, "\0\0", 3, CPIO_MODE_FILE | 0644, "data", 4);
    add_trailer(&ar);
    ck_first_fails("name contains a NUL byte");
}
END_TEST

START_TEST(test_data_past_end)
{
    size_t h = add_file(&ar, "f", "hello");
    size_t full = ar.size;
    /* The data starts after the header and the name "f\0", padded to 4. */
    size_t data = (h + CPIO_HEADER_SIZE + 2 + 3) & ~(size_t)3;
    ck_assert_mem_eq(ar.buf + data, "hello", 5);
    /* One byte more than there is. */
    set_field(&ar, h, F_FILESIZE, (uint32_t)(full - data + 1));
    ck_first_fails("file data runs past the end of the archive");
    set_field(&ar, h, F_FILESIZE, 0xffffffff);
    ck_first_fails("file data runs past the end of the archive");
    set_field(&ar, h, F_FILESIZE, 0x80000000);
    ck_first_fails("file data runs past the end of the archive");
    /* Exactly up to the end is fine. */
    set_field(&ar, h, F_FILESIZE, (uint32_t)(full - data));
    size_t off = 0;
    struct cpio_entry e;
    const char *error;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    check_entry_inside(&e);
    ck_assert_uint_eq(off, full);

    /* The name ends at the end of the archive, the data would start past it. */
    setup();
    add_entry_sized(&ar, "ab", 3, CPIO_MODE_FILE, NULL, 0);
    ar.size = CPIO_HEADER_SIZE + 3;     /* the name's padding byte is missing */
    set_field(&ar, 0, F_FILESIZE, 0);
    ck_first_fails("file data runs past the end of the archive");
}
END_TEST

START_TEST(test_unsupported_types)
{
    static const uint32_t types[] = { 0120000 /* symlink */, 0020000 /* char device */,
                                      0060000 /* block device */, 0010000 /* FIFO */,
                                      0140000 /* socket */, 0, 0170000, 0030000 };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        setup();
        add_entry(&ar, "link", types[i] | 0777, "target", 6);
        add_trailer(&ar);
        ck_first_fails("entry is neither a regular file nor a directory");
    }
}
END_TEST

START_TEST(test_directory_with_data)
{
    add_entry(&ar, "dir", CPIO_MODE_DIR | 0755, "oops", 4);
    add_trailer(&ar);
    ck_first_fails("directory entry has data");
}
END_TEST

START_TEST(test_misaligned_offset)
{
    add_file(&ar, "f", "x");
    add_file(&ar, "g", "y");
    add_trailer(&ar);
    for (size_t off = 1; off < 4; off++)
        expect_error_at(off, "header not 4-byte aligned");
    /* A header really there at an odd offset is still refused. */
    memmove(ar.buf + 1, ar.buf, ar.size);
    ar.size++;
    expect_error_at(1, "header not 4-byte aligned");
}
END_TEST

START_TEST(test_trailer_name_exact)
{
    /* Names that only look like the trailer are ordinary entries. */
    static const char *const names[] = { "TRAILER!!", "TRAILER!!!!", "TRAILER!!?", "trailer!!!" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        setup();
        add_file(&ar, names[i], "x");
        add_trailer(&ar);
        size_t off = 0;
        struct cpio_entry e;
        const char *error;
        ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
        ck_assert_str_eq(e.name, names[i]);
        ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_END);
    }
}
END_TEST

START_TEST(test_error_after_good_entries)
{
    add_file(&ar, "good", "1234");
    size_t bad = add_entry(&ar, "sym", 0120777, "x", 1);
    add_trailer(&ar);
    size_t off = 0;
    struct cpio_entry e;
    const char *error = NULL;
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ENTRY);
    ck_assert_uint_eq(off, bad);
    ck_assert_int_eq(cpio_next(ar.buf, ar.size, &off, &e, &error), CPIO_ERROR);
    ck_assert_uint_eq(off, bad);
    ck_assert_str_eq(error, "entry is neither a regular file nor a directory");
}
END_TEST

static Suite *cpio_suite(void)
{
    Suite *s = suite_create("cpio");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_valid_archive);
    tcase_add_test(tc, test_trailer_only);
    tcase_add_test(tc, test_lowercase_hex);
    tcase_add_test(tc, test_name_max);
    tcase_add_test(tc, test_empty_and_short_input);
    tcase_add_test(tc, test_truncated_anywhere);
    tcase_add_test(tc, test_no_trailer);
    tcase_add_test(tc, test_last_data_unpadded);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_non_hex_digit);
    tcase_add_test(tc, test_namesize_out_of_range);
    tcase_add_test(tc, test_name_past_end);
    tcase_add_test(tc, test_name_without_nul);
    tcase_add_test(tc, test_nul_inside_name);
    tcase_add_test(tc, test_data_past_end);
    tcase_add_test(tc, test_unsupported_types);
    tcase_add_test(tc, test_directory_with_data);
    tcase_add_test(tc, test_misaligned_offset);
    tcase_add_test(tc, test_trailer_name_exact);
    tcase_add_test(tc, test_error_after_good_entries);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cpio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
