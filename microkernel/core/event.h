/* SPDX-License-Identifier: MIT */
/* Event objects: a counting signal plus an optional shared area (EVENT_CREATE). */
#ifndef CORE_EVENT_H
#define CORE_EVENT_H

#include "core/kernel.h"
#include "core/memobj.h"
#include "core/object.h"
#include "core/waitable.h"

struct event {
    struct kobject obj;
    struct waitable state;   /* counting; scheduler lock */
    struct waitq waiters;
    struct memobj *area;     /* NULL when created with no pages */
};

#endif
