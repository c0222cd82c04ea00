/* SPDX-License-Identifier: MIT */
/* Processes: an address space, a handle table and threads. */
#ifndef CORE_PROCESS_H
#define CORE_PROCESS_H

#include "core/kernel.h"
#include "core/object.h"
#include "core/handle.h"
#include "core/aspace.h"
#include "core/wait.h"

struct process {
    struct kobject obj;
    char name[COPRA_PROCESS_NAME_MAX];
    uint32_t pid;
    bool exiting;                 /* scheduler lock: EXIT has begun */
    uint32_t nthreads;            /* scheduler lock: threads not yet ended */
    struct waitable exit;         /* scheduler lock: level, value = status */
    struct waitq threads_gone;    /* the exiting thread waits here for the others */
    struct aspace as;
    struct spinlock lock;         /* guards `handles` */
    struct handle_table handles;
    struct thread *threads;       /* guarded by the scheduler lock */
    uint32_t ntimers;             /* atomic: live timers it created (TIMER_CREATE) */
    struct waitq exit_waiters;
    struct handle_entry handle_slots[COPRA_HANDLES_PER_PROCESS];
};

static inline struct process *process_current(void) { return thread_current()->proc; }

/*
 * Creates a process running the initrd ELF `path` with the packed `argv`
 * (argc strings in argv_len bytes), and `nhandles` received handles, which
 * the caller installs in slots 0..nhandles-1 of its fresh table.  The
 * process is complete but not started: process_start() lets it run.
 * Returns COPRA_OK or an error; on error nothing is left behind.
 */
int process_create(const char *path, size_t path_len, const char *argv, size_t argv_len,
                   uint32_t argc, uint32_t nhandles, struct process **out);
void process_start(struct process *p);
/* Ends the current process with `status`: every thread ends, then its
 * handles and memory go (the calling thread never returns). */
NORETURN void process_exit(int64_t status);
/* Installs a new handle for the current process, taking over the caller's
 * reference; when the table is full (COPRA_EFULL) the reference is dropped. */
int64_t process_handle_install(struct kobject *obj, uint32_t rights);
/* Kills the current process after an exception in user mode. */
NORETURN void process_fault(const struct trap_frame *f);

/* Looks up a handle of the current process (see handle_get()).  Inline:
 * most callers want no type or rights, which then cost nothing. */
static inline int process_handle_lookup(uint64_t h, uint32_t type, uint32_t rights, struct kobject **out,
                                        uint32_t *held)
{
    struct process *p = process_current();
    if (h > UINT32_MAX)
        return COPRA_EBADH;   /* handles are 32-bit: no truncation may make one */
    uint64_t f = spin_lock_irqsave(&p->lock);
    int err = handle_get(&p->handles, h, type, rights, out, held);
    spin_unlock_irqrestore(&p->lock, f);
    return err;
}
static inline int process_handle_get(uint64_t h, uint32_t type, uint32_t rights, struct kobject **out)
{
    return process_handle_lookup(h, type, rights, out, NULL);
}

/* Status of a process killed by exception `vector`. */
#define PROCESS_STATUS_FAULT(vector) (0x100 + (vector))

/* The first process; when it exits the system stops with its status. */
extern struct process *process_init;

#endif
