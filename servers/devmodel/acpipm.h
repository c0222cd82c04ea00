/* SPDX-License-Identifier: MIT */
/*
 * The power registers of a hardware-reduced ACPI platform (program
 * `acpipm`, acpipm_main.c), four I/O ports from ACPIPM_PORT, each register
 * 8 bits wide as the FADT's Generic Address Structures say (the VMM builds
 * them, servers/vmm/acpi.c):
 *
 *   +0  sleep control (FADT SLEEP_CONTROL_REG, ACPI 6.4 §4.8.3.7, Table
 *       4.22): SLP_TYP bits 4:2, SLP_EN bit 5; reads 0.  SLP_EN with
 *       SLP_TYP = ACPIPM_SLP_TYP_S5 (the DSDT's \_S5) powers the VM off.
 *       Other sleep types are not supported: the write is logged (once per
 *       type) and WAK_STS set, so an OS waiting for the wake-up goes on.
 *   +1  sleep status (SLEEP_STATUS_REG, §4.8.3.8, Table 4.23): WAK_STS bit
 *       7, write 1 to clear; other bits read 0.
 *   +2  reset (FADT RESET_REG, §4.8.3.6): writing ACPIPM_RESET_VALUE resets
 *       the VM; other values are ignored.  Reads 0.
 *   +3  reserved: reads 0, writes ignored.
 *
 * The sleep type and reset value are QEMU microvm's (its generic event
 * device has the same three registers).  Wider accesses act on each byte
 * in turn, lowest port first.
 */
#ifndef DEVMODEL_ACPIPM_H
#define DEVMODEL_ACPIPM_H

#include <stdbool.h>
#include <stdint.h>

/* 0x600: where QEMU pc's PM block sits under SeaBIOS; `pmtimer` uses 0x608. */
#define ACPIPM_PORT           0x600u   /* default; `device acpipm base=PORT` moves it */
#define ACPIPM_PORTS          4u
#define ACPIPM_SLEEP_CONTROL  0u    /* register offsets */
#define ACPIPM_SLEEP_STATUS   1u
#define ACPIPM_RESET          2u

#define ACPIPM_SLP_TYP_SHIFT  2u
#define ACPIPM_SLP_TYP_MASK   0x1Cu
#define ACPIPM_SLP_EN         0x20u
#define ACPIPM_WAK_STS        0x80u
#define ACPIPM_SLP_TYP_S5     5u
#define ACPIPM_RESET_VALUE    0x42u

/* The exit statuses by which the model asks the VMM to power the VM off or
 * reset it (servers/vmm/devmodels.c): above a fault's 0x100 + vector, and
 * distinct from each other for COPRA_VCPUS_MAX (64) VCPUs. */
#define ACPIPM_STATUS_POWEROFF_BASE 0x4000
#define ACPIPM_STATUS_RESET_BASE    0x4100
#define ACPIPM_STATUS_POWEROFF(vcpu) (ACPIPM_STATUS_POWEROFF_BASE | (int)(vcpu))
#define ACPIPM_STATUS_RESET(vcpu)    (ACPIPM_STATUS_RESET_BASE | (int)(vcpu))

enum acpipm_action {
    ACPIPM_NONE = 0,
    ACPIPM_POWEROFF,              /* SLP_EN with SLP_TYP S5 */
    ACPIPM_RESET_REQUEST,         /* ACPIPM_RESET_VALUE at the reset register */
    ACPIPM_SLEEP_IGNORED,         /* SLP_EN with another type: WAK_STS set */
};

struct acpipm {
    uint8_t status;               /* the sleep status register */
    uint8_t ignored_types;        /* sleep types already logged, one bit each */
};

void acpipm_init(struct acpipm *p);
/* A read of `size` bytes at `offset` from ACPIPM_PORT. */
uint64_t acpipm_read(const struct acpipm *p, unsigned offset, unsigned size);
/* A write of `size` bytes at `offset`: ACPIPM_POWEROFF or
 * ACPIPM_RESET_REQUEST if a byte asks for one (the bytes after it are not
 * applied: the VM is going away), else ACPIPM_SLEEP_IGNORED if one asked
 * for another sleep type (*sleep_type says which), else ACPIPM_NONE. */
enum acpipm_action acpipm_write(struct acpipm *p, unsigned offset, unsigned size, uint64_t value,
                                unsigned *sleep_type);
/* Whether sleep type `type` is ignored for the first time (log it then). */
bool acpipm_first_ignored(struct acpipm *p, unsigned type);

#endif
