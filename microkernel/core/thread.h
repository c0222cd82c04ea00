/* SPDX-License-Identifier: MIT */
/* Threads and the scheduler. */
#ifndef CORE_THREAD_H
#define CORE_THREAD_H

#include "core/kernel.h"
#include "core/object.h"
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

struct thread {
    struct kobject obj;
    struct process *proc;        /* NULL for kernel (idle) threads; holds a reference */
    uint64_t kstack;             /* base of the KSTACK_SIZE-aligned kernel stack */
    uint64_t saved_rsp;          /* valid while not running */
    enum thread_state state;
    struct cpu *cpu;
    struct thread *run_next;     /* run queue */
    struct thread *proc_next;    /* the process's thread list */
    struct thread *sleep_next;   /* timed waits, sorted by deadline */
    uint64_t deadline_ns;        /* 0: no timeout */
    bool timed_out;
};

/* The thread running on this CPU: kernel stacks are aligned, and their
 * lowest word points at the owning thread. */
static inline struct thread *thread_current(void)
{
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    return *(struct thread **)(rsp & ~(uint64_t)(KSTACK_SIZE - 1));
}

static inline struct trap_frame *thread_user_frame(struct thread *t)
{
    return (struct trap_frame *)(t->kstack + KSTACK_SIZE) - 1;
}

/* A user thread of `p` that will enter ring 3 at `entry` with RSP = `rsp`
 * and RDI = `arg`.  It is not runnable until thread_start(). */
struct thread *thread_create_user(struct process *p, uint64_t entry, uint64_t rsp, uint64_t arg);
void thread_start(struct thread *t);

void sched_init(void);
/* Gives up the CPU; the current thread stays runnable. */
void sched_yield(void);
/* Called from the timer interrupt. */
void sched_tick(bool from_user);
/* The boot thread becomes this CPU's idle loop. */
NORETURN void sched_idle(void);

/*
 * Blocking.  The scheduler lock guards every thread state change and the
 * readiness of every waitable object, so "check, then block" cannot lose a
 * wake-up: a waker must take the same lock.
 */
uint64_t sched_lock(void);
void sched_unlock(uint64_t flags);
/* With the scheduler lock held: sleeps until thread_wake() or `deadline_ns`
 * (0 = none) passes; returns with the lock held again. */
void sched_block_locked(uint64_t deadline_ns);
/* With the scheduler lock held: makes a blocked thread runnable. */
void thread_wake_locked(struct thread *t);
/* Ends the current thread (with the scheduler lock held); never returns. */
NORETURN void thread_exit_locked(void);

#endif
