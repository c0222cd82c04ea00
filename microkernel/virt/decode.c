/* SPDX-License-Identifier: MIT */
/*
 * x86 instruction decoder for MMIO exits (see decode.h).  References are to
 * the Intel SDM vol. 2 (instruction format, opcode map in appendix A) and the
 * AMD APM vol. 3 (§1.2 prefixes, §1.4 ModRM/SIB).
 */
#include "virt/decode.h"

/* Reads never go past `avail`, and never past 15 bytes: a byte at position
 * 15 or later makes the instruction too long whatever `avail` is. */
struct cursor {
    const uint8_t *bytes;
    size_t avail;
    size_t pos;
};

static int fetch_byte(struct cursor *c, uint8_t *b)
{
    if (c->pos >= DECODE_MAX_LENGTH)
        return DECODE_ETOOLONG;
    if (c->pos >= c->avail)
        return DECODE_ETRUNCATED;
    *b = c->bytes[c->pos++];
    return 0;
}

/* Little-endian immediate or displacement of n bytes, zero-extended. */
static int fetch_le(struct cursor *c, unsigned n, uint64_t *v)
{
    *v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        int e = fetch_byte(c, &b);
        if (e)
            return e;
        *v |= (uint64_t)b << (8 * i);
    }
    return 0;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    unsigned shift = 64 - 8 * bytes;
    return (int64_t)(v << shift) >> shift; /* GCC/Clang: arithmetic right shift */
}

/* ModRM addressing with 16-bit address size (SDM vol. 2 §2.1.5 table 2-1). */
static int decode_modrm16(struct cursor *c, uint8_t mod, uint8_t rm, struct decoded_insn *out)
{
    static const int8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };     /* BX BX BP BP SI DI BP BX */
    static const int8_t index16[8] = { 6, 7, 6, 7, -1, -1, -1, -1 }; /* SI DI SI DI - - - - */
    uint64_t disp = 0;
    int e = 0;

    out->base = base16[rm];
    out->index = index16[rm];
    if (mod == 0 && rm == 6) {          /* [disp16], no base */
        out->base = -1;
        mod = 2;
    }
    unsigned n = mod == 1 ? 1 : mod == 2 ? 2 : 0;   /* disp8 or disp16 */
    if (n) {
        e = fetch_le(c, n, &disp);
        out->disp = sign_extend(disp, n);
    }
    /* SDM vol. 1 §3.7.4: BP-based forms default to SS. */
    if (!out->segment_override && out->base == 5)
        out->segment = DECODE_SEG_SS;
    return e;
}

/* ModRM/SIB addressing with 32/64-bit address size (SDM vol. 2 §2.1.5 tables
 * 2-2/2-3, §2.2.1 for REX.X/REX.B and RIP-relative addressing). */
static int decode_modrm32(struct cursor *c, enum decode_mode mode, uint8_t rex, uint8_t mod,
                          uint8_t rm, struct decoded_insn *out)
{
    uint64_t disp = 0;
    int e;

    if (rm == 4) {                      /* SIB follows */
        uint8_t sib;
        if ((e = fetch_byte(c, &sib)))
            return e;
        uint8_t index = ((sib >> 3) & 7) | ((rex & 0x2) << 2);   /* REX.X */
        uint8_t base = (sib & 7) | ((rex & 0x1) << 3);           /* REX.B */
        if (index != 4) {               /* index 100b means none; with REX.X it is R12 */
            out->index = (int8_t)index;
            out->scale = (uint8_t)(1u << (sib >> 6));
        }
        if ((sib & 7) == 5 && mod == 0) {
            out->base = -1;             /* [index*scale + disp32], also for REX.B (R13) */
            mod = 2;
        } else {
            out->base = (int8_t)base;
        }
    } else if (rm == 5 && mod == 0) {   /* disp32; RIP-relative in 64-bit mode */
        out->rip_relative = mode == DECODE_MODE_64;
        mod = 2;
    } else {
        out->base = (int8_t)(rm | ((rex & 0x1) << 3));           /* REX.B */
    }
    unsigned n = mod == 1 ? 1 : mod == 2 ? 4 : 0;   /* disp8 or disp32 */
    if (n) {
        if ((e = fetch_le(c, n, &disp)))
            return e;
        out->disp = sign_extend(disp, n);
    }
    /* SDM vol. 1 §3.7.4: rSP/rBP as base default to SS. */
    if (!out->segment_override && (out->base == 4 || out->base == 5))
        out->segment = DECODE_SEG_SS;
    return 0;
}

/* The register operand named by ModRM.reg (extended by REX.R).  Byte registers
 * 4-7 are AH CH DH BH unless a REX prefix is present, then SPL BPL SIL DIL
 * (SDM vol. 2 §2.2.1.2, table 3-1). */
static void set_reg(struct decoded_insn *out, uint8_t reg, uint8_t rex, unsigned size)
{
    if (size == 1 && !rex && reg >= 4 && reg < 8) {
        out->reg = (int8_t)(reg - 4);
        out->reg_high_byte = true;
    } else {
        out->reg = (int8_t)reg;
    }
}

/* Group opcodes: ModRM.reg selects the operation (SDM vol. 2 table A-6);
 * -1 is a form not decoded here (MUL/DIV, CALL/JMP, ...). */
enum { G1, G3, G4, G5, G8, G9, G11, G1A };
static const int8_t groups[][8] = {
    [G1] = { DECODE_ADD, DECODE_OR, DECODE_ADC, DECODE_SBB, DECODE_AND, DECODE_SUB, DECODE_XOR, DECODE_CMP },
    /* F6/F7 /1 executes as TEST on Intel and AMD CPUs (APM vol. 3 appendix
     * A.2 opcode map; undocumented in the SDM). */
    [G3] = { DECODE_TEST, DECODE_TEST, DECODE_NOT, DECODE_NEG, -1, -1, -1, -1 },
    [G4] = { DECODE_INC, DECODE_DEC, -1, -1, -1, -1, -1, -1 },
    [G5] = { DECODE_INC, DECODE_DEC, -1, -1, -1, -1, DECODE_PUSH, -1 },
    [G8] = { -1, -1, -1, -1, DECODE_BT, DECODE_BTS, DECODE_BTR, DECODE_BTC },
    [G9] = { -1, DECODE_CMPXCHG8B, -1, -1, -1, -1, -1, -1 },
    [G11] = { DECODE_MOV_STORE, -1, -1, -1, -1, -1, -1, -1 },
    [G1A] = { DECODE_POP, -1, -1, -1, -1, -1, -1, -1 },
};

/* String instructions A4-AF by (opcode - A4) / 2; A8/A9 is TEST rAX, imm. */
static const int8_t string_ops[6] = { DECODE_MOVS, DECODE_CMPS, -1, DECODE_STOS, DECODE_LODS, DECODE_SCAS };

/* How an opcode's operands are encoded. */
enum imm_kind { IMM_NONE, IMM_8, IMM_Z /* 16, or 32 for 32/64-bit operands */ };

int decode_insn(const uint8_t *bytes, size_t avail, enum decode_mode mode,
                struct decoded_insn *out)
{
    struct cursor c = { bytes, avail, 0 };
    bool opsize_prefix = false, addrsize_prefix = false;
    uint8_t rex = 0, b;
    int e;

    *out = (struct decoded_insn){ .reg = -1, .base = -1, .index = -1, .scale = 1,
                                  .segment = DECODE_SEG_DS };

    /* Legacy prefixes in any order, then REX, then the opcode (SDM vol. 2
     * §2.1.1, §2.2.1: a REX not immediately before the opcode is ignored). */
    for (;;) {
        if ((e = fetch_byte(&c, &b)))
            return e;
        switch (b) {
        case 0x66: opsize_prefix = true; rex = 0; continue;
        case 0x67: addrsize_prefix = true; rex = 0; continue;
        case 0xF0: out->lock = true; rex = 0; continue;
        case 0xF2: case 0xF3: out->rep = b; rex = 0; continue;
        case 0x26: case 0x2E: case 0x36: case 0x3E:
            out->segment = (uint8_t)((b >> 3) & 3);     /* 26 ES, 2E CS, 36 SS, 3E DS */
            out->segment_override = true; rex = 0; continue;
        case 0x64: case 0x65:
            out->segment = (uint8_t)(DECODE_SEG_FS + (b & 1));
            out->segment_override = true; rex = 0; continue;
        default:
            break;
        }
        if (mode == DECODE_MODE_64 && (b & 0xF0) == 0x40) {  /* 40-4F: INC/DEC outside 64-bit */
            rex = b;
            continue;
        }
        break;
    }
    /* VEX (SDM vol. 2 §2.3): C5 R.vvvv.L.pp, C4 R.X.B.mmmmm W.vvvv.L.pp, the
     * 0F map implied; outside 64-bit mode only with ModRM.mod = 11, else C4/C5
     * are LES/LDS.  66, F2, F3, REX or LOCK before it are #UD. */
    uint8_t v1 = 0, v2 = 0, sse_prefix = out->rep ? out->rep : opsize_prefix ? 0x66 : 0;
    bool vex = b == 0xC4 || b == 0xC5;
    if (vex) {
        if ((e = fetch_byte(&c, &v1)))
            return e;
        if (mode != DECODE_MODE_64 && v1 < 0xC0)
            return DECODE_EUNSUPPORTED;
        if (b == 0xC4 && (e = fetch_byte(&c, &v2)))
            return e;
        if (b == 0xC5)
            v2 = v1 & 0x7F, v1 = (v1 & 0x80) | 0x61;   /* as C4: X B set, map 0F, W 0 */
        if ((v1 & 0x1F) != 1)
            return DECODE_EUNSUPPORTED;                 /* the 0F 38 and 0F 3A maps */
        if (sse_prefix || rex || out->lock)
            return DECODE_EINVALID;
        sse_prefix = (uint8_t)"\0\x66\xF3\xF2"[v2 & 3];
        rex = mode == DECODE_MODE_64 ? (uint8_t)(0x40 | ((~v1 >> 5) & 7) | ((v2 >> 4) & 8)) : 0;
        out->vex = true;
    }
    out->rex = rex;

    /* SDM vol. 1 §3.6.1 table 3-4: operand size from CS.D, 66 and REX.W;
     * address size from CS.D/CS.L and 67. */
    unsigned osz = mode == DECODE_MODE_16 ? 2 : 4;
    if (opsize_prefix)
        osz = 6 - osz;
    if (rex & 0x8)
        osz = 8;                                        /* REX.W wins over 66 */
    unsigned asz = mode == DECODE_MODE_64 ? 8 : mode == DECODE_MODE_32 ? 4 : 2;
    if (addrsize_prefix)
        asz = mode == DECODE_MODE_32 ? 2 : 4;
    out->addr_size = (uint8_t)asz;

    bool byte_op = false, modrm = true, reg_is_operand = true;
    enum imm_kind imm = IMM_NONE;
    int group = -1;     /* ModRM.reg selects the operation: which row of groups[] */
    unsigned mem_size = 0;

    out->mem_is_dst = true;     /* the usual case; loads and compares clear it */
    if (vex || b == 0x0F) {
        if ((e = fetch_byte(&c, &b)))
            return e;
        out->two_byte = true;
        out->opcode = b;
        if (vex && b != 0x6E && b != 0x7E && b != 0xD6 && b != 0x6F && b != 0x7F)
            return DECODE_EUNSUPPORTED;
        switch (b) {
        case 0xB6: case 0xB7: case 0xBE: case 0xBF:     /* MOVZX/MOVSX r, r/m8 or r/m16 */
            out->op = (b & 0x8) ? DECODE_MOVSX : DECODE_MOVZX;
            mem_size = (b & 1) ? 2 : 1;
            out->mem_is_dst = false;
            break;
        case 0xA3: case 0xAB: case 0xB3: case 0xBB:     /* BT BTS BTR BTC r/m, r */
            out->op = (enum decode_op)(DECODE_BT + ((b >> 3) & 3));
            break;
        case 0xBA:                                      /* group 8: BT BTS BTR BTC r/m, imm8 */
            imm = IMM_8;
            group = G8;
            break;
        case 0xB0: case 0xB1: case 0xC0: case 0xC1:     /* CMPXCHG, XADD r/m, r */
            out->op = b >= 0xC0 ? DECODE_XADD : DECODE_CMPXCHG;
            byte_op = !(b & 1);
            break;
        case 0xC7:                                      /* group 9: /1 CMPXCHG8B m64 */
            if (rex & 0x8)
                return DECODE_EUNSUPPORTED;             /* CMPXCHG16B: wider than an access */
            osz = 4;
            mem_size = 8;
            group = G9;
            break;
        case 0xC3:                                      /* MOVNTI m32/m64, r (NP: no 66/F2/F3) */
            if (opsize_prefix || out->rep)
                return DECODE_EINVALID;
            out->op = DECODE_MOV_STORE;
            osz = rex & 0x8 ? 8 : 4;
            break;
        case 0x38:                                      /* 0F 38 F0/F1: MOVBE (F2: CRC32) */
            if ((e = fetch_byte(&c, &b)))
                return e;
            out->opcode = b;
            if ((b & 0xFE) != 0xF0 || out->rep)
                return DECODE_EUNSUPPORTED;
            out->op = b & 1 ? DECODE_MOV_STORE : DECODE_MOV_LOAD;
            out->mem_is_dst = b & 1;
            out->byte_swap = true;
            break;
        case 0x6E: case 0x7E: case 0xD6: case 0x6F: case 0x7F: {
            /* SSE/AVX moves; the mandatory prefix (VEX.pp, else F2/F3 over 66)
             * picks the form.  Size 0: 4, or 8 with REX.W/VEX.W (MOVD/MOVQ). */
            static const struct { uint8_t opcode, prefix, size; bool store, aligned; } forms[] = {
                { 0x6E, 0x66, 0, false, false }, { 0x7E, 0x66, 0, true, false },   /* MOVD/MOVQ */
                { 0x7E, 0xF3, 8, false, false }, { 0xD6, 0x66, 8, true, false },   /* MOVQ */
                { 0x6F, 0x66, 16, false, true }, { 0x7F, 0x66, 16, true, true },   /* MOVDQA */
                { 0x6F, 0xF3, 16, false, false }, { 0x7F, 0xF3, 16, true, false }, /* MOVDQU */
            };
            unsigned i = 0, vex_l = (v2 >> 2) & 1;
            while (i < 8 && (forms[i].opcode != b || forms[i].prefix != sse_prefix))
                i++;
            if (i == 8)
                return DECODE_EUNSUPPORTED;             /* MMX forms, ... */
            if (vex && ((v2 & 0x78) != 0x78 || (vex_l && forms[i].size < 16)))
                return DECODE_EINVALID;                 /* VEX.vvvv unused must be 1111b; VEX.L */
            out->op = forms[i].store ? DECODE_VEC_STORE : DECODE_VEC_LOAD;
            out->mem_is_dst = forms[i].store;
            out->aligned = forms[i].aligned;
            osz = forms[i].size ? forms[i].size << vex_l : (rex & 0x8) ? 8 : 4;
            break;
        }
        default:
            return DECODE_EUNSUPPORTED;
        }
    } else {
        out->opcode = b;
        if (b < 0x40 && (b & 7) < 4) {
            /* 00-3B: op r/m,r (bit 1 clear) or op r,r/m; bit 0 clear = byte. */
            out->op = (enum decode_op)(b >> 3);
            byte_op = !(b & 1);
            out->mem_is_dst = !(b & 2);
        } else if (b >= 0xA4 && b <= 0xAF && string_ops[(b - 0xA4) >> 1] >= 0) {
            out->op = (enum decode_op)string_ops[(b - 0xA4) >> 1];
            byte_op = !(b & 1);
            out->mem_is_dst = out->op == DECODE_MOVS || out->op == DECODE_CMPS || out->op == DECODE_STOS;
            modrm = false;
        } else {
            switch (b) {
            case 0x82:                                  /* alias of 80; #UD in 64-bit mode */
                if (mode == DECODE_MODE_64)
                    return DECODE_EINVALID;
                /* fall through */
            case 0x80: case 0x81: case 0x83:            /* group 1: op r/m, imm */
                byte_op = b != 0x81 && b != 0x83;
                imm = b == 0x81 ? IMM_Z : IMM_8;
                group = G1;
                break;
            case 0x84: case 0x85:                       /* TEST r/m, r */
            case 0x86: case 0x87:                       /* XCHG r/m, r: locked anyway */
                out->op = b & 2 ? DECODE_XCHG : DECODE_TEST;
                byte_op = !(b & 1);
                break;
            case 0x88: case 0x89: case 0x8A: case 0x8B: /* MOV */
                out->op = (b & 2) ? DECODE_MOV_LOAD : DECODE_MOV_STORE;
                byte_op = !(b & 1);
                out->mem_is_dst = !(b & 2);
                break;
            case 0x63:                                  /* MOVSXD r64, r/m32 (64-bit mode only) */
                /* Outside 64-bit mode 63 is ARPL.  Without REX.W it is a plain
                 * 16/32-bit move whose memory width differs between vendors
                 * (SDM vol. 2 MOVSXD vs APM vol. 3 MOVSXD); compilers never
                 * emit it, so it is refused rather than guessed. */
                if (mode != DECODE_MODE_64 || !(rex & 0x8))
                    return DECODE_EUNSUPPORTED;
                out->op = DECODE_MOVSX;
                mem_size = 4;
                out->mem_is_dst = false;
                break;
            case 0xC6: case 0xC7:                       /* group 11: /0 MOV r/m, imm */
            case 0xF6: case 0xF7:                       /* group 3: TEST r/m, imm; NOT; NEG */
                byte_op = !(b & 1);
                imm = byte_op ? IMM_8 : IMM_Z;
                group = b < 0xF0 ? G11 : G3;
                break;
            case 0xFE: case 0xFF:                       /* groups 4, 5: INC DEC; PUSH r/m */
            case 0x8F:                                  /* group 1A: POP r/m */
                byte_op = b == 0xFE;
                group = b == 0x8F ? G1A : byte_op ? G4 : G5;
                break;
            case 0xA0: case 0xA1: case 0xA2: case 0xA3: /* MOV AL/rAX <-> moffs */
                out->op = (b & 2) ? DECODE_MOV_STORE : DECODE_MOV_LOAD;
                byte_op = !(b & 1);
                out->mem_is_dst = (b & 2) != 0;
                modrm = false;
                break;
            default:
                return DECODE_EUNSUPPORTED;
            }
        }
    }

    if (modrm) {
        uint8_t m;
        if ((e = fetch_byte(&c, &m)))
            return e;
        uint8_t mod = m >> 6, reg = (m >> 3) & 7, rm = m & 7;
        if (group >= 0) {
            if (groups[group][reg] < 0)
                return DECODE_EUNSUPPORTED;
            out->op = (enum decode_op)groups[group][reg];
            reg_is_operand = false;
            if (group == G3 && out->op != DECODE_TEST)
                imm = IMM_NONE;                         /* NOT, NEG */
            /* SDM vol. 1 §3.6.1: PUSH/POP default to 64 bits in 64-bit mode; 66 gives 16. */
            if ((out->op == DECODE_PUSH || out->op == DECODE_POP) && mode == DECODE_MODE_64)
                osz = osz == 2 ? 2 : 8;
        }
        if (mod == 3)
            return DECODE_EINVALID;                     /* register operand: no memory access */
        if (reg_is_operand)
            set_reg(out, (uint8_t)(reg | ((rex & 0x4) << 1)), rex, byte_op ? 1 : osz);  /* REX.R */
        e = asz == 2 ? decode_modrm16(&c, mod, rm, out) : decode_modrm32(&c, mode, rex, mod, rm, out);
        if (e)
            return e;
    } else if (out->op >= DECODE_MOVS) {
        /* SDM vol. 2 string instructions: the source DS:rSI (overridable),
         * the destination ES:rDI; STOS/LODS/SCAS use rAX. */
        out->base = out->op == DECODE_STOS || out->op == DECODE_SCAS ? 7 : 6;
        if (out->base == 7) {
            out->segment = DECODE_SEG_ES;
            out->segment_override = false;
        }
        if (out->op != DECODE_MOVS && out->op != DECODE_CMPS)
            out->reg = 0;
    } else {
        /* moffs: an absolute offset of address size (SDM vol. 2 MOV, "moffs"). */
        uint64_t offset;
        if ((e = fetch_le(&c, asz, &offset)))
            return e;
        out->disp = (int64_t)offset;
        out->reg = 0;
    }
    out->op_size = (uint8_t)(byte_op ? 1 : osz);
    out->mem_size = (uint8_t)(mem_size ? mem_size : out->op_size);

    if (imm != IMM_NONE) {
        unsigned n = imm == IMM_8 ? 1 : (osz == 2 ? 2 : 4);
        uint64_t v;
        if ((e = fetch_le(&c, n, &v)))
            return e;
        out->has_imm = true;
        /* 83 /r and 81/C7/F7 with 64-bit operands sign-extend; BT's imm8 is
         * a bit number (SDM vol. 2 BT: taken modulo the operand width). */
        out->imm = group == G8 ? v : (uint64_t)sign_extend(v, n);
    }

    /* SDM vol. 2 "LOCK": #UD unless a read-modify-write of a memory destination. */
    bool lockable = out->op < DECODE_CMP || (out->op > DECODE_BT && out->op <= DECODE_CMPXCHG8B);
    if (out->lock && !(out->mem_is_dst && lockable))
        return DECODE_EINVALID;

    out->length = (uint8_t)c.pos;
    return 0;
}

uint64_t decode_effective_address(const struct decoded_insn *insn, const uint64_t gpr[16],
                                  uint64_t rip)
{
    uint64_t ea = (uint64_t)insn->disp;
    if (insn->base >= 0)
        ea += gpr[insn->base];
    if (insn->index >= 0)
        ea += gpr[insn->index] * insn->scale;
    if (insn->rip_relative)
        ea += rip + insn->length;       /* relative to the next instruction */
    return ea & decode_size_mask(insn->addr_size);
}

uint64_t decode_string_dst(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    return gpr[7] & decode_size_mask(insn->addr_size);
}
