/* SPDX-License-Identifier: MIT */
/*
 * The readiness state every waitable object carries (abi/copra/syscall.h,
 * struct copra_wait_item): level-triggered "done" objects (processes,
 * threads: ready forever once they ended) and counting objects (events,
 * timers: ready while signals are pending; the WAIT that reports them
 * takes all).  Pure logic under the scheduler lock; host-tested.
 */
#ifndef CORE_WAITABLE_H
#define CORE_WAITABLE_H

#include <stdbool.h>
#include <stdint.h>

struct waitable {
    uint64_t count;      /* counting: signals not yet taken */
    uint64_t value;      /* level: the value reported once done */
    bool level;
    bool done;
};

/* Who to wake when an object becomes ready (operations: wait.h). */
struct thread;
struct waiter {
    struct thread *thread;
    struct waiter *next;
};
struct waitq {
    struct waiter *head;
};

static inline void waitable_init(struct waitable *w, bool level)
{
    w->count = w->value = 0;
    w->level = level;
    w->done = false;
}

/* Counting: adds n signals (saturating, so a flood can never wrap to 0). */
static inline void waitable_signal(struct waitable *w, uint64_t n)
{
    w->count = UINT64_MAX - w->count < n ? UINT64_MAX : w->count + n;
}

/* Level: the object ended with `value`; stays ready from now on. */
static inline void waitable_finish(struct waitable *w, uint64_t value)
{
    w->value = value;
    w->done = true;
}

/* Whether it is ready; if so *value is what WAIT reports and a counting
 * object's pending signals are consumed. */
static inline bool waitable_take(struct waitable *w, uint64_t *value)
{
    if (w->level) {
        if (w->done)
            *value = w->value;
        return w->done;
    }
    if (!w->count)
        return false;
    *value = w->count;
    w->count = 0;
    return true;
}

#endif
