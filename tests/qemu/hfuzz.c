/* SPDX-License-Identifier: MIT */
/*
 * hfuzz: the hostile-guest fuzzer's first process (hfuzz.h).  For each case
 * it EXECs a hostile VMM (hvmm), which starts a hostile device model (hdm)
 * and runs a random guest against both, and checks, from a process that
 * outlives them:
 *   - the VMM saw nothing wrong (its exit status, enum hfuzz_status) and was
 *     not killed (a guest breakpoint on its code would do that);
 *   - every CPU still schedules: one watchdog thread pinned to each CPU
 *     beats every 5 ms, and a CPU silent for 3 s is lost (a guest that keeps
 *     a physical CPU);
 *   - the case ends within its budget plus slack (no hang);
 *   - every page is free again once the VMM and the model have exited.
 * A kernel panic or a QEMU abort ends the run: the runner sees the status,
 * and the last "case" line names the case.
 *
 * Command line (after `init=hfuzz --`), all optional:
 *   seed=N       base seed (default 1)        case=M    run only case M
 *   first=M      first case (default 0)       cases=N   number of cases (default 200)
 *   budget=MS    time a case runs (default 100)  exits=N  exits per VCPU at most (3000)
 *   modes=a,b    CPU modes: real p16 p32 pg32 pae long (default all)
 *   no-NAME      leave out a class: pfx mem str io cr cr8 dr msr efer x87 sse desc sys
 *                rand ring3 ro state event irq slot crash map smp cr8 efer (hfuzz.h)
 *                (smc, self-modifying code, is off unless +smc: hfuzz.h)
 *   only=a,b     only these classes;  flags=0xN   the class mask itself
 *   +NAME        put a class back (after "known" or only=): arguments apply in order
 *   known        leave out what issue 13 already lists (see KNOWN below)
 *   trace        hvmm logs every exit and hostile act (for replaying one case)
 * The last line is "hfuzz: N cases, F failures"; the status is 0 only if F is 0.
 */
#include "hfuzz.h"

/* Classes that reach the failures issue 13 lists: CR0.NW without CD from
 * the guest or the VMM and any other failed entry -- a guest's EFER through
 * WRMSR is one -- (item 1), breakpoints (2), bad events (3), writes through
 * INS/MOVS to read-only RAM (4), CR8 with a window, x87 with NE = 0 and ring
 * transitions through a busy TSS (6).  "known" leaves them out, to show the
 * rest runs clean. */
#define KNOWN (HF_CR | HF_CR8 | HF_DR | HF_EVENT | HF_STATE | HF_X87 | HF_RING3 | HF_RO | HF_EFER)

#define CPUS COPRA_CPUS_MAX
#define WATCHDOG_SILENCE (3000 * HF_MS)
#define CASE_SLACK (8000 * HF_MS)
#define SYMPTOMS_MAX 24

static volatile uint64_t beats[CPUS], beat_time[CPUS];
static unsigned ncpus;
static volatile uint64_t current_seed, current_case, cases_done;
static volatile int cpu_lost;
static unsigned failures;

/*
 * One per CPU, pinned: it beats every 5 ms, and checks that every other CPU
 * beat within 3 s -- so a lost CPU is reported from any CPU still alive,
 * also when it is the CPU of hfuzz's main thread.  The report is the last
 * thing the run does: EXIT cannot end a thread on a CPU that is gone, so
 * the run then ends at the runner's timeout, with the finding in its log.
 */
static int watchdog(void *arg)
{
    unsigned cpu = (unsigned)(uintptr_t)arg;
    int64_t t = coco_timer_create();
    if (t < 0 || coco_timer_set((copra_handle_t)t, hf_now() + 5 * HF_MS, 5 * HF_MS))
        return 1;
    for (;;) {
        struct copra_wait_item w = { .handle = (copra_handle_t)t };
        coco_wait(&w, 1, COPRA_WAIT_FOREVER);
        uint64_t now = hf_now();
        if ((unsigned)coco_cpu_current() == cpu) {
            __atomic_store_n(&beat_time[cpu], now, __ATOMIC_RELAXED);
            __atomic_add_fetch(&beats[cpu], 1, __ATOMIC_RELAXED);
        }
        for (unsigned c = 0; c < ncpus; c++) {
            uint64_t last = __atomic_load_n(&beat_time[c], __ATOMIC_RELAXED);
            int none = 0;
            if (c == cpu || !last || now < last || now - last <= WATCHDOG_SILENCE ||
                !__atomic_compare_exchange_n(&cpu_lost, &none, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                continue;
            coco_printf("hfuzz: FAIL seed=%lu case=%lu: CPU %u lost: its watchdog thread has not run for 3 s "
                        "(seen from CPU %u)\n", (unsigned long)current_seed, (unsigned long)current_case, c, cpu);
            coco_printf("hfuzz: symptom \"CPU lost\": 1 case(s), first seed=%lu case=%lu\n",
                        (unsigned long)current_seed, (unsigned long)current_case);
            coco_printf("hfuzz: %lu cases, %u failures (the run stops: a CPU is gone)\n",
                        (unsigned long)cases_done + 1, failures + 1);
            coco_exit(1);
        }
    }
}

/* The kernel's free pages and the guest pool's (hvmm's RAM comes from it
 * where it can): both must all come back. */
static uint64_t free_pages(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.free_pages + info.guest_pool_free_pages : 0;
}

static void sleep_ms(uint64_t ms)
{
    static int64_t ev;
    if (!ev)
        ev = coco_event_create(0);
    struct copra_wait_item w = { .handle = (copra_handle_t)ev };
    coco_wait(&w, 1, ms * HF_MS);
}

/* ---- findings ---- */

static struct {
    char what[96];
    uint64_t seed, index;
    unsigned count;
} symptoms[SYMPTOMS_MAX];
static unsigned nsymptoms;

static void finding(uint64_t seed, uint64_t index, const char *what)
{
    failures++;
    coco_printf("hfuzz: FAIL seed=%lu case=%lu: %s\n", (unsigned long)seed, (unsigned long)index, what);
    for (unsigned i = 0; i < nsymptoms; i++)
        if (!strcmp(symptoms[i].what, what)) {
            symptoms[i].count++;
            return;
        }
    if (nsymptoms < SYMPTOMS_MAX) {
        strlcpy(symptoms[nsymptoms].what, what, sizeof(symptoms[0].what));
        symptoms[nsymptoms].seed = seed;
        symptoms[nsymptoms].index = index;
        symptoms[nsymptoms++].count = 1;
    }
}

static int summary(unsigned cases, uint64_t t0)
{
    for (unsigned i = 0; i < nsymptoms; i++)
        coco_printf("hfuzz: symptom \"%s\": %u case(s), first seed=%lu case=%lu\n", symptoms[i].what,
                    symptoms[i].count, (unsigned long)symptoms[i].seed, (unsigned long)symptoms[i].index);
    coco_printf("hfuzz: %u cases, %u failures (%lu ms)\n", cases, failures,
                (unsigned long)((hf_now() - t0) / HF_MS));
    return failures ? 1 : 0;
}

static const char *status_text(int64_t status, char *buf, size_t len)
{
    switch (status) {
    case HS_SETUP: return "hvmm: a set-up syscall failed";
    case HS_WEDGED: return "VCPU wedged: VMRUN fails after a full state reset (item 3)";
    case HS_LEAK: return "host state visible to the VMM after a failed entry (item 1)";
    case HS_RO_WRITTEN: return "guest wrote read-only RAM (item 4)";
    case HS_DM_STUCK: return "device model did not end";
    case HS_VCPU_STUCK: return "VCPU thread stuck in the guest (item 1)";
    case HS_SYSCALL: return "WAIT on a VCPU failed";
    default: break;
    }
    if (status >= 0x100)
        snprintf(buf, len, "hvmm killed by exception %ld%s", (long)(status - 0x100),
                 status == 0x101 ? " (#DB: guest breakpoint on VMM code, item 2)" : "");
    else
        snprintf(buf, len, "hvmm exited with status %ld", (long)status);
    return buf;
}

/* ---- the VM capability (issue 13, item 8) ---- */

/*
 * The first process will receive the right to create VMs as its handle 1.
 * Each hvmm gets a copy; if the object cannot be DUPed, the original goes
 * to the first case only.
 */
static copra_handle_t cap_for_child(void)
{
    static bool moved;
    if (coco_handle_count() < 2 || moved)
        return COPRA_HANDLE_NONE;
    copra_handle_t cap = coco_handle(1);
    for (uint32_t r = COPRA_RIGHTS_ALL; r; r--)
        if ((r & COPRA_RIGHT_TRANSFER)) {
            int64_t d = coco_dup(cap, r);
            if (d > 0)
                return (copra_handle_t)d;
            if (d != COPRA_ERIGHTS)
                break;
        }
    moved = true;
    return cap;
}

/* ---- one case ---- */

struct run {
    uint64_t seed;
    uint32_t flags, modes;
    unsigned budget_ms, exits;
    bool trace;
};

/* Runs case `index`; false if the machine can no longer be trusted (lost CPU, hang). */
static bool run_case(const struct run *r, uint64_t index)
{
    char a[9][32];
    copra_handle_t cap = cap_for_child();
    snprintf(a[0], 32, "seed=%lu", (unsigned long)r->seed);
    snprintf(a[1], 32, "case=%lu", (unsigned long)index);
    snprintf(a[2], 32, "flags=%u", r->flags);
    snprintf(a[3], 32, "modes=%u", r->modes);
    snprintf(a[4], 32, "budget=%u", r->budget_ms);
    snprintf(a[5], 32, "exits=%u", r->exits);
    snprintf(a[6], 32, "ncpus=%u", ncpus);
    snprintf(a[7], 32, "cap=%u", cap ? 1 : 0);
    snprintf(a[8], 32, "trace=%u", r->trace);
    const char *argv[] = { "hvmm", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8] };

    uint64_t before = free_pages();
    current_seed = r->seed;
    current_case = index;
    coco_printf("hfuzz: case seed=%lu case=%lu\n", (unsigned long)r->seed, (unsigned long)index);
    int64_t p = coco_spawn("hvmm", 10, argv, cap ? &cap : NULL, cap ? 1 : 0);
    if (p < 0) {
        finding(r->seed, index, "EXEC hvmm failed");
        return true;
    }
    uint64_t start = hf_now(), last[CPUS], seen[CPUS];
    for (unsigned c = 0; c < ncpus; c++) {
        last[c] = beats[c];
        seen[c] = start;
    }
    int64_t status = -1;
    for (;;) {
        struct copra_wait_item w = { .handle = (copra_handle_t)p };
        if (coco_wait(&w, 1, 100 * HF_MS) == 1) {
            status = (int64_t)w.value;
            break;
        }
        uint64_t now = hf_now();
        for (unsigned c = 0; c < ncpus; c++) {
            uint64_t b = beats[c];
            if (b != last[c]) {
                last[c] = b;
                seen[c] = now;
            } else if (now - seen[c] > WATCHDOG_SILENCE) {
                char what[64];
                snprintf(what, sizeof(what), "CPU %u lost: its watchdog thread has not run for 3 s (item 1)", c);
                finding(r->seed, index, what);
                return false;
            }
        }
        if (now - start > r->budget_ms * HF_MS + CASE_SLACK) {
            finding(r->seed, index, "hang: the case did not end (VMM, VCPU or device model stuck)");
            return false;
        }
    }
    coco_close((copra_handle_t)p);
    char buf[96];
    if (status)
        finding(r->seed, index, status_text(status, buf, sizeof(buf)));
    /* A device model orphaned by a killed VMM ends at its own deadline. */
    uint64_t after = free_pages();
    for (unsigned i = 0; i < 30 && after != before; i++) {
        sleep_ms(100);
        after = free_pages();
    }
    if (after != before) {
        snprintf(buf, sizeof(buf), "pages not freed after the case (%ld)", (long)(before - after));
        finding(r->seed, index, buf);
        coco_printf("hfuzz: free pages %lu -> %lu\n", (unsigned long)before, (unsigned long)after);
    }
    return true;
}

/* ---- command line ---- */

static uint32_t names_mask(const char *list, bool modes)
{
    uint32_t m = 0;
    while (*list) {
        const char *end = strchr(list, ',');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (modes) {
            for (unsigned i = 0; i < HM_COUNT; i++)
                if (strlen(hfuzz_mode_names[i]) == n && !strncmp(list, hfuzz_mode_names[i], n))
                    m |= 1u << i;
        } else {
            for (unsigned i = 0; i < sizeof(hfuzz_flag_names) / sizeof(hfuzz_flag_names[0]); i++)
                if (strlen(hfuzz_flag_names[i].name) == n && !strncmp(list, hfuzz_flag_names[i].name, n))
                    m |= hfuzz_flag_names[i].bit;
        }
        list += n + (end ? 1 : 0);
    }
    return m;
}

int main(int argc, char **argv)
{
    struct run r = { .seed = 1, .flags = HF_DEFAULT, .modes = HM_ALL, .budget_ms = 100, .exits = 3000 };
    uint64_t first = 0, cases = 200;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strncmp(s, "seed=", 5))
            r.seed = strtoull(s + 5, NULL, 0);
        else if (!strncmp(s, "case=", 5)) {
            first = strtoull(s + 5, NULL, 0);
            cases = 1;
        } else if (!strncmp(s, "first=", 6))
            first = strtoull(s + 6, NULL, 0);
        else if (!strncmp(s, "cases=", 6))
            cases = strtoull(s + 6, NULL, 0);
        else if (!strncmp(s, "budget=", 7))
            r.budget_ms = (unsigned)strtoull(s + 7, NULL, 0);
        else if (!strncmp(s, "exits=", 6))
            r.exits = (unsigned)strtoull(s + 6, NULL, 0);
        else if (!strncmp(s, "modes=", 6))
            r.modes = names_mask(s + 6, true);
        else if (!strncmp(s, "flags=", 6))
            r.flags = (uint32_t)strtoull(s + 6, NULL, 0) & HF_ALL;
        else if (!strncmp(s, "only=", 5))
            r.flags = names_mask(s + 5, false);
        else if (!strncmp(s, "no-", 3))
            r.flags &= ~names_mask(s + 3, false);
        else if (s[0] == '+')
            r.flags |= names_mask(s + 1, false);
        else if (!strcmp(s, "trace"))
            r.trace = true;
        else if (!strcmp(s, "known"))
            r.flags &= ~KNOWN;
        else
            coco_printf("hfuzz: ignoring argument '%s'\n", s);
    }
    if (!r.modes)
        r.modes = HM_ALL;
    struct copra_sysinfo info;
    coco_sysinfo(&info, sizeof(info));
    ncpus = info.ncpus < CPUS ? info.ncpus : CPUS;
    for (unsigned c = 0; c < ncpus; c++)
        if (coco_thread_spawn(watchdog, (void *)(uintptr_t)c, 16 * 1024, c) < 0)
            coco_printf("hfuzz: no watchdog on CPU %u\n", c);
    sleep_ms(20);

    coco_printf("hfuzz: seed=%lu first=%lu cases=%lu flags=%#x modes=%#x budget=%u ms, %u CPU(s)\n",
                (unsigned long)r.seed, (unsigned long)first, (unsigned long)cases, r.flags, r.modes,
                r.budget_ms, ncpus);
    uint64_t t0 = hf_now();
    unsigned done = 0;
    for (uint64_t i = first; i < first + cases; i++) {
        bool alive = run_case(&r, i);
        cases_done = ++done;
        if (!alive)
            break;
    }
    return summary(done, t0);
}
