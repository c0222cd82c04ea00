/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests (Check) for microkernel/virt/emulate.c.  The oracle for
 * ALU results and flags is the host CPU itself: the same operation runs via
 * inline assembly on random and edge operands for every size, and the
 * emulator's result and RFLAGS must match bit for bit (AF is compared only
 * where it is defined).  Instructions are produced by decode_insn() from
 * real encodings, so the decode -> prepare -> complete path is what runs.
 * MOV/MOVZX/MOVSX/XCHG register rules and MOVS/STOS are checked directly.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "virt/decode.h"
#include "virt/emulate.h"

#if !defined(__x86_64__)
#error "the oracle is the host CPU: x86-64 only"
#endif

/* Check's ck_assert records a mark per call (a write to a file in fork
 * mode); the hot loops use this instead. */
#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)
#define CHECK_EQ(a, b) CHECK((a) == (b), "%s == %s failed: %#llx != %#llx", #a, #b, \
                             (unsigned long long)(a), (unsigned long long)(b))

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t mask(unsigned size) { return size == 8 ? ~0ull : (1ull << (8 * size)) - 1; }

/* An operand: edge values often, random otherwise. */
static uint64_t operand(unsigned size)
{
    static const uint64_t edges[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
                                      0x80000000, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000,
                                      ~0ull, 0x0f, 0x10, 0xf0 };
    uint64_t r = rng();
    if ((r & 3) == 0)
        return edges[(r >> 8) % (sizeof edges / sizeof edges[0])] & mask(size);
    return rng() & mask(size);
}

/* Host execution: flags in (status flags only), op, flags out.  The red zone
 * is stepped over before PUSHF: LEA does not touch the flags. */
#define HOST_STEP(suffix, cons, type, mnem)                                                          \
    {                                                                                                 \
        type x = (type)a, y = (type)b;                                                                \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" mnem suffix " %[y], %[x]\n\t" \
                         "pushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"                               \
                         : [x] "+" cons(x), [f] "+r"(f)                                               \
                         : [y] cons(y)                                                                \
                         : "cc", "memory");                                                           \
        *flags = f;                                                                                   \
        return (uint64_t)x;                                                                           \
    }

#define HOST_OP(name, mnem)                                                                           \
    static uint64_t host_##name(unsigned size, uint64_t a, uint64_t b, uint64_t fin, uint64_t *flags)  \
    {                                                                                                 \
        uint64_t f = (fin & EMULATE_STATUS_FLAGS) | 2;                                                \
        switch (size) {                                                                               \
        case 1: HOST_STEP("b", "q", uint8_t, mnem)                                                    \
        case 2: HOST_STEP("w", "r", uint16_t, mnem)                                                   \
        case 4: HOST_STEP("l", "r", uint32_t, mnem)                                                   \
        default: HOST_STEP("q", "r", uint64_t, mnem)                                                  \
        }                                                                                             \
    }

/* AT&T: "op y, x" is x = x op y; cmp y, x sets the flags of x - y. */
HOST_OP(add, "add")
HOST_OP(sub, "sub")
HOST_OP(cmp, "cmp")
HOST_OP(and, "and")
HOST_OP(or, "or")
HOST_OP(xor, "xor")
HOST_OP(test, "test")
HOST_OP(adc, "adc")
HOST_OP(sbb, "sbb")

/* BT base(x), offset(y): no byte form. */
static uint64_t host_bt(unsigned size, uint64_t a, uint64_t b, uint64_t fin, uint64_t *flags)
{
    uint64_t f = (fin & EMULATE_STATUS_FLAGS) | 2;
    switch (size) {
    case 2: HOST_STEP("w", "r", uint16_t, "bt")
    case 4: HOST_STEP("l", "r", uint32_t, "bt")
    default: HOST_STEP("q", "r", uint64_t, "bt")
    }
}

typedef uint64_t (*host_fn)(unsigned, uint64_t, uint64_t, uint64_t, uint64_t *);

struct alu_case {
    const char *name;
    enum decode_op op;
    host_fn host;
    uint8_t opcode;     /* the r/m,r form (00-3B family, 84 for TEST) */
    int8_t group1;      /* /digit in 80/81/83, -1 if none */
    bool logic;         /* AF undefined */
    bool writes;
};

static const struct alu_case cases[] = {
    { "add", DECODE_ADD, host_add, 0x00, 0, false, true },
    { "or", DECODE_OR, host_or, 0x08, 1, true, true },
    { "and", DECODE_AND, host_and, 0x20, 4, true, true },
    { "sub", DECODE_SUB, host_sub, 0x28, 5, false, true },
    { "xor", DECODE_XOR, host_xor, 0x30, 6, true, true },
    { "cmp", DECODE_CMP, host_cmp, 0x38, 7, false, false },
    { "test", DECODE_TEST, host_test, 0x84, -1, true, false },
    { "adc", DECODE_ADC, host_adc, 0x10, 2, false, true },
    { "sbb", DECODE_SBB, host_sbb, 0x18, 3, false, true },
};

static const unsigned sizes[] = { 1, 2, 4, 8 };

/* Encodes [66|48] opcode ModRM(reg=reg_field, rm=[RBX]) [imm], decodes it;
 * an opcode above 0xFF is 0F and its low byte. */
static void decode_form(struct decoded_insn *d, unsigned size, unsigned opcode, uint8_t reg_field,
                        const uint8_t *imm, unsigned imm_len)
{
    uint8_t b[16];
    size_t n = 0;
    if (size == 2)
        b[n++] = 0x66;
    if (size == 8)
        b[n++] = 0x48;
    if (opcode > 0xff)
        b[n++] = 0x0f;
    b[n++] = (uint8_t)opcode;
    b[n++] = (uint8_t)(reg_field << 3 | 3);
    memcpy(b + n, imm, imm_len);
    n += imm_len;
    CHECK_EQ(decode_insn(b, n, DECODE_MODE_64, d), 0);
    CHECK_EQ(d->length, n);
    CHECK_EQ(d->op_size, size);
}

static uint64_t flag_mask(const struct alu_case *c)
{
    return c->logic ? EMULATE_STATUS_FLAGS & ~EMULATE_AF : EMULATE_STATUS_FLAGS;
}

/* Runs one decoded ALU insn: memory holds `mem`, RAX holds `rax`. */
static void run(const struct decoded_insn *d, uint64_t rax, uint64_t mem, uint64_t fin, uint64_t gpr[16],
                uint64_t *rflags, uint64_t *wval, struct emulate_access *acc)
{
    for (int i = 0; i < 16; i++)
        gpr[i] = rng();
    gpr[0] = rax;
    *rflags = fin;
    CHECK_EQ(emulate_prepare(d, gpr, acc), 0);
    CHECK(acc->read, "acc->read");
    CHECK_EQ(acc->size, d->mem_size);
    CHECK_EQ(emulate_complete(d, gpr, rflags, mem, wval), EMULATE_DONE);
}

START_TEST(test_alu_against_host)
{
    const struct alu_case *c = &cases[_i];
    unsigned long checked = 0;
    for (size_t si = 0; si < 4; si++) {
        unsigned size = sizes[si];
        struct decoded_insn mem_dst, reg_dst;
        decode_form(&mem_dst, size, (uint8_t)(c->opcode + (size > 1)), 0, NULL, 0);
        if (c->op != DECODE_TEST)
            decode_form(&reg_dst, size, (uint8_t)(c->opcode + 2 + (size > 1)), 0, NULL, 0);
        for (int it = 0; it < 20000; it++) {
            uint64_t a = operand(size), b = operand(size), fin = rng() & EMULATE_STATUS_FLAGS, hf, rf, w;
            uint64_t gpr[16], rax_hi = rng();
            struct emulate_access acc;
            uint64_t r = c->host(size, a, b, fin, &hf);

            /* op [mem], reg: mem = a, reg = b. */
            run(&mem_dst, (rax_hi & ~mask(size)) | b, a, fin, gpr, &rf, &w, &acc);
            CHECK(acc.write == c->writes, "%s: write", c->name);
            CHECK((rf & flag_mask(c)) == (hf & flag_mask(c)),
                          "%s%u [mem]=%#llx, reg=%#llx: flags %#llx, host %#llx", c->name, size,
                          (unsigned long long)a, (unsigned long long)b, (unsigned long long)rf,
                          (unsigned long long)hf);
            if (c->writes)
                CHECK((w & mask(size)) == (r & mask(size)), "%s%u: result %#llx, host %#llx", c->name,
                              size, (unsigned long long)w, (unsigned long long)r);
            CHECK_EQ(gpr[0], (rax_hi & ~mask(size)) | b);      /* source register untouched */

            /* op reg, [mem]: reg = a, mem = b; register write rules. */
            if (c->op != DECODE_TEST) {
                run(&reg_dst, (rax_hi & ~mask(size)) | a, b, fin, gpr, &rf, &w, &acc);
                CHECK(!acc.write, "!acc.write");
                CHECK((rf & flag_mask(c)) == (hf & flag_mask(c)), "%s%u reg,[mem]: flags", c->name, size);
                uint64_t expect = (rax_hi & ~mask(size)) | a;
                if (c->writes)
                    expect = size == 4 ? (r & mask(4)) : (rax_hi & ~mask(size)) | (r & mask(size));
                CHECK(gpr[0] == expect, "%s%u reg,[mem]: rax %#llx, expected %#llx", c->name, size,
                              (unsigned long long)gpr[0], (unsigned long long)expect);
            }
            /* Flags outside the status flags are kept (DF, IF, bit 1 ...). */
            CHECK_EQ(rf & ~EMULATE_STATUS_FLAGS, fin & ~EMULATE_STATUS_FLAGS);
            checked++;
        }
    }
    CHECK_EQ(checked, 80000);
}
END_TEST

/* op [mem], imm for 80/81/83 and F6/F7: the immediate is sign-extended the
 * way the encoding says, then the host computes with the same value. */
START_TEST(test_alu_imm_against_host)
{
    const struct alu_case *c = &cases[_i];
    for (size_t si = 0; si < 4; si++) {
        unsigned size = sizes[si];
        for (int it = 0; it < 20000; it++) {
            uint8_t imm[4];
            uint64_t raw = rng(), b;
            struct decoded_insn d;
            bool short_form = size > 1 && (it & 1) && c->group1 >= 0;
            unsigned imm_len = size == 1 || short_form ? 1 : size == 2 ? 2 : 4;
            memcpy(imm, &raw, 4);
            if (c->op == DECODE_TEST)
                decode_form(&d, size, size == 1 ? 0xf6 : 0xf7, 0, imm, imm_len);
            else
                decode_form(&d, size, size == 1 ? 0x80 : short_form ? 0x83 : 0x81, (uint8_t)c->group1, imm,
                            imm_len);
            /* What the CPU uses: the immediate sign-extended to the operand size. */
            b = imm_len == 1 ? (uint64_t)(int64_t)(int8_t)raw
              : imm_len == 2 ? (uint64_t)(int64_t)(int16_t)raw : (uint64_t)(int64_t)(int32_t)raw;
            uint64_t a = operand(size), fin = rng() & EMULATE_STATUS_FLAGS, hf, rf, w, gpr[16];
            struct emulate_access acc;
            uint64_t r = c->host(size, a, b, fin, &hf);
            run(&d, rng(), a, fin, gpr, &rf, &w, &acc);
            CHECK((rf & flag_mask(c)) == (hf & flag_mask(c)), "%s%u imm: flags", c->name, size);
            if (c->writes) {
                CHECK(acc.write, "acc.write");
                CHECK((w & mask(size)) == (r & mask(size)), "%s%u imm: result", c->name, size);
            }
        }
    }
}
END_TEST

/* BT: register bit offsets select a unit beyond the operand (the host runs
 * BT on a real buffer); immediate offsets wrap.  Only CF is defined. */
START_TEST(test_bt_against_host)
{
    static uint8_t buf[4096] __attribute__((aligned(8)));
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rng();
    uint8_t *base = buf + sizeof buf / 2;
    for (size_t si = 1; si < 4; si++) {
        unsigned size = sizes[si], bits = 8 * size;
        struct decoded_insn dreg, dimm;
        uint8_t enc[8] = { 0 }, n = 0;
        if (size == 2) enc[n++] = 0x66;
        if (size == 8) enc[n++] = 0x48;
        enc[n++] = 0x0f; enc[n++] = 0xa3; enc[n++] = 0x03;
        CHECK_EQ(decode_insn(enc, n, DECODE_MODE_64, &dreg), 0);
        for (int it = 0; it < 20000; it++) {
            /* A signed offset within +-1900 bytes of the base, as the register holds it. */
            int64_t off = (int64_t)(rng() % (2 * 1900 * 8)) - 1900 * 8;
            uint64_t gpr[16] = { 0 }, fin = rng() & EMULATE_STATUS_FLAGS, rf = fin, hf, w;
            gpr[0] = (uint64_t)off & mask(size);
            uint64_t hi = rng() & ~mask(size);
            gpr[0] |= hi;                                /* ignored: BT uses op_size bits */
            struct emulate_access acc;
            CHECK_EQ(emulate_prepare(&dreg, gpr, &acc), 0);
            CHECK(acc.read && !acc.write, "acc.read && !acc.write");
            /* The unit the CPU touches (and the NPF names): floor(offset / bits)
             * units away (SDM vol. 2 BT, bit strings beyond the operand). */
            int64_t units = off >= 0 ? off / bits : -((-off + bits - 1) / bits);
            uint64_t unit = 0;
            memcpy(&unit, base + units * (int64_t)size, size);
            CHECK_EQ(emulate_complete(&dreg, gpr, &rf, unit, &w), EMULATE_DONE);
            /* Host: bt offset, (base) on memory. */
            uint64_t f = (fin & EMULATE_STATUS_FLAGS) | 2;
            int64_t o = off;
            switch (size) {
            case 2: { int16_t o16 = (int16_t)o;
                __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\tbtw %[o], (%[p])\n\tpushfq\n\t"
                                 "pop %[f]\n\tlea 128(%%rsp), %%rsp" : [f] "+r"(f) : [o] "r"(o16), [p] "r"(base)
                                 : "cc", "memory"); break; }
            case 4: { int32_t o32 = (int32_t)o;
                __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\tbtl %[o], (%[p])\n\tpushfq\n\t"
                                 "pop %[f]\n\tlea 128(%%rsp), %%rsp" : [f] "+r"(f) : [o] "r"(o32), [p] "r"(base)
                                 : "cc", "memory"); break; }
            default:
                __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\tbtq %[o], (%[p])\n\tpushfq\n\t"
                                 "pop %[f]\n\tlea 128(%%rsp), %%rsp" : [f] "+r"(f) : [o] "r"(o), [p] "r"(base)
                                 : "cc", "memory"); break;
            }
            hf = f;
            CHECK((rf & EMULATE_CF) == (hf & EMULATE_CF), "bt%u offset %lld: CF", size, (long long)off);
            CHECK_EQ(rf & ~EMULATE_CF, fin & ~EMULATE_CF);

            /* Immediate form 0F BA /4 ib: the offset wraps (host bt reg, imm == reg form mod bits). */
            uint8_t ib = (uint8_t)rng();
            uint8_t e2[8] = { 0 }, m = 0;
            if (size == 2) e2[m++] = 0x66;
            if (size == 8) e2[m++] = 0x48;
            e2[m++] = 0x0f; e2[m++] = 0xba; e2[m++] = 0x23; e2[m++] = ib;
            CHECK_EQ(decode_insn(e2, m, DECODE_MODE_64, &dimm), 0);
            uint64_t val = operand(size);
            rf = fin;
            CHECK_EQ(emulate_prepare(&dimm, gpr, &acc), 0);
            CHECK_EQ(emulate_complete(&dimm, gpr, &rf, val, &w), EMULATE_DONE);
            host_bt(size, val, ib, fin, &hf);
            CHECK((rf & EMULATE_CF) == (hf & EMULATE_CF), "bt%u imm %u: CF", size, ib);
        }
    }
}
END_TEST

#define NO_BYTE(mnem, ops)
/* The host runs "mnem{b,w,l,q} ops" with (%[m]) a memory operand (its
 * address in a register: RSP moves under the red zone), [r] a
 * register (RCX's value) and RAX, flags in and out. */
#define HOST_RM_STEP(sfx, type, mnem, ops)                                                             \
    {                                                                                                  \
        type m = (type)*mem, r = (type)*reg;                                                           \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" mnem sfx ops "\n\t"         \
                         "pushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"                                 \
                         : [r] "+q"(r), [f] "+r"(f), "+a"(*rax) : [m] "r"(&m) : "cc", "memory");       \
        *mem = m;                                                                                      \
        *reg = r;                                                                                      \
        break;                                                                                         \
    }
/* BYTE is the byte case, left out for BTS/BTR/BTC, which have no byte form. */
#define HOST_RM_BYTE(mnem, ops) case 1: HOST_RM_STEP("b", uint8_t, mnem, ops)
#define HOST_RM(name, mnem, ops, BYTE)                                                                 \
    static void host_rm_##name(unsigned size, uint64_t *mem, uint64_t *reg, uint64_t *rax, uint64_t *flags) \
    {                                                                                                  \
        uint64_t f = (*flags & EMULATE_STATUS_FLAGS) | 2;                                              \
        switch (size) {                                                                                \
        BYTE(mnem, ops)                                                                                \
        case 2: HOST_RM_STEP("w", uint16_t, mnem, ops)                                                 \
        case 4: HOST_RM_STEP("l", uint32_t, mnem, ops)                                                 \
        default: HOST_RM_STEP("q", uint64_t, mnem, ops)                                                \
        }                                                                                              \
        *flags = f;                                                                                    \
    }
HOST_RM(inc, "inc", " (%[m])", HOST_RM_BYTE)
HOST_RM(dec, "dec", " (%[m])", HOST_RM_BYTE)
HOST_RM(not, "not", " (%[m])", HOST_RM_BYTE)
HOST_RM(neg, "neg", " (%[m])", HOST_RM_BYTE)
HOST_RM(xadd, "xadd", " %[r], (%[m])", HOST_RM_BYTE)
HOST_RM(cmpxchg, "cmpxchg", " %[r], (%[m])", HOST_RM_BYTE)
HOST_RM(bts, "bts", " %[r], (%[m])", NO_BYTE)
HOST_RM(btr, "btr", " %[r], (%[m])", NO_BYTE)
HOST_RM(btc, "btc", " %[r], (%[m])", NO_BYTE)

static const struct rm_case {
    const char *name;
    void (*host)(unsigned, uint64_t *, uint64_t *, uint64_t *, uint64_t *);
    unsigned opcode;     /* 0x0Fxx or one byte; the byte form is opcode - 1 */
    uint8_t reg_field;   /* /digit, or 1 (RCX) for /r */
    uint64_t flags;      /* the flags the SDM defines */
} rm_cases[] = {
    { "inc", host_rm_inc, 0xff, 0, EMULATE_STATUS_FLAGS },
    { "dec", host_rm_dec, 0xff, 1, EMULATE_STATUS_FLAGS },
    { "not", host_rm_not, 0xf7, 2, EMULATE_STATUS_FLAGS },
    { "neg", host_rm_neg, 0xf7, 3, EMULATE_STATUS_FLAGS },
    { "xadd", host_rm_xadd, 0x0fc1, 1, EMULATE_STATUS_FLAGS },
    { "cmpxchg", host_rm_cmpxchg, 0x0fb1, 1, EMULATE_STATUS_FLAGS },
    { "bts", host_rm_bts, 0x0fab, 1, EMULATE_CF },
    { "btr", host_rm_btr, 0x0fb3, 1, EMULATE_CF },
    { "btc", host_rm_btc, 0x0fbb, 1, EMULATE_CF },
};

/* INC DEC NOT NEG XADD CMPXCHG BTS BTR BTC on [rbx] (and RCX, RAX) against
 * the host: the value written back, RCX, all of RAX, the defined flags. */
START_TEST(test_rmw_against_host)
{
    const struct rm_case *c = &rm_cases[_i];
    bool bit_op = c->flags == EMULATE_CF;
    for (size_t si = bit_op ? 1 : 0; si < 4; si++) {
        unsigned size = sizes[si];
        struct decoded_insn d;
        decode_form(&d, size, c->opcode - (size == 1), c->reg_field, NULL, 0);
        for (int it = 0; it < 20000; it++) {
            uint64_t gpr[16], fin = rng() & EMULATE_STATUS_FLAGS, rf = fin, w, acc_w;
            for (int i = 0; i < 16; i++)
                gpr[i] = rng();
            uint64_t mem = operand(size), reg = gpr[1], rax = gpr[0];
            if (bit_op)
                reg = gpr[1] = (gpr[1] & ~mask(size)) | (rng() % (8 * size));   /* within the unit */
            if (it & 1)
                rax = gpr[0] = (gpr[0] & ~mask(size)) | mem;                    /* CMPXCHG: equal */
            struct emulate_access acc;
            CHECK_EQ(emulate_prepare(&d, gpr, &acc), 0);
            CHECK(acc.read && acc.write && acc.size == size, "%s: a read-modify-write", c->name);
            acc_w = 0;
            CHECK_EQ(emulate_complete(&d, gpr, &rf, mem, &acc_w), EMULATE_DONE);
            w = acc_w;
            uint64_t hm = mem, hf = fin;
            c->host(size, &hm, &reg, &rax, &hf);
            CHECK((w & mask(size)) == (hm & mask(size)), "%s%u mem %#llx: wrote %#llx, host %#llx", c->name,
                  size, (unsigned long long)mem, (unsigned long long)w, (unsigned long long)hm);
            CHECK((gpr[1] & mask(size)) == (reg & mask(size)), "%s%u: rcx", c->name, size);
            CHECK(gpr[0] == rax, "%s%u: rax %#llx, host %#llx", c->name, size, (unsigned long long)gpr[0],
                  (unsigned long long)rax);
            CHECK((rf & c->flags) == (hf & c->flags), "%s%u mem %#llx rcx %#llx: flags %#llx, host %#llx",
                  c->name, size, (unsigned long long)mem, (unsigned long long)reg, (unsigned long long)rf,
                  (unsigned long long)hf);
        }
    }
}
END_TEST

/* CMPXCHG8B and MOVBE against the host. */
START_TEST(test_cmpxchg8b_movbe_against_host)
{
    struct decoded_insn d8, load, store;
    CHECK_EQ(decode_insn((const uint8_t *)"\xf0\x0f\xc7\x0b", 4, DECODE_MODE_64, &d8), 0);
    for (int it = 0; it < 20000; it++) {
        uint64_t gpr[16], fin = rng() & EMULATE_STATUS_FLAGS, rf = fin, w = 0, mem = rng();
        for (int i = 0; i < 16; i++)
            gpr[i] = rng();
        if (it & 1) {
            gpr[0] = (gpr[0] & ~mask(4)) | (uint32_t)mem;
            gpr[2] = (gpr[2] & ~mask(4)) | mem >> 32;
        }
        uint64_t hm = mem, ha = gpr[0], hd = gpr[2], hf = (fin | 2);
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\tcmpxchg8b (%[m])\n\tpushfq\n\tpop %[f]\n\t"
                         "lea 128(%%rsp), %%rsp"
                         : "+a"(ha), "+d"(hd), [f] "+r"(hf) : [m] "r"(&hm), "b"(gpr[3]), "c"(gpr[1]) : "cc", "memory");
        struct emulate_access acc;
        CHECK_EQ(emulate_prepare(&d8, gpr, &acc), 0);
        CHECK(acc.read && acc.write && acc.size == 8, "cmpxchg8b: 8-byte read-modify-write");
        CHECK_EQ(emulate_complete(&d8, gpr, &rf, mem, &w), EMULATE_DONE);
        CHECK_EQ(w, hm);
        CHECK_EQ(gpr[0], ha);
        CHECK_EQ(gpr[2], hd);
        CHECK_EQ(rf & EMULATE_STATUS_FLAGS, hf & EMULATE_STATUS_FLAGS);   /* only ZF changes */
    }
    static const char *const loads[3] = { "\x66\x0f\x38\xf0\x0b", "\x0f\x38\xf0\x0b", "\x48\x0f\x38\xf0\x0b" };
    static const char *const stores[3] = { "\x66\x0f\x38\xf1\x0b", "\x0f\x38\xf1\x0b", "\x48\x0f\x38\xf1\x0b" };
    for (int si = 0; si < 3; si++) {
        size_t n = si == 1 ? 4 : 5;
        CHECK_EQ(decode_insn((const uint8_t *)loads[si], n, DECODE_MODE_64, &load), 0);
        CHECK_EQ(decode_insn((const uint8_t *)stores[si], n, DECODE_MODE_64, &store), 0);
        for (int it = 0; it < 1000; it++) {
            uint64_t gpr[16] = { 0 }, fl = 2, w, mem = rng(), rcx = rng(), h = rcx;
            struct emulate_access acc;
            gpr[1] = rcx;
            CHECK_EQ(emulate_prepare(&load, gpr, &acc), 0);
            CHECK_EQ(emulate_complete(&load, gpr, &fl, mem, &w), EMULATE_DONE);
            uint16_t m16 = (uint16_t)mem, h16;
            uint32_t m32 = (uint32_t)mem, h32;
            if (si == 0) {
                __asm__("movbe %1, %0" : "=r"(h16) : "m"(m16));
                h = (rcx & ~0xffffull) | h16;
            } else if (si == 1) {
                __asm__("movbe %1, %0" : "=r"(h32) : "m"(m32));
                h = h32;
            } else {
                __asm__("movbe %1, %0" : "=r"(h) : "m"(mem));
            }
            CHECK_EQ(gpr[1], h);
            gpr[1] = rcx;
            CHECK_EQ(emulate_prepare(&store, gpr, &acc), 0);
            CHECK(acc.write && !acc.read, "movbe store: a write");
            uint64_t hm;
            if (si == 0) {
                __asm__("movbe %1, %0" : "=m"(m16) : "r"((uint16_t)rcx));
                hm = m16;
            } else if (si == 1) {
                __asm__("movbe %1, %0" : "=m"(m32) : "r"((uint32_t)rcx));
                hm = m32;
            } else {
                __asm__("movbe %1, %0" : "=m"(hm) : "r"(rcx));
            }
            CHECK_EQ(acc.value, hm);
        }
    }
}
END_TEST

/* REPE/REPNE CMPS and SCAS, REP LODS, element by element through prepare and
 * complete on host buffers, against the host running the same instruction:
 * RSI, RDI, RCX, RAX and the flags at the end. */
static void host_string(const char *text, uint64_t *rsi, uint64_t *rdi, uint64_t *rcx, uint64_t *rax,
                        uint64_t *flags);
#define HOST_STRING(insn) \
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" insn "\n\tpushfq\n\tpop %[f]\n\tcld\n\t" \
                     "lea 128(%%rsp), %%rsp" : "+S"(*rsi), "+D"(*rdi), "+c"(*rcx), "+a"(*rax), [f] "+r"(*flags) \
                     : : "cc", "memory")
static void host_string(const char *text, uint64_t *rsi, uint64_t *rdi, uint64_t *rcx, uint64_t *rax,
                        uint64_t *flags)
{
    if (!strcmp(text, "repe cmpsb")) HOST_STRING("repe cmpsb");
    else if (!strcmp(text, "repne cmpsw")) HOST_STRING("repne cmpsw");
    else if (!strcmp(text, "repe scasl")) HOST_STRING("repe scasl");
    else if (!strcmp(text, "repne scasb")) HOST_STRING("repne scasb");
    else if (!strcmp(text, "rep lodsq")) HOST_STRING("rep lodsq");
    else HOST_STRING("cmpsq");
}

START_TEST(test_compare_strings_against_host)
{
    static const struct { const char *text, *bytes; size_t n; unsigned size; } forms[] = {
        { "repe cmpsb", "\xf3\xa6", 2, 1 }, { "repne cmpsw", "\xf2\x66\xa7", 3, 2 },
        { "repe scasl", "\xf3\xaf", 2, 4 }, { "repne scasb", "\xf2\xae", 2, 1 },
        { "rep lodsq", "\xf3\x48\xad", 3, 8 }, { "cmpsq", "\x48\xa7", 2, 8 },
    };
    static uint8_t a[256], b[256];
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        struct decoded_insn d;
        CHECK_EQ(decode_insn((const uint8_t *)forms[f].bytes, forms[f].n, DECODE_MODE_64, &d), 0);
        unsigned size = forms[f].size;
        for (int it = 0; it < 2000; it++) {
            /* Mostly equal buffers with a few differences, so both REPE and REPNE run a while. */
            for (size_t i = 0; i < sizeof a; i++)
                a[i] = b[i] = (uint8_t)(rng() % 3);
            for (int k = rng() % 4; k > 0; k--)
                b[rng() % sizeof b] ^= 1;
            bool down = it & 1;
            uint64_t gpr[16] = { 0 }, fl = (rng() & EMULATE_STATUS_FLAGS) | 2 | (down ? EMULATE_DF : 0);
            gpr[1] = rng() % 24;
            gpr[6] = (uint64_t)(a + (down ? 192 : 8));
            gpr[7] = (uint64_t)(b + (down ? 192 : 8));
            gpr[0] = rng() % 3;
            uint64_t hsi = gpr[6], hdi = gpr[7], hcx = gpr[1], hax = gpr[0], hf = fl;
            if (down)
                hf |= EMULATE_DF;
            host_string(forms[f].text, &hsi, &hdi, &hcx, &hax, &hf);
            for (int guard = 0; guard < 100; guard++) {
                struct emulate_access acc;
                CHECK_EQ(emulate_prepare(&d, gpr, &acc), 0);
                uint64_t src = 0, dst = 0;
                memcpy(&src, (const void *)gpr[d.op == DECODE_SCAS ? 7 : 6], size);
                memcpy(&dst, (const void *)gpr[7], size);
                int st = emulate_complete(&d, gpr, &fl, src, &dst);
                if (st == EMULATE_DONE)
                    break;
                CHECK_EQ(st, EMULATE_REPEAT);
            }
            CHECK(gpr[6] == hsi && gpr[7] == hdi && gpr[1] == hcx && gpr[0] == hax,
                  "%s: rsi/rdi/rcx/rax %#llx %#llx %llu %#llx, host %#llx %#llx %llu %#llx", forms[f].text,
                  (unsigned long long)gpr[6], (unsigned long long)gpr[7], (unsigned long long)gpr[1],
                  (unsigned long long)gpr[0], (unsigned long long)hsi, (unsigned long long)hdi,
                  (unsigned long long)hcx, (unsigned long long)hax);
            CHECK_EQ(fl & EMULATE_STATUS_FLAGS, hf & EMULATE_STATUS_FLAGS);
        }
    }
}
END_TEST

/* Decodes `bytes` (64-bit mode) and runs it with RAX..R15 = regs. */
static int emulate_bytes(const char *bytes, size_t n, uint64_t gpr[16], uint64_t *rflags, uint64_t value_read,
                         struct emulate_access *acc, uint64_t *wval)
{
    struct decoded_insn d;
    ck_assert_int_eq(decode_insn((const uint8_t *)bytes, n, DECODE_MODE_64, &d), 0);
    ck_assert_int_eq(emulate_prepare(&d, gpr, acc), 0);
    return emulate_complete(&d, gpr, rflags, value_read, wval);
}
#define EMU(b, gpr, fl, v, acc, w) emulate_bytes(b, sizeof(b) - 1, gpr, fl, v, acc, w)

START_TEST(test_mov_register_rules)
{
    const uint64_t init = 0x1122334455667788ull;
    uint64_t gpr[16], fl = 0x202, w;
    struct emulate_access acc;
#define RESET() for (int i = 0; i < 16; i++) gpr[i] = init + (uint64_t)i
    RESET();
    EMU("\x8b\x03", gpr, &fl, 0xdeadbeefcafef00dull, &acc, &w);          /* mov eax,[rbx]: zero-extends */
    ck_assert(acc.read && !acc.write && acc.size == 4);
    ck_assert_uint_eq(gpr[0], 0xcafef00dull);
    RESET();
    EMU("\x66\x8b\x0b", gpr, &fl, 0xabcd, &acc, &w);                     /* mov cx,[rbx]: merges */
    ck_assert_uint_eq(gpr[1], ((init + 1) & ~0xffffull) | 0xabcd);
    RESET();
    EMU("\x8a\x13", gpr, &fl, 0x5a, &acc, &w);                           /* mov dl,[rbx] */
    ck_assert_uint_eq(gpr[2], ((init + 2) & ~0xffull) | 0x5a);
    RESET();
    EMU("\x8a\x33", gpr, &fl, 0x5a, &acc, &w);                           /* mov dh,[rbx] */
    ck_assert_uint_eq(gpr[2], ((init + 2) & ~0xff00ull) | 0x5a00);
    ck_assert_uint_eq(gpr[6], init + 6);
    RESET();
    EMU("\x40\x8a\x33", gpr, &fl, 0x5a, &acc, &w);                       /* mov sil,[rbx] */
    ck_assert_uint_eq(gpr[6], ((init + 6) & ~0xffull) | 0x5a);
    ck_assert_uint_eq(gpr[2], init + 2);
    RESET();
    EMU("\x4c\x8b\x4b\x04", gpr, &fl, 0x1122aabbccddeeffull, &acc, &w);  /* mov r9,[rbx+4] */
    ck_assert_uint_eq(gpr[9], 0x1122aabbccddeeffull);
    RESET();
    EMU("\x88\x3b", gpr, &fl, 0, &acc, &w);                              /* mov [rbx],bh */
    ck_assert(acc.write && !acc.read && acc.size == 1);
    ck_assert_uint_eq(acc.value, ((init + 3) >> 8) & 0xff);
    RESET();
    EMU("\x44\x89\x3b", gpr, &fl, 0, &acc, &w);                          /* mov [rbx],r15d */
    ck_assert_uint_eq(acc.value, (uint32_t)(init + 15));
    RESET();
    EMU("\x48\xc7\x03\x00\x00\x00\x80", gpr, &fl, 0, &acc, &w);          /* mov qword [rbx],-2^31 */
    ck_assert(acc.write && acc.size == 8);
    ck_assert_uint_eq(acc.value, 0xffffffff80000000ull);
    RESET();
    EMU("\x48\xa1\x00\x00\x00\x00\x00\x10\x00\x00", gpr, &fl, 42, &acc, &w); /* movabs rax,[moffs] */
    ck_assert_uint_eq(gpr[0], 42);

    /* MOVZX / MOVSX / MOVSXD. */
    RESET();
    EMU("\x0f\xb6\x03", gpr, &fl, 0xfff0, &acc, &w);                      /* movzx eax, byte */
    ck_assert(acc.size == 1);
    ck_assert_uint_eq(gpr[0], 0xf0);
    RESET();
    EMU("\x66\x0f\xb6\x03", gpr, &fl, 0x80, &acc, &w);                    /* movzx ax, byte: merges */
    ck_assert_uint_eq(gpr[0], (init & ~0xffffull) | 0x80);
    RESET();
    EMU("\x0f\xbe\x03", gpr, &fl, 0x80, &acc, &w);                        /* movsx eax, byte */
    ck_assert_uint_eq(gpr[0], 0xffffff80ull);
    RESET();
    EMU("\x48\x0f\xbf\x03", gpr, &fl, 0x8001, &acc, &w);                  /* movsx rax, word */
    ck_assert_uint_eq(gpr[0], 0xffffffffffff8001ull);
    RESET();
    EMU("\x66\x0f\xbe\x03", gpr, &fl, 0x7f, &acc, &w);                    /* movsx ax, byte */
    ck_assert_uint_eq(gpr[0], (init & ~0xffffull) | 0x7f);
    RESET();
    EMU("\x48\x63\x03", gpr, &fl, 0x80000000, &acc, &w);                  /* movsxd rax, dword */
    ck_assert(acc.size == 4);
    ck_assert_uint_eq(gpr[0], 0xffffffff80000000ull);

    /* XCHG: memory gets the register, the register gets memory. */
    RESET();
    ck_assert_int_eq(EMU("\x87\x0b", gpr, &fl, 0xaaaaaaaa55555555ull, &acc, &w), EMULATE_DONE);
    ck_assert(acc.read && acc.write && acc.size == 4);
    ck_assert_uint_eq(w, (uint32_t)(init + 1));
    ck_assert_uint_eq(gpr[1], 0x55555555);
    RESET();
    EMU("\x86\x23", gpr, &fl, 0x99, &acc, &w);                            /* xchg [rbx],ah */
    ck_assert_uint_eq(w, (init >> 8) & 0xff);
    ck_assert_uint_eq(gpr[0], (init & ~0xff00ull) | 0x9900);
    ck_assert_uint_eq(fl, 0x202);
#undef RESET
}
END_TEST

START_TEST(test_string_ops)
{
    uint64_t gpr[16] = { 0 }, fl = 0x2, w;
    struct emulate_access acc;
    struct decoded_insn d;

    /* rep movsd, 3 iterations, forward. */
    gpr[1] = 3;
    gpr[6] = 0x1000;
    gpr[7] = 0x2000;
    ck_assert_int_eq(decode_insn((const uint8_t *)"\xf3\xa5", 2, DECODE_MODE_64, &d), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(emulate_prepare(&d, gpr, &acc), 0);
        ck_assert(!acc.none && acc.read && acc.write && acc.size == 4);
        ck_assert_uint_eq(decode_effective_address(&d, gpr, 0), 0x1000 + 4u * (unsigned)i);
        ck_assert_uint_eq(decode_string_dst(&d, gpr), 0x2000 + 4u * (unsigned)i);
        int st = emulate_complete(&d, gpr, &fl, 0x100 + (uint64_t)i, &w);
        ck_assert_uint_eq(w, 0x100 + (uint64_t)i);
        ck_assert_int_eq(st, i < 2 ? EMULATE_REPEAT : EMULATE_DONE);
    }
    ck_assert_uint_eq(gpr[1], 0);
    ck_assert_uint_eq(gpr[6], 0x100c);
    ck_assert_uint_eq(gpr[7], 0x200c);
    /* RCX = 0: nothing happens. */
    ck_assert_int_eq(emulate_prepare(&d, gpr, &acc), 0);
    ck_assert(acc.none);
    ck_assert_int_eq(emulate_complete(&d, gpr, &fl, 0, &w), EMULATE_DONE);
    ck_assert_uint_eq(gpr[7], 0x200c);

    /* std; stosw without REP steps backwards by 2 and leaves RCX alone. */
    fl = 0x402;
    gpr[0] = 0x12345678;
    gpr[1] = 7;
    gpr[7] = 0x3000;
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x66\xab", 2, DECODE_MODE_64, &d), 0);
    ck_assert_int_eq(emulate_prepare(&d, gpr, &acc), 0);
    ck_assert(acc.write && !acc.read && acc.size == 2 && acc.value == 0x5678);
    ck_assert_int_eq(emulate_complete(&d, gpr, &fl, 0, &w), EMULATE_DONE);
    ck_assert_uint_eq(gpr[7], 0x2ffe);
    ck_assert_uint_eq(gpr[1], 7);

    /* 32-bit addressing in 64-bit mode (67 F3 AA): ECX/EDI, upper halves zeroed. */
    fl = 0x2;
    gpr[1] = 0xffffffff00000002ull;
    gpr[7] = 0xaaaaaaaaffffffffull;
    ck_assert_int_eq(decode_insn((const uint8_t *)"\x67\xf3\xaa", 3, DECODE_MODE_64, &d), 0);
    ck_assert_int_eq(emulate_prepare(&d, gpr, &acc), 0);
    ck_assert_int_eq(emulate_complete(&d, gpr, &fl, 0, &w), EMULATE_REPEAT);
    ck_assert_uint_eq(gpr[7], 0);
    ck_assert_uint_eq(gpr[1], 1);

    /* 16-bit addressing (real mode rep movsb): SI/DI/CX wrap and merge. */
    uint64_t g16[16] = { 0 };
    g16[1] = 0xabcd0001;
    g16[6] = 0x1234ffff;
    g16[7] = 0x5678fffe;
    ck_assert_int_eq(decode_insn((const uint8_t *)"\xf3\xa4", 2, DECODE_MODE_16, &d), 0);
    ck_assert_int_eq(emulate_prepare(&d, g16, &acc), 0);
    ck_assert_int_eq(emulate_complete(&d, g16, &fl, 0x77, &w), EMULATE_DONE);
    ck_assert_uint_eq(g16[1], 0xabcd0000);
    ck_assert_uint_eq(g16[6], 0x12340000);
    ck_assert_uint_eq(g16[7], 0x5678ffff);
    ck_assert_uint_eq(w, 0x77);
}
END_TEST

START_TEST(test_rejects_bad_insn)
{
    struct decoded_insn d = { .op = DECODE_MOV_LOAD, .op_size = 3, .mem_size = 3, .addr_size = 8, .reg = 0 };
    struct emulate_access acc;
    uint64_t gpr[16] = { 0 }, fl = 2, w;
    ck_assert_int_eq(emulate_prepare(&d, gpr, &acc), EMULATE_EINVAL);
    d.op_size = d.mem_size = 4;
    d.reg = 16;
    ck_assert_int_eq(emulate_complete(&d, gpr, &fl, 0, &w), EMULATE_EINVAL);
    d.reg = 0;
    d.op = (enum decode_op)99;
    ck_assert_int_eq(emulate_prepare(&d, gpr, &acc), EMULATE_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emulate");
    TCase *tc = tcase_create("emulate");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_alu_against_host, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_loop_test(tc, test_alu_imm_against_host, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_bt_against_host);
    tcase_add_loop_test(tc, test_rmw_against_host, 0, (int)(sizeof rm_cases / sizeof rm_cases[0]));
    tcase_add_test(tc, test_cmpxchg8b_movbe_against_host);
    tcase_add_test(tc, test_compare_strings_against_host);
    tcase_add_test(tc, test_mov_register_rules);
    tcase_add_test(tc, test_string_ops);
    tcase_add_test(tc, test_rejects_bad_insn);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
