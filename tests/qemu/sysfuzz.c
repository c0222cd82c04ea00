/* SPDX-License-Identifier: MIT */
/*
 * Syscall fuzzing: children issue random syscalls with arguments drawn from
 * values that matter (their own handles, forged handles, user buffers,
 * kernel and unmapped pointers, sizes at and past every limit, VM state;
 * each child gets a VM-creation capability and a DUP of it without MANAGE).
 * A child may well kill itself (it can unmap its own code); the kernel must
 * never panic, every child must end, and once they are all gone every page
 * must be free again.  Deterministic: each child has its own seed.
 *
 * Arguments (all optional): calls=N per child (default 20000), children=N
 * (default 12), seed=N (default 0: the fixed seeds of CI).  tests/fuzz-long
 * runs it with a million calls or more and a new seed each time.
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

#define CHILDREN 12
#define CALLS_PER_CHILD 20000
#define CHILDREN_MAX 64

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t pick(const uint64_t *v, unsigned n) { return v[next() % n]; }

static int64_t handles[64];
static unsigned nhandles;
static uint8_t buf[2 * 4096] __attribute__((aligned(4096)));

static uint8_t stacks[4 * 4096] __attribute__((aligned(16)));

static void thread_entry(void)
{
    coco_thread_exit(0);
}

static uint64_t arg(void)
{
    static const uint64_t special[] = {
        0, 1, 2, 3, 7, 8, 15, 16, 64, 65, 255, 256, 4095, 4096, 4097, 0x10000, 0x7fffffff,
        0x80000000, 0xffffffff, 1ull << 32, 1ull << 40, 1ull << 47, (1ull << 47) - 4096,
        0x0000800000000000ull, 0xFFFF800000000000ull, 0xFFFFFFFFC0010000ull, ~0ull, ~0ull - 4095,
        COPRA_WAIT_FOREVER, 0x400000, 0x7f0000000000ull, 0x100000000000ull, 0xC0000000, 0xFEE00000,
    };
    switch (next() % 6) {
    case 0: return pick(special, sizeof(special) / sizeof(special[0]));
    case 1: return nhandles ? (uint64_t)handles[next() % nhandles] : 0;
    case 2: return (uint64_t)(uintptr_t)buf + next() % sizeof(buf);
    case 3: return next() % 300;
    case 4: return next();
    default: return (uint64_t)(uintptr_t)buf;
    }
}

static int child(uint64_t seed, uint64_t calls)
{
    rng = seed ? seed : 1;
    /* The VM-creation capability the parent handed on, and a DUP of it
     * without MANAGE: VM_CREATE sees good, weak, stale and forged handles. */
    copra_handle_t vmctl = coco_handle(0);
    for (unsigned i = 0; i < coco_handle_count(); i++)
        handles[nhandles++] = coco_handle(i);
    for (uint64_t i = 0; i < calls; i++) {
        uint64_t nr = next() % (COPRA_SYS_COUNT + 2), a[6];
        for (int j = 0; j < 6; j++)
            a[j] = arg();
        if (nr == COPRA_SYS_EXIT || nr == COPRA_SYS_THREAD_EXIT)
            continue;
        if (nr == COPRA_SYS_WAIT_FOR_EVENT)
            a[2] = next() % 2000000;            /* never wait forever */
        if (nr == COPRA_SYS_BATCH)
            a[2] = 0;                           /* an empty batch: records could block */
        if (nr == COPRA_SYS_MUNMAP && a[0] < COPRA_MMAP_BASE)
            a[0] = COPRA_MMAP_BASE + (a[0] & 0xffffff000ull);   /* keep our own image and stack */
        if (nr == COPRA_SYS_THREAD_CREATE && next() % 16) {
            a[0] = (uint64_t)(uintptr_t)thread_entry;         /* mostly threads that end cleanly */
            a[1] = (uint64_t)(uintptr_t)(stacks + sizeof(stacks) / 2) & ~15ull;
        }
        if (nr == COPRA_SYS_EXEC) {
            /* Only children that end at once: a valid path half the time. */
            static const char args[] = "child\0exit\0" "3";
            struct copra_exec_args *e = (struct copra_exec_args *)buf;
            e->path = (uint64_t)(uintptr_t)"child";
            e->path_len = next() % 2 ? 5 : a[1] % 300;
            e->argv = (uint64_t)(uintptr_t)args;
            e->argv_len = sizeof(args);
            e->argc = 3;
            e->handles = (uint64_t)(uintptr_t)&handles[0];
            e->nhandles = 0;
            a[0] = next() % 4 ? (uint64_t)(uintptr_t)e : a[0];
        }
        int64_t r = coco_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        /* Keep new handles (creation calls return them) to feed later calls. */
        if (r > 0 && r < (1ll << 31) && (nr == COPRA_SYS_OPEN || nr == COPRA_SYS_DUP || nr == COPRA_SYS_EVENT_CREATE ||
                                        nr == COPRA_SYS_TIMER_CREATE || nr == COPRA_SYS_MEM_CREATE ||
                                        nr == COPRA_SYS_VM_CREATE || nr == COPRA_SYS_VCPU_CREATE ||
                                        nr == COPRA_SYS_IRQ_CREATE || nr == COPRA_SYS_MMIO_EVENT ||
                                        nr == COPRA_SYS_IOIO_EVENT || nr == COPRA_SYS_EXEC ||
                                        nr == COPRA_SYS_GUEST_MEM))
            handles[nhandles++ % 64] = r;
        if (i % 997 == 0) {
            /* Some well-formed objects too, so deeper paths are reached. */
            int64_t vm = coco_vm_create(vmctl);
            int64_t mem = next() % 2 ? coco_mem_create(4) : coco_guest_mem(vmctl, (next() % 256) << 16, 4);
            if (mem > 0 && next() % 4 == 0)
                coco_set_mem_state((copra_handle_t)mem, (next() % 4) * 4096, 4096, (unsigned)(next() % 2));
            if (vm > 0 && mem > 0) {
                coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, 0, 0, 4 * 4096, 7);
                int64_t v = coco_vcpu_create((copra_handle_t)vm, next() % 2, 0);
                handles[nhandles++ % 64] = vm;
                handles[nhandles++ % 64] = mem;
                if (v > 0)
                    handles[nhandles++ % 64] = v;
            }
        }
    }
    return 0;
}

/* Kernel pages plus guest-pool pages: both must all come back. */
static uint64_t free_pages(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.free_pages + info.guest_pool_free_pages : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "run"))
        return child(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
    uint64_t calls = coco_arg_u64(argc, argv, "calls", CALLS_PER_CHILD);
    uint64_t children = coco_arg_u64(argc, argv, "children", CHILDREN);
    uint64_t base = coco_arg_u64(argc, argv, "seed", 0);
    if (children == 0 || children > CHILDREN_MAX)
        children = CHILDREN;
    coco_printf("sysfuzz: %lu children x %lu calls, seed %lu\n", (unsigned long)children, (unsigned long)calls,
                (unsigned long)base);
    int64_t timer = coco_timer_create();   /* before counting: it holds heap memory */
    uint64_t before = free_pages();
    unsigned ended = 0, killed = 0;
    for (unsigned i = 0; i < children; i++) {
        char seed[24], n[24];
        snprintf(seed, sizeof(seed), "%lu", (unsigned long)(base * 0x100000001b3ull + 0x9e3779b9u * (i + 1)));
        snprintf(n, sizeof(n), "%lu", (unsigned long)calls);
        const char *cargv[] = { "sysfuzz", "run", seed, n };
        int64_t ctl[2] = { coco_dup(coco_handle(COCO_INIT_VMCTL), COPRA_RIGHTS_VMCTL),
                           coco_dup(coco_handle(COCO_INIT_VMCTL), COPRA_RIGHT_TRANSFER) };
        copra_handle_t moved[2] = { (copra_handle_t)ctl[0], (copra_handle_t)ctl[1] };
        int64_t h = coco_spawn("sysfuzz", 4, cargv, moved, ctl[0] > 0 && ctl[1] > 0 ? 2 : 0);
        int64_t status = -1;
        if (h > 0 && coco_wait_process((copra_handle_t)h, &status) == 0) {
            ended++;
            killed += status >= 0x100;
            coco_close((copra_handle_t)h);
        }
    }
    /* A child may have EXECed grandchildren that outlive it (orphans run on
     * until they exit): give them up to 2 s before counting pages. */
    uint64_t after = free_pages();
    for (unsigned i = 0; i < 200 && after != before && timer > 0; i++) {
        struct copra_wait_item w = { .handle = (copra_handle_t)timer };
        coco_timer_set((copra_handle_t)timer, (uint64_t)coco_clock() + 10000000ull, 0);
        coco_wait(&w, 1, COPRA_WAIT_FOREVER);
        after = free_pages();
    }

    coco_printf("%u children ended (%u killed by their own faults), %lu calls at most; free pages %lu -> %lu\n",
                ended, killed, (unsigned long)(children * calls), (unsigned long)before, (unsigned long)after);
    CHECK("every fuzzing child ended", ended == children);
    CHECK("every page is free again", before == after);
    return coco_test_finish();
}
