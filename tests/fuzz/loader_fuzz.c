/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VMM's guest loader (servers/vmm/loader.c).
 * Build: clang -fsanitize=fuzzer,address,undefined -I abi -I servers/vmm \
 *            tests/fuzz/loader_fuzz.c servers/vmm/loader.c
 * The first input byte picks the format and the RAM size; the rest is the
 * image.  Besides memory errors, it traps when an accepted plan breaks the
 * loader's contract (segments inside RAM and the file, entry below 4 GiB
 * and inside a segment, nothing on the boot information page), and it
 * loads every accepted plan into a RAM buffer that ASan guards.
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
    /* 1..8 MiB, or a size just above the boot information page. */
    uint64_t ram_size = (data[0] >> 1) & 7 ? ((uint64_t)((data[0] >> 1) & 7) + 1) << 20
                                           : LOADER_BOOT_INFO_GPA + LOADER_BOOT_INFO_SIZE;
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
        if (plan.multiboot && s->mem_size > 0 &&
            s->gpa < LOADER_BOOT_INFO_GPA + LOADER_BOOT_INFO_SIZE &&
            LOADER_BOOT_INFO_GPA < s->gpa + s->mem_size)
            __builtin_trap();
        if (plan.entry >= s->gpa && plan.entry - s->gpa < s->mem_size)
            entry_inside = true;
    }
    if (!entry_inside)
        __builtin_trap();
    loader_load(&plan, image, image_size, ram, ram_size);
    if (plan.multiboot && loader_boot_info(ram, ram_size, "fuzz") != LOADER_BOOT_INFO_GPA)
        __builtin_trap();
    return 0;
}
