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
/* Looks up `h`, checking its type (COPRA_OBJ_NONE = any) and that it holds
 * every right in `rights`.  On success *out gets a new reference. */
int handle_get(struct handle_table *t, copra_handle_t h, uint32_t type, uint32_t rights,
               struct kobject **out);
/* Removes `h`; *out receives the table's reference (caller drops or moves it). */
int handle_remove(struct handle_table *t, copra_handle_t h, struct kobject **out, uint32_t *rights);
/* Checks `h` as handle_get() does, without taking a reference. */
int handle_check(const struct handle_table *t, copra_handle_t h, uint32_t type, uint32_t rights);
/* Any type: *out gets a new reference and *rights what `h` holds. */
int handle_lookup(struct handle_table *t, copra_handle_t h, struct kobject **out, uint32_t *rights);
/* Drops every reference in the table (process teardown). */
void handle_table_clear(struct handle_table *t);

#endif
