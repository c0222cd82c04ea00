/* SPDX-License-Identifier: MIT */
/*
 * Threads and a round-robin scheduler.  The kernel is not preemptible: it
 * runs with interrupts off, takes them only in user mode and in the idle
 * loop, and switches threads only at those points or when a thread blocks.
 * One run queue for now; per-CPU queues and migration come with SMP.
 */
#include "core/thread.h"
#include "core/process.h"
#include "core/heap.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"

void context_switch(uint64_t *save_rsp, uint64_t new_rsp);
void thread_trampoline(void);
void thread_started(void);
extern char boot_kstack[];

static struct spinlock sched_spin;
static struct thread *runq_head, *runq_tail;
static struct thread *sleepers;
static struct thread *dead_thread;   /* freed by the next thread to run */
static struct thread idle_thread;

uint64_t sched_lock(void) { return spin_lock_irqsave(&sched_spin); }
void sched_unlock(uint64_t flags) { spin_unlock_irqrestore(&sched_spin, flags); }

static void runq_push(struct thread *t)
{
    t->run_next = NULL;
    if (runq_tail)
        runq_tail->run_next = t;
    else
        runq_head = t;
    runq_tail = t;
}

static struct thread *runq_pop(void)
{
    struct thread *t = runq_head;
    if (t) {
        runq_head = t->run_next;
        if (!runq_head)
            runq_tail = NULL;
    }
    return t;
}

static void sleepers_remove(struct thread *t)
{
    for (struct thread **pp = &sleepers; *pp; pp = &(*pp)->sleep_next) {
        if (*pp == t) {
            *pp = t->sleep_next;
            return;
        }
    }
}

static void thread_destroy(struct kobject *o)
{
    kfree(container_of(o, struct thread, obj));
}

/* Frees the thread that died before the last switch (never the one running). */
static void reap(void)
{
    struct thread *t = dead_thread;
    if (!t || t == thread_current())
        return;
    dead_thread = NULL;
    page_free(virt_to_phys((void *)t->kstack), KSTACK_SIZE / PAGE_SIZE);
    if (t->proc)
        process_thread_gone(t->proc, t);
    kobject_put(&t->obj);
}

static void schedule_locked(void)
{
    struct thread *prev = thread_current();
    struct cpu *cpu = prev->cpu;
    struct thread *next = runq_pop();
    if (!next)
        next = cpu->idle;
    if (next == prev) {
        prev->state = THREAD_RUNNING;
        return;
    }
    if (prev->state == THREAD_DEAD)
        dead_thread = prev;
    next->state = THREAD_RUNNING;
    next->cpu = cpu;
    cpu->current = next;
    cpu_set_kernel_stack(cpu, next->kstack + KSTACK_SIZE);
    uint64_t root = next->proc ? next->proc->as.root : paging_kernel_root();
    if (read_cr3() != root)
        paging_switch(root);
    context_switch(&prev->saved_rsp, next->saved_rsp);
    reap();
}

/* A new thread's first code (entry.S thread_trampoline): it still holds the
 * scheduler lock its predecessor took. */
void thread_started(void)
{
    reap();
    spin_unlock_irqrestore(&sched_spin, 0);
}

struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t rsp, uint64_t arg)
{
    struct thread *t = kmalloc(sizeof(*t));
    if (!t)
        return NULL;
    uint64_t stack = page_alloc(KSTACK_SIZE / PAGE_SIZE, KSTACK_SIZE / PAGE_SIZE);
    if (!stack) {
        kfree(t);
        return NULL;
    }
    kobject_init(&t->obj, COPRA_OBJ_THREAD, thread_destroy);
    t->kstack = (uint64_t)(uintptr_t)phys_to_virt(stack);
    *(struct thread **)t->kstack = t;
    t->proc = p;
    kobject_get(&p->obj);
    t->state = THREAD_BLOCKED;

    struct trap_frame *f = thread_user_frame(t);
    memset(f, 0, sizeof(*f));
    f->rip = entry;
    f->rsp = rsp;
    f->rdi = arg;
    f->cs = GDT_UCODE | 3;
    f->ss = GDT_UDATA | 3;
    f->rflags = 0x202;   /* IF */

    /* What context_switch pops: r15 r14 r13 r12 rbp rbx, then its return address. */
    uint64_t *sp = (uint64_t *)f;
    *--sp = (uint64_t)(uintptr_t)thread_trampoline;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    t->saved_rsp = (uint64_t)(uintptr_t)sp;
    return t;
}

void thread_start(struct thread *t)
{
    uint64_t f = sched_lock();
    t->state = THREAD_RUNNABLE;
    runq_push(t);
    sched_unlock(f);
}

void thread_wake_locked(struct thread *t)
{
    if (t->state != THREAD_BLOCKED)
        return;
    if (t->deadline_ns)
        sleepers_remove(t);
    t->state = THREAD_RUNNABLE;
    runq_push(t);
}

void sched_block_locked(uint64_t deadline_ns)
{
    struct thread *t = thread_current();
    t->state = THREAD_BLOCKED;
    t->timed_out = false;
    t->deadline_ns = deadline_ns;
    if (deadline_ns) {
        struct thread **pp = &sleepers;
        while (*pp && (*pp)->deadline_ns <= deadline_ns)
            pp = &(*pp)->sleep_next;
        t->sleep_next = *pp;
        *pp = t;
    }
    schedule_locked();
    t->deadline_ns = 0;
}

void sched_yield(void)
{
    uint64_t f = sched_lock();
    struct thread *t = thread_current();
    if (t != t->cpu->idle) {
        t->state = THREAD_RUNNABLE;
        runq_push(t);
    }
    schedule_locked();
    sched_unlock(f);
}

void sched_tick(bool from_user)
{
    uint64_t f = sched_lock();
    struct thread *t = thread_current();
    t->cpu->ticks++;
    uint64_t now = time_ns();
    while (sleepers && sleepers->deadline_ns <= now) {
        struct thread *s = sleepers;
        s->timed_out = true;
        thread_wake_locked(s);
    }
    sched_unlock(f);
    if (from_user)
        sched_yield();
}

void thread_exit_locked(void)
{
    thread_current()->state = THREAD_DEAD;
    schedule_locked();
    panic("a dead thread was scheduled");
}

void sched_init(void)
{
    struct thread *t = &idle_thread;
    kobject_init(&t->obj, COPRA_OBJ_THREAD, NULL);
    t->kstack = (uint64_t)(uintptr_t)boot_kstack;
    *(struct thread **)t->kstack = t;
    t->state = THREAD_RUNNING;
    t->cpu = &cpu_boot;
    cpu_boot.idle = t;
    cpu_boot.current = t;
}

void sched_idle(void)
{
    for (;;) {
        irq_disable();
        sched_yield();
        if (!runq_head)
            __asm__ volatile("sti; hlt; cli" : : : "memory");
    }
}
