/* SPDX-License-Identifier: MIT */
/* The PIC, IOAPIC and LAPICs of one VM wired together (irqchip.h). */
#include "irqchip.h"

#include <stddef.h>

void irqchip_init(struct irqchip *chip, unsigned nvcpus, struct copra_vapic_page *const *pages,
                  uint64_t (*clock)(void *ctx), void *clock_ctx)
{
    chip->nvcpus = nvcpus > IRQCHIP_VCPUS_MAX ? IRQCHIP_VCPUS_MAX : nvcpus;
    chip->clock = clock;
    chip->clock_ctx = clock_ctx;
    chip->ninject = 0;
    chip->stats = (struct irqchip_stats){ 0 };
    pic_reset(&chip->pic);
    ioapic_reset(&chip->ioapic, irqchip_deliver, chip);
    for (unsigned i = 0; i < chip->nvcpus; i++)
        lapic_reset(&chip->lapic[i], i, pages ? pages[i] : &chip->own_pages[i]);
}

unsigned irqchip_gsi_to_pic(unsigned gsi)
{
    if (gsi == 2)
        return 0;   /* the ISA timer's override */
    if (gsi == 0 || gsi >= PIC_IRQS)
        return IRQCHIP_NO_PIC_IRQ;
    return gsi;
}

/* The GSI of PIC input `irq`, or IRQCHIP_GSIS for the cascade input. */
static unsigned pic_to_gsi(unsigned irq)
{
    if (irq == 0)
        return 2;
    if (irq == PIC_CASCADE_IRQ)
        return IRQCHIP_GSIS;
    return irq;
}

/* Hide from the PIC the lines the IOAPIC delivers (unmasked entries). */
static void update_diverted(struct irqchip *chip)
{
    uint16_t diverted = 0;
    for (unsigned irq = 0; irq < PIC_IRQS; irq++) {
        unsigned gsi = pic_to_gsi(irq);
        if (gsi < IRQCHIP_GSIS && !ioapic_pin_masked(&chip->ioapic, gsi))
            diverted |= (uint16_t)(1u << irq);
    }
    pic_set_diverted(&chip->pic, diverted);
}

static void inject(struct irqchip *chip, unsigned vcpu, unsigned vector)
{
    if (chip->ninject == IRQCHIP_INJECT_MAX) {
        chip->stats.dropped++;
        return;
    }
    chip->inject[chip->ninject++] = (struct irqchip_injection){
        .vcpu = (uint16_t)vcpu, .vector = (uint16_t)vector,
    };
    chip->stats.injected++;
}

/* The interrupt acknowledge cycle for VCPU `vcpu`: take the PIC's vector
 * and inject it. */
static int pic_deliver(struct irqchip *chip, unsigned vcpu)
{
    uint8_t vector = pic_intack(&chip->pic);
    if (vector < 0x10) {
        /* A PIC left at the BIOS's base 0x08: the kernel injects only
         * 0x10..0xff (exception vectors are not external interrupts). */
        chip->stats.low_vectors++;
        return vector;
    }
    chip->stats.pic_injected++;
    inject(chip, vcpu, vector);
    return vector;
}

void irqchip_set_line(struct irqchip *chip, unsigned gsi, bool level, unsigned edges)
{
    if (gsi >= IRQCHIP_GSIS)
        return;
    ioapic_set_line(&chip->ioapic, gsi, level, edges);
    unsigned irq = irqchip_gsi_to_pic(gsi);
    if (irq != IRQCHIP_NO_PIC_IRQ)
        pic_set_line(&chip->pic, irq, level, edges);
}

/* ---- The APIC bus ----------------------------------------------------------- */

bool irqchip_deliver(void *ctx, const struct apic_message *m)
{
    struct irqchip *chip = ctx;
    bool accepted = false;

    switch (m->delivery_mode) {
    case APIC_DM_FIXED:
        for (unsigned i = 0; i < chip->nvcpus; i++)
            if (lapic_matches(&chip->lapic[i], m))
                accepted |= lapic_accept(&chip->lapic[i], m->vector, m->level);
        break;
    case APIC_DM_LOWEST: {
        /* SDM §10.6.2.4 leaves the choice to the model: the enabled
         * destination with the lowest TPR, the lowest index on a tie. */
        struct lapic *best = NULL;
        for (unsigned i = 0; i < chip->nvcpus; i++) {
            struct lapic *l = &chip->lapic[i];
            if (lapic_matches(l, m) && lapic_enabled(l) && (best == NULL || lapic_tpr(l) < lapic_tpr(best)))
                best = l;
        }
        if (best != NULL)
            accepted = lapic_accept(best, m->vector, m->level);
        break;
    }
    case APIC_DM_NMI:
        for (unsigned i = 0; i < chip->nvcpus; i++)
            if (lapic_matches(&chip->lapic[i], m)) {
                inject(chip, i, IRQCHIP_VECTOR_NMI);
                accepted = true;
            }
        break;
    case APIC_DM_EXTINT:
        for (unsigned i = 0; i < chip->nvcpus; i++)
            if (lapic_matches(&chip->lapic[i], m)) {
                if (pic_output(&chip->pic))
                    pic_deliver(chip, i);
                accepted = true;
                break;
            }
        break;
    case APIC_DM_INIT:
    case APIC_DM_STARTUP:
        /* The kernel holds the VCPU in wait-for-SIPI after an INIT and
         * takes the first SIPI (IRQ_INJECT); INIT also resets the LAPIC,
         * all but its ID, as on the CPU. */
        for (unsigned i = 0; i < chip->nvcpus; i++)
            if (lapic_matches(&chip->lapic[i], m)) {
                if (m->delivery_mode == APIC_DM_INIT)
                    lapic_reset(&chip->lapic[i], i, chip->lapic[i].page);
                inject(chip, i, m->delivery_mode == APIC_DM_INIT ? IRQCHIP_VECTOR_INIT
                                                                 : IRQCHIP_VECTOR_SIPI(m->vector));
                accepted = true;
            }
        break;
    default:
        /* SMI: no SMM here; counted and dropped. */
        chip->stats.ignored_messages++;
        return true;
    }
    if (!accepted)
        chip->stats.undelivered++;
    return accepted;
}

/* ---- Guest accesses ---------------------------------------------------------- */

static bool is_pic_port(uint16_t port)
{
    return port == PIC_MASTER_PORT || port == PIC_MASTER_PORT + 1 || port == PIC_SLAVE_PORT ||
           port == PIC_SLAVE_PORT + 1;
}

static bool is_elcr_port(uint16_t port)
{
    return port == PIC_ELCR_PORT || port == PIC_ELCR_PORT + 1;
}

uint32_t irqchip_port_read(struct irqchip *chip, uint16_t port, unsigned size)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t byte = 0xFF;
        if (is_pic_port(p))
            byte = pic_read(&chip->pic, p);
        else if (is_elcr_port(p))
            byte = pic_elcr_read(&chip->pic, p);
        value |= (uint32_t)byte << (8 * i);
    }
    return value;
}

void irqchip_port_write(struct irqchip *chip, uint16_t port, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t byte = (uint8_t)(value >> (8 * i));
        if (is_pic_port(p))
            pic_write(&chip->pic, p, byte);
        else if (is_elcr_port(p))
            pic_elcr_write(&chip->pic, p, byte);
    }
}

uint32_t irqchip_ioapic_read(struct irqchip *chip, uint32_t offset, unsigned size)
{
    return ioapic_read(&chip->ioapic, offset, size);
}

void irqchip_ioapic_write(struct irqchip *chip, uint32_t offset, unsigned size, uint32_t value)
{
    ioapic_write(&chip->ioapic, offset, size, value);
    update_diverted(chip);
}

static uint64_t clock_for(struct irqchip *chip, uint32_t offset)
{
    return lapic_needs_clock(offset) && chip->clock != NULL ? chip->clock(chip->clock_ctx) : 0;
}

uint32_t irqchip_lapic_read(struct irqchip *chip, unsigned vcpu, uint32_t offset, unsigned size)
{
    if (vcpu >= chip->nvcpus)
        return 0xFFFFFFFFu;
    return lapic_read(&chip->lapic[vcpu], offset, size, clock_for(chip, offset));
}

void irqchip_lapic_write(struct irqchip *chip, unsigned vcpu, uint32_t offset, unsigned size,
                         uint32_t value)
{
    struct lapic_write_effect effect;
    if (vcpu >= chip->nvcpus)
        return;
    lapic_write(&chip->lapic[vcpu], offset, size, value, clock_for(chip, offset), &effect);
    if (offset == LAPIC_TPR)   /* CR8 is the same register (the guest's, or the kernel's forward of it) */
        inject(chip, vcpu, IRQCHIP_VECTOR_TPR(lapic_tpr(&chip->lapic[vcpu]) >> 4));
    if (effect.eoi_broadcast)
        ioapic_eoi(&chip->ioapic, effect.eoi_vector);
    if (effect.send)
        irqchip_deliver(chip, &effect.message);
}

void irqchip_timer_fired(struct irqchip *chip, unsigned vcpu)
{
    if (vcpu < chip->nvcpus)
        lapic_timer_fired(&chip->lapic[vcpu]);
}

void irqchip_evaluate(struct irqchip *chip)
{
    /* The PIC: each acknowledge puts its IRQ in service, so this ends
     * after at most 8 rounds (16 with the slave); with auto-EOI a level
     * line keeps presenting, and once per evaluation is enough for it. */
    int previous = -1;
    for (unsigned round = 0; round < PIC_IRQS && pic_output(&chip->pic); round++) {
        unsigned target = chip->nvcpus;
        for (unsigned i = 0; i < chip->nvcpus; i++)
            if (lapic_accepts_pic(&chip->lapic[i])) {
                target = i;
                break;
            }
        if (target == chip->nvcpus)
            break;
        int vector = pic_deliver(chip, target);
        if (vector == previous)
            break;
        previous = vector;
    }
    /* Each LAPIC with new IRR bits: the kernel delivers them (lapic.h). */
    for (unsigned i = 0; i < chip->nvcpus; i++) {
        if (chip->lapic[i].posted) {
            chip->lapic[i].posted = false;
            inject(chip, i, IRQCHIP_VECTOR_POSTED);
        }
    }
}
