/* SPDX-License-Identifier: MIT */
/* The guest's ACPI tables (see acpi.h). */
#include "acpi.h"

#include <string.h>

#include "../devmodel/acpipm.h"

#define HEADER_BYTES     36u      /* §5.2.6, Table 5.4 */
#define RSDP_BYTES       36u      /* §5.2.5.3, Table 5.3 */
#define FADT_BYTES       276u     /* §5.2.9, Table 5.9: revision 6 */
#define TABLE_ALIGN      16u

#define OEM_ID           "COPRA "
#define OEM_TABLE_ID     "COPRAVM "
#define CREATOR_ID       "CPRA"
#define OEM_REVISION     1u
#define CREATOR_REVISION 1u

/* FADT flags (§5.2.9.3, Table 5.10) and IA-PC boot architecture flags
 * (§5.2.9.3, Table 5.11). */
#define FADT_WBINVD          (1u << 0)
#define FADT_PROC_C1         (1u << 2)
#define FADT_PWR_BUTTON      (1u << 4)   /* no fixed-feature power button */
#define FADT_SLP_BUTTON      (1u << 5)   /* no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT     (1u << 8)
#define FADT_RESET_REG_SUP   (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure (§5.2.3.2, Table 5.1). */
#define GAS_SYSTEM_IO        1u
#define GAS_ACCESS_BYTE      1u

/* MADT (§5.2.12, Table 5.43) and its structures (Table 5.45 ff.). */
#define MADT_PCAT_COMPAT     (1u << 0)
#define MADT_LAPIC           0u
#define MADT_IOAPIC          1u
#define MADT_ISO             2u
#define MADT_LAPIC_NMI       4u
#define MADT_ENABLED         (1u << 0)

/* AML (§20.2). */
#define AML_ZERO             0x00u
#define AML_ONE              0x01u
#define AML_NAME             0x08u
#define AML_BYTE             0x0Au
#define AML_WORD             0x0Bu
#define AML_DWORD            0x0Cu
#define AML_STRING           0x0Du
#define AML_QWORD            0x0Eu
#define AML_SCOPE            0x10u
#define AML_BUFFER           0x11u
#define AML_PACKAGE          0x12u
#define AML_EXT              0x5Bu
#define AML_DEVICE           0x82u   /* after AML_EXT */
#define AML_ROOT             0x5Cu   /* '\' */
#define AML_PKG_DEPTH        4u

/* Resource descriptors (§6.4). */
#define RES_IRQ_NOFLAGS      0x22u   /* small, type 4, 2 bytes: edge, active high */
#define RES_IO               0x47u   /* small, type 8, 7 bytes */
#define RES_END              0x79u   /* small, type 0xF, 1 byte */
#define RES_MEMORY32_FIXED   0x86u   /* large, 9 bytes */
#define RES_EXT_IRQ          0x89u   /* large */
#define RES_BYTES_MAX        64u

/* ---- Output buffer ---------------------------------------------------- */

struct out {
    uint8_t *buf;
    size_t len, pos;
    bool full;
};

static void put(struct out *o, const void *bytes, size_t n)
{
    if (o->full || n > o->len - o->pos) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->pos, bytes, n);
    o->pos += n;
}

static void put8(struct out *o, uint32_t v)
{
    uint8_t b = (uint8_t)v;
    put(o, &b, 1);
}

static void put16(struct out *o, uint32_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(o, b, 2);
}

static void put32(struct out *o, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(o, b, 4);
}

static void put64(struct out *o, uint64_t v)
{
    put32(o, (uint32_t)v);
    put32(o, (uint32_t)(v >> 32));
}

static void put_zeros(struct out *o, size_t n)
{
    static const uint8_t zeros[16];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(o, zeros, k);
        n -= k;
    }
}

static void align(struct out *o, size_t to)
{
    put_zeros(o, (to - o->pos % to) % to);
}

/* Overwrite 4 bytes at `at` (a length field written before it was known). */
static void patch32(struct out *o, size_t at, uint32_t v)
{
    if (o->full)
        return;
    for (unsigned i = 0; i < 4; i++)
        o->buf[at + i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)(0u - sum);
}

/* ---- Tables ----------------------------------------------------------- */

/* The description header (Table 5.4); its length and checksum are filled
 * by table_end(). */
static size_t table_begin(struct out *o, const char *signature, uint8_t revision)
{
    size_t start = o->pos;
    put(o, signature, 4);
    put32(o, 0);                      /* Length */
    put8(o, revision);
    put8(o, 0);                       /* Checksum */
    put(o, OEM_ID, 6);
    put(o, OEM_TABLE_ID, 8);
    put32(o, OEM_REVISION);
    put(o, CREATOR_ID, 4);
    put32(o, CREATOR_REVISION);
    return start;
}

static void table_end(struct out *o, size_t start)
{
    if (o->full)
        return;
    patch32(o, start + 4, (uint32_t)(o->pos - start));
    o->buf[start + 9] = checksum(o->buf + start, o->pos - start);
}

/* Generic Address Structure for an 8-bit SystemIO register (Table 5.1). */
static void put_gas_io8(struct out *o, uint16_t port)
{
    put8(o, GAS_SYSTEM_IO);
    put8(o, 8);                       /* Register Bit Width */
    put8(o, 0);                       /* Register Bit Offset */
    put8(o, GAS_ACCESS_BYTE);
    put64(o, port);
}

static void put_gas_none(struct out *o)
{
    put_zeros(o, 12);
}

static void fadt_write(struct out *o, const struct acpi_desc *d, uint64_t dsdt_gpa)
{
    uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
                     FADT_HW_REDUCED_ACPI;
    if (d->power_port != 0)
        flags |= FADT_RESET_REG_SUP;
    if (d->pm_timer_port != 0 && d->pm_timer_32bit)
        flags |= FADT_TMR_VAL_EXT;

    size_t start = table_begin(o, "FACP", 6);
    put32(o, 0);                      /*  36 FIRMWARE_CTRL: no FACS (hardware-reduced) */
    put32(o, 0);                      /*  40 DSDT: X_DSDT is used */
    put8(o, 0);                       /*  44 reserved */
    put8(o, 0);                       /*  45 Preferred_PM_Profile: unspecified */
    put16(o, 0);                      /*  46 SCI_INT: none */
    put32(o, 0);                      /*  48 SMI_CMD: no SMM, always in ACPI mode */
    put_zeros(o, 4);                  /*  52 ACPI_ENABLE .. PSTATE_CNT */
    put_zeros(o, 8 * 4);              /*  56 PM1a_EVT_BLK .. GPE1_BLK */
    put_zeros(o, 8);                  /*  88 PM1_EVT_LEN .. CST_CNT */
    if (d->pm_timer_port != 0) {
        patch32(o, start + 76, d->pm_timer_port);   /* 76 PM_TMR_BLK */
        if (!o->full)
            o->buf[start + 91] = 4;   /*  91 PM_TMR_LEN */
    }
    put16(o, 0);                      /*  96 P_LVL2_LAT */
    put16(o, 0);                      /*  98 P_LVL3_LAT */
    put_zeros(o, 4);                  /* 100 FLUSH_SIZE, FLUSH_STRIDE */
    put_zeros(o, 4);                  /* 104 DUTY_OFFSET .. MON_ALRM */
    put8(o, d->rtc ? ACPI_RTC_CENTURY : 0);   /* 108 CENTURY */
    /* 109 IAPC_BOOT_ARCH: no LEGACY_DEVICES (all are in the DSDT), no
     * 8042, no VGA, MSI not "not supported", CMOS RTC present (bit 5
     * clear) unless there is none. */
    put16(o, BOOT_ARCH_VGA_NOT_PRESENT | (d->rtc ? 0 : 1u << 5));
    put8(o, 0);                       /* 111 reserved */
    put32(o, flags);                  /* 112 Flags */
    if (d->power_port != 0)           /* 116 RESET_REG */
        put_gas_io8(o, (uint16_t)(d->power_port + ACPIPM_RESET));
    else
        put_gas_none(o);
    put8(o, d->power_port != 0 ? ACPIPM_RESET_VALUE : 0);   /* 128 RESET_VALUE */
    put16(o, 0);                      /* 129 ARM_BOOT_ARCH */
    put8(o, 0);                       /* 131 FADT Minor Version: ACPI 6.0 */
    put64(o, 0);                      /* 132 X_FIRMWARE_CTRL */
    put64(o, dsdt_gpa);               /* 140 X_DSDT */
    for (unsigned i = 0; i < 5; i++)  /* 148 X_PM1a_EVT_BLK .. X_PM2_CNT_BLK */
        put_gas_none(o);
    if (d->pm_timer_port != 0) {      /* 208 X_PM_TMR_BLK: a 32-bit register */
        put8(o, GAS_SYSTEM_IO);
        put8(o, 32);
        put8(o, 0);
        put8(o, 3);                   /* DWord access */
        put64(o, d->pm_timer_port);
    } else {
        put_gas_none(o);
    }
    put_gas_none(o);                  /* 220 X_GPE0_BLK */
    put_gas_none(o);                  /* 232 X_GPE1_BLK */
    if (d->power_port != 0) {
        put_gas_io8(o, (uint16_t)(d->power_port + ACPIPM_SLEEP_CONTROL));  /* 244 */
        put_gas_io8(o, (uint16_t)(d->power_port + ACPIPM_SLEEP_STATUS));   /* 256 */
    } else {
        put_gas_none(o);
        put_gas_none(o);
    }
    put(o, "COPRA\0\0\0", 8);         /* 268 Hypervisor Vendor Identity */
    table_end(o, start);
}

/* GSI 2 is an IOAPIC input: ISA IRQ 0 goes there (see madt_write()). */
static bool madt_has_irq0_override(const struct acpi_desc *d)
{
    return d->ioapic_gsi_base <= 2 && 2 < d->ioapic_gsi_base + d->ioapic_pins;
}

static size_t madt_bytes(const struct acpi_desc *d)
{
    return 44 + 8u * d->ncpus + 12 + (madt_has_irq0_override(d) ? 10 : 0) + 6;
}

static void madt_write(struct out *o, const struct acpi_desc *d)
{
    size_t start = table_begin(o, "APIC", 4);   /* revision 4: ACPI 6.0 */
    put32(o, ACPI_LAPIC_BASE);
    put32(o, d->pic ? MADT_PCAT_COMPAT : 0);
    for (unsigned i = 0; i < d->ncpus; i++) {   /* Processor Local APIC, Table 5.47 */
        put8(o, MADT_LAPIC);
        put8(o, 8);
        put8(o, i);                   /* ACPI Processor UID */
        put8(o, i);                   /* APIC ID */
        put32(o, MADT_ENABLED);
    }
    put8(o, MADT_IOAPIC);             /* I/O APIC, Table 5.49 */
    put8(o, 12);
    put8(o, d->ioapic_id);
    put8(o, 0);
    put32(o, (uint32_t)d->ioapic_base);
    put32(o, d->ioapic_gsi_base);
    /* Interrupt Source Override, Table 5.50: ISA IRQ 0 (the PIT) on GSI 2,
     * flags 0 = conforms to the ISA bus (edge, active high), as QEMU's pc.
     * Only where GSI 2 is an IOAPIC input. */
    if (madt_has_irq0_override(d)) {
        put8(o, MADT_ISO);
        put8(o, 10);
        put8(o, 0);                   /* Bus: ISA */
        put8(o, 0);                   /* Source: IRQ 0 */
        put32(o, 2);                  /* GSI */
        put16(o, 0);
    }
    put8(o, MADT_LAPIC_NMI);          /* Local APIC NMI, Table 5.54 */
    put8(o, 6);
    put8(o, 0xFF);                    /* every processor */
    put16(o, 0);                      /* flags: conforms to the bus */
    put8(o, 1);                       /* LINT1 */
    table_end(o, start);
}

/* ---- AML -------------------------------------------------------------- */

/* Open PkgLength fields: where each one's 4 reserved bytes start. */
struct aml {
    struct out *o;
    size_t open[AML_PKG_DEPTH];
    unsigned depth;
    bool error;
};

/* PkgLength (§20.2.4): reserve the longest encoding, shrink at the end. */
static void aml_pkg_begin(struct aml *a)
{
    if (a->depth == AML_PKG_DEPTH) {
        a->error = true;
        return;
    }
    a->open[a->depth++] = a->o->pos;
    put_zeros(a->o, 4);
}

static void aml_pkg_end(struct aml *a)
{
    struct out *o = a->o;
    if (a->depth == 0) {
        a->error = true;
        return;
    }
    size_t at = a->open[--a->depth];
    if (o->full)
        return;
    size_t body = o->pos - (at + 4);
    unsigned n = body + 1 <= 0x3F ? 1 : body + 2 < (1u << 12) ? 2 : body + 3 < (1u << 20) ? 3 : 4;
    size_t total = body + n;
    if (total >= (1u << 28)) {
        a->error = true;
        return;
    }
    memmove(o->buf + at + n, o->buf + at + 4, body);
    o->pos -= 4 - n;
    if (n == 1) {
        o->buf[at] = (uint8_t)total;
        return;
    }
    o->buf[at] = (uint8_t)((n - 1) << 6 | (total & 0xF));
    for (unsigned i = 1; i < n; i++)
        o->buf[at + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

/* ComputationalData integer (§20.2.3): the shortest encoding. */
static void aml_int(struct aml *a, uint64_t v)
{
    if (v == 0) {
        put8(a->o, AML_ZERO);
    } else if (v == 1) {
        put8(a->o, AML_ONE);
    } else if (v <= 0xFF) {
        put8(a->o, AML_BYTE);
        put8(a->o, (uint32_t)v);
    } else if (v <= 0xFFFF) {
        put8(a->o, AML_WORD);
        put16(a->o, (uint32_t)v);
    } else if (v <= 0xFFFFFFFFu) {
        put8(a->o, AML_DWORD);
        put32(a->o, (uint32_t)v);
    } else {
        put8(a->o, AML_QWORD);
        put64(a->o, v);
    }
}

/* A NameSeg: exactly four characters of [A-Z0-9_] (§20.2.2). */
static void aml_nameseg(struct aml *a, const char *seg)
{
    put(a->o, seg, 4);
}

static void aml_name_begin(struct aml *a, const char *seg)
{
    put8(a->o, AML_NAME);
    aml_nameseg(a, seg);
}

static void aml_name_int(struct aml *a, const char *seg, uint64_t v)
{
    aml_name_begin(a, seg);
    aml_int(a, v);
}

static void aml_name_string(struct aml *a, const char *seg, const char *s)
{
    aml_name_begin(a, seg);
    put8(a->o, AML_STRING);
    put(a->o, s, strlen(s) + 1);
}

/* EISAID("AAA####") (§6.1.5): three letters in 5 bits each and four hex
 * digits, stored most significant byte first. */
static uint32_t eisaid(const char *id)
{
    uint32_t v = (uint32_t)(id[0] - 0x40) << 26 | (uint32_t)(id[1] - 0x40) << 21 |
                 (uint32_t)(id[2] - 0x40) << 16;
    for (unsigned i = 3; i < 7; i++) {
        char c = id[i];
        uint32_t digit = (uint32_t)(c >= 'A' ? c - 'A' + 10 : c - '0');
        v |= digit << (4 * (6 - i));
    }
    return v >> 24 | (v >> 8 & 0xFF00) | (v << 8 & 0xFF0000) | v << 24;
}

/* A resource template being assembled before it becomes a Buffer. */
struct res {
    uint8_t bytes[RES_BYTES_MAX];
    struct out o;
};

static void res_init(struct res *r)
{
    r->o = (struct out){ .buf = r->bytes, .len = sizeof r->bytes };
}

/* I/O Port Descriptor (§6.4.2.5, Table 6.248): 16-bit decode, fixed base. */
static void res_io(struct res *r, uint16_t base, uint8_t length)
{
    put8(&r->o, RES_IO);
    put8(&r->o, 1);                   /* _DEC: 16-bit decode */
    put16(&r->o, base);               /* _MIN */
    put16(&r->o, base);               /* _MAX */
    put8(&r->o, 1);                   /* _ALN */
    put8(&r->o, length);              /* _LEN */
}

/* IRQ Descriptor without its information byte (§6.4.2.1, Table 6.245):
 * edge-triggered, active high, exclusive, as an ISA interrupt is. */
static void res_isa_irq(struct res *r, unsigned irq)
{
    put8(&r->o, RES_IRQ_NOFLAGS);
    put16(&r->o, 1u << irq);
}

/* 32-Bit Fixed Memory Range Descriptor (§6.4.3.4, Table 6.262), read-write. */
static void res_memory32_fixed(struct res *r, uint32_t base, uint32_t size)
{
    put8(&r->o, RES_MEMORY32_FIXED);
    put16(&r->o, 9);
    put8(&r->o, 1);                   /* _RW */
    put32(&r->o, base);
    put32(&r->o, size);
}

/* Extended Interrupt Descriptor (§6.4.3.6, Table 6.266): one GSI, consumer,
 * level-triggered (_HE 0), active high (_LL 0), exclusive (_SHR 0). */
static void res_level_irq(struct res *r, uint32_t gsi)
{
    put8(&r->o, RES_EXT_IRQ);
    put16(&r->o, 6);
    put8(&r->o, 1);                   /* consumer */
    put8(&r->o, 1);                   /* interrupt table length */
    put32(&r->o, gsi);
}

/* Name(_CRS, ResourceTemplate() {...}) with the End Tag (§6.4.2.9):
 * checksum 0 means "treat as correct". */
static void aml_crs(struct aml *a, struct res *r)
{
    put8(&r->o, RES_END);
    put8(&r->o, 0);
    if (r->o.full) {
        a->error = true;
        return;
    }
    aml_name_begin(a, "_CRS");
    put8(a->o, AML_BUFFER);
    aml_pkg_begin(a);
    aml_int(a, r->o.pos);             /* BufferSize */
    put(a->o, r->bytes, r->o.pos);
    aml_pkg_end(a);
}

/* Device(NAME) { ... }: call aml_device_end() after the contents. */
static void aml_device_begin(struct aml *a, const char *seg)
{
    put8(a->o, AML_EXT);
    put8(a->o, AML_DEVICE);
    aml_pkg_begin(a);
    aml_nameseg(a, seg);
}

static void aml_device_end(struct aml *a)
{
    aml_pkg_end(a);
}

static void dsdt_isa_device(struct aml *a, const char *seg, const char *pnp_id, unsigned uid,
                            uint16_t port, uint8_t ports, unsigned gsi)
{
    struct res r;

    aml_device_begin(a, seg);
    aml_name_int(a, "_HID", eisaid(pnp_id));
    aml_name_int(a, "_UID", uid);
    aml_name_int(a, "_STA", 0xF);     /* present, enabled, shown, functioning */
    res_init(&r);
    res_io(&r, port, ports);
    if (gsi != ACPI_NO_GSI)
        res_isa_irq(&r, gsi);         /* ISA IRQ = GSI: no override but IRQ 0's */
    aml_crs(a, &r);
    aml_device_end(a);
}

static void dsdt_write(struct out *o, const struct acpi_desc *d, bool *error)
{
    struct aml a = { .o = o };
    size_t start = table_begin(o, "DSDT", 2);   /* revision 2: 64-bit integers */

    put8(o, AML_SCOPE);               /* Scope(\_SB) */
    aml_pkg_begin(&a);
    put8(o, AML_ROOT);
    aml_nameseg(&a, "_SB_");
    if (d->uart)
        dsdt_isa_device(&a, "COM1", "PNP0501", 1, d->uart_port, ACPI_UART_PORTS, d->uart_gsi);
    if (d->rtc)
        dsdt_isa_device(&a, "RTC_", "PNP0B00", 0, ACPI_RTC_PORT, ACPI_RTC_PORTS, d->rtc_gsi);
    for (unsigned i = 0; i < d->nvirtio; i++) {
        const struct acpi_virtio_mmio *v = &d->virtio[i];
        char seg[5] = { 'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0 };
        struct res r;

        aml_device_begin(&a, seg);
        aml_name_string(&a, "_HID", "LNRO0005");   /* Linux's virtio_mmio ACPI ID */
        aml_name_int(&a, "_UID", i);
        aml_name_int(&a, "_CCA", 1);  /* cache-coherent DMA (§6.2.17) */
        res_init(&r);
        res_memory32_fixed(&r, (uint32_t)v->base, v->size);
        res_level_irq(&r, v->gsi);
        aml_crs(&a, &r);
        aml_device_end(&a);
    }
    aml_pkg_end(&a);

    /* Name(\_S5, Package() { SLP_TYP, 0, 0, 0 }) (§7.4.2): the sleep type
     * Linux writes to the sleep control register to power off.  At the
     * root: the DSDT's scope is \. */
    if (d->power_port != 0) {
        aml_name_begin(&a, "_S5_");
        put8(o, AML_PACKAGE);
        aml_pkg_begin(&a);
        put8(o, 4);                   /* NumElements */
        aml_int(&a, ACPIPM_SLP_TYP_S5);
        aml_int(&a, 0);               /* PM1b: none */
        aml_int(&a, 0);               /* reserved */
        aml_int(&a, 0);
        aml_pkg_end(&a);
    }
    table_end(o, start);
    *error = a.error || a.depth != 0;
}

/* ---- Checks and layout ------------------------------------------------ */

/* An ISA interrupt the DSDT can give with an IRQ descriptor: IRQ 0 is the
 * PIT's (GSI 2 by the override) and IRQ 2 the cascade, so neither. */
static bool isa_gsi_ok(unsigned gsi, const struct acpi_desc *d)
{
    if (gsi == ACPI_NO_GSI)
        return true;
    return gsi < 16 && gsi != 0 && gsi != 2 && gsi >= d->ioapic_gsi_base &&
           gsi < d->ioapic_gsi_base + d->ioapic_pins;
}

static const char *desc_check(const struct acpi_desc *d)
{
    if (d->ncpus == 0 || d->ncpus > ACPI_CPUS_MAX)
        return "CPU count outside 1..64";
    if (d->ioapic_base == 0 || d->ioapic_base % 4096 != 0 || d->ioapic_base >= (1ull << 32))
        return "IOAPIC base not a 4 KiB aligned address below 4 GiB";
    if (d->ioapic_id > 0xFF)
        return "IOAPIC ID above 255";
    if (d->ioapic_pins == 0 || d->ioapic_pins > 240 || d->ioapic_gsi_base > 0xFFFFu)
        return "IOAPIC pins outside 1..240 or GSI base too high";
    if (d->uart && (d->uart_port == 0 || d->uart_port > 0x10000u - ACPI_UART_PORTS ||
                    !isa_gsi_ok(d->uart_gsi, d)))
        return "UART port or ISA IRQ (1, 3..15 on the IOAPIC) out of range";
    if (d->rtc && !isa_gsi_ok(d->rtc_gsi, d))
        return "RTC ISA IRQ (1, 3..15 on the IOAPIC) out of range";
    if (d->pm_timer_port > 0x10000u - 4)
        return "PM timer port out of range";
    if (d->power_port > 0x10000u - ACPIPM_PORTS)
        return "power device port out of range";
    if (d->nvirtio > ACPI_VIRTIO_MAX)
        return "more than 8 virtio-mmio devices";
    for (unsigned i = 0; i < d->nvirtio; i++) {
        const struct acpi_virtio_mmio *v = &d->virtio[i];
        if (v->size == 0 || v->base >= (1ull << 32) || v->size > (1ull << 32) - v->base)
            return "virtio-mmio range empty or not below 4 GiB";
        if (v->gsi < d->ioapic_gsi_base || v->gsi >= d->ioapic_gsi_base + d->ioapic_pins)
            return "virtio-mmio GSI not an IOAPIC input";
    }
    return NULL;
}

enum acpi_build_status acpi_build(const struct acpi_desc *d, uint8_t *buf, size_t len,
                                  uint64_t buf_gpa, uint64_t *rsdp_gpa, size_t *used,
                                  const char **why)
{
    struct out o = { .buf = buf, .len = len };
    const char *problem = d == NULL ? "no description" : desc_check(d);
    bool aml_error = false;

    if (problem == NULL && (buf_gpa % TABLE_ALIGN != 0 || buf_gpa >= (1ull << 32) ||
                            len > (1ull << 32) - buf_gpa))
        problem = "buffer not 16-byte aligned below 4 GiB";
    if (problem != NULL) {
        if (why != NULL)
            *why = problem;
        return ACPI_BUILD_EDESC;
    }

    /* RSDP first (16-byte aligned), then the tables, each 16-byte aligned:
     * the offsets are known before anything is written except the DSDT's,
     * which comes last. */
    size_t rsdp = 0, xsdt = 64, fadt = xsdt + 64, madt = fadt + 288;
    size_t dsdt = madt + (madt_bytes(d) + TABLE_ALIGN - 1) / TABLE_ALIGN * TABLE_ALIGN;

    put(&o, "RSD PTR ", 8);           /* Table 5.3 */
    put8(&o, 0);                      /*  8 Checksum (first 20 bytes) */
    put(&o, OEM_ID, 6);               /*  9 OEMID */
    put8(&o, 2);                      /* 15 Revision: ACPI 2.0+ */
    put32(&o, 0);                     /* 16 RsdtAddress: XSDT only */
    put32(&o, RSDP_BYTES);            /* 20 Length */
    put64(&o, buf_gpa + xsdt);        /* 24 XsdtAddress */
    put8(&o, 0);                      /* 32 Extended Checksum */
    put_zeros(&o, 3);                 /* 33 reserved */
    if (!o.full) {
        buf[rsdp + 8] = checksum(buf + rsdp, 20);
        buf[rsdp + 32] = checksum(buf + rsdp, RSDP_BYTES);
    }
    align(&o, 64);

    size_t start = table_begin(&o, "XSDT", 1);   /* §5.2.8 */
    put64(&o, buf_gpa + fadt);
    put64(&o, buf_gpa + madt);
    table_end(&o, start);
    align(&o, 64);

    fadt_write(&o, d, buf_gpa + dsdt);
    align(&o, TABLE_ALIGN);
    madt_write(&o, d);
    align(&o, TABLE_ALIGN);
    if (!o.full && o.pos != dsdt) {   /* the layout above is wrong: a bug */
        if (why != NULL)
            *why = "internal layout error";
        return ACPI_BUILD_EDESC;
    }
    dsdt_write(&o, d, &aml_error);
    if (o.full) {
        if (why != NULL)
            *why = "buffer too small for the tables";
        return ACPI_BUILD_ENOSPC;
    }
    if (aml_error) {
        if (why != NULL)
            *why = "internal AML error";
        return ACPI_BUILD_EDESC;
    }
    *rsdp_gpa = buf_gpa + rsdp;
    if (used != NULL)
        *used = o.pos;
    if (why != NULL)
        *why = NULL;
    return ACPI_BUILD_OK;
}

void acpi_reset_vector(uint16_t reset_port, uint8_t reset_value, uint8_t *out)
{
    const uint8_t code[ACPI_RESET_VECTOR_BYTES] = {
        0xB0, reset_value,                                  /* mov al, imm8 */
        0xBA, (uint8_t)reset_port, (uint8_t)(reset_port >> 8),   /* mov dx, imm16 */
        0xEE,                                               /* out dx, al */
        0xF4,                                               /* hlt */
        0xEB, 0xFD,                                         /* jmp back to the hlt */
    };
    memcpy(out, code, sizeof code);
}
