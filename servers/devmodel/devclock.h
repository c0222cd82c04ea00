/* SPDX-License-Identifier: MIT */
/*
 * A device's input clock derived from the host clock (CLOCK, nanoseconds):
 * the PIT's 1.193182 MHz, the HPET's 100 MHz, the ACPI PM timer's
 * 3.579545 MHz.  Exact in 64 bits without 128-bit division (the servers
 * are freestanding and have no libgcc): split at whole seconds.
 */
#ifndef DEVCLOCK_H
#define DEVCLOCK_H

#include <stdint.h>

#define DEVCLOCK_NS_PER_S 1000000000ull

/* Whole clocks of `hz` in `ns` nanoseconds (rounded down). */
static inline uint64_t devclock_ticks(uint64_t ns, uint64_t hz)
{
    return ns / DEVCLOCK_NS_PER_S * hz + ns % DEVCLOCK_NS_PER_S * hz / DEVCLOCK_NS_PER_S;
}

/* Nanoseconds until `ticks` clocks of `hz` have passed (rounded up), so
 * that devclock_ticks(devclock_ns(t, hz), hz) >= t. */
static inline uint64_t devclock_ns(uint64_t ticks, uint64_t hz)
{
    uint64_t whole = ticks / hz, rest = ticks % hz;
    if (whole > UINT64_MAX / DEVCLOCK_NS_PER_S - 1)
        return UINT64_MAX;
    return whole * DEVCLOCK_NS_PER_S + (rest * DEVCLOCK_NS_PER_S + hz - 1) / hz;
}

#endif
