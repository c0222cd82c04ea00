/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VMM's Linux loader (servers/vmm/bzimage.c).
 * Build: clang -fsanitize=fuzzer,address,undefined -I abi -I servers/vmm \
 *            tests/fuzz/bzimage_fuzz.c servers/vmm/bzimage.c
 * The first input byte picks the RAM size and the initramfs size, the
 * second the command line's length; the rest is the image.  Besides memory
 * errors it traps when an accepted plan breaks the loader's contract (the
 * kernel's init_size area, the initramfs and boot_params inside RAM; the
 * initramfs above the kernel's area and below initrd_addr_max) and loads
 * every accepted plan into a RAM buffer that ASan guards.
 */
#include <stdlib.h>
#include <string.h>

#include "bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_MAX (48u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    static char cmdline[4096];
    struct bzimage_plan plan;
    struct loader_error error;

    if (size < 2)
        return 0;
    if (ram == NULL && (ram = malloc(RAM_MAX)) == NULL)
        return 0;
    uint64_t ram_size = (uint64_t)((data[0] & 7) * 6 + 2) << 20;        /* 2..44 MiB */
    uint64_t initrd_size = (uint64_t)(data[0] >> 3) << 17;              /* 0..3.9 MiB */
    size_t len = (size_t)data[1] * 16;
    memset(cmdline, 'x', len);
    cmdline[len] = '\0';
    const uint8_t *image = data + 2;
    size_t image_size = size - 2;

    enum loader_status status = bzimage_parse(image, image_size, ram_size, cmdline, &plan, &error);
    if (memchr(error.message, '\0', sizeof error.message) == NULL || status != error.status)
        __builtin_trap();
    if (status != LOADER_OK)
        return error.message[0] == '\0' ? (__builtin_trap(), 0) : 0;
    uint64_t need = plan.init_size > plan.kernel_size ? plan.init_size : plan.kernel_size;
    if (plan.load_gpa < 0x100000 || plan.load_gpa + need > ram_size ||
        plan.kernel_offset + plan.kernel_size != image_size || len >= plan.cmdline_max)
        __builtin_trap();
    status = bzimage_place_initrd(&plan, ram_size, initrd_size, &error);
    if (status != LOADER_OK)
        return 0;
    if (plan.initrd_size != initrd_size ||
        (initrd_size > 0 && (plan.initrd_gpa < plan.load_gpa + need ||
                             plan.initrd_gpa + initrd_size > ram_size ||
                             plan.initrd_gpa + initrd_size - 1 > plan.initrd_max)))
        __builtin_trap();
    static const uint8_t initrd[4u << 20];
    if (bzimage_load(&plan, image, image_size, initrd, ram, ram_size, cmdline, 0xE0000) !=
        BZIMAGE_PARAMS_GPA)
        __builtin_trap();
    return 0;
}
