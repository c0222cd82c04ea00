/* SPDX-License-Identifier: MIT */
/*
 * The ACPI power-management timer (ACPI 6.5 §4.8.3.3, PM_TMR_BLK): a
 * free-running counter at 3.579545 MHz, 24 bits wide (32 with the FADT's
 * TMR_VAL_EXT flag), read-only.  Pure logic for tests/unit/test_pmtimer.c;
 * `now` is the host clock in nanoseconds, so the count is the same in
 * every process that reads it and survives a restart of the model.
 */
#ifndef PMTIMER_H
#define PMTIMER_H

#include <stdbool.h>
#include <stdint.h>

#define PMTIMER_HZ    3579545u   /* the 14.31818 MHz crystal / 4 */
#define PMTIMER_PORTS 4u

/* The counter at `now`: 24 bits, or 32 if `wide`. */
uint32_t pmtimer_value(bool wide, uint64_t now);

/* A read of `size` bytes at `offset` 0..3 of the register (narrower reads
 * take those bytes, as QEMU's acpi_pm_tmr_read allows). */
uint32_t pmtimer_read(bool wide, uint64_t offset, unsigned size, uint64_t now);

#endif
