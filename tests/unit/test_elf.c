/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests (Check) for microkernel/core/elf.c, the ELF64 validator.
 * Images are built in memory with the host's <elf.h> (independent of the
 * kernel's private structure definitions), then broken one field at a time.
 */
#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <copra/syscall.h>
#include "core/elf.h"

#define PAGE 0x1000ull
#define FILE_SIZE 0x3000u
#define TEXT_VADDR 0x401000ull
#define DATA_VADDR 0x403000ull

_Alignas(8) static uint8_t file[0x4000];
static size_t size;
static struct elf_image img;
static const char *error;

static Elf64_Ehdr *ehdr(void) { return (Elf64_Ehdr *)file; }
static Elf64_Phdr *phdr(unsigned i) { return (Elf64_Phdr *)(file + ehdr()->e_phoff) + i; }

static void set_phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                     uint64_t filesz, uint64_t memsz)
{
    Elf64_Phdr *p = phdr(i);
    p->p_type = type;
    p->p_flags = flags;
    p->p_offset = offset;
    p->p_vaddr = vaddr;
    p->p_paddr = vaddr;
    p->p_filesz = filesz;
    p->p_memsz = memsz;
    p->p_align = PAGE;
}

/* Empty ELF64 x86-64 executable header with `phnum` zeroed program headers. */
static void build_header(unsigned phnum)
{
    memset(file, 0, sizeof file);
    size = FILE_SIZE;
    Elf64_Ehdr *e = ehdr();
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = ELFCLASS64;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_ident[EI_VERSION] = EV_CURRENT;
    e->e_type = ET_EXEC;
    e->e_machine = EM_X86_64;
    e->e_version = EV_CURRENT;
    e->e_phoff = sizeof(Elf64_Ehdr);
    e->e_ehsize = sizeof(Elf64_Ehdr);
    e->e_phentsize = sizeof(Elf64_Phdr);
    e->e_phnum = (uint16_t)phnum;
}

/* A static executable like the linker makes: text (R+X), data+bss (R+W),
 * plus headers the validator must skip. */
static void build_valid(void)
{
    build_header(4);
    ehdr()->e_entry = TEXT_VADDR + 0x10;
    set_phdr(0, PT_LOAD, PF_R | PF_X, 0x1000, TEXT_VADDR, 0x200, 0x200);
    set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, DATA_VADDR, 0x100, 0x1800);
    set_phdr(2, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
    set_phdr(3, PT_NOTE, PF_R, 0x200, 0, 0x20, 0x20);
    memset(file + 0x1000, 0xcc, 0x200);
}

static int validate(void)
{
    memset(&img, 0x5a, sizeof img);
    error = NULL;
    return elf_validate(file, size, COPRA_USER_BASE, COPRA_USER_END, &img, &error);
}

static void expect_ok(void)
{
    int r = validate();
    ck_assert_msg(r == 0, "rejected: %s", error ? error : "(no message)");
}

#define expect_reject(message)                         \
    do {                                               \
        ck_assert_int_eq(validate(), -1);              \
        ck_assert_ptr_nonnull(error);                  \
        ck_assert_str_eq(error, (message));            \
    } while (0)

/* Invariants of every accepted image. */
static void check_image(void)
{
    ck_assert_uint_ge(img.nsegments, 1);
    ck_assert_uint_le(img.nsegments, ELF_MAX_SEGMENTS);
    for (unsigned i = 0; i < img.nsegments; i++) {
        const struct elf_segment *s = &img.seg[i];
        ck_assert_uint_eq(s->vaddr % PAGE, 0);
        ck_assert_uint_ge(s->vaddr, COPRA_USER_BASE);
        ck_assert_uint_ge(s->pages, 1);
        ck_assert_uint_le(s->pages, (COPRA_USER_END - s->vaddr) / PAGE);
        ck_assert_uint_ge(s->vaddr_exact, s->vaddr);
        ck_assert_uint_lt(s->vaddr_exact - s->vaddr, PAGE);
        ck_assert_uint_le(s->file_off, size);
        ck_assert_uint_le(s->filesz, size - s->file_off);
        ck_assert(!((s->prot & COPRA_PROT_WRITE) && (s->prot & COPRA_PROT_EXEC)));
    }
}

START_TEST(test_valid_static_executable)
{
    build_valid();
    expect_ok();
    check_image();
    ck_assert_uint_eq(img.entry, TEXT_VADDR + 0x10);
    ck_assert_uint_eq(img.nsegments, 2);

    const struct elf_segment *text = &img.seg[0];
    ck_assert_uint_eq(text->vaddr, TEXT_VADDR);
    ck_assert_uint_eq(text->vaddr_exact, TEXT_VADDR);
    ck_assert_uint_eq(text->pages, 1);
    ck_assert_uint_eq(text->file_off, 0x1000);
    ck_assert_uint_eq(text->filesz, 0x200);
    ck_assert_uint_eq(text->prot, COPRA_PROT_READ | COPRA_PROT_EXEC);

    const struct elf_segment *data = &img.seg[1];
    ck_assert_uint_eq(data->vaddr, DATA_VADDR);
    ck_assert_uint_eq(data->pages, 2);          /* 0x1800 bytes of memory */
    ck_assert_uint_eq(data->file_off, 0x2000);
    ck_assert_uint_eq(data->filesz, 0x100);
    ck_assert_uint_eq(data->prot, COPRA_PROT_READ | COPRA_PROT_WRITE);
}
END_TEST

START_TEST(test_unaligned_segment_start)
{
    build_valid();
    /* Starts mid-page; same offset within the page in the file. */
    set_phdr(0, PT_LOAD, PF_R | PF_X, 0x1234, TEXT_VADDR + 0x234, 0x100, 0x1000);
    ehdr()->e_entry = TEXT_VADDR + 0x234;
    expect_ok();
    check_image();
    ck_assert_uint_eq(img.seg[0].vaddr, TEXT_VADDR);
    ck_assert_uint_eq(img.seg[0].vaddr_exact, TEXT_VADDR + 0x234);
    ck_assert_uint_eq(img.seg[0].file_off, 0x1234);
    /* [0x401234, 0x402234) touches two pages. */
    ck_assert_uint_eq(img.seg[0].pages, 2);
}
END_TEST

START_TEST(test_prot_mapping)
{
    static const struct { uint32_t flags; uint32_t prot; } cases[] = {
        { PF_R, COPRA_PROT_READ },
        { PF_W, COPRA_PROT_WRITE },
        { PF_R | PF_W, COPRA_PROT_READ | COPRA_PROT_WRITE },
        { 0, 0 },
        { PF_R | 0x00f00000 /* PF_MASKOS bits */, COPRA_PROT_READ },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_valid();
        set_phdr(1, PT_LOAD, cases[i].flags, 0x2000, DATA_VADDR, 0x100, 0x1000);
        expect_ok();
        ck_assert_uint_eq(img.seg[1].prot, cases[i].prot);
    }
    /* Execute-only text. */
    build_valid();
    phdr(0)->p_flags = PF_X;
    expect_ok();
    ck_assert_uint_eq(img.seg[0].prot, COPRA_PROT_EXEC);
}
END_TEST

START_TEST(test_entry_bounds)
{
    build_valid();
    ehdr()->e_entry = TEXT_VADDR;                    /* first byte */
    expect_ok();
    ehdr()->e_entry = TEXT_VADDR + 0x1ff;            /* last byte */
    expect_ok();
    /* In the bss part of an executable segment still counts as inside it. */
    phdr(0)->p_memsz = 0x800;
    ehdr()->e_entry = TEXT_VADDR + 0x7ff;
    expect_ok();
}
END_TEST

START_TEST(test_ignored_headers)
{
    build_valid();
    /* A PT_LOAD with memsz 0 maps nothing and is skipped, whatever its fields say. */
    set_phdr(2, PT_LOAD, PF_R | PF_W | PF_X, UINT64_MAX, UINT64_MAX, UINT64_MAX, 0);
    /* Unknown and OS-specific types are skipped too. */
    set_phdr(3, PT_GNU_RELRO, PF_R, UINT64_MAX, 0, UINT64_MAX, UINT64_MAX);
    expect_ok();
    ck_assert_uint_eq(img.nsegments, 2);
}
END_TEST

START_TEST(test_user_range_boundaries)
{
    build_valid();
    set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, COPRA_USER_BASE, 0x100, 0x1000);
    expect_ok();
    ck_assert_uint_eq(img.seg[1].vaddr, COPRA_USER_BASE);
    /* Ends exactly at the end of user space. */
    set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, COPRA_USER_END - PAGE, 0x100, PAGE);
    expect_ok();
    ck_assert_uint_eq(img.seg[1].pages, 1);
    check_image();
}
END_TEST

START_TEST(test_max_segments)
{
    build_header(ELF_MAX_SEGMENTS + 1);
    ehdr()->e_entry = 0x400000;
    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        set_phdr(i, PT_LOAD, i == 0 ? PF_R | PF_X : PF_R, 0, 0x400000 + i * PAGE, 0x10, PAGE);
    /* The last header is something else: 16 loadable segments are fine. */
    set_phdr(ELF_MAX_SEGMENTS, PT_NOTE, PF_R, 0, 0, 0, 0);
    expect_ok();
    ck_assert_uint_eq(img.nsegments, ELF_MAX_SEGMENTS);
    check_image();
    /* A 17th is not. */
    set_phdr(ELF_MAX_SEGMENTS, PT_LOAD, PF_R, 0, 0x400000 + ELF_MAX_SEGMENTS * PAGE, 0x10, PAGE);
    expect_reject("too many loadable segments");
}
END_TEST

START_TEST(test_reject_short_file)
{
    build_valid();
    for (size = 0; size < sizeof(Elf64_Ehdr); size++)
        expect_reject("file is smaller than an ELF header");
}
END_TEST

START_TEST(test_reject_bad_magic)
{
    for (int i = 0; i < 4; i++) {
        build_valid();
        file[i] ^= 0x20;
        expect_reject("no ELF magic");
    }
}
END_TEST

START_TEST(test_reject_class_data_version)
{
    build_valid();
    file[EI_CLASS] = ELFCLASS32;
    expect_reject("not ELFCLASS64");
    file[EI_CLASS] = ELFCLASSNONE;
    expect_reject("not ELFCLASS64");
    build_valid();
    file[EI_DATA] = ELFDATA2MSB;
    expect_reject("not little-endian");
    file[EI_DATA] = ELFDATANONE;
    expect_reject("not little-endian");
    build_valid();
    file[EI_VERSION] = 0;
    expect_reject("bad ELF version");
    build_valid();
    ehdr()->e_version = 2;
    expect_reject("bad ELF version");
}
END_TEST

START_TEST(test_reject_type_and_machine)
{
    static const uint16_t types[] = { ET_NONE, ET_REL, ET_DYN, ET_CORE, 0xfe00 };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        build_valid();
        ehdr()->e_type = types[i];
        expect_reject("not an executable (ET_EXEC)");
    }
    static const uint16_t machines[] = { EM_NONE, EM_386, EM_AARCH64, EM_RISCV, EM_X86_64 + 256 };
    for (size_t i = 0; i < sizeof machines / sizeof machines[0]; i++) {
        build_valid();
        ehdr()->e_machine = machines[i];
        expect_reject("not x86-64");
    }
}
END_TEST

START_TEST(test_reject_phentsize)
{
    static const uint16_t sizes[] = { 0, 32, 55, 57, 64, 0xffff };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        build_valid();
        ehdr()->e_phentsize = sizes[i];
        expect_reject("bad program header size");
    }
}
END_TEST

START_TEST(test_reject_phnum)
{
    build_valid();
    ehdr()->e_phnum = 0;
    expect_reject("program header count out of range");
    ehdr()->e_phnum = 65;
    expect_reject("program header count out of range");
    ehdr()->e_phnum = PN_XNUM;
    expect_reject("program header count out of range");
    /* 64 is the limit: 60 padding PT_NULL headers after the valid four. */
    ehdr()->e_phnum = 64;
    expect_ok();
}
END_TEST

START_TEST(test_reject_phoff)
{
    static const uint64_t offsets[] = {
        FILE_SIZE,                                  /* at the end */
        FILE_SIZE - 3 * sizeof(Elf64_Phdr),         /* the 4th header is cut */
        FILE_SIZE + 8,
        UINT64_MAX & ~7ull,
        0x8000000000000000ull,
        (uint64_t)-(int64_t)(4 * sizeof(Elf64_Phdr)) & ~7ull, /* wraps to a small end */
    };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        build_valid();
        ehdr()->e_phoff = offsets[i];
        expect_reject("program headers run past the end of the file");
    }
    /* Exactly at the end of the file is fine. */
    build_valid();
    uint64_t last = FILE_SIZE - 4 * sizeof(Elf64_Phdr);
    memmove(file + last, file + sizeof(Elf64_Ehdr), 4 * sizeof(Elf64_Phdr));
    ehdr()->e_phoff = last;
    expect_ok();
    /* Misaligned. */
    build_valid();
    memmove(file + 0x41, file + 0x40, 4 * sizeof(Elf64_Phdr));
    ehdr()->e_phoff = 0x41;
    expect_reject("program headers are misaligned");
}
END_TEST

START_TEST(test_reject_dynamic)
{
    build_valid();
    set_phdr(2, PT_INTERP, PF_R, 0x200, 0, 0x1c, 0x1c);
    expect_reject("dynamically linked (PT_INTERP/PT_DYNAMIC)");
    build_valid();
    set_phdr(3, PT_DYNAMIC, PF_R | PF_W, 0x2000, DATA_VADDR, 0x100, 0x100);
    expect_reject("dynamically linked (PT_INTERP/PT_DYNAMIC)");
    /* Even before any PT_LOAD. */
    build_valid();
    set_phdr(0, PT_INTERP, 0, 0, 0, 0, 0);
    expect_reject("dynamically linked (PT_INTERP/PT_DYNAMIC)");
}
END_TEST

START_TEST(test_reject_write_execute)
{
    build_valid();
    phdr(0)->p_flags = PF_R | PF_W | PF_X;
    expect_reject("segment is writable and executable");
    build_valid();
    phdr(1)->p_flags = PF_W | PF_X;
    expect_reject("segment is writable and executable");
}
END_TEST

START_TEST(test_reject_filesz_over_memsz)
{
    build_valid();
    phdr(1)->p_filesz = 0x1801;
    expect_reject("segment file size exceeds memory size");
    build_valid();
    phdr(0)->p_filesz = UINT64_MAX;
    expect_reject("segment file size exceeds memory size");
}
END_TEST

START_TEST(test_reject_data_past_end)
{
    build_valid();
    phdr(1)->p_filesz = FILE_SIZE - 0x2000 + 1;
    expect_reject("segment data runs past the end of the file");
    /* Exactly to the end is fine. */
    phdr(1)->p_filesz = FILE_SIZE - 0x2000;
    expect_ok();
    /* Offsets past the end, with and without data. */
    build_valid();
    set_phdr(1, PT_LOAD, PF_R | PF_W, FILE_SIZE + PAGE, DATA_VADDR, 1, PAGE);
    expect_reject("segment data runs past the end of the file");
    set_phdr(1, PT_LOAD, PF_R | PF_W, FILE_SIZE + PAGE, DATA_VADDR, 0, PAGE);
    expect_reject("segment data runs past the end of the file");
    /* offset + filesz wraps past 2^64. */
    build_valid();
    set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, DATA_VADDR, UINT64_MAX - 0xfff, UINT64_MAX - 0xfff);
    expect_reject("segment data runs past the end of the file");
    /* The file shrinks under a valid header set. */
    build_valid();
    size = 0x2000 + 0xff;
    expect_reject("segment data runs past the end of the file");
}
END_TEST

START_TEST(test_reject_bad_alignment)
{
    build_valid();
    phdr(0)->p_align = 0x3000;
    expect_reject("segment alignment is not a power of two");
    /* 0 and 1 mean "no alignment". */
    phdr(0)->p_align = 0;
    expect_ok();
    phdr(0)->p_align = 1;
    expect_ok();
}
END_TEST

START_TEST(test_reject_vaddr_offset_mismatch)
{
    build_valid();
    phdr(0)->p_offset = 0x1008;
    expect_reject("segment address and offset disagree modulo the page size");
    build_valid();
    phdr(1)->p_vaddr = DATA_VADDR + 0x10;
    expect_reject("segment address and offset disagree modulo the page size");
}
END_TEST

START_TEST(test_reject_outside_user_range)
{
    static const struct { uint64_t vaddr, memsz; } cases[] = {
        { 0, PAGE },                                            /* NULL page */
        { COPRA_USER_BASE - PAGE, PAGE },                       /* below base */
        { COPRA_USER_BASE - PAGE, 2 * PAGE },                   /* straddles base */
        { COPRA_USER_END, PAGE },                               /* at the end */
        { COPRA_USER_END - PAGE, PAGE + 1 },                    /* one byte over */
        { COPRA_USER_END - PAGE, 2 * PAGE },
        { 0xffff800000000000ull, PAGE },                        /* kernel half */
        { 0xfffffffffffff000ull, 2 * PAGE },                    /* wraps */
        { DATA_VADDR, UINT64_MAX - DATA_VADDR + 2 },            /* end wraps to 1 */
        { DATA_VADDR, UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_valid();
        set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, cases[i].vaddr, 0x10, cases[i].memsz);
        ck_assert_int_eq(validate(), -1);
        ck_assert_msg(strcmp(error, "segment lies outside the user address range") == 0,
                      "case %zu: %s", i, error);
    }
}
END_TEST

START_TEST(test_reject_overlap)
{
    static const struct { uint64_t offset, vaddr, memsz; } cases[] = {
        { 0x2000, TEXT_VADDR, 0x100 },              /* same start */
        { 0x2800, TEXT_VADDR + 0x800, 0x100 },      /* same page, disjoint bytes */
        { 0x2000, TEXT_VADDR - PAGE, 2 * PAGE },    /* covers the start */
        { 0x2000, TEXT_VADDR - PAGE, 8 * PAGE },    /* contains it */
        { 0x2100, TEXT_VADDR + 0x100, 0x10 },       /* inside it */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_valid();
        set_phdr(1, PT_LOAD, PF_R | PF_W, cases[i].offset, cases[i].vaddr, 0x10, cases[i].memsz);
        ck_assert_int_eq(validate(), -1);
        ck_assert_msg(strcmp(error, "segments overlap") == 0, "case %zu: %s", i, error);
        /* And with the two headers in the other order. */
        Elf64_Phdr t = *phdr(0);
        *phdr(0) = *phdr(1);
        *phdr(1) = t;
        ck_assert_int_eq(validate(), -1);
        ck_assert_msg(strcmp(error, "segments overlap") == 0, "case %zu swapped: %s", i, error);
    }
    /* Adjacent pages do not overlap. */
    build_valid();
    set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, TEXT_VADDR + PAGE, 0x10, PAGE);
    expect_ok();
    set_phdr(1, PT_LOAD, PF_R | PF_W, 0x2000, TEXT_VADDR - PAGE, 0x10, PAGE);
    expect_ok();
}
END_TEST

START_TEST(test_reject_entry)
{
    static const uint64_t entries[] = {
        0, DATA_VADDR, DATA_VADDR + 0x17ff,   /* not executable */
        TEXT_VADDR - 1, TEXT_VADDR + 0x200,   /* just outside the text */
        TEXT_VADDR + PAGE - 1,                /* same page as the text, past its end */
        UINT64_MAX,
    };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        build_valid();
        ehdr()->e_entry = entries[i];
        expect_reject("entry point is not in an executable segment");
    }
}
END_TEST

START_TEST(test_reject_no_loadable_segment)
{
    build_valid();
    phdr(0)->p_type = PT_NULL;
    phdr(1)->p_type = PT_NOTE;
    expect_reject("no loadable segment");
    build_valid();
    phdr(0)->p_memsz = 0;
    phdr(0)->p_filesz = 0;
    phdr(1)->p_memsz = 0;
    phdr(1)->p_filesz = 0;
    expect_reject("no loadable segment");
}
END_TEST

static Suite *elf_suite(void)
{
    Suite *s = suite_create("elf");
    TCase *tc = tcase_create("accept");
    tcase_add_test(tc, test_valid_static_executable);
    tcase_add_test(tc, test_unaligned_segment_start);
    tcase_add_test(tc, test_prot_mapping);
    tcase_add_test(tc, test_entry_bounds);
    tcase_add_test(tc, test_ignored_headers);
    tcase_add_test(tc, test_user_range_boundaries);
    tcase_add_test(tc, test_max_segments);
    suite_add_tcase(s, tc);

    tc = tcase_create("reject");
    tcase_add_test(tc, test_reject_short_file);
    tcase_add_test(tc, test_reject_bad_magic);
    tcase_add_test(tc, test_reject_class_data_version);
    tcase_add_test(tc, test_reject_type_and_machine);
    tcase_add_test(tc, test_reject_phentsize);
    tcase_add_test(tc, test_reject_phnum);
    tcase_add_test(tc, test_reject_phoff);
    tcase_add_test(tc, test_reject_dynamic);
    tcase_add_test(tc, test_reject_write_execute);
    tcase_add_test(tc, test_reject_filesz_over_memsz);
    tcase_add_test(tc, test_reject_data_past_end);
    tcase_add_test(tc, test_reject_bad_alignment);
    tcase_add_test(tc, test_reject_vaddr_offset_mismatch);
    tcase_add_test(tc, test_reject_outside_user_range);
    tcase_add_test(tc, test_reject_overlap);
    tcase_add_test(tc, test_reject_entry);
    tcase_add_test(tc, test_reject_no_loadable_segment);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(elf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
