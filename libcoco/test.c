/* SPDX-License-Identifier: MIT */
/* PASS/FAIL reporting for test programs run under QEMU (see coco/test.h). */
#include <coco/libc.h>
#include <coco/test.h>

static unsigned passed, failed;

bool coco_test_check(bool ok, const char *name, const char *file, int line)
{
    if (ok) {
        passed++;
        coco_printf("PASS %s\n", name);
    } else {
        failed++;
        coco_printf("FAIL %s (%s:%d)\n", name, file, line);
    }
    return ok;
}

int coco_test_finish(void)
{
    coco_printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

unsigned coco_test_passed(void)
{
    return passed;
}

unsigned coco_test_failed(void)
{
    return failed;
}
