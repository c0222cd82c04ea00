/* SPDX-License-Identifier: MIT */
/* MMIO and IOIO event ranges: the way guest accesses reach device models. */
#ifndef VIRT_RANGE_H
#define VIRT_RANGE_H

#include "core/kernel.h"
#include "core/memobj.h"
#include "core/object.h"
#include "core/waitable.h"

struct vm;
struct vcpu;

struct range {
    struct kobject obj;
    struct vm *vm;                        /* holds a reference */
    uint8_t kind;                         /* COPRA_IO_KIND_* */
    uint64_t base, len;
    struct memobj *area_mem;
    struct copra_io_area *area;
    /* Scheduler lock: */
    struct range *next;                   /* the VM's list */
    struct waitable state;                /* counting: requests posted */
    struct waitq waiters;
    struct vcpu *waiting[COPRA_VCPUS_MAX]; /* VCPU parked on each slot */
    uint64_t pending;                     /* bit i: waiting[i] is set */
    bool dead;
};

enum range_result {
    RANGE_UNCLAIMED,   /* no range covers the access: the VMM serves it */
    RANGE_DONE,        /* served; for a read, bus->data holds the value */
    RANGE_GONE,        /* the device model went away; reads give all-ones */
};

/* Sends the VCPU's pending access (v->bus) to the range that covers it and waits
 * for the device model (called by the VCPU's thread, no lock held). */
enum range_result range_dispatch(struct vcpu *v);
/* SIGNAL on a range (or the owner's WAIT on it): completes every slot the
 * device model marked done.  The _locked form needs the scheduler lock. */
void range_complete_locked(struct range *r);
/* WAIT, MMAP (the slot page) and SIGNAL (complete the served slots;
 * COPRA_EINVAL for malformed ones) on MMIO and IOIO ranges. */
extern const struct kobject_ops range_ops;

int64_t sys_mmio_event(uint64_t vm, uint64_t gpa, uint64_t len);
int64_t sys_ioio_event(uint64_t vm, uint64_t port, uint64_t count);

#endif
