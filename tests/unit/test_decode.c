/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests (Check) for microkernel/virt/decode.c.  Table-driven: each
 * row is an instruction's bytes, the mode, and the fields the decoder must
 * produce (or the error it must return).  Every successful row is also
 * decoded from each shorter prefix of its bytes (must say "truncated") and
 * with trailing garbage (must not change).  Encodings were checked against
 * the SDM opcode map and objdump.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "virt/decode.h"

#pragma GCC diagnostic ignored "-Woverride-init"   /* X() sets defaults, rows override */

enum { AX, CX, DX, BX, SP, BP, SI, DI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define M16 DECODE_MODE_16
#define M32 DECODE_MODE_32
#define M64 DECODE_MODE_64

struct row {
    const char *bytes;
    size_t n;
    enum decode_mode mode;
    int ret;
    struct decoded_insn x;  /* expected; length 0 means all n bytes */
};

#define X(...) { .reg = -1, .base = -1, .index = -1, .scale = 1, .segment = DECODE_SEG_DS, __VA_ARGS__ }
#define OK(m, b, ...) { b, sizeof(b) - 1, m, 0, X(__VA_ARGS__) }
#define ERR(m, b, e) { b, sizeof(b) - 1, m, e, X() }
/* Common shapes: size/size/addr and the memory operand [rbx]. */
#define SZ(o, m, a) .op_size = o, .mem_size = m, .addr_size = a
#define RBX .base = BX

static const struct row rows[] = {
    /* MOV, every size and the register rules (SDM vol. 2 §2.2.1, table 3-1). */
    OK(M64, "\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, RBX),
    OK(M64, "\x89\x43\x04", .op = DECODE_MOV_STORE, SZ(4, 4, 8), .reg = AX, RBX, .disp = 4, .mem_is_dst = true),
    OK(M64, "\x4c\x8b\x4b\x04", .op = DECODE_MOV_LOAD, SZ(8, 8, 8), .reg = R9, RBX, .disp = 4, .rex = 0x4c),
    OK(M64, "\x48\x8b\x03", .op = DECODE_MOV_LOAD, SZ(8, 8, 8), .reg = AX, RBX, .rex = 0x48),
    OK(M64, "\x88\x23", .op = DECODE_MOV_STORE, SZ(1, 1, 8), .reg = AX, .reg_high_byte = true, RBX, .mem_is_dst = true),
    OK(M64, "\x40\x88\x23", .op = DECODE_MOV_STORE, SZ(1, 1, 8), .reg = SP, RBX, .mem_is_dst = true, .rex = 0x40),
    OK(M64, "\x44\x88\x23", .op = DECODE_MOV_STORE, SZ(1, 1, 8), .reg = R12, RBX, .mem_is_dst = true, .rex = 0x44),
    OK(M64, "\x8a\x3f", .op = DECODE_MOV_LOAD, SZ(1, 1, 8), .reg = BX, .reg_high_byte = true, .base = DI),
    OK(M64, "\x40\x8a\x3f", .op = DECODE_MOV_LOAD, SZ(1, 1, 8), .reg = DI, .base = DI, .rex = 0x40),
    OK(M64, "\x8a\x0b", .op = DECODE_MOV_LOAD, SZ(1, 1, 8), .reg = CX, RBX),
    OK(M64, "\x66\x89\x08", .op = DECODE_MOV_STORE, SZ(2, 2, 8), .reg = CX, .base = AX, .mem_is_dst = true),
    OK(M64, "\x66\x48\x89\x08", .op = DECODE_MOV_STORE, SZ(8, 8, 8), .reg = CX, .base = AX, .mem_is_dst = true, .rex = 0x48),
    /* A REX followed by a legacy prefix is ignored (SDM vol. 2 §2.2.1). */
    OK(M64, "\x48\x66\x89\x08", .op = DECODE_MOV_STORE, SZ(2, 2, 8), .reg = CX, .base = AX, .mem_is_dst = true),
    OK(M64, "\xc6\x03\x7f", .op = DECODE_MOV_STORE, SZ(1, 1, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = 0x7f),
    OK(M64, "\x48\xc7\x03\xff\xff\xff\xff", .op = DECODE_MOV_STORE, SZ(8, 8, 8), RBX, .mem_is_dst = true,
       .has_imm = true, .imm = ~0ull, .rex = 0x48),
    OK(M64, "\xc7\x03\x78\x56\x34\x12", .op = DECODE_MOV_STORE, SZ(4, 4, 8), RBX, .mem_is_dst = true,
       .has_imm = true, .imm = 0x12345678),
    OK(M64, "\x66\xc7\x03\x34\x12", .op = DECODE_MOV_STORE, SZ(2, 2, 8), RBX, .mem_is_dst = true,
       .has_imm = true, .imm = 0x1234),

    /* ModRM/SIB addressing (SDM vol. 2 tables 2-2, 2-3). */
    OK(M64, "\x8b\x04\x24", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .base = SP, .segment = DECODE_SEG_SS),
    OK(M64, "\x8b\x45\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .base = BP, .segment = DECODE_SEG_SS),
    OK(M64, "\x8b\x05\x10\x00\x00\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .rip_relative = true, .disp = 0x10),
    OK(M64, "\x8b\x0d\xf0\xff\xff\xff", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = CX, .rip_relative = true, .disp = -16),
    OK(M64, "\x8b\x04\x25\x00\x10\x00\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .disp = 0x1000),
    OK(M64, "\x8b\x44\x8b\xf0", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, RBX, .index = CX, .scale = 4, .disp = -16),
    OK(M64, "\x8b\x04\x63", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, RBX, .scale = 1), /* index 100: none */
    OK(M64, "\x43\x8b\x04\xe4", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .base = R12, .index = R12, .scale = 8,
       .rex = 0x43),
    OK(M64, "\x41\x8b\x45\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .base = R13, .rex = 0x41),
    OK(M64, "\x41\x8b\x04\x25\x78\x56\x34\x12", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .disp = 0x12345678,
       .rex = 0x41),
    OK(M64, "\x4f\x8b\x0c\xc8", .op = DECODE_MOV_LOAD, SZ(8, 8, 8), .reg = R9, .base = R8, .index = R9, .scale = 8,
       .rex = 0x4f),
    OK(M64, "\x8b\x84\x24\x00\x01\x00\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, .base = SP, .disp = 0x100,
       .segment = DECODE_SEG_SS),
    OK(M64, "\x8b\x43\x80", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, RBX, .disp = -128),
    OK(M64, "\x67\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, RBX),
    OK(M64, "\x67\x8b\x05\x00\x01\x00\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, .rip_relative = true,
       .disp = 0x100),

    /* Segment overrides. */
    OK(M64, "\x64\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, RBX, .segment = DECODE_SEG_FS,
       .segment_override = true),
    OK(M64, "\x65\x48\x8b\x03", .op = DECODE_MOV_LOAD, SZ(8, 8, 8), .reg = AX, RBX, .segment = DECODE_SEG_GS,
       .segment_override = true, .rex = 0x48),
    OK(M32, "\x26\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, RBX, .segment = DECODE_SEG_ES,
       .segment_override = true),
    OK(M32, "\x2e\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, RBX, .segment = DECODE_SEG_CS,
       .segment_override = true),
    OK(M32, "\x36\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, RBX, .segment = DECODE_SEG_SS,
       .segment_override = true),
    OK(M32, "\x3e\x8b\x45\x08", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, .base = BP, .disp = 8,
       .segment = DECODE_SEG_DS, .segment_override = true),

    /* moffs: address-size offsets, zero-extended. */
    OK(M64, "\xa1\x00\x00\x00\xe0\xfe\xff\x00\x00", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX,
       .disp = 0xfffee0000000),
    OK(M64, "\x48\xa3\x08\x07\x06\x05\x04\x03\x02\x81", .op = DECODE_MOV_STORE, SZ(8, 8, 8), .reg = AX,
       .disp = (int64_t)0x8102030405060708ull, .mem_is_dst = true, .rex = 0x48),
    OK(M64, "\x67\xa0\x00\x00\x00\xf0", .op = DECODE_MOV_LOAD, SZ(1, 1, 4), .reg = AX, .disp = 0xf0000000),
    OK(M32, "\xa2\x00\x00\x00\xfe", .op = DECODE_MOV_STORE, SZ(1, 1, 4), .reg = AX, .disp = 0xfe000000,
       .mem_is_dst = true),
    OK(M16, "\xa1\x34\x12", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = AX, .disp = 0x1234),

    /* MOVZX / MOVSX / MOVSXD. */
    OK(M64, "\x0f\xb6\x03", .op = DECODE_MOVZX, SZ(4, 1, 8), .reg = AX, RBX, .two_byte = true),
    OK(M64, "\x48\x0f\xb7\x03", .op = DECODE_MOVZX, SZ(8, 2, 8), .reg = AX, RBX, .two_byte = true, .rex = 0x48),
    OK(M64, "\x66\x0f\xb6\x0b", .op = DECODE_MOVZX, SZ(2, 1, 8), .reg = CX, RBX, .two_byte = true),
    OK(M64, "\x0f\xbe\x03", .op = DECODE_MOVSX, SZ(4, 1, 8), .reg = AX, RBX, .two_byte = true),
    OK(M64, "\x66\x0f\xbf\x03", .op = DECODE_MOVSX, SZ(2, 2, 8), .reg = AX, RBX, .two_byte = true),
    OK(M64, "\x4c\x0f\xbf\x03", .op = DECODE_MOVSX, SZ(8, 2, 8), .reg = R8, RBX, .two_byte = true, .rex = 0x4c),
    OK(M64, "\x48\x63\x03", .op = DECODE_MOVSX, SZ(8, 4, 8), .reg = AX, RBX, .rex = 0x48),
    OK(M64, "\x49\x63\x4c\x24\x08", .op = DECODE_MOVSX, SZ(8, 4, 8), .reg = CX, .base = R12, .disp = 8,
       .rex = 0x49),

    /* MOVS / STOS, REP. */
    OK(M64, "\xa4", .op = DECODE_MOVS, SZ(1, 1, 8), .base = SI, .mem_is_dst = true),
    OK(M64, "\xf3\xa5", .op = DECODE_MOVS, SZ(4, 4, 8), .base = SI, .mem_is_dst = true, .rep = 0xf3),
    OK(M64, "\xf3\x48\xa5", .op = DECODE_MOVS, SZ(8, 8, 8), .base = SI, .mem_is_dst = true, .rep = 0xf3, .rex = 0x48),
    OK(M64, "\xf2\x66\xa5", .op = DECODE_MOVS, SZ(2, 2, 8), .base = SI, .mem_is_dst = true, .rep = 0xf2),
    OK(M64, "\x2e\xa5", .op = DECODE_MOVS, SZ(4, 4, 8), .base = SI, .mem_is_dst = true, .segment = DECODE_SEG_CS,
       .segment_override = true),
    OK(M64, "\xf3\xaa", .op = DECODE_STOS, SZ(1, 1, 8), .reg = AX, .base = DI, .segment = DECODE_SEG_ES,
       .mem_is_dst = true, .rep = 0xf3),
    OK(M64, "\x66\xab", .op = DECODE_STOS, SZ(2, 2, 8), .reg = AX, .base = DI, .segment = DECODE_SEG_ES,
       .mem_is_dst = true),
    OK(M32, "\x67\xf3\xab", .op = DECODE_STOS, SZ(4, 4, 2), .reg = AX, .base = DI, .segment = DECODE_SEG_ES,
       .mem_is_dst = true, .rep = 0xf3),

    /* ALU with a memory operand in either direction. */
    OK(M64, "\x21\x03", .op = DECODE_AND, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x23\x03", .op = DECODE_AND, SZ(4, 4, 8), .reg = AX, RBX),
    OK(M64, "\x20\x23", .op = DECODE_AND, SZ(1, 1, 8), .reg = AX, .reg_high_byte = true, RBX, .mem_is_dst = true),
    OK(M64, "\x08\x03", .op = DECODE_OR, SZ(1, 1, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x0b\x03", .op = DECODE_OR, SZ(4, 4, 8), .reg = AX, RBX),
    OK(M64, "\x31\x03", .op = DECODE_XOR, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x32\x03", .op = DECODE_XOR, SZ(1, 1, 8), .reg = AX, RBX),
    OK(M64, "\x01\x03", .op = DECODE_ADD, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x48\x03\x03", .op = DECODE_ADD, SZ(8, 8, 8), .reg = AX, RBX, .rex = 0x48),
    OK(M64, "\x66\x29\x03", .op = DECODE_SUB, SZ(2, 2, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x2a\x03", .op = DECODE_SUB, SZ(1, 1, 8), .reg = AX, RBX),
    OK(M64, "\x39\x03", .op = DECODE_CMP, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x3a\x03", .op = DECODE_CMP, SZ(1, 1, 8), .reg = AX, RBX),
    OK(M64, "\xf0\x01\x03", .op = DECODE_ADD, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true, .lock = true),
    OK(M64, "\xf0\x48\x09\x03", .op = DECODE_OR, SZ(8, 8, 8), .reg = AX, RBX, .mem_is_dst = true, .lock = true,
       .rex = 0x48),

    /* ADC/SBB, the unary groups, BTS/BTR/BTC, CMPXCHG, XADD, CMPXCHG8B (with LOCK). */
    OK(M64, "\x83\x13\x01", .op = DECODE_ADC, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = 1),
    OK(M64, "\x19\x03", .op = DECODE_SBB, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x1a\x03", .op = DECODE_SBB, SZ(1, 1, 8), .reg = AX, RBX),
    OK(M64, "\xf0\x10\x23", .op = DECODE_ADC, SZ(1, 1, 8), .reg = AX, .reg_high_byte = true, RBX,
       .mem_is_dst = true, .lock = true),
    OK(M64, "\xf6\x13", .op = DECODE_NOT, SZ(1, 1, 8), RBX, .mem_is_dst = true),
    OK(M64, "\x48\xf7\x1b", .op = DECODE_NEG, SZ(8, 8, 8), RBX, .mem_is_dst = true, .rex = 0x48),
    OK(M64, "\x66\xff\x03", .op = DECODE_INC, SZ(2, 2, 8), RBX, .mem_is_dst = true),
    OK(M64, "\xff\x4b\x04", .op = DECODE_DEC, SZ(4, 4, 8), RBX, .disp = 4, .mem_is_dst = true),
    OK(M64, "\xf0\xfe\x03", .op = DECODE_INC, SZ(1, 1, 8), RBX, .mem_is_dst = true, .lock = true),
    OK(M16, "\xff\x0f", .op = DECODE_DEC, SZ(2, 2, 2), .base = BX, .mem_is_dst = true),
    OK(M64, "\xf0\x0f\xba\x2b\x05", .op = DECODE_BTS, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = 5, .lock = true, .two_byte = true),
    OK(M64, "\xf0\x48\x0f\xb3\x03", .op = DECODE_BTR, SZ(8, 8, 8), .reg = AX, RBX, .mem_is_dst = true,
       .lock = true, .two_byte = true, .rex = 0x48),
    OK(M64, "\x66\x0f\xbb\x03", .op = DECODE_BTC, SZ(2, 2, 8), .reg = AX, RBX, .mem_is_dst = true,
       .two_byte = true),
    OK(M64, "\xf0\x0f\xb1\x0b", .op = DECODE_CMPXCHG, SZ(4, 4, 8), .reg = CX, RBX, .mem_is_dst = true,
       .lock = true, .two_byte = true),
    OK(M64, "\x0f\xb0\x0b", .op = DECODE_CMPXCHG, SZ(1, 1, 8), .reg = CX, RBX, .mem_is_dst = true,
       .two_byte = true),
    OK(M64, "\xf0\x48\x0f\xc1\x13", .op = DECODE_XADD, SZ(8, 8, 8), .reg = DX, RBX, .mem_is_dst = true,
       .lock = true, .two_byte = true, .rex = 0x48),
    OK(M64, "\xf0\x0f\xc7\x0b", .op = DECODE_CMPXCHG8B, SZ(4, 8, 8), RBX, .mem_is_dst = true, .lock = true,
       .two_byte = true),
    /* MOVNTI, MOVBE. */
    OK(M64, "\x0f\xc3\x03", .op = DECODE_MOV_STORE, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true,
       .two_byte = true),
    OK(M64, "\x48\x0f\xc3\x03", .op = DECODE_MOV_STORE, SZ(8, 8, 8), .reg = AX, RBX, .mem_is_dst = true,
       .two_byte = true, .rex = 0x48),
    OK(M16, "\x0f\xc3\x07", .op = DECODE_MOV_STORE, SZ(4, 4, 2), .reg = AX, .base = BX, .mem_is_dst = true,
       .two_byte = true),
    OK(M64, "\x0f\x38\xf0\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 8), .reg = AX, RBX, .two_byte = true,
       .byte_swap = true),
    OK(M64, "\x66\x0f\x38\xf1\x0b", .op = DECODE_MOV_STORE, SZ(2, 2, 8), .reg = CX, RBX, .mem_is_dst = true,
       .two_byte = true, .byte_swap = true),
    /* PUSH/POP r/m: 64-bit by default in 64-bit mode, 66 gives 16. */
    OK(M64, "\xff\x33", .op = DECODE_PUSH, SZ(8, 8, 8), RBX, .mem_is_dst = true),
    OK(M64, "\x66\xff\x33", .op = DECODE_PUSH, SZ(2, 2, 8), RBX, .mem_is_dst = true),
    OK(M32, "\xff\x33", .op = DECODE_PUSH, SZ(4, 4, 4), RBX, .mem_is_dst = true),
    OK(M64, "\x8f\x44\x24\x08", .op = DECODE_POP, SZ(8, 8, 8), .base = SP, .disp = 8, .mem_is_dst = true,
       .segment = DECODE_SEG_SS),
    /* CMPS, SCAS, LODS. */
    OK(M64, "\xa6", .op = DECODE_CMPS, SZ(1, 1, 8), .base = SI, .mem_is_dst = true),
    OK(M64, "\xf3\x64\x48\xa7", .op = DECODE_CMPS, SZ(8, 8, 8), .base = SI, .mem_is_dst = true, .rep = 0xf3,
       .segment = DECODE_SEG_FS, .segment_override = true, .rex = 0x48),
    OK(M64, "\xf2\xaf", .op = DECODE_SCAS, SZ(4, 4, 8), .reg = AX, .base = DI, .segment = DECODE_SEG_ES,
       .rep = 0xf2),
    OK(M64, "\x48\xad", .op = DECODE_LODS, SZ(8, 8, 8), .reg = AX, .base = SI, .rex = 0x48),
    OK(M32, "\x67\xac", .op = DECODE_LODS, SZ(1, 1, 2), .reg = AX, .base = SI),

    /* SSE/AVX moves: the mandatory prefix or VEX.pp picks the form; VEX.L 256 bits. */
    OK(M64, "\x66\x0f\x6e\x0b", .op = DECODE_VEC_LOAD, SZ(4, 4, 8), .reg = CX, RBX, .two_byte = true),
    OK(M64, "\x66\x48\x0f\x6e\x0b", .op = DECODE_VEC_LOAD, SZ(8, 8, 8), .reg = CX, RBX, .two_byte = true,
       .rex = 0x48),
    OK(M64, "\x66\x44\x0f\xd6\x4b\x08", .op = DECODE_VEC_STORE, SZ(8, 8, 8), .reg = R9, RBX, .disp = 8,
       .mem_is_dst = true, .two_byte = true, .rex = 0x44),
    OK(M64, "\xf3\x0f\x7e\x13", .op = DECODE_VEC_LOAD, SZ(8, 8, 8), .reg = DX, RBX, .two_byte = true, .rep = 0xf3),
    OK(M64, "\x66\x0f\x6f\x23", .op = DECODE_VEC_LOAD, SZ(16, 16, 8), .reg = SP, RBX, .two_byte = true,
       .aligned = true),
    OK(M64, "\xf3\x0f\x7f\x33", .op = DECODE_VEC_STORE, SZ(16, 16, 8), .reg = SI, RBX, .mem_is_dst = true,
       .two_byte = true, .rep = 0xf3),
    OK(M32, "\xf3\x66\x0f\x6f\x2b", .op = DECODE_VEC_LOAD, SZ(16, 16, 4), .reg = BP, RBX, .two_byte = true,
       .rep = 0xf3),
    OK(M64, "\xc5\xfa\x6f\x3b", .op = DECODE_VEC_LOAD, SZ(16, 16, 8), .reg = DI, RBX, .two_byte = true,
       .rex = 0x40, .vex = true),
    OK(M64, "\xc5\x7e\x6f\x03", .op = DECODE_VEC_LOAD, SZ(32, 32, 8), .reg = R8, RBX, .two_byte = true,
       .rex = 0x44, .vex = true),
    OK(M64, "\xc4\xc1\x7e\x7f\x11", .op = DECODE_VEC_STORE, SZ(32, 32, 8), .reg = DX, .base = R9,
       .mem_is_dst = true, .two_byte = true, .rex = 0x41, .vex = true),
    OK(M64, "\xc5\xfd\x7f\x0b", .op = DECODE_VEC_STORE, SZ(32, 32, 8), .reg = CX, RBX, .mem_is_dst = true,
       .two_byte = true, .rex = 0x40, .vex = true, .aligned = true),
    OK(M32, "\xc5\xf9\x6e\x0b", .op = DECODE_VEC_LOAD, SZ(4, 4, 4), .reg = CX, RBX, .two_byte = true,
       .vex = true),

    /* Group 1 immediates: 80 imm8, 81 imm16/32, 83 sign-extended imm8. */
    OK(M64, "\x80\x0b\x01", .op = DECODE_OR, SZ(1, 1, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = 1),
    OK(M64, "\x81\x23\x00\x00\xff\xff", .op = DECODE_AND, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = 0xffffffffffff0000ull),
    OK(M64, "\x83\x03\xff", .op = DECODE_ADD, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = ~0ull),
    OK(M64, "\x48\x83\x2b\x01", .op = DECODE_SUB, SZ(8, 8, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = 1,
       .rex = 0x48),
    OK(M64, "\x83\x33\x80", .op = DECODE_XOR, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = 0xffffffffffffff80ull),
    OK(M64, "\x83\x3b\x05", .op = DECODE_CMP, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = 5),
    OK(M64, "\x66\x81\x03\x34\x12", .op = DECODE_ADD, SZ(2, 2, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = 0x1234),
    OK(M64, "\xf0\x80\x23\xfe", .op = DECODE_AND, SZ(1, 1, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = ~1ull, .lock = true),

    /* TEST, XCHG, BT. */
    OK(M64, "\x84\x03", .op = DECODE_TEST, SZ(1, 1, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\x85\x03", .op = DECODE_TEST, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\xf6\x03\x01", .op = DECODE_TEST, SZ(1, 1, 8), RBX, .mem_is_dst = true, .has_imm = true, .imm = 1),
    OK(M64, "\xf7\x03\x00\x00\x00\x80", .op = DECODE_TEST, SZ(4, 4, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = 0xffffffff80000000ull),
    OK(M64, "\xf6\x0b\x80", .op = DECODE_TEST, SZ(1, 1, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = ~0x7full),
    OK(M32, "\x82\x2b\x10", .op = DECODE_SUB, SZ(1, 1, 4), RBX, .mem_is_dst = true, .has_imm = true, .imm = 0x10),
    OK(M64, "\x66\xf7\x03\x00\x80", .op = DECODE_TEST, SZ(2, 2, 8), RBX, .mem_is_dst = true, .has_imm = true,
       .imm = 0xffffffffffff8000ull),
    OK(M64, "\x86\x03", .op = DECODE_XCHG, SZ(1, 1, 8), .reg = AX, RBX, .mem_is_dst = true),
    OK(M64, "\xf0\x87\x03", .op = DECODE_XCHG, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true, .lock = true),
    OK(M64, "\x0f\xa3\x03", .op = DECODE_BT, SZ(4, 4, 8), .reg = AX, RBX, .mem_is_dst = true, .two_byte = true),
    OK(M64, "\x48\x0f\xa3\x03", .op = DECODE_BT, SZ(8, 8, 8), .reg = AX, RBX, .mem_is_dst = true, .two_byte = true,
       .rex = 0x48),
    OK(M64, "\x0f\xba\x23\x85", .op = DECODE_BT, SZ(4, 4, 8), RBX, .mem_is_dst = true, .two_byte = true,
       .has_imm = true, .imm = 0x85),

    /* 32-bit mode (CS.D=1). */
    OK(M32, "\x8b\x03", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, RBX),
    OK(M32, "\x66\x8b\x03", .op = DECODE_MOV_LOAD, SZ(2, 2, 4), .reg = AX, RBX),
    OK(M32, "\x8b\x05\x00\x00\xc0\xfe", .op = DECODE_MOV_LOAD, SZ(4, 4, 4), .reg = AX, .disp = (int32_t)0xfec00000),
    OK(M32, "\x67\x8b\x07", .op = DECODE_MOV_LOAD, SZ(4, 4, 2), .reg = AX, RBX),
    OK(M32, "\x89\x34\x8d\x00\x00\xe0\xfe", .op = DECODE_MOV_STORE, SZ(4, 4, 4), .reg = SI, .index = CX, .scale = 4,
       .disp = (int32_t)0xfee00000, .mem_is_dst = true),
    OK(M32, "\x88\x27", .op = DECODE_MOV_STORE, SZ(1, 1, 4), .reg = AX, .reg_high_byte = true, .base = DI, .mem_is_dst = true),

    /* 16-bit mode and 16-bit addressing (SDM vol. 2 table 2-1). */
    OK(M16, "\x8b\x07", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = AX, RBX),
    OK(M16, "\x8b\x00", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = AX, RBX, .index = SI),
    OK(M16, "\x8b\x4b\x10", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = CX, .base = BP, .index = DI, .disp = 16,
       .segment = DECODE_SEG_SS),
    OK(M16, "\x8b\x46\xfe", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = AX, .base = BP, .disp = -2,
       .segment = DECODE_SEG_SS),
    OK(M16, "\x8b\x06\x34\x12", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = AX, .disp = 0x1234),
    OK(M16, "\x8b\x82\x00\x80", .op = DECODE_MOV_LOAD, SZ(2, 2, 2), .reg = AX, .base = BP, .index = SI,
       .disp = -0x8000, .segment = DECODE_SEG_SS),
    OK(M16, "\x89\x1c", .op = DECODE_MOV_STORE, SZ(2, 2, 2), .reg = BX, .base = SI, .mem_is_dst = true),
    OK(M16, "\x66\x8b\x07", .op = DECODE_MOV_LOAD, SZ(4, 4, 2), .reg = AX, RBX),
    OK(M16, "\x67\x8b\x03", .op = DECODE_MOV_LOAD, SZ(2, 2, 4), .reg = AX, RBX),
    OK(M16, "\xc6\x47\x02\x55", .op = DECODE_MOV_STORE, SZ(1, 1, 2), RBX, .disp = 2, .mem_is_dst = true,
       .has_imm = true, .imm = 0x55),
    OK(M16, "\xa5", .op = DECODE_MOVS, SZ(2, 2, 2), .base = SI, .mem_is_dst = true),

    /* Exactly 15 bytes is fine: 13 prefixes, opcode, ModRM. */
    OK(M64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x8b\x03", .op = DECODE_MOV_LOAD,
       SZ(2, 2, 8), .reg = AX, RBX),

    /* Errors. */
    ERR(M64, "\x8b\xc3", DECODE_EINVALID),             /* mov eax, ebx: no memory */
    ERR(M64, "\x83\xc0\x01", DECODE_EINVALID),
    ERR(M64, "\xf0\x8b\x03", DECODE_EINVALID),         /* LOCK MOV: #UD */
    ERR(M64, "\xf0\x03\x03", DECODE_EINVALID),         /* LOCK with register destination */
    ERR(M64, "\xf0\x39\x03", DECODE_EINVALID),         /* LOCK CMP */
    ERR(M64, "\xf0\x83\x3b\x01", DECODE_EINVALID),
    ERR(M64, "\xf0\x85\x03", DECODE_EINVALID),         /* LOCK TEST */
    ERR(M64, "\xf0\x0f\xa3\x03", DECODE_EINVALID),     /* LOCK BT */
    ERR(M64, "\x63\x03", DECODE_EUNSUPPORTED),         /* MOVSXD without REX.W */
    ERR(M64, "\x82\x03\x01", DECODE_EINVALID),        /* 82 is #UD in 64-bit mode */
    ERR(M64, "\xc7\x0b\x00\x00\x00\x00", DECODE_EUNSUPPORTED), /* C7 /1 */
    ERR(M64, "\xf6\x23", DECODE_EUNSUPPORTED),         /* MUL */
    ERR(M64, "\xff\x13", DECODE_EUNSUPPORTED),         /* CALL [rbx] */
    ERR(M64, "\xfe\x33", DECODE_EUNSUPPORTED),         /* FE /6: no byte PUSH */
    ERR(M64, "\x8f\x0b", DECODE_EUNSUPPORTED),         /* 8F /1 (XOP space) */
    ERR(M64, "\x48\x0f\xc7\x0b", DECODE_EUNSUPPORTED), /* CMPXCHG16B: 16 bytes */
    ERR(M64, "\x0f\xc7\x13", DECODE_EUNSUPPORTED),     /* 0F C7 /2 */
    ERR(M64, "\x0f\xc7\xcb", DECODE_EINVALID),         /* CMPXCHG8B with a register */
    ERR(M64, "\x66\x0f\xc3\x03", DECODE_EINVALID),    /* MOVNTI is NP: 66 is #UD */
    ERR(M64, "\x0f\xc3\xc3", DECODE_EINVALID),         /* MOVNTI with a register */
    ERR(M64, "\xf2\x0f\x38\xf0\x03", DECODE_EUNSUPPORTED), /* CRC32 */
    ERR(M64, "\x0f\x38\xf0\xc3", DECODE_EINVALID),     /* MOVBE with a register */
    ERR(M64, "\x0f\x38\x00\x03", DECODE_EUNSUPPORTED), /* PSHUFB */
    ERR(M64, "\xf0\xfe\xc3", DECODE_EINVALID),         /* LOCK INC bl */
    ERR(M64, "\xf0\xff\x33", DECODE_EINVALID),         /* LOCK PUSH */
    ERR(M64, "\xf0\x0f\x38\xf1\x03", DECODE_EINVALID), /* LOCK MOVBE */
    ERR(M64, "\xf0\xa6", DECODE_EINVALID),             /* LOCK CMPS */
    ERR(M64, "\xf0\x0f\xb1\xc8", DECODE_EINVALID),     /* LOCK CMPXCHG to a register */
    ERR(M64, "\x0f\x6f\x03", DECODE_EUNSUPPORTED),     /* MMX MOVQ mm, m64 */
    ERR(M64, "\xf2\x0f\x7e\x03", DECODE_EUNSUPPORTED), /* F2 0F 7E */
    ERR(M64, "\x66\x0f\x6f\xc1", DECODE_EINVALID),     /* MOVDQA xmm, xmm */
    ERR(M64, "\xf0\x66\x0f\x7f\x03", DECODE_EINVALID), /* LOCK MOVDQA */
    ERR(M64, "\x66\xc5\xfa\x6f\x03", DECODE_EINVALID), /* 66 before VEX */
    ERR(M64, "\x48\xc5\xfa\x6f\x03", DECODE_EINVALID), /* REX before VEX */
    ERR(M64, "\xc5\xf2\x6f\x03", DECODE_EINVALID),     /* VEX.vvvv not 1111b */
    ERR(M64, "\xc5\xfd\x6e\x03", DECODE_EINVALID),     /* VMOVD with VEX.L = 1 */
    ERR(M64, "\xc4\xe2\x79\x18\x03", DECODE_EUNSUPPORTED), /* VBROADCASTSS: map 0F 38 */
    ERR(M32, "\xc5\x3b", DECODE_EUNSUPPORTED),          /* LDS outside 64-bit mode */
    ERR(M64, "\x90", DECODE_EUNSUPPORTED),
    ERR(M64, "\x0f\x05", DECODE_EUNSUPPORTED),
    ERR(M32, "\x40\x8b\x03", DECODE_EUNSUPPORTED),     /* INC eax outside 64-bit mode */
    ERR(M32, "\x63\x03", DECODE_EUNSUPPORTED),         /* ARPL */
    ERR(M64, "", DECODE_ETRUNCATED),
    ERR(M64, "\x8b", DECODE_ETRUNCATED),
    ERR(M64, "\x8b\x04", DECODE_ETRUNCATED),           /* SIB missing */
    ERR(M64, "\x8b\x80\x00\x00", DECODE_ETRUNCATED),   /* disp32 short */
    ERR(M64, "\x81\x03\x00\x00", DECODE_ETRUNCATED),   /* imm32 short */
    ERR(M64, "\x66\x48", DECODE_ETRUNCATED),
    ERR(M64, "\x0f", DECODE_ETRUNCATED),
    ERR(M64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x8b\x03", DECODE_ETOOLONG),
    ERR(M64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66", DECODE_ETOOLONG),
};

static const size_t n_rows = sizeof rows / sizeof rows[0];

static const char *hex(const char *bytes, size_t n)
{
    static char text[3 * 32 + 1];
    text[0] = 0;
    for (size_t i = 0; i < n && i < 32; i++)
        snprintf(text + 3 * i, 4, "%02x ", (uint8_t)bytes[i]);
    return text;
}

static void expect_fields(const struct decoded_insn *got, const struct decoded_insn *x, const char *bytes,
                          size_t n)
{
#define EQ(f) ck_assert_msg((int64_t)got->f == (int64_t)x->f, "[%s]: " #f " = %lld, expected %lld", \
                            hex(bytes, n), (long long)got->f, (long long)x->f)
    ck_assert_msg(got->length == (x->length ? x->length : n), "[%s]: length %u", hex(bytes, n), got->length);
    EQ(op); EQ(op_size); EQ(mem_size); EQ(addr_size); EQ(reg); EQ(reg_high_byte);
    EQ(has_imm); EQ(imm); EQ(mem_is_dst); EQ(lock); EQ(rep); EQ(segment); EQ(segment_override);
    EQ(base); EQ(index); EQ(scale); EQ(disp); EQ(rip_relative); EQ(two_byte); EQ(rex); EQ(byte_swap); EQ(vex); EQ(aligned);
#undef EQ
}

START_TEST(test_row)
{
    const struct row *r = &rows[_i];
    struct decoded_insn d;
    int ret = decode_insn((const uint8_t *)r->bytes, r->n, r->mode, &d);
    ck_assert_msg(ret == r->ret, "[%s]: returned %d, expected %d", hex(r->bytes, r->n), ret, r->ret);
    if (ret)
        return;
    expect_fields(&d, &r->x, r->bytes, r->n);

    /* Every shorter prefix is "truncated"; trailing bytes change nothing. */
    for (size_t n = 0; n < d.length; n++) {
        struct decoded_insn t;
        ck_assert_int_eq(decode_insn((const uint8_t *)r->bytes, n, r->mode, &t), DECODE_ETRUNCATED);
    }
    uint8_t longer[32];
    memset(longer, 0xcc, sizeof longer);
    memcpy(longer, r->bytes, r->n);
    struct decoded_insn t;
    ck_assert_int_eq(decode_insn(longer, sizeof longer, r->mode, &t), 0);
    expect_fields(&t, &r->x, r->bytes, r->n);
}
END_TEST

START_TEST(test_longest_unprefixed)
{
    /* add qword [rsp+0x100], 0x12345678: REX, opcode, ModRM, SIB, disp32, imm32. */
    static const uint8_t b[] = { 0x48, 0x81, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12 };
    struct decoded_insn d;
    ck_assert_int_eq(decode_insn(b, sizeof b, DECODE_MODE_64, &d), 0);
    ck_assert_uint_eq(d.length, 12);
    ck_assert_int_eq(d.op, DECODE_ADD);
    ck_assert_uint_eq(d.imm, 0x12345678);
    ck_assert_int_eq(d.disp, 0x100);
    ck_assert_int_eq(d.base, SP);
    /* With 4 more prefixes it is 16 bytes: too long, even with more available. */
    uint8_t p[20] = { 0x66, 0x67, 0x2e, 0xf0 };
    memcpy(p + 4, b, sizeof b);
    ck_assert_int_eq(decode_insn(p, 16, DECODE_MODE_64, &d), DECODE_ETOOLONG);
    ck_assert_int_eq(decode_insn(p, sizeof p, DECODE_MODE_64, &d), DECODE_ETOOLONG);
    /* With 3 it is exactly 15. */
    ck_assert_int_eq(decode_insn(p + 1, 15, DECODE_MODE_64, &d), 0);
    ck_assert_uint_eq(d.length, 15);
    ck_assert_uint_eq(d.addr_size, 4);
    ck_assert(d.lock);
}
END_TEST

START_TEST(test_effective_address)
{
    uint64_t gpr[16];
    for (int i = 0; i < 16; i++)
        gpr[i] = 0x1111111100000000ull * (uint64_t)(i + 1) + 0x1000u * (uint64_t)i;
    struct decoded_insn d;

    /* mov eax, [rbx+rcx*4-0x10] */
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x8b\x44\x8b\xf0", 4, DECODE_MODE_64, &d), 0);
    ck_assert_uint_eq(decode_effective_address(&d, gpr, 0), gpr[BX] + gpr[CX] * 4 - 0x10);
    /* mov eax, [rip+0x10] at RIP 0x400000: relative to the next instruction. */
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x8b\x05\x10\x00\x00\x00", 6, DECODE_MODE_64, &d), 0);
    ck_assert_uint_eq(decode_effective_address(&d, gpr, 0x400000), 0x400016);
    /* 67: [ebx] truncates to 32 bits. */
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x67\x8b\x03", 3, DECODE_MODE_64, &d), 0);
    ck_assert_uint_eq(decode_effective_address(&d, gpr, 0), (uint32_t)gpr[BX]);
    /* 16-bit [bp+si-2] wraps at 64 KiB. */
    gpr[BP] = 0x0001;
    gpr[SI] = 0x0000;
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x8b\x42\xfe", 3, DECODE_MODE_16, &d), 0);
    ck_assert_uint_eq(decode_effective_address(&d, gpr, 0), 0xffff);
    /* STOS destination is rDI. */
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x67\xaa", 2, DECODE_MODE_64, &d), 0);
    ck_assert_uint_eq(decode_string_dst(&d, gpr), (uint32_t)gpr[DI]);
}
END_TEST

/* Any byte string: the decoder returns, never claims more than it was given
 * or than 15 bytes.  (The fuzzer does this at scale; this is the quick form.) */
START_TEST(test_random_bytes_bounded)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    uint8_t buf[16];
    for (int iter = 0; iter < 200000; iter++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        size_t avail = (size_t)(s >> 60);  /* 0..15 */
        struct decoded_insn d;
        int ret = decode_insn(buf, avail, (enum decode_mode)(iter % 3), &d);
        ck_assert(ret <= 0 && ret >= DECODE_ETOOLONG);
        if (ret == 0)
            ck_assert(d.length >= 1 && d.length <= avail && d.length <= DECODE_MAX_LENGTH);
    }
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("decode");
    tcase_add_loop_test(tc, test_row, 0, (int)n_rows);
    tcase_add_test(tc, test_longest_unprefixed);
    tcase_add_test(tc, test_effective_address);
    tcase_add_test(tc, test_random_bytes_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    printf("test_decode: %zu table rows\n", n_rows);
    SRunner *sr = srunner_create(decode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
