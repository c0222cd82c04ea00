/* SPDX-License-Identifier: MIT */
/* 1,000 EXEC/EXIT cycles give every page back: free memory returns to its start value. */
#include <coco/coco.h>
#include <coco/test.h>

#define CYCLES 1000

static uint64_t free_pages(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.free_pages : 0;
}

static bool cycle(unsigned i)
{
    char n[8];
    snprintf(n, sizeof(n), "%u", i % 100);
    const char *argv[] = { "child", "exit", n };
    int64_t status = -1;
    int64_t h = coco_spawn("child", 3, argv, NULL, 0);
    if (h <= 0)
        return false;
    bool ok = coco_wait_process((copra_handle_t)h, &status) == 0 && status == (int64_t)(i % 100);
    return coco_close((copra_handle_t)h) == 0 && ok;
}

int main(void)
{
    cycle(0);   /* warm up: the first cycle may leave heap slabs in use */
    uint64_t before = free_pages();
    unsigned ok = 0;
    for (unsigned i = 0; i < CYCLES; i++)
        ok += cycle(i);
    uint64_t after = free_pages();
    coco_printf("free pages before %lu after %lu\n", (unsigned long)before, (unsigned long)after);
    CHECK("1000 exec/exit cycles all ran", ok == CYCLES);
    CHECK("free memory back at its start value", before == after && before > 0);
    return coco_test_finish();
}
