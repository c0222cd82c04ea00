/* SPDX-License-Identifier: MIT */
/* PASS/FAIL reporting for test programs run under QEMU (see coco/test.h). */
#include <coco/libc.h>
#include <coco/syscall.h>
#include <coco/test.h>

/* Updated atomically: checks may run on several threads at once. */
static unsigned passed, failed;

bool coco_test_check(bool ok, const char *name, const char *file, int line)
{
    if (ok) {
        __atomic_add_fetch(&passed, 1, __ATOMIC_RELAXED);
        coco_printf("PASS %s\n", name);
    } else {
        __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
        coco_printf("FAIL %s (%s:%d)\n", name, file, line);
    }
    return ok;
}

bool coco_test_check_equal(int64_t got, int64_t want, const char *name,
                           const char *file, int line)
{
    if (coco_test_check(got == want, name, file, line))
        return true;
    coco_printf("  got %ld (%s), want %ld (%s)\n", (long)got,
                got < 0 ? coco_strerror(got) : "-", (long)want,
                want < 0 ? coco_strerror(want) : "-");
    return false;
}

int coco_test_finish(void)
{
    unsigned p = coco_test_passed(), f = coco_test_failed();
    coco_printf("%u passed, %u failed\n", p, f);
    return f == 0 ? 0 : 1;
}

unsigned coco_test_passed(void)
{
    return __atomic_load_n(&passed, __ATOMIC_RELAXED);
}

unsigned coco_test_failed(void)
{
    return __atomic_load_n(&failed, __ATOMIC_RELAXED);
}
