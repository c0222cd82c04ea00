/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables the VMM gives a guest (a Linux guest finds them through
 * boot_params.acpi_rsdp_addr, or by scanning 0xE0000-0xFFFFF for the RSDP):
 * a hardware-reduced platform, as QEMU's microvm machine describes itself.
 *
 *   RSDP  revision 2, both checksums, XSDT only (RsdtAddress 0)
 *   XSDT  -> FADT, MADT
 *   FADT  revision 6 (276 bytes), HW_REDUCED_ACPI: no PM1 blocks, no GPEs,
 *         no SCI, no FACS; X_DSDT; with a power device, the reset register
 *         and the sleep control/status registers (8-bit, SystemIO) of the
 *         `acpipm` model (servers/devmodel/acpipm.h); CENTURY 0x32 with an
 *         RTC; X_PM_TMR_BLK with a PM timer
 *   MADT  LAPIC 0xFEE00000, one enabled Processor Local APIC per CPU (APIC
 *         ID = processor UID = index), the IOAPIC, the ISA override IRQ 0
 *         -> GSI 2 (QEMU pc's), LAPIC NMI on LINT1 for every processor
 *   DSDT  \_SB.COM1 (PNP0501), \_SB.RTC_ (PNP0B00), \_SB.VRnn (LNRO0005,
 *         virtio-mmio, as QEMU microvm's) and \_S5 for the power device
 *
 * acpi_build() is pure: no syscalls, no allocation, no libc beyond string.h;
 * it builds on the host for tests/unit/test_acpi.c.  The description is
 * the VMM's own (trusted), but every field is still checked, and every
 * write is bounded by the buffer.
 *
 * References: ACPI Specification 6.4 (§5.2.5.3 RSDP, §5.2.6 header, §5.2.8
 * XSDT, §5.2.9 FADT, §5.2.12 MADT, §6.4 resource descriptors, §7.4.2 \_Sx,
 * §20 AML encoding), §4.8.3.7-8 the sleep control and status registers.
 */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the VMM puts the tables: the top of the legacy BIOS area, which the
 * guest's e820 must list as reserved; the RSDP is the first thing there, so
 * a guest scanning 0xE0000-0xFFFFF on 16-byte boundaries finds it too. */
#define ACPI_TABLES_GPA     0xE0000ull
#define ACPI_TABLES_SIZE    0x20000u
/* What the largest description (ACPI_CPUS_MAX CPUs, ACPI_VIRTIO_MAX
 * devices, everything present) needs; tests/unit/test_acpi.c checks it. */
#define ACPI_TABLES_MAX_BYTES 4096u

#define ACPI_CPUS_MAX       64u    /* xAPIC entries: APIC IDs below 0xFF */
#define ACPI_VIRTIO_MAX     8u
#define ACPI_NO_GSI         0xFFFFFFFFu   /* a device without an interrupt */
#define ACPI_LAPIC_BASE     0xFEE00000u
#define ACPI_IOAPIC_BASE    0xFEC00000u
#define ACPI_IOAPIC_PINS    24u
#define ACPI_RTC_PORT       0x70u
#define ACPI_RTC_PORTS      2u    /* what the `rtc` model serves */
#define ACPI_RTC_CENTURY    0x32u /* the CMOS century byte (FADT CENTURY) */
#define ACPI_UART_PORTS     8u

/* One virtio-mmio transport (virtio 1.x §4.2). */
struct acpi_virtio_mmio {
    uint64_t base;                /* below 4 GiB: Memory32Fixed */
    uint32_t size;
    unsigned gsi;                 /* level-triggered, active high */
};

struct acpi_desc {
    unsigned ncpus;               /* 1..ACPI_CPUS_MAX; APIC ID = index */
    uint64_t ioapic_base;         /* 4 KiB aligned, below 4 GiB */
    unsigned ioapic_id;
    unsigned ioapic_gsi_base;     /* the IOAPIC's pins are GSIs base..base+pins-1 */
    unsigned ioapic_pins;         /* 1..240 */
    bool pic;                     /* 8259s present (irqd): MADT PCAT_COMPAT */

    bool uart;                    /* a 16550 at uart_port (DSDT COM1) */
    uint16_t uart_port;
    unsigned uart_gsi;            /* ISA IRQ 1, 3..15 (identity GSI), or ACPI_NO_GSI */

    bool rtc;                     /* MC146818 at 0x70 (DSDT RTC_, FADT CENTURY) */
    unsigned rtc_gsi;             /* ISA IRQ 1, 3..15, or ACPI_NO_GSI */

    uint16_t pm_timer_port;       /* ACPI PM timer (X_PM_TMR_BLK); 0: none */
    bool pm_timer_32bit;          /* FADT TMR_VAL_EXT */

    uint16_t power_port;          /* the acpipm model's first port; 0: none */

    unsigned nvirtio;             /* 0..ACPI_VIRTIO_MAX */
    struct acpi_virtio_mmio virtio[ACPI_VIRTIO_MAX];
};

enum acpi_build_status {
    ACPI_BUILD_OK = 0,
    ACPI_BUILD_EDESC,             /* a field of the description is out of range */
    ACPI_BUILD_ENOSPC,            /* the tables do not fit in the buffer */
};

/*
 * Write the tables for `d` into buf[0..len), which the guest sees at
 * buf_gpa (16-byte aligned, the whole buffer below 4 GiB); *rsdp_gpa gets
 * the RSDP's guest-physical address (buf_gpa: it comes first).  *used, if
 * not NULL, gets the bytes written.  On an error, *why (if not NULL) names
 * the problem and buf's contents are unspecified.
 */
enum acpi_build_status acpi_build(const struct acpi_desc *d, uint8_t *buf, size_t len,
                                  uint64_t buf_gpa, uint64_t *rsdp_gpa, size_t *used,
                                  const char **why);

/*
 * The x86 reset vector, F000:FFF0 (GPA 0xFFFF0, the last 16 bytes of the
 * tables' region), where a guest jumps to reboot "through the BIOS": there
 * a real PC starts its firmware again.  Linux 6.1 does that on a
 * hardware-reduced platform without EFI, where reboot_init() picks
 * BOOT_EFI (efi_reboot_required() is true with HW_REDUCED_ACPI), finds no
 * EFI and falls back to BOOT_BIOS, machine_real_restart() - the ACPI reset
 * register only with `reboot=acpi`.  Here the vector holds, in 16-bit real
 * mode, `mov al, VALUE; mov dx, PORT; out dx, al; hlt; jmp $-1`: the reset
 * request through the power device.  Writes ACPI_RESET_VECTOR_BYTES bytes.
 */
#define ACPI_RESET_VECTOR_GPA  0xFFFF0ull
#define ACPI_RESET_VECTOR_BYTES  9u
void acpi_reset_vector(uint16_t reset_port, uint8_t reset_value, uint8_t *out);

#endif
