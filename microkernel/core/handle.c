/* SPDX-License-Identifier: MIT */
#include "core/handle.h"

const struct kobject_ops *kobject_ops[COPRA_OBJ_COUNT];   /* (object.h) */

void handle_table_init(struct handle_table *t, struct handle_entry *slots, uint32_t capacity)
{
    t->capacity = capacity;
    t->used = 0;
    t->slots = slots;
    for (uint32_t i = 0; i < capacity; i++)
        slots[i] = (struct handle_entry){ .gen = 1 };
}

int64_t handle_install(struct handle_table *t, struct kobject *obj, uint32_t rights)
{
    for (uint32_t i = 0; i < t->capacity; i++) {
        struct handle_entry *e = &t->slots[i];
        if (!e->obj) {
            e->obj = obj;
            e->rights = rights & COPRA_RIGHTS_ALL;
            t->used++;
            return ((int64_t)e->gen << HANDLE_SLOT_BITS) | i;
        }
    }
    return COPRA_EFULL;
}

int handle_remove(struct handle_table *t, copra_handle_t h, struct kobject **out, uint32_t *rights)
{
    struct handle_entry *e = handle_entry(t, h);
    if (!e)
        return COPRA_EBADH;
    *out = e->obj;
    if (rights)
        *rights = e->rights;
    e->obj = 0;
    e->rights = 0;
    e->gen = (uint16_t)(e->gen == HANDLE_GEN_MAX ? 1 : e->gen + 1);
    t->used--;
    return COPRA_OK;
}

void handle_table_clear(struct handle_table *t)
{
    for (uint32_t i = 0; i < t->capacity; i++) {
        struct kobject *o;
        if (handle_remove(t, ((uint32_t)t->slots[i].gen << HANDLE_SLOT_BITS) | i, &o, NULL) == COPRA_OK)
            kobject_put(o);
    }
}
