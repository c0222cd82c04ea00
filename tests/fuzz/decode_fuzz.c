/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the MMIO instruction decoder and emulator
 * (microkernel/virt/decode.c, emulate.c).  Input: byte 0 picks the mode and
 * RFLAGS.DF, bytes 1-8 seed the register file, the rest are instruction
 * bytes.  Traps when a result breaks the contract: a length over 15 or over
 * what was available, a result that changes when only its own bytes are
 * given, an accepted instruction the emulator refuses, an access size that is
 * not the memory size, or a register written that the instruction does not
 * name.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virt/decode.h"
#include "virt/emulate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    enum decode_mode mode = (enum decode_mode)(data[0] % 3);
    uint64_t seed;
    memcpy(&seed, data + 1, 8);
    const uint8_t *bytes = data + 9;
    size_t avail = size - 9;

    struct decoded_insn d;
    int ret = decode_insn(bytes, avail, mode, &d);
    if (ret > 0 || ret < DECODE_ETOOLONG)
        __builtin_trap();
    if (ret == DECODE_ETRUNCATED && avail >= DECODE_MAX_LENGTH)
        __builtin_trap();       /* 15 bytes always suffice to decide */
    if (ret)
        return 0;
    if (d.length == 0 || d.length > DECODE_MAX_LENGTH || d.length > avail)
        __builtin_trap();

    /* The same bytes, exactly as many as the length: the same result. */
    struct decoded_insn again;
    if (decode_insn(bytes, d.length, mode, &again) || again.length != d.length || again.op != d.op ||
        again.op_size != d.op_size || again.mem_size != d.mem_size || again.addr_size != d.addr_size ||
        again.reg != d.reg || again.imm != d.imm || again.disp != d.disp || again.base != d.base ||
        again.index != d.index || again.scale != d.scale || again.segment != d.segment)
        __builtin_trap();
    unsigned widest = d.op >= DECODE_VEC_LOAD ? 32 : 8;   /* SSE/AVX moves */
    if (d.mem_size > widest || d.op_size > widest || d.reg > 15 || d.base > 15 || d.index > 15)
        __builtin_trap();

    uint64_t gpr[16], before[16], rflags = (mix(seed) & 0xcd5) | 2 | ((data[0] & 4) ? 0x400 : 0);
    for (int i = 0; i < 16; i++)
        gpr[i] = before[i] = mix(seed + (uint64_t)i);
    (void)decode_effective_address(&d, gpr, mix(seed ^ 1));
    (void)decode_string_dst(&d, gpr);

    struct emulate_access acc;
    if (emulate_prepare(&d, gpr, &acc))
        __builtin_trap();
    if (acc.size != d.mem_size || (!acc.none && !acc.read && !acc.write))
        __builtin_trap();
    uint64_t wval = mix(seed ^ 3), r = emulate_complete(&d, gpr, &rflags, mix(seed ^ 2), &wval);   /* CMPS: ES:[rDI] */
    if (r != EMULATE_DONE && r != EMULATE_REPEAT)
        __builtin_trap();
    if (r == EMULATE_REPEAT && !d.rep)
        __builtin_trap();
    for (int i = 0; i < 16; i++) {
        /* String ops: rCX rSI rDI; CMPXCHG: rAX; CMPXCHG8B: EDX:EAX. */
        bool named = i == d.reg || (d.op >= DECODE_MOVS && d.op <= DECODE_SCAS && (i == 1 || i == 6 || i == 7)) ||
                     (d.op == DECODE_CMPXCHG && i == 0) || (d.op == DECODE_CMPXCHG8B && (i == 0 || i == 2));
        if (gpr[i] != before[i] && !named)
            __builtin_trap();
    }
    if ((rflags & ~(uint64_t)EMULATE_STATUS_FLAGS) != (((mix(seed) & 0xcd5) | 2 | ((data[0] & 4) ? 0x400 : 0)) &
                                                      ~(uint64_t)EMULATE_STATUS_FLAGS))
        __builtin_trap();
    return 0;
}
