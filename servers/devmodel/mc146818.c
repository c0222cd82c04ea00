/* SPDX-License-Identifier: MIT */
/* MC146818 RTC and CMOS RAM register logic (see mc146818.h). */
#include "mc146818.h"

#include <string.h>

#define KIB          1024ull
#define MIB          (1024ull * KIB)
#define GIB          (1024ull * MIB)
#define RTC_HZ       32768ull
#define DAY_SECONDS  86400
#define FLAGS_IRQ    (RTC_C_PF | RTC_C_AF | RTC_C_UF)   /* flags with an enable bit in B */
#define DEFAULT_A    0x26u
#define DEFAULT_B    RTC_B_24H

/* ---- Calendar ---------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (the era method:
 * 400-year cycles of 146097 days, years starting in March). */
static int64_t days_from_date(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void mc146818_date_from_seconds(int64_t seconds, struct mc146818_date *d)
{
    int64_t days = seconds >= 0 ? seconds / DAY_SECONDS : -((-seconds + DAY_SECONDS - 1) / DAY_SECONDS);
    int64_t rest = seconds - days * DAY_SECONDS;
    d->hour = (unsigned)(rest / 3600);
    d->minute = (unsigned)(rest / 60 % 60);
    d->second = (unsigned)(rest % 60);
    d->weekday = (unsigned)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday (4) */

    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    d->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    d->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    d->year = yoe + era * 400 + (d->month <= 2);
}

int64_t mc146818_seconds_from_date(const struct mc146818_date *d)
{
    return days_from_date(d->year, d->month, d->day) * DAY_SECONDS + d->hour * 3600 +
           d->minute * 60 + d->second;
}

/* ---- Register formats -------------------------------------------------- */

static bool binary_mode(const struct mc146818 *rtc)
{
    return (rtc->cmos[RTC_REG_B] & RTC_B_DM) != 0;
}

static uint8_t to_reg(const struct mc146818 *rtc, unsigned v)
{
    return binary_mode(rtc) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned from_reg(const struct mc146818 *rtc, uint8_t v)
{
    return binary_mode(rtc) ? v : (unsigned)(v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(const struct mc146818 *rtc, unsigned hour)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return to_reg(rtc, hour);
    unsigned h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(to_reg(rtc, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned hour_from_reg(const struct mc146818 *rtc, uint8_t v)
{
    unsigned hour = from_reg(rtc, v & 0x7f);
    if (!(rtc->cmos[RTC_REG_B] & RTC_B_24H))
        hour = hour % 12 + ((v & 0x80) ? 12 : 0);
    return hour;
}

static void registers_from_seconds(struct mc146818 *rtc, int64_t seconds)
{
    struct mc146818_date d;
    mc146818_date_from_seconds(seconds, &d);
    uint8_t *c = rtc->cmos;
    c[RTC_SECONDS] = to_reg(rtc, d.second);
    c[RTC_MINUTES] = to_reg(rtc, d.minute);
    c[RTC_HOURS] = hour_to_reg(rtc, d.hour);
    c[RTC_DAY_OF_WEEK] = to_reg(rtc, d.weekday + 1);
    c[RTC_DAY_OF_MONTH] = to_reg(rtc, d.day);
    c[RTC_MONTH] = to_reg(rtc, d.month);
    c[RTC_YEAR] = to_reg(rtc, (unsigned)(d.year % 100));
    c[RTC_CENTURY] = to_reg(rtc, (unsigned)(d.year / 100 % 100));
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The time the registers hold.  A guest may have written anything: values
 * out of range are clamped, so the result is a date, never undefined. */
static int64_t seconds_from_registers(const struct mc146818 *rtc)
{
    const uint8_t *c = rtc->cmos;
    struct mc146818_date d = {
        .year = (int64_t)clamp(from_reg(rtc, c[RTC_CENTURY]), 0, 99) * 100 +
                clamp(from_reg(rtc, c[RTC_YEAR]), 0, 99),
        .month = clamp(from_reg(rtc, c[RTC_MONTH]), 1, 12),
        .day = clamp(from_reg(rtc, c[RTC_DAY_OF_MONTH]), 1, 31),
        .hour = clamp(hour_from_reg(rtc, c[RTC_HOURS]), 0, 23),
        .minute = clamp(from_reg(rtc, c[RTC_MINUTES]), 0, 59),
        .second = clamp(from_reg(rtc, c[RTC_SECONDS]), 0, 59),
    };
    return mc146818_seconds_from_date(&d);
}

/* ---- Time -------------------------------------------------------------- */

static bool updates_run(const struct mc146818 *rtc)
{
    return !(rtc->cmos[RTC_REG_B] & RTC_B_SET) && (rtc->cmos[RTC_REG_A] & 0x70) <= 0x20;
}

static bool divider_held(const struct mc146818 *rtc)
{
    return (rtc->cmos[RTC_REG_A] & 0x60) == 0x60;
}

/* Nanoseconds since base_sec began, at `now_ns` (clamped: a clock that
 * went backwards reads as no time passed). */
static uint64_t elapsed_ns(const struct mc146818 *rtc, uint64_t now_ns)
{
    return rtc->phase_ns + (now_ns > rtc->base_ns ? now_ns - rtc->base_ns : 0);
}

static int64_t seconds_at(const struct mc146818 *rtc, uint64_t now_ns)
{
    return rtc->base_sec + (int64_t)(elapsed_ns(rtc, now_ns) / RTC_NS_PER_SEC);
}

/* The next update cycle after `now_ns`, or 0 while the divider is held. */
static void update_schedule(struct mc146818 *rtc, uint64_t now_ns)
{
    rtc->next_update_ns = divider_held(rtc)
        ? 0 : now_ns + RTC_NS_PER_SEC - elapsed_ns(rtc, now_ns) % RTC_NS_PER_SEC;
}

/* Restart the time from the registers at `now_ns`, `phase_ns` into a second. */
static void time_from_registers(struct mc146818 *rtc, uint64_t now_ns, uint64_t phase_ns)
{
    rtc->base_sec = seconds_from_registers(rtc);
    rtc->base_ns = now_ns;
    rtc->phase_ns = phase_ns;
    update_schedule(rtc, now_ns);
}

static void registers_refresh(struct mc146818 *rtc, uint64_t now_ns)
{
    if (updates_run(rtc))
        registers_from_seconds(rtc, seconds_at(rtc, now_ns));
}

/* ---- Interrupts -------------------------------------------------------- */

static void flags_raise(struct mc146818 *rtc, uint8_t flags)
{
    uint8_t *c = &rtc->cmos[RTC_REG_C];
    uint8_t fresh = flags & (uint8_t)~*c;
    *c |= flags;
    if (fresh & rtc->cmos[RTC_REG_B] & FLAGS_IRQ) {
        *c |= RTC_C_IRQF;
        rtc->irq = true;
    }
}

static uint64_t periodic_ticks(const struct mc146818 *rtc)
{
    unsigned rate = rtc->cmos[RTC_REG_A] & 0x0f;
    if (!(rtc->cmos[RTC_REG_B] & RTC_B_PIE) || rate == 0)
        return 0;
    if (rate <= 2)
        rate += 7;
    return 1ull << (rate - 1);
}

/* The first tick of the 32768 Hz chain's period after `now_ns`. */
static void periodic_schedule(struct mc146818 *rtc, uint64_t now_ns)
{
    uint64_t period = periodic_ticks(rtc);
    if (period == 0) {
        rtc->next_periodic_ns = 0;
        return;
    }
    /* Split so that the products stay within 64 bits for any clock. */
    uint64_t cycles = now_ns / RTC_NS_PER_SEC * RTC_HZ + now_ns % RTC_NS_PER_SEC * RTC_HZ / RTC_NS_PER_SEC;
    uint64_t next = (cycles / period + 1) * period;
    rtc->next_periodic_ns = next / RTC_HZ * RTC_NS_PER_SEC +
                            (next % RTC_HZ * RTC_NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
}

static bool alarm_matches(const struct mc146818 *rtc)
{
    static const uint8_t pairs[3][2] = {
        { RTC_SECONDS_ALARM, RTC_SECONDS }, { RTC_MINUTES_ALARM, RTC_MINUTES },
        { RTC_HOURS_ALARM, RTC_HOURS },
    };
    for (unsigned i = 0; i < 3; i++) {
        uint8_t alarm = rtc->cmos[pairs[i][0]];
        if ((alarm & 0xc0) != 0xc0 && alarm != rtc->cmos[pairs[i][1]])   /* 11xxxxxx: don't care */
            return false;
    }
    return true;
}

void mc146818_advance(struct mc146818 *rtc, uint64_t now_ns)
{
    if (rtc->next_periodic_ns != 0 && now_ns >= rtc->next_periodic_ns) {
        flags_raise(rtc, RTC_C_PF);
        periodic_schedule(rtc, now_ns);   /* ticks missed meanwhile are dropped */
    }
    if (rtc->next_update_ns == 0 || now_ns < rtc->next_update_ns)
        return;
    /* Each update cycle due: the registers take the new second, then UF
     * and, if the alarm matches, AF.  An alarm matches at most once a day,
     * so after a day of missed cycles only the last day's matter. */
    uint64_t missed = (now_ns - rtc->next_update_ns) / RTC_NS_PER_SEC;
    if (missed > DAY_SECONDS)
        rtc->next_update_ns += (missed - DAY_SECONDS) * RTC_NS_PER_SEC;
    uint8_t flags = 0;
    while (now_ns >= rtc->next_update_ns) {
        registers_refresh(rtc, rtc->next_update_ns);
        flags |= RTC_C_UF;
        if (alarm_matches(rtc))
            flags |= RTC_C_AF;
        rtc->next_update_ns += RTC_NS_PER_SEC;
    }
    flags_raise(rtc, flags);
}

uint64_t mc146818_next_deadline(const struct mc146818 *rtc)
{
    uint64_t next = rtc->next_periodic_ns;
    if ((rtc->cmos[RTC_REG_B] & (RTC_B_UIE | RTC_B_AIE)) && rtc->next_update_ns != 0 &&
        (next == 0 || rtc->next_update_ns < next))
        next = rtc->next_update_ns;
    return next;
}

/* ---- Power-on ---------------------------------------------------------- */

static void cmos_put16(struct mc146818 *rtc, unsigned index, uint64_t value, uint64_t max)
{
    if (value > max)
        value = max;
    rtc->cmos[index] = (uint8_t)value;
    rtc->cmos[index + 1] = (uint8_t)(value >> 8);
}

void mc146818_init(struct mc146818 *rtc, uint64_t now_ns, int64_t epoch_sec,
                   uint64_t ram_bytes, unsigned ncpus)
{
    memset(rtc, 0, sizeof *rtc);
    rtc->cmos[RTC_REG_A] = DEFAULT_A;
    rtc->cmos[RTC_REG_B] = DEFAULT_B;
    rtc->cmos[RTC_REG_D] = RTC_D_VRT;

    /* Guest RAM is one block at GPA 0 (servers/vmm/vm.c). */
    uint64_t below_4g = ram_bytes < 4 * GIB ? ram_bytes : 4 * GIB;
    uint64_t above_4g = ram_bytes - below_4g;
    cmos_put16(rtc, 0x15, below_4g / KIB, 640);
    cmos_put16(rtc, 0x17, below_4g > MIB ? (below_4g - MIB) / KIB : 0, 0xffff);
    cmos_put16(rtc, 0x30, below_4g > MIB ? (below_4g - MIB) / KIB : 0, 0xffff);
    cmos_put16(rtc, 0x34, below_4g > 16 * MIB ? (below_4g - 16 * MIB) / (64 * KIB) : 0, 0xffff);
    rtc->cmos[0x5b] = (uint8_t)(above_4g / (64 * KIB));
    rtc->cmos[0x5c] = (uint8_t)(above_4g / (64 * KIB) >> 8);
    rtc->cmos[0x5d] = (uint8_t)(above_4g / (64 * KIB) >> 16);
    rtc->cmos[RTC_EQUIPMENT] = 0x02 | 0x04;   /* FPU, PS/2 mouse; no floppy drive */
    rtc->cmos[RTC_CPUS] = (uint8_t)(ncpus ? ncpus - 1 : 0);

    rtc->base_sec = epoch_sec;
    rtc->base_ns = now_ns;
    registers_from_seconds(rtc, epoch_sec);
    update_schedule(rtc, now_ns);
}

/* ---- Guest accesses ---------------------------------------------------- */

uint8_t mc146818_read(struct mc146818 *rtc, unsigned offset, uint64_t now_ns)
{
    if (offset != 1)
        return 0xff;
    mc146818_advance(rtc, now_ns);
    if (rtc->index == RTC_PS2_CENTURY)
        rtc->index = RTC_CENTURY;
    uint8_t value = rtc->cmos[rtc->index];
    switch (rtc->index) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        registers_refresh(rtc, now_ns);
        value = rtc->cmos[rtc->index];
        break;
    case RTC_REG_A:
        if (updates_run(rtc) && elapsed_ns(rtc, now_ns) % RTC_NS_PER_SEC >= RTC_NS_PER_SEC - RTC_UIP_NS)
            value |= RTC_A_UIP;
        break;
    case RTC_REG_C:
        rtc->cmos[RTC_REG_C] = 0;
        rtc->irq = false;
        break;
    default:
        break;
    }
    return value;
}

static void write_reg_a(struct mc146818 *rtc, uint8_t value, uint64_t now_ns)
{
    bool was_held = divider_held(rtc);
    registers_refresh(rtc, now_ns);            /* the time so far, in case updates stop */
    rtc->cmos[RTC_REG_A] = value & (uint8_t)~RTC_A_UIP;   /* UIP is read-only */
    if (was_held && (value & 0x70) <= 0x20 && !(rtc->cmos[RTC_REG_B] & RTC_B_SET))
        time_from_registers(rtc, now_ns, RTC_NS_PER_SEC / 2);   /* first update 500 ms later */
    else if (divider_held(rtc))
        rtc->next_update_ns = 0;
    else if (was_held)
        update_schedule(rtc, now_ns);
    periodic_schedule(rtc, now_ns);
}

static void write_reg_b(struct mc146818 *rtc, uint8_t value, uint64_t now_ns)
{
    uint8_t old = rtc->cmos[RTC_REG_B];
    if (value & RTC_B_SET) {
        registers_refresh(rtc, now_ns);        /* in the old format, as the chip stops */
        value &= (uint8_t)~RTC_B_UIE;
    }
    rtc->cmos[RTC_REG_B] = value;
    if ((old & RTC_B_SET) && !(value & RTC_B_SET) && (rtc->cmos[RTC_REG_A] & 0x70) <= 0x20)
        time_from_registers(rtc, now_ns, elapsed_ns(rtc, now_ns) % RTC_NS_PER_SEC);
    /* An enable written while its flag is pending interrupts at once. */
    if (value & rtc->cmos[RTC_REG_C] & FLAGS_IRQ) {
        rtc->cmos[RTC_REG_C] |= RTC_C_IRQF;
        rtc->irq = true;
    } else {
        rtc->cmos[RTC_REG_C] &= (uint8_t)~RTC_C_IRQF;
        rtc->irq = false;
    }
    if ((old ^ value) & RTC_B_PIE)
        periodic_schedule(rtc, now_ns);
}

void mc146818_write(struct mc146818 *rtc, unsigned offset, uint8_t value, uint64_t now_ns)
{
    if (offset == 0) {
        rtc->index = value & 0x7f;
        rtc->nmi_disabled = (value & 0x80) != 0;
        return;
    }
    if (offset != 1)
        return;
    mc146818_advance(rtc, now_ns);
    if (rtc->index == RTC_PS2_CENTURY)
        rtc->index = RTC_CENTURY;
    switch (rtc->index) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        /* While updates run, the other registers are current first, so
         * that the new time is this byte plus the time now. */
        registers_refresh(rtc, now_ns);
        rtc->cmos[rtc->index] = value;
        if (updates_run(rtc))
            time_from_registers(rtc, now_ns, elapsed_ns(rtc, now_ns) % RTC_NS_PER_SEC);
        break;
    case RTC_REG_A:
        write_reg_a(rtc, value, now_ns);
        break;
    case RTC_REG_B:
        write_reg_b(rtc, value, now_ns);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;   /* read-only */
    default:
        rtc->cmos[rtc->index] = value;
        break;
    }
}
