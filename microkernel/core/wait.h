/* SPDX-License-Identifier: MIT */
/* Wait queues: who to wake when a waitable object becomes ready.
 * All operations need the scheduler lock (see sched_lock()). */
#ifndef CORE_WAIT_H
#define CORE_WAIT_H

#include "core/thread.h"

static inline void waitq_add_locked(struct waitq *q, struct waiter *w, struct thread *t)
{
    w->thread = t;
    w->next = q->head;
    q->head = w;
}

static inline void waitq_remove_locked(struct waitq *q, struct waiter *w)
{
    for (struct waiter **pp = &q->head; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            return;
        }
    }
}

static inline void waitq_wake_all_locked(struct waitq *q)
{
    for (struct waiter *w = q->head; w; w = w->next)
        thread_wake_locked(w->thread);
}

#endif
