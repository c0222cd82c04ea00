/* SPDX-License-Identifier: MIT */
/* Timer objects (TIMER_CREATE/TIMER_SET) and the monotonic clock (CLOCK). */
#ifndef CORE_TIMER_H
#define CORE_TIMER_H

#include "core/kernel.h"
#include "core/object.h"
#include "core/timerq.h"
#include "core/waitable.h"

struct process;

/* Periods below this would let one process flood the kernel with expiries. */
#define TIMER_MIN_PERIOD_NS 100000ull

struct timer {
    struct kobject obj;
    struct waitable state;   /* counting: expirations; scheduler lock */
    struct waitq waiters;
    struct timer_node node;  /* kind TIMER_KIND_OBJECT */
    struct process *owner;   /* the creator, charged for it (holds a reference) */
    /* IRQ_TIMER (virt/vcpu.c): each expiration also calls post(post_target,
     * post_arg) under the scheduler lock; post_target holds a reference. */
    void (*post)(struct kobject *target, unsigned arg);
    struct kobject *post_target;
    unsigned post_arg;
};

#endif
