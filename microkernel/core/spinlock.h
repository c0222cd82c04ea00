/* SPDX-License-Identifier: MIT */
/*
 * Spinlocks that also disable interrupts on the local CPU, so an interrupt
 * handler can never spin on a lock its own CPU holds.
 *
 * Lock order (take only rightwards while holding a lock):
 *   process handle lock -> address space lock -> VM lock -> scheduler lock
 *   -> heap lock -> pmm lock -> console lock
 * Rules that keep it so:
 *   - no kobject_put() under the scheduler lock (a destroy function may take
 *     it: timer_destroy); the reaper only drops threads and processes whose
 *     teardown is already done;
 *   - TLB shoot-down waits with no lock held (aspace.c tlb_shootdown());
 *   - the scheduler lock is handed from the switching thread to the next
 *     (thread.c), never held across a return to user mode;
 *   - leaves, taken with nothing of theirs held: a VCPU's state lock
 *     (vcpu.c, before the scheduler lock), the kernel-stack slot lock
 *     (kstack.c, under the scheduler lock when the reaper frees a stack;
 *     its shoot-down runs with no lock), a CPU's FPU owner lock (fpu.c).
 */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H

#include <stdint.h>
#include "arch/x86_64/cpu.h"

struct spinlock {
    volatile uint32_t locked;
};

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t f = irq_save();
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            cpu_relax();
    return f;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t f)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    irq_restore(f);
}

#endif
