/* SPDX-License-Identifier: MIT */
/* Local APIC: the scheduler tick, EOI, and (next issue) IPIs. */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include "core/kernel.h"

#define TICK_HZ 100

void apic_init(void);
/* Starts the periodic tick on this CPU (vector VECTOR_TIMER). */
void apic_timer_start(void);
void apic_eoi(void);
uint32_t apic_id(void);
/* TSC frequency measured against the PIT at boot. */
uint64_t tsc_hz(void);
uint64_t time_ns(void);

#endif
