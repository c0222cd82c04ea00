/* SPDX-License-Identifier: MIT */
/*
 * x86 instruction decoder for MMIO exits.  QEMU TCG's SVM has neither decode
 * assists nor NRIPS (shared/reference/qemu-tcg-svm.md), so on a nested page
 * fault the kernel fetches the guest's instruction bytes and decodes them
 * here.  Only the forms guests use to touch device memory are decoded; all
 * others are an error, never a guess.  Pure logic: no libc, no allocation,
 * never reads past `avail`, bounded by the 15-byte instruction limit.
 */
#ifndef VIRT_DECODE_H
#define VIRT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SDM vol. 2 §2.3.11: an instruction longer than 15 bytes raises #GP. */
#define DECODE_MAX_LENGTH 15

/* Default operand and address size of the code segment: 16 (real mode,
 * CS.D=0), 32 (CS.D=1) or 64 (long mode with CS.L=1). */
enum decode_mode { DECODE_MODE_16, DECODE_MODE_32, DECODE_MODE_64 };

enum decode_error {
    DECODE_ETRUNCATED   = -1, /* needs more bytes than `avail` (fetch more) */
    DECODE_EUNSUPPORTED = -2, /* a valid instruction this decoder does not handle */
    DECODE_EINVALID     = -3, /* would #UD: LOCK where not allowed, ModRM names a register
                                 where the instruction must access memory */
    DECODE_ETOOLONG     = -4, /* more than 15 bytes (#GP) */
};

/* Group 1's order first (ModRM.reg of 80/81/83, bits 5:3 of 00-3F), then
 * BT BTS BTR BTC as 0F BA /4-/7 orders them: the encodings index this enum.
 * ADD..XOR and BTS..CMPXCHG8B are the forms LOCK may prefix. */
enum decode_op {
    DECODE_ADD, DECODE_OR, DECODE_ADC, DECODE_SBB, DECODE_AND, DECODE_SUB, DECODE_XOR,
    DECODE_CMP,       /* flags of (first - second); nothing written */
    DECODE_TEST,      /* flags of (first & second); nothing written */
    DECODE_BT,        /* CF <- bit of mem (0F A3 reg offset, 0F BA /4 imm8) */
    /* From here to CMPXCHG8B: read-modify-writes, which LOCK may prefix. */
    DECODE_BTS, DECODE_BTR, DECODE_BTC,   /* and set/reset/complement it (0F AB/B3/BB, 0F BA /5-7) */
    DECODE_XCHG,      /* mem <-> reg */
    DECODE_INC, DECODE_DEC,               /* FE/FF /0 /1 */
    DECODE_NOT, DECODE_NEG,               /* F6/F7 /2 /3 */
    DECODE_XADD,      /* 0F C0/C1 */
    DECODE_CMPXCHG,   /* 0F B0/B1: rAX compared */
    DECODE_CMPXCHG8B, /* 0F C7 /1: EDX:EAX compared, ECX:EBX stored */
    DECODE_MOV_LOAD,  /* reg <- mem (8A/8B, A0/A1; 0F 38 F0 MOVBE with byte_swap) */
    DECODE_MOV_STORE, /* mem <- reg or imm (88/89, A2/A3, C6/C7, 0F C3 MOVNTI; 0F 38 F1 MOVBE) */
    DECODE_MOVZX,     /* reg <- zero-extended mem (0F B6/B7) */
    DECODE_MOVSX,     /* reg <- sign-extended mem (0F BE/BF; REX.W 63 MOVSXD in 64-bit mode) */
    DECODE_MOVS,      /* ES:[rDI] <- seg:[rSI] (A4/A5) */
    DECODE_CMPS,      /* flags of seg:[rSI] - ES:[rDI] (A6/A7) */
    DECODE_STOS,      /* ES:[rDI] <- rAX (AA/AB) */
    DECODE_LODS,      /* rAX <- seg:[rSI] (AC/AD) */
    DECODE_SCAS,      /* flags of rAX - ES:[rDI] (AE/AF) */
    DECODE_PUSH,      /* SS:[rSP - size] <- mem (FF /6) */
    DECODE_POP,       /* mem <- SS:[rSP] (8F /0) */
    DECODE_VEC_LOAD,  /* XMM/YMM reg <- mem: (V)MOVD/MOVQ/MOVDQA/MOVDQU (66/F3 0F 6E 7E 6F; VEX) */
    DECODE_VEC_STORE, /* mem <- XMM/YMM reg: (V)MOVD/MOVQ/MOVDQA/MOVDQU (66 0F 7E D6 7F, F3 0F 7F; VEX) */
};

/* Segment registers numbered as the sreg field encodes them (SDM vol. 2
 * appendix B, "Encoding of the Segment Register (sreg) Field"). */
enum decode_segment {
    DECODE_SEG_ES, DECODE_SEG_CS, DECODE_SEG_SS, DECODE_SEG_DS, DECODE_SEG_FS, DECODE_SEG_GS,
};

struct decoded_insn {
    uint8_t length;        /* bytes, 1..15 */
    uint8_t opcode;        /* the last opcode byte (after 0F for two-byte opcodes) */
    bool two_byte;         /* opcode was 0F xx */
    enum decode_op op;
    uint8_t op_size;       /* register/operand bytes: 1, 2, 4, 8 (vector moves: 4, 8, 16, 32) */
    uint8_t mem_size;      /* bytes accessed in memory (differs for MOVZX/MOVSX) */
    uint8_t addr_size;     /* 2, 4, 8 */
    int8_t reg;            /* GPR 0..15 (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15) or -1 */
    bool reg_high_byte;    /* reg 0..3 means AH CH DH BH (byte operand, no REX) */
    bool has_imm;
    uint64_t imm;          /* sign-extended to 64 bits from its encoded width (BT: zero-
                              extended); only the low op_size bytes are used */
    bool mem_is_dst;       /* memory is the first (destination) operand; for CMP/TEST/BT
                              it is the first operand but not written */
    bool lock;             /* F0 (valid only on read-modify-write of memory) */
    uint8_t rep;           /* 0, 0xF2 or 0xF3: the last of these prefixes */
    uint8_t segment;       /* enum decode_segment of the memory operand (MOVS/CMPS:
                              the source; the other is always ES:[rDI]) */
    bool segment_override; /* segment came from a prefix */
    uint8_t rex;           /* the REX prefix used (0 if none), or VEX's R X B W as one */
    /* Effective address = base + index * scale + disp (+ next RIP if rip_relative),
     * truncated to addr_size.  moffs (A0-A3): base = index = -1, disp = the
     * zero-extended absolute offset.  String ops: base = RSI (MOVS CMPS LODS) or
     * RDI (STOS SCAS), disp = 0. */
    int8_t base;           /* GPR or -1 */
    int8_t index;          /* GPR or -1 */
    uint8_t scale;         /* 1, 2, 4, 8 (1 when there is no index) */
    int64_t disp;
    bool rip_relative;     /* 64-bit mode, ModRM mod=00 rm=101 */
    bool byte_swap;        /* MOVBE: the value is byte-reversed on its way */
    bool vex;              /* VEX-encoded: a load zeroes the YMM register above what it writes */
    bool aligned;          /* MOVDQA: #GP unless the address is a multiple of mem_size */
};

/* Decodes one instruction from bytes[0..avail).  Returns 0 and fills *out, or
 * a negative enum decode_error (then *out is unspecified). */
int decode_insn(const uint8_t *bytes, size_t avail, enum decode_mode mode,
                struct decoded_insn *out);

/* The effective address (segment offset) of the memory operand, given the
 * guest's GPRs and the RIP of the instruction itself.  For MOVS it is the
 * source; the destination is decode_string_dst(). */
uint64_t decode_effective_address(const struct decoded_insn *insn, const uint64_t gpr[16],
                                  uint64_t rip);
uint64_t decode_string_dst(const struct decoded_insn *insn, const uint64_t gpr[16]);

/* The low `size` bytes of a value: an operand or address size (1-8). */
static inline uint64_t decode_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

#endif
