/* SPDX-License-Identifier: MIT */
/*
 * The rights matrix (abi/copra/object.h): every syscall that takes a handle
 * x every handle type (process, thread, file, memory, event, timer, and the
 * VM-creation capability).
 *   - right type, all rights:          the call succeeds;
 *   - right type, one needed right
 *     taken away with DUP:             COPRA_ERIGHTS;
 *   - wrong type:                      COPRA_ETYPE.
 * Then DUP itself (only ever fewer rights, unknown bits refused), CLOSE and
 * DUP needing no rights, and stale handles: a handle used after CLOSE is
 * COPRA_EBADH for every call, even once its slot holds a new object.
 * Last, VM_CREATE needs the capability: the first process's works, a
 * process given none (or a DUP without MANAGE) cannot create a VM.
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

#define FORGED 0x7fff00ffu   /* slot 255, generation never issued */

enum type { PROCESS, THREAD, FILE, MEMORY, EVENT, TIMER, VMCTL, TYPES };

static const char *const type_name[TYPES] = {
    "process", "thread", "file", "memory", "event", "timer", "VM-creation",
};
static const uint32_t type_rights[TYPES] = {
    COPRA_RIGHTS_PROCESS, COPRA_RIGHTS_THREAD, COPRA_RIGHTS_FILE,
    COPRA_RIGHTS_MEMORY, COPRA_RIGHTS_EVENT, COPRA_RIGHTS_TIMER, COPRA_RIGHTS_VMCTL,
};

static copra_handle_t object[TYPES];   /* one live handle of each type */
static copra_handle_t thread_block;    /* event the test thread waits on */

static const char *right_name(uint32_t right)
{
    switch (right) {
    case COPRA_RIGHT_READ: return "READ";
    case COPRA_RIGHT_WRITE: return "WRITE";
    case COPRA_RIGHT_MAP: return "MAP";
    case COPRA_RIGHT_SIGNAL: return "SIGNAL";
    case COPRA_RIGHT_WAIT: return "WAIT";
    case COPRA_RIGHT_TRANSFER: return "TRANSFER";
    case COPRA_RIGHT_MANAGE: return "MANAGE";
    default: return "?";
    }
}

/* ---- The calls under test: each returns the syscall's result ---------- */

static int64_t call_read(copra_handle_t h)
{
    char buf[8];
    return coco_read(h, buf, 4, 0);
}

static int64_t call_mmap(copra_handle_t h, uint32_t prot)
{
    int64_t addr = coco_mmap(h, NULL, COPRA_PAGE_SIZE, prot, 0);
    if (addr > 0)
        coco_munmap((void *)(uintptr_t)addr, COPRA_PAGE_SIZE);
    return addr;
}

static int64_t call_mmap_read(copra_handle_t h)
{
    return call_mmap(h, COPRA_PROT_READ);
}

static int64_t call_mmap_write(copra_handle_t h)
{
    return call_mmap(h, COPRA_PROT_READ | COPRA_PROT_WRITE);
}

static int64_t call_wait(copra_handle_t h)
{
    struct copra_wait_item item = { .handle = h };
    return coco_wait(&item, 1, 0);
}

static int64_t call_signal(copra_handle_t h)
{
    return coco_signal(h);
}

static int64_t call_timer_set(copra_handle_t h)
{
    return coco_timer_set(h, 0, 0);   /* disarm */
}

static int64_t call_thread_set_cpu(copra_handle_t h)
{
    return coco_thread_set_cpu(h, 0);
}

static int64_t call_vm_create(copra_handle_t h)
{
    int64_t vm = coco_vm_create(h);
    if (vm > 0)
        coco_close((copra_handle_t)vm);
    return vm;
}

/* EXEC moving `h` into a child that exits 0 at once; reaps the child. */
static int64_t call_exec(copra_handle_t h)
{
    const char *argv[] = { "child", "exit", "0" };
    int64_t p = coco_spawn("child", 3, argv, &h, 1);
    if (p > 0) {
        int64_t status = -1;
        coco_wait_process((copra_handle_t)p, &status);
        coco_close((copra_handle_t)p);
        if (status != 0)
            return COPRA_EINVAL;
    }
    return p;
}

struct call {
    const char *name;
    int64_t (*run)(copra_handle_t h);
    unsigned types;            /* bit per enum type the call accepts */
    uint32_t rights;           /* rights it needs */
    unsigned elsewhere;        /* types another row (or another test) covers */
    bool timeout_is_success;   /* WAIT with timeout 0 on an unready object */
};

#define T(t) (1u << (t))

static const struct call calls[] = {
    { "READ", call_read, T(FILE), COPRA_RIGHT_READ, 0, false },
    { "MMAP read-only", call_mmap_read, T(FILE) | T(MEMORY) | T(EVENT), COPRA_RIGHT_MAP, 0, false },
    /* A writable mapping of a file is EPERM whatever the rights (syscalls.c);
     * a memory object needs MAP and WRITE, an event's area only MAP. */
    { "MMAP writable", call_mmap_write, T(MEMORY), COPRA_RIGHT_MAP | COPRA_RIGHT_WRITE,
      T(FILE) | T(EVENT), false },
    { "MMAP writable", call_mmap_write, T(EVENT), COPRA_RIGHT_MAP,
      (unsigned)~T(EVENT), false },
    { "WAIT_FOR_EVENT", call_wait, T(PROCESS) | T(THREAD) | T(EVENT) | T(TIMER),
      COPRA_RIGHT_WAIT, 0, true },
    { "SIGNAL", call_signal, T(EVENT), COPRA_RIGHT_SIGNAL, 0, false },
    { "TIMER_SET", call_timer_set, T(TIMER), COPRA_RIGHT_MANAGE, 0, false },
    { "THREAD_SET_CPU", call_thread_set_cpu, T(THREAD), COPRA_RIGHT_MANAGE, 0, false },
    { "VM_CREATE", call_vm_create, T(VMCTL), COPRA_RIGHT_MANAGE, 0, false },
    { "EXEC handle list", call_exec,
      T(PROCESS) | T(THREAD) | T(FILE) | T(MEMORY) | T(EVENT) | T(TIMER) | T(VMCTL),
      COPRA_RIGHT_TRANSFER, 0, false },
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* ---- Setup ------------------------------------------------------------- */

static int blocked_thread(void *arg)
{
    struct copra_wait_item item = { .handle = *(copra_handle_t *)arg };
    return coco_wait(&item, 1, COPRA_WAIT_FOREVER) == 1 ? 0 : 1;
}

static bool create_objects(void)
{
    const char *argv[] = { "child", "exit", "0" };
    int64_t h[TYPES], block;

    h[PROCESS] = coco_spawn("child", 3, argv, NULL, 0);
    if (h[PROCESS] > 0)
        coco_wait_process((copra_handle_t)h[PROCESS], NULL);
    block = coco_event_create(0);
    thread_block = (copra_handle_t)block;
    h[THREAD] = block > 0 ? coco_thread_spawn(blocked_thread, &thread_block, 0, COPRA_CPU_ANY)
                          : block;
    h[FILE] = coco_open("data.txt", 8);
    h[MEMORY] = coco_mem_create(1);
    h[EVENT] = coco_event_create(1);
    h[TIMER] = coco_timer_create();
    h[VMCTL] = coco_dup(coco_handle(COCO_INIT_VMCTL), COPRA_RIGHTS_VMCTL);

    bool ok = true;
    for (int t = 0; t < TYPES; t++) {
        if (h[t] <= 0) {
            coco_printf("  cannot create a %s: %s\n", type_name[t], coco_strerror(h[t]));
            ok = false;
        }
        object[t] = h[t] > 0 ? (copra_handle_t)h[t] : COPRA_HANDLE_NONE;
    }
    return CHECK("create one object of each type", ok);
}

static void destroy_objects(void)
{
    int64_t status = -1;
    coco_signal(thread_block);
    CHECK_EQUAL("blocked thread ends when signalled", coco_thread_join(object[THREAD], &status), 0);
    CHECK_EQUAL("blocked thread status", status, 0);
    unsigned closed = 0;
    for (int t = 0; t < TYPES; t++)
        closed += coco_close(object[t]) == 0;
    CHECK_EQUAL("every object closes", closed, TYPES);
    coco_close(thread_block);
}

/* ---- The matrix ---------------------------------------------------------- */

static void check_call(const struct call *c, enum type t)
{
    char name[128];
    int64_t dup, got;

    if (c->elsewhere & T(t))
        return;
    if (!(c->types & T(t))) {
        dup = coco_dup(object[t], type_rights[t]);
        got = c->run((copra_handle_t)dup);
        snprintf(name, sizeof name, "%s on a %s handle -> ETYPE", c->name, type_name[t]);
        CHECK_EQUAL(name, got, COPRA_ETYPE);
        coco_close((copra_handle_t)dup);
        return;
    }

    dup = coco_dup(object[t], type_rights[t]);
    got = c->run((copra_handle_t)dup);
    snprintf(name, sizeof name, "%s on a %s handle with all its rights", c->name, type_name[t]);
    if (!CHECK(name, got >= 0 || (c->timeout_is_success && got == COPRA_ETIMEOUT)))
        coco_printf("  got %ld (%s)\n", (long)got, coco_strerror(got));
    coco_close((copra_handle_t)dup);   /* EXEC may have moved it: EBADH then */

    for (uint32_t right = 1; right <= COPRA_RIGHTS_ALL; right <<= 1) {
        if (!(c->rights & right))
            continue;
        dup = coco_dup(object[t], type_rights[t] & ~right);
        got = c->run((copra_handle_t)dup);
        snprintf(name, sizeof name, "%s on a %s handle without %s -> ERIGHTS", c->name,
                 type_name[t], right_name(right));
        CHECK_EQUAL(name, got, COPRA_ERIGHTS);
        if (c->run == call_exec) {
            snprintf(name, sizeof name, "refused EXEC leaves the %s handle in place", type_name[t]);
            CHECK_EQUAL(name, coco_close((copra_handle_t)dup), 0);
        } else {
            coco_close((copra_handle_t)dup);
        }
    }
}

static void test_matrix(void)
{
    for (unsigned c = 0; c < NCALLS; c++)
        for (int t = 0; t < TYPES; t++)
            check_call(&calls[c], (enum type)t);

    CHECK_EQUAL("MMAP writable on a file handle with all its rights -> EPERM",
                call_mmap_write(object[FILE]), COPRA_EPERM);

    /* A handle with no rights at all: every call but DUP/CLOSE refuses it. */
    for (int t = 0; t < TYPES; t++) {
        char name[96];
        int64_t none = coco_dup(object[t], 0);
        snprintf(name, sizeof name, "DUP a %s handle to no rights", type_name[t]);
        if (!CHECK(name, none > 0))
            continue;
        unsigned refused = 0, accepting = 0;
        for (unsigned c = 0; c < NCALLS; c++) {
            if (!(calls[c].types & T(t)))
                continue;
            accepting++;
            refused += calls[c].run((copra_handle_t)none) == COPRA_ERIGHTS;
        }
        snprintf(name, sizeof name, "a rightless %s handle is refused by all %u calls",
                 type_name[t], accepting);
        CHECK_EQUAL(name, refused, accepting);
        snprintf(name, sizeof name, "DUP of a rightless %s handle needs no rights", type_name[t]);
        int64_t again = coco_dup((copra_handle_t)none, 0);
        CHECK(name, again > 0);
        snprintf(name, sizeof name, "DUP cannot add rights to a rightless %s handle", type_name[t]);
        CHECK_EQUAL(name, coco_dup((copra_handle_t)none, COPRA_RIGHT_TRANSFER), COPRA_ERIGHTS);
        snprintf(name, sizeof name, "CLOSE a rightless %s handle", type_name[t]);
        CHECK_EQUAL(name, coco_close((copra_handle_t)none), 0);
        coco_close((copra_handle_t)again);
    }
}

static void test_dup(void)
{
    for (int t = 0; t < TYPES; t++) {
        char name[96];
        snprintf(name, sizeof name, "DUP a %s handle with more rights than it has -> ERIGHTS",
                 type_name[t]);
        CHECK_EQUAL(name, coco_dup(object[t], COPRA_RIGHTS_ALL), COPRA_ERIGHTS);
        snprintf(name, sizeof name, "DUP a %s handle with an unknown right bit -> EINVAL",
                 type_name[t]);
        CHECK_EQUAL(name, coco_dup(object[t], type_rights[t] | 0x80u), COPRA_EINVAL);
    }
    /* Rights lost by a DUP stay lost in its DUPs. */
    int64_t weak = coco_dup(object[EVENT], COPRA_RIGHT_WAIT | COPRA_RIGHT_TRANSFER);
    CHECK("DUP an event to WAIT|TRANSFER", weak > 0);
    CHECK_EQUAL("DUP of the weak handle back to SIGNAL -> ERIGHTS",
                coco_dup((copra_handle_t)weak, COPRA_RIGHT_SIGNAL | COPRA_RIGHT_WAIT), COPRA_ERIGHTS);
    CHECK("DUP of the weak handle to a subset", coco_dup((copra_handle_t)weak, COPRA_RIGHT_WAIT) > 0);
    CHECK_EQUAL("DUP a forged handle -> EBADH", coco_dup(FORGED, 0), COPRA_EBADH);
    CHECK_EQUAL("DUP handle 0 -> EBADH", coco_dup(COPRA_HANDLE_NONE, 0), COPRA_EBADH);

    /* The object lives while any handle does. */
    int64_t event = coco_event_create(0);
    int64_t copy = coco_dup((copra_handle_t)event, COPRA_RIGHTS_EVENT);
    CHECK_EQUAL("close the original of a DUP", coco_close((copra_handle_t)event), 0);
    CHECK_EQUAL("the DUP still signals", coco_signal((copra_handle_t)copy), 0);
    struct copra_wait_item item = { .handle = (copra_handle_t)copy };
    CHECK_EQUAL("the DUP still waits", coco_wait(&item, 1, 0), 1);
    CHECK("and sees the one signal", item.ready && item.value == 1);
    coco_close((copra_handle_t)copy);
}

/* ---- Stale handles -------------------------------------------------------- */

static int64_t make(enum type t)
{
    switch (t) {
    case FILE: return coco_open("data.txt", 8);
    case MEMORY: return coco_mem_create(1);
    case EVENT: return coco_event_create(1);
    case TIMER: return coco_timer_create();
    default: return COPRA_EINVAL;
    }
}

static void test_stale(void)
{
    static const enum type types[] = { FILE, MEMORY, EVENT, TIMER, PROCESS };

    for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        enum type t = types[i];
        char name[128];
        int64_t old, fresh;

        if (t == PROCESS) {
            /* A process handle: the child has exited, close, EXEC again. */
            const char *argv[] = { "child", "exit", "0" };
            old = coco_spawn("child", 3, argv, NULL, 0);
            if (old > 0)
                coco_wait_process((copra_handle_t)old, NULL);
            coco_close((copra_handle_t)old);
            fresh = coco_spawn("child", 3, argv, NULL, 0);
            if (fresh > 0)
                coco_wait_process((copra_handle_t)fresh, NULL);
        } else {
            old = make(t);
            coco_close((copra_handle_t)old);
            fresh = make(t);
        }
        snprintf(name, sizeof name, "a new %s after CLOSE gets a different handle", type_name[t]);
        if (!CHECK(name, old > 0 && fresh > 0 && fresh != old))
            continue;
        if ((fresh & 0xffff) == (old & 0xffff))
            coco_printf("  (the new %s reuses slot %ld)\n", type_name[t], (long)(old & 0xffff));

        copra_handle_t h = (copra_handle_t)old;
        unsigned bad = 0, total = 0;
        for (unsigned c = 0; c < NCALLS; c++) {
            int64_t got = calls[c].run(h);
            total++;
            if (got != COPRA_EBADH) {
                bad++;
                coco_printf("  stale %s: %s gave %ld (%s)\n", type_name[t], calls[c].name,
                            (long)got, coco_strerror(got));
            }
        }
        total += 2;
        bad += coco_dup(h, 0) != COPRA_EBADH;
        bad += coco_close(h) != COPRA_EBADH;
        snprintf(name, sizeof name, "a stale %s handle is EBADH for all %u calls", type_name[t], total);
        CHECK_EQUAL(name, bad, 0);
        snprintf(name, sizeof name, "the new %s handle is unaffected", type_name[t]);
        CHECK_EQUAL(name, coco_close((copra_handle_t)fresh), 0);
    }
}

/* ---- VM_CREATE needs the VM-creation capability ---------------------------- */

static int64_t child_vm_create(copra_handle_t *moved, uint32_t n)
{
    const char *argv[] = { "child", "vm-create" };
    int64_t status = -1, p = coco_spawn("child", 2, argv, moved, n);
    if (p > 0) {
        coco_wait_process((copra_handle_t)p, &status);
        coco_close((copra_handle_t)p);
    }
    return p > 0 ? status : p;
}

static void test_vm_create(void)
{
    copra_handle_t ctl = coco_handle(COCO_INIT_VMCTL);
    CHECK("the first process received a VM-creation handle as its handle 1",
          coco_handle_count() == 2 && ctl != COPRA_HANDLE_NONE);
    int64_t vm = coco_vm_create(ctl);
    CHECK("VM_CREATE with the first process's capability", vm > 0);
    CHECK_EQUAL("VM_CREATE again with it (it is not used up)", call_vm_create(ctl) > 0, 1);
    coco_close((copra_handle_t)vm);
    CHECK_EQUAL("VM_CREATE without a handle -> EBADH", coco_vm_create(COPRA_HANDLE_NONE), COPRA_EBADH);
    CHECK_EQUAL("VM_CREATE with a forged handle -> EBADH", coco_vm_create(FORGED), COPRA_EBADH);
    CHECK_EQUAL("VM_CREATE with the console handle -> ETYPE",
                coco_vm_create(coco_handle(COCO_INIT_CONSOLE)), COPRA_ETYPE);
    int64_t weak = coco_dup(ctl, COPRA_RIGHT_TRANSFER);
    CHECK_EQUAL("VM_CREATE with a DUP without MANAGE -> ERIGHTS", coco_vm_create((copra_handle_t)weak),
                COPRA_ERIGHTS);
    CHECK_EQUAL("a DUP without MANAGE cannot get it back",
                coco_dup((copra_handle_t)weak, COPRA_RIGHTS_VMCTL), COPRA_ERIGHTS);
    vm = coco_vm_create(ctl);
    CHECK_EQUAL("a DUP of a VM handle is still refused", coco_dup((copra_handle_t)vm, 0), COPRA_EPERM);
    coco_close((copra_handle_t)vm);

    CHECK_EQUAL("a child given no capability cannot create a VM with any handle",
                child_vm_create(NULL, 0), 0);
    copra_handle_t moved = (copra_handle_t)weak;
    CHECK_EQUAL("nor one given a DUP without MANAGE", child_vm_create(&moved, 1), 1);
    moved = (copra_handle_t)coco_dup(ctl, COPRA_RIGHTS_VMCTL);
    CHECK_EQUAL("a child given a DUP by EXEC creates a VM", child_vm_create(&moved, 1), 0);
    CHECK_EQUAL("and the moved DUP is gone from the parent", coco_vm_create(moved), COPRA_EBADH);
    CHECK("the parent's own capability still works", call_vm_create(ctl) > 0);
}

int main(void)
{
    test_vm_create();
    if (create_objects()) {
        test_matrix();
        test_dup();
        destroy_objects();
    }
    test_stale();
    return coco_test_finish();
}
