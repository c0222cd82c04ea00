/* SPDX-License-Identifier: MIT */
/*
 * Running out, and recovering.  Booted with little memory (ctest: 64M).
 *
 * Handle table: create events until EFULL; then every handle-creating call
 * (DUP, EVENT_CREATE, TIMER_CREATE, MEM_CREATE, OPEN, THREAD_CREATE, EXEC)
 * must fail with EFULL and leave nothing behind; closing one handle makes
 * room for exactly one.
 *
 * Memory: MEM_CREATE 1 MiB objects and map them until ENOMEM, then
 * anonymous MMAP until ENOMEM; with memory exhausted, the other creating
 * calls fail cleanly (ENOMEM) or succeed; then free everything.  The first
 * round warms up the kernel heap; after the second, free pages (SYSINFO)
 * must be back at the value before it, and a child must still run.
 */
#include <coco/coco.h>
#include <coco/test.h>

#define CHUNK_PAGES  256u                 /* 1 MiB per memory object */
#define CHUNK_BYTES  (CHUNK_PAGES * COPRA_PAGE_SIZE)
#define MAX_CHUNKS   1024u                /* 1 GiB: more than the guest has */

static uint64_t free_pages(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.free_pages : 0;
}

static int64_t run_child(void)
{
    const char *argv[] = { "child", "exit", "9" };
    int64_t status = -1;
    int64_t p = coco_spawn("child", 3, argv, NULL, 0);
    if (p <= 0)
        return p;
    if (coco_wait_process((copra_handle_t)p, &status) != 0)
        status = -1;
    coco_close((copra_handle_t)p);
    return status;
}

static int thread_returns_zero(void *arg)
{
    (void)arg;
    return 0;
}

/* ---- Full handle table ----------------------------------------------------- */

/* Fill the table with events; returns how many fitted, *last the error. */
static unsigned fill_table(copra_handle_t *events, int64_t *last)
{
    unsigned n = 0;
    int64_t h = 0;
    while (n <= COPRA_HANDLES_PER_PROCESS && (h = coco_event_create(0)) > 0)
        events[n++] = (copra_handle_t)h;
    *last = h;
    return n;
}

static unsigned empty_table(copra_handle_t *events, unsigned n)
{
    unsigned closed = 0;
    while (n)
        closed += coco_close(events[--n]) == 0;
    return closed;
}

static void test_handle_table(void)
{
    static copra_handle_t events[COPRA_HANDLES_PER_PROCESS + 1];
    int64_t h;
    unsigned n = fill_table(events, &h);

    coco_printf("%u events created before: %s\n", n, coco_strerror(h));
    CHECK_EQUAL("EVENT_CREATE into a full handle table -> EFULL", h, COPRA_EFULL);
    CHECK("the table held most of COPRA_HANDLES_PER_PROCESS", n + 8 >= COPRA_HANDLES_PER_PROCESS &&
                                                             n <= COPRA_HANDLES_PER_PROCESS);
    if (n == 0)
        return;

    CHECK_EQUAL("DUP into a full table -> EFULL", coco_dup(events[0], COPRA_RIGHTS_EVENT), COPRA_EFULL);
    CHECK_EQUAL("TIMER_CREATE into a full table -> EFULL", coco_timer_create(), COPRA_EFULL);
    CHECK_EQUAL("MEM_CREATE into a full table -> EFULL", coco_mem_create(1), COPRA_EFULL);
    CHECK_EQUAL("OPEN into a full table -> EFULL", coco_open("data.txt", 8), COPRA_EFULL);
    CHECK_EQUAL("THREAD_CREATE into a full table -> EFULL",
                coco_thread_spawn(thread_returns_zero, NULL, 0, COPRA_CPU_ANY), COPRA_EFULL);
    const char *argv[] = { "child", "exit", "0" };
    CHECK_EQUAL("EXEC into a full table -> EFULL", coco_spawn("child", 3, argv, NULL, 0), COPRA_EFULL);

    CHECK_EQUAL("the events still work: SIGNAL", coco_signal(events[n - 1]), 0);
    CHECK_EQUAL("close one handle", coco_close(events[--n]), 0);
    h = coco_timer_create();
    CHECK("one slot free: TIMER_CREATE", h > 0);
    CHECK_EQUAL("and the table is full again", coco_event_create(0), COPRA_EFULL);
    coco_close((copra_handle_t)h);
    CHECK_EQUAL("every event closes", empty_table(events, n), n);
    CHECK_EQUAL("a child runs after the table was full", run_child(), 9);

    /* Again, now that the kernel heap has grown for 256 events: a full
     * table and the creations it refused leave no memory behind. */
    uint64_t before = free_pages();
    n = fill_table(events, &h);
    coco_timer_create();
    coco_mem_create(1);
    coco_thread_spawn(thread_returns_zero, NULL, 0, COPRA_CPU_ANY);
    coco_spawn("child", 3, argv, NULL, 0);
    empty_table(events, n);
    uint64_t after = free_pages();
    coco_printf("free pages before %lu after %lu\n", (unsigned long)before, (unsigned long)after);
    CHECK("a second fill: refused creations left no memory behind", after == before && n > 0);
}

/* ---- Out of memory --------------------------------------------------------- */

struct oom_round {
    unsigned objects, mapped, anonymous;
    int64_t object_error, map_error, anonymous_error;
    bool ok;
};

static copra_handle_t chunk_handle[MAX_CHUNKS];
static uint64_t chunk_addr[MAX_CHUNKS];
static uint64_t anonymous_addr[MAX_CHUNKS];

static struct oom_round oom_round(void)
{
    struct oom_round r = { .ok = true };
    int64_t got = 0;

    /* Memory objects, each mapped and touched at both ends. */
    while (r.objects < MAX_CHUNKS) {
        got = coco_mem_create(CHUNK_PAGES);
        if (got < 0)
            break;
        chunk_handle[r.objects++] = (copra_handle_t)got;
        int64_t addr = coco_mmap((copra_handle_t)got, NULL, CHUNK_BYTES,
                                 COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (addr < 0) {
            r.map_error = addr;
            break;
        }
        volatile uint8_t *p = (uint8_t *)(uintptr_t)addr;
        if (p[0] != 0 || p[CHUNK_BYTES - 1] != 0)
            r.ok = false;
        p[0] = 1;
        p[CHUNK_BYTES - 1] = 2;
        chunk_addr[r.mapped++] = (uint64_t)addr;
    }
    r.object_error = got < 0 ? got : 0;

    /* Then whatever anonymous memory is left, in 1 MiB then 4 KiB pieces. */
    for (uint64_t size = CHUNK_BYTES; size >= COPRA_PAGE_SIZE; size /= 16) {
        while (r.anonymous < MAX_CHUNKS) {
            got = coco_mmap(COPRA_HANDLE_NONE, NULL, size, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
            if (got < 0)
                break;
            /* Remember the size in the mapping itself, for the cleanup. */
            *(volatile uint64_t *)(uintptr_t)got = size;
            anonymous_addr[r.anonymous++] = (uint64_t)got;
        }
        r.anonymous_error = got;
    }

    /* Memory is gone: creating calls fail cleanly or succeed. */
    int64_t e = coco_event_create(1), t = coco_timer_create(), m = coco_mem_create(CHUNK_PAGES);
    int64_t th = coco_thread_spawn(thread_returns_zero, NULL, 0, COPRA_CPU_ANY);
    int64_t child = run_child();
    bool clean = (e > 0 || e == COPRA_ENOMEM) && (t > 0 || t == COPRA_ENOMEM) &&
                 m == COPRA_ENOMEM && (th > 0 || th == COPRA_ENOMEM) &&
                 (child == 9 || child == COPRA_ENOMEM);
    if (!clean) {
        coco_printf("  with no memory: EVENT_CREATE %s, TIMER_CREATE %s, MEM_CREATE %s, "
                    "thread %s, child %ld\n", coco_strerror(e), coco_strerror(t),
                    coco_strerror(m), coco_strerror(th), (long)child);
        r.ok = false;
    }
    if (th > 0) {
        coco_thread_join((copra_handle_t)th, NULL);
        coco_close((copra_handle_t)th);
    }
    if (e > 0)
        coco_close((copra_handle_t)e);
    if (t > 0)
        coco_close((copra_handle_t)t);
    if (m > 0)
        coco_close((copra_handle_t)m);

    /* Give everything back. */
    for (unsigned i = 0; i < r.anonymous; i++) {
        uint64_t size = *(volatile uint64_t *)(uintptr_t)anonymous_addr[i];
        if (coco_munmap((void *)(uintptr_t)anonymous_addr[i], size) != 0)
            r.ok = false;
    }
    for (unsigned i = 0; i < r.mapped; i++) {
        volatile uint8_t *p = (uint8_t *)(uintptr_t)chunk_addr[i];
        if (p[0] != 1 || p[CHUNK_BYTES - 1] != 2)
            r.ok = false;
        if (coco_munmap((void *)(uintptr_t)chunk_addr[i], CHUNK_BYTES) != 0)
            r.ok = false;
    }
    for (unsigned i = 0; i < r.objects; i++)
        if (coco_close(chunk_handle[i]) != 0)
            r.ok = false;
    coco_printf("  %u memory objects (%u mapped) until %s/%s, %u anonymous mappings until %s\n",
                r.objects, r.mapped, coco_strerror(r.object_error), coco_strerror(r.map_error),
                r.anonymous, coco_strerror(r.anonymous_error));
    return r;
}

static void test_out_of_memory(void)
{
    uint64_t boot = free_pages();
    struct oom_round first = oom_round();
    uint64_t start = free_pages();
    struct oom_round second = oom_round();
    uint64_t end = free_pages();

    coco_printf("free pages: %lu, after a warm-up round %lu, after the measured round %lu\n",
                (unsigned long)boot, (unsigned long)start, (unsigned long)end);
    CHECK("MEM_CREATE or its MMAP ends in ENOMEM",
          first.object_error == COPRA_ENOMEM || first.map_error == COPRA_ENOMEM);
    CHECK("the memory objects took most of the memory",
          (uint64_t)first.objects * CHUNK_PAGES * 2 >= boot);
    CHECK_EQUAL("anonymous MMAP ends in ENOMEM", first.anonymous_error, COPRA_ENOMEM);
    CHECK("first round: contents kept, calls fail cleanly, everything freed", first.ok);
    CHECK("second round: the same", second.ok);
    CHECK("second round ran as far as the first",
          second.objects + 2 >= first.objects && second.objects <= first.objects + 2);
    CHECK_EQUAL("free pages back at the start value", end, start);
    CHECK("the warm-up left at most 64 pages in kernel caches", start + 64 >= boot);
    CHECK_EQUAL("a child runs after memory ran out", run_child(), 9);
}

int main(void)
{
    test_handle_table();
    test_out_of_memory();
    return coco_test_finish();
}
