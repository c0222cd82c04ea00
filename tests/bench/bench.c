/* SPDX-License-Identifier: MIT */
/*
 * Micro-benchmarks, one figure per line:
 *     bench <name> <value> <unit>
 *   bench null           null syscall round trips (an unknown number, and
 *                        CPU_CURRENT), 100,000 each
 *   bench pingpong-local event ping-pong between two processes pinned to
 *                        CPU 0, 10,000 round trips
 *   bench pingpong-cross the same with the processes on CPUs 0 and 1
 *
 * Time is the TSC (RDTSC is allowed in ring 3: CR4.TSD is clear).  The
 * ctest runs boot with QEMU's -icount shift=0, where the TSC advances one
 * tick per guest instruction, so ticks per round trip are instructions per
 * round trip, the same on every host.  Without -icount they are host-
 * dependent TSC ticks.  The loop's own few instructions are included.
 */
#include <coco/coco.h>

#define NULL_ITERATIONS     100000u
#define PINGPONG_ROUNDS     10000u
#define PINGPONG_WARMUP     100u
#define WAIT_LIMIT          (30ull * 1000 * 1000 * 1000)
#define NOT_A_SYSCALL       (COPRA_SYS_COUNT + 1000u)

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t ticks, uint64_t count)
{
    coco_printf("bench %s %lu insns/roundtrip\n", name, (unsigned long)((ticks + count / 2) / count));
}

static int bench_null(void)
{
    int64_t result = 0;

    for (unsigned i = 0; i < 1000; i++)
        coco_syscall6(NOT_A_SYSCALL, 0, 0, 0, 0, 0, 0);
    uint64_t start = rdtsc();
    for (unsigned i = 0; i < NULL_ITERATIONS; i++)
        result |= coco_syscall6(NOT_A_SYSCALL, 0, 0, 0, 0, 0, 0);
    uint64_t ticks = rdtsc() - start;
    if (result != COPRA_ENOSYS) {
        coco_printf("bench: unknown syscall returned %ld, not ENOSYS\n", (long)result);
        return 1;
    }
    report("null_syscall", ticks, NULL_ITERATIONS);

    result = coco_cpu_current();
    if (result < 0) {
        coco_printf("bench: CPU_CURRENT: %s\n", coco_strerror(result));
        return 1;
    }
    start = rdtsc();
    for (unsigned i = 0; i < NULL_ITERATIONS; i++)
        result |= coco_cpu_current();
    ticks = rdtsc() - start;
    report("cpu_current_syscall", ticks, NULL_ITERATIONS);
    return 0;
}

/* WAIT for `event`; 0 once it has been signalled, else an error. */
static int64_t wait_event(copra_handle_t event)
{
    struct copra_wait_item item = { .handle = event };
    int64_t ready = coco_wait(&item, 1, WAIT_LIMIT);
    if (ready < 0)
        return ready;
    return item.ready ? 0 : COPRA_EINVAL;
}

/* "bench pingpong-child CPU": handles ping (WAIT), pong (SIGNAL). */
static int pingpong_child(const char *cpu)
{
    if (coco_handle_count() != 2)
        return 10;
    copra_handle_t ping = coco_handle(0), pong = coco_handle(1);
    int64_t error = coco_thread_set_cpu(COPRA_HANDLE_NONE, strtoul(cpu, NULL, 10));
    if (error != 0) {
        coco_printf("bench: child: THREAD_SET_CPU %s: %s\n", cpu, coco_strerror(error));
        return 11;
    }
    for (unsigned i = 0; i < PINGPONG_WARMUP + PINGPONG_ROUNDS; i++) {
        error = wait_event(ping);
        if (error == 0)
            error = coco_signal(pong);
        if (error != 0) {
            coco_printf("bench: child: round %u: %s\n", i, coco_strerror(error));
            return 12;
        }
    }
    return 0;
}

static int bench_pingpong(const char *name, uint32_t child_cpu)
{
    struct copra_sysinfo info;
    if (coco_sysinfo(&info, sizeof info) != 0 || info.ncpus <= child_cpu) {
        coco_printf("bench: %s needs %u CPUs\n", name, child_cpu + 1);
        return 2;
    }
    int64_t ping = coco_event_create(0), pong = coco_event_create(0);
    if (ping < 0 || pong < 0) {
        coco_printf("bench: EVENT_CREATE: %s\n", coco_strerror(ping < 0 ? ping : pong));
        return 1;
    }
    int64_t error = coco_thread_set_cpu(COPRA_HANDLE_NONE, 0);
    if (error != 0) {
        coco_printf("bench: THREAD_SET_CPU 0: %s\n", coco_strerror(error));
        return 1;
    }
    copra_handle_t moved[2] = {
        (copra_handle_t)coco_dup((copra_handle_t)ping, COPRA_RIGHT_WAIT | COPRA_RIGHT_TRANSFER),
        (copra_handle_t)coco_dup((copra_handle_t)pong, COPRA_RIGHT_SIGNAL | COPRA_RIGHT_TRANSFER),
    };
    char cpu[12];
    snprintf(cpu, sizeof cpu, "%u", child_cpu);
    const char *argv[] = { "bench", "pingpong-child", cpu };
    int64_t child = coco_spawn("bench", 3, argv, moved, 2);
    if (child < 0) {
        coco_printf("bench: EXEC: %s\n", coco_strerror(child));
        return 1;
    }

    uint64_t start = 0;
    for (unsigned i = 0; i < PINGPONG_WARMUP + PINGPONG_ROUNDS; i++) {
        if (i == PINGPONG_WARMUP)
            start = rdtsc();
        error = coco_signal((copra_handle_t)ping);
        if (error == 0)
            error = wait_event((copra_handle_t)pong);
        if (error != 0) {
            coco_printf("bench: round %u: %s\n", i, coco_strerror(error));
            return 1;
        }
    }
    uint64_t ticks = rdtsc() - start;
    int64_t status = -1;
    coco_wait_process((copra_handle_t)child, &status);
    if (status != 0) {
        coco_printf("bench: child exited with %ld\n", (long)status);
        return 1;
    }
    report(name, ticks, PINGPONG_ROUNDS);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc >= 2 ? argv[1] : "";

    if (!strcmp(mode, "null"))
        return bench_null();
    if (!strcmp(mode, "pingpong-local"))
        return bench_pingpong("pingpong_local", 0);
    if (!strcmp(mode, "pingpong-cross"))
        return bench_pingpong("pingpong_cross", 1);
    if (!strcmp(mode, "pingpong-child") && argc >= 3)
        return pingpong_child(argv[2]);
    coco_printf("usage: bench null | pingpong-local | pingpong-cross\n");
    return 2;
}
