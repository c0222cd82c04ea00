/* SPDX-License-Identifier: MIT */
/*
 * What the interrupt-controller test guests (lapic_timer, pic_irq,
 * ioapic_irq, ipi, lapic_bench) share: register access to the LAPIC at
 * 0xFEE00000 and the IOAPIC at 0xFEC00000 (both served by irqd), and the
 * two ports of the harness that plays VMM and device model for them
 * (tests/qemu/irqvmm.c):
 *
 *   0x530  OUT (16-bit): drive the interrupt line of GSI `value & 0xff`:
 *          value >> 8 = 0 lower, 1 raise, 2 pulse (the coco_irq_line
 *          protocol of libcoco/include/coco/irqline.h)
 *   0x534  IN (32-bit): the harness's CLOCK in microseconds (low 32 bits)
 */
#ifndef IRQTEST_H
#define IRQTEST_H

#include "guest.h"

#define PORT_IRQ_LINE   0x530
#define PORT_CLOCK_US   0x534
#define LINE_LOWER      0u
#define LINE_RAISE      1u
#define LINE_PULSE      2u

#define LAPIC_BASE      0xFEE00000ull
#define IOAPIC_BASE     0xFEC00000ull

#define LAPIC_ID        0x020
#define LAPIC_VER       0x030
#define LAPIC_TPR       0x080
#define LAPIC_PPR       0x0A0
#define LAPIC_EOI       0x0B0
#define LAPIC_LDR       0x0D0
#define LAPIC_DFR       0x0E0
#define LAPIC_SVR       0x0F0
#define LAPIC_ISR       0x100
#define LAPIC_TMR       0x180
#define LAPIC_IRR       0x200
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LOW   0x300
#define LAPIC_ICR_HIGH  0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE  0x3E0

#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)

static inline uint32_t lapic_read(uint32_t reg)
{
    return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = value;
}

static inline void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

/* Bit `vector` of the ISR, TMR or IRR array starting at `base`. */
static inline bool lapic_bit(uint32_t base, unsigned vector)
{
    return (lapic_read(base + 0x10 * (vector / 32)) >> (vector % 32)) & 1u;
}

static inline uint32_t ioapic_read(uint32_t reg)
{
    *(volatile uint32_t *)(uintptr_t)IOAPIC_BASE = reg;
    return *(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + 0x10);
}

static inline void ioapic_write(uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + 0x10) = value;
}

/* Redirection entry of `pin`: high half (destination) first. */
static inline void ioapic_redirect(unsigned pin, uint64_t entry)
{
    ioapic_write(0x11 + 2 * pin, (uint32_t)(entry >> 32));
    ioapic_write(0x10 + 2 * pin, (uint32_t)entry);
}

static inline void line(unsigned gsi, unsigned op)
{
    outw(PORT_IRQ_LINE, (uint16_t)(gsi | op << 8));
}

static inline uint32_t clock_us(void)
{
    return inl(PORT_CLOCK_US);
}

/* Spin (interrupts as they are) for `us` microseconds of the harness's clock. */
static inline void delay_us(uint32_t us)
{
    uint32_t t0 = clock_us();
    while (clock_us() - t0 < us)
        __asm__ volatile("pause");
}

/* sti; hlt until *counter reaches `want` (a HLT with IF=1 parks the VCPU
 * in the kernel until an interrupt is pending), at most `rounds` HLTs.
 * Only for interrupts that are sure to come: nothing else wakes it. */
static inline void wait_for(volatile unsigned *counter, unsigned want, unsigned rounds)
{
    for (unsigned i = 0; i < rounds && *counter < want; i++)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Poll with interrupts on until *counter reaches `want` or `us` passed. */
static inline bool wait_polling(volatile unsigned *counter, unsigned want, uint32_t us)
{
    uint32_t t0 = clock_us();
    __asm__ volatile("sti" ::: "memory");
    while (*counter < want && clock_us() - t0 < us)
        __asm__ volatile("pause");
    __asm__ volatile("cli" ::: "memory");
    return *counter >= want;
}

#endif
