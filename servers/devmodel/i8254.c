/* SPDX-License-Identifier: MIT */
/* The 8254 PIT and port 0x61 (i8254.h). */
#include "i8254.h"

#include "devclock.h"

#define CONTROL_PORT 3u
#define READBACK     3u          /* control word SC field 11 */
#define RB_NO_COUNT  0x20u       /* read-back: COUNT# */
#define RB_NO_STATUS 0x10u       /* read-back: STATUS# */
#define STATUS_OUT   0x80u
#define STATUS_NULL  0x40u

static uint32_t modulus(const struct i8254_channel *c)
{
    return c->bcd ? 10000u : 65536u;
}

static uint32_t bcd_decode(uint16_t v)
{
    return (v & 0xfu) + ((v >> 4) & 0xfu) * 10u + ((v >> 8) & 0xfu) * 100u + ((v >> 12) & 0xfu) * 1000u;
}

static uint16_t bcd_encode(uint32_t v)
{
    return (uint16_t)(v % 10u | (v / 10u % 10u) << 4 | (v / 100u % 10u) << 8 | (v / 1000u % 10u) << 12);
}

/* Modes 6 and 7 are aliases of 2 and 3 (data sheet, control word). */
static unsigned mode_of(const struct i8254_channel *c)
{
    return c->mode > 5 ? c->mode - 4u : c->mode;
}

static bool gate_started(const struct i8254_channel *c)
{
    unsigned m = mode_of(c);
    return m == 1 || m == 5;
}

/* A count is loaded and, in modes 1 and 5, a gate edge triggered it. */
static bool active(const struct i8254_channel *c)
{
    return c->loaded && (!gate_started(c) || c->triggered);
}

static uint64_t clocks(const struct i8254_channel *c, uint64_t now)
{
    if (!active(c))
        return I8254_NEVER;
    if (!c->running || now < c->base_ns)
        return c->base_d;
    return c->base_d + devclock_ticks(now - c->base_ns, I8254_HZ);
}

uint64_t i8254_clocks(const struct i8254 *pit, unsigned channel, uint64_t now)
{
    return clocks(&pit->ch[channel], now);
}

static uint64_t rises(const struct i8254_channel *c, uint64_t d0, uint64_t d1)
{
    uint64_t n = c->count;

    if (d1 <= d0)
        return 0;
    switch (mode_of(c)) {
    case 2:
    case 3:
        return d1 / n - d0 / n;   /* OUT rises at d = k*N */
    case 0:
    case 1:
        return d0 < n && n <= d1;
    default:
        return d0 < n + 1 && n + 1 <= d1;   /* the strobe ends at N + 1 */
    }
}

uint64_t i8254_rises(const struct i8254 *pit, unsigned channel, uint64_t d0, uint64_t d1)
{
    return rises(&pit->ch[channel], d0, d1);
}

/* Before anything changes a channel: count the rising edges so far, so
 * that a reprogramming does not lose an interrupt already due. */
static void account(struct i8254_channel *c, uint64_t now)
{
    uint64_t d = clocks(c, now);
    if (d == I8254_NEVER)
        return;
    c->pending_rises += rises(c, c->seen_d, d);
    c->seen_d = d;
}

/* Start counting from d = 0 at `now` (a load or a gate trigger). */
static void restart(struct i8254_channel *c, uint64_t now, bool running)
{
    c->base_d = 0;
    c->base_ns = now;
    c->seen_d = 0;
    c->running = running;
    c->epoch++;
}

static void freeze(struct i8254_channel *c, uint64_t now)
{
    c->base_d = clocks(c, now);
    c->running = false;
    c->epoch++;
}

static void resume(struct i8254_channel *c, uint64_t now)
{
    c->base_ns = now;
    c->running = true;
    c->epoch++;
}

static bool out(const struct i8254_channel *c, uint64_t now)
{
    unsigned m = mode_of(c);
    uint64_t n = c->count;

    if (!c->loaded)
        return m != 0;   /* a control word sets OUT low in mode 0, high otherwise */
    if (!active(c))
        return true;     /* modes 1 and 5 before their trigger */
    uint64_t d = clocks(c, now);
    switch (m) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        return !c->running || n < 2 || d % n != n - 1;
    case 3:
        return !c->running || d % n < (n + 1) / 2;
    default:
        return d != n;
    }
}

bool i8254_out(const struct i8254 *pit, unsigned channel, uint64_t now)
{
    return out(&pit->ch[channel], now);
}

static uint16_t count_now(const struct i8254_channel *c, uint64_t now)
{
    uint64_t n = c->count, d = clocks(c, now), v;

    if (d == I8254_NEVER) {
        v = n % modulus(c);
    } else {
        switch (mode_of(c)) {
        case 2:
            v = n - d % n;
            break;
        case 3:
            v = n - (2 * d) % n;
            break;
        default:
            v = (n + modulus(c) - d % modulus(c)) % modulus(c);
            break;
        }
        v %= modulus(c);   /* N = 2^16 (10^4) reads as 0 */
    }
    return c->bcd ? bcd_encode((uint32_t)v) : (uint16_t)v;
}

uint16_t i8254_count(const struct i8254 *pit, unsigned channel, uint64_t now)
{
    return count_now(&pit->ch[channel], now);
}

void i8254_reset(struct i8254 *pit, uint64_t now)
{
    *pit = (struct i8254){ .refresh_ns = now };
    for (unsigned i = 0; i < I8254_CHANNELS; i++) {
        pit->ch[i].access = I8254_WORD;
        pit->ch[i].gate = i != 2;
    }
}

void i8254_set_gate(struct i8254 *pit, unsigned channel, bool gate, uint64_t now)
{
    struct i8254_channel *c = &pit->ch[channel];

    if (c->gate == gate)
        return;
    account(c, now);
    c->gate = gate;
    switch (mode_of(c)) {
    case 0:
    case 4:
        /* Gate low pauses counting, high resumes. */
        if (!c->loaded)
            break;
        if (gate)
            resume(c, now);
        else
            freeze(c, now);
        break;
    case 2:
    case 3:
        /* Gate low stops the counter (OUT high); a rising edge reloads. */
        if (!c->loaded)
            break;
        if (gate)
            restart(c, now, true);
        else
            freeze(c, now);
        break;
    default:
        /* Modes 1 and 5: a rising edge (re)triggers. */
        if (gate && c->loaded) {
            c->triggered = true;
            restart(c, now, true);
        }
        break;
    }
}

static void latch_count(struct i8254_channel *c, uint64_t now)
{
    if (c->latched_bytes)
        return;   /* the first latch holds until it is read */
    c->latch = count_now(c, now);
    c->latched_bytes = c->access == I8254_WORD ? 2 : 1;
}

static void latch_status(struct i8254_channel *c, uint64_t now)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)((out(c, now) ? STATUS_OUT : 0) | (c->null_count ? STATUS_NULL : 0) |
                          c->access << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
    c->status_latched = true;
}

static void write_control(struct i8254 *pit, uint8_t value, uint64_t now)
{
    unsigned sc = value >> 6, access = (value >> 4) & 3u;

    if (sc == READBACK) {
        for (unsigned i = 0; i < I8254_CHANNELS; i++) {
            if (!(value & (2u << i)))
                continue;
            if (!(value & RB_NO_COUNT))
                latch_count(&pit->ch[i], now);
            if (!(value & RB_NO_STATUS))
                latch_status(&pit->ch[i], now);
        }
        return;
    }
    struct i8254_channel *c = &pit->ch[sc];
    if (access == I8254_LATCH) {
        latch_count(c, now);
        return;
    }
    /* A control word resets the channel's logic: it waits for a count. */
    account(c, now);
    c->mode = (value >> 1) & 7u;
    c->access = (uint8_t)access;
    c->bcd = value & 1u;
    c->loaded = false;
    c->triggered = false;
    c->running = false;
    c->null_count = true;
    c->write_msb = false;
    c->read_msb = false;
    c->latched_bytes = 0;
    c->status_latched = false;
    c->epoch++;
}

static void load_count(struct i8254_channel *c, uint16_t raw, uint64_t now)
{
    uint32_t n = c->bcd ? bcd_decode(raw) : raw;

    account(c, now);
    c->count = n == 0 ? modulus(c) : n;
    c->loaded = true;
    c->null_count = false;
    c->triggered = false;
    /* QEMU and this model start the new count at once in every mode (the
     * data sheet lets modes 2 and 3 finish the current period first). */
    restart(c, now, gate_started(c) ? false : c->gate);
}

static void write_count(struct i8254_channel *c, uint8_t value, uint64_t now)
{
    switch (c->access) {
    case I8254_LSB:
        load_count(c, value, now);
        break;
    case I8254_MSB:
        load_count(c, (uint16_t)(value << 8), now);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = value;
            c->write_msb = true;
            if (mode_of(c) == 0) {
                /* Data sheet, mode 0: the first byte stops the count and
                 * sets OUT low at once. */
                account(c, now);
                c->loaded = false;
                c->epoch++;
            }
            break;
        }
        c->write_msb = false;
        load_count(c, (uint16_t)(c->write_lsb | value << 8), now);
        break;
    }
}

static uint8_t read_counter(struct i8254_channel *c, uint64_t now)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latched_bytes) {
        uint8_t v;
        if (c->access == I8254_MSB)
            v = (uint8_t)(c->latch >> 8);
        else if (c->latched_bytes == 2 || c->access == I8254_LSB)
            v = (uint8_t)c->latch;
        else
            v = (uint8_t)(c->latch >> 8);
        c->latched_bytes--;
        return v;
    }
    uint16_t count = count_now(c, now);
    switch (c->access) {
    case I8254_LSB:
        return (uint8_t)count;
    case I8254_MSB:
        return (uint8_t)(count >> 8);
    default:
        c->read_msb = !c->read_msb;
        return c->read_msb ? (uint8_t)count : (uint8_t)(count >> 8);
    }
}

uint8_t i8254_read(struct i8254 *pit, unsigned port, uint64_t now)
{
    if (port >= CONTROL_PORT)
        return 0;   /* the control register is write-only (QEMU reads 0) */
    return read_counter(&pit->ch[port], now);
}

void i8254_write(struct i8254 *pit, unsigned port, uint8_t value, uint64_t now)
{
    if (port == CONTROL_PORT)
        write_control(pit, value, now);
    else if (port < CONTROL_PORT)
        write_count(&pit->ch[port], value, now);
}

uint64_t i8254_take_rises(struct i8254 *pit, unsigned channel, uint64_t now)
{
    struct i8254_channel *c = &pit->ch[channel];
    account(c, now);
    uint64_t n = c->pending_rises;
    c->pending_rises = 0;
    return n;
}

uint64_t i8254_next_rise(const struct i8254 *pit, unsigned channel, uint64_t after)
{
    const struct i8254_channel *c = &pit->ch[channel];
    uint64_t n = c->count, d;

    if (!active(c) || !c->running)
        return I8254_NEVER;
    switch (mode_of(c)) {
    case 2:
    case 3:
        d = (after / n + 1) * n;
        break;
    case 0:
    case 1:
        if (after >= n)
            return I8254_NEVER;
        d = n;
        break;
    default:
        if (after >= n + 1)
            return I8254_NEVER;
        d = n + 1;
        break;
    }
    return c->base_ns + devclock_ns(d - c->base_d, I8254_HZ);
}

uint32_t i8254_period(const struct i8254 *pit, unsigned channel)
{
    const struct i8254_channel *c = &pit->ch[channel];
    unsigned m = mode_of(c);
    return c->loaded && (m == 2 || m == 3) ? c->count : 0;
}

uint8_t i8254_port61_read(struct i8254 *pit, uint64_t now)
{
    if (now - pit->refresh_ns >= I8254_REFRESH_NS) {
        pit->refresh = !pit->refresh;
        pit->refresh_ns = now;
    }
    return (uint8_t)((pit->port61 & 0x0fu) | (pit->refresh ? 0x10u : 0) |
                     (out(&pit->ch[2], now) ? 0x20u : 0));
}

void i8254_port61_write(struct i8254 *pit, uint8_t value, uint64_t now)
{
    pit->port61 = value & 0x0fu;
    i8254_set_gate(pit, 2, value & 1u, now);
}
