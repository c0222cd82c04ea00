/* SPDX-License-Identifier: MIT */
/* The HPET (hpet.h). */
#include "hpet.h"

#include "devclock.h"

#define HPET_CAP_VALUE                                                                     \
    ((uint64_t)HPET_PERIOD_FS << 32 | 0x8086u << 16 | 1u << 15 /* LEG_RT_CAP */ |         \
     1u << 13 /* COUNT_SIZE_CAP: 64 bits */ | (HPET_TIMERS - 1u) << 8 | 0x01u /* rev */)
/* Writable timer configuration bits (QEMU's HPET_TN_CFG_WRITE_MASK without
 * FSB_EN: there is no FSB delivery). */
#define TN_WRITABLE (HPET_TN_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_SETVAL | \
                     HPET_TN_32BIT | HPET_TN_ROUTE_MASK)
#define TN_RESET    ((uint64_t)HPET_TN_ROUTE_CAP << 32 | HPET_TN_PERIODIC_CAP | HPET_TN_SIZE_CAP)

void hpet_reset(struct hpet *h)
{
    *h = (struct hpet){ 0 };
    for (unsigned i = 0; i < HPET_TIMERS; i++)
        h->timer[i] = (struct hpet_timer){ .config = TN_RESET, .cmp = UINT64_MAX };
}

static bool enabled(const struct hpet *h)
{
    return h->config & HPET_CFG_ENABLE;
}

static bool narrow(const struct hpet_timer *t)
{
    return t->config & HPET_TN_32BIT;
}

uint64_t hpet_counter(const struct hpet *h, uint64_t now)
{
    if (!enabled(h))
        return h->counter;
    return h->enable_count + (now > h->enable_ns ? devclock_ticks(now - h->enable_ns, HPET_HZ) : 0);
}

/* The comparator lies in (last, c]: compared in the timer's width. */
static bool passed(const struct hpet_timer *t, uint64_t last, uint64_t c)
{
    uint64_t span = c - last;
    if (span == 0)
        return false;
    if (narrow(t))
        return span > UINT32_MAX || (uint32_t)(t->cmp - last - 1) < span;
    return t->cmp - last - 1 < span;
}

static void fire(struct hpet *h, unsigned n, uint64_t c)
{
    struct hpet_timer *t = &h->timer[n];

    if ((t->config & HPET_TN_PERIODIC) && t->period != 0) {
        /* Step past the counter by whole periods (one interrupt). */
        if (narrow(t)) {
            uint32_t behind = (uint32_t)c - (uint32_t)t->cmp;
            t->cmp = (uint32_t)(t->cmp + ((uint64_t)behind / (uint32_t)t->period + 1) * t->period);
        } else {
            t->cmp += ((c - t->cmp) / t->period + 1) * t->period;
        }
    }
    if (!(t->config & HPET_TN_INT_ENB))
        return;
    if (t->config & HPET_TN_LEVEL)
        h->status |= 1u << n;
    else
        h->edges |= 1u << n;
}

void hpet_advance(struct hpet *h, uint64_t now)
{
    uint64_t c = hpet_counter(h, now);

    for (unsigned i = 0; i < HPET_TIMERS; i++)
        if (passed(&h->timer[i], h->last, c))
            fire(h, i, c);
    h->last = c;
}

unsigned hpet_take_edges(struct hpet *h)
{
    unsigned e = h->edges;
    h->edges = 0;
    return e;
}

bool hpet_level(const struct hpet *h, unsigned n)
{
    return (h->status >> n) & 1u;
}

unsigned hpet_timer_gsi(const struct hpet *h, unsigned n)
{
    if ((h->config & HPET_CFG_LEGACY) && n < 2)
        return n == 0 ? 2u : 8u;   /* ISA IRQ 0 (GSI 2) and ISA IRQ 8 */
    return (unsigned)((h->timer[n].config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
}

uint64_t hpet_next_deadline(const struct hpet *h, uint64_t now)
{
    uint64_t best = HPET_NEVER;

    if (!enabled(h))
        return HPET_NEVER;
    uint64_t c = hpet_counter(h, now);
    for (unsigned i = 0; i < HPET_TIMERS; i++) {
        const struct hpet_timer *t = &h->timer[i];
        if (!(t->config & HPET_TN_INT_ENB))
            continue;
        uint64_t ahead = narrow(t) ? (uint32_t)(t->cmp - c) : t->cmp - c;
        if (ahead == 0)
            ahead = narrow(t) ? 1ull << 32 : HPET_NEVER;   /* matched: next time round */
        uint64_t since_enable = c - h->enable_count;
        if (ahead == HPET_NEVER || ahead > (HPET_NEVER - h->enable_ns) / 10u - since_enable)
            continue;
        uint64_t at = h->enable_ns + devclock_ns(since_enable + ahead, HPET_HZ);
        if (at < best)
            best = at;
    }
    return best;
}

/* ---- Registers --------------------------------------------------------------- */

static uint64_t *timer_reg(struct hpet *h, uint64_t offset, uint64_t *scratch)
{
    unsigned n = (unsigned)((offset - HPET_TIMER(0)) / 0x20u);
    struct hpet_timer *t = &h->timer[n];

    switch ((offset - HPET_TIMER(0)) % 0x20u) {
    case HPET_TN_CONFIG:
        return &t->config;
    case HPET_TN_CMP:
        return &t->cmp;
    case HPET_TN_FSB:
        return &t->fsb;
    default:
        *scratch = 0;
        return scratch;
    }
}

uint64_t hpet_read(struct hpet *h, uint64_t offset, unsigned size, uint64_t now)
{
    uint64_t reg = offset & ~7ull, v = 0;

    if ((size != 4 && size != 8) || (offset & (size - 1u)) || offset >= HPET_SIZE)
        return 0;
    hpet_advance(h, now);   /* a periodic comparator reads its next match */
    switch (reg) {
    case HPET_CAP:
        v = HPET_CAP_VALUE;
        break;
    case HPET_CONFIG:
        v = h->config;
        break;
    case HPET_STATUS:
        v = h->status;
        break;
    case HPET_COUNTER:
        v = hpet_counter(h, now);
        break;
    default:
        if (reg >= HPET_TIMER(0) && reg < HPET_TIMER(HPET_TIMERS))
            v = *timer_reg(h, reg, &v);
        break;
    }
    return size == 8 ? v : (uint32_t)(v >> (8 * (offset & 4u)));
}

/* The 64-bit register `old` with the written bytes merged in. */
static uint64_t merge(uint64_t old, uint64_t offset, unsigned size, uint64_t value)
{
    if (size == 8)
        return value;
    unsigned shift = 8 * (unsigned)(offset & 4u);
    return (old & ~(0xFFFFFFFFull << shift)) | (uint64_t)(uint32_t)value << shift;
}

static void write_config(struct hpet *h, uint64_t value, uint64_t now)
{
    uint64_t old = h->config;

    h->config = value & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
    if (!(old & HPET_CFG_ENABLE) && (h->config & HPET_CFG_ENABLE)) {
        h->enable_ns = now;
        h->enable_count = h->counter;
        h->last = h->counter;
    } else if ((old & HPET_CFG_ENABLE) && !(h->config & HPET_CFG_ENABLE)) {
        h->config |= HPET_CFG_ENABLE;   /* read the counter while still running */
        h->counter = hpet_counter(h, now);
        h->config &= ~(uint64_t)HPET_CFG_ENABLE;
        h->last = h->counter;
    }
}

static void write_timer(struct hpet *h, uint64_t offset, unsigned size, uint64_t value)
{
    unsigned n = (unsigned)((offset - HPET_TIMER(0)) / 0x20u);
    struct hpet_timer *t = &h->timer[n];
    uint64_t reg = (offset - HPET_TIMER(0)) % 0x20u & ~7ull;

    if (reg == HPET_TN_CONFIG) {
        uint64_t v = merge(t->config, offset, size, value);
        t->config = (t->config & ~(uint64_t)TN_WRITABLE) | (v & TN_WRITABLE);
        if (t->config & HPET_TN_32BIT) {
            t->cmp = (uint32_t)t->cmp;
            t->period = (uint32_t)t->period;
        }
        /* Off, or edge-triggered: the level interrupt is withdrawn. */
        if ((t->config & (HPET_TN_INT_ENB | HPET_TN_LEVEL)) != (HPET_TN_INT_ENB | HPET_TN_LEVEL))
            h->status &= ~(1ull << n);
    } else if (reg == HPET_TN_CMP) {
        /* QEMU's rule: a one-shot comparator, or a periodic one with
         * Tn_VAL_SET_CNF, takes the value; the period always does; each
         * write clears Tn_VAL_SET_CNF. */
        bool set_cmp = !(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_SETVAL);
        if (size == 4 && (offset & 4u) && narrow(t))
            return;   /* the high half of a 32-bit comparator */
        uint64_t cmp = merge(t->cmp, offset, size, value);
        uint64_t period = merge(t->period, offset, size, value);
        if (narrow(t)) {
            cmp = (uint32_t)cmp;
            period = (uint32_t)period;
        }
        if (set_cmp)
            t->cmp = cmp;
        t->period = period;
        t->config &= ~(uint64_t)HPET_TN_SETVAL;
    } else if (reg == HPET_TN_FSB) {
        t->fsb = merge(t->fsb, offset, size, value);
    }
}

void hpet_write(struct hpet *h, uint64_t offset, unsigned size, uint64_t value, uint64_t now)
{
    uint64_t reg = offset & ~7ull;

    if ((size != 4 && size != 8) || (offset & (size - 1u)) || offset >= HPET_SIZE)
        return;
    hpet_advance(h, now);   /* matches before the write belong to the old settings */
    switch (reg) {
    case HPET_CONFIG:
        write_config(h, merge(h->config, offset, size, value), now);
        break;
    case HPET_STATUS:
        h->status &= ~merge(0, offset, size, value);   /* write 1 to clear */
        break;
    case HPET_COUNTER:
        if (!enabled(h)) {   /* written only while halted (spec 2.3.4) */
            h->counter = merge(h->counter, offset, size, value);
            h->last = h->counter;
        }
        break;
    default:
        if (reg >= HPET_TIMER(0) && reg < HPET_TIMER(HPET_TIMERS))
            write_timer(h, offset, size, value);
        break;
    }
}
