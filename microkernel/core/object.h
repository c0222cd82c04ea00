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
