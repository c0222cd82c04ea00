/* SPDX-License-Identifier: MIT */
/*
 * Threads: THREAD_CREATE's argument checks, entry(arg) and the status a
 * join sees, pinning (THREAD_CREATE's cpu, THREAD_SET_CPU on self and on
 * another thread), 10,000 create/join/close cycles giving every page back,
 * and how a process ends:
 *   - the last thread's THREAD_EXIT ends it with that status;
 *   - EXIT from any thread ends it, with every other thread;
 *   - EXIT while threads spin or block on every CPU ends them all and
 *     gives their memory back.
 * The process cases run in children: "threads child lastexit|exitthread|kill".
 */
#include <coco/coco.h>
#include <coco/test.h>

#define CYCLES      10000u
#define CYCLE_STACK (16u * 1024)
#define WAIT_LIMIT  (20ull * 1000 * 1000 * 1000)
#define MS          (1000ull * 1000)
#define KPTR        0xFFFFFFFFC0010000ull

static uint32_t ncpus;
static copra_handle_t never;   /* an event nobody signals: for sleeping */

static uint64_t free_pages(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.free_pages : 0;
}

static void sleep_ns(uint64_t ns)
{
    struct copra_wait_item item = { .handle = never };
    coco_wait(&item, 1, ns);
}

/* ---- Children ---------------------------------------------------------------- */

static volatile uint32_t started;

static int sleep_then_return_33(void *arg)
{
    (void)arg;
    sleep_ns(20 * MS);
    return 33;
}

static int exit_process_44(void *arg)
{
    (void)arg;
    sleep_ns(5 * MS);
    coco_exit(44);
}

static int block_forever(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    struct copra_wait_item item = { .handle = never };
    coco_wait(&item, 1, COPRA_WAIT_FOREVER);
    return 1;
}

static int spin_forever(void *arg)
{
    volatile bool spinning = true;
    (void)arg;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    while (spinning)
        __asm__ volatile("pause");
    return 1;
}

static int child(const char *mode)
{
    if (!strcmp(mode, "lastexit")) {
        /* The main thread leaves first; the other thread's status wins. */
        if (coco_thread_spawn(sleep_then_return_33, NULL, 0, COPRA_CPU_ANY) < 0)
            return 2;
        coco_thread_exit(5);
    }
    if (!strcmp(mode, "exitthread")) {
        if (coco_thread_spawn(exit_process_44, NULL, 0, (ncpus - 1)) < 0)
            return 2;
        struct copra_wait_item item = { .handle = never };
        coco_wait(&item, 1, COPRA_WAIT_FOREVER);
        return 3;
    }
    if (!strcmp(mode, "kill")) {
        for (unsigned i = 0; i < 4; i++) {
            if (coco_thread_spawn(block_forever, NULL, 0, i % ncpus) < 0 ||
                coco_thread_spawn(spin_forever, NULL, 0, (i + 1) % ncpus) < 0)
                return 2;
        }
        for (unsigned waited = 0; __atomic_load_n(&started, __ATOMIC_SEQ_CST) < 8; waited++) {
            if (waited > 10000)
                return 3;
            sleep_ns(1 * MS);
        }
        coco_exit(21);
    }
    return 100;
}

static int64_t run_child(const char *mode)
{
    const char *argv[] = { "threads", "child", mode };
    int64_t p = coco_spawn("threads", 3, argv, NULL, 0);
    if (p <= 0)
        return p;
    struct copra_wait_item item = { .handle = (copra_handle_t)p };
    int64_t ready = coco_wait(&item, 1, WAIT_LIMIT);
    coco_close((copra_handle_t)p);
    if (ready < 0)
        return ready;
    return item.ready ? (int64_t)item.value : COPRA_EINVAL;
}

/* ---- Parent ------------------------------------------------------------------ */

static void raw_entry(uint64_t arg)
{
    coco_thread_exit((int64_t)arg);
}

static void test_create_arguments(void)
{
    int64_t stack = coco_mmap(COPRA_HANDLE_NONE, NULL, 4 * COPRA_PAGE_SIZE,
                              COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (!CHECK("map a stack", stack > 0))
        return;
    char *top = (char *)(uintptr_t)stack + 4 * COPRA_PAGE_SIZE;

    int64_t t = coco_thread_create(raw_entry, top, 77, COPRA_CPU_ANY);
    CHECK("THREAD_CREATE with a raw entry", t > 0);
    int64_t status = -1;
    CHECK_EQUAL("join the raw thread", coco_thread_join((copra_handle_t)t, &status), 0);
    CHECK_EQUAL("RDI carried arg; THREAD_EXIT carried the status", status, 77);
    struct copra_wait_item item = { .handle = (copra_handle_t)t };
    CHECK_EQUAL("an ended thread stays ready", coco_wait(&item, 1, 0), 1);
    CHECK("with the same status", item.ready && item.value == 77);
    coco_close((copra_handle_t)t);

    CHECK_EQUAL("THREAD_CREATE stack not 16-aligned -> EALIGN",
                coco_thread_create(raw_entry, top - 8, 0, COPRA_CPU_ANY), COPRA_EALIGN);
    CHECK_EQUAL("THREAD_CREATE kernel entry -> EINVAL",
                coco_thread_create((void (*)(uint64_t))(uintptr_t)KPTR, top, 0, COPRA_CPU_ANY),
                COPRA_EINVAL);
    CHECK_EQUAL("THREAD_CREATE null entry -> EINVAL",
                coco_thread_create(NULL, top, 0, COPRA_CPU_ANY), COPRA_EINVAL);
    CHECK_EQUAL("THREAD_CREATE kernel stack -> EINVAL",
                coco_thread_create(raw_entry, (void *)(uintptr_t)KPTR, 0, COPRA_CPU_ANY),
                COPRA_EINVAL);
    CHECK_EQUAL("THREAD_CREATE cpu = ncpus -> EINVAL",
                coco_thread_create(raw_entry, top, 0, ncpus), COPRA_EINVAL);
    CHECK_EQUAL("THREAD_CREATE cpu = COPRA_CPUS_MAX -> EINVAL",
                coco_thread_create(raw_entry, top, 0, COPRA_CPUS_MAX), COPRA_EINVAL);
    CHECK_EQUAL("THREAD_SET_CPU self to cpu = ncpus -> EINVAL",
                coco_thread_set_cpu(COPRA_HANDLE_NONE, ncpus), COPRA_EINVAL);
    coco_munmap((void *)(uintptr_t)stack, 4 * COPRA_PAGE_SIZE);
}

struct shared_arg {
    uint64_t in, out;
};

static int report_cpu(void *arg)
{
    struct shared_arg *s = arg;
    s->out = s->in * 3;
    return (int)coco_cpu_current();
}

static int wait_then_report_cpu(void *arg)
{
    struct copra_wait_item item = { .handle = *(copra_handle_t *)arg };
    if (coco_wait(&item, 1, WAIT_LIMIT) != 1)
        return -1;
    return (int)coco_cpu_current();
}

static void test_pinning(void)
{
    unsigned right_cpu = 0, shared_ok = 0;
    for (uint32_t cpu = 0; cpu < ncpus; cpu++) {
        struct shared_arg s = { .in = cpu + 5 };
        int64_t status = -1;
        int64_t t = coco_thread_spawn(report_cpu, &s, 0, cpu);
        if (t > 0 && coco_thread_join((copra_handle_t)t, &status) == 0) {
            right_cpu += status == (int64_t)cpu;
            shared_ok += s.out == (cpu + 5) * 3;
        }
        coco_close((copra_handle_t)t);
    }
    CHECK_EQUAL("a thread created for CPU n runs on CPU n", right_cpu, ncpus);
    CHECK_EQUAL("threads share the process's memory", shared_ok, ncpus);

    unsigned moved = 0;
    for (uint32_t i = 0; i < ncpus; i++) {
        uint32_t cpu = ncpus - 1 - i;
        moved += coco_thread_set_cpu(COPRA_HANDLE_NONE, cpu) == 0 && coco_cpu_current() == cpu;
    }
    CHECK_EQUAL("THREAD_SET_CPU self moves at once", moved, ncpus);

    /* Another thread: pinned while blocked, it wakes up on its new CPU. */
    int64_t event = coco_event_create(0);
    copra_handle_t e = (copra_handle_t)event;
    int64_t t = coco_thread_spawn(wait_then_report_cpu, &e, 0, 0);
    sleep_ns(2 * MS);
    CHECK_EQUAL("THREAD_SET_CPU on a blocked thread", coco_thread_set_cpu((copra_handle_t)t, ncpus - 1), 0);
    CHECK_EQUAL("THREAD_SET_CPU on a thread, cpu = ncpus -> EINVAL",
                coco_thread_set_cpu((copra_handle_t)t, ncpus), COPRA_EINVAL);
    coco_signal(e);
    int64_t status = -2;
    coco_thread_join((copra_handle_t)t, &status);
    CHECK_EQUAL("the thread woke up on its new CPU", status, ncpus - 1);
    coco_close((copra_handle_t)t);
    coco_close(e);
}

static int return_arg(void *arg)
{
    return (int)(uintptr_t)arg;
}

static bool cycle(unsigned i)
{
    int expect = (int)(i % 1000);
    int64_t status = -1;
    int64_t t = coco_thread_spawn(return_arg, (void *)(uintptr_t)expect, CYCLE_STACK, i % ncpus);
    if (t <= 0)
        return false;
    bool ok = coco_thread_join((copra_handle_t)t, &status) == 0 && status == expect;
    return coco_close((copra_handle_t)t) == 0 && ok;
}

static void test_cycles(void)
{
    for (unsigned i = 0; i < 16; i++)   /* warm up the heaps */
        cycle(i);
    uint64_t before = free_pages();
    int64_t start = coco_clock();
    unsigned ok = 0;
    for (unsigned i = 0; i < CYCLES; i++) {
        bool good = cycle(i);
        ok += good;
        if (!good && ok + 100 < i)   /* broken: do not spend minutes on it */
            break;
    }
    int64_t elapsed = coco_clock() - start;
    uint64_t after = free_pages();
    coco_printf("%u cycles in %ld ms; free pages before %lu after %lu\n", ok,
                (long)(elapsed / 1000000), (unsigned long)before, (unsigned long)after);
    CHECK_EQUAL("10000 thread create/join/close cycles", ok, CYCLES);
    CHECK_EQUAL("free memory back at its start value", after, before);
}

static void test_process_end(void)
{
    CHECK_EQUAL("the last thread's THREAD_EXIT status ends the process", run_child("lastexit"), 33);
    CHECK_EQUAL("EXIT from a second thread ends the process", run_child("exitthread"), 44);

    run_child("kill");   /* warm up */
    uint64_t before = free_pages();
    CHECK_EQUAL("EXIT with 4 threads blocked and 4 spinning ends them all", run_child("kill"), 21);
    /* Threads on other CPUs may be reaped a moment after the WAIT returns. */
    uint64_t after = free_pages();
    for (unsigned i = 0; i < 100 && after != before; i++) {
        sleep_ns(10 * MS);
        after = free_pages();
    }
    coco_printf("free pages before %lu after %lu\n", (unsigned long)before, (unsigned long)after);
    CHECK_EQUAL("their memory is given back", after, before);
    CHECK_EQUAL("and the system still runs children", run_child("lastexit"), 33);
}

int main(int argc, char **argv)
{
    struct copra_sysinfo info;
    ncpus = coco_sysinfo(&info, sizeof(info)) == 0 && info.ncpus > 0 ? info.ncpus : 1;
    int64_t event = coco_event_create(0);
    never = event > 0 ? (copra_handle_t)event : COPRA_HANDLE_NONE;
    if (argc >= 3 && !strcmp(argv[1], "child"))
        return child(argv[2]);

    coco_printf("%u CPUs\n", ncpus);
    test_create_arguments();
    test_pinning();
    test_cycles();
    test_process_end();
    return coco_test_finish();
}
