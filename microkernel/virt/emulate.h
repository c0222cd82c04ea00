/* SPDX-License-Identifier: MIT */
/*
 * Executes one decoded MMIO instruction (decode.h) against the guest's
 * registers, in two steps around the bus access the caller performs:
 *
 *   emulate_prepare(insn, gpr, &acc)         what to do on the bus
 *   if acc.none: advance RIP, done           (REP with rCX = 0)
 *   if acc.read:  value = bus_read(acc.size)  (MOVS: at the source)
 *   emulate_complete(insn, gpr, &rflags, value, &wval)
 *   if acc.write: bus_write(acc.size, acc.read ? wval : acc.value)
 *                                            (MOVS/STOS: at ES:[rDI] before
 *                                             complete moved rDI: take the
 *                                             address first)
 *   EMULATE_DONE: RIP += insn.length; EMULATE_REPEAT: leave RIP (REP loop)
 *
 * Register file: gpr[16] in the encoding order RAX RCX RDX RBX RSP RBP RSI
 * RDI R8..R15.  Pure logic, no libc, no floating point.
 */
#ifndef VIRT_EMULATE_H
#define VIRT_EMULATE_H

#include <stdbool.h>
#include <stdint.h>

#include "virt/decode.h"

/* RFLAGS bits (SDM vol. 1 §3.4.3). */
#define EMULATE_CF 0x0001ull
#define EMULATE_PF 0x0004ull
#define EMULATE_AF 0x0010ull
#define EMULATE_ZF 0x0040ull
#define EMULATE_SF 0x0080ull
#define EMULATE_DF 0x0400ull
#define EMULATE_OF 0x0800ull
#define EMULATE_STATUS_FLAGS (EMULATE_CF | EMULATE_PF | EMULATE_AF | EMULATE_ZF | EMULATE_SF | EMULATE_OF)

enum emulate_status {
    EMULATE_DONE = 0,    /* advance RIP by insn->length */
    EMULATE_REPEAT = 1,  /* REP string op with iterations left: keep RIP */
    EMULATE_EINVAL = -1, /* an insn decode_insn() cannot produce */
};

struct emulate_access {
    bool none;           /* REP with rCX = 0: no access, the instruction is done */
    bool read;           /* read `size` bytes first (MOVS: from the source) */
    bool write;          /* then write `size` bytes */
    uint8_t size;
    uint64_t value;      /* the value to write when write && !read */
};

/* A register write with the x86 width rules (SDM vol. 1 §3.4.1.1): 8- and
 * 16-bit writes merge, 32-bit writes zero bits 63:32; `high`: AH CH DH BH. */
void emulate_reg_write(uint64_t gpr[16], int reg, bool high, unsigned size, uint64_t v);

int emulate_prepare(const struct decoded_insn *insn, const uint64_t gpr[16],
                    struct emulate_access *acc);

/* Applies the instruction: destination register, RFLAGS, rSI/rDI/rCX.
 * `value_read` is what the read of emulate_prepare() returned (ignored if
 * there was none); *value_write receives the value to write back when the
 * access is read-then-write (RMW ops, XCHG, MOVS) and the value PUSH stores
 * on the stack.  CMPS compares two elements: value_read is seg:[rSI], and
 * *value_write holds ES:[rDI] on entry.  PUSH/POP leave rSP to the caller,
 * which knows the stack's address size; POP's value is the caller's too. */
int emulate_complete(const struct decoded_insn *insn, uint64_t gpr[16], uint64_t *rflags,
                     uint64_t value_read, uint64_t *value_write);

#endif
