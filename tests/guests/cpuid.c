/* SPDX-License-Identifier: MIT */
/*
 * CPUID exits: the VMM's CPUID policy (servers/vmm/vcpu.c).  Also built as
 * a flat binary and as a multiboot a.out-kludge image, to check those
 * loaders: it checks what the boot left in the multiboot information.
 */
#include "guest.h"

#define MB_INFO_MEMORY  (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

static void check_boot_info(uint32_t info_gpa)
{
    if (info_gpa == 0) {
        guest_print("no multiboot information (flat image)\n");
        return;
    }
    const struct mb_info *info = (const struct mb_info *)(uintptr_t)info_gpa;
    guest_printf("multiboot info at 0x%x: flags 0x%x, mem_lower %u KiB, mem_upper %u KiB\n",
                 info_gpa, info->flags, info->mem_lower, info->mem_upper);
    CHECK("boot info has memory sizes", info->flags & MB_INFO_MEMORY);
    CHECK_EQ("mem_lower is 639 KiB", info->mem_lower, 639);
    CHECK_EQ("mem_upper is 63 MiB (memory 64M)", info->mem_upper, 63 * 1024);
    CHECK("boot info has a memory map", info->flags & MB_INFO_MMAP);
    if (info->flags & MB_INFO_MMAP) {
        uint64_t usable = 0;
        for (uint32_t off = 0; off < info->mmap_length;) {
            const uint8_t *e = (const uint8_t *)(uintptr_t)(info->mmap_addr + off);
            uint32_t size;
            uint64_t addr, len;
            uint32_t type;
            memcpy(&size, e, 4);
            memcpy(&addr, e + 4, 8);
            memcpy(&len, e + 12, 8);
            memcpy(&type, e + 20, 4);
            guest_printf("  memory map: 0x%llx + 0x%llx type %u\n", (unsigned long long)addr,
                         (unsigned long long)len, type);
            if (type == 1)
                usable += len;
            off += size + 4;
        }
        CHECK("memory map: usable RAM is 64 MiB minus the legacy hole",
              usable == 64ull * 1024 * 1024 - (0x100000 - 0x9fc00));
    }
    if (info->flags & MB_INFO_CMDLINE)
        guest_printf("cmdline: '%s'\n", (const char *)(uintptr_t)info->cmdline);
}

int guest_main(unsigned cpu, uint32_t info_gpa)
{
    uint32_t r[4];
    char signature[13];

    guest_printf("cpuid guest on vcpu %u\n", cpu);
    check_boot_info(info_gpa);

    cpuid(0, 0, r);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    guest_printf("leaf 0: max leaf 0x%x, vendor '%s'\n", r[0], vendor);
    CHECK("leaf 0: some basic leaves", r[0] >= 1);

    cpuid(1, 0, r);
    CHECK("leaf 1: hypervisor bit (ECX 31) set", r[2] & (1u << 31));
    CHECK("leaf 1: VMX (ECX 5) hidden", !(r[2] & (1u << 5)));
    CHECK("leaf 1: x2APIC (ECX 21) hidden", !(r[2] & (1u << 21)));
    CHECK_EQ("leaf 1: initial APIC ID = vcpu index", r[1] >> 24, cpu);

    cpuid(0x40000000, 0, r);
    memcpy(signature, &r[1], 4);
    memcpy(signature + 4, &r[2], 4);
    memcpy(signature + 8, &r[3], 4);
    signature[12] = '\0';
    guest_printf("leaf 0x40000000: max 0x%x, signature '%s'\n", r[0], signature);
    CHECK("leaf 0x40000000: signature CopraCopraCo", memcmp(signature, "CopraCopraCo", 12) == 0);
    CHECK_EQ("leaf 0x40000000: max hypervisor leaf", r[0], 0x40000010);
    cpuid(0x40000001, 0, r);
    CHECK("leaf 0x40000001: no features", (r[0] | r[1] | r[2] | r[3]) == 0);
    cpuid(0x40000010, 0, r);
    guest_printf("leaf 0x40000010: TSC %u kHz\n", r[0]);
    CHECK("leaf 0x40000010: a TSC frequency in kHz", r[0] >= 100000 && r[1] == 0);
    /* KVM's interface one 0x100 step up, where Linux's scan finds it. */
    cpuid(0x40000100, 0, r);
    memcpy(signature, &r[1], 4);
    memcpy(signature + 4, &r[2], 4);
    memcpy(signature + 8, &r[3], 4);
    CHECK("leaf 0x40000100: signature KVMKVMKVM", memcmp(signature, "KVMKVMKVM\0\0\0", 12) == 0);
    CHECK_EQ("leaf 0x40000100: max KVM leaf", r[0], 0x40000101);
    cpuid(0x40000101, 0, r);
    CHECK_EQ("leaf 0x40000101: CLOCKSOURCE2 only (no STABLE_BIT)", r[0], 1u << 3);
    CHECK_EQ("leaf 0x40000101: no hints", r[3], 0);

    cpuid(0x80000000, 0, r);
    CHECK("leaf 0x80000000: extended leaves", r[0] >= 0x80000001);
    cpuid(0x80000001, 0, r);
    CHECK("leaf 0x80000001: SVM (ECX 2) hidden", !(r[2] & (1u << 2)));
    CHECK("leaf 0x80000001: long mode (EDX 29) kept", r[3] & (1u << 29));
    cpuid(0x8000000a, 0, r);
    CHECK("leaf 0x8000000a: no SVM features", (r[0] | r[1] | r[2] | r[3]) == 0);

    /* A CPUID exit must leave every other register alone: RSI/RDI/R8.. are
     * not CPUID outputs. */
    uint64_t rsi = 0x1122334455667788ull, r8 = 0x99aabbccddeeff00ull, rsi_out, r8_out;
    __asm__ volatile("mov %[r8], %%r8\n cpuid\n mov %%r8, %[r8o]"
                     : "+S"(rsi), [r8o] "=r"(r8_out), "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : [r8] "r"(r8), "a"(1), "c"(0)
                     : "r8");
    rsi_out = rsi;
    CHECK_EQ("cpuid keeps RSI", rsi_out, 0x1122334455667788ull);
    CHECK_EQ("cpuid keeps R8", r8_out, 0x99aabbccddeeff00ull);

    /* Many exits in a row: RIP is advanced by exactly 2 each time. */
    unsigned count = 0;
    for (unsigned i = 0; i < 1000; i++) {
        cpuid(0x40000000, 0, r);
        count += r[1] == 0x72706f43u;
    }
    CHECK_EQ("1000 cpuid exits in a row", count, 1000);
    return guest_finish();
}
