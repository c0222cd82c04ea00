/* SPDX-License-Identifier: MIT */
/* The 8259A PIC pair and the ELCR (pic.h). */
#include "pic.h"

#define ICW1_IC4   0x01u   /* ICW4 follows */
#define ICW1_SNGL  0x02u   /* single PIC: no ICW3 */
#define ICW1_INIT  0x10u   /* command-port write with bit 4 set: ICW1 */
#define OCW3_FLAG  0x08u   /* command-port write with bit 3 set (bit 4 clear): OCW3 */
#define OCW3_RIS   0x01u
#define OCW3_RR    0x02u
#define OCW3_POLL  0x04u
#define OCW3_SMM   0x20u
#define OCW3_ESMM  0x40u
#define ICW4_AEOI  0x02u
#define SPURIOUS_IRQ 7u

void pic_reset(struct pic *pic)
{
    for (unsigned i = 0; i < 2; i++) {
        struct pic_chip *c = &pic->chip[i];
        *c = (struct pic_chip){ .vector_base = i == 0 ? 0x08 : 0x70 };
        pic->diverted = 0;
        c->elcr_writable = i == 0 ? PIC_ELCR_MASTER_WRITABLE : PIC_ELCR_SLAVE_WRITABLE;
    }
}

/* Lowest set bit = highest priority (fixed priority, IR0 first); 8 if none. */
static unsigned highest(uint8_t bits)
{
    return bits ? (unsigned)__builtin_ctz(bits) : 8u;
}

static bool slave_output(const struct pic *pic);

/* IRR as the priority logic sees it: the master's IR2 is the slave's INT
 * output, a level (treating it as an edge would lose a second slave request
 * that is already pending when the first one is acknowledged). */
static uint8_t effective_irr(const struct pic *pic, unsigned chip)
{
    uint8_t irr = pic->chip[chip].irr;
    if (chip == 0) {
        irr &= (uint8_t)~(1u << PIC_CASCADE_IRQ);
        if (slave_output(pic))
            irr |= 1u << PIC_CASCADE_IRQ;
    }
    return irr;
}

/* The request the chip would present: unmasked, and of higher priority than
 * everything in service (fully nested mode).  8 if none. */
static unsigned chip_pending(const struct pic *pic, unsigned chip)
{
    const struct pic_chip *c = &pic->chip[chip];
    uint8_t diverted = (uint8_t)(pic->diverted >> (8 * chip));
    unsigned request = highest(effective_irr(pic, chip) & (uint8_t)~(c->imr | diverted));
    return request < highest(c->isr) ? request : 8u;
}

static bool slave_output(const struct pic *pic)
{
    return chip_pending(pic, 1) < 8;
}

void pic_set_diverted(struct pic *pic, uint16_t irqs)
{
    pic->diverted = irqs & (uint16_t)~(1u << PIC_CASCADE_IRQ);
}

bool pic_output(const struct pic *pic)
{
    return chip_pending(pic, 0) < 8;
}

void pic_set_line(struct pic *pic, unsigned irq, bool level, unsigned edges)
{
    if (irq >= PIC_IRQS)
        return;
    struct pic_chip *c = &pic->chip[irq / 8];
    uint8_t bit = (uint8_t)(1u << (irq % 8));

    if (level)
        c->level |= bit;
    else
        c->level &= (uint8_t)~bit;
    if (c->elcr & bit) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= (uint8_t)~bit;
    } else if (edges > 0) {
        c->irr |= bit;
    }
}

/* Acknowledge `irq` on one chip: in service unless auto-EOI; an edge
 * request is consumed, a level request stays while the line is high. */
static void chip_ack(struct pic_chip *c, unsigned irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (!c->auto_eoi)
        c->isr |= bit;
    if (!(c->elcr & bit))
        c->irr &= (uint8_t)~bit;
}

uint8_t pic_intack(struct pic *pic)
{
    struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    unsigned irq = chip_pending(pic, 0);

    if (irq >= 8)
        return (uint8_t)(m->vector_base + SPURIOUS_IRQ);
    if (irq != PIC_CASCADE_IRQ) {
        chip_ack(m, irq);
        return (uint8_t)(m->vector_base + irq);
    }
    unsigned sirq = chip_pending(pic, 1);
    if (!m->auto_eoi)
        m->isr |= 1u << PIC_CASCADE_IRQ;
    if (sirq >= 8)
        return (uint8_t)(s->vector_base + SPURIOUS_IRQ);
    chip_ack(s, sirq);
    return (uint8_t)(s->vector_base + sirq);
}

static void chip_icw1(struct pic_chip *c, uint8_t value)
{
    /* Datasheet, "Initialization command words": the mask is cleared, the
     * edge sense circuit is reset (an edge input needs a fresh low-to-high
     * transition), IR7 gets the lowest priority, the special mask mode is
     * cleared and the status read is set to IRR; without IC4 all ICW4
     * functions are zero. */
    c->icw1 = value;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->elcr & c->level;
    c->read_isr = false;
    c->poll = false;
    c->special_mask = false;
    c->icw4 = 0;
    c->auto_eoi = false;
    c->init = PIC_WANT_ICW2;
}

static void chip_ocw2(struct pic_chip *c, uint8_t value)
{
    switch (value >> 5) {
    case 1:   /* non-specific EOI */
    case 5:   /* rotate on non-specific EOI: rotation not modelled */
        if (c->isr)
            c->isr &= (uint8_t)(c->isr - 1);   /* clear the lowest set bit */
        break;
    case 3:   /* specific EOI */
    case 7:   /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << (value & 7));
        break;
    default:  /* rotate in auto-EOI set/clear, set priority, no operation */
        break;
    }
}

static void chip_ocw3(struct pic_chip *c, uint8_t value)
{
    if (value & OCW3_RR)
        c->read_isr = (value & OCW3_RIS) != 0;
    if (value & OCW3_POLL)
        c->poll = true;
    if (value & OCW3_ESMM)
        c->special_mask = (value & OCW3_SMM) != 0;
}

static void chip_data_write(struct pic_chip *c, uint8_t value)
{
    switch (c->init) {
    case PIC_WANT_ICW2:
        c->icw2 = value;
        c->vector_base = value & 0xF8u;
        if (!(c->icw1 & ICW1_SNGL))
            c->init = PIC_WANT_ICW3;
        else
            c->init = (c->icw1 & ICW1_IC4) ? PIC_WANT_ICW4 : PIC_READY;
        break;
    case PIC_WANT_ICW3:
        c->icw3 = value;
        c->init = (c->icw1 & ICW1_IC4) ? PIC_WANT_ICW4 : PIC_READY;
        break;
    case PIC_WANT_ICW4:
        c->icw4 = value;
        c->auto_eoi = (value & ICW4_AEOI) != 0;
        c->init = PIC_READY;
        break;
    case PIC_READY:
        c->imr = value;   /* OCW1 */
        break;
    }
}

void pic_write(struct pic *pic, uint16_t port, uint8_t value)
{
    unsigned chip = (port & 0x80u) ? 1 : 0;
    struct pic_chip *c = &pic->chip[chip];

    if (port & 1u) {
        chip_data_write(c, value);
        return;
    }
    if (value & ICW1_INIT)
        chip_icw1(c, value);
    else if (value & OCW3_FLAG)
        chip_ocw3(c, value);
    else
        chip_ocw2(c, value);
}

uint8_t pic_read(struct pic *pic, uint16_t port)
{
    unsigned chip = (port & 0x80u) ? 1 : 0;
    struct pic_chip *c = &pic->chip[chip];

    if (port & 1u)
        return c->imr;
    if (c->poll) {
        /* Poll: the command port reads 0x80 | level of the highest request
         * and that request is acknowledged as by an INTA (datasheet, "The
         * poll command"). */
        c->poll = false;
        unsigned irq = chip_pending(pic, chip);
        if (irq >= 8)
            return 0;
        if (chip == 0 && irq == PIC_CASCADE_IRQ) {
            if (!c->auto_eoi)
                c->isr |= 1u << PIC_CASCADE_IRQ;
        } else {
            chip_ack(c, irq);
        }
        return (uint8_t)(0x80u | irq);
    }
    return c->read_isr ? c->isr : effective_irr(pic, chip);
}

uint8_t pic_elcr_read(const struct pic *pic, uint16_t port)
{
    return pic->chip[port & 1u].elcr;
}

void pic_elcr_write(struct pic *pic, uint16_t port, uint8_t value)
{
    struct pic_chip *c = &pic->chip[port & 1u];
    uint8_t was = c->elcr;

    c->elcr = value & c->elcr_writable;
    /* Lines that became level-sensitive: IRR follows the level now. */
    uint8_t now_level = c->elcr & (uint8_t)~was;
    c->irr = (uint8_t)((c->irr & (uint8_t)~now_level) | (c->level & now_level));
}
