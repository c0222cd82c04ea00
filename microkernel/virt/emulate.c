/* SPDX-License-Identifier: MIT */
/*
 * MMIO instruction emulation (see emulate.h).  Flag rules are those of the
 * SDM vol. 1 appendix A (EFLAGS cross-reference) and each instruction's page
 * in SDM vol. 2; AMD APM vol. 3 appendix C agrees for everything computed
 * here.  Where both leave a flag undefined we state the choice.
 */
#include "virt/emulate.h"

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

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
    return high ? (v >> 8) & 0xFF : v & size_mask(size);
}

static void reg_write(uint64_t gpr[16], int reg, bool high, unsigned size, uint64_t v)
{
    uint64_t *r = &gpr[reg & 15];
    if (high)
        *r = (*r & ~0xFF00ull) | ((v & 0xFF) << 8);
    else if (size == 4)
        *r = (uint32_t)v;
    else
        *r = (*r & ~size_mask(size)) | (v & size_mask(size));
}

/* rSI/rDI/rCX as the address size sees them (SDM vol. 2 MOVS/STOS/REP). */
static void addr_reg_write(uint64_t gpr[16], int reg, unsigned addr_size, uint64_t v)
{
    reg_write(gpr, reg, false, addr_size, v);
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
    if ((r & size_mask(size)) == 0)
        f |= EMULATE_ZF;
    if (r & sign_bit(size))
        f |= EMULATE_SF;
    return f;
}

/* Computes a op b on `size` bytes and the six status flags it defines.
 * ADD: CF = unsigned carry out, OF = both operands' sign differs from the
 * result's, AF = carry out of bit 3.  SUB/CMP: CF = unsigned borrow (a < b),
 * OF = operands' signs differ and the result's sign differs from a's, AF =
 * borrow into bit 3.  AND/OR/XOR/TEST clear CF and OF; AF is undefined
 * (SDM vol. 2 AND: "The state of the AF flag is undefined"): we clear it. */
static uint64_t alu(enum decode_op op, unsigned size, uint64_t a, uint64_t b, uint64_t *flags)
{
    uint64_t m = size_mask(size), r, f = 0;
    a &= m;
    b &= m;
    switch (op) {
    case DECODE_ADD:
        r = (a + b) & m;
        if (r < a)
            f |= EMULATE_CF;
        if ((a ^ r) & (b ^ r) & sign_bit(size))
            f |= EMULATE_OF;
        f |= (a ^ b ^ r) & EMULATE_AF;
        break;
    case DECODE_SUB:
    case DECODE_CMP:
        r = (a - b) & m;
        if (a < b)
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

static bool is_alu(enum decode_op op)
{
    return op == DECODE_AND || op == DECODE_OR || op == DECODE_XOR || op == DECODE_ADD ||
           op == DECODE_SUB || op == DECODE_CMP || op == DECODE_TEST;
}

/* The operand that is not memory: the immediate or the register. */
static uint64_t source_operand(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    if (insn->has_imm)
        return insn->imm & size_mask(insn->op_size);
    return reg_read(gpr, insn->reg, insn->reg_high_byte, insn->op_size);
}

/* rCX as REP counts it: its low addr_size bytes (SDM vol. 2 REP). */
static uint64_t rep_count(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    return gpr[1] & size_mask(insn->addr_size);
}

/* BT with a register offset on memory: the offset is signed and may select
 * a bit outside the operand; the CPU accesses the op_size unit that holds it
 * (SDM vol. 2 BT, "bit base" addressing). floor(offset / bits) units. */
static int64_t bt_unit_offset(const struct decoded_insn *insn, const uint64_t gpr[16])
{
    int64_t bits = 8 * insn->op_size;
    uint64_t raw = reg_read(gpr, insn->reg, false, insn->op_size);
    int64_t offset = insn->op_size == 8 ? (int64_t)raw
                   : (int64_t)(raw ^ sign_bit(insn->op_size)) - (int64_t)sign_bit(insn->op_size);
    int64_t units = offset >= 0 ? offset / bits : -((-(offset + 1)) / bits) - 1;
    return units * insn->op_size;
}

static bool insn_valid(const struct decoded_insn *insn)
{
    unsigned s = insn->op_size, m = insn->mem_size, a = insn->addr_size;
    bool sizes = (s == 1 || s == 2 || s == 4 || s == 8) && (m == 1 || m == 2 || m == 4 || m == 8) &&
                 (a == 2 || a == 4 || a == 8);
    bool needs_reg = insn->op == DECODE_MOV_LOAD || insn->op == DECODE_MOVZX ||
                     insn->op == DECODE_MOVSX || insn->op == DECODE_XCHG || insn->op == DECODE_STOS ||
                     (insn->op != DECODE_MOVS && !insn->has_imm);
    return sizes && insn->op <= DECODE_BT && (!needs_reg || (insn->reg >= 0 && insn->reg < 16));
}

int emulate_prepare(const struct decoded_insn *insn, const uint64_t gpr[16],
                    struct emulate_access *acc)
{
    if (!insn_valid(insn))
        return EMULATE_EINVAL;
    *acc = (struct emulate_access){ .size = insn->mem_size };
    switch (insn->op) {
    case DECODE_MOV_STORE:
        acc->write = true;
        acc->value = source_operand(insn, gpr);
        break;
    case DECODE_STOS:
        if (insn->rep && rep_count(insn, gpr) == 0) {
            acc->none = true;
            break;
        }
        acc->write = true;
        acc->value = reg_read(gpr, 0, false, insn->op_size);
        break;
    case DECODE_MOVS:
        if (insn->rep && rep_count(insn, gpr) == 0) {
            acc->none = true;
            break;
        }
        acc->read = acc->write = true;
        break;
    case DECODE_XCHG:
        acc->read = acc->write = true;
        break;
    case DECODE_BT:
        acc->read = true;
        if (!insn->has_imm)
            acc->addr_adjust = bt_unit_offset(insn, gpr);
        break;
    default:
        acc->read = true;
        /* Read-modify-write when memory is the destination of a writing op. */
        acc->write = is_alu(insn->op) && insn->mem_is_dst &&
                     insn->op != DECODE_CMP && insn->op != DECODE_TEST;
        break;
    }
    return 0;
}

/* One iteration of MOVS/STOS: rSI/rDI step by the element size, backwards
 * if RFLAGS.DF; REP decrements rCX and repeats while it is not zero. */
static int string_step(const struct decoded_insn *insn, uint64_t gpr[16], uint64_t rflags)
{
    uint64_t step = (rflags & EMULATE_DF) ? (uint64_t)-(int64_t)insn->op_size : insn->op_size;
    if (insn->op == DECODE_MOVS)
        addr_reg_write(gpr, 6, insn->addr_size, gpr[6] + step);
    addr_reg_write(gpr, 7, insn->addr_size, gpr[7] + step);
    if (!insn->rep)
        return EMULATE_DONE;
    uint64_t count = rep_count(insn, gpr);
    if (count == 0)
        return EMULATE_DONE;    /* emulate_prepare() reported `none` */
    addr_reg_write(gpr, 1, insn->addr_size, count - 1);
    return count - 1 ? EMULATE_REPEAT : EMULATE_DONE;
}

int emulate_complete(const struct decoded_insn *insn, uint64_t gpr[16], uint64_t *rflags,
                     uint64_t value_read, uint64_t *value_write)
{
    if (!insn_valid(insn))
        return EMULATE_EINVAL;
    uint64_t mem = value_read & size_mask(insn->mem_size), flags, r;
    *value_write = 0;

    switch (insn->op) {
    case DECODE_MOV_LOAD:
        reg_write(gpr, insn->reg, insn->reg_high_byte, insn->op_size, mem);
        return EMULATE_DONE;
    case DECODE_MOV_STORE:
        return EMULATE_DONE;
    case DECODE_MOVZX:
        reg_write(gpr, insn->reg, false, insn->op_size, mem);
        return EMULATE_DONE;
    case DECODE_MOVSX:
        r = (mem ^ sign_bit(insn->mem_size)) - sign_bit(insn->mem_size);
        reg_write(gpr, insn->reg, false, insn->op_size, r);
        return EMULATE_DONE;
    case DECODE_MOVS:
        if (insn->rep && rep_count(insn, gpr) == 0)
            return EMULATE_DONE;
        *value_write = mem;
        return string_step(insn, gpr, *rflags);
    case DECODE_STOS:
        if (insn->rep && rep_count(insn, gpr) == 0)
            return EMULATE_DONE;
        return string_step(insn, gpr, *rflags);
    case DECODE_XCHG:
        *value_write = reg_read(gpr, insn->reg, insn->reg_high_byte, insn->op_size);
        reg_write(gpr, insn->reg, insn->reg_high_byte, insn->op_size, mem);
        return EMULATE_DONE;
    case DECODE_BT: {
        /* SDM vol. 2 BT: CF = the bit; ZF unchanged; OF SF AF PF undefined,
         * which we leave unchanged. */
        unsigned bits = 8u * insn->op_size;
        uint64_t offset = insn->has_imm ? insn->imm : reg_read(gpr, insn->reg, false, insn->op_size);
        *rflags = (*rflags & ~EMULATE_CF) | ((mem >> (offset & (bits - 1))) & 1);
        return EMULATE_DONE;
    }
    default:
        break;
    }

    /* ALU: the first operand is memory when mem_is_dst, else the register. */
    uint64_t other = source_operand(insn, gpr);
    if (insn->mem_is_dst)
        r = alu(insn->op, insn->op_size, mem, other, &flags);
    else
        r = alu(insn->op, insn->op_size, other, mem, &flags);
    *rflags = (*rflags & ~EMULATE_STATUS_FLAGS) | flags;
    if (insn->op == DECODE_CMP || insn->op == DECODE_TEST)
        return EMULATE_DONE;
    if (insn->mem_is_dst)
        *value_write = r;
    else
        reg_write(gpr, insn->reg, insn->reg_high_byte, insn->op_size, r);
    return EMULATE_DONE;
}
