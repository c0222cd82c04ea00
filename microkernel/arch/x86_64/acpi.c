/* SPDX-License-Identifier: MIT */
/*
 * Just enough ACPI to find the CPUs: RSDP -> RSDT/XSDT -> MADT (ACPI 6.5
 * §5.2.5, §5.2.7, §5.2.12).  The tables come from firmware, so every length
 * and checksum is checked before a byte past a header is read.
 */
#include "arch/x86_64/smp.h"
#include "arch/x86_64/paging.h"
#include "core/string.h"

struct acpi_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

#define ACPI_TABLE_MAX (1u << 20)

static bool checksum_ok(const void *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ((const uint8_t *)p)[i];
    return sum == 0;
}

static const struct acpi_header *acpi_table(uint64_t pa)
{
    if (!pa)
        return NULL;
    paging_map_phys(pa, sizeof(struct acpi_header));
    const struct acpi_header *h = phys_to_virt(pa);
    if (h->length < sizeof(*h) || h->length > ACPI_TABLE_MAX)
        return NULL;
    paging_map_phys(pa, h->length);
    return checksum_ok(h, h->length) ? h : NULL;
}

static const uint8_t *acpi_find_rsdp(void)
{
    /* ACPI §5.2.5.1: 16-byte aligned in the BIOS area 0xE0000-0xFFFFF. */
    paging_map_phys(0xE0000, 0x20000);
    for (uint64_t pa = 0xE0000; pa < 0x100000; pa += 16) {
        const uint8_t *p = phys_to_virt(pa);
        if (!memcmp(p, "RSD PTR ", 8) && checksum_ok(p, 20))
            return p;
    }
    return NULL;
}

unsigned acpi_cpu_apic_ids(uint32_t *ids, unsigned max)
{
    const uint8_t *rsdp = acpi_find_rsdp();
    if (!rsdp)
        return 0;
    uint32_t rsdt_pa;
    uint64_t xsdt_pa = 0;
    memcpy(&rsdt_pa, rsdp + 16, 4);
    if (rsdp[15] >= 2 && checksum_ok(rsdp, 36))
        memcpy(&xsdt_pa, rsdp + 24, 8);
    const struct acpi_header *sdt = acpi_table(xsdt_pa ? xsdt_pa : rsdt_pa);
    if (!sdt)
        return 0;
    size_t entry = xsdt_pa ? 8 : 4;
    size_t n = (sdt->length - sizeof(*sdt)) / entry;
    const struct acpi_header *madt = NULL;
    for (size_t i = 0; i < n && !madt; i++) {
        uint64_t pa = 0;
        memcpy(&pa, (const uint8_t *)(sdt + 1) + i * entry, entry);
        const struct acpi_header *t = acpi_table(pa);
        if (t && !memcmp(t->sig, "APIC", 4) && t->length >= sizeof(*t) + 8)
            madt = t;
    }
    if (!madt)
        return 0;
    unsigned count = 0;
    const uint8_t *p = (const uint8_t *)(madt + 1) + 8, *end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        /* Type 0: processor local APIC {uid, apic id, flags: bit 0 enabled}. */
        if (p[0] == 0 && p[1] >= 8 && (p[4] & 1) && count < max)
            ids[count++] = p[3];
        p += p[1];
    }
    return count;
}
