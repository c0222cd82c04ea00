/* SPDX-License-Identifier: MIT */
/* Finding and starting the other CPUs (ACPI MADT, INIT-SIPI-SIPI). */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

#include "core/kernel.h"

#define ACPI_MAX_CPUS 64

/* The APIC IDs of the enabled processors in the ACPI MADT; 0 if none found. */
unsigned acpi_cpu_apic_ids(uint32_t *ids, unsigned max);
/* Starts every CPU the MADT lists (up to COPRA_CPUS_MAX); sets cpu_count. */
void smp_init(void);

#endif
