/* SPDX-License-Identifier: MIT */
/*
 * Two processes ping-pong ROUNDS times through a shared memory object and
 * two events.  The parent EXECs itself as "pingpong child", moving DUPs of
 * the memory handle (READ|WRITE|MAP|TRANSFER) and of the events (the child
 * only WAITs on "ping" and only SIGNALs "pong"), so it keeps its own.
 *
 * Round i: the parent stores 2i+1 in the shared counter and SIGNALs ping;
 * the child WAITs for ping, expects exactly one pending signal and 2i+1,
 * stores 2i+2 and SIGNALs pong; the parent WAITs for pong and expects one
 * signal and 2i+2.  Every WAIT has a generous timeout, so a lost wake-up
 * shows up as ETIMEOUT rather than as a hang.
 */
#include <coco/coco.h>
#include <coco/test.h>

#define ROUNDS      10000u
#define WAIT_LIMIT  (10ull * 1000 * 1000 * 1000)   /* 10 s per wait */

struct shared {
    volatile uint64_t counter;
    volatile uint64_t child_bad_rounds;   /* written by the child */
    volatile uint64_t child_first_bad;    /* round + 1 of the first bad one */
};

/* Child exit statuses. */
enum {
    CHILD_OK = 0,
    CHILD_NO_HANDLES = 10,
    CHILD_MAP_FAILED = 11,
    CHILD_WAIT_FAILED = 12,
    CHILD_SIGNAL_FAILED = 13,
    CHILD_BAD_ROUNDS = 14,
};

/* WAIT for one signal batch on `event`; returns the count or an error. */
static int64_t wait_event(copra_handle_t event)
{
    struct copra_wait_item item = { .handle = event };
    int64_t ready = coco_wait(&item, 1, WAIT_LIMIT);
    if (ready < 0)
        return ready;
    return item.ready ? (int64_t)item.value : COPRA_EINVAL;
}

static int child(void)
{
    if (coco_handle_count() != 3)
        return CHILD_NO_HANDLES;
    copra_handle_t mem = coco_handle(0), ping = coco_handle(1), pong = coco_handle(2);
    int64_t addr = coco_mmap(mem, NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (addr < 0)
        return CHILD_MAP_FAILED;
    struct shared *s = (struct shared *)(uintptr_t)addr;

    for (uint64_t i = 0; i < ROUNDS; i++) {
        int64_t count = wait_event(ping);
        if (count < 0) {
            coco_printf("child: round %lu: wait for ping: %s\n", (unsigned long)i,
                        coco_strerror(count));
            return CHILD_WAIT_FAILED;
        }
        uint64_t seen = __atomic_load_n(&s->counter, __ATOMIC_ACQUIRE);
        if (count != 1 || seen != 2 * i + 1) {
            if (s->child_bad_rounds++ == 0) {
                s->child_first_bad = i + 1;
                coco_printf("child: round %lu: %ld signals, counter %lu, want 1 and %lu\n",
                            (unsigned long)i, (long)count, (unsigned long)seen,
                            (unsigned long)(2 * i + 1));
            }
        }
        __atomic_store_n(&s->counter, 2 * i + 2, __ATOMIC_RELEASE);
        if (coco_signal(pong) != 0)
            return CHILD_SIGNAL_FAILED;
    }
    return s->child_bad_rounds == 0 ? CHILD_OK : CHILD_BAD_ROUNDS;
}

static int parent(void)
{
    int64_t mem = coco_mem_create(1);
    int64_t ping = coco_event_create(0);
    int64_t pong = coco_event_create(0);
    if (!CHECK("create memory object and two events", mem > 0 && ping > 0 && pong > 0))
        return coco_test_finish();

    int64_t addr = coco_mmap((copra_handle_t)mem, NULL, COPRA_PAGE_SIZE,
                             COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (!CHECK("map the memory object", addr > 0))
        return coco_test_finish();
    struct shared *s = (struct shared *)(uintptr_t)addr;
    CHECK("memory object is zeroed", s->counter == 0 && s->child_bad_rounds == 0);

    copra_handle_t moved[3] = {
        (copra_handle_t)coco_dup((copra_handle_t)mem, COPRA_RIGHTS_MEMORY),
        (copra_handle_t)coco_dup((copra_handle_t)ping, COPRA_RIGHT_WAIT | COPRA_RIGHT_TRANSFER),
        (copra_handle_t)coco_dup((copra_handle_t)pong, COPRA_RIGHT_SIGNAL | COPRA_RIGHT_TRANSFER),
    };
    CHECK("dup the three handles", (int32_t)moved[0] > 0 && (int32_t)moved[1] > 0 &&
                                   (int32_t)moved[2] > 0);
    const char *argv[] = { "pingpong", "child" };
    int64_t proc = coco_spawn("pingpong", 2, argv, moved, 3);
    if (!CHECK("exec the child with the dups", proc > 0)) {
        coco_printf("  exec: %s\n", coco_strerror(proc));
        return coco_test_finish();
    }
    CHECK_EQUAL("moved dup is closed in the parent", coco_close(moved[0]), COPRA_EBADH);

    int64_t start = coco_clock();
    uint64_t bad = 0, done = 0;
    for (uint64_t i = 0; i < ROUNDS; i++) {
        __atomic_store_n(&s->counter, 2 * i + 1, __ATOMIC_RELEASE);
        if (coco_signal((copra_handle_t)ping) != 0) {
            CHECK("signal ping", false);
            break;
        }
        /* Waiting on the child too turns its early death into a report. */
        struct copra_wait_item items[2] = {
            { .handle = (copra_handle_t)pong }, { .handle = (copra_handle_t)proc },
        };
        int64_t ready = coco_wait(items, 2, WAIT_LIMIT);
        if (ready < 0 || !items[0].ready) {
            if (ready < 0)
                coco_printf("parent: round %lu: wait for pong: %s\n", (unsigned long)i,
                            coco_strerror(ready));
            else
                coco_printf("parent: round %lu: child exited with status %lu\n",
                            (unsigned long)i, (unsigned long)items[1].value);
            break;
        }
        int64_t count = (int64_t)items[0].value;
        uint64_t seen = __atomic_load_n(&s->counter, __ATOMIC_ACQUIRE);
        if (count != 1 || seen != 2 * i + 2) {
            if (bad++ == 0)
                coco_printf("parent: round %lu: %ld signals, counter %lu, want 1 and %lu\n",
                            (unsigned long)i, (long)count, (unsigned long)seen,
                            (unsigned long)(2 * i + 2));
        }
        done++;
    }
    int64_t elapsed = coco_clock() - start;
    coco_printf("%lu rounds in %ld us\n", (unsigned long)done, (long)(elapsed / 1000));
    CHECK("every round completed (no lost wake-up)", done == ROUNDS);
    CHECK("every round the parent saw the child's value", bad == 0);
    CHECK("every round the child saw the parent's value", s->child_bad_rounds == 0);

    struct copra_wait_item item = { .handle = (copra_handle_t)proc };
    CHECK_EQUAL("child exits", coco_wait(&item, 1, WAIT_LIMIT), 1);
    CHECK_EQUAL("child status", item.ready ? (int64_t)item.value : -1, CHILD_OK);

    /* The parent's own handles outlive the child's copies. */
    CHECK_EQUAL("parent's ping still signals", coco_signal((copra_handle_t)ping), 0);
    item = (struct copra_wait_item){ .handle = (copra_handle_t)ping };
    CHECK_EQUAL("parent's ping still waits", coco_wait(&item, 1, 0), 1);
    CHECK("the extra signal is counted once", item.ready && item.value == 1);

    coco_munmap(s, COPRA_PAGE_SIZE);
    CHECK_EQUAL("close memory", coco_close((copra_handle_t)mem), 0);
    CHECK_EQUAL("close ping", coco_close((copra_handle_t)ping), 0);
    CHECK_EQUAL("close pong", coco_close((copra_handle_t)pong), 0);
    CHECK_EQUAL("close child", coco_close((copra_handle_t)proc), 0);
    return coco_test_finish();
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "child"))
        return child();
    return parent();
}
