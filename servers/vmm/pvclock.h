/* SPDX-License-Identifier: MIT */
/*
 * kvm-clock, KVM's paravirtual clock (Documentation/virt/kvm/x86/msr.rst):
 * the guest gives each VCPU's MSR_KVM_SYSTEM_TIME_NEW the GPA of a
 * struct pvclock_vcpu_time_info, which the VMM fills (msr.c); the guest
 * then reads nanoseconds as
 *     system_time + scale(RDTSC - tsc_timestamp, tsc_to_system_mul, tsc_shift)
 * without an exit.  The computation here is pure (host unit test
 * tests/unit/test_pvclock.c); msr.c reads the TSC and writes guest RAM.
 */
#ifndef VMM_PVCLOCK_H
#define VMM_PVCLOCK_H

#include <stdint.h>

/* The guest ABI (arch/x86/include/asm/pvclock-abi.h): 32 bytes. */
struct pvclock_vcpu_time_info {
    uint32_t version;             /* odd while the VMM writes the rest */
    uint32_t pad0;
    uint64_t tsc_timestamp;       /* guest TSC at system_time */
    uint64_t system_time;         /* guest ns since the VM started */
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;                /* PVCLOCK_TSC_STABLE_BIT (bit 0) etc.: none set */
    uint8_t pad[2];
};

/* MSR_KVM_WALL_CLOCK_NEW's structure: the wall time at system_time 0. */
struct pvclock_wall_clock {
    uint32_t version;
    uint32_t sec;
    uint32_t nsec;
};

/* Natural alignment gives the ABI layout (no padding). */
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI");
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock ABI");

/* mul and shift turning TSC ticks at tsc_hz into ns, as KVM's
 * kvm_get_time_scale(NSEC_PER_SEC, tsc_hz, ...) computes them
 * (arch/x86/kvm/x86.c).  tsc_hz must be at least 1. */
void pvclock_time_scale(uint64_t tsc_hz, int8_t *shift, uint32_t *mul);

/* The guest's conversion (pvclock_scale_delta, arch/x86/include/asm/
 * pvclock.h): ((delta << shift, or >> -shift) * mul) >> 32. */
uint64_t pvclock_scale_delta(uint64_t delta, uint32_t mul, int8_t shift);

/* The VCPU's time info at one instant: `host_tsc` the host TSC read on the
 * VCPU's CPU, `vcpu_offset` the VCPU's TSC offset (its TSC is host_tsc +
 * vcpu_offset), `vm_offset` the VM's initial offset (host_tsc + vm_offset
 * counts TSC ticks since the VM started, whatever the guest wrote to its
 * TSC since).  Fills everything but `version`. */
void pvclock_time_info(struct pvclock_vcpu_time_info *t, uint64_t host_tsc, uint64_t vcpu_offset,
                       uint64_t vm_offset, uint64_t tsc_hz);

#endif
