/* SPDX-License-Identifier: MIT */
/*
 * MSR exits: the VMM's MSR table (servers/vmm/vcpu.c).  MSRs that are VCPU
 * state (EFER, PAT, STAR, LSTAR, KERNEL_GS_BASE, FS/GS base, SYSENTER_*)
 * round-trip through VCPU_GET_STATE/SET_STATE; APIC_BASE, TSC, the MTRRs
 * are emulated; unknown MSRs read 0 and ignore writes.
 */
#include "guest.h"

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("msr guest on vcpu %u\n", cpu);

    CHECK_EQ("APIC_BASE (0x1b) reads 0xfee00900 on the boot VCPU", rdmsr(0x1b), 0xfee00900ull);
    uint64_t efer = rdmsr(0xc0000080);
    guest_printf("EFER = 0x%llx\n", (unsigned long long)efer);
    CHECK_EQ("EFER shows LME|LMA, no SVME (the kernel keeps SVME to itself)",
             efer & 0x1d00, 0x500);

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

    CHECK_EQ("unknown MSR 0x12345 reads 0", rdmsr(0x12345), 0);
    wrmsr(0x12345, 42);
    CHECK_EQ("unknown MSR ignores writes", rdmsr(0x12345), 0);
    CHECK_EQ("unknown MSR 0xc0011234 reads 0", rdmsr(0xc0011234), 0);

    /* An MSR exit leaves RBX/RSI alone and clears the upper halves of RAX/RDX. */
    uint64_t rax = 0xdeadbeef00000000ull, rdx = 0xcafef00d00000000ull, rbx = 77;
    __asm__ volatile("rdmsr" : "+a"(rax), "+d"(rdx), "+b"(rbx) : "c"(0x1b));
    CHECK_EQ("rdmsr: RAX = low half, upper bits clear", rax, 0xfee00900ull);
    CHECK_EQ("rdmsr: RDX = high half, upper bits clear", rdx, 0);
    CHECK_EQ("rdmsr: RBX untouched", rbx, 77);
    return guest_finish();
}
