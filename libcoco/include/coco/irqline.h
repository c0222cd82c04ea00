/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines between device models and irqd (issue 5).
 *
 * One line per GSI is one event created by the VMM with EVENT_CREATE(1):
 * its one-page area holds a struct coco_irq_line at offset 0.  The device
 * model that drives the line holds a DUP with SIGNAL | MAP | TRANSFER;
 * irqd holds the original (it needs WAIT | MAP).
 *
 *   raise  (level high):  level = 1; raises++ (atomic); SIGNAL(event)
 *   lower  (level low):   level = 0; SIGNAL(event)
 *   pulse  (an edge):     level = 1; raises++; level = 0; one SIGNAL
 *
 * irqd, woken by the event, reads `level` for the line's current state and
 * compares `raises` with the count it saw last, so an edge that came and
 * went between two WAITs (a pulse, or a raise/lower pair) is not lost.
 * Only the driving device model writes the area; `gsi` is written once by
 * the VMM before either side starts and is informational.
 */
#ifndef COCO_IRQLINE_H
#define COCO_IRQLINE_H

#include <copra/abi.h>

struct coco_irq_line {
    volatile uint32_t level;     /* 1 while the line is asserted */
    uint32_t gsi;                /* the GSI this line drives */
    volatile uint64_t raises;    /* number of low -> high transitions (and pulses) */
};
COPRA_STATIC_ASSERT(sizeof(struct coco_irq_line) == 16, "irq line");
COPRA_STATIC_ASSERT(__builtin_offsetof(struct coco_irq_line, raises) == 8, "irq line raises");

/* Pages of a line event's area (EVENT_CREATE(COCO_IRQ_LINE_PAGES)). */
#define COCO_IRQ_LINE_PAGES 1u
/* Rights of the driver's DUP of a line event. */
#define COCO_IRQ_LINE_DRIVER_RIGHTS (COPRA_RIGHT_SIGNAL | COPRA_RIGHT_MAP | COPRA_RIGHT_TRANSFER)

#endif
