/* SPDX-License-Identifier: MIT */
/* The I/O APIC (ioapic.h). */
#include "ioapic.h"

/* Low-half bits the guest may write: vector, delivery mode, destination
 * mode, polarity, trigger mode, mask. */
#define REDIR_LOW_WRITABLE 0x0001AFFFull

void ioapic_reset(struct ioapic *io, ioapic_deliver_fn deliver, void *ctx)
{
    *io = (struct ioapic){ .deliver = deliver, .ctx = ctx };
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        io->redir[pin] = IOAPIC_REDIR_MASKED;
}

static struct apic_message redir_message(uint64_t e)
{
    return (struct apic_message){
        .vector = (uint8_t)e,
        .delivery_mode = (uint8_t)((e >> 8) & 7u),
        .logical = (e >> 11) & 1u,
        .level = (e & IOAPIC_REDIR_LEVEL) != 0,
        .destination = (uint8_t)(e >> 56),
        .shorthand = APIC_DEST_FIELD,
    };
}

/* Deliver pin `pin` if its entry and line allow; `edge` says an edge
 * arrived (edge-triggered entries deliver only then). */
static void ioapic_service(struct ioapic *io, unsigned pin, bool edge)
{
    uint64_t *e = &io->redir[pin];
    if (*e & IOAPIC_REDIR_MASKED)
        return;
    if (*e & IOAPIC_REDIR_LEVEL) {
        if (!((io->asserted >> pin) & 1u) || (*e & IOAPIC_REDIR_REMOTE_IRR))
            return;
        struct apic_message m = redir_message(*e);
        if (io->deliver(io->ctx, &m))
            *e |= IOAPIC_REDIR_REMOTE_IRR;
        return;
    }
    if (edge) {
        struct apic_message m = redir_message(*e);
        io->deliver(io->ctx, &m);
    }
}

void ioapic_set_line(struct ioapic *io, unsigned pin, bool level, unsigned edges)
{
    if (pin >= IOAPIC_PINS)
        return;
    if (level)
        io->asserted |= 1u << pin;
    else
        io->asserted &= ~(1u << pin);
    ioapic_service(io, pin, edges > 0);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t *e = &io->redir[pin];
        if ((*e & IOAPIC_REDIR_LEVEL) && (*e & IOAPIC_REDIR_REMOTE_IRR) && (uint8_t)*e == vector) {
            *e &= ~IOAPIC_REDIR_REMOTE_IRR;
            ioapic_service(io, pin, false);
        }
    }
}

static uint32_t register_read(const struct ioapic *io, uint8_t reg)
{
    switch (reg) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARBITRATION:
        return io->id;
    case IOAPIC_REG_VERSION:
        return IOAPIC_VERSION;
    default:
        break;
    }
    if (reg >= IOAPIC_REG_REDIR && reg < IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(reg - IOAPIC_REG_REDIR) / 2];
        return (reg & 1u) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void register_write(struct ioapic *io, uint8_t reg, uint32_t value)
{
    if (reg == IOAPIC_REG_ID) {
        io->id = value & 0x0F000000u;
        return;
    }
    if (reg < IOAPIC_REG_REDIR || reg >= IOAPIC_REG_REDIR + 2 * IOAPIC_PINS)
        return;   /* version, arbitration: read-only */
    unsigned pin = (reg - IOAPIC_REG_REDIR) / 2u;
    uint64_t *e = &io->redir[pin];
    if (reg & 1u) {
        *e = (*e & 0xFFFFFFFFull) | ((uint64_t)(value & 0xFF000000u) << 32);
        return;
    }
    *e = (*e & ~REDIR_LOW_WRITABLE) | (value & REDIR_LOW_WRITABLE);
    if (!(*e & IOAPIC_REDIR_LEVEL))
        *e &= ~IOAPIC_REDIR_REMOTE_IRR;
    /* A level line that is already asserted is delivered once unmasked. */
    ioapic_service(io, pin, false);
}

uint32_t ioapic_read(struct ioapic *io, uint32_t offset, unsigned size)
{
    uint32_t value;
    if (offset == IOAPIC_REGSEL)
        value = io->select;
    else if (offset == IOAPIC_WINDOW)
        value = register_read(io, io->select);
    else
        return 0;
    return size >= 4 ? value : value & ((1u << (8 * size)) - 1);
}

void ioapic_write(struct ioapic *io, uint32_t offset, unsigned size, uint32_t value)
{
    if (offset == IOAPIC_REGSEL)
        io->select = (uint8_t)value;
    else if (offset == IOAPIC_WINDOW && size >= 4)
        register_write(io, io->select, value);
}
