/* SPDX-License-Identifier: MIT */
/* The ACPI PM timer (pmtimer.h). */
#include "pmtimer.h"

#include "devclock.h"

uint32_t pmtimer_value(bool wide, uint64_t now)
{
    uint64_t ticks = devclock_ticks(now, PMTIMER_HZ);
    return (uint32_t)(wide ? ticks : ticks & 0xFFFFFFu);
}

uint32_t pmtimer_read(bool wide, uint64_t offset, unsigned size, uint64_t now)
{
    if (offset >= PMTIMER_PORTS)
        return 0xFFFFFFFFu;
    uint32_t v = pmtimer_value(wide, now) >> (8 * offset);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1u);
}
