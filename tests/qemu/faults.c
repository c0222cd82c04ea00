/* SPDX-License-Identifier: MIT */
/*
 * A faulting user process is killed with a report and the status
 * 0x100 + vector, and the system goes on: every kind in turn, then a
 * normal child still runs.
 */
#include <coco/coco.h>
#include <coco/test.h>

static const struct {
    const char *kind;
    unsigned vector;
} cases[] = {
    { "null", 14 },         { "kernel-read", 14 },  { "kernel-exec", 14 },
    { "write-text", 14 },   { "exec-stack", 14 },   { "hlt", 13 },
    { "cli", 13 },          { "outb", 13 },         { "ud2", 6 },
    { "int3", 13 },         { "int-timer", 13 },    { "wrmsr", 13 },
    { "mov-cr3", 13 },      { "noncanonical", 13 }, { "div0", 0 },
    { "x87", 7 },           { "fnsave", 7 },        { "sse", 7 },
};

int main(void)
{
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[] = { "child", "fault", cases[i].kind };
        int64_t h = coco_spawn("child", 3, argv, NULL, 0);
        int64_t status = -1;
        char name[64];
        snprintf(name, sizeof(name), "fault %s killed with vector %u", cases[i].kind, cases[i].vector);
        if (!CHECK(name, h > 0 && coco_wait_process((copra_handle_t)h, &status) == 0 &&
                             status == 0x100 + cases[i].vector))
            coco_printf("  got handle %ld status %ld\n", (long)h, (long)status);
        if (h > 0)
            coco_close((copra_handle_t)h);
    }
    const char *argv[] = { "child", "exit", "5" };
    int64_t status = -1;
    int64_t h = coco_spawn("child", 3, argv, NULL, 0);
    CHECK("system goes on after faults", h > 0 && coco_wait_process((copra_handle_t)h, &status) == 0 &&
                                             status == 5);
    return coco_test_finish();
}
