/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for servers/vmm/acpi.c: the guest's ACPI tables.  Offsets and
 * values are cited from the ACPI Specification 6.4.
 *
 * `test_acpi iasl` runs the second suite instead: ACPICA's iasl
 * disassembles every table (it reports bad checksums and malformed AML),
 * then compiles the disassembly back with optimizations off (-oa), and the
 * result must be our table byte for byte but for the compiler's ID,
 * revision and the checksum they change.  It exits 77 (ctest: skipped) when
 * iasl is not installed (Debian: acpica-tools).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h"
#include "../devmodel/acpipm.h"

#define GPA 0xE0000ull

static uint8_t buf[ACPI_TABLES_SIZE];

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* A typical Linux VM: 2 CPUs, COM1, RTC, power device, two virtio. */
static struct acpi_desc desc_typical(void)
{
    return (struct acpi_desc){
        .ncpus = 2, .ioapic_base = ACPI_IOAPIC_BASE, .ioapic_pins = ACPI_IOAPIC_PINS, .pic = true,
        .uart = true, .uart_port = 0x3F8, .uart_gsi = 4, .rtc = true, .rtc_gsi = 8,
        .power_port = ACPIPM_PORT, .nvirtio = 2,
        .virtio = { { 0xFEB00000, 0x200, 16 }, { 0xFEB00200, 0x200, 17 } },
    };
}

/* The largest description: every limit at its maximum. */
static struct acpi_desc desc_max(void)
{
    struct acpi_desc d = desc_typical();
    d.ncpus = ACPI_CPUS_MAX;
    d.pm_timer_port = 0x608;
    d.pm_timer_32bit = true;
    d.nvirtio = ACPI_VIRTIO_MAX;
    for (unsigned i = 0; i < ACPI_VIRTIO_MAX; i++)
        d.virtio[i] = (struct acpi_virtio_mmio){ 0xFEB00000 + 0x200 * i, 0x200, 16 + i };
    return d;
}

static size_t build(const struct acpi_desc *d)
{
    uint64_t rsdp = 0;
    size_t used = 0;
    const char *why = "unset";
    memset(buf, 0xA5, sizeof buf);
    ck_assert_int_eq(acpi_build(d, buf, sizeof buf, GPA, &rsdp, &used, &why), ACPI_BUILD_OK);
    ck_assert_ptr_null(why);
    ck_assert_uint_eq(rsdp, GPA);
    ck_assert_uint_gt(used, 0);
    return used;
}

/* The table at guest-physical `gpa`, checked: inside what was built, its
 * signature, its length, a zero checksum. */
static const uint8_t *table(uint64_t gpa, size_t used, const char *signature)
{
    ck_assert_uint_ge(gpa, GPA);
    ck_assert_uint_le(gpa - GPA + 36, used);
    const uint8_t *t = buf + (gpa - GPA);
    ck_assert_int_eq(memcmp(t, signature, 4), 0);
    ck_assert_uint_le(gpa - GPA + rd32(t + 4), used);
    ck_assert_uint_eq(sum(t, rd32(t + 4)), 0);   /* §5.2.6 Table 5.4: Checksum */
    ck_assert_int_eq(memcmp(t + 10, "COPRA ", 6), 0);
    return t;
}

static const uint8_t *xsdt_of(size_t used)
{
    return table(rd64(buf + 24), used, "XSDT");
}

static const uint8_t *fadt_of(size_t used)
{
    return table(rd64(xsdt_of(used) + 36), used, "FACP");
}

static const uint8_t *madt_of(size_t used)
{
    return table(rd64(xsdt_of(used) + 44), used, "APIC");
}

static const uint8_t *dsdt_of(size_t used)
{
    return table(rd64(fadt_of(used) + 140), used, "DSDT");
}

/* How often `needle` occurs in the n bytes at p. */
static int count(const uint8_t *p, size_t n, const void *needle, size_t len)
{
    int found = 0;
    for (size_t i = 0; i + len <= n; i++)
        found += memcmp(p + i, needle, len) == 0;
    return found;
}

START_TEST(test_rsdp_fields)
{
    struct acpi_desc d = desc_typical();
    size_t used = build(&d);
    /* §5.2.5.3 Table 5.3 */
    ck_assert_int_eq(memcmp(buf, "RSD PTR ", 8), 0);   /* 0 Signature */
    ck_assert_uint_eq(sum(buf, 20), 0);                /* 8 Checksum: first 20 bytes */
    ck_assert_int_eq(memcmp(buf + 9, "COPRA ", 6), 0);  /* 9 OEMID */
    ck_assert_uint_eq(buf[15], 2);                     /* 15 Revision */
    ck_assert_uint_eq(rd32(buf + 16), 0);              /* 16 RsdtAddress: none */
    ck_assert_uint_eq(rd32(buf + 20), 36);             /* 20 Length */
    ck_assert_uint_eq(rd64(buf + 24) % 16, 0);         /* 24 XsdtAddress */
    ck_assert_uint_eq(sum(buf, 36), 0);                /* 32 Extended Checksum: all */
    ck_assert_uint_eq(buf[33] | buf[34] | buf[35], 0); /* 33 Reserved */
    const uint8_t *x = xsdt_of(used);
    ck_assert_uint_eq(rd32(x + 4), 36 + 2 * 8);        /* §5.2.8 Table 5.7: two entries */
    ck_assert_uint_eq(x[8], 1);
    ck_assert_uint_le(used, ACPI_TABLES_MAX_BYTES);
}
END_TEST

START_TEST(test_fadt_fields)
{
    struct acpi_desc d = desc_typical();
    size_t used = build(&d);
    const uint8_t *f = fadt_of(used);
    const uint8_t *dsdt = dsdt_of(used);
    /* §5.2.9 Table 5.9 */
    ck_assert_uint_eq(rd32(f + 4), 276);              /* Length: revision 6 */
    ck_assert_uint_eq(f[8], 6);                       /* Revision */
    ck_assert_uint_eq(rd32(f + 36), 0);               /* 36 FIRMWARE_CTRL: no FACS */
    ck_assert_uint_eq(rd32(f + 40), 0);               /* 40 DSDT: X_DSDT instead */
    ck_assert_uint_eq(rd16(f + 46), 0);               /* 46 SCI_INT: none */
    ck_assert_uint_eq(rd32(f + 48), 0);               /* 48 SMI_CMD: none */
    for (unsigned off = 56; off < 88; off += 4)        /* 56..84 PM1a_EVT_BLK..GPE1_BLK */
        ck_assert_uint_eq(rd32(f + off), 0);
    ck_assert_uint_eq(f[108], 0x32);                  /* 108 CENTURY: CMOS 0x32 */
    /* 109 IAPC_BOOT_ARCH (Table 5.11): VGA Not Present (bit 2) only: no
     * legacy devices, no 8042, MSI supported, CMOS RTC present (bit 5). */
    ck_assert_uint_eq(rd16(f + 109), 1u << 2);
    uint32_t flags = rd32(f + 112);                   /* 112 Flags (Table 5.10) */
    ck_assert(flags & 1u << 20);                      /* HW_REDUCED_ACPI */
    ck_assert(flags & 1u << 10);                      /* RESET_REG_SUP */
    ck_assert(!(flags & 1u << 8));                    /* TMR_VAL_EXT: no PM timer */
    /* 116 RESET_REG: GAS (Table 5.1) SystemIO (1), 8 bits, offset 0, byte access (1) */
    static const uint8_t gas_io8[4] = { 1, 8, 0, 1 };
    ck_assert_int_eq(memcmp(f + 116, gas_io8, 4), 0);
    ck_assert_uint_eq(rd64(f + 120), ACPIPM_PORT + ACPIPM_RESET);
    ck_assert_uint_eq(f[128], ACPIPM_RESET_VALUE);    /* 128 RESET_VALUE */
    ck_assert_uint_eq(f[131], 0);                     /* 131 FADT Minor Version */
    ck_assert_uint_eq(rd64(f + 132), 0);              /* 132 X_FIRMWARE_CTRL */
    ck_assert_uint_eq(rd64(f + 140), GPA + (uint64_t)(dsdt - buf));   /* 140 X_DSDT */
    for (unsigned off = 148; off < 244; off++)         /* 148..232 X_PM1a_EVT_BLK..X_GPE1_BLK */
        ck_assert_uint_eq(f[off], 0);
    ck_assert_int_eq(memcmp(f + 244, gas_io8, 4), 0); /* 244 SLEEP_CONTROL_REG */
    ck_assert_uint_eq(rd64(f + 248), ACPIPM_PORT + ACPIPM_SLEEP_CONTROL);
    ck_assert_int_eq(memcmp(f + 256, gas_io8, 4), 0); /* 256 SLEEP_STATUS_REG */
    ck_assert_uint_eq(rd64(f + 260), ACPIPM_PORT + ACPIPM_SLEEP_STATUS);
    ck_assert_int_eq(memcmp(f + 268, "COPRA", 5), 0); /* 268 Hypervisor Vendor Identity */
}
END_TEST

START_TEST(test_fadt_without_power_or_rtc)
{
    struct acpi_desc d = desc_typical();
    d.power_port = 0;
    d.rtc = false;
    d.pm_timer_port = 0x608;
    d.pm_timer_32bit = true;
    size_t used = build(&d);
    const uint8_t *f = fadt_of(used);
    uint32_t flags = rd32(f + 112);
    ck_assert(flags & 1u << 20);                      /* HW_REDUCED_ACPI */
    ck_assert(!(flags & 1u << 10));                   /* no RESET_REG_SUP */
    ck_assert(flags & 1u << 8);                       /* TMR_VAL_EXT: 32-bit PM timer */
    ck_assert_uint_eq(rd16(f + 109), 1u << 2 | 1u << 5);   /* CMOS RTC Not Present */
    ck_assert_uint_eq(f[108], 0);
    for (unsigned off = 116; off < 129; off++)         /* RESET_REG, RESET_VALUE */
        ck_assert_uint_eq(f[off], 0);
    for (unsigned off = 244; off < 268; off++)         /* sleep registers */
        ck_assert_uint_eq(f[off], 0);
    ck_assert_uint_eq(rd32(f + 76), 0x608);           /* 76 PM_TMR_BLK */
    ck_assert_uint_eq(f[91], 4);                      /* 91 PM_TMR_LEN */
    static const uint8_t gas_io32[4] = { 1, 32, 0, 3 };
    ck_assert_int_eq(memcmp(f + 208, gas_io32, 4), 0);   /* 208 X_PM_TMR_BLK */
    ck_assert_uint_eq(rd64(f + 212), 0x608);
    const uint8_t *dsdt = dsdt_of(used);
    ck_assert_int_eq(count(dsdt, rd32(dsdt + 4), "_S5_", 4), 0);
    ck_assert_int_eq(count(dsdt, rd32(dsdt + 4), "RTC_", 4), 0);
}
END_TEST

START_TEST(test_madt_entries)
{
    struct acpi_desc d = desc_typical();
    d.ncpus = 5;
    size_t used = build(&d);
    const uint8_t *m = madt_of(used);
    size_t len = rd32(m + 4);
    /* §5.2.12 Table 5.43 */
    ck_assert_uint_eq(len, 44 + 5 * 8 + 12 + 10 + 6);
    ck_assert_uint_eq(rd32(m + 36), 0xFEE00000);      /* 36 Local Interrupt Controller Address */
    ck_assert_uint_eq(rd32(m + 40), 1);               /* 40 Flags: PCAT_COMPAT (irqd's 8259s) */
    const uint8_t *e = m + 44;
    for (unsigned i = 0; i < 5; i++, e += 8) {        /* Table 5.47 Processor Local APIC */
        ck_assert_uint_eq(e[0], 0);
        ck_assert_uint_eq(e[1], 8);
        ck_assert_uint_eq(e[2], i);                   /* ACPI Processor UID */
        ck_assert_uint_eq(e[3], i);                   /* APIC ID */
        ck_assert_uint_eq(rd32(e + 4), 1);            /* Enabled */
    }
    ck_assert_uint_eq(e[0], 1);                       /* Table 5.49 I/O APIC */
    ck_assert_uint_eq(e[1], 12);
    ck_assert_uint_eq(e[2], 0);                       /* I/O APIC ID */
    ck_assert_uint_eq(rd32(e + 4), 0xFEC00000);
    ck_assert_uint_eq(rd32(e + 8), 0);                /* GSI base */
    e += 12;
    ck_assert_uint_eq(e[0], 2);                       /* Table 5.50 Interrupt Source Override */
    ck_assert_uint_eq(e[1], 10);
    ck_assert_uint_eq(e[2], 0);                       /* Bus: ISA */
    ck_assert_uint_eq(e[3], 0);                       /* Source: IRQ 0 */
    ck_assert_uint_eq(rd32(e + 4), 2);                /* GSI 2 */
    ck_assert_uint_eq(rd16(e + 8), 0);                /* conforms to the bus */
    e += 10;
    ck_assert_uint_eq(e[0], 4);                       /* Table 5.54 Local APIC NMI */
    ck_assert_uint_eq(e[1], 6);
    ck_assert_uint_eq(e[2], 0xFF);                    /* all processors */
    ck_assert_uint_eq(rd16(e + 3), 0);
    ck_assert_uint_eq(e[5], 1);                       /* LINT1 */
    ck_assert_ptr_eq(e + 6, m + len);
}
END_TEST

START_TEST(test_madt_no_pic_no_override)
{
    struct acpi_desc d = desc_typical();
    d.pic = false;
    d.ioapic_gsi_base = 24;                           /* GSI 2 is not on this IOAPIC */
    d.uart = false;
    d.rtc = false;
    for (unsigned i = 0; i < d.nvirtio; i++)
        d.virtio[i].gsi = 30 + i;
    size_t used = build(&d);
    const uint8_t *m = madt_of(used);
    ck_assert_uint_eq(rd32(m + 40), 0);
    ck_assert_uint_eq(rd32(m + 4), 44 + 2 * 8 + 12 + 6);
    ck_assert_uint_eq(rd32(m + 44 + 16 + 8), 24);     /* GSI base */
}
END_TEST

START_TEST(test_dsdt_contents)
{
    struct acpi_desc d = desc_typical();
    size_t used = build(&d);
    const uint8_t *t = dsdt_of(used);
    size_t len = rd32(t + 4);
    ck_assert_uint_eq(t[8], 2);                       /* revision 2: 64-bit integers */
    /* Scope(\_SB) with a 2-byte PkgLength (§20.2.4) that ends where \_S5 starts. */
    ck_assert_uint_eq(t[36], 0x10);
    ck_assert_uint_eq(t[37] >> 6, 1);
    size_t scope = (t[37] & 0xF) | (size_t)t[38] << 4;
    ck_assert_int_eq(memcmp(t + 39, "\\_SB_", 5), 0);
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
                                  0x0A, ACPIPM_SLP_TYP_S5, 0x00, 0x00, 0x00 };
    ck_assert_uint_eq(37 + scope + sizeof s5, len);
    ck_assert_int_eq(memcmp(t + 37 + scope, s5, sizeof s5), 0);
    /* Device(COM1): EISAID PNP0501 as a DWord (§6.1.5), IO 0x3F8/8, IRQ 4. */
    static const uint8_t com1_hid[] = { '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01 };
    static const uint8_t com1_io[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08,
                                       0x22, 0x10, 0x00, 0x79, 0x00 };
    ck_assert_int_eq(count(t, len, "COM1", 4), 1);
    ck_assert_int_eq(count(t, len, com1_hid, sizeof com1_hid), 1);
    ck_assert_int_eq(count(t, len, com1_io, sizeof com1_io), 1);
    /* Device(RTC_): PNP0B00, IO 0x70/2, IRQ 8. */
    static const uint8_t rtc_hid[] = { '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0B, 0x00 };
    static const uint8_t rtc_io[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02,
                                      0x22, 0x00, 0x01, 0x79, 0x00 };
    ck_assert_int_eq(count(t, len, rtc_hid, sizeof rtc_hid), 1);
    ck_assert_int_eq(count(t, len, rtc_io, sizeof rtc_io), 1);
    /* VR01: Memory32Fixed 0xFEB00200 +0x200 (Table 6.262), Extended
     * Interrupt consumer/level/high/exclusive GSI 17 (Table 6.266). */
    ck_assert_int_eq(count(t, len, "LNRO0005", 9), 2);
    static const uint8_t vr01[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0xB0, 0xFE,
                                    0x00, 0x02, 0x00, 0x00, 0x89, 0x06, 0x00, 0x01,
                                    0x01, 17, 0, 0, 0, 0x79, 0x00 };
    ck_assert_int_eq(count(t, len, "VR01", 4), 1);
    ck_assert_int_eq(count(t, len, vr01, sizeof vr01), 1);
}
END_TEST

START_TEST(test_no_irq_devices)
{
    struct acpi_desc d = desc_typical();
    d.uart_gsi = ACPI_NO_GSI;
    d.rtc_gsi = ACPI_NO_GSI;
    size_t used = build(&d);
    const uint8_t *t = dsdt_of(used);
    static const uint8_t com1_io_end[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08,
                                           0x79, 0x00 };
    ck_assert_int_eq(count(t, rd32(t + 4), com1_io_end, sizeof com1_io_end), 1);
    static const uint8_t rtc_io_end[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02,
                                          0x79, 0x00 };
    ck_assert_int_eq(count(t, rd32(t + 4), rtc_io_end, sizeof rtc_io_end), 1);
}
END_TEST

START_TEST(test_max_fits)
{
    struct acpi_desc d = desc_max();
    size_t used = build(&d);
    ck_assert_uint_le(used, ACPI_TABLES_MAX_BYTES);
    const uint8_t *m = madt_of(used);
    ck_assert_uint_eq(rd32(m + 4), 44 + 64 * 8 + 12 + 10 + 6);
    const uint8_t *t = dsdt_of(used);
    ck_assert_int_eq(count(t, rd32(t + 4), "LNRO0005", 9), 8);
    ck_assert_int_eq(count(t, rd32(t + 4), "VR07", 4), 1);
}
END_TEST

/* Every buffer shorter than the tables: ENOSPC, and not a byte written
 * past the buffer's end. */
START_TEST(test_too_small)
{
    struct acpi_desc d = desc_max();
    size_t used = build(&d);
    for (size_t len = 0; len < used; len++) {
        uint64_t rsdp = 0;
        const char *why = NULL;
        memset(buf, 0xA5, sizeof buf);
        ck_assert_int_eq(acpi_build(&d, buf, len, GPA, &rsdp, NULL, &why), ACPI_BUILD_ENOSPC);
        ck_assert_ptr_nonnull(why);
        for (size_t i = len; i < used + 16; i++)
            ck_assert_uint_eq(buf[i], 0xA5);
    }
}
END_TEST

static void expect_bad(const struct acpi_desc *d, uint64_t gpa)
{
    uint64_t rsdp = 0;
    const char *why = NULL;
    ck_assert_int_eq(acpi_build(d, buf, sizeof buf, gpa, &rsdp, NULL, &why), ACPI_BUILD_EDESC);
    ck_assert_ptr_nonnull(why);
}

START_TEST(test_bad_desc)
{
    struct acpi_desc d;
    expect_bad(NULL, GPA);
    d = desc_typical(); expect_bad(&d, GPA + 8);            /* RSDP not 16-byte aligned */
    d = desc_typical(); expect_bad(&d, 0xFFFFF000);          /* buffer crosses 4 GiB */
    d = desc_typical(); d.ncpus = 0; expect_bad(&d, GPA);
    d = desc_typical(); d.ncpus = ACPI_CPUS_MAX + 1; expect_bad(&d, GPA);
    d = desc_typical(); d.ioapic_base = 0xFEC00800; expect_bad(&d, GPA);
    d = desc_typical(); d.ioapic_base = 0x1FEC00000ull; expect_bad(&d, GPA);
    d = desc_typical(); d.ioapic_pins = 0; expect_bad(&d, GPA);
    d = desc_typical(); d.ioapic_id = 256; expect_bad(&d, GPA);
    d = desc_typical(); d.uart_gsi = 2; expect_bad(&d, GPA);   /* IRQ 0's GSI */
    d = desc_typical(); d.uart_gsi = 0; expect_bad(&d, GPA);
    d = desc_typical(); d.uart_gsi = 16; expect_bad(&d, GPA);  /* not an ISA IRQ */
    d = desc_typical(); d.uart_port = 0xFFFA; expect_bad(&d, GPA);
    d = desc_typical(); d.rtc_gsi = 17; expect_bad(&d, GPA);
    d = desc_typical(); d.power_port = 0xFFFD; expect_bad(&d, GPA);
    d = desc_typical(); d.pm_timer_port = 0xFFFD; expect_bad(&d, GPA);
    d = desc_typical(); d.nvirtio = ACPI_VIRTIO_MAX + 1; expect_bad(&d, GPA);
    d = desc_typical(); d.virtio[1].size = 0; expect_bad(&d, GPA);
    d = desc_typical(); d.virtio[1].base = 0x100000000ull; expect_bad(&d, GPA);
    d = desc_typical(); d.virtio[1].base = 0xFFFFFF00; expect_bad(&d, GPA);   /* wraps 4 GiB */
    d = desc_typical(); d.virtio[0].gsi = 24; expect_bad(&d, GPA);            /* not a pin */
    /* Limits themselves are fine. */
    d = desc_typical(); d.uart_gsi = 15; d.rtc_gsi = 1; d.power_port = 0xFFFC;
    uint64_t rsdp;
    ck_assert_int_eq(acpi_build(&d, buf, sizeof buf, GPA, &rsdp, NULL, NULL), ACPI_BUILD_OK);
}
END_TEST

/* The reset vector's code: these bytes disassemble (objdump -D -b binary
 * -m i8086) to mov $0x42,%al; mov $0x602,%dx; out %al,(%dx); hlt; jmp 0x6. */
START_TEST(test_reset_vector)
{
    static const uint8_t want[ACPI_RESET_VECTOR_BYTES] = { 0xB0, 0x42, 0xBA, 0x02, 0x06, 0xEE,
                                                         0xF4, 0xEB, 0xFD };
    uint8_t out[16];
    memset(out, 0xA5, sizeof out);
    acpi_reset_vector(ACPIPM_PORT + ACPIPM_RESET, ACPIPM_RESET_VALUE, out);
    ck_assert_int_eq(memcmp(out, want, sizeof want), 0);
    ck_assert_uint_eq(out[ACPI_RESET_VECTOR_BYTES], 0xA5);
    ck_assert_uint_le(ACPI_RESET_VECTOR_GPA + ACPI_RESET_VECTOR_BYTES,
                      ACPI_TABLES_GPA + ACPI_TABLES_SIZE);
}
END_TEST

/* ---- iasl ------------------------------------------------------------- */

static char dir[64];

/* Run `command` in dir with its output in dir/LOG. */
static void run_ok(const char *command, const char *log)
{
    char line[512];
    snprintf(line, sizeof line, "cd %s && %s >%s 2>&1", dir, command, log);
    ck_assert_msg(system(line) == 0, "failed: %s (see %s/%s)", command, dir, log);
}

static void file_write(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static size_t file_read(const char *name, uint8_t *p, size_t max)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "no %s", path);
    size_t n = fread(p, 1, max, f);
    fclose(f);
    return n;
}

/* Whether the file holds `text`. */
static bool file_has(const char *name, const char *text)
{
    static char content[1 << 20];
    size_t n = file_read(name, (uint8_t *)content, sizeof content - 1);
    content[n] = '\0';
    return strstr(content, text) != NULL;
}

/* Disassemble table t as NAME.dat, compile it back, compare. */
static void iasl_round_trip(const char *name, const uint8_t *t)
{
    static uint8_t again[ACPI_TABLES_SIZE];
    char file[32], command[128];
    size_t len = rd32(t + 4);

    snprintf(file, sizeof file, "%s.dat", name);
    file_write(file, t, len);
    snprintf(command, sizeof command, "iasl -d %s", file);
    run_ok(command, "disassemble.log");
    ck_assert_msg(!file_has("disassemble.log", "Warning") &&
                  !file_has("disassemble.log", "Error") &&
                  !file_has("disassemble.log", "Incorrect"),
                  "iasl -d %s complained: see %s/disassemble.log", file, dir);
    snprintf(command, sizeof command, "iasl -oa -p %s-again %s.dsl", name, name);
    run_ok(command, "compile.log");
    ck_assert(file_has("compile.log", "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks"));
    snprintf(file, sizeof file, "%s-again.aml", name);
    ck_assert_uint_eq(file_read(file, again, sizeof again), len);
    /* §5.2.6: byte 9 is the checksum, 28..35 the compiler's ID and revision. */
    for (size_t i = 0; i < len; i++)
        if (i != 9 && (i < 28 || i >= 36))
            ck_assert_msg(t[i] == again[i], "%s byte %zu: ours 0x%02x, iasl's 0x%02x", name, i,
                          t[i], again[i]);
    ck_assert_uint_eq(sum(again, len), 0);
}

static void iasl_all(const struct acpi_desc *d)
{
    snprintf(dir, sizeof dir, "/tmp/copra-acpi-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    size_t used = build(d);
    iasl_round_trip("xsdt", xsdt_of(used));
    iasl_round_trip("facp", fadt_of(used));
    iasl_round_trip("apic", madt_of(used));
    iasl_round_trip("dsdt", dsdt_of(used));
    ck_assert(file_has("facp.dsl", "Hardware Reduced (V5) : 1"));
    ck_assert(file_has("dsdt.dsl", "Name (_S5, Package (0x04)"));
    ck_assert(file_has("dsdt.dsl", "EisaId (\"PNP0501\")"));
    char command[96];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    ck_assert_int_eq(system(command), 0);
}

START_TEST(test_iasl_typical)
{
    struct acpi_desc d = desc_typical();
    iasl_all(&d);
}
END_TEST

START_TEST(test_iasl_max)
{
    struct acpi_desc d = desc_max();
    iasl_all(&d);
}
END_TEST

int main(int argc, char **argv)
{
    bool iasl = argc > 1 && strcmp(argv[1], "iasl") == 0;
    if (iasl && system("command -v iasl >/dev/null 2>&1") != 0) {
        printf("iasl is not installed (Debian: acpica-tools): skipped\n");
        return 77;
    }
    Suite *s = suite_create("acpi");
    TCase *t = tcase_create(iasl ? "iasl" : "acpi");
    tcase_set_timeout(t, 60);
    if (iasl) {
        tcase_add_test(t, test_iasl_typical);
        tcase_add_test(t, test_iasl_max);
    } else {
        tcase_add_test(t, test_rsdp_fields);
        tcase_add_test(t, test_fadt_fields);
        tcase_add_test(t, test_fadt_without_power_or_rtc);
        tcase_add_test(t, test_madt_entries);
        tcase_add_test(t, test_madt_no_pic_no_override);
        tcase_add_test(t, test_dsdt_contents);
        tcase_add_test(t, test_no_irq_devices);
        tcase_add_test(t, test_max_fits);
        tcase_add_test(t, test_too_small);
        tcase_add_test(t, test_bad_desc);
        tcase_add_test(t, test_reset_vector);
    }
    suite_add_tcase(s, t);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
