/* SPDX-License-Identifier: MIT */
/*
 * Ranges.  The VM keeps a list of its ranges (weak pointers); a
 * VCPU that exits inside one posts the access in its slot of the range's
 * area and sleeps on its own io_waiters until the device model SIGNALs the
 * range or the range dies.  The sleeping VCPU never touches the range
 * again, so the range can die (its last handle closed) while VCPUs wait:
 * its destroy function fails their requests under the same locks.
 * The list, the slots and the waiting VCPUs are all guarded by the scheduler
 * lock: an exit finds its range, posts the request and blocks under one
 * acquisition.
 */
#include "virt/range.h"
#include "virt/platform.h"
#include "virt/vcpu.h"
#include "virt/vm.h"
#include "core/heap.h"
#include "core/process.h"
#include "core/wait.h"

static void range_destroy(struct kobject *o)
{
    struct range *r = container_of(o, struct range, obj);
    struct vm *vm = r->vm;
    uint64_t f = sched_lock();
    for (struct range **pp = &vm->ranges; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    r->dead = true;
    for (unsigned i = 0; i < COPRA_VCPUS_MAX; i++) {
        struct vcpu *v = r->waiting[i];
        if (v) {
            r->waiting[i] = NULL;
            v->io_state = IO_GONE;
            waitq_wake_all_locked(&v->io_waiters);
        }
    }
    sched_unlock(f);
    memobj_put(r->area_mem);
    kobject_put(&vm->obj);
    kfree(r);
}

enum range_result range_dispatch(struct vcpu *v)
{
    struct bus_request *bus = &v->bus;
    struct vm *vm = v->vm;
    uint8_t kind = bus->mmio ? COPRA_IO_KIND_MMIO : COPRA_IO_KIND_PIO;
    struct thread *self = thread_current();
    if (!__atomic_load_n(&vm->ranges, __ATOMIC_ACQUIRE))
        return RANGE_UNCLAIMED;   /* no device model at all: skip the lock */
    uint64_t f = sched_lock();
    struct range *r = vm->ranges;
    while (r && !(r->kind == kind && bus->addr >= r->base && bus->addr - r->base < r->len))
        r = r->next;
    if (!r) {
        sched_unlock(f);
        return RANGE_UNCLAIMED;
    }
    struct copra_io_slot *s = &r->area->slot[v->index];
    s->vcpu = v->index;
    s->kind = kind;
    s->size = bus->size;
    s->write = bus->write;
    s->addr = bus->addr;
    s->data = bus->write ? bus->data : 0;
    s->seq++;
    __atomic_store_n(&s->state, COPRA_IO_REQUEST, __ATOMIC_RELEASE);
    r->waiting[v->index] = v;
    r->pending |= 1ull << v->index;
    v->io_state = IO_WAITING;
    waitable_signal(&r->state, 1);
    waitq_wake_all_locked(&r->waiters);

    struct waiter w;
    while (v->io_state == IO_WAITING && !self->proc->exiting) {
        waitq_add_locked(&v->io_waiters, &w, self);
        sched_block_locked(0);
        waitq_remove_locked(&v->io_waiters, &w);
    }
    enum range_result res = v->io_state == IO_DONE ? RANGE_DONE : RANGE_GONE;
    if (v->io_state == IO_WAITING) {
        /* The VMM is exiting: withdraw the request if the range still lives. */
        v->io_state = IO_GONE;
        if (r->waiting[v->index] == v && !r->dead) {
            r->waiting[v->index] = NULL;
            r->pending &= ~(1ull << v->index);
        }
    }
    if (res == RANGE_DONE)
        bus->data = v->io_data;
    else if (!bus->write)
        bus->data = ~0ull;   /* a read from a device that is gone: all-ones */
    sched_unlock(f);
    return res;
}

static int range_complete(struct kobject *o)
{
    struct range *r = container_of(o, struct range, obj);
    uint64_t f = sched_lock();
    range_complete_locked(r);
    /* An explicit SIGNAL also audits the area: a slot marked done with no
     * request behind it, or in no defined state, is the model's error. */
    unsigned bad = 0;
    for (unsigned i = 0; i < COPRA_VCPUS_MAX; i++) {
        uint32_t st = __atomic_load_n(&r->area->slot[i].state, __ATOMIC_ACQUIRE);
        if (st > COPRA_IO_DONE || (st == COPRA_IO_DONE && !r->waiting[i])) {
            r->area->slot[i].state = COPRA_IO_FREE;
            bad++;
        }
    }
    sched_unlock(f);
    if (bad)
        kprintf("copra: '%s' completed %u slot(s) of a range with no request or a bad state\n",
                process_current()->name, bad);
    return bad ? COPRA_EINVAL : COPRA_OK;
}

static void range_complete_item(struct kobject *o)
{
    range_complete_locked(container_of(o, struct range, obj));
}

void range_complete_locked(struct range *r)
{
    /* Only the slots with a parked VCPU: a scan of all 64 would cost more
     * than the rest of the round trip. */
    for (uint64_t pending = r->pending; pending; pending &= pending - 1) {
        unsigned i = (unsigned)__builtin_ctzll(pending);
        struct vcpu *v = r->waiting[i];
        struct copra_io_slot *s = &r->area->slot[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != COPRA_IO_DONE)
            continue;
        /* Only `data` is taken from the device model, cut to the access size;
         * nothing else it wrote into the slot is believed. */
        v->io_data = s->data & decode_size_mask(s->size);
        v->io_state = IO_DONE;
        s->state = COPRA_IO_FREE;
        r->waiting[i] = NULL;
        r->pending &= ~(1ull << i);
        waitq_wake_all_locked(&v->io_waiters);
    }
}

static int64_t range_create(uint64_t hvm, uint8_t kind, uint64_t base, uint64_t len)
{
    struct kobject *o;
    int err = process_handle_get(hvm, COPRA_OBJ_VM, COPRA_RIGHT_MANAGE, &o);
    if (err)
        return err;
    struct vm *vm = container_of(o, struct vm, obj);
    uint64_t limit = kind == COPRA_IO_KIND_PIO ? COPRA_IOIO_MAX_PORTS : (1ull << 47);
    uint64_t maxlen = kind == COPRA_IO_KIND_PIO ? COPRA_IOIO_MAX_PORTS : COPRA_MMIO_MAX_LEN;
    struct range *r = NULL;
    if (len == 0 || len > maxlen || base >= limit || len > limit - base)
        err = COPRA_EINVAL;
    else if (!(platform->exit_kinds & (1u << (kind == COPRA_IO_KIND_PIO ? VMX_IO : VMX_NPF))))
        err = COPRA_ENOSYS;   /* the platform never reports such accesses (SNP without ReflectVC) */
    else if (!(r = kmalloc(sizeof(*r))) || !(r->area_mem = memobj_create(1)))
        err = COPRA_ENOMEM;
    if (err) {
        kfree(r);
        kobject_put(o);
        return err;
    }
    kobject_init(&r->obj, kind == COPRA_IO_KIND_PIO ? COPRA_OBJ_IOIO : COPRA_OBJ_MMIO, range_destroy);
    waitable_init(&r->state, false);
    r->vm = vm;   /* takes the lookup's reference */
    r->kind = kind;
    r->base = base;
    r->len = len;
    r->area = phys_to_virt(r->area_mem->pages[0]);
    uint64_t f = sched_lock();
    for (struct range *x = vm->ranges; x && !err; x = x->next)
        if (x->kind == kind && base < x->base + x->len && x->base < base + len)
            err = COPRA_EEXIST;   /* overlapping ranges would make the owner ambiguous */
    if (!err) {
        r->next = vm->ranges;
        vm->ranges = r;
    }
    sched_unlock(f);
    if (err) {
        memobj_put(r->area_mem);
        kfree(r);
        kobject_put(o);
        return err;
    }
    return process_handle_install(&r->obj, COPRA_RIGHTS_RANGE);
}

int64_t sys_mmio_event(uint64_t vm, uint64_t gpa, uint64_t len)
{
    return range_create(vm, COPRA_IO_KIND_MMIO, gpa, len);
}

int64_t sys_ioio_event(uint64_t vm, uint64_t port, uint64_t count)
{
    return range_create(vm, COPRA_IO_KIND_PIO, port, count);
}

static struct waitable *range_waitable(struct kobject *o, struct waitq **q)
{
    struct range *r = container_of(o, struct range, obj);
    *q = &r->waiters;
    return &r->state;
}

static struct memobj *range_map(struct kobject *o) { return container_of(o, struct range, obj)->area_mem; }

const struct kobject_ops range_ops = {
    .waitable = range_waitable, .complete_locked = range_complete_item, .map = range_map, .signal = range_complete,
};
