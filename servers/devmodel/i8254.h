/* SPDX-License-Identifier: MIT */
/*
 * The Intel 8254 programmable interval timer and the PC's system control
 * port B (0x61) that gates and reads its channel 2: pure logic, no
 * syscalls, so that tests/unit/test_i8254.c compiles it on the host.  Every
 * call takes `now`, the host clock in nanoseconds (coco_clock() in the
 * server, a fake clock in the test); the counters run at I8254_HZ from it.
 *
 * Time inside a channel is `d`, the number of input clocks since its count
 * was loaded (or its gate triggered it), as in the 8254 data sheet's
 * timing diagrams: what the counter reads and what OUT is are functions of
 * d, the mode and the count, so nothing has to run between accesses.
 *
 * Modes (data sheet, "Mode definitions"), with N the count (0 = 2^16, or
 * 10^4 in BCD):
 *   0  interrupt on terminal count: OUT low, high when d reaches N, stays
 *      high; the counter wraps on.  Gate low pauses counting.
 *   1  hardware retriggerable one-shot: a gate rising edge starts it; OUT
 *      low for N clocks.
 *   2  rate generator: OUT high, low for the one clock where the counter
 *      is 1, every N clocks.  Gate low stops it (OUT high); a rising edge
 *      reloads.
 *   3  square wave: OUT high for ceil(N/2) clocks, low for floor(N/2); the
 *      counter steps by 2.  Gate as in mode 2.
 *   4  software strobe: OUT low for one clock at d = N.  Gate low pauses.
 *   5  hardware strobe: as 4, started by a gate rising edge.
 * Channel 0's interrupt (ISA IRQ 0) is OUT's rising edges:
 * i8254_rises() counts them, i8254_next_rise() says when the next comes.
 *
 * Port 0x61 (PIIX4 "NMI status and control"): bit 0 channel 2 gate, bit 1
 * speaker data, bits 2-3 parity/IOCHK check enables (stored, read back),
 * bit 4 the refresh toggle (flips once per 15.085 us refresh period; a read
 * sees it flipped if a period passed since the last flip it saw, so a
 * delay loop that counts flips never runs faster than on hardware and
 * never hangs on aliasing), bit 5 channel 2's OUT, bits 6-7 (IOCHK, SERR)
 * always 0.
 */
#ifndef I8254_H
#define I8254_H

#include <stdbool.h>
#include <stdint.h>

#define I8254_HZ         1193182u   /* 14.31818 MHz / 12 */
#define I8254_CHANNELS   3u
#define I8254_PORTS      4u         /* 0x40-0x43 */
#define I8254_REFRESH_NS 15085u     /* port 0x61 bit 4 period (half a cycle) */
#define I8254_NEVER      UINT64_MAX

/* The access mode of a channel (control word bits 5:4). */
enum i8254_access {
    I8254_LATCH = 0,   /* only in a control word: counter latch command */
    I8254_LSB = 1,
    I8254_MSB = 2,
    I8254_WORD = 3,    /* LSB then MSB */
};

struct i8254_channel {
    uint8_t mode;            /* 0..5 (6 and 7 are 2 and 3) */
    uint8_t access;          /* enum i8254_access, 1..3 */
    bool bcd;
    bool gate;
    uint32_t count;          /* N in clocks: 1..65536 (1..10000 in BCD) */
    bool loaded;             /* a count was written since the control word */
    bool triggered;          /* modes 1 and 5: a gate edge came after the load */
    bool running;            /* d advances */
    uint64_t base_ns;        /* when running: d = base_d + clocks since base_ns */
    uint64_t base_d;
    bool null_count;         /* status bit 6 */
    uint64_t seen_d;         /* i8254_take_rises(): edges counted up to here */
    uint64_t pending_rises;  /* edges counted but not yet taken */
    uint32_t epoch;          /* moves whenever the timing changes (re-arm a timer) */

    bool write_msb;          /* WORD access: the next byte written is the MSB */
    uint8_t write_lsb;
    bool read_msb;           /* WORD access: the next byte read is the MSB */
    uint8_t latched_bytes;   /* counter latch: bytes left to read (0..2) */
    bool latch_msb_first;    /* MSB-only access: the latched byte is the MSB */
    uint16_t latch;
    bool status_latched;
    uint8_t status;
};

struct i8254 {
    struct i8254_channel ch[I8254_CHANNELS];
    uint8_t port61;          /* bits 0-3 as written */
    bool refresh;            /* port 0x61 bit 4 */
    uint64_t refresh_ns;     /* when the guest last saw it flip */
};

/* Power-on state: no channel programmed, gates of channels 0 and 1 high
 * (wired so on a PC), channel 2's gate from port 0x61 bit 0 (low). */
void i8254_reset(struct i8254 *pit, uint64_t now);

/* Ports 0x40-0x43 as `port` 0..3, one byte. */
uint8_t i8254_read(struct i8254 *pit, unsigned port, uint64_t now);
void i8254_write(struct i8254 *pit, unsigned port, uint8_t value, uint64_t now);

/* Port 0x61. */
uint8_t i8254_port61_read(struct i8254 *pit, uint64_t now);
void i8254_port61_write(struct i8254 *pit, uint8_t value, uint64_t now);

void i8254_set_gate(struct i8254 *pit, unsigned channel, bool gate, uint64_t now);
bool i8254_out(const struct i8254 *pit, unsigned channel, uint64_t now);
/* The counting element as a read would show it (binary or BCD). */
uint16_t i8254_count(const struct i8254 *pit, unsigned channel, uint64_t now);

/* The channel's d at `now`, or I8254_NEVER if it is not counting. */
uint64_t i8254_clocks(const struct i8254 *pit, unsigned channel, uint64_t now);
/* Rising edges of OUT for d in (d0, d1]. */
uint64_t i8254_rises(const struct i8254 *pit, unsigned channel, uint64_t d0, uint64_t d1);
/* The rising edges of OUT since the last call (channel 0: interrupts to
 * raise), including those before a reprogramming in between. */
uint64_t i8254_take_rises(struct i8254 *pit, unsigned channel, uint64_t now);
/* Host time of the first rising edge of OUT after d = `after` (pass the
 * channel's seen_d), or I8254_NEVER (not counting, or a one-shot done). */
uint64_t i8254_next_rise(const struct i8254 *pit, unsigned channel, uint64_t after);
/* For the periodic modes 2 and 3 the period in clocks, else 0. */
uint32_t i8254_period(const struct i8254 *pit, unsigned channel);

#endif
