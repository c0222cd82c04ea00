/* SPDX-License-Identifier: MIT */
/*
 * The VMM's multiboot loader (issue 9, item 7): this guest is linked at
 * 0x8000, in low memory (GUEST_BASE), and its VM description (mbload.conf)
 * gives a command line with spaces and '#' (quoted) and two modules.  It
 * checks that the boot information, the module list, the strings and the
 * modules' bytes are where the information says, page-aligned, after the
 * image and apart from each other.  The command line may start with the
 * kernel's path (GRUB and QEMU put it there; Copra gives it as written).
 *
 * mbload-high is the same guest at 1 MiB, to compare with plain QEMU, whose
 * multiboot loader writes its information at 0x9000 (over an image at
 * 0x8000: QEMU cannot run mbload itself):
 *   qemu-system-x86_64 -M pc -cpu EPYC -m 64 -display none -serial stdio \
 *       -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel mbload-high.elf \
 *       -append "boot test: two  spaces #hash" \
 *       -initrd "mbload-mod1.txt first module,mbload-mod2.txt"
 * (from tests/guests, with mbload-high.elf copied there or given by path).
 */
#include "guest.h"

#ifndef MBLOAD_BASE
#define MBLOAD_BASE 0x8000
#endif

#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_module {
    uint32_t start, end, string, reserved;
};

extern const char __image_start[], __image_end[];

static size_t length(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = length(s), t = length(tail);
    return n >= t && memcmp(s + n - t, tail, t) == 0;
}

static bool apart(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a_end <= b || b_end <= a;
}

static void check_module(const struct mb_module *m, const char *string, const char *bytes,
                         uint64_t image_end)
{
    const char *s = (const char *)(uintptr_t)m->string;
    guest_printf("module 0x%x..0x%x '%s'\n", m->start, m->end, s);
    CHECK("module page-aligned", m->start % 4096 == 0);
    CHECK("module after the image", m->start >= image_end);
    CHECK("module string", length(s) == length(string) && memcmp(s, string, length(string)) == 0);
    CHECK_EQ("module size", m->end - m->start, length(bytes));
    CHECK("module bytes", memcmp((const void *)(uintptr_t)m->start, bytes, length(bytes)) == 0);
}

int guest_main(unsigned cpu, uint32_t info_gpa)
{
    (void)cpu;
    uint64_t start = (uintptr_t)__image_start, end = (uintptr_t)__image_end;
    guest_printf("image 0x%llx..0x%llx, multiboot info at 0x%x\n", (unsigned long long)start,
                 (unsigned long long)end, info_gpa);
    CHECK_EQ("loaded at MBLOAD_BASE", start, MBLOAD_BASE);
    CHECK("multiboot information", info_gpa != 0);
    if (info_gpa == 0)
        return guest_finish();
    const struct mb_info *info = (const struct mb_info *)(uintptr_t)info_gpa;
    CHECK("information outside the image", apart(info_gpa, info_gpa + sizeof *info, start, end));

    CHECK("cmdline flag", info->flags & MB_INFO_CMDLINE);
    if (info->flags & MB_INFO_CMDLINE) {
        const char *c = (const char *)(uintptr_t)info->cmdline;
        guest_printf("cmdline '%s'\n", c);
        CHECK("cmdline with spaces and '#'", ends_with(c, "boot test: two  spaces #hash"));
        CHECK("cmdline outside the image", apart(info->cmdline, info->cmdline + length(c) + 1, start, end));
    }
    CHECK("modules flag", info->flags & MB_INFO_MODS);
    CHECK_EQ("two modules", info->mods_count, 2);
    if (!(info->flags & MB_INFO_MODS) || info->mods_count != 2)
        return guest_finish();
    const struct mb_module *m = (const struct mb_module *)(uintptr_t)info->mods_addr;
    CHECK("module list outside the image", apart(info->mods_addr, info->mods_addr + 2 * sizeof *m, start, end));
    check_module(&m[0], "mbload-mod1.txt first module", "Copra multiboot module one\n", end);
    check_module(&m[1], "mbload-mod2.txt", "two\n", end);
    CHECK("modules apart", apart(m[0].start, m[0].end, m[1].start, m[1].end));
    CHECK("modules apart from the information",
          apart(m[0].start, m[0].end, info_gpa, info_gpa + sizeof *info) &&
              apart(m[1].start, m[1].end, info_gpa, info_gpa + sizeof *info));
    return guest_finish();
}
