/* SPDX-License-Identifier: MIT */
/*
 * SMP start as on a PC (issue 9, item 2): the application processor waits
 * for INIT and SIPI (sipi.conf has no aps=entry), and the boot VCPU starts
 * it through irqd's LAPIC ICR as Linux does: INIT (assert), INIT de-assert,
 * then two STARTUP IPIs with vector 0x08.  The AP runs sipi_tramp.S in real
 * mode at 0x8000 and halts with interrupts off, which parks it without
 * stopping the VM; an NMI IPI wakes it once (its handler counts and
 * returns to the HLT); a second INIT and SIPI start it again, and a third
 * while the boot VCPU waits for it without PAUSE (see guest_main).  The same
 * guest runs on plain QEMU, whose multiboot loader also leaves the APs
 * waiting for SIPI:
 *   qemu-system-x86_64 -M pc -cpu EPYC -smp 2 -m 64 -display none -serial stdio \
 *       -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel sipi.elf
 */
#include "irqtest.h"

#define TRAMP       0x8000u
#define SIPI_VECTOR (TRAMP >> 12)
#define ICR_INIT    0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_NMI     0x00000400u
#define ICR_ASSERT  (1u << 14)
#define ICR_LEVEL   (1u << 15)
#define ICR_BUSY    (1u << 12)

extern const uint8_t sipi_tramp_start[], sipi_tramp_end[];
extern const uint8_t sipi_tramp_nmi[];   /* an offset, as a symbol */

static volatile uint16_t *const slots = (volatile uint16_t *)(uintptr_t)(TRAMP + 0xF08);
static volatile uint16_t *const started = (volatile uint16_t *)(uintptr_t)(TRAMP + 0xF0A);
static volatile uint16_t *const nmis = (volatile uint16_t *)(uintptr_t)(TRAMP + 0xF0C);

static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        __asm__ volatile("pause");
}

static void ipi(unsigned apic_id, uint32_t low)
{
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, low);
    for (unsigned i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LOW) & ICR_BUSY); i++)
        __asm__ volatile("pause");
}

/* Wait (polling, a bounded number of rounds) until *p reaches want; with
 * PAUSE in the loop, or without, as Linux's BSP waits for its AP. */
static bool wait_u16_as(volatile uint16_t *p, uint16_t want, bool pause)
{
    uint64_t t0 = rdtsc();
    while (*p < want && rdtsc() - t0 < 20000000000ull)
        if (pause)
            __asm__ volatile("pause");
    return *p >= want;
}

static bool wait_u16(volatile uint16_t *p, uint16_t want) { return wait_u16_as(p, want, true); }

static void init_sipi(unsigned apic_id)
{
    ipi(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    ipi(apic_id, ICR_INIT | ICR_LEVEL);   /* de-assert */
    spin(100000);
    ipi(apic_id, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
    spin(20000);
    ipi(apic_id, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("sipi guest on vcpu %u\n", cpu);
    memcpy((void *)(uintptr_t)TRAMP, sipi_tramp_start, (size_t)(sipi_tramp_end - sipi_tramp_start));
    memset((void *)(uintptr_t)(TRAMP + 0xF00), 0, 0x100);
    /* Real-mode IVT entry 2 (NMI): 0800:offset. */
    uintptr_t zero = 0;
    __asm__("" : "+r"(zero));   /* the IVT is at address 0: not a null pointer to the compiler */
    volatile uint16_t *ivt = (volatile uint16_t *)zero;
    ivt[4] = (uint16_t)(uintptr_t)sipi_tramp_nmi;
    ivt[5] = TRAMP >> 4;
    uint32_t r[4];
    cpuid(1, 0, r);

    spin(200000);
    CHECK_EQ("the AP does not run before INIT and SIPI", *started, 0);
    init_sipi(1);
    CHECK("the AP starts at the SIPI vector", wait_u16(started, 1));
    CHECK_EQ("only one start for two SIPIs", *slots, 1);
    const volatile uint8_t *slot = (const volatile uint8_t *)(uintptr_t)(TRAMP + 0xF10);
    uint16_t cs = *(const volatile uint16_t *)slot;
    uint32_t cr0 = *(const volatile uint32_t *)(slot + 4);
    uint32_t edx = *(const volatile uint32_t *)(slot + 8);
    guest_printf("AP: CS 0x%x, CR0 0x%x, EDX 0x%x\n", cs, cr0, edx);
    CHECK_EQ("CS = vector << 8", cs, SIPI_VECTOR << 8);
    CHECK_EQ("CR0 after INIT: CD NW ET, real mode", cr0, 0x60000010u);
    CHECK_EQ("EDX after INIT: the CPUID signature", edx, r[0]);

    /* The AP halted with interrupts off: the VM runs on, and an NMI wakes it. */
    spin(200000);
    CHECK_EQ("no NMI yet", *nmis, 0);
    ipi(1, ICR_NMI | ICR_ASSERT);
    CHECK("an NMI wakes the halted AP", wait_u16(nmis, 1));

    /* INIT and SIPI again: it starts over. */
    init_sipi(1);
    CHECK("INIT and SIPI start it again", wait_u16(started, 2));
    CHECK_EQ("two starts in all", *slots, 2);

    /* Once more, and the wait for the AP a busy loop without PAUSE or exit,
     * like Linux's (do_boot_cpu calls schedule() until the AP is in): under
     * -icount (qemu.guest_sipi_smp2_icount) QEMU 7.2 then ran this CPU only,
     * and the AP never started, unless the kernel's tick PAUSEs (thread.c). */
    ipi(1, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    ipi(1, ICR_INIT | ICR_LEVEL);
    spin(100000);
    ipi(1, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
    CHECK("the AP starts while the BSP spins without PAUSE", wait_u16_as(started, 3, false));
    CHECK_EQ("three starts in all", *slots, 3);
    return guest_finish();
}
