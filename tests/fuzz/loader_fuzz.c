/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VMM's guest loader (servers/vmm/loader.c).
 * Build: clang -fsanitize=fuzzer,address,undefined -I abi -I servers/vmm \
 *            tests/fuzz/loader_fuzz.c servers/vmm/loader.c
 * The first input byte picks the format and the RAM size; the rest is the
 * image.  Besides memory errors, it traps when an accepted plan breaks the
 * loader's contract (segments inside RAM and the file, entry below 4 GiB
 * and inside a segment; a module and the boot information placed inside
 * RAM below 4 GiB, apart from every segment and from each other), and it
 * loads every accepted plan into a RAM buffer that ASan guards.  The module
 * is the image itself, so its size follows the input.
 */
#include <stdlib.h>
#include <string.h>

#include "loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_MAX (8u << 20)

static void check_message(const struct loader_error *error)
{
    if (memchr(error->message, '\0', sizeof error->message) == NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    struct loader_plan plan;
    struct loader_error error;

    if (size < 1)
        return 0;
    if (ram == NULL && (ram = malloc(RAM_MAX)) == NULL)
        return 0;
    enum vmm_guest_format format = data[0] & 1 ? VMM_GUEST_MULTIBOOT : VMM_GUEST_FLAT;
    /* 1..8 MiB, or 36 KiB. */
    uint64_t ram_size = (data[0] >> 1) & 7 ? ((uint64_t)((data[0] >> 1) & 7) + 1) << 20 : 0x9000;
    const uint8_t *image = data + 1;
    size_t image_size = size - 1;

    enum loader_status status = loader_parse(image, image_size, format, ram_size, &plan, &error);
    check_message(&error);
    if (status != error.status)
        __builtin_trap();
    if (status != LOADER_OK) {
        if (error.message[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (plan.nsegments == 0 || plan.nsegments > LOADER_SEGMENTS_MAX || plan.entry > UINT32_MAX)
        __builtin_trap();
    bool entry_inside = false;
    for (unsigned i = 0; i < plan.nsegments; i++) {
        const struct loader_segment *s = &plan.segments[i];
        if (s->gpa > ram_size || s->mem_size > ram_size - s->gpa || s->file_size > s->mem_size ||
            s->file_offset > image_size || s->file_size > image_size - s->file_offset)
            __builtin_trap();
        if (plan.entry >= s->gpa && plan.entry - s->gpa < s->mem_size)
            entry_inside = true;
    }
    if (!entry_inside)
        __builtin_trap();
    loader_load(&plan, image, image_size, ram, ram_size);
    if (!plan.multiboot)
        return 0;
    struct loader_module module = { .data = image, .size = image_size, .string = "module fuzz" };
    struct loader_layout layout;
    unsigned nmodules = data[0] >> 7;
    status = loader_place(&plan, ram_size, &module, nmodules, "fuzz", &layout, &error);
    check_message(&error);
    if (status != LOADER_OK)
        return status == LOADER_ENOSPACE ? 0 : (__builtin_trap(), 0);
    uint64_t lo[2] = { layout.info_gpa, layout.module_gpa[0] };
    uint64_t hi[2] = { layout.info_gpa + layout.info_size, layout.module_gpa[0] + image_size };
    for (unsigned k = 0; k <= nmodules; k++) {
        if (hi[k] > ram_size || hi[k] > (1ull << 32) || lo[k] % 4096 != 0)
            __builtin_trap();
        for (unsigned i = 0; i < plan.nsegments; i++)
            if (lo[k] < plan.segments[i].gpa + plan.segments[i].mem_size && plan.segments[i].gpa < hi[k])
                __builtin_trap();
    }
    if (nmodules && lo[0] < hi[1] && lo[1] < hi[0])
        __builtin_trap();
    if (loader_boot_info(ram, ram_size, &layout, &module, "fuzz") != layout.info_gpa)
        __builtin_trap();
    return 0;
}
