/* SPDX-License-Identifier: MIT */
/* The local APIC of one VCPU (lapic.h). */
#include "lapic.h"

/* Writable bits per register (SDM figures 10-8, 10-12, 10-14, 10-15, 10-18,
 * 10-23).  LVT delivery status (bit 12) and LINT remote IRR (bit 14) are
 * read-only; the timer's mode is bit 17 alone (no TSC-deadline mode). */
#define LVT_TIMER_BITS   0x000300FFu
#define LVT_LINT_BITS    0x0001A7FFu
#define LVT_OTHER_BITS   0x000107FFu   /* thermal, performance, CMCI */
#define LVT_ERROR_BITS   0x000100FFu
#define ICR_LOW_BITS     0x000CCFFFu
#define SVR_BITS         0x000003FFu   /* vector, enable, focus; no EOI-broadcast suppression */
#define DFR_RESERVED     0x0FFFFFFFu   /* reads as ones */

static const uint32_t lvt_writable[LAPIC_LVTS] = {
    [LAPIC_LVT_TIMER_INDEX] = LVT_TIMER_BITS,
    [LAPIC_LVT_THERMAL_INDEX] = LVT_OTHER_BITS,
    [LAPIC_LVT_PERF_INDEX] = LVT_OTHER_BITS,
    [LAPIC_LVT_LINT0_INDEX] = LVT_LINT_BITS,
    [LAPIC_LVT_LINT1_INDEX] = LVT_LINT_BITS,
    [LAPIC_LVT_ERROR_INDEX] = LVT_ERROR_BITS,
    [LAPIC_LVT_CMCI_INDEX] = LVT_OTHER_BITS,
};

void lapic_reset(struct lapic *l, unsigned index, struct copra_vapic_page *page)
{
    *page = (struct copra_vapic_page){ .apic_base = LAPIC_BASE };
    *l = (struct lapic){
        .index = index,
        .page = page,
        .id = (uint32_t)index << 24,
        .dfr = 0xFFFFFFFFu,
        .svr = 0xFFu,
        .timer_divisor = 2,
    };
    for (unsigned i = 0; i < LAPIC_LVTS; i++)
        l->lvt[i] = LAPIC_LVT_MASKED;
    l->timer_changed = true;   /* the kernel's timer may still be armed */
}

bool lapic_enabled(const struct lapic *l)
{
    return (l->svr & LAPIC_SVR_ENABLE) != 0;
}

/* The page's 256-bit maps, which the kernel changes too: atomics. */
static int bitmap_highest(const uint64_t bits[4])
{
    for (int w = 3; w >= 0; w--) {
        uint64_t b = __atomic_load_n(&bits[w], __ATOMIC_ACQUIRE);
        if (b)
            return w * 64 + 63 - __builtin_clzll(b);
    }
    return -1;
}

static bool bitmap_test(const uint64_t bits[4], unsigned v)
{
    return (__atomic_load_n(&bits[v / 64], __ATOMIC_ACQUIRE) >> (v % 64)) & 1u;
}

static void bitmap_set(uint64_t bits[4], unsigned v)
{
    __atomic_or_fetch(&bits[v / 64], 1ull << (v % 64), __ATOMIC_ACQ_REL);
}

static void bitmap_clear(uint64_t bits[4], unsigned v)
{
    __atomic_and_fetch(&bits[v / 64], ~(1ull << (v % 64)), __ATOMIC_ACQ_REL);
}

/* Register i (0..7) of a map: its 32 bits at offset 0x10 * i. */
static uint32_t bitmap_register(const uint64_t bits[4], unsigned i)
{
    return (uint32_t)(__atomic_load_n(&bits[i / 2], __ATOMIC_ACQUIRE) >> (32 * (i % 2)));
}

uint32_t lapic_tpr(const struct lapic *l)
{
    return __atomic_load_n(&l->page->tpr, __ATOMIC_RELAXED) & 0xFFu;
}

uint32_t lapic_ppr(const struct lapic *l)
{
    int isrv = bitmap_highest(l->page->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0u;
    return (lapic_tpr(l) & 0xF0u) >= isr_class ? lapic_tpr(l) : isr_class;
}

int lapic_take(struct lapic *l)
{
    int v = bitmap_highest(l->page->irr);
    if (v < 0 || ((uint32_t)v & 0xF0u) <= (lapic_ppr(l) & 0xF0u))
        return -1;
    bitmap_clear(l->page->irr, (unsigned)v);
    bitmap_set(l->page->isr, (unsigned)v);
    return v;
}

bool lapic_accept(struct lapic *l, uint8_t vector, bool level)
{
    if (!lapic_enabled(l))
        return false;
    if (vector < 16) {
        l->esr_pending |= LAPIC_ESR_RECEIVE_ILLEGAL;
        return false;
    }
    /* TMR before IRR: the kernel may deliver, and see the EOI, at once. */
    if (level)
        bitmap_set(l->page->eoi_exit, vector);
    else
        bitmap_clear(l->page->eoi_exit, vector);
    bitmap_set(l->page->irr, vector);
    l->posted = true;
    return true;
}

/* An error the LAPIC detected: record it and raise the error LVT. */
static void lapic_error(struct lapic *l, uint32_t esr_bit)
{
    l->esr_pending |= esr_bit;
    uint32_t lvt = l->lvt[LAPIC_LVT_ERROR_INDEX];
    if (!(lvt & LAPIC_LVT_MASKED) && (lvt & 0xFFu) >= 16)
        lapic_accept(l, (uint8_t)lvt, false);
}

bool lapic_accepts_pic(const struct lapic *l)
{
    uint32_t lint0 = l->lvt[LAPIC_LVT_LINT0_INDEX];
    if (!lapic_enabled(l))
        return l->index == 0;
    return !(lint0 & LAPIC_LVT_MASKED) && ((lint0 >> 8) & 7u) == APIC_DM_EXTINT;
}

bool lapic_matches(const struct lapic *l, const struct apic_message *m)
{
    switch (m->shorthand) {
    case APIC_DEST_SELF:
        return l->index == m->source;
    case APIC_DEST_ALL:
        return true;
    case APIC_DEST_ALL_BUT_SELF:
        return l->index != m->source;
    default:
        break;
    }
    if (m->destination == 0xFF)
        return true;   /* broadcast in both modes */
    if (!m->logical)
        return (l->id >> 24) == m->destination;
    uint8_t logical_id = (uint8_t)(l->ldr >> 24);
    if ((l->dfr >> 28) == 0xF)   /* flat model: a bit per LAPIC */
        return (logical_id & m->destination) != 0;
    /* Cluster model: cluster in the high nibble, a bit per member. */
    return (logical_id >> 4) == (m->destination >> 4) &&
           (logical_id & m->destination & 0x0Fu) != 0;
}

/* ---- Timer ---------------------------------------------------------------- */

static bool timer_periodic(const struct lapic *l)
{
    return (l->lvt[LAPIC_LVT_TIMER_INDEX] & LAPIC_LVT_PERIODIC) != 0;
}

/* Divide configuration register (SDM figure 10-10): bits 0, 1 and 3 give
 * 2, 4, 8, 16, 32, 64, 128 or (0b111) 1. */
static uint32_t timer_divisor(uint32_t config)
{
    uint32_t code = (config & 3u) | ((config >> 1) & 4u);
    return 1u << ((code + 1) & 7u);
}

static void timer_start(struct lapic *l, uint64_t now)
{
    l->timer_divisor = timer_divisor(l->timer_divide_config);
    l->timer_running = l->timer_initial != 0;
    l->timer_start = now;
    l->timer_period = (uint64_t)l->timer_initial * l->timer_divisor * (1000000000ull / LAPIC_BUS_HZ);
    if (timer_periodic(l) && l->timer_period < LAPIC_TIMER_MIN_PERIOD_NS)
        l->timer_period = LAPIC_TIMER_MIN_PERIOD_NS;
    l->timer_changed = true;
}

unsigned lapic_timer_vector(const struct lapic *l)
{
    uint32_t lvt = l->lvt[LAPIC_LVT_TIMER_INDEX];
    return (lvt & LAPIC_LVT_MASKED) || (lvt & 0xFFu) < 16 ? 0 : lvt & 0xFFu;
}

uint64_t lapic_timer_deadline(const struct lapic *l)
{
    return l->timer_running ? l->timer_start + l->timer_period : 0;
}

uint64_t lapic_timer_period(const struct lapic *l)
{
    return l->timer_running && timer_periodic(l) ? l->timer_period : 0;
}

static uint32_t timer_current(const struct lapic *l, uint64_t now)
{
    if (!l->timer_running || now < l->timer_start)
        return l->timer_running ? l->timer_initial : 0;
    uint64_t elapsed = now - l->timer_start;
    if (timer_periodic(l))
        elapsed %= l->timer_period;
    else if (elapsed >= l->timer_period)
        return 0;
    uint64_t counted = elapsed / l->timer_divisor;
    return counted >= l->timer_initial ? 0 : (uint32_t)(l->timer_initial - counted);
}

bool lapic_timer_fired(struct lapic *l)
{
    if (!l->timer_running)
        return false;
    if (!timer_periodic(l))
        l->timer_running = false;
    uint32_t lvt = l->lvt[LAPIC_LVT_TIMER_INDEX];
    if (lvt & LAPIC_LVT_MASKED)
        return false;
    return lapic_accept(l, (uint8_t)lvt, false);
}

/* ---- Registers ------------------------------------------------------------ */

bool lapic_needs_clock(uint32_t offset)
{
    offset &= ~0xFu;
    return offset == LAPIC_TIMER_CURRENT || offset == LAPIC_TIMER_INITIAL ||
           offset == LAPIC_LVT_TIMER;
}

static int lvt_index(uint32_t reg)
{
    if (reg == LAPIC_LVT_CMCI)
        return LAPIC_LVT_CMCI_INDEX;
    if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR)
        return (int)((reg - LAPIC_LVT_TIMER) >> 4);
    return -1;
}

static uint32_t register_read(struct lapic *l, uint32_t reg, uint64_t now)
{
    int lvt = lvt_index(reg);
    if (lvt >= 0)
        return l->lvt[lvt];
    if (reg >= LAPIC_ISR && reg < LAPIC_ISR + 0x80)
        return bitmap_register(l->page->isr, (reg - LAPIC_ISR) >> 4);
    if (reg >= LAPIC_TMR && reg < LAPIC_TMR + 0x80)
        return bitmap_register(l->page->eoi_exit, (reg - LAPIC_TMR) >> 4);
    if (reg >= LAPIC_IRR && reg < LAPIC_IRR + 0x80)
        return bitmap_register(l->page->irr, (reg - LAPIC_IRR) >> 4);
    switch (reg) {
    case LAPIC_ID: return l->id;
    case LAPIC_VER: return LAPIC_VERSION;
    case LAPIC_TPR: return lapic_tpr(l);
    case LAPIC_PPR: return lapic_ppr(l);
    case LAPIC_LDR: return l->ldr;
    case LAPIC_DFR: return l->dfr | DFR_RESERVED;
    case LAPIC_SVR: return l->svr;
    case LAPIC_ESR: return l->esr;
    case LAPIC_ICR_LOW: return l->icr_low;
    case LAPIC_ICR_HIGH: return l->icr_high;
    case LAPIC_TIMER_INITIAL: return l->timer_initial;
    case LAPIC_TIMER_CURRENT: return timer_current(l, now);
    case LAPIC_TIMER_DIVIDE: return l->timer_divide_config;
    default: return 0;   /* APR, RRD, reserved */
    }
}

uint32_t lapic_read(struct lapic *l, uint32_t offset, unsigned size, uint64_t now)
{
    unsigned byte = offset & 0xFu;
    if (offset >= LAPIC_SIZE || byte >= 4 || size == 0)
        return 0;
    uint32_t value = register_read(l, offset & ~0xFu, now) >> (8 * byte);
    unsigned bytes = size < 4 - byte ? size : 4 - byte;
    return bytes >= 4 ? value : value & ((1u << (8 * bytes)) - 1);
}

static void lapic_eoi(struct lapic *l, struct lapic_write_effect *effect)
{
    int v = bitmap_highest(l->page->isr);
    if (v < 0)
        return;
    bitmap_clear(l->page->isr, (unsigned)v);
    if (bitmap_test(l->page->eoi_exit, (unsigned)v)) {
        effect->eoi_broadcast = true;
        effect->eoi_vector = (uint8_t)v;
    }
}

static void icr_send(struct lapic *l, struct lapic_write_effect *effect)
{
    uint32_t low = l->icr_low;
    struct apic_message m = {
        .vector = (uint8_t)low,
        .delivery_mode = (uint8_t)((low >> 8) & 7u),
        .logical = (low >> 11) & 1u,
        .level = (low >> 15) & 1u,
        .shorthand = (uint8_t)((low >> 18) & 3u),
        .destination = (uint8_t)(l->icr_high >> 24),
        .source = l->index,
    };
    if ((m.delivery_mode == APIC_DM_FIXED || m.delivery_mode == APIC_DM_LOWEST) && m.vector < 16) {
        lapic_error(l, LAPIC_ESR_SEND_ILLEGAL);
        return;
    }
    /* INIT level de-assert (level 0, level-triggered): only the 82489DX
     * acted on it; as QEMU and KVM, nothing is sent. */
    if (m.delivery_mode == APIC_DM_INIT && !(low & (1u << 14)) && (low & (1u << 15)))
        return;
    effect->send = true;
    effect->message = m;
}

void lapic_write(struct lapic *l, uint32_t offset, unsigned size, uint32_t value, uint64_t now,
                 struct lapic_write_effect *effect)
{
    *effect = (struct lapic_write_effect){ 0 };
    if (offset >= LAPIC_SIZE || (offset & 0xFu) != 0 || size < 4)
        return;
    uint32_t reg = offset;
    int lvt = lvt_index(reg);
    if (lvt >= 0) {
        uint32_t v = value & lvt_writable[lvt];
        if (!lapic_enabled(l))
            v |= LAPIC_LVT_MASKED;   /* SDM §10.4.7.2: masks cannot be cleared */
        uint32_t was = l->lvt[lvt];
        if (lvt == LAPIC_LVT_TIMER_INDEX) {
            /* The kernel's timer fired a one-shot that is due (lapic.h):
             * it has stopped, and must not be re-armed as it was. */
            if (l->timer_running && !timer_periodic(l) && now >= lapic_timer_deadline(l))
                l->timer_running = false;
            l->timer_changed = true;   /* a new vector or mask to bind */
        }
        l->lvt[lvt] = (was & ~lvt_writable[lvt]) | v;
        if (lvt == LAPIC_LVT_TIMER_INDEX && ((was ^ v) & LAPIC_LVT_PERIODIC) && l->timer_running) {
            /* A mode switch of a running timer: count again from now. */
            timer_start(l, now);
        }
        return;
    }
    switch (reg) {
    case LAPIC_ID:
        l->id = value & 0xFF000000u;
        break;
    case LAPIC_TPR:
        __atomic_store_n(&l->page->tpr, value & 0xFFu, __ATOMIC_RELEASE);
        break;
    case LAPIC_EOI:
        lapic_eoi(l, effect);
        break;
    case LAPIC_LDR:
        l->ldr = value & 0xFF000000u;
        break;
    case LAPIC_DFR:
        l->dfr = (value & 0xF0000000u) | DFR_RESERVED;
        break;
    case LAPIC_SVR:
        l->svr = value & SVR_BITS;
        if (!lapic_enabled(l)) {
            for (unsigned i = 0; i < LAPIC_LVTS; i++)
                l->lvt[i] |= LAPIC_LVT_MASKED;
            l->timer_changed = true;   /* unbind the timer's vector */
        }
        break;
    case LAPIC_ESR:
        /* SDM §10.5.3: a write makes the errors since the last write readable. */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        break;
    case LAPIC_ICR_LOW:
        l->icr_low = value & ICR_LOW_BITS;
        icr_send(l, effect);
        break;
    case LAPIC_ICR_HIGH:
        l->icr_high = value & 0xFF000000u;
        break;
    case LAPIC_TIMER_INITIAL:
        l->timer_initial = value;
        timer_start(l, now);
        break;
    case LAPIC_TIMER_DIVIDE:
        l->timer_divide_config = value & 0xBu;
        break;
    default:
        break;   /* read-only or reserved */
    }
}
