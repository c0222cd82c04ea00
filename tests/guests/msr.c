/* SPDX-License-Identifier: MIT */
/*
 * MSR exits: the VMM's MSR model (servers/vmm/msr.c).  MSRs that are VCPU
 * state (EFER, PAT, STAR, LSTAR, KERNEL_GS_BASE, FS/GS base, SYSENTER_*,
 * TSC_AUX) round-trip through VCPU_GET_STATE/SET_STATE; APIC_BASE, TSC,
 * MISC_ENABLE, MCG_*, the MTRRs are emulated as KVM does; an MSR the VMM
 * does not model raises #GP(0), as on hardware and KVM.
 *
 * The reference here is KVM (and hardware), not QEMU's TCG: run on plain
 * QEMU 7.2 (-cpu EPYC) this guest gives 24 passed, 23 failed, because TCG
 * reads unknown MSRs as 0 and ignores writes (no #GP, also for x2APIC,
 * FEATURE_CONTROL, TSC-deadline, MCG_CTL, bad APIC_BASE values), models 8
 * variable MTRRs (MTRRcap 0x508), 10 MCE banks, microcode 0x1000065,
 * MISC_ENABLE 0x40001 and no DE_CFG, keeps a disabled APIC disabled, and its
 * RDMSR of the TSC and its WRMSR TSC do not move RDTSC as KVM's do.
 */
#include "guest.h"

static volatile unsigned gp_count;

/* #GP from RDMSR/WRMSR (both 2 bytes): count it and step over. */
static void on_gp(struct guest_frame *f)
{
    gp_count++;
    f->rip += 2;
}

static bool rdmsr_gp(uint32_t msr)
{
    unsigned before = gp_count;
    (void)rdmsr(msr);
    return gp_count != before;
}

static bool wrmsr_gp(uint32_t msr, uint64_t value)
{
    unsigned before = gp_count;
    wrmsr(msr, value);
    return gp_count != before;
}

static inline uint64_t rdtscp(uint32_t *aux)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
    return (uint64_t)hi << 32 | lo;
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("msr guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(13, on_gp);

    CHECK_EQ("APIC_BASE (0x1b) reads 0xfee00900 on the boot VCPU", rdmsr(0x1b), 0xfee00900ull);
    uint64_t efer = rdmsr(0xc0000080);
    guest_printf("EFER = 0x%llx\n", (unsigned long long)efer);
    /* NXE (0x800) is left out: a TDX module keeps it set for its L2 VMs. */
    CHECK_EQ("EFER shows LME|LMA, no SVME (the kernel keeps SVME to itself)",
             efer & 0x1500, 0x500);

    uint64_t t0 = rdmsr(0x10), t1 = rdmsr(0x10);
    guest_printf("TSC reads 0x%llx then 0x%llx\n", (unsigned long long)t0, (unsigned long long)t1);
    CHECK("TSC (0x10) advances", t1 > t0 && t0 != 0);

    CHECK_EQ("MTRRcap (0xfe): fixed ranges + WC, no variable ranges", rdmsr(0xfe), 0x500);
    CHECK_EQ("MTRRdefType (0x2ff) default: enabled, WB", rdmsr(0x2ff), 0xc06);
    wrmsr(0x2ff, 0x806);
    CHECK_EQ("MTRRdefType write/read", rdmsr(0x2ff), 0x806);
    CHECK_EQ("fixed MTRR (0x250) reads WB", rdmsr(0x250), 0x0606060606060606ull);

    uint64_t pat = rdmsr(0x277);
    guest_printf("PAT = 0x%llx\n", (unsigned long long)pat);
    CHECK_EQ("PAT (0x277) power-on value", pat, 0x0007040600070406ull);
    wrmsr(0x277, 0x0007010600070106ull);
    CHECK_EQ("PAT write/read (VCPU state)", rdmsr(0x277), 0x0007010600070106ull);
    wrmsr(0x277, pat);

    wrmsr(0xc0000081, 0x0023001000000000ull);
    CHECK_EQ("STAR write/read", rdmsr(0xc0000081), 0x0023001000000000ull);
    wrmsr(0xc0000082, 0xffffffff81234560ull);
    CHECK_EQ("LSTAR write/read", rdmsr(0xc0000082), 0xffffffff81234560ull);
    wrmsr(0xc0000102, 0xffff888012345000ull);
    CHECK_EQ("KERNEL_GS_BASE write/read", rdmsr(0xc0000102), 0xffff888012345000ull);
    wrmsr(0xc0000100, 0x7000);
    CHECK_EQ("FS_BASE write/read", rdmsr(0xc0000100), 0x7000);
    uint64_t fs_value;
    *(volatile uint64_t *)0x7008 = 0x5eed5eed5eed5eedull;
    __asm__ volatile("mov %%fs:8, %0" : "=r"(fs_value));
    CHECK_EQ("FS_BASE is the real FS base (fs:8 reads 0x7008)", fs_value, 0x5eed5eed5eed5eedull);
    wrmsr(0xc0000100, 0);
    wrmsr(0x175, 0x12345000);
    CHECK_EQ("SYSENTER_ESP write/read", rdmsr(0x175), 0x12345000);

    CHECK("unknown MSR 0x12345: RDMSR #GP", rdmsr_gp(0x12345));
    CHECK("unknown MSR 0x12345: WRMSR #GP", wrmsr_gp(0x12345, 42));
    CHECK("unknown MSR 0xc0011234: #GP", rdmsr_gp(0xc0011234));
    CHECK("x2APIC MSR 0x802 (no x2APIC): #GP", rdmsr_gp(0x802));
    CHECK("FEATURE_CONTROL (no VMX): #GP (KVM)", rdmsr_gp(0x3a));
    CHECK("TSC-deadline MSR (not in CPUID): #GP", rdmsr_gp(0x6e0));
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK("CPUID hides TSC-deadline and x2APIC", !(r[2] & ((1u << 24) | (1u << 21))));

    /* APIC_BASE as KVM: disable and enable; no relocation, no x2APIC. */
    CHECK("APIC_BASE relocation: #GP", wrmsr_gp(0x1b, 0xfec00900ull));
    CHECK("APIC_BASE x2APIC enable: #GP", wrmsr_gp(0x1b, 0xfee00d00ull));
    CHECK("APIC_BASE reserved bit 9: #GP", wrmsr_gp(0x1b, 0xfee00b00ull));
    CHECK("APIC_BASE disable", !wrmsr_gp(0x1b, 0xfee00100ull));
    CHECK_EQ("APIC_BASE reads disabled", rdmsr(0x1b), 0xfee00100ull);
    CHECK("APIC_BASE enable again", !wrmsr_gp(0x1b, 0xfee00900ull));

    CHECK_EQ("MISC_ENABLE: BTS and PEBS unavailable (KVM)", rdmsr(0x1a0), 0x1800);
    wrmsr(0x1a0, 0x1801);
    CHECK_EQ("MISC_ENABLE keeps writes", rdmsr(0x1a0), 0x1801);
    CHECK_EQ("MCG_CAP: no banks", rdmsr(0x179), 0);
    CHECK("MCG_CTL (no MCG_CTL_P): #GP", rdmsr_gp(0x17b));
    CHECK_EQ("UCODE_REV (KVM)", rdmsr(0x8b), 0x100000000ull);
    CHECK_EQ("DE_CFG: LFENCE serializing", rdmsr(0xc0011029), 2);
    CHECK("DE_CFG: other bits #GP", wrmsr_gp(0xc0011029, 1));
    CHECK_EQ("HWCR reads 0 (KVM)", rdmsr(0xc0010015), 0);
    CHECK("HWCR: unsupported bit #GP", wrmsr_gp(0xc0010015, 1ull << 30));

    /* TSC: starts near 0 for a new VM; a write moves RDTSC with it. */
    uint64_t tsc = rdtsc();
    guest_printf("TSC at start of test: %llu\n", (unsigned long long)tsc);
    CHECK("guest TSC counts from VM creation (below 2^40)", tsc < (1ull << 40));
    wrmsr(0x10, 1ull << 50);
    tsc = rdtsc();
    CHECK("WRMSR TSC moves RDTSC", tsc >= (1ull << 50) && tsc < (1ull << 50) + (1ull << 36));
    CHECK("RDMSR TSC agrees", rdmsr(0x10) >= tsc);

    /* TSC_AUX: per VCPU, what RDTSCP reads; bits 63:32 reserved. */
    cpuid(0x80000001u, 0, r);
    if (r[3] & (1u << 27)) {
        uint32_t aux = 0;
        wrmsr(0xc0000103, 0x1234);
        CHECK_EQ("TSC_AUX write/read", rdmsr(0xc0000103), 0x1234);
        uint64_t t = rdtscp(&aux);
        CHECK_EQ("RDTSCP reads the guest's TSC_AUX", aux, 0x1234);
        CHECK("RDTSCP counts with the guest's TSC", t >= (1ull << 50));
        CHECK("TSC_AUX bit 32: #GP", wrmsr_gp(0xc0000103, 1ull << 32));
    } else {
        CHECK("no RDTSCP: TSC_AUX #GP", rdmsr_gp(0xc0000103));
    }

    /* An MSR exit leaves RBX/RSI alone and clears the upper halves of RAX/RDX. */
    uint64_t rax = 0xdeadbeef00000000ull, rdx = 0xcafef00d00000000ull, rbx = 77;
    __asm__ volatile("rdmsr" : "+a"(rax), "+d"(rdx), "+b"(rbx) : "c"(0x1b));
    CHECK_EQ("rdmsr: RAX = low half, upper bits clear", rax, 0xfee00900ull);
    CHECK_EQ("rdmsr: RDX = high half, upper bits clear", rdx, 0);
    CHECK_EQ("rdmsr: RBX untouched", rbx, 77);
    return guest_finish();
}
