/* SPDX-License-Identifier: MIT */
/*
 * Threads and a round-robin scheduler with one run queue per CPU.
 *
 * The kernel is not preemptible: it runs with interrupts off, takes them only
 * in user mode and in the idle loop, and switches threads only there or when
 * a thread blocks.  One global scheduler lock guards thread states, run
 * queues, the timer queue and object readiness; the thread that switches
 * away holds it across context_switch() and the thread switched to releases
 * it (so no CPU can pick up a thread whose registers are still being saved).
 */
#include "core/thread.h"
#include "arch/x86_64/kstack.h"
#include "core/console.h"
#include "core/process.h"
#include "core/heap.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "core/wait.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"

void context_switch(uint64_t *save_rsp, uint64_t new_rsp);
void thread_trampoline(void);
void thread_started(void);

struct spinlock sched_spin;
struct timerq sched_timers;

/* Makes t runnable, on its affinity's CPU or else where it ran last: a
 * queued thread is always THREAD_RUNNABLE. */
static void runq_push(struct thread *t)
{
    struct cpu *c = t->affinity >= 0 && (unsigned)t->affinity < cpu_count ? &cpus[t->affinity] : t->home;
    t->state = THREAD_RUNNABLE;
    t->home = c;
    t->run_next = NULL;
    if (c->runq_tail)
        c->runq_tail->run_next = t;
    else
        c->runq_head = t;
    c->runq_tail = t;
    /* An idle CPU sleeps in HLT until an interrupt: wake it. */
    if (c != cpu_this() && c->current == c->idle)
        apic_send_ipi(c->apic_id, VECTOR_WAKEUP);
}

static bool runq_remove(struct cpu *c, struct thread *t)
{
    struct thread *prev = NULL;
    for (struct thread **pp = &c->runq_head; *pp; prev = *pp, pp = &(*pp)->run_next) {
        if (*pp == t) {
            *pp = t->run_next;
            if (c->runq_tail == t)
                c->runq_tail = prev;
            return true;
        }
    }
    return false;
}

static void thread_destroy(struct kobject *o)
{
    kfree(container_of(o, struct thread, obj));
}

/* Frees the thread that died here before the last switch (never the one running). */
static void reap(struct cpu *c)
{
    struct thread *t = c->dead;
    if (!t || t == thread_current())
        return;
    c->dead = NULL;
    kstack_free(t->kstack);
    struct process *p = t->proc;
    if (p) {   /* out of its process's list, and its reference to the process goes */
        for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->proc_next) {
            if (*pp == t) {
                *pp = t->proc_next;
                break;
            }
        }
        t->proc = NULL;
        kobject_put(&p->obj);
    }
    kobject_put(&t->obj);
}

static void schedule_locked(void)
{
    struct thread *prev = thread_current();
    struct cpu *cpu = prev->on_cpu;
    struct thread *next = cpu->runq_head;
    if (next) {   /* the head: cheaper than runq_remove(), on every switch */
        cpu->runq_head = next->run_next;
        if (!cpu->runq_head)
            cpu->runq_tail = NULL;
    } else {
        next = cpu->idle;
    }
    if (next == prev) {
        prev->state = THREAD_RUNNING;
        return;
    }
    if (prev->state == THREAD_DEAD)
        cpu->dead = prev;
    next->state = THREAD_RUNNING;
    next->on_cpu = cpu;
    next->home = cpu;
    cpu->current = next;
    cpu_set_kernel_stack(cpu, next->kstack + KSTACK_SIZE);
    /* Address-space bookkeeping (aspace.c): a kernel thread runs in whatever was active. */
    if (next->proc)
        aspace_activate(&next->proc->as, cpu);
    else if (prev->proc)
        aspace_deactivate(&prev->proc->as, cpu);
    context_switch(&prev->saved_rsp, next->saved_rsp);
    reap(thread_current()->on_cpu);
}

/* A new thread's first code (entry.S thread_trampoline): it still holds the
 * scheduler lock its predecessor took. */
void thread_started(void)
{
    struct thread *t = thread_current();
    reap(t->on_cpu);
    spin_unlock_irqrestore(&sched_spin, 0);
    if (t->proc && t->proc->exiting)
        thread_exit(0);
}

void thread_init_idle(struct thread *t, struct cpu *cpu, uint64_t kstack)
{
    memset(t, 0, sizeof(*t));
    kobject_init(&t->obj, COPRA_OBJ_THREAD, NULL);
    t->kstack = kstack;
    *(struct thread **)kstack = t;
    cpu_set_kernel_stack(cpu, kstack + KSTACK_SIZE);
    t->state = THREAD_RUNNING;
    t->on_cpu = t->home = cpu;
    t->affinity = (int32_t)cpu->index;
    cpu->idle = t;
    cpu->current = t;
}

struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t rsp, uint64_t arg,
                                  int32_t affinity)
{
    struct thread *t = kmalloc(sizeof(*t));
    if (!t)
        return NULL;
    uint64_t stack = kstack_alloc();
    if (!stack) {
        kfree(t);
        return NULL;
    }
    kobject_init(&t->obj, COPRA_OBJ_THREAD, thread_destroy);
    waitable_init(&t->exit, true);
    t->timeout.kind = TIMER_KIND_THREAD;
    t->kstack = stack;
    *(struct thread **)t->kstack = t;
    t->proc = p;
    kobject_get(&p->obj);
    t->state = THREAD_BLOCKED;
    t->affinity = affinity;
    t->home = cpu_this();

    struct trap_frame *f = thread_user_frame(t);
    *f = (struct trap_frame){
        .rip = entry, .rsp = rsp, .rdi = arg, .cs = GDT_UCODE | 3, .ss = GDT_UDATA | 3,
        .rflags = 0x202,   /* IF */
    };

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
    runq_push(t);
    sched_unlock(f);
}

void thread_wake_locked(struct thread *t)
{
    /* A thread in a guest is "waiting" too (vcpu.c): force the guest to exit
     * so the run loop sees what became ready. */
    if (t->state == THREAD_RUNNING && t->in_guest && t->on_cpu != cpu_this())
        apic_send_ipi(t->on_cpu->apic_id, VECTOR_KICK);
    if (t->state != THREAD_BLOCKED)
        return;
    timerq_cancel(&sched_timers, &t->timeout);
    runq_push(t);
}

void sched_block_locked(uint64_t deadline_ns)
{
    struct thread *t = thread_current();
    t->state = THREAD_BLOCKED;
    t->timed_out = false;
    if (deadline_ns)
        timerq_arm(&sched_timers, &t->timeout, deadline_ns, 0);
    schedule_locked();
}

void sched_yield(void)
{
    uint64_t f = sched_lock();
    struct thread *t = thread_current();
    if (t != t->on_cpu->idle)
        runq_push(t);
    schedule_locked();
    sched_unlock(f);
}

void sched_migrate(int32_t cpu)
{
    uint64_t f = sched_lock();
    struct thread *t = thread_current();
    t->affinity = cpu;
    if (t->on_cpu != &cpus[cpu]) {
        runq_push(t);
        schedule_locked();
    }
    sched_unlock(f);
}

void sched_timers_expire_locked(void)
{
    uint64_t now = time_ns(), n;
    struct timer_node *node;
    while ((node = timerq_expire(&sched_timers, now, &n))) {
        if (node->kind == TIMER_KIND_THREAD) {
            struct thread *t = container_of(node, struct thread, timeout);
            t->timed_out = true;
            thread_wake_locked(t);
        } else {
            timer_fired_locked(node, n);
        }
    }
}

void sched_tick(bool from_user)
{
    uint64_t f = sched_lock();
    struct cpu *c = cpu_this();
    c->ticks++;
    sched_timers_expire_locked();
    bool poll_console = c->index == 0;
    bool others = c->runq_head != NULL;
    sched_unlock(f);
    /* QEMU 7.2 under -icount runs every CPU in turn on one thread, CPU 0
     * first after each timer deadline, and a turn lasts until the next
     * deadline, a HLT or a PAUSE: a CPU that never halts (a guest
     * busy-waiting for another VCPU, as Linux's BSP for its AP) took every
     * turn whole and left the CPUs after it none, for good (fixed in QEMU
     * 8.1, "ensure fairness with icount").  PAUSE hands the rest of the turn
     * on; the last CPU's turn is followed by CPU 0's anyway, and its PAUSE
     * would only give its own time back.  On hardware PAUSE is a hint. */
    if (c->index + 1 < cpu_count)
        cpu_relax();
    if (poll_console)
        console_poll();
    if (from_user && others)
        sched_yield();
}

void thread_exit(int64_t status)
{
    sched_lock();
    thread_exit_locked(status);
}

void thread_exit_locked(int64_t status)
{
    struct thread *t = thread_current();
    waitable_finish(&t->exit, (uint64_t)status);
    waitq_wake_all_locked(&t->joiners);
    if (t->proc) {   /* the process's EXIT may be waiting for its threads to end */
        t->proc->nthreads--;
        waitq_wake_all_locked(&t->proc->threads_gone);
    }
    t->state = THREAD_DEAD;
    schedule_locked();
    panic("a dead thread was scheduled");
}

void sched_idle(void)
{
    for (;;) {
        irq_disable();
        sched_yield();
        if (!cpu_this()->runq_head) {
            uint64_t t0 = rdtsc();
            __asm__ volatile("sti; hlt; cli" : : : "memory");
            cpu_this()->idle_tsc += rdtsc() - t0;
        }
    }
}

/* ---- syscalls ---- */

int64_t sys_thread_create(uint64_t entry, uint64_t stack_top, uint64_t arg, uint64_t cpu)
{
    struct process *p = process_current();
    if (entry < COPRA_USER_BASE || entry >= COPRA_USER_END)
        return COPRA_EINVAL;
    if (!IS_ALIGNED(stack_top, 16))
        return COPRA_EALIGN;
    if (stack_top <= COPRA_USER_BASE || stack_top > COPRA_USER_END)
        return COPRA_EINVAL;
    if (cpu != COPRA_CPU_ANY && cpu >= cpu_count)
        return COPRA_EINVAL;
    struct thread *t = thread_create_user(p, entry, stack_top, arg,
                                          cpu == COPRA_CPU_ANY ? -1 : (int32_t)cpu);
    if (!t)
        return COPRA_ENOMEM;
    int64_t h = process_handle_install(kobject_get(&t->obj), COPRA_RIGHTS_THREAD);
    if (h < 0) {   /* t never ran: undo thread_create_user() */
        kstack_free(t->kstack);
        kobject_put(&p->obj);
        kobject_put(&t->obj);
        return h;
    }
    uint64_t f = sched_lock();
    t->proc_next = p->threads;
    p->threads = t;
    p->nthreads++;
    runq_push(t);
    sched_unlock(f);
    return h;
}

int64_t sys_thread_exit(uint64_t status)
{
    struct process *p = process_current();
    sched_lock();
    /* The last thread ends the process; deciding under the lock means two
     * threads exiting together cannot both think the other one is last. */
    if (p->nthreads == 1 && !p->exiting) {
        sched_unlock(0);
        process_exit((int64_t)(status & 0xffffffffu));
    }
    thread_exit_locked((int64_t)(status & 0xffffffffu));
}

int64_t sys_thread_set_cpu(uint64_t h, uint64_t cpu)
{
    if (cpu >= cpu_count)
        return COPRA_EINVAL;
    if (h == COPRA_HANDLE_NONE) {
        sched_migrate((int32_t)cpu);
        return COPRA_OK;
    }
    struct kobject *o;
    int err = process_handle_get(h, COPRA_OBJ_THREAD, COPRA_RIGHT_MANAGE, &o);
    if (err)
        return err;
    /* Another thread moves the next time it is queued; one inside a VCPU
     * WAIT stays (the guest runs on one CPU). */
    struct thread *t = container_of(o, struct thread, obj);
    uint64_t f = sched_lock();
    err = t->vcpu_bound ? COPRA_EBUSY : COPRA_OK;
    if (!err)
        t->affinity = (int32_t)cpu;
    if (!err && t->state == THREAD_RUNNABLE && t->home != &cpus[cpu] && runq_remove(t->home, t))
        runq_push(t);
    sched_unlock(f);
    kobject_put(o);
    return err;
}

int64_t sys_cpu_current(void)
{
    return cpu_this()->index;
}
