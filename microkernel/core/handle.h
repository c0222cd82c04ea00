/* SPDX-License-Identifier: MIT */
/*
 * A process's handle table.  A handle is (generation << 16) | slot; the
 * generation of a slot changes every time it is freed, so a handle kept
 * after CLOSE never reaches whatever later lands in the same slot.
 * Pure logic: the caller holds the owning process's lock.
 */
#ifndef CORE_HANDLE_H
#define CORE_HANDLE_H

#include <stdint.h>
#include <copra/abi.h>
#include "core/object.h"

#define HANDLE_SLOT_BITS 16
#define HANDLE_GEN_MAX   0x7fffu   /* keeps handles positive as int32 */

struct handle_entry {
    struct kobject *obj;   /* NULL: free */
    uint32_t rights;
    uint16_t gen;          /* generation of the current or next occupant */
    uint16_t pad;
};

struct handle_table {
    uint32_t capacity;
    uint32_t used;
    struct handle_entry *slots;
};

void handle_table_init(struct handle_table *t, struct handle_entry *slots, uint32_t capacity);
/* Installs `obj` (the table takes over the caller's reference).
 * Returns the handle, or COPRA_EFULL. */
int64_t handle_install(struct handle_table *t, struct kobject *obj, uint32_t rights);
/* Removes `h`; *out receives the table's reference (caller drops or moves it). */
int handle_remove(struct handle_table *t, copra_handle_t h, struct kobject **out, uint32_t *rights);
/* The entry `h` names, or NULL if it is stale, forged or free.  Inline:
 * WAIT runs it for every item of every wait. */
static inline struct handle_entry *handle_entry(const struct handle_table *t, copra_handle_t h)
{
    uint32_t slot = h & ((1u << HANDLE_SLOT_BITS) - 1);
    uint32_t gen = h >> HANDLE_SLOT_BITS;
    if (slot >= t->capacity || gen == 0 || gen > HANDLE_GEN_MAX)
        return 0;
    struct handle_entry *e = &t->slots[slot];
    if (!e->obj || e->gen != gen)
        return 0;
    return e;
}

/* Looks up `h`, checking its type (COPRA_OBJ_NONE = any) and that it holds
 * every right in `rights`.  On success *out, unless NULL, gets a new
 * reference and *held, unless NULL, every right `h` holds. */
static inline int handle_get(const struct handle_table *t, copra_handle_t h, uint32_t type, uint32_t rights,
                             struct kobject **out, uint32_t *held)
{
    const struct handle_entry *e = handle_entry(t, h);
    if (!e)
        return COPRA_EBADH;
    if (type != COPRA_OBJ_NONE && e->obj->type != type)
        return COPRA_ETYPE;
    if ((e->rights & rights) != rights)
        return COPRA_ERIGHTS;
    if (held)
        *held = e->rights;
    if (out)
        *out = kobject_get(e->obj);
    return COPRA_OK;
}
/* Drops every reference in the table (process teardown). */
void handle_table_clear(struct handle_table *t);

#endif
