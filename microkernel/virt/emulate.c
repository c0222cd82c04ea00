/* SPDX-License-Identifier: MIT */
/*
 * MMIO instruction emulation (see emulate.h).  Flag rules are those of the
 * SDM vol. 1 appendix A (EFLAGS cross-reference) and each instruction's page
 * in SDM vol. 2; AMD APM vol. 3 appendix C agrees for everything computed
 * here.  Where both leave a flag undefined we state the choice.
 */
#include "virt/emulate.h"

static uint64_t sign_bit(unsigned size)
{
    return 1ull << (8 * size - 1);
}

/* Register read/write with the x86 width rules (SDM vol. 1 §3.4.1.1): 8- and
 * 16-bit writes leave the other bits alone, 32-bit writes zero bits 63:32,
 * and a "high byte" register is bits 15:8 of RAX..RBX. */
static uint64_t reg_read(const uint64_t gpr[16], int reg, bool high, unsigned size)
{
    uint64_t v = gpr[reg & 15];
    return high ? (v >> 8) & 0xFF : v & decode_size_mask(size);
}

void emulate_reg_write(uint64_t gpr[16], int reg, bool high, unsigned size, uint64_t v)
{
    uint64_t *r = &gpr[reg & 15];
    if (high)
        *r = (*r & ~0xFF00ull) | ((v & 0xFF) << 8);
    else if (size == 4)
        *r = (uint32_t)v;
    else
        *r = (*r & ~decode_size_mask(size)) | (v & decode_size_mask(size));
}

/* PF: set when the low byte of the result has an even number of 1 bits. */
static uint64_t parity_flag(uint64_t result)
{
    uint8_t b = (uint8_t)result;
    b ^= b >> 4;
    b ^= b >> 2;
    b ^= b >> 1;
    return (b & 1) ? 0 : EMULATE_PF;
}

/* ZF, SF, PF of a result of `size` bytes. */
static uint64_t result_flags(uint64_t r, unsigned size)
{
    uint64_t f = parity_flag(r);
    if ((r & decode_size_mask(size)) == 0)
        f |= EMULATE_ZF;
    if (r & sign_bit(size))
        f |= EMULATE_SF;
    return f;
}

/* Computes a op b (+ or - carry for ADC/SBB) on `size` bytes and the six
 * status flags it defines.  ADD: CF = unsigned carry out, OF = both
 * operands' sign differs from the result's, AF = carry out of bit 3.
 * SUB/CMP: CF = unsigned borrow, OF = operands' signs differ and the
 * result's sign differs from a's, AF = borrow into bit 3.  AND/OR/XOR/TEST
 * clear CF and OF; AF is undefined (SDM vol. 2 AND: "The state of the AF
 * flag is undefined"): we clear it. */
static uint64_t alu(enum decode_op op, unsigned size, uint64_t a, uint64_t b, uint64_t carry, uint64_t *flags)
{
    uint64_t m = decode_size_mask(size), r, f = 0;
    a &= m;
    b &= m;
    switch (op) {
    case DECODE_ADD:
    case DECODE_ADC:
        r = (a + b + carry) & m;
        if (r < a || (carry && r == a))
            f |= EMULATE_CF;
        if ((a ^ r) & (b ^ r) & sign_bit(size))
            f |= EMULATE_OF;
        f |= (a ^ b ^ r) & EMULATE_AF;
        break;
    case DECODE_SUB:
    case DECODE_SBB:
    case DECODE_CMP:
        r = (a - b - carry) & m;
        if (a < b || (carry && a == b))
            f |= EMULATE_CF;
        if ((a ^ b) & (a ^ r) & sign_bit(size))
            f |= EMULATE_OF;
        f |= (a ^ b ^ r) & EMULATE_AF;
        break;
    case DECODE_AND:
    case DECODE_TEST:
        r = a & b;
        break;
    case DECODE_OR:
        r = a | b;
        break;
    default: /* DECODE_XOR */
        r = a ^ b;
        break;
    }
    *flags = f | result_flags(r, size);
    return r;
}

/* The operand that is not memory: the immediate or the register. */
static uint64_t source_operand(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    if (insn->has_imm)
        return insn->imm & decode_size_mask(insn->op_size);
    return reg_read(gpr, insn->reg, insn->reg_high_byte, insn->op_size);
}

/* rCX as REP counts it: its low addr_size bytes (SDM vol. 2 REP). */
static uint64_t rep_count(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    return gpr[1] & decode_size_mask(insn->addr_size);
}

static uint64_t byte_swap(uint64_t v, unsigned size)
{
    return __builtin_bswap64(v) >> (64 - 8 * size);
}

/* Forms without a register operand (besides those with an immediate). */
#define NO_REG_OPS ((1ull << DECODE_INC) | (1ull << DECODE_DEC) | (1ull << DECODE_NOT) | (1ull << DECODE_NEG) | \
                    (1ull << DECODE_CMPXCHG8B) | (1ull << DECODE_MOVS) | (1ull << DECODE_CMPS) |         \
                    (1ull << DECODE_PUSH) | (1ull << DECODE_POP))

static bool insn_valid(const struct decoded_insn *insn)
{
    /* Sizes as bits: 1, 2, 4, 8 bytes; 16 and 32 too for the vector moves. */
    uint64_t sizes = insn->op >= DECODE_VEC_LOAD ? 0x100010116ull : 0x116ull;
    unsigned s = insn->op_size, m = insn->mem_size, a = insn->addr_size;
    return s < 64 && m < 64 && ((sizes >> s) & (sizes >> m) & 1) && (a == 2 || a == 4 || a == 8) &&
           insn->op <= DECODE_VEC_STORE &&
           (insn->has_imm || ((NO_REG_OPS >> insn->op) & 1) || (insn->reg >= 0 && insn->reg < 16));
}

static bool rep_none(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    return insn->op >= DECODE_MOVS && insn->op <= DECODE_SCAS && insn->rep && rep_count(insn, gpr) == 0;
}

int emulate_prepare(const struct decoded_insn *insn, const uint64_t gpr[16],
                    struct emulate_access *acc)
{
    if (!insn_valid(insn))
        return EMULATE_EINVAL;
    *acc = (struct emulate_access){ .size = insn->mem_size, .none = rep_none(insn, gpr) };
    switch (insn->op) {
    case DECODE_MOV_STORE:
    case DECODE_STOS:
        acc->write = true;
        acc->value = source_operand(insn, gpr);
        if (insn->byte_swap)
            acc->value = byte_swap(acc->value, insn->op_size);
        break;
    case DECODE_POP:      /* the value comes from the stack: the caller's */
    case DECODE_VEC_STORE:   /* and from the XMM/YMM register */
        acc->write = true;
        break;
    case DECODE_MOVS:
        acc->read = acc->write = true;
        break;
    default:
        acc->read = true;
        /* Then written: XCHG, the forms LOCK may prefix, ALU ops into memory (decode.h). */
        acc->write = (insn->op > DECODE_BT && insn->op <= DECODE_CMPXCHG8B) ||
                     (insn->op < DECODE_CMP && insn->mem_is_dst);
        break;
    }
    if (acc->none)
        acc->read = acc->write = false;
    return 0;
}

/* One iteration of a string instruction: rSI (MOVS CMPS LODS) and rDI (MOVS
 * CMPS STOS SCAS) step by the element size, backwards if RFLAGS.DF; REP
 * decrements rCX and repeats while it is not zero and, for CMPS/SCAS, while
 * ZF says equal (REPE, F3) or not equal (REPNE, F2). */
static int string_step(const struct decoded_insn *insn, uint64_t gpr[16], uint64_t rflags)
{
    uint64_t step = (rflags & EMULATE_DF) ? (uint64_t)-(int64_t)insn->op_size : insn->op_size;
    if (insn->op != DECODE_STOS && insn->op != DECODE_SCAS)
        emulate_reg_write(gpr, 6, false, insn->addr_size, gpr[6] + step);
    if (insn->op != DECODE_LODS)
        emulate_reg_write(gpr, 7, false, insn->addr_size, gpr[7] + step);
    if (!insn->rep)
        return EMULATE_DONE;
    uint64_t count = rep_count(insn, gpr) - 1;
    emulate_reg_write(gpr, 1, false, insn->addr_size, count);
    bool compares = insn->op == DECODE_CMPS || insn->op == DECODE_SCAS;
    if (compares && !(rflags & EMULATE_ZF) == (insn->rep == 0xF3))
        return EMULATE_DONE;
    return count ? EMULATE_REPEAT : EMULATE_DONE;
}

int emulate_complete(const struct decoded_insn *insn, uint64_t gpr[16], uint64_t *rflags,
                     uint64_t value_read, uint64_t *value_write)
{
    if (!insn_valid(insn))
        return EMULATE_EINVAL;
    unsigned size = insn->op_size;
    uint64_t mem = value_read & decode_size_mask(insn->mem_size), other = *value_write, flags = 0, r;
    uint64_t status = EMULATE_STATUS_FLAGS;   /* the flags the instruction writes */
    enum decode_op op = insn->op;
    *value_write = 0;
    if (rep_none(insn, gpr))
        return EMULATE_DONE;

    switch (op) {
    case DECODE_MOV_LOAD:
    case DECODE_LODS:
        emulate_reg_write(gpr, insn->reg, insn->reg_high_byte, size, insn->byte_swap ? byte_swap(mem, size) : mem);
        return op == DECODE_LODS ? string_step(insn, gpr, *rflags) : EMULATE_DONE;
    case DECODE_MOVZX:
        emulate_reg_write(gpr, insn->reg, false, size, mem);
        return EMULATE_DONE;
    case DECODE_MOVSX:
        r = (mem ^ sign_bit(insn->mem_size)) - sign_bit(insn->mem_size);
        emulate_reg_write(gpr, insn->reg, false, size, r);
        return EMULATE_DONE;
    case DECODE_PUSH:
    case DECODE_MOVS:
        *value_write = mem;
        /* fall through */
    case DECODE_STOS:
        return op == DECODE_PUSH ? EMULATE_DONE : string_step(insn, gpr, *rflags);
    case DECODE_CMPS:     /* mem = seg:[rSI], other = ES:[rDI] (emulate.h) */
    case DECODE_SCAS:
        alu(DECODE_CMP, size, op == DECODE_CMPS ? mem : gpr[0], op == DECODE_CMPS ? other : mem, 0, &flags);
        *rflags = (*rflags & ~status) | flags;
        return string_step(insn, gpr, *rflags);
    case DECODE_XCHG:
        *value_write = reg_read(gpr, insn->reg, insn->reg_high_byte, size);
        emulate_reg_write(gpr, insn->reg, insn->reg_high_byte, size, mem);
        return EMULATE_DONE;
    case DECODE_BT:
    case DECODE_BTS:
    case DECODE_BTR:
    case DECODE_BTC: {
        /* SDM vol. 2 BT/BTS/BTR/BTC: CF = the bit; ZF unchanged; OF SF AF PF
         * undefined, which we leave unchanged. */
        uint64_t offset = insn->has_imm ? insn->imm : reg_read(gpr, insn->reg, false, size);
        uint64_t bit = 1ull << (offset & (8u * size - 1));
        *rflags = (*rflags & ~EMULATE_CF) | ((mem & bit) ? EMULATE_CF : 0);
        *value_write = op == DECODE_BTS ? mem | bit : op == DECODE_BTR ? mem & ~bit : mem ^ bit;
        return EMULATE_DONE;
    }
    case DECODE_INC:
    case DECODE_DEC:      /* CF unchanged (SDM vol. 2 INC/DEC) */
        *value_write = alu(op == DECODE_INC ? DECODE_ADD : DECODE_SUB, size, mem, 1, 0, &flags);
        status &= ~EMULATE_CF;
        break;
    case DECODE_NOT:      /* no flags */
        *value_write = ~mem & decode_size_mask(size);
        return EMULATE_DONE;
    case DECODE_NEG:      /* flags of 0 - mem: CF = mem != 0 */
        *value_write = alu(DECODE_SUB, size, 0, mem, 0, &flags);
        break;
    case DECODE_XADD:     /* SDM vol. 2 XADD: reg <- mem, mem <- mem + reg */
        *value_write = alu(DECODE_ADD, size, mem, source_operand(insn, gpr), 0, &flags);
        emulate_reg_write(gpr, insn->reg, insn->reg_high_byte, size, mem);
        break;
    case DECODE_CMPXCHG:  /* SDM vol. 2 CMPXCHG: memory is written either way */
        alu(DECODE_CMP, size, gpr[0], mem, 0, &flags);
        *value_write = (flags & EMULATE_ZF) ? source_operand(insn, gpr) : mem;
        if (!(flags & EMULATE_ZF))
            emulate_reg_write(gpr, 0, false, size, mem);
        break;
    case DECODE_CMPXCHG8B: {
        bool equal = mem == ((gpr[2] << 32) | (uint32_t)gpr[0]);
        *value_write = equal ? (gpr[1] << 32) | (uint32_t)gpr[3] : mem;
        if (!equal) {
            emulate_reg_write(gpr, 0, false, 4, mem);
            emulate_reg_write(gpr, 2, false, 4, mem >> 32);
        }
        flags = equal ? EMULATE_ZF : 0;
        status = EMULATE_ZF;
        break;
    }
    default: {
        if (op > DECODE_TEST)
            return EMULATE_DONE;   /* MOV_STORE, POP, vector moves: the caller's */
        /* ALU: the first operand is memory when mem_is_dst, else the register. */
        uint64_t carry = (op == DECODE_ADC || op == DECODE_SBB) ? *rflags & EMULATE_CF : 0;
        uint64_t src = source_operand(insn, gpr);
        r = insn->mem_is_dst ? alu(op, size, mem, src, carry, &flags) : alu(op, size, src, mem, carry, &flags);
        if (op == DECODE_CMP || op == DECODE_TEST)
            break;
        if (insn->mem_is_dst)
            *value_write = r;
        else
            emulate_reg_write(gpr, insn->reg, insn->reg_high_byte, size, r);
        break;
    }
    }
    *rflags = (*rflags & ~status) | (flags & status);
    return EMULATE_DONE;
}
