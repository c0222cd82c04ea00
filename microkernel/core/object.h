/* SPDX-License-Identifier: MIT */
/*
 * Every kernel object starts with a struct kobject: its type and a reference
 * count.  Handles, running threads and other objects hold references; the
 * object's destroy function runs when the last one is dropped.
 */
#ifndef CORE_OBJECT_H
#define CORE_OBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <copra/object.h>

struct kobject;
typedef void (*kobject_destroy_fn)(struct kobject *);

struct kobject {
    uint32_t type;               /* enum copra_object_type */
    uint32_t refs;
    kobject_destroy_fn destroy;  /* NULL for objects that live forever */
};

/*
 * What WAIT_FOR_EVENT, MMAP, SIGNAL and DUP do with an object of a type core
 * does not implement itself: virt/ registers its VM, VCPU, IRQ and range
 * types here at boot (virt/vm.c), so that core knows nothing of VMs.
 */
struct waitable;
struct waitq;
struct memobj;
struct copra_wait_item;
struct kobject_ops {
    /* WAIT: readiness and wait queue. */
    struct waitable *(*waitable)(struct kobject *o, struct waitq **q);
    /* WAIT by a holder of SIGNAL, scheduler lock held: complete what it served. */
    void (*complete_locked)(struct kobject *o);
    /* A WAIT item that runs the waiting thread (a VCPU), at most one per WAIT. */
    int64_t (*run)(struct kobject *o, unsigned item, struct copra_wait_item *items, struct waitable **states,
                   struct waitq **queues, unsigned count, uint64_t deadline, bool poll);
    struct memobj *(*map)(struct kobject *o);   /* MMAP: the memory behind it */
    int (*signal)(struct kobject *o);           /* SIGNAL */
    bool no_dup;                                /* DUP refused: one handle per object */
};
extern const struct kobject_ops *kobject_ops[COPRA_OBJ_COUNT];

static inline void kobject_init(struct kobject *o, uint32_t type, kobject_destroy_fn destroy)
{
    o->type = type;
    o->refs = 1;
    o->destroy = destroy;
}

static inline struct kobject *kobject_get(struct kobject *o)
{
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
    return o;
}

/* A reference to an object found through a weak pointer, unless it is
 * already dying (refs reached 0). */
static inline bool kobject_get_unless_zero(struct kobject *o)
{
    uint32_t r = __atomic_load_n(&o->refs, __ATOMIC_RELAXED);
    while (r && !__atomic_compare_exchange_n(&o->refs, &r, r + 1, 1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        ;
    return r != 0;
}

static inline void kobject_put(struct kobject *o)
{
    if (o && __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0 && o->destroy)
        o->destroy(o);
}

#endif
