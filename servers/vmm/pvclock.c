/* SPDX-License-Identifier: MIT */
/* kvm-clock's time scale and time info (pvclock.h). */
#include <string.h>

#include "pvclock.h"

#define NSEC_PER_SEC 1000000000ull

/*
 * KVM's kvm_get_time_scale(scaled_hz = NSEC_PER_SEC, base_hz = tsc_hz):
 * halve the TSC rate until it fits 32 bits and is at most twice the ns
 * rate (shift--), then double it, or halve the ns rate when the TSC rate
 * cannot grow, until the TSC rate exceeds the ns rate (shift++); mul is
 * then the fraction ns_rate / tsc_rate in 0.32 fixed point (div_frac).
 * The same steps give the same mul/shift as KVM, so a guest sees the
 * numbers it would see there.
 */
void pvclock_time_scale(uint64_t tsc_hz, int8_t *shift, uint32_t *mul)
{
    uint64_t scaled = NSEC_PER_SEC, tps64 = tsc_hz;
    int s = 0;

    while (tps64 > scaled * 2 || (tps64 & 0xffffffff00000000ull)) {
        tps64 >>= 1;
        s--;
    }
    uint32_t tps32 = (uint32_t)tps64;
    while (tps32 <= scaled || (scaled & 0xffffffff00000000ull)) {
        if ((scaled & 0xffffffff00000000ull) || (tps32 & 0x80000000u))
            scaled >>= 1;
        else
            tps32 <<= 1;
        s++;
    }
    *shift = (int8_t)s;
    *mul = (uint32_t)((scaled << 32) / tps32);   /* div_frac: scaled < tps32 */
}

uint64_t pvclock_scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

void pvclock_time_info(struct pvclock_vcpu_time_info *t, uint64_t host_tsc, uint64_t vcpu_offset,
                       uint64_t vm_offset, uint64_t tsc_hz)
{
    uint32_t version = t->version;

    memset(t, 0, sizeof *t);
    t->version = version;
    pvclock_time_scale(tsc_hz, &t->tsc_shift, &t->tsc_to_system_mul);
    t->tsc_timestamp = host_tsc + vcpu_offset;
    /* The VM's own TSC count, not the VCPU's: a guest's TSC write moves
     * tsc_timestamp but not the time since the VM started (as KVM keeps
     * kvmclock on the host's clock). */
    uint64_t ticks = host_tsc + vm_offset;
    if ((int64_t)ticks >= 0) {
        t->system_time = pvclock_scale_delta(ticks, t->tsc_to_system_mul, t->tsc_shift);
    } else {
        /* This CPU's TSC is behind the one the VM's offset was taken on
         * (TSCs not synchronized): a time just before 0, which the guest's
         * unsigned sums carry through. */
        t->system_time = -pvclock_scale_delta(-ticks, t->tsc_to_system_mul, t->tsc_shift);
    }
}
