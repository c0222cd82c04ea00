/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC (Intel 82093AA datasheet, order no. 290566), memory-mapped
 * at 0xFEC00000: IOREGSEL at offset 0x00 selects a register, IOWIN at 0x10
 * reads or writes it.  Registers: 0x00 ID (bits 24-27), 0x01 version
 * (0x00170011: version 0x11, 24 redirection entries), 0x02 arbitration ID,
 * 0x10 + 2n / 0x11 + 2n the low / high half of redirection entry n.
 *
 * A redirection entry: vector (0-7), delivery mode (8-10: fixed, lowest
 * priority, SMI, NMI, INIT, ExtINT), destination mode (11: logical), delivery
 * status (12, read-only, always 0: a message is delivered at once), polarity
 * (13), remote IRR (14, read-only), trigger mode (15: level), mask (16),
 * destination (56-63).
 *
 * Pins carry the *asserted* state of their line (struct coco_irq_line's
 * `level`): a device model does not know how the board wires it, so the
 * polarity bit is kept for the guest to read back but does not invert
 * anything.  Edge-triggered pins deliver once per low-to-high edge (pulses
 * included); a masked pin ignores edges (datasheet, "Interrupt Mask").  A
 * level-triggered pin delivers while asserted, unmasked and with remote
 * IRR clear, and sets remote IRR when a LAPIC accepted the message; the
 * EOI broadcast of a LAPIC (version 0x11 has no EOI register) clears the
 * remote IRR of the level entries with that vector and, if the line is
 * still asserted, delivers again.  Setting an entry's trigger mode to edge
 * clears its remote IRR, the way Linux's "mask, set edge, set level"
 * workaround for version-0x11 IOAPICs expects.
 *
 * Pure logic: messages leave through the `deliver` callback given to
 * ioapic_reset().
 */
#ifndef IRQD_IOAPIC_H
#define IRQD_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "lapic.h"

#define IOAPIC_BASE     0xFEC00000ull
#define IOAPIC_SIZE     0x1000u
#define IOAPIC_PINS     24u
#define IOAPIC_VERSION  0x00170011u

#define IOAPIC_REGSEL   0x00u
#define IOAPIC_WINDOW   0x10u

#define IOAPIC_REG_ID          0x00u
#define IOAPIC_REG_VERSION     0x01u
#define IOAPIC_REG_ARBITRATION 0x02u
#define IOAPIC_REG_REDIR       0x10u

#define IOAPIC_REDIR_DELIVERY_STATUS (1ull << 12)
#define IOAPIC_REDIR_POLARITY_LOW    (1ull << 13)
#define IOAPIC_REDIR_REMOTE_IRR      (1ull << 14)
#define IOAPIC_REDIR_LEVEL           (1ull << 15)
#define IOAPIC_REDIR_MASKED          (1ull << 16)

/* Deliver `m` to the LAPICs; true if at least one accepted it. */
typedef bool (*ioapic_deliver_fn)(void *ctx, const struct apic_message *m);

struct ioapic {
    uint32_t id;              /* register 0x00 */
    uint8_t select;           /* IOREGSEL */
    uint64_t redir[IOAPIC_PINS];
    uint32_t asserted;        /* current line state per pin */
    ioapic_deliver_fn deliver;
    void *ctx;
};

/* Reset state: every entry masked, everything else 0. */
void ioapic_reset(struct ioapic *io, ioapic_deliver_fn deliver, void *ctx);

/* MMIO at `offset` (< IOAPIC_SIZE): IOREGSEL takes any size (its low byte
 * is the index); IOWIN 4 bytes (smaller reads return the low bytes). */
uint32_t ioapic_read(struct ioapic *io, uint32_t offset, unsigned size);
void ioapic_write(struct ioapic *io, uint32_t offset, unsigned size, uint32_t value);

/* Pin input: current `level` and `edges` low->high transitions since the
 * last call. */
void ioapic_set_line(struct ioapic *io, unsigned pin, bool level, unsigned edges);

/* A LAPIC's EOI broadcast for a level-triggered `vector`. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

static inline bool ioapic_pin_masked(const struct ioapic *io, unsigned pin)
{
    return pin >= IOAPIC_PINS || (io->redir[pin] & IOAPIC_REDIR_MASKED) != 0;
}

#endif
