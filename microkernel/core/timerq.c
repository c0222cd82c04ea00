/* SPDX-License-Identifier: MIT */
#include "core/timerq.h"

static void insert(struct timerq *q, struct timer_node *n)
{
    struct timer_node **pp = &q->head;
    while (*pp && (*pp)->deadline <= n->deadline)
        pp = &(*pp)->next;
    n->next = *pp;
    *pp = n;
    n->armed = true;
}

void timerq_cancel(struct timerq *q, struct timer_node *n)
{
    if (!n->armed)
        return;
    for (struct timer_node **pp = &q->head; *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            break;
        }
    }
    n->next = 0;
    n->armed = false;
}

void timerq_arm(struct timerq *q, struct timer_node *n, uint64_t deadline, uint64_t period)
{
    timerq_cancel(q, n);
    n->deadline = deadline;
    n->period = period;
    insert(q, n);
}

struct timer_node *timerq_expire(struct timerq *q, uint64_t now, uint64_t *expirations)
{
    struct timer_node *n = q->head;
    if (!n || n->deadline > now)
        return 0;
    q->head = n->next;
    n->next = 0;
    n->armed = false;
    if (!n->period) {
        *expirations = 1;
        return n;
    }
    uint64_t missed = (now - n->deadline) / n->period;
    *expirations = missed + 1;
    uint64_t step = (missed + 1) * n->period;
    /* A deadline past the end of time stays disarmed rather than wrapping. */
    if (n->deadline <= UINT64_MAX - step) {
        n->deadline += step;
        insert(q, n);
    }
    return n;
}

uint64_t timerq_next(const struct timerq *q)
{
    return q->head ? q->head->deadline : UINT64_MAX;
}
