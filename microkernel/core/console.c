/* SPDX-License-Identifier: MIT */
/*
 * The kernel owns the real serial port (it is also the kernel's log), so
 * input is polled from it on CPU 0's tick into a ring buffer and handed to
 * the one server holding the console handle.  Polling at 1 kHz costs one
 * port read per tick and needs no interrupt controller in the kernel.
 */
#include "core/console.h"
#include "core/spinlock.h"
#include "core/thread.h"
#include "core/usercopy.h"
#include "core/wait.h"
#include "arch/x86_64/serial.h"

#define RING 4096u

/* Initialised as kobject_init() would, statically: it lives forever; its
 * counting waitable starts all zero. */
struct console console_input = { .obj = { .type = COPRA_OBJ_CONSOLE, .refs = 1 } };
static uint8_t ring[RING];
static uint32_t head, tail;          /* guarded by the scheduler lock */

void console_poll(void)
{
    int c;
    uint64_t n = 0, f = sched_lock();
    while ((c = serial_getc()) >= 0) {
        if (head - tail < RING) {   /* a full buffer drops the newest bytes */
            ring[head++ % RING] = (uint8_t)c;
            n++;
        }
    }
    if (n) {
        waitable_signal(&console_input.state, n);
        waitq_wake_all_locked(&console_input.waiters);
    }
    sched_unlock(f);
}

int64_t console_read(uint64_t ubuf, uint64_t len)
{
    uint8_t buf[256];
    if (!user_range_ok(ubuf, len))
        return COPRA_EFAULT;
    uint64_t f = sched_lock();
    uint32_t n = 0;
    while (n < len && n < sizeof(buf) && tail != head)
        buf[n++] = ring[tail++ % RING];
    sched_unlock(f);
    if (n && copy_to_user(ubuf, buf, n))
        return COPRA_EFAULT;   /* those bytes are lost: the caller passed a bad buffer */
    return n;
}
