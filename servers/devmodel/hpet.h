/* SPDX-License-Identifier: MIT */
/*
 * The HPET (IA-PC HPET specification 1.0a) as QEMU's pc machine has it:
 * 1 KiB of MMIO at 0xFED00000, vendor 0x8086, revision 1, three timers, a
 * 64-bit main counter at 100 MHz (period 10,000,000 fs), legacy
 * replacement capable, every timer periodic- and 64-bit-capable, no FSB
 * (MSI) delivery, Tn_INT_ROUTE_CAP = bit 2 only (QEMU's intcap for
 * pc-piix).  Pure logic, no syscalls, for tests/unit/test_hpet.c: every
 * call takes `now`, the host clock in nanoseconds.
 *
 * The main counter is a function of `now` while enabled (a base count at
 * the host time it was enabled), so nothing runs between accesses.  A
 * comparator matches when the counter passes it: hpet_advance() looks at
 * the counter values in (last evaluation, now] and, for each timer whose
 * comparator lies there (in 32 bits for a timer in 32-bit mode), steps a
 * periodic comparator past the counter by whole periods (QEMU's catch-up:
 * one interrupt for several missed periods) and, if Tn_INT_ENB_CNF is set,
 * sets the timer's status bit (level-triggered) or records an edge
 * (edge-triggered; status stays 0, as in QEMU).  Level interrupts stay
 * asserted until the guest writes 1 to the status bit, or turns the
 * timer's interrupt off or to edge.
 *
 * Interrupt routing (hpet_timer_gsi()): with LEG_RT_CNF, timer 0 -> ISA
 * IRQ 0 (GSI 2 in irqd's numbering: PIC input 0 and IOAPIC pin 2) and
 * timer 1 -> ISA IRQ 8 (GSI 8); otherwise, and for timer 2, the timer's
 * Tn_INT_ROUTE_CNF.  Not modelled: the 32-bit one-shot interrupt at the
 * counter's 32-bit wrap, FSB delivery, and QEMU's switching off of the
 * PIT and RTC interrupts in legacy mode (they are other processes here).
 */
#ifndef HPET_H
#define HPET_H

#include <stdbool.h>
#include <stdint.h>

#define HPET_BASE       0xFED00000ull
#define HPET_SIZE       0x400u
#define HPET_TIMERS     3u
#define HPET_HZ         100000000u
#define HPET_PERIOD_FS  10000000u
#define HPET_NEVER      UINT64_MAX

/* Registers (offsets). */
#define HPET_CAP        0x000u
#define HPET_CONFIG     0x010u
#define HPET_STATUS     0x020u
#define HPET_COUNTER    0x0F0u
#define HPET_TIMER(n)   (0x100u + 0x20u * (n))
#define HPET_TN_CONFIG  0x00u
#define HPET_TN_CMP     0x08u
#define HPET_TN_FSB     0x10u

/* General configuration. */
#define HPET_CFG_ENABLE 0x1u
#define HPET_CFG_LEGACY 0x2u

/* Timer N configuration. */
#define HPET_TN_LEVEL        (1u << 1)
#define HPET_TN_INT_ENB      (1u << 2)
#define HPET_TN_PERIODIC     (1u << 3)
#define HPET_TN_PERIODIC_CAP (1u << 4)
#define HPET_TN_SIZE_CAP     (1u << 5)
#define HPET_TN_SETVAL       (1u << 6)
#define HPET_TN_32BIT        (1u << 8)
#define HPET_TN_ROUTE_SHIFT  9u
#define HPET_TN_ROUTE_MASK   (0x1Fu << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_ROUTE_CAP    (1ull << 2)    /* GSI 2, in bits 63:32 */

struct hpet_timer {
    uint64_t config;
    uint64_t cmp;
    uint64_t period;
    uint64_t fsb;
};

struct hpet {
    uint64_t config;
    uint64_t status;           /* level-triggered interrupts asserted */
    uint64_t counter;          /* while halted */
    uint64_t enable_ns;        /* while enabled: counter = enable_count + ticks since enable_ns */
    uint64_t enable_count;
    uint64_t last;             /* counter value hpet_advance() has looked up to */
    unsigned edges;            /* bit N: timer N fired edge-triggered, not yet taken */
    struct hpet_timer timer[HPET_TIMERS];
};

void hpet_reset(struct hpet *h);

/* MMIO at `offset` (0..HPET_SIZE-1), 4 or 8 bytes; other sizes and
 * reserved offsets read 0 and ignore writes. */
uint64_t hpet_read(struct hpet *h, uint64_t offset, unsigned size, uint64_t now);
void hpet_write(struct hpet *h, uint64_t offset, unsigned size, uint64_t value, uint64_t now);

/* The main counter at `now`. */
uint64_t hpet_counter(const struct hpet *h, uint64_t now);
/* Fire the comparators the counter passed up to `now` (see above). */
void hpet_advance(struct hpet *h, uint64_t now);
/* Edge-triggered interrupts since the last call, bit N for timer N. */
unsigned hpet_take_edges(struct hpet *h);
/* Timer N's level interrupt is asserted. */
bool hpet_level(const struct hpet *h, unsigned n);
/* The GSI timer N interrupts on. */
unsigned hpet_timer_gsi(const struct hpet *h, unsigned n);
/* Host time of the next comparator match of a timer with its interrupt
 * enabled, or HPET_NEVER (counter halted, nothing enabled). */
uint64_t hpet_next_deadline(const struct hpet *h, uint64_t now);

#endif
