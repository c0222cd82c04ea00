/* SPDX-License-Identifier: MIT */
/*
 * Differential test of microkernel/virt/decode.c against Capstone.  Random
 * byte strings, biased toward the opcodes the decoder supports (random
 * prefixes, REX, ModRM, SIB, displacement and immediate bytes), seeded and
 * deterministic.  For every string the decoder accepts, Capstone must decode
 * the same instruction: same length, same mnemonic family, and operands that
 * agree (register name and width, memory size, base/index/scale/disp,
 * immediate).  In the other direction, strings Capstone decodes as a
 * supported mnemonic with a memory operand that the decoder refuses are
 * counted by reason; refusals the SDM does not justify fail the test.
 */
#include <capstone/capstone.h>
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "virt/decode.h"

#ifndef CAPSTONE_ITERATIONS
#define CAPSTONE_ITERATIONS 400000
#endif

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t s = rng_state;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return rng_state = s;
}

static unsigned pick(unsigned n) { return (unsigned)(rng() % n); }

/* Builds one candidate instruction in buf[16]; returns how many bytes to offer. */
static size_t generate(uint8_t *buf, enum decode_mode mode)
{
    static const uint8_t prefixes[] = { 0x66, 0x66, 0x67, 0x67, 0xf0, 0xf2, 0xf3, 0xf3,
                                        0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65 };
    static const uint8_t opcodes[] = {
        0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0x63, 0xa4, 0xa5, 0xaa, 0xab,
        0x20, 0x21, 0x22, 0x23, 0x08, 0x09, 0x0a, 0x0b, 0x30, 0x31, 0x32, 0x33, 0x00, 0x01, 0x02,
        0x03, 0x28, 0x29, 0x2a, 0x2b, 0x38, 0x39, 0x3a, 0x3b, 0x80, 0x81, 0x83, 0x84, 0x85, 0xf6,
        0xf7, 0x86, 0x87, 0x0f, 0x0f, 0x0f, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b, 0xfe,
        0xff, 0x8f, 0xa6, 0xa7, 0xac, 0xad, 0xae, 0xaf, 0x0f, 0x0f,
    };
    static const uint8_t two_byte[] = { 0xb6, 0xb7, 0xbe, 0xbf, 0xa3, 0xba, 0xab, 0xb3, 0xbb, 0xb0,
                                        0xb1, 0xc0, 0xc1, 0xc7, 0xc3, 0x38, 0x6e, 0x7e, 0xd6, 0x6f,
                                        0x7f };
    size_t n = 0;

    for (unsigned i = 0, count = pick(8) < 5 ? pick(2) : pick(5); i < count; i++)
        buf[n++] = prefixes[pick(sizeof prefixes)];
    if (pick(12) == 0) {
        /* VEX (C5, or C4 with the 0F map mostly), then an SSE move's opcode. */
        static const uint8_t vex_ops[] = { 0x6e, 0x7e, 0xd6, 0x6f, 0x7f };
        bool three = pick(2);
        buf[n++] = three ? 0xc4 : 0xc5;
        if (three)
            buf[n++] = (uint8_t)((rng() & 0xe0) | (pick(8) ? 1 : pick(32)));
        buf[n++] = (uint8_t)(pick(4) ? (rng() | 0x78) : rng());
        buf[n++] = vex_ops[pick(sizeof vex_ops)];
        buf[n++] = (uint8_t)rng();
        while (n < 16)
            buf[n++] = (uint8_t)rng();
        return 15;
    }
    if (mode == DECODE_MODE_64 && pick(2))
        buf[n++] = (uint8_t)(0x40 | pick(16));
    buf[n++] = pick(16) ? opcodes[pick(sizeof opcodes)] : (uint8_t)rng();
    if (buf[n - 1] == 0x0f)
        buf[n++] = pick(16) ? two_byte[pick(sizeof two_byte)] : (uint8_t)rng();
    if (buf[n - 1] == 0x38 && buf[n - 2] == 0x0f)
        buf[n++] = pick(8) ? (uint8_t)(0xf0 | pick(2)) : (uint8_t)rng();   /* MOVBE */
    /* ModRM: memory forms mostly; group opcodes get their supported /digit often. */
    uint8_t modrm = (uint8_t)rng();
    if (pick(10))
        modrm = (uint8_t)((modrm & 0x3f) | (pick(3) << 6));
    if (pick(4) == 0)
        modrm = (uint8_t)((modrm & 0xc7) | (pick(2) ? 0 : 4 << 3));
    buf[n++] = modrm;
    while (n < 16)
        buf[n++] = (uint8_t)rng();
    return 15;
}

static const char *const names64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const names32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                          "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" };
static const char *const names16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                         "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" };
static const char *const names8[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                        "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" };
static const char *const names8h[4] = { "ah", "ch", "dh", "bh" };
static const char *const segments[6] = { "es", "cs", "ss", "ds", "fs", "gs" };

static bool is_gpr_name(const char *n)
{
    for (int i = 0; i < 16; i++)
        if (!strcmp(n, names64[i]) || !strcmp(n, names32[i]) || !strcmp(n, names16[i]) ||
            !strcmp(n, names8[i]) || (i < 4 && !strcmp(n, names8h[i])))
            return true;
    return false;
}

static const char *reg_name(int reg, unsigned size, bool high)
{
    if (reg < 0)
        return "";
    if (size > 8) {   /* 16: XMM, 32: YMM */
        static char name[8];
        snprintf(name, sizeof name, "%cmm%d", size == 32 ? 'y' : 'x', reg);
        return name;
    }
    if (high)
        return names8h[reg & 3];
    return size == 8 ? names64[reg] : size == 4 ? names32[reg] : size == 2 ? names16[reg] : names8[reg];
}

static const char *cs_name(csh h, unsigned reg)
{
    const char *n = reg == X86_REG_INVALID ? NULL : cs_reg_name(h, reg);
    return n ? n : "";
}

/* The mnemonic without prefixes Capstone folds into it. */
static const char *base_mnemonic(const char *m)
{
    static const char *const words[] = { "lock ", "rep ", "repne ", "repe ", "repz ", "repnz ",
                                         "xacquire ", "xrelease ", "notrack ", "bnd " };
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
            size_t l = strlen(words[i]);
            if (!strncmp(m, words[i], l)) {
                m += l;
                again = 1;
            }
        }
    }
    return m;
}

static bool mnemonic_matches(const struct decoded_insn *d, const char *m)
{
    static const char *const alu[] = {
        [DECODE_AND] = "and", [DECODE_OR] = "or", [DECODE_XOR] = "xor", [DECODE_ADD] = "add",
        [DECODE_SUB] = "sub", [DECODE_CMP] = "cmp", [DECODE_ADC] = "adc", [DECODE_SBB] = "sbb",
        [DECODE_TEST] = "test", [DECODE_XCHG] = "xchg", [DECODE_BT] = "bt", [DECODE_BTS] = "bts",
        [DECODE_BTR] = "btr", [DECODE_BTC] = "btc", [DECODE_INC] = "inc", [DECODE_DEC] = "dec",
        [DECODE_NOT] = "not", [DECODE_NEG] = "neg", [DECODE_XADD] = "xadd", [DECODE_CMPXCHG] = "cmpxchg",
        [DECODE_CMPXCHG8B] = "cmpxchg8b", [DECODE_PUSH] = "push", [DECODE_POP] = "pop" };
    switch (d->op) {
    case DECODE_MOV_LOAD:
    case DECODE_MOV_STORE:
        if (d->byte_swap)
            return !strcmp(m, "movbe");
        if (d->two_byte)
            return !strcmp(m, "movnti");
        return !strcmp(m, "mov") || !strcmp(m, "movabs");
    case DECODE_MOVZX:
        return !strcmp(m, "movzx");
    case DECODE_MOVSX:
        return !strcmp(m, "movsx") || !strcmp(m, "movsxd");
    case DECODE_MOVS:
        return !strncmp(m, "movs", 4) && strlen(m) == 5;
    case DECODE_STOS:
        return !strncmp(m, "stos", 4) && strlen(m) == 5;
    case DECODE_CMPS:
        return !strncmp(m, "cmps", 4) && strlen(m) == 5;
    case DECODE_LODS:
        return !strncmp(m, "lods", 4) && strlen(m) == 5;
    case DECODE_SCAS:
        return !strncmp(m, "scas", 4) && strlen(m) == 5;
    case DECODE_VEC_LOAD:
    case DECODE_VEC_STORE:
        m += d->vex && m[0] == 'v';
        return d->mem_size == 4 ? !strcmp(m, "movd")
             : d->mem_size == 8 ? !strcmp(m, "movq") || (!d->vex && !strcmp(m, "movd"))   /* Capstone 4: 66 REX.W 0F 6E */
             : !strcmp(m, d->aligned ? "movdqa" : "movdqu");
    default:
        return !strcmp(m, alu[d->op]);
    }
}

static bool supported_mnemonic(const char *m)
{
    static const char *const list[] = { "mov", "movabs", "movzx", "movsx", "movsxd", "movsb", "movsw",
                                        "movsd", "movsq", "stosb", "stosw", "stosd", "stosq", "and",
                                        "or", "xor", "add", "sub", "cmp", "test", "xchg", "bt",
                                        "adc", "sbb", "bts", "btr", "btc", "inc", "dec", "not", "neg",
                                        "xadd", "cmpxchg", "cmpxchg8b", "movnti", "movbe", "push", "pop",
                                        "cmpsb", "cmpsw", "cmpsd", "cmpsq", "lodsb", "lodsw", "lodsd",
                                        "lodsq", "scasb", "scasw", "scasd", "scasq", "movd", "movq", "movdqa",
                                        "movdqu", "vmovd", "vmovq", "vmovdqa", "vmovdqu" };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (!strcmp(m, list[i]))
            return true;
    return false;
}

static uint64_t mask(unsigned bytes) { return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1; }

struct stats {
    unsigned long tried, accepted, compared, refused_lock, refused_other, refused_regform, refused_movsxd,
        refused_np, refused_vex;
};

static char report[512];
static unsigned long mmx_quirks;   /* SSE forms Capstone 4 shows with MMX registers (compare()) */

static const char *hexdump(const uint8_t *b, size_t n)
{
    static char text[64];
    for (size_t i = 0; i < n && i < 16; i++)
        snprintf(text + 3 * i, 4, "%02x ", b[i]);
    return text;
}

static bool is_legacy_prefix(uint8_t b)
{
    return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 ||
           b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/* Capstone 4 gets the operand size wrong when F2/F3 follows 66 ("66 F3 39
 * 6B B5" comes out as cmp dword [...], bp): it treats them like SSE
 * mandatory prefixes.  It also honours a REX that is followed by a legacy
 * prefix, which the CPU ignores (SDM vol. 2 §2.2.1).  For these opcodes the
 * order of legacy prefixes has no meaning (SDM vol. 2 §2.1.1), so Capstone is
 * shown an equivalent string: each ignored REX replaced by a copy of the
 * legacy prefix after it, then every F2/F3 moved in front, their order kept. */
static void capstone_order(const uint8_t *in, uint8_t *out, size_t n, enum decode_mode mode)
{
    uint8_t tmp[16];
    size_t p = 0, k = 0;
    memcpy(tmp, in, n);
    for (; p < n; p++) {
        bool rex = mode == DECODE_MODE_64 && (tmp[p] & 0xf0) == 0x40;
        if (rex && p + 1 < n && is_legacy_prefix(tmp[p + 1]))
            tmp[p] = tmp[p + 1];
        else if (!is_legacy_prefix(tmp[p]))
            break;
    }
    /* SSE moves: Capstone 4 sees a mandatory prefix only right before the
     * opcode (the CPU anywhere among the prefixes), so there they go last,
     * F2/F3 after 66, as the CPU ranks them. */
    size_t q = p + (mode == DECODE_MODE_64 && p < n && (tmp[p] & 0xf0) == 0x40);
    bool sse = q + 1 < n && tmp[q] == 0x0f && memchr("\x6e\x7e\xd6\x6f\x7f", tmp[q + 1], 5);
    for (int pass = sse ? 0 : 1; pass < 4; pass++)
        for (size_t i = 0; i < p; i++) {
            bool rep = tmp[i] == 0xf2 || tmp[i] == 0xf3, opsize = tmp[i] == 0x66;
            if (sse ? (pass == 1 && !rep && !opsize) || (pass == 2 && opsize) || (pass == 3 && rep)
                    : (pass == 1 && rep) || (pass == 2 && !rep))
                out[k++] = tmp[i];
        }
    memcpy(out + p, tmp + p, n - p);
}

/* Compares one accepted instruction; returns false with `report` filled. */
static bool compare(csh h, const uint8_t *buf, size_t avail, const struct decoded_insn *d, enum decode_mode mode)
{
    cs_insn *ci;
    uint8_t shown[16];
    capstone_order(buf, shown, avail, mode);
    if (d->op >= DECODE_VEC_LOAD && mode == DECODE_MODE_16) {
        mmx_quirks++;   /* Capstone 4 decodes no SSE form in 16-bit mode right (MMX, or nothing) */
        return true;
    }
    size_t count = cs_disasm(h, shown, avail, 0x1000, 1, &ci);
#define FAIL(...) do { int k = snprintf(report, sizeof report, "[%s] mode %d: ", hexdump(buf, d->length), \
                                       (int)mode); \
                       snprintf(report + k, sizeof report - (size_t)k, __VA_ARGS__); goto fail; } while (0)
    if (count != 1) {
        snprintf(report, sizeof report, "[%s] mode %d: decoder accepted, Capstone did not",
                 hexdump(buf, d->length), (int)mode);
        return false;
    }
    const cs_x86 *x = &ci->detail->x86;
    const char *m = base_mnemonic(ci->mnemonic);
    /* Capstone 4 ignores SSE's mandatory prefixes in 16-bit mode and next to
     * REX.W, showing MMX forms (mm0-7); the CPU does not (SDM vol. 2 §2.1.2). */
    for (int i = 0; i < x->op_count && d->op >= DECODE_VEC_LOAD; i++)
        if (x->operands[i].type == X86_OP_REG && !strncmp(cs_name(h, x->operands[i].reg), "mm", 2)) {
            mmx_quirks++;
            cs_free(ci, count);
            return true;
        }
    if (ci->size != d->length)
        FAIL("length %u, Capstone %u (%s %s)", d->length, ci->size, ci->mnemonic, ci->op_str);
    if (!mnemonic_matches(d, m))
        FAIL("op %d, Capstone %s %s", d->op, ci->mnemonic, ci->op_str);

    /* Operands in Intel order: memory first when it is the destination. */
    bool vec = d->op >= DECODE_VEC_LOAD;
    const char *want_reg = reg_name(d->reg, vec && d->op_size < 16 ? 16 : d->op_size, d->reg_high_byte);
    bool seen_mem = false, seen_reg = d->reg < 0, seen_imm = !d->has_imm;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *o = &x->operands[i];
        if (o->type == X86_OP_MEM) {
            if ((d->op == DECODE_MOVS && i == 0) || (d->op == DECODE_CMPS && i == 1)) {
                /* ES:[rDI]; the decoded operand is the source. */
                if (o->size != d->mem_size || strcmp(cs_name(h, o->mem.base), reg_name(7, d->addr_size, false)))
                    FAIL("string destination (%s %s)", ci->mnemonic, ci->op_str);
                continue;
            }
            /* Capstone 4 gives PUSH/POP r/m with 66 and REX.W 16 bits; REX.W wins
             * (SDM vol. 1 table 3-4, APM vol. 3 table 1-4, and QEMU's mo_pushpop). */
            bool pushpop_rexw = d->op >= DECODE_PUSH && (d->rex & 8) && o->size == 2;
            if (o->size != d->mem_size && !pushpop_rexw)
                FAIL("mem size %u, Capstone %u (%s %s)", d->mem_size, o->size, ci->mnemonic, ci->op_str);
            int want_at = d->op == DECODE_MOVS ? 1 : d->mem_is_dst ? 0 : 1;
            if (i != want_at)
                FAIL("memory operand at %d, expected %d (%s %s)", i, want_at, ci->mnemonic, ci->op_str);
            seen_mem = true;
            const char *want_base = d->rip_relative ? (d->addr_size == 8 ? "rip" : "eip")
                                                    : reg_name(d->base, d->addr_size, false);
            if (strcmp(cs_name(h, o->mem.base), want_base))
                FAIL("base '%s', Capstone '%s' (%s %s)", want_base, cs_name(h, o->mem.base), ci->mnemonic,
                     ci->op_str);
            if (strcmp(cs_name(h, o->mem.index), reg_name(d->index, d->addr_size, false)))
                FAIL("index '%s', Capstone '%s' (%s %s)", reg_name(d->index, d->addr_size, false),
                     cs_name(h, o->mem.index), ci->mnemonic, ci->op_str);
            if (d->index >= 0 && o->mem.scale != d->scale)
                FAIL("scale %u, Capstone %d (%s %s)", d->scale, o->mem.scale, ci->mnemonic, ci->op_str);
            uint64_t am = d->rip_relative ? mask(4) : mask(d->addr_size);
            if (((uint64_t)o->mem.disp & am) != ((uint64_t)d->disp & am))
                FAIL("disp %#" PRIx64 ", Capstone %#" PRIx64 " (%s %s)", (uint64_t)d->disp,
                     (uint64_t)o->mem.disp, ci->mnemonic, ci->op_str);
            /* Capstone names the segment only when a prefix overrides it. */
            if (d->segment_override && o->mem.segment != X86_REG_INVALID &&
                strcmp(cs_name(h, o->mem.segment), segments[d->segment]))
                FAIL("segment %s, Capstone %s (%s %s)", segments[d->segment], cs_name(h, o->mem.segment),
                     ci->mnemonic, ci->op_str);
        } else if (o->type == X86_OP_REG) {
            if (!strcmp(cs_name(h, o->reg), want_reg))
                seen_reg = true;
            else
                FAIL("register '%s', Capstone '%s' (%s %s)", want_reg, cs_name(h, o->reg), ci->mnemonic,
                     ci->op_str);
        } else if (o->type == X86_OP_IMM) {
            uint64_t im = d->op >= DECODE_BT && d->op <= DECODE_BTC ? mask(1) : mask(d->op_size);
            if (((uint64_t)o->imm & im) != (d->imm & im))
                FAIL("imm %#" PRIx64 ", Capstone %#" PRIx64 " (%s %s)", d->imm, (uint64_t)o->imm,
                     ci->mnemonic, ci->op_str);
            seen_imm = true;
        }
    }
    if (!seen_mem || !seen_reg || !seen_imm)
        FAIL("operand missing: mem %d reg %d imm %d (%s %s)", seen_mem, seen_reg, seen_imm, ci->mnemonic,
             ci->op_str);
    cs_free(ci, count);
    return true;
fail:
    cs_free(ci, count);
    return false;
#undef FAIL
}

/* Capstone decoded a supported mnemonic with a memory operand; the decoder
 * refused it.  Legitimate refusals: LOCK where the SDM says #UD, ADC-like
 * look-alikes are not in the mnemonic list anyway.  Returns false for any
 * other reason. */
static bool refusal_justified(csh h, const uint8_t *buf, size_t avail, int ret, enum decode_mode mode,
                              struct stats *st)
{
    cs_insn *ci;
    uint8_t shown[16];
    capstone_order(buf, shown, avail, mode);
    size_t count = cs_disasm(h, shown, avail, 0x1000, 1, &ci);
    if (count != 1)
        return true;
    bool has_mem = false, has_lock = false, foreign_reg = false, rex_w = false, simd_prefix = false;
    for (int i = 0; i < ci->detail->x86.op_count; i++) {
        const cs_x86_op *o = &ci->detail->x86.operands[i];
        has_mem |= o->type == X86_OP_MEM;
        const char *rn = cs_name(h, o->reg);
        bool vector_move = strstr(ci->mnemonic, "movd") || strstr(ci->mnemonic, "movq");
        foreign_reg |= o->type == X86_OP_REG && !is_gpr_name(rn) &&
                       !(vector_move && (!strncmp(rn, "xmm", 3) || !strncmp(rn, "ymm", 3)));
    }
    for (size_t i = 0; i < ci->size; i++) {
        bool rex = mode == DECODE_MODE_64 && (buf[i] & 0xf0) == 0x40;
        if (!is_legacy_prefix(buf[i]) && !rex)
            break;
        has_lock |= buf[i] == 0xf0;
        simd_prefix |= buf[i] == 0x66 || buf[i] == 0xf2 || buf[i] == 0xf3;
        rex_w = rex && (buf[i] & 8);
    }
    const char *m = base_mnemonic(ci->mnemonic);
    bool justified = true;
    if (!supported_mnemonic(m) || foreign_reg) {
        /* not ours: MOV to/from a segment register, SSE MOVSD, ... */
    } else if (!has_mem) {
        st->refused_regform++;
    } else if (has_lock && ret == DECODE_EINVALID) {
        st->refused_lock++;
    } else if ((!strcmp(m, "movnti") || !strcmp(m, "movbe")) && simd_prefix && ret != 0) {
        st->refused_np++;       /* MOVNTI is NP (66/F2/F3: #UD); F2/F3 0F 38 F0/F1 are CRC32 or undefined */
    } else if ((m[0] == 'v' && ret == DECODE_EINVALID) ||
               ((!strncmp(m, "movdq", 5) || !strcmp(m, "movq") || !strcmp(m, "movd")) && !simd_prefix)) {
        /* #UD: 66/F2/F3/REX before VEX, VEX.vvvv not 1111b, VEX.L on VMOVD/VMOVQ;
         * and Capstone 4 shows NP 0F 6F/7F/D6 (MMX MOVQ, or #UD) with REX.W as
         * SSE forms. */
        st->refused_vex++;
    } else if (!strcmp(m, "movsxd") && !rex_w) {
        st->refused_movsxd++;   /* Capstone 4 shows 63 without REX.W as movsxd r64 anyway */
    } else {
        {
            st->refused_other++;
            snprintf(report, sizeof report, "[%s] mode %d: decoder returned %d, Capstone: %s %s",
                     hexdump(buf, ci->size), (int)mode, ret, ci->mnemonic, ci->op_str);
            justified = false;
        }
    }
    cs_free(ci, count);
    return justified;
}

static void run_mode(enum decode_mode mode, cs_mode cmode, uint64_t seed)
{
    csh h;
    ck_assert_int_eq(cs_open(CS_ARCH_X86, cmode, &h), CS_ERR_OK);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    rng_state = seed;
    struct stats st = { 0 };
    unsigned failures = 0;
    for (unsigned long it = 0; it < CAPSTONE_ITERATIONS; it++) {
        uint8_t buf[16];
        size_t avail = generate(buf, mode);
        struct decoded_insn d;
        int ret = decode_insn(buf, avail, mode, &d);
        st.tried++;
        if (ret == 0) {
            st.accepted++;
            ck_assert(d.length >= 1 && d.length <= avail);
            if (!compare(h, buf, avail, &d, mode)) {
                if (failures++ < 20)
                    fprintf(stderr, "MISMATCH %s\n", report);
                continue;
            }
            st.compared++;
        } else if (!refusal_justified(h, buf, avail, ret, mode, &st)) {
            if (failures++ < 20)
                fprintf(stderr, "REFUSED %s\n", report);
        }
    }
    printf("capstone mode %d: %lu strings, %lu accepted, %lu agree with Capstone; Capstone-only: %lu register "
           "forms, %lu LOCK #UD, %lu MOVSXD without REX.W, %lu MOVNTI/MOVBE with 66/F2/F3, %lu VEX #UD or MMX, %lu other\n",
           (int)mode, st.tried, st.accepted, st.compared, st.refused_regform, st.refused_lock, st.refused_movsxd,
           st.refused_np, st.refused_vex, st.refused_other);
    cs_close(&h);
    printf("capstone mode %d: %lu SSE forms Capstone 4 shows as MMX or, in 16-bit mode, at all (not compared)\n", (int)mode,
           mmx_quirks);
    mmx_quirks = 0;
    ck_assert_msg(failures == 0, "%u disagreements with Capstone in mode %d (first ones on stderr)", failures,
                  (int)mode);
    ck_assert_uint_gt(st.accepted, CAPSTONE_ITERATIONS / 10);
}

START_TEST(test_capstone_64) { run_mode(DECODE_MODE_64, CS_MODE_64, 0x2545f4914f6cdd1dull); }
END_TEST
START_TEST(test_capstone_32) { run_mode(DECODE_MODE_32, CS_MODE_32, 0x9e3779b97f4a7c15ull); }
END_TEST
START_TEST(test_capstone_16) { run_mode(DECODE_MODE_16, CS_MODE_16, 0xd1b54a32d192ed03ull); }
END_TEST

int main(void)
{
    Suite *s = suite_create("decode_capstone");
    TCase *tc = tcase_create("capstone");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_capstone_64);
    tcase_add_test(tc, test_capstone_32);
    tcase_add_test(tc, test_capstone_16);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
