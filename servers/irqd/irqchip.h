/* SPDX-License-Identifier: MIT */
/*
 * The interrupt controllers of one VM wired together as on a PC: the PIC
 * pair, one IOAPIC and a LAPIC per VCPU on one APIC bus.
 *
 * Lines: GSI g drives IOAPIC pin g (g < 24) and, for the ISA range, PIC
 * input g, except that ISA IRQ 0 is GSI 2 (the usual MADT interrupt source
 * override) and GSI 0 reaches no PIC input.  A line is delivered through
 * the IOAPIC while its redirection entry is unmasked, otherwise through
 * the PIC (pic_set_diverted() hides it from the PIC meanwhile).
 *
 * The PIC's INT output reaches the first VCPU whose LAPIC takes it
 * (lapic_accepts_pic(): LINT0 in ExtINT mode, or VCPU 0 with its LAPIC
 * software-disabled); an IOAPIC entry in ExtINT mode fetches the vector
 * from the PIC the same way.  Either way the PIC's vector (ICW2 base +
 * IRQ) is injected directly, bypassing the LAPIC's IRR and ISR, and the
 * guest acknowledges it with an EOI to the PIC.
 *
 * irqchip_evaluate() collects what must be injected in `inject[]` (the
 * caller issues IRQ_INJECT for each and clears `ninject`): the PIC's
 * vectors, NMI, INIT, SIPI, TPR changes, and one IRQCHIP_VECTOR_POSTED per
 * LAPIC whose IRR in the virtual-APIC page gained vectors, which the
 * kernel then delivers itself; a LAPIC with `timer_changed` needs its
 * kernel timer re-bound and re-armed.  Pure logic: time comes
 * from the `clock` callback, asked only when a LAPIC timer register is
 * touched.
 */
#ifndef IRQD_IRQCHIP_H
#define IRQD_IRQCHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "ioapic.h"
#include "lapic.h"
#include "pic.h"

#define IRQCHIP_VCPUS_MAX  64u
#define IRQCHIP_GSIS       IOAPIC_PINS
#define IRQCHIP_INJECT_MAX 256u
#define IRQCHIP_VECTOR_NMI 0x100u     /* = COPRA_IRQ_NMI */
#define IRQCHIP_VECTOR_INIT 0x101u    /* = COPRA_IRQ_INIT */
#define IRQCHIP_VECTOR_SIPI(v) (0x200u | ((v) & 0xFFu))   /* = COPRA_IRQ_SIPI(v) */
#define IRQCHIP_VECTOR_TPR(c) (0x300u | ((c) & 0xFu))      /* = COPRA_IRQ_TPR(c): CR8 follows TPR */
#define IRQCHIP_VECTOR_POSTED 0x102u  /* = COPRA_IRQ_POSTED: the LAPIC's IRR has new vectors */
#define IRQCHIP_NO_PIC_IRQ 0xFFu

struct irqchip_injection {
    uint16_t vcpu;
    uint16_t vector;          /* 0x10..0xff (the PIC's), IRQCHIP_VECTOR_NMI, _INIT, _SIPI(v), _TPR(c), _POSTED */
};

struct irqchip_stats {
    uint64_t injected;        /* vectors handed out in inject[] */
    uint64_t pic_injected;    /* of those, from the PIC */
    uint64_t dropped;         /* inject[] was full */
    uint64_t low_vectors;     /* PIC vectors below 0x10 the kernel cannot inject */
    uint64_t ignored_messages;/* INIT, STARTUP, SMI: not modelled */
    uint64_t undelivered;     /* messages no LAPIC accepted */
};

struct irqchip {
    unsigned nvcpus;
    struct pic pic;
    struct ioapic ioapic;
    struct lapic lapic[IRQCHIP_VCPUS_MAX];
    struct copra_vapic_page own_pages[IRQCHIP_VCPUS_MAX];   /* without the kernel's (tests) */
    uint64_t (*clock)(void *ctx);
    void *clock_ctx;
    struct irqchip_injection inject[IRQCHIP_INJECT_MAX];
    unsigned ninject;
    struct irqchip_stats stats;
};

/* Everything at its reset state for `nvcpus` (1..IRQCHIP_VCPUS_MAX) VCPUs,
 * whose virtual-APIC pages are pages[0..nvcpus) (NULL: the chip's own). */
void irqchip_init(struct irqchip *chip, unsigned nvcpus, struct copra_vapic_page *const *pages,
                  uint64_t (*clock)(void *ctx), void *clock_ctx);

/* The PIC input of GSI `gsi`, or IRQCHIP_NO_PIC_IRQ. */
unsigned irqchip_gsi_to_pic(unsigned gsi);

/* Line `gsi` now has `level`, with `edges` low->high transitions since the
 * last call. */
void irqchip_set_line(struct irqchip *chip, unsigned gsi, bool level, unsigned edges);

/* Port I/O on the PIC pair (0x20, 0x21, 0xA0, 0xA1) and the ELCR (0x4D0,
 * 0x4D1).  Other ports read all-ones.  Multi-byte accesses cover
 * consecutive ports, one byte each. */
uint32_t irqchip_port_read(struct irqchip *chip, uint16_t port, unsigned size);
void irqchip_port_write(struct irqchip *chip, uint16_t port, unsigned size, uint32_t value);

/* MMIO on the IOAPIC and on the LAPIC of VCPU `vcpu` (offsets in the page). */
uint32_t irqchip_ioapic_read(struct irqchip *chip, uint32_t offset, unsigned size);
void irqchip_ioapic_write(struct irqchip *chip, uint32_t offset, unsigned size, uint32_t value);
uint32_t irqchip_lapic_read(struct irqchip *chip, unsigned vcpu, uint32_t offset, unsigned size);
void irqchip_lapic_write(struct irqchip *chip, unsigned vcpu, uint32_t offset, unsigned size,
                         uint32_t value);

/* The kernel timer of VCPU `vcpu`'s LAPIC expired. */
void irqchip_timer_fired(struct irqchip *chip, unsigned vcpu);

/* Deliver a message on the APIC bus (IOAPIC or IPI). */
bool irqchip_deliver(void *chip, const struct apic_message *m);

/* Work out what can be injected now: the PIC's vector if a VCPU takes it,
 * then each LAPIC's deliverable vectors, appended to inject[]. */
void irqchip_evaluate(struct irqchip *chip);

#endif
