/* SPDX-License-Identifier: MIT */
/* Local APIC: the scheduler tick, EOI, and (next issue) IPIs. */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include "core/kernel.h"

#define TICK_HZ 1000

/* Boot CPU: maps the LAPIC, masks the legacy PICs, calibrates timer and TSC. */
void apic_init(void);
/* Another CPU: enables its LAPIC (same MMIO page, per-CPU registers). */
void apic_init_ap(void);
void apic_send_ipi(uint32_t apic_id, uint8_t vector);
/* INIT, then two SIPIs pointing at the 4 KiB page `trampoline_pa` (< 1 MiB). */
void apic_start_cpu(uint32_t apic_id, uint64_t trampoline_pa);
void delay_us(uint64_t us);
/* Starts the periodic tick on this CPU (vector VECTOR_TIMER). */
void apic_timer_start(void);
void apic_eoi(void);
uint32_t apic_id(void);
/* TSC frequency measured against the PIT at boot. */
uint64_t tsc_hz(void);
uint64_t time_ns(void);

#endif
