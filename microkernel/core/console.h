/* SPDX-License-Identifier: MIT */
/* Console input: bytes from the kernel's serial port, for one user server. */
#ifndef CORE_CONSOLE_H
#define CORE_CONSOLE_H

#include "core/kernel.h"
#include "core/object.h"
#include "core/waitable.h"

struct console {
    struct kobject obj;       /* lives forever */
    struct waitable state;    /* counting: bytes arrived; scheduler lock */
    struct waitq waiters;
};

extern struct console console_input;

/* Called by the tick on CPU 0: moves received bytes into the buffer. */
void console_poll(void);
/* READ on the console handle. */
int64_t console_read(uint64_t buf, uint64_t len);

#endif
