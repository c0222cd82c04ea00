/* SPDX-License-Identifier: MIT */
/*
 * kvm-clock, KVM's paravirtual clock, as the VMM serves it (servers/vmm/
 * msr.c, pvclock.c): the KVM CPUID leaves where Linux's scan finds them,
 * MSR_KVM_SYSTEM_TIME_NEW and MSR_KVM_WALL_CLOCK_NEW, and the time the
 * structures give checked against the TSC, the ACPI PM timer and PIT
 * channel 2 (independent clocks, timers.h) and the RTC.  A GPA outside
 * RAM or across a page is taken without #GP and nothing is written, as on
 * KVM.  VCPU 1 (aps=entry) runs its own clock at its own GPA.
 *
 * The reference is KVM: plain QEMU under TCG has no KVM leaves (its
 * hypervisor leaves read 0), so this guest fails there at the first check.
 */
#include "timers.h"

#define KVM_CPUID_SIGNATURE        0x40000000u
#define KVM_FEATURE_CLOCKSOURCE    (1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2   (1u << 3)
#define KVM_FEATURE_STABLE_BIT     (1u << 24)
#define MSR_TSC                    0x10u
#define MSR_KVM_WALL_CLOCK         0x11u
#define MSR_KVM_SYSTEM_TIME        0x12u
#define MSR_KVM_WALL_CLOCK_NEW     0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW    0x4b564d01u
#define PVCLOCK_TSC_STABLE_BIT     1u
#define RTC_START                  1767225600ull   /* 2026-01-01: the rtc's default */
#define TOLERANCE_PPM              50000
#define VCPUS                      2u
#define NS                         1000000000ull

struct pvclock_vcpu_time_info {
    uint32_t version, pad0;
    uint64_t tsc_timestamp, system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags, pad[2];
};

struct pvclock_wall_clock {
    uint32_t version, sec, nsec;
};

/* One structure per VCPU, and a page whose last 16 bytes start one that
 * would cross into the next page. */
static volatile struct pvclock_vcpu_time_info pvti[VCPUS] __attribute__((aligned(64)));
static volatile struct pvclock_wall_clock wall __attribute__((aligned(64)));
static volatile uint8_t straddle[8192] __attribute__((aligned(4096)));

static volatile unsigned gp_count;
static volatile unsigned ap_done, ap_ok;

static void on_gp(struct guest_frame *f)
{
    gp_count++;
    f->rip += 2;   /* RDMSR and WRMSR are 2 bytes */
}

static bool wrmsr_gp(uint32_t msr, uint64_t value)
{
    unsigned before = gp_count;
    wrmsr(msr, value);
    return gp_count != before;
}

static bool rdmsr_gp(uint32_t msr)
{
    unsigned before = gp_count;
    (void)rdmsr(msr);
    return gp_count != before;
}

static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* Linux's pvclock_clocksource_read() without the cross-CPU clamp: a
 * consistent snapshot (version even and unchanged), and the TSC it used. */
static uint64_t kvmclock_read(volatile struct pvclock_vcpu_time_info *t, uint64_t *tsc,
                              uint32_t *version)
{
    uint32_t v;
    uint64_t ns, now;
    do {
        v = t->version;
        __asm__ volatile("" ::: "memory");
        now = rdtsc();
        ns = t->system_time + scale_delta(now - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
        __asm__ volatile("" ::: "memory");
    } while ((v & 1) || v != t->version);
    if (tsc)
        *tsc = now;
    if (version)
        *version = v;
    return ns;
}

/* The TSC rate against kvm-clock over `ms`: reads do not exit, so the
 * uncertainty is the RDTSC bracket alone. */
static struct tsc_rate tsc_rate_kvmclock(volatile struct pvclock_vcpu_time_info *t, unsigned ms)
{
    struct stamp a, b;
    a.before = rdtsc();
    a.value = kvmclock_read(t, NULL, NULL);
    a.after = rdtsc();
    do {
        b.before = rdtsc();
        b.value = kvmclock_read(t, NULL, NULL);
        b.after = rdtsc();
    } while (b.value - a.value < (uint64_t)ms * 1000000 && b.after - a.before < WAIT_TSC_MAX);
    return rate_between(a, b, b.value - a.value, NS);
}

/* Time since 1970 from the RTC (BCD, 24-hour: the model's defaults), read
 * outside an update. */
static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0xf);
}

static uint64_t rtc_seconds(void)
{
    uint64_t t0 = rdtsc();
    while ((cmos(0x0a) & 0x80) && rdtsc() - t0 < WAIT_TSC_MAX)
        ;
    unsigned sec = bcd(cmos(0)), min = bcd(cmos(2)), hour = bcd(cmos(4));
    unsigned day = bcd(cmos(7)), month = bcd(cmos(8)), year = 2000 + bcd(cmos(9));
    /* Days since 1970-01-01 (civil-from-days inverse, March-based years). */
    unsigned y = year - (month <= 2), m = month <= 2 ? month + 9 : month - 3;
    uint64_t days = 365ull * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + day - 1 - 719468;
    return days * 86400 + hour * 3600ull + min * 60ull + sec;
}

/* Each VCPU: enable the clock at its own structure, read it, and see it
 * advance with the TSC (at CPUID 0x4000_0010's rate) for 10 ms. */
static bool own_clock(unsigned cpu, uint64_t tsc_hz)
{
    volatile struct pvclock_vcpu_time_info *t = &pvti[cpu];
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)t | 1);
    uint64_t tsc0, tsc1;
    uint32_t version;
    uint64_t ns0 = kvmclock_read(t, &tsc0, &version);
    tsc_delay(tsc_hz / 100);
    uint64_t ns1 = kvmclock_read(t, &tsc1, NULL);
    uint64_t want = (tsc1 - tsc0) * 1000000 / (tsc_hz / 1000);
    uint64_t got = ns1 - ns0;
    guest_printf("vcpu %u: kvm-clock %llu ns (version %u); over %llu TSC ticks %llu ns (TSC says %llu)\n",
                 cpu, (unsigned long long)ns0, version, (unsigned long long)(tsc1 - tsc0),
                 (unsigned long long)got, (unsigned long long)want);
    return version != 0 && !(version & 1) && t->tsc_to_system_mul != 0 &&
           ppm_apart(got, want) <= 20;   /* mul's and CPUID's kHz rounding: < 2 ppm */
}

void guest_ap_main(unsigned cpu)
{
    if (cpu < VCPUS) {
        ap_ok = own_clock(cpu, tsc_hz_cpuid());
        __atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
    }
    for (;;)
        __asm__ volatile("sti; hlt");
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("kvmclock guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(13, on_gp);

    /* 1. The KVM leaves, by Linux's scan: 0x4000_0000 up in 0x100 steps. */
    uint32_t r[4], base = 0;
    for (uint32_t leaf = 0x40000000u; leaf < 0x40010000u && base == 0; leaf += 0x100) {
        cpuid(leaf, 0, r);
        if (r[1] == 0x4b4d564bu && r[2] == 0x564b4d56u && r[3] == 0x4du)   /* "KVMKVMKVM\0\0\0" */
            base = leaf;
    }
    guest_printf("KVM signature at 0x%x\n", base);
    CHECK_EQ("KVM leaves at 0x4000_0100 (after Copra's)", base, 0x40000100u);
    if (base == 0)
        return guest_finish();
    cpuid(base, 0, r);
    CHECK("KVM max leaf covers the features leaf", r[0] >= base + 1);
    cpuid(base + 1, 0, r);
    guest_printf("KVM features 0x%x, hints 0x%x\n", r[0], r[3]);
    CHECK("KVM_FEATURE_CLOCKSOURCE2", r[0] & KVM_FEATURE_CLOCKSOURCE2);
    CHECK("no CLOCKSOURCE_STABLE_BIT (host TSCs not synchronized)", !(r[0] & KVM_FEATURE_STABLE_BIT));
    CHECK("no old CLOCKSOURCE: MSRs 0x11/0x12 #GP", !(r[0] & KVM_FEATURE_CLOCKSOURCE) &&
          rdmsr_gp(MSR_KVM_SYSTEM_TIME) && wrmsr_gp(MSR_KVM_WALL_CLOCK, (uintptr_t)&wall));
    uint64_t tsc_hz = tsc_hz_cpuid();

    /* 2. Enable; the structure is written, version even, no stable flag. */
    CHECK("SYSTEM_TIME_NEW off at reset", rdmsr(MSR_KVM_SYSTEM_TIME_NEW) == 0);
    uint64_t msr = (uint64_t)(uintptr_t)&pvti[0] | 1;
    uint64_t tsc_before = rdtsc();
    CHECK("SYSTEM_TIME_NEW write without #GP", !wrmsr_gp(MSR_KVM_SYSTEM_TIME_NEW, msr));
    uint64_t tsc_after = rdtsc();
    CHECK_EQ("SYSTEM_TIME_NEW reads back", rdmsr(MSR_KVM_SYSTEM_TIME_NEW), msr);
    guest_printf("pvclock: version %u, tsc_timestamp %llu, system_time %llu, mul %u, shift %d, flags 0x%x\n",
                 pvti[0].version, (unsigned long long)pvti[0].tsc_timestamp,
                 (unsigned long long)pvti[0].system_time, pvti[0].tsc_to_system_mul,
                 pvti[0].tsc_shift, pvti[0].flags);
    CHECK("version even and written", pvti[0].version != 0 && !(pvti[0].version & 1));
    CHECK("no PVCLOCK_TSC_STABLE_BIT", !(pvti[0].flags & PVCLOCK_TSC_STABLE_BIT));
    /* tsc_timestamp is the TSC during the WRMSR; system_time counts from
     * the VM's start, which the TSC (about 0 then) also does. */
    CHECK("tsc_timestamp: the TSC during the WRMSR",
          pvti[0].tsc_timestamp >= tsc_before && pvti[0].tsc_timestamp <= tsc_after);
    uint64_t by_tsc = scale_delta(pvti[0].tsc_timestamp, pvti[0].tsc_to_system_mul, pvti[0].tsc_shift);
    CHECK("system_time: the TSC's time since the start", ppm_apart(pvti[0].system_time, by_tsc) <= 1000);

    /* 3. mul/shift give CPUID 0x4000_0010's TSC rate: one second of TSC
     * ticks is 1e9 ns within the kHz rounding of the leaf (1 ppm) + 1 ns. */
    uint64_t second = scale_delta(tsc_hz, pvti[0].tsc_to_system_mul, pvti[0].tsc_shift);
    guest_printf("%llu TSC ticks (CPUID's second) = %llu ns\n", (unsigned long long)tsc_hz,
                 (unsigned long long)second);
    CHECK("mul/shift match CPUID 0x4000_0010", ppm_apart(second, NS) <= 2);

    /* 4. Monotonic over many reads. */
    uint64_t prev = kvmclock_read(&pvti[0], NULL, NULL);
    bool monotonic = true;
    for (unsigned i = 0; i < 100000; i++) {
        uint64_t now = kvmclock_read(&pvti[0], NULL, NULL);
        monotonic &= now >= prev;
        prev = now;
    }
    CHECK("100000 reads never go back", monotonic);

    /* 5. ~50 ms of kvm-clock against the PM timer and PIT channel 2. */
    struct tsc_rate by_kvm = NO_RATE, by_pm = NO_RATE, by_pit = NO_RATE;
    for (unsigned attempt = 0; attempt < RATE_ATTEMPTS && by_pit.ppm + by_pm.ppm > NOISE_MAX_PPM; attempt++) {
        by_kvm = rate_better(by_kvm, tsc_rate_kvmclock(&pvti[0], 50));
        by_pm = rate_better(by_pm, tsc_rate_pmtimer(PMTIMER_PORT, 50));
        by_pit = rate_better(by_pit, tsc_rate_pit(50));
    }
    CHECK("rate measurements precise enough (5 %)", by_pit.ppm + by_pm.ppm <= NOISE_MAX_PPM);
    CHECK("kvm-clock and the PM timer agree",
          rates_agree("kvm-clock", by_kvm, "PM timer", by_pm, TOLERANCE_PPM));
    CHECK("kvm-clock and PIT channel 2 agree",
          rates_agree("kvm-clock", by_kvm, "PIT", by_pit, TOLERANCE_PPM));

    /* 6. Wall clock: the wall time at kvm-clock 0; with the clock's time
     * since then, the RTC's (within its 1 s resolution and a read). */
    CHECK("WALL_CLOCK_NEW write without #GP",
          !wrmsr_gp(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)(uintptr_t)&wall));
    CHECK_EQ("WALL_CLOCK_NEW reads back", rdmsr(MSR_KVM_WALL_CLOCK_NEW), (uintptr_t)&wall);
    uint64_t now_ns = kvmclock_read(&pvti[0], NULL, NULL);
    uint64_t rtc = rtc_seconds();
    uint64_t now_wall = wall.sec + (wall.nsec + now_ns) / NS;
    guest_printf("wall clock: version %u, %u s %u ns; + kvm-clock = %llu s; RTC %llu s\n",
                 wall.version, wall.sec, wall.nsec, (unsigned long long)now_wall,
                 (unsigned long long)rtc);
    CHECK("wall clock: version even, written", wall.version != 0 && !(wall.version & 1));
    CHECK("wall clock: sane (2026 to 2100), nsec < 1e9",
          wall.sec >= RTC_START && wall.sec < 4102444800u && wall.nsec < NS);
    CHECK("wall clock + kvm-clock = the RTC's time (+-1 s)", now_wall + 1 >= rtc && now_wall <= rtc + 1);

    /* 7. A TSC write moves the TSC, not the time: the VMM re-writes the
     * structure and the clock goes on. */
    uint32_t v_before;
    uint64_t k_before = kvmclock_read(&pvti[0], NULL, &v_before);
    wrmsr(MSR_TSC, rdtsc() + 1000000000000ull);
    uint32_t v_after;
    uint64_t k_after = kvmclock_read(&pvti[0], NULL, &v_after);
    guest_printf("TSC + 10^12: kvm-clock %llu -> %llu ns, version %u -> %u\n",
                 (unsigned long long)k_before, (unsigned long long)k_after, v_before, v_after);
    CHECK("after a TSC write: re-written (version advanced)", v_after > v_before && !(v_after & 1));
    /* The jump would be 10^12 ticks (minutes); the bound leaves room for
     * a loaded host's delay of the exit. */
    CHECK("after a TSC write: the clock goes on (< 1 s later, not back)",
          k_after >= k_before && k_after - k_before < NS);

    /* 8. A GPA outside RAM (64 MiB here, 2 GiB is nothing) and one across
     * a page: taken without #GP, read back, nothing written; the last
     * good structure stays as it was. */
    uint32_t v_good = pvti[0].version;
    uint64_t outside = 0x80000000ull | 1;
    CHECK("GPA outside RAM: no #GP", !wrmsr_gp(MSR_KVM_SYSTEM_TIME_NEW, outside));
    CHECK_EQ("GPA outside RAM: reads back", rdmsr(MSR_KVM_SYSTEM_TIME_NEW), outside);
    CHECK("GPA outside RAM: wall clock write without #GP",
          !wrmsr_gp(MSR_KVM_WALL_CLOCK_NEW, 0x80000000ull));
    for (unsigned i = 0; i < sizeof straddle; i++)
        straddle[i] = 0xa5;
    uint64_t across = (uint64_t)(uintptr_t)&straddle[4096 - 16] | 1;
    CHECK("GPA across a page: no #GP", !wrmsr_gp(MSR_KVM_SYSTEM_TIME_NEW, across));
    bool untouched = true;
    for (unsigned i = 0; i < sizeof straddle; i++)
        untouched &= straddle[i] == 0xa5;
    CHECK("GPA across a page: nothing written", untouched);
    wrmsr(MSR_TSC, rdtsc() + 1000);   /* would re-write an enabled structure */
    CHECK_EQ("old structure left alone", pvti[0].version, v_good);
    /* Disabled (bit 0 clear): nothing written either. */
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&pvti[0]);
    wrmsr(MSR_TSC, rdtsc() + 1000);
    CHECK_EQ("disabled: not written", pvti[0].version, v_good);
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, msr);
    CHECK("re-enabled: written again", pvti[0].version > v_good && !(pvti[0].version & 1));

    /* 9. VCPU 0's own clock over 10 ms, then VCPU 1's (its own GPA, its
     * own CPU's TSC). */
    CHECK("vcpu 0: kvm-clock advances with the TSC", own_clock(0, tsc_hz));
    uint64_t t0 = rdtsc();
    while (!__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE) && rdtsc() - t0 < WAIT_TSC_MAX)
        __asm__ volatile("pause");
    CHECK("vcpu 1: kvm-clock advances with the TSC", ap_done && ap_ok);
    return guest_finish();
}
