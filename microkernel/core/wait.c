/* SPDX-License-Identifier: MIT */
/*
 * WAIT_FOR_EVENT: wait until one of up to COPRA_WAIT_MAX objects is ready.
 * Readiness is level-triggered and read under the scheduler lock, the same
 * lock every waker takes, so a wake-up between the check and the block
 * cannot be lost.
 */
#include "core/wait.h"
#include "core/console.h"
#include "core/event.h"
#include "core/process.h"
#include "core/handle.h"
#include "core/timer.h"
#include "core/syscall.h"
#include "core/usercopy.h"
#include "arch/x86_64/apic.h"

/* The readiness state and wait queue of a waitable object; NULL if it is not one. */
static struct waitable *object_waitable(struct kobject *o, struct waitq **q)
{
    switch (o->type) {
    case COPRA_OBJ_PROCESS: {
        struct process *p = container_of(o, struct process, obj);
        *q = &p->exit_waiters;
        return &p->exit;
    }
    case COPRA_OBJ_THREAD: {
        struct thread *t = container_of(o, struct thread, obj);
        *q = &t->joiners;
        return &t->exit;
    }
    case COPRA_OBJ_EVENT: {
        struct event *e = container_of(o, struct event, obj);
        *q = &e->waiters;
        return &e->state;
    }
    case COPRA_OBJ_CONSOLE:
        *q = &console_input.waiters;
        return &console_input.state;
    case COPRA_OBJ_TIMER: {
        struct timer *t = container_of(o, struct timer, obj);
        *q = &t->waiters;
        return &t->state;
    }
    default:   /* a type registered from outside core (virt/), or not waitable */
        return kobject_ops[o->type] && kobject_ops[o->type]->waitable ? kobject_ops[o->type]->waitable(o, q) : NULL;
    }
}

int64_t sys_wait_for_event(uint64_t uitems, uint64_t count, uint64_t timeout_ns)
{
    struct copra_wait_item items[COPRA_WAIT_MAX];
    struct kobject *objs[COPRA_WAIT_MAX];
    struct waitable *states[COPRA_WAIT_MAX];
    struct waitq *queues[COPRA_WAIT_MAX];
    struct waiter waiters[COPRA_WAIT_MAX];

    if (count == 0)
        return COPRA_EINVAL;
    if (count > COPRA_WAIT_MAX)
        return COPRA_ERANGE;
    if (copy_from_user(items, uitems, count * sizeof(items[0])))
        return COPRA_EFAULT;
    int64_t ret = COPRA_OK;
    uint64_t n, complete = 0;   /* ranges whose served requests this wait completes */
    bool timers = false;
    int vi = -1;   /* the item that runs the thread (a VCPU), if any: at most one */
    /* One acquisition of the handle table for all items: WAIT is the device
     * models' only syscall per request. */
    struct process *p = process_current();
    uint64_t pf = spin_lock_irqsave(&p->lock);
    for (n = 0; n < count; n++) {
        /* Type before rights: a file is not waitable whatever its rights. */
        uint32_t rights;
        ret = handle_get(&p->handles, items[n].handle, COPRA_OBJ_NONE, 0, &objs[n], &rights);
        const struct kobject_ops *ops = ret ? NULL : kobject_ops[objs[n]->type];
        if (ops && ops->run) {
            states[n] = NULL;
            if (vi >= 0)
                ret = COPRA_EINVAL;   /* one VCPU per wait: it owns the thread */
            else
                vi = (int)n;
        } else if (!ret && !(states[n] = object_waitable(objs[n], &queues[n]))) {
            ret = COPRA_ETYPE;
        }
        if (!ret && !(rights & COPRA_RIGHT_WAIT))
            ret = COPRA_ERIGHTS;
        if (!ret && ops && ops->complete_locked && (rights & COPRA_RIGHT_SIGNAL))
            complete |= 1ull << n;
        timers |= !ret && objs[n]->type == COPRA_OBJ_TIMER;
        if (ret) {
            n += ret != COPRA_EBADH;   /* that item holds a reference too */
            break;
        }
    }
    spin_unlock_irqrestore(&p->lock, pf);
    if (ret) {
        while (n--)
            kobject_put(objs[n]);
        return ret;
    }

    uint64_t deadline = 0;
    if (timeout_ns != COPRA_WAIT_FOREVER && timeout_ns != 0) {
        uint64_t now = time_ns();
        deadline = UINT64_MAX - now < timeout_ns ? UINT64_MAX : now + timeout_ns;
    }
    if (vi >= 0) {
        ret = kobject_ops[objs[vi]->type]->run(objs[vi], (unsigned)vi, items, states, queues, (unsigned)count,
                                              deadline, timeout_ns == 0);
        goto out;
    }
    struct thread *self = thread_current();
    uint64_t f = sched_lock();
    self->timed_out = false;   /* a flag left from an earlier wait means nothing */
    /* A device model's WAIT on its range first completes what it served:
     * serving a request then costs one syscall, not SIGNAL + WAIT. */
    for (uint64_t i = 0; complete && i < count; i++)
        if (complete & (1ull << i))
            kobject_ops[objs[i]->type]->complete_locked(objs[i]);
    for (;;) {
        if (timers)
            sched_timers_expire_locked();   /* exact counts, not one tick late */
        ret = 0;
        for (uint64_t i = 0; i < count; i++) {
            items[i].value = 0;
            items[i].ready = waitable_take(states[i], &items[i].value);
            ret += items[i].ready;
        }
        if (ret)
            break;
        if (timeout_ns == 0 || (deadline && (self->timed_out || time_ns() >= deadline))) {
            ret = COPRA_ETIMEOUT;
            break;
        }
        if (self->proc->exiting) {
            ret = COPRA_EBUSY;   /* never seen: the thread ends before user mode */
            break;
        }
        for (uint64_t i = 0; i < count; i++)
            waitq_add_locked(queues[i], &waiters[i], self);
        sched_block_locked(deadline);
        for (uint64_t i = 0; i < count; i++)
            waitq_remove_locked(queues[i], &waiters[i]);
    }
    sched_unlock(f);
out:
    for (uint64_t i = 0; i < count; i++)
        kobject_put(objs[i]);
    if (copy_to_user(uitems, items, count * sizeof(items[0])))
        return COPRA_EFAULT;
    return ret;
}
