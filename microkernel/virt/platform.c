/* SPDX-License-Identifier: MIT */
/*
 * Choosing the backend at boot (platform.h).  The confidential platforms
 * are checked first: inside a TD or an SNP guest the CPU may still report
 * SVM or VMX, which Copra must not use there.  QEMU answers CPUID leaves
 * above the maximum with a lower leaf's data (0x8000001F then reads as
 * "SEV present"), so a leaf is read only when the maximum covers it, and
 * SNP is believed only from SEV_STATUS, which the CPU itself sets
 * (tdx-snp-backends.md, C3).
 */
#include "virt/platform.h"
#include "virt/fpu.h"
#include "arch/x86_64/cpu.h"

#define MSR_SEV_STATUS 0xC0010131u
#define SEV_STATUS_SNP (1ull << 2)

const struct platform *platform;

/* CPUID 0x21 reads "IntelTDX    " in EBX, EDX, ECX (Linux tdx_early_init()). */
static bool tdx_present(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    if (r[0] < 0x21)
        return false;
    cpuid(0x21, 0, r);
    return r[1] == 0x65746E49u && r[3] == 0x5844546Cu && r[2] == 0x20202020u;
}

/* CPUID 0x8000001F EAX bit 1 (SEV) makes SEV_STATUS readable; bit 2 of it
 * says this guest runs with SNP (APM vol. 2 §15.34.10). */
static bool snp_present(void)
{
    uint32_t r[4];
    cpuid(0x80000000, 0, r);
    if (r[0] < 0x8000001F)
        return false;
    cpuid(0x8000001F, 0, r);
    return (r[0] & 2) && (rdmsr(MSR_SEV_STATUS) & SEV_STATUS_SNP);
}

void platform_init(void)
{
    if (tdx_present()) {
        if (tdx_probe())
            platform = &platform_tdx;
    } else if (snp_present())
        kprintf("copra: SEV-SNP detected; this kernel has no snp backend yet: guests disabled\n");
    else if (svm_probe())
        platform = &platform_svm;
}

/* Every CPU (cpu_init_hook): the FPU policy (processes have none, guests
 * their own XSAVE state) and the backend's per-CPU set-up. */
void platform_cpu_init(struct cpu *cpu)
{
    fpu_cpu_init();
    if (platform && !platform->cpu_init(cpu))
        panic("%s: cannot enable virtualization on CPU %u", platform->name, cpu->index);
}
