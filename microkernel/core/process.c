/* SPDX-License-Identifier: MIT */
/* Processes: creation from an initrd ELF, exit, faults; EXEC, EXIT, CLOSE. */
#include "core/process.h"
#include "core/elf.h"
#include "core/heap.h"
#include "core/initrd.h"
#include "core/string.h"
#include "core/usercopy.h"
#include "arch/x86_64/apic.h"

struct process *process_init;
static uint32_t next_pid = 1;

static void process_destroy(struct kobject *o)
{
    struct process *p = container_of(o, struct process, obj);
    if (!p->exit.done) {
        /* Created but never run (EXEC failed half-way). */
        handle_table_clear(&p->handles);
        aspace_destroy(&p->as);
    }
    kfree(p);
}

static int map_new(struct process *p, uint64_t va, uint64_t pages, uint32_t prot, struct memobj **out)
{
    struct memobj *m = memobj_create(pages);
    if (!m)
        return COPRA_ENOMEM;
    uint64_t got;
    int err = aspace_map(&p->as, va, pages, prot, m, 0, &got);
    if (err) {
        memobj_put(m);
        return err;
    }
    *out = m;   /* the caller drops this reference; the region keeps its own */
    return COPRA_OK;
}

/* Lays out argc, argv[], 0, nhandles, handle[] and the strings (abi/copra/syscall.h). */
static uint64_t build_stack(struct memobj *stack, const char *argv, size_t argv_len,
                            uint32_t argc, uint32_t nhandles)
{
    uint64_t base = COPRA_USER_STACK_TOP - COPRA_USER_STACK_SIZE;
    uint64_t str = COPRA_USER_STACK_TOP - ALIGN_UP(argv_len, 16);
    memobj_write(stack, str - base, argv, argv_len);
    uint64_t w[1 + COPRA_ARGC_MAX + 2 + COPRA_EXEC_HANDLES_MAX];
    unsigned n = 0;
    w[n++] = argc;
    for (size_t off = 0, i = 0; i < argc; i++) {
        w[n++] = str + off;
        off += strnlen(argv + off, argv_len - off) + 1;
    }
    w[n++] = 0;
    w[n++] = nhandles;
    /* A fresh table hands out slot i with generation 1. */
    for (uint32_t i = 0; i < nhandles; i++)
        w[n++] = (1u << HANDLE_SLOT_BITS) | i;
    uint64_t sp = ALIGN_DOWN(str - n * 8, 16);
    memobj_write(stack, sp - base, w, n * 8);
    return sp;
}

int process_create(const char *path, size_t path_len, const char *argv, size_t argv_len,
                   uint32_t argc, uint32_t nhandles, struct process **out)
{
    struct initrd_file *file = initrd_find(path, path_len);
    if (!file)
        return COPRA_ENOENT;
    struct elf_image img;
    const char *why;
    if (elf_validate(file->data, file->size, COPRA_USER_BASE, COPRA_USER_END, &img, &why)) {
        kprintf("copra: exec %s refused: %s\n", file->name, why);
        return COPRA_ENOEXEC;
    }
    ASSERT(argv_len <= COPRA_ARGV_MAX && argc <= COPRA_ARGC_MAX && nhandles <= COPRA_EXEC_HANDLES_MAX);

    struct process *p = kmalloc(sizeof(*p));
    if (!p)
        return COPRA_ENOMEM;
    kobject_init(&p->obj, COPRA_OBJ_PROCESS, process_destroy);
    waitable_init(&p->exit, true);
    handle_table_init(&p->handles, p->handle_slots, COPRA_HANDLES_PER_PROCESS);
    const char *base = file->name;
    for (const char *c = file->name; *c; c++)
        if (*c == '/')
            base = c + 1;
    memcpy(p->name, base, MIN(strlen(base), sizeof(p->name) - 1));   /* kmalloc zeroed the NUL */

    int err = aspace_init(&p->as);
    struct memobj *m;
    for (uint32_t i = 0; !err && i < img.nsegments; i++) {
        const struct elf_segment *s = &img.seg[i];
        err = map_new(p, s->vaddr, s->pages, s->prot, &m);
        if (!err) {
            memobj_write(m, s->vaddr_exact - s->vaddr, file->data + s->file_off, s->filesz);
            memobj_put(m);
        }
    }
    uint64_t sp = 0;
    if (!err) {
        err = map_new(p, COPRA_USER_STACK_TOP - COPRA_USER_STACK_SIZE,
                      COPRA_USER_STACK_SIZE / PAGE_SIZE, COPRA_PROT_READ | COPRA_PROT_WRITE, &m);
        if (!err) {
            sp = build_stack(m, argv, argv_len, argc, nhandles);
            memobj_put(m);
        }
    }
    struct thread *t = err ? NULL : thread_create_user(p, img.entry, sp, 0, -1);
    if (!t) {
        kobject_put(&p->obj);
        return err ? err : COPRA_ENOMEM;
    }
    p->pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
    p->threads = t;   /* no lock: nothing else sees p until the caller publishes it */
    p->nthreads = 1;
    *out = p;
    return COPRA_OK;
}

void process_start(struct process *p)
{
    thread_start(p->threads);
}

void process_exit(int64_t status)
{
    struct process *p = process_current();
    struct thread *self = thread_current();
    uint64_t f = sched_lock();
    if (p->exiting) {
        sched_unlock(f);
        thread_exit(status);   /* another thread is already tearing down */
    }
    p->exiting = true;
    /* End every other thread: blocked ones wake and see `exiting`, running
     * ones are kicked into the kernel, which checks before returning to user. */
    for (struct thread *t = p->threads; t; t = t->proc_next) {
        if (t == self)
            continue;
        if (t->state == THREAD_BLOCKED)
            thread_wake_locked(t);
        else if (t->state == THREAD_RUNNING && t->on_cpu != self->on_cpu)
            apic_send_ipi(t->on_cpu->apic_id, VECTOR_KICK);
    }
    struct waiter w;
    while (p->nthreads > 1) {
        waitq_add_locked(&p->threads_gone, &w, self);
        sched_block_locked(0);
        waitq_remove_locked(&p->threads_gone, &w);
    }
    sched_unlock(f);

    /* No other thread of p runs any more: its handles and memory can go. */
    handle_table_clear(&p->handles);
    f = sched_lock();
    aspace_deactivate(&p->as, self->on_cpu);   /* onto the kernel's tables */
    sched_unlock(f);
    aspace_destroy(&p->as);

    f = sched_lock();
    waitable_finish(&p->exit, (uint64_t)status);
    waitq_wake_all_locked(&p->exit_waiters);
    if (p == process_init) {
        kprintf("copra: init process '%s' exited with status %ld; stopping\n", p->name, status);
        cpu_poweroff(status >= 0 && status <= 0x7f ? (uint32_t)status : COPRA_STATUS_INIT_FAULT);
    }
    sched_unlock(f);
    thread_exit(status);
}

int64_t process_handle_install(struct kobject *obj, uint32_t rights)
{
    struct process *p = process_current();
    uint64_t f = spin_lock_irqsave(&p->lock);
    int64_t h = handle_install(&p->handles, obj, rights);
    spin_unlock_irqrestore(&p->lock, f);
    if (h < 0)
        kobject_put(obj);   /* a full table: the reference the handle would have held */
    return h;
}

void process_fault(const struct trap_frame *f)
{
    struct process *p = process_current();
    kprintf("copra: process '%s' (pid %u) killed: %s (vector %lu), error 0x%lx, rip 0x%lx, cr2 0x%lx\n",
            p->name, p->pid, trap_vector_name(f->vector), f->vector, f->error, f->rip, read_cr2());
    trap_print_frame(f);
    process_exit(PROCESS_STATUS_FAULT(f->vector));
}

/* ---- syscalls ---- */

int64_t sys_exit(uint64_t status)
{
    process_exit((int64_t)(status & 0xffffffffu));
}

int64_t sys_close(uint64_t h)
{
    struct process *p = process_current();
    struct kobject *o;
    uint64_t f = spin_lock_irqsave(&p->lock);
    int err = h > UINT32_MAX ? COPRA_EBADH : handle_remove(&p->handles, (copra_handle_t)h, &o, NULL);
    spin_unlock_irqrestore(&p->lock, f);
    if (!err)
        kobject_put(o);
    return err;
}

/* The rest of EXEC, once the argument block is in kernel memory. */
static int64_t exec_checked(struct process *self, const struct copra_exec_args *a, const char *path,
                            char *argv, const copra_handle_t *hs)
{
    if (copy_from_user(argv, a->argv, a->argv_len))
        return COPRA_EFAULT;
    /* Packed argv: exactly argc NUL-terminated strings filling argv_len. */
    uint32_t nuls = 0;
    for (uint64_t i = 0; i < a->argv_len; i++)
        nuls += argv[i] == 0;
    if (nuls != a->argc || (a->argv_len && argv[a->argv_len - 1] != 0))
        return COPRA_EINVAL;

    /* The handle table stays locked from the checks to the move, so another
     * thread of this process cannot close or fill it in between. */
    int err = COPRA_OK;
    uint64_t f = spin_lock_irqsave(&self->lock);
    for (uint32_t i = 0; !err && i < a->nhandles; i++) {
        err = handle_get(&self->handles, hs[i], COPRA_OBJ_NONE, COPRA_RIGHT_TRANSFER, NULL, NULL);
        for (uint32_t j = 0; !err && j < i; j++)
            if (hs[j] == hs[i])
                err = COPRA_EINVAL;
    }
    if (!err && self->handles.used >= self->handles.capacity)
        err = COPRA_EFULL;
    struct process *child = NULL;
    if (!err)
        err = process_create(path, a->path_len, argv, a->argv_len, a->argc, a->nhandles, &child);
    if (err) {
        spin_unlock_irqrestore(&self->lock, f);
        return err;
    }
    for (uint32_t i = 0; i < a->nhandles; i++) {
        struct kobject *o;
        uint32_t rights;
        handle_remove(&self->handles, hs[i], &o, &rights);
        handle_install(&child->handles, o, rights);
    }
    int64_t h = handle_install(&self->handles, &child->obj, COPRA_RIGHTS_PROCESS);
    spin_unlock_irqrestore(&self->lock, f);
    process_start(child);
    return h;
}

int64_t sys_exec(uint64_t uargs)
{
    struct copra_exec_args a;
    char path[COPRA_PATH_MAX];
    copra_handle_t hs[COPRA_EXEC_HANDLES_MAX];
    struct process *self = process_current();

    if (copy_from_user(&a, uargs, sizeof(a)))
        return COPRA_EFAULT;
    if (a.path_len == 0)
        return COPRA_EINVAL;
    if (a.path_len > COPRA_PATH_MAX || a.argv_len > COPRA_ARGV_MAX || a.argc > COPRA_ARGC_MAX ||
        a.nhandles > COPRA_EXEC_HANDLES_MAX)
        return COPRA_ERANGE;
    if (copy_from_user(path, a.path, a.path_len) ||
        copy_from_user(hs, a.handles, a.nhandles * sizeof(hs[0])))
        return COPRA_EFAULT;
    char *argv = kmalloc(a.argv_len + 1);
    if (!argv)
        return COPRA_ENOMEM;
    int64_t ret = exec_checked(self, &a, path, argv, hs);
    kfree(argv);
    return ret;
}

int64_t sys_dup(uint64_t h, uint64_t rights)
{
    struct kobject *o;
    uint32_t held;
    if (rights & ~(uint64_t)COPRA_RIGHTS_ALL)
        return COPRA_EINVAL;
    int err = process_handle_lookup(h, COPRA_OBJ_NONE, 0, &o, &held);
    if (err)
        return err;
    int64_t ret;
    if (kobject_ops[o->type] && kobject_ops[o->type]->no_dup)
        ret = COPRA_EPERM;     /* one handle per VM and per VCPU, by design */
    else if ((rights & held) != rights)
        ret = COPRA_ERIGHTS;   /* never more rights than the original */
    else
        return process_handle_install(o, (uint32_t)rights);
    kobject_put(o);
    return ret;
}
