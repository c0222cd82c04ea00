/* SPDX-License-Identifier: MIT */
#include <coco/assert.h>
#include <coco/libc.h>
#include <coco/syscall.h>

_Noreturn void coco_assert_fail(const char *expr, const char *file, int line)
{
    coco_printf("assertion failed: %s:%d: %s\n", file, line, expr);
    coco_exit(COCO_ASSERT_STATUS);
}
