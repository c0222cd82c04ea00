/* SPDX-License-Identifier: MIT */
#include "core/event.h"
#include "core/heap.h"
#include "core/process.h"
#include "core/wait.h"

static void event_destroy(struct kobject *o)
{
    struct event *e = container_of(o, struct event, obj);
    if (e->area)
        memobj_put(e->area);
    kfree(e);
}

/* Adds one signal and wakes the waiters. */
static void event_signal(struct event *e)
{
    uint64_t f = sched_lock();
    waitable_signal(&e->state, 1);
    waitq_wake_all_locked(&e->waiters);
    sched_unlock(f);
}

int64_t sys_event_create(uint64_t pages)
{
    if (pages > COPRA_EVENT_AREA_MAX_PAGES)
        return COPRA_ERANGE;
    struct event *e = kmalloc(sizeof(*e));
    if (!e)
        return COPRA_ENOMEM;
    kobject_init(&e->obj, COPRA_OBJ_EVENT, event_destroy);
    waitable_init(&e->state, false);
    if (pages && !(e->area = memobj_create(pages))) {
        kobject_put(&e->obj);
        return COPRA_ENOMEM;
    }
    return process_handle_install(&e->obj, COPRA_RIGHTS_EVENT);
}

/* SIGNAL an event, or what SIGNAL means to a type registered from outside
 * core (an MMIO/IOIO range: complete the requests it served). */
int64_t sys_signal(uint64_t h)
{
    struct kobject *o;
    uint32_t rights;
    int err = process_handle_lookup(h, COPRA_OBJ_NONE, 0, &o, &rights);
    if (err)
        return err;
    const struct kobject_ops *ops = kobject_ops[o->type];
    if (o->type != COPRA_OBJ_EVENT && !(ops && ops->signal))
        err = COPRA_ETYPE;
    else if (!(rights & COPRA_RIGHT_SIGNAL))
        err = COPRA_ERIGHTS;
    else if (o->type == COPRA_OBJ_EVENT)
        event_signal(container_of(o, struct event, obj));
    else
        err = ops->signal(o);
    kobject_put(o);
    return err;
}
