/* SPDX-License-Identifier: MIT */
#include "core/timerq.h"

/* The link that holds heap position k (1-based; the bits of k below its
 * leading 1 spell the path from the root, 0 = left); *parent gets the node
 * the link belongs to. */
static struct timer_node **heap_link(struct timerq *q, uint64_t k, struct timer_node **parent)
{
    struct timer_node **link = &q->root;
    *parent = 0;
    for (int bit = 62 - __builtin_clzll(k); bit >= 0; bit--) {
        *parent = *link;
        link = (k >> bit) & 1 ? &(*link)->right : &(*link)->left;
    }
    return link;
}

/* The link (in n's parent, or the root) that points at n. */
static struct timer_node **link_to(struct timerq *q, struct timer_node *n)
{
    if (!n->parent)
        return &q->root;
    return n->parent->left == n ? &n->parent->left : &n->parent->right;
}

/* Exchanges c and its parent: c moves up one level. */
static void swap_with_parent(struct timerq *q, struct timer_node *c)
{
    struct timer_node *p = c->parent, *left = c->left, *right = c->right;
    bool was_left = p->left == c;
    struct timer_node *sibling = was_left ? p->right : p->left;
    *link_to(q, p) = c;
    c->parent = p->parent;
    c->left = was_left ? p : sibling;
    c->right = was_left ? sibling : p;
    p->parent = c;
    p->left = left;
    p->right = right;
    if (sibling)
        sibling->parent = c;
    if (left)
        left->parent = p;
    if (right)
        right->parent = p;
}

static void sift_up(struct timerq *q, struct timer_node *n)
{
    while (n->parent && n->deadline < n->parent->deadline)
        swap_with_parent(q, n);
}

static void sift_down(struct timerq *q, struct timer_node *n)
{
    for (;;) {
        struct timer_node *m = n->left;   /* no left child: no right one either */
        if (m && n->right && n->right->deadline < m->deadline)
            m = n->right;
        if (!m || m->deadline >= n->deadline)
            return;
        swap_with_parent(q, m);
    }
}

/* The last node takes n's place, then moves up or down to where it belongs. */
static void heap_remove(struct timerq *q, struct timer_node *n)
{
    struct timer_node *parent;
    struct timer_node **link = heap_link(q, q->count--, &parent);
    struct timer_node *last = *link;
    *link = 0;
    if (last != n) {
        *link_to(q, n) = last;
        last->parent = n->parent;
        last->left = n->left;
        last->right = n->right;
        if (last->left)
            last->left->parent = last;
        if (last->right)
            last->right->parent = last;
        sift_up(q, last);
        sift_down(q, last);
    }
    n->parent = n->left = n->right = 0;
    n->armed = false;
}

void timerq_cancel(struct timerq *q, struct timer_node *n)
{
    if (n->armed)
        heap_remove(q, n);
}

void timerq_arm(struct timerq *q, struct timer_node *n, uint64_t deadline, uint64_t period)
{
    struct timer_node *parent;
    timerq_cancel(q, n);
    n->deadline = deadline;
    n->period = period;
    /* A new last leaf, then up to where its deadline belongs. */
    *heap_link(q, ++q->count, &parent) = n;
    n->parent = parent;
    n->left = n->right = 0;
    n->armed = true;
    sift_up(q, n);
}

struct timer_node *timerq_expire(struct timerq *q, uint64_t now, uint64_t *expirations)
{
    struct timer_node *n = q->root;
    if (!n || n->deadline > now)
        return 0;
    uint64_t missed = n->period ? (now - n->deadline) / n->period : 0;
    uint64_t step = (missed + 1) * n->period;
    *expirations = missed + 1;
    /* A periodic node moves down to its first deadline after now, so it is
     * handled once per call however short its period; a deadline past the
     * end of time leaves it disarmed rather than wrapping. */
    if (n->period && n->deadline <= UINT64_MAX - step) {
        n->deadline += step;
        sift_down(q, n);
    } else {
        heap_remove(q, n);
    }
    return n;
}
