/* SPDX-License-Identifier: MIT */
/*
 * The 8259A PIC pair of a PC (Intel 8259A datasheet, order no. 231468):
 * master at ports 0x20/0x21, slave at 0xA0/0xA1 cascaded on the master's
 * IR2, and the edge/level control registers (ELCR) at 0x4D0/0x4D1 of the
 * PIIX/ICH south bridges.
 *
 * Modelled: the ICW1-ICW4 initialisation sequence (ICW2 vector base, ICW3
 * cascade, ICW4 with auto-EOI honoured), OCW1 (the mask), OCW2
 * (non-specific and specific EOI; the rotate variants act as the plain
 * EOIs, since priority rotation is not modelled), OCW3 (read IRR or ISR,
 * poll), fixed priority IR0 > ... > IR7 with the slave at master IR2, and
 * per-line edge or level sensing from the ELCR.  Not modelled: priority
 * rotation, special mask mode, special fully nested mode, buffered mode,
 * 8080/8085 mode (ICW1 bits 2 and 1 are stored, not acted upon, except
 * SNGL: a single PIC does not read ICW3).
 *
 * Pure logic: no syscalls; the caller (irqchip.c) feeds line changes and
 * port accesses in and takes vectors out with pic_intack().
 */
#ifndef IRQD_PIC_H
#define IRQD_PIC_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_PORT 0x20u
#define PIC_SLAVE_PORT  0xA0u
#define PIC_ELCR_PORT   0x4D0u
#define PIC_CASCADE_IRQ 2u      /* the slave's INT drives master IR2 */
#define PIC_IRQS        16u

/* ELCR bits that must stay 0 (edge): IRQ 0, 1, 2, 8 and 13 (PIIX4 §4.1.11). */
#define PIC_ELCR_MASTER_WRITABLE 0xF8u
#define PIC_ELCR_SLAVE_WRITABLE  0xDEu

/* Where the chip is in the initialisation sequence. */
enum pic_init_state {
    PIC_READY = 0,       /* initialised (or never): data port writes are OCW1 */
    PIC_WANT_ICW2,
    PIC_WANT_ICW3,
    PIC_WANT_ICW4,
};

struct pic_chip {
    uint8_t irr;         /* interrupt request register */
    uint8_t isr;         /* in-service register */
    uint8_t imr;         /* interrupt mask register (OCW1) */
    uint8_t level;       /* current input levels, for edge detection */
    uint8_t elcr;        /* 1 = level-sensitive input */
    uint8_t elcr_writable;
    uint8_t icw1, icw2, icw3, icw4;
    uint8_t vector_base; /* ICW2 & 0xF8 */
    bool auto_eoi;       /* ICW4 bit 1 */
    bool read_isr;       /* OCW3: the command port reads ISR, else IRR */
    bool poll;           /* OCW3 poll command: the next command-port read polls */
    bool special_mask;   /* OCW3 SMM, stored only */
    enum pic_init_state init;
};

struct pic {
    struct pic_chip chip[2];   /* [0] master, [1] slave */
    uint16_t diverted;         /* IRQs the IOAPIC delivers: never presented */
};

/* Power-on state: both chips uninitialised, all lines unmasked as the
 * 8259A comes out of reset (IMR 0), vector bases 0x08 and 0x70 as a PC
 * BIOS leaves them (irqd cannot inject vectors below 0x10: a guest must
 * program ICW2 before using the PIC). */
void pic_reset(struct pic *pic);

/* Input line `irq` (0..15): current `level` and `edges` low->high
 * transitions since the last call (a pulse has level 0, edges 1).  An
 * edge-sensitive input latches IRR on any edge; a level-sensitive one has
 * IRR follow the level. */
void pic_set_line(struct pic *pic, unsigned irq, bool level, unsigned edges);

/* IRQs (bit n = IRQ n) whose line the IOAPIC delivers instead: the PIC
 * keeps tracking them (IRR reads show them) but does not present them on
 * INT, as if masked.  The cascade input is never diverted. */
void pic_set_diverted(struct pic *pic, uint16_t irqs);

/* Port access: `port` is one of 0x20, 0x21, 0xA0, 0xA1 (8-bit). */
uint8_t pic_read(struct pic *pic, uint16_t port);
void pic_write(struct pic *pic, uint16_t port, uint8_t value);

/* ELCR at 0x4D0 (IRQ 0-7) and 0x4D1 (IRQ 8-15). */
uint8_t pic_elcr_read(const struct pic *pic, uint16_t port);
void pic_elcr_write(struct pic *pic, uint16_t port, uint8_t value);

/* The master's INT output: an unmasked request above everything in
 * service is waiting for an interrupt acknowledge. */
bool pic_output(const struct pic *pic);

/* The interrupt acknowledge cycle: the vector the pair puts on the bus
 * (IRR -> ISR on the master, and on the slave for a cascaded request).
 * Without a request it returns the spurious IRQ 7 vector of the chip
 * concerned (datasheet: "IR7 default"), with nothing set in service. */
uint8_t pic_intack(struct pic *pic);

#endif
