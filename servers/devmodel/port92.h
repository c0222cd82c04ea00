/* SPDX-License-Identifier: MIT */
/*
 * System Control Port A, I/O port 0x92 (program `port92`, port92_main.c),
 * as QEMU's pc machine has it (hw/i386/port92.c):
 *
 *   bit 1  fast A20 gate: recorded and read back.  Copra maps guest RAM
 *          1:1 with no A20 wrap, so the gate changes no address: a guest
 *          that turns A20 off still sees 1 MiB and up (QEMU would wrap).
 *   bit 0  reset: writing it 1 while it reads 0 asks for a system reset
 *          (port92_write() returns true); QEMU clears it at reset.
 *   other  bits read back what was written, as in QEMU.
 *
 * Power-on value PORT92_POWER_ON: A20 on, as the firmware leaves it and
 * multiboot requires (on QEMU, SeaBIOS enables it through this port).
 */
#ifndef DEVMODEL_PORT92_H
#define DEVMODEL_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#define PORT92_PORT      0x92u
#define PORT92_RESET     0x01u
#define PORT92_A20       0x02u
#define PORT92_POWER_ON  PORT92_A20

/* The exit status by which the model asks the VMM for a reset: the VMM
 * (servers/vmm/devmodels.c) treats it as it treats a triple fault. */
#define PORT92_STATUS_RESET_BASE 0x2000
#define PORT92_STATUS_RESET(vcpu) (PORT92_STATUS_RESET_BASE | (int)(vcpu))

struct port92 {
    uint8_t value;
};

void port92_init(struct port92 *p);
uint8_t port92_read(const struct port92 *p);
/* Store `value`; true if it asks for a reset (bit 0 going 0 -> 1). */
bool port92_write(struct port92 *p, uint8_t value);
/* Whether the A20 gate is on. */
bool port92_a20(const struct port92 *p);

#endif
