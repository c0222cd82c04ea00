/* SPDX-License-Identifier: MIT */
/*
 * The local APIC of one VCPU in xAPIC mode (Intel SDM vol. 3A ch. 10,
 * "Advanced Programmable Interrupt Controller"), memory-mapped at
 * 0xFEE00000.  No x2APIC (the VMM's CPUID clears it) and no relocation of
 * the base (IA32_APIC_BASE is the VMM's and reads the default).
 *
 * Registers (offset, SDM table 10-1): ID 0x20, version 0x30, TPR 0x80,
 * APR 0x90 (reads 0), PPR 0xA0, EOI 0xB0, RRD 0xC0 (reads 0), LDR 0xD0,
 * DFR 0xE0, SVR 0xF0, ISR 0x100-0x170, TMR 0x180-0x1F0, IRR 0x200-0x270,
 * ESR 0x280, LVT CMCI 0x2F0, ICR 0x300/0x310, LVT timer 0x320, thermal
 * 0x330, performance 0x340, LINT0 0x350, LINT1 0x360, error 0x370, timer
 * initial count 0x380, current count 0x390, divide configuration 0x3E0.
 * Registers sit at 16-byte strides; the 32 bits at the start of each are
 * the register, the rest read 0.  Reads of 1, 2 or 4 bytes inside those 32
 * bits return the bytes asked for; writes must be 4 bytes (an 8-byte write
 * writes its low half), others are ignored, as are writes to read-only
 * registers.
 *
 * Delivery (SDM §10.8.3.1): a fixed interrupt sets its IRR bit (and the
 * TMR bit for a level-triggered one) and `posted`; the caller then tells
 * the kernel (IRQ_INJECT COPRA_IRQ_POSTED).  IRR, ISR, TMR and TPR live in
 * the VCPU's virtual-APIC page (struct copra_vapic_page, abi/copra/vm.h),
 * which the kernel shares: as a CPU's virtual-interrupt delivery does, the
 * kernel moves the highest IRR vector above the PPR to ISR when the guest
 * can take it (lapic_take() is that rule, for the tests), and completes an
 * EOI itself unless the vector's TMR bit (the page's eoi_exit) is set;
 * such an EOI reaches the model, which clears the ISR bit and has the
 * caller broadcast it to the IOAPIC.  Both sides change the bitmaps with
 * atomic operations.  The TPR written at offset 0x80 is the page's (a CR8
 * write does not reach irqd).
 *
 * Timer (SDM §10.5.4): the APIC bus runs at a nominal LAPIC_BUS_HZ of 1
 * GHz, so with divide-by-1 one count is one nanosecond and a count of c
 * with divider d lasts c * d ns (KVM uses the same 1 GHz).  One-shot and
 * periodic modes; TSC-deadline mode is not offered (LVT timer bit 18
 * cannot be set).  A periodic period is at least LAPIC_TIMER_MIN_PERIOD_NS
 * (100 us, the kernel's shortest periodic TIMER); the current count then
 * runs down over the stretched period.  A new divide configuration takes
 * effect at the next write of the initial count.  Expiries are as exact
 * as the kernel's TIMER objects, which expire on its 1 kHz tick: a 500 us
 * periodic timer delivers once per millisecond (expirations coalesce in
 * IRR as on hardware when the CPU cannot keep up).  The caller runs one
 * kernel TIMER per LAPIC, bound to the VCPU with IRQ_TIMER so that its
 * expirations post lapic_timer_vector() in the page without a trip to
 * irqd: whenever `timer_changed` is set it re-binds and re-arms it from
 * lapic_timer_vector()/_deadline()/_period() and clears the flag.
 * lapic_timer_fired() is what an expiration does, for the tests.
 *
 * Software disable (SVR bit 8 clear, the reset state): every LVT entry is
 * masked and stays masked, fixed interrupts are not accepted (as KVM);
 * the PIC's INTR reaches the CPU of a disabled LAPIC directly if it is
 * VCPU 0 (see lapic_accepts_pic()).
 *
 * Pure logic: no syscalls; time comes in as `now` (nanoseconds).
 */
#ifndef IRQD_LAPIC_H
#define IRQD_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <copra/vm.h>

#define LAPIC_BASE              0xFEE00000ull
#define LAPIC_SIZE              0x1000u
#define LAPIC_BUS_HZ            1000000000ull
#define LAPIC_TIMER_MIN_PERIOD_NS 100000ull
#define LAPIC_VERSION           0x00050014u  /* max LVT entry 5 (6 LVTs + CMCI), version 0x14 */

/* Register offsets. */
#define LAPIC_ID        0x020u
#define LAPIC_VER       0x030u
#define LAPIC_TPR       0x080u
#define LAPIC_APR       0x090u
#define LAPIC_PPR       0x0A0u
#define LAPIC_EOI       0x0B0u
#define LAPIC_RRD       0x0C0u
#define LAPIC_LDR       0x0D0u
#define LAPIC_DFR       0x0E0u
#define LAPIC_SVR       0x0F0u
#define LAPIC_ISR       0x100u
#define LAPIC_TMR       0x180u
#define LAPIC_IRR       0x200u
#define LAPIC_ESR       0x280u
#define LAPIC_LVT_CMCI  0x2F0u
#define LAPIC_ICR_LOW   0x300u
#define LAPIC_ICR_HIGH  0x310u
#define LAPIC_LVT_TIMER 0x320u
#define LAPIC_LVT_THERMAL 0x330u
#define LAPIC_LVT_PERF  0x340u
#define LAPIC_LVT_LINT0 0x350u
#define LAPIC_LVT_LINT1 0x360u
#define LAPIC_LVT_ERROR 0x370u
#define LAPIC_TIMER_INITIAL 0x380u
#define LAPIC_TIMER_CURRENT 0x390u
#define LAPIC_TIMER_DIVIDE  0x3E0u

#define LAPIC_SVR_ENABLE    (1u << 8)
#define LAPIC_LVT_MASKED    (1u << 16)
#define LAPIC_LVT_PERIODIC  (1u << 17)
#define LAPIC_ESR_SEND_ILLEGAL    (1u << 5)
#define LAPIC_ESR_RECEIVE_ILLEGAL (1u << 6)

/* Delivery modes (ICR bits 8-10, IOAPIC redirection entries, LVTs). */
enum apic_delivery_mode {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

/* ICR destination shorthands (bits 18-19). */
enum apic_shorthand {
    APIC_DEST_FIELD = 0,
    APIC_DEST_SELF = 1,
    APIC_DEST_ALL = 2,
    APIC_DEST_ALL_BUT_SELF = 3,
};

/* An interrupt message on the APIC bus, from an IOAPIC redirection entry
 * or an ICR write. */
struct apic_message {
    uint8_t vector;
    uint8_t delivery_mode;    /* enum apic_delivery_mode */
    uint8_t destination;      /* APIC ID, or logical destination */
    uint8_t shorthand;        /* enum apic_shorthand (IPIs only) */
    bool logical;             /* destination mode */
    bool level;               /* trigger mode: level */
    unsigned source;          /* VCPU index of the sender (IPIs) */
};

/* The LVT entries in register order from 0x320, plus CMCI. */
enum lapic_lvt {
    LAPIC_LVT_TIMER_INDEX = 0,
    LAPIC_LVT_THERMAL_INDEX,
    LAPIC_LVT_PERF_INDEX,
    LAPIC_LVT_LINT0_INDEX,
    LAPIC_LVT_LINT1_INDEX,
    LAPIC_LVT_ERROR_INDEX,
    LAPIC_LVT_CMCI_INDEX,
    LAPIC_LVTS,
};

struct lapic {
    unsigned index;           /* VCPU index = initial APIC ID */
    struct copra_vapic_page *page;   /* IRR, ISR, TMR (eoi_exit), TPR: shared with the kernel */
    bool posted;              /* IRR bits set since the caller last notified the kernel */
    uint32_t id, ldr, dfr, svr;
    uint32_t esr, esr_pending;   /* ESR: what a read shows / errors since the last ESR write */
    uint32_t icr_low, icr_high;
    uint32_t lvt[LAPIC_LVTS];
    /* Timer. */
    uint32_t timer_initial, timer_divide_config;
    uint32_t timer_divisor;   /* latched at the initial-count write */
    bool timer_running;
    bool timer_changed;       /* the caller must re-arm its kernel timer */
    uint64_t timer_start;     /* ns at the initial-count write */
    uint64_t timer_period;    /* ns per count-down (stretched to the minimum if periodic) */
};

/* What a register write asks of the caller besides re-evaluating. */
struct lapic_write_effect {
    bool eoi_broadcast;       /* EOI of a level-triggered vector: tell the IOAPIC */
    uint8_t eoi_vector;
    bool send;                /* an ICR write: deliver `message` */
    struct apic_message message;
};

/* Power-on/reset state (SDM §10.4.7.1) of the LAPIC of VCPU `index`, whose
 * virtual-APIC page is `page` (its apic_base set to LAPIC_BASE). */
void lapic_reset(struct lapic *l, unsigned index, struct copra_vapic_page *page);

/* Whether reading/writing `offset` needs the current time. */
bool lapic_needs_clock(uint32_t offset);

/* MMIO read of `size` bytes at `offset` (< LAPIC_SIZE). */
uint32_t lapic_read(struct lapic *l, uint32_t offset, unsigned size, uint64_t now);

/* MMIO write; fills *effect (zeroed first). */
void lapic_write(struct lapic *l, uint32_t offset, unsigned size, uint32_t value, uint64_t now,
                 struct lapic_write_effect *effect);

bool lapic_enabled(const struct lapic *l);

/* Whether `m`'s destination (field or shorthand) names this LAPIC. */
bool lapic_matches(const struct lapic *l, const struct apic_message *m);

/* Accept a fixed (or lowest-priority) interrupt: sets IRR (and TMR for a
 * level-triggered one).  False if refused: software-disabled, or a vector
 * below 16 (then the receive-illegal-vector error is recorded). */
bool lapic_accept(struct lapic *l, uint8_t vector, bool level);

/* The processor priority (SDM §10.8.3.1). */
uint32_t lapic_ppr(const struct lapic *l);

/* The next vector to deliver, moved IRR -> ISR; -1 if none beats the PPR:
 * what the kernel does at an entry with the guest's IF open (for tests). */
int lapic_take(struct lapic *l);

/* The task priority (the page's). */
uint32_t lapic_tpr(const struct lapic *l);

/* Whether the PIC's INTR (virtual wire through LINT0) reaches this CPU:
 * LINT0 unmasked with delivery mode ExtINT, or this is VCPU 0 and its
 * LAPIC is software-disabled. */
bool lapic_accepts_pic(const struct lapic *l);

/* Timer: the vector its expirations post (0: masked or disabled), when
 * the next expiry is due (ns on the caller's clock; 0 = not running) and
 * the period (0 = one-shot). */
unsigned lapic_timer_vector(const struct lapic *l);
uint64_t lapic_timer_deadline(const struct lapic *l);
uint64_t lapic_timer_period(const struct lapic *l);

/* The kernel timer expired: a periodic timer raises its vector (if
 * unmasked) and runs on; a one-shot timer stops and raises it.  Returns
 * true if the timer vector was set in IRR. */
bool lapic_timer_fired(struct lapic *l);

#endif
