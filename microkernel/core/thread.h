/* SPDX-License-Identifier: MIT */
/* Threads and the scheduler. */
#ifndef CORE_THREAD_H
#define CORE_THREAD_H

#include "core/kernel.h"
#include "core/object.h"
#include "core/spinlock.h"
#include "core/timerq.h"
#include "core/waitable.h"
#include "arch/x86_64/asm.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"

struct process;

enum thread_state {
    THREAD_RUNNABLE,
    THREAD_RUNNING,
    THREAD_BLOCKED,
    THREAD_DEAD,
};

#define TIMER_KIND_THREAD 1
#define TIMER_KIND_OBJECT 2

struct thread {
    struct kobject obj;
    struct process *proc;        /* NULL for idle threads; holds a reference */
    uint64_t kstack;             /* base of the KSTACK_SIZE-aligned kernel stack */
    uint64_t saved_rsp;          /* valid while not running */
    enum thread_state state;     /* everything below: scheduler lock */
    struct cpu *on_cpu;          /* the CPU running it (valid while RUNNING) */
    struct cpu *home;            /* the CPU whose run queue takes it next */
    int32_t affinity;            /* CPU index, or -1 for "stay where you are" */
    bool timed_out;
    bool in_guest;               /* running a guest: a wake-up must kick it out */
    bool vcpu_bound;             /* in a VCPU WAIT: stays on its CPU (set by itself) */
    struct thread *run_next;     /* run queue */
    struct thread *proc_next;    /* the process's thread list */
    struct timer_node timeout;   /* wait timeout (kind TIMER_KIND_THREAD) */
    struct waitable exit;        /* level: done when the thread has ended */
    struct waitq joiners;        /* WAIT_FOR_EVENT on the thread */
};

/* The thread running on this CPU: kernel stacks are aligned, and their
 * lowest word points at the owning thread. */
static inline struct thread *thread_current(void)
{
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    return *(struct thread **)(rsp & ~(uint64_t)(KSTACK_SIZE - 1));
}

static inline struct cpu *cpu_this(void) { return thread_current()->on_cpu; }

static inline struct trap_frame *thread_user_frame(struct thread *t)
{
    return (struct trap_frame *)(t->kstack + KSTACK_SIZE) - 1;
}

/* A user thread of `p` that will enter ring 3 at `entry` with RSP = `rsp`
 * and RDI = `arg`, on CPU `affinity` (-1: the caller's).  Not runnable
 * until thread_start(). */
struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t rsp, uint64_t arg,
                                  int32_t affinity);
void thread_start(struct thread *t);
/* An idle thread for `cpu` on the given (aligned) kernel stack. */
void thread_init_idle(struct thread *t, struct cpu *cpu, uint64_t kstack);

/* Gives up the CPU; the current thread stays runnable. */
void sched_yield(void);
/* Called from the timer interrupt. */
void sched_tick(bool from_user);
/* This CPU's idle loop. */
NORETURN void sched_idle(void);
/* Moves the calling thread to `cpu` (affinity), switching CPUs now. */
void sched_migrate(int32_t cpu);

/*
 * Blocking.  The one scheduler lock guards every thread state, every run
 * queue, the timer queue and the readiness of every waitable object, so
 * "check, then block" cannot lose a wake-up on any CPU: a waker must take
 * the same lock.
 */
extern struct spinlock sched_spin;
static inline uint64_t sched_lock(void) { return spin_lock_irqsave(&sched_spin); }
static inline void sched_unlock(uint64_t flags) { spin_unlock_irqrestore(&sched_spin, flags); }
/* With the lock held: sleeps until thread_wake_locked() or `deadline_ns`
 * (0 = none) passes; returns with the lock held again. */
void sched_block_locked(uint64_t deadline_ns);
void thread_wake_locked(struct thread *t);
/* Ends the current thread with `status`; never returns.  The _locked
 * form expects the scheduler lock held. */
NORETURN void thread_exit(int64_t status);
NORETURN void thread_exit_locked(int64_t status);
/* The kernel's one timer queue (scheduler lock): thread timeouts and timer
 * objects' nodes. */
extern struct timerq sched_timers;
/* Runs every expired timer now (the tick does it too; WAIT does it so a
 * timer's count is exact when it is read, not one tick late). */
void sched_timers_expire_locked(void);
/* Called by the timer queue for TIMER_KIND_OBJECT nodes (timer.c). */
void timer_fired_locked(struct timer_node *n, uint64_t expirations);

#endif
