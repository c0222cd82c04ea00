/* SPDX-License-Identifier: MIT */
/*
 * Timer queue: a binary min-heap of nodes by deadline, one-shot or periodic.
 * Thread wait timeouts and TIMER objects both sit in the kernel's one queue.
 * The heap is a tree of the nodes themselves (parent/left/right links,
 * shaped like an array heap: node k has children 2k and 2k+1), so arming
 * never allocates and never fails, and arm, cancel and each expiry cost
 * O(log n): the tick's work grows with the timers that expire, not with
 * the timers that wait.  Pure logic (the caller holds the scheduler lock),
 * shared with the host tests.
 */
#ifndef CORE_TIMERQ_H
#define CORE_TIMERQ_H

#include <stdbool.h>
#include <stdint.h>

struct timer_node {
    uint64_t deadline;          /* ns; valid while armed */
    uint64_t period;            /* ns; 0 = one-shot */
    struct timer_node *parent, *left, *right;
    bool armed;
    uint8_t kind;               /* what the owner is (timerq does not look) */
};

struct timerq {
    struct timer_node *root;
    uint64_t count;
};

/* (Re)arms `n` to fire at `deadline` and then every `period` ns (0 = once). */
void timerq_arm(struct timerq *q, struct timer_node *n, uint64_t deadline, uint64_t period);
void timerq_cancel(struct timerq *q, struct timer_node *n);
/*
 * Takes the earliest node whose deadline is <= now, or returns NULL.
 * *expirations gets how many deadlines passed (a periodic node that missed
 * some counts them all and is re-armed once, at its first deadline after
 * now, so one call of expire-until-NULL handles each node at most once).
 */
struct timer_node *timerq_expire(struct timerq *q, uint64_t now, uint64_t *expirations);

#endif
