/* SPDX-License-Identifier: MIT */
/*
 * Timer queue: nodes sorted by deadline, one-shot or periodic.  Thread
 * wait timeouts and TIMER objects both sit in the kernel's one queue.
 * Pure logic (the caller holds the scheduler lock), shared with the host tests.
 */
#ifndef CORE_TIMERQ_H
#define CORE_TIMERQ_H

#include <stdbool.h>
#include <stdint.h>

struct timer_node {
    uint64_t deadline;          /* ns; valid while armed */
    uint64_t period;            /* ns; 0 = one-shot */
    struct timer_node *next;
    bool armed;
    uint8_t kind;               /* what the owner is (timerq does not look) */
};

struct timerq {
    struct timer_node *head;
};

/* (Re)arms `n` to fire at `deadline` and then every `period` ns (0 = once). */
void timerq_arm(struct timerq *q, struct timer_node *n, uint64_t deadline, uint64_t period);
void timerq_cancel(struct timerq *q, struct timer_node *n);
/*
 * Takes the earliest node whose deadline is <= now, or returns NULL.
 * *expirations gets how many deadlines passed (a periodic node that missed
 * some counts them all and is re-armed at its first deadline after now).
 */
struct timer_node *timerq_expire(struct timerq *q, uint64_t now, uint64_t *expirations);
/* Deadline of the earliest node, UINT64_MAX if none. */
uint64_t timerq_next(const struct timerq *q);

#endif
