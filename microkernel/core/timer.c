/* SPDX-License-Identifier: MIT */
#include "core/timer.h"
#include "core/heap.h"
#include "core/process.h"
#include "core/wait.h"
#include "arch/x86_64/apic.h"

static void timer_destroy(struct kobject *o)
{
    struct timer *t = container_of(o, struct timer, obj);
    uint64_t f = sched_lock();
    timerq_cancel(&sched_timers, &t->node);   /* the queue must not keep a freed node */
    sched_unlock(f);
    __atomic_sub_fetch(&t->owner->ntimers, 1, __ATOMIC_RELAXED);
    if (t->post_target)
        kobject_put(t->post_target);
    kobject_put(&t->owner->obj);
    kfree(t);
}

void timer_fired_locked(struct timer_node *n, uint64_t expirations)
{
    struct timer *t = container_of(n, struct timer, node);
    waitable_signal(&t->state, expirations);
    waitq_wake_all_locked(&t->waiters);
    if (t->post)
        t->post(t->post_target, t->post_arg);
}

int64_t sys_clock(void)
{
    return (int64_t)time_ns();
}

int64_t sys_timer_create(void)
{
    /* Each timer costs every tick it expires on: a process has a bounded
     * number, charged until the timer dies (also in another process). */
    struct process *p = process_current();
    bool full = __atomic_add_fetch(&p->ntimers, 1, __ATOMIC_RELAXED) > COPRA_TIMERS_PER_PROCESS;
    struct timer *t = full ? NULL : kmalloc(sizeof(*t));
    if (!t) {
        __atomic_sub_fetch(&p->ntimers, 1, __ATOMIC_RELAXED);
        return full ? COPRA_EFULL : COPRA_ENOMEM;
    }
    kobject_init(&t->obj, COPRA_OBJ_TIMER, timer_destroy);
    waitable_init(&t->state, false);
    t->node.kind = TIMER_KIND_OBJECT;
    t->owner = p;
    kobject_get(&p->obj);
    return process_handle_install(&t->obj, COPRA_RIGHTS_TIMER);
}

int64_t sys_timer_set(uint64_t h, uint64_t deadline_ns, uint64_t period_ns)
{
    struct kobject *o;
    int err = process_handle_get(h, COPRA_OBJ_TIMER, COPRA_RIGHT_MANAGE, &o);
    if (err)
        return err;
    if (period_ns && period_ns < TIMER_MIN_PERIOD_NS) {
        kobject_put(o);
        return COPRA_EINVAL;
    }
    struct timer *t = container_of(o, struct timer, obj);
    uint64_t f = sched_lock();
    if (deadline_ns)
        timerq_arm(&sched_timers, &t->node, deadline_ns, period_ns);
    else
        timerq_cancel(&sched_timers, &t->node);
    sched_unlock(f);
    kobject_put(o);
    return COPRA_OK;
}
