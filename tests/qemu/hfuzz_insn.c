/* SPDX-License-Identifier: MIT */
/*
 * The random code of the hostile guest, by class (enum hfuzz_flag): biased
 * toward what reaches the kernel -- memory operands aimed at MMIO, read-only
 * RAM, unmapped and page-straddling addresses; port I/O to the device model
 * and to the VMM; control, debug and model-specific registers; x87 and SSE
 * state with exceptions unmasked; descriptor tables, segment loads, far
 * transfers and interrupts; the SVM instructions.  Encodings follow the code
 * size (16, 32, 64 bits) so that most instructions decode as meant; random
 * prefixes and the RAND class take care of the rest.
 */
#include "hfuzz_emit.h"

/* Linear address of the next byte (flat modes; 16-bit modes add CS base 0x10000). */
static uint64_t here(struct em *e) { return G_BODY + e->pos; }

/* MOV reg, imm of `width` bits, encoded for the code size. */
static void mov_imm(struct em *e, unsigned reg, uint64_t v, unsigned width)
{
    if (width == 16 && e->bits != 16)
        e8(e, 0x66);
    if (width == 32 && e->bits == 16)
        e8(e, 0x66);
    if (e->bits == 64) {
        if (width == 64 && (v >> 32)) {
            e8(e, 0x48 | (reg >= 8));
            e8(e, 0xB8 + (reg & 7));
            en(e, v, 8);
            return;
        }
        if (reg >= 8)
            e8(e, 0x41);
        if (width == 64)
            width = 32;   /* zero-extends */
    }
    e8(e, 0xB8 + (reg & 7));
    en(e, v, width / 8);
}

/* A full-width MOV of a value that may be a 64-bit address. */
static void mov_addr(struct em *e, unsigned reg, uint64_t v)
{
    mov_imm(e, reg, v, e->bits == 64 ? 64 : e->bits == 32 ? 32 : (v > 0xFFFF ? 32 : 16));
}

/* Random prefixes that keep the instruction's length (mostly). */
static void prefixes(struct em *e)
{
    static const uint8_t p[] = { 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x66, 0x67 };
    if (!on(e, HF_PFX) || !chance(e, 3))
        return;
    unsigned n = 1 + (unsigned)below(e, 3);
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = p[below(e, sizeof(p))];
        if ((b == 0x66 || b == 0x67) && !chance(e, 4))
            b = 0x3E;
        e8(e, b);
    }
}

/* ---- memory targets ---- */

struct target {
    uint64_t addr;       /* flat: linear; 16-bit modes: offset in `seg` */
    uint8_t seg;         /* segment override prefix, or 0 */
};

static uint64_t flat_target(struct em *e)
{
    uint64_t r = below(e, 100);
    if (r < 14 && on(e, HF_RO))
        return G_RO + below(e, G_RO_SIZE);
    if (r < 28)
        return G_HOLE + below(e, 0x30000 - G_HOLE);
    if (r < 50)
        return G_MMIO_A + below(e, G_MMIO_A_LEN);
    if (r < 60)
        return G_MMIO_B + below(e, G_MMIO_B_LEN);
    if (r < 66) {
        static const uint64_t vmm[] = { 0xFEE00000, 0xFEC00000, 0xE0000000, 0xFED00000, 0xA0000, 0xFFFFFFF0 };
        return vmm[below(e, 6)] + below(e, 0x100);
    }
    if (r < 74)
        return G_SCRATCH + below(e, 0x1000);
    if (r < 84) {
        static const uint64_t edge[] = { G_RO + G_RO_SIZE, 0x30000, G_RO, G_MMIO_A + G_MMIO_A_LEN, G_HOTPLUG,
                                         G_MMIO_B, G_MMIO_B + G_MMIO_B_LEN, G_RAM_SIZE };
        return edge[below(e, 8)] - 1 - below(e, 8);
    }
    if (r < 86)
        return below(e, 0x1000) | (below(e, 0xD) << 12);   /* the guest's own system pages */
    if (r < 90)
        return G_HOTPLUG + below(e, 0x1000);
    if (r < 95 || e->bits != 64)
        return (uint32_t)rnd(e);
    return chance(e, 2) ? 0x100000000ull + below(e, 1ull << 36) : rnd(e);   /* unmapped or non-canonical */
}

/* Without HF_RO no access starts in, or runs into, the read-only pages (a
 * REP string instruction runs up to 100 elements of 8 bytes upward: string
 * instructions clear DF without HF_RO). */
static uint64_t keep_off_ro(struct em *e, uint64_t a)
{
    if (!on(e, HF_RO) && a + 0x400 > G_RO && a < G_RO + G_RO_SIZE)
        return G_HOLE + (a & 0xFFF);
    return a;
}

static void pick_target(struct em *e, struct target *t)
{
    uint64_t a = keep_off_ro(e, flat_target(e));
    t->seg = 0;
    t->addr = a;
    if (e->bits != 16)
        return;
    /* 16-bit code: DS = base G_RO, ES = base G_RO (G_HOLE without HF_RO),
     * FS = base G_MMIO_A, GS = base G_SCRATCH, SS = base 0. */
    if (a >= G_RO && a < 0x30000) {
        t->addr = a - G_RO;
    } else if (a >= G_MMIO_A && a < 0x40000) {
        t->addr = a - G_MMIO_A;
        t->seg = 0x64;
    } else if (a >= G_SCRATCH && a < G_SCRATCH + 0x10000) {
        t->addr = a - G_SCRATCH;
        t->seg = 0x65;
    } else {
        t->addr = a & 0xFFFF;
        t->seg = 0x36;
    }
}

/*
 * A memory operand: setup instructions go out first (base registers), then
 * the caller's prefixes and opcode, then mem_emit() writes ModRM, SIB and
 * displacement.  RIP-relative displacements are patched by mem_fixup()
 * once the immediate is out.
 */
struct memop {
    int asize;           /* 16, 32, 64 */
    bool addr67;         /* needs a 0x67 prefix */
    uint8_t seg;
    uint8_t mod, rm;
    bool sib;
    uint8_t sib_byte;
    unsigned disp_bytes;
    uint64_t disp;
    bool riprel;
    uint32_t disp_pos;
    uint64_t target;
};

static void mem_plan(struct em *e, struct memop *m)
{
    struct target t;
    pick_target(e, &t);
    *m = (struct memop){ .asize = e->bits, .seg = t.seg, .target = t.addr };
    if (chance(e, 10)) {   /* the other address size */
        m->addr67 = true;
        m->asize = e->bits == 32 ? 16 : 32;
    }
    uint64_t a = t.addr;
    if (m->asize == 16) {
        a &= 0xFFFF;
        switch (below(e, 4)) {
        case 0: m->mod = 0; m->rm = 6; m->disp_bytes = 2; m->disp = a; break;
        case 1: {
            uint64_t d = below(e, 0x80);
            mov_imm(e, 3, (a - d) & 0xFFFF, e->bits == 16 ? 16 : 32);
            m->mod = 1; m->rm = 7; m->disp_bytes = 1; m->disp = d;
            break;
        }
        case 2: mov_imm(e, 6, a, e->bits == 16 ? 16 : 32); m->mod = 0; m->rm = 4; break;
        default: mov_imm(e, 7, a, e->bits == 16 ? 16 : 32); m->mod = 0; m->rm = 5; break;
        }
        return;
    }
    if (m->asize == 32)
        a &= 0xFFFFFFFFull;
    switch (below(e, 4)) {
    case 0:
        if (e->bits == 64 && !m->addr67 && a < 0x7FFF0000ull && chance(e, 2)) {
            m->mod = 0; m->rm = 5; m->disp_bytes = 4; m->riprel = true;
        } else if (e->bits == 64) {
            m->mod = 0; m->rm = 4; m->sib = true; m->sib_byte = 0x25; m->disp_bytes = 4; m->disp = a;
        } else {
            m->mod = 0; m->rm = 5; m->disp_bytes = 4; m->disp = a;
        }
        break;
    case 1: {
        uint64_t d = below(e, 0x100) - 0x80;
        mov_imm(e, 3, a - d, m->asize == 64 ? 64 : 32);
        m->mod = 1; m->rm = 3; m->disp_bytes = 1; m->disp = d;
        break;
    }
    case 2: {
        unsigned scale = (unsigned)below(e, 4);
        uint64_t idx = below(e, 16);
        mov_imm(e, 6, idx, 32);
        mov_imm(e, 3, a - (idx << scale), m->asize == 64 ? 64 : 32);
        m->mod = 0; m->rm = 4; m->sib = true; m->sib_byte = (uint8_t)(scale << 6 | 6 << 3 | 3);
        break;
    }
    default: {
        static const uint8_t base[] = { 0, 1, 2, 6, 7 };
        unsigned b = base[below(e, sizeof(base))];
        mov_imm(e, b, a, m->asize == 64 ? 64 : 32);
        m->mod = 0; m->rm = (uint8_t)b;
        break;
    }
    }
}

/* Prefixes that belong to the operand: segment and address size. */
static void mem_prefixes(struct em *e, const struct memop *m)
{
    if (m->seg)
        e8(e, m->seg);
    if (m->addr67)
        e8(e, 0x67);
}

static void mem_emit(struct em *e, struct memop *m, unsigned reg)
{
    e8(e, (uint8_t)(m->mod << 6 | (reg & 7) << 3 | m->rm));
    if (m->sib)
        e8(e, m->sib_byte);
    m->disp_pos = e->pos;
    en(e, m->disp, m->disp_bytes);
}

static void mem_fixup(struct em *e, const struct memop *m)
{
    if (!m->riprel)
        return;
    uint64_t d = m->target - here(e);
    for (unsigned i = 0; i < 4; i++)
        if (m->disp_pos + i < e->limit)
            e->buf[m->disp_pos + i] = (uint8_t)(d >> (8 * i));
}

/* REX for a memory-operand instruction in 64-bit code. */
static void rex(struct em *e, bool w, unsigned reg)
{
    if (e->bits != 64)
        return;
    uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | (reg >= 8 ? 4 : 0));
    if (on(e, HF_PFX) && chance(e, 8))
        r |= (uint8_t)below(e, 4) & 2;   /* REX.X: the index register changes, so may the address */
    if (r != 0x40 || chance(e, 6))
        e8(e, r);
}

/* opcode [modrm mem] [imm]: the common shape. */
static void mem_insn(struct em *e, const uint8_t *op, unsigned oplen, unsigned reg, unsigned imm_bytes, bool w)
{
    struct memop m;
    uint8_t pre[2] = { e->pre[0], e->pre[1] };
    e->pre[0] = e->pre[1] = 0;
    mem_plan(e, &m);
    prefixes(e);
    mem_prefixes(e, &m);
    for (unsigned i = 0; i < 2; i++)
        if (pre[i])
            e8(e, pre[i]);
    rex(e, w, reg);
    ebytes(e, op, oplen);
    mem_emit(e, &m, reg);
    en(e, rnd(e), imm_bytes);
    mem_fixup(e, &m);
}

/* ---- instruction classes ---- */

static void gen_mem(struct em *e)
{
    unsigned reg = (unsigned)below(e, e->bits == 64 ? 16 : 8);
    bool w = e->bits == 64 && chance(e, 3);
    bool o16 = chance(e, 6);
    unsigned immz = (e->bits == 16) != o16 ? 2 : 4;
    uint8_t op[3];
    e->pre[0] = o16 ? 0x66 : 0;
    switch (below(e, 16)) {
    case 0: case 1:   /* MOV r/m, r / r, r/m */
        op[0] = (uint8_t)(0x88 + below(e, 4));
        mem_insn(e, op, 1, reg, 0, w);
        break;
    case 2:           /* MOV r/m, imm */
        op[0] = chance(e, 2) ? 0xC6 : 0xC7;
        mem_insn(e, op, 1, 0, op[0] == 0xC6 ? 1 : immz, w);
        break;
    case 3: case 4:   /* ALU r/m, r and r, r/m */
        op[0] = (uint8_t)(8 * below(e, 8) + below(e, 4));
        mem_insn(e, op, 1, reg, 0, w);
        break;
    case 5: {         /* group 1 with an immediate */
        static const uint8_t g1[] = { 0x80, 0x81, 0x83 };
        op[0] = g1[below(e, 3)];
        mem_insn(e, op, 1, (unsigned)below(e, 8), op[0] == 0x81 ? immz : 1, w);
        break;
    }
    case 6:           /* TEST, XCHG */
        op[0] = (uint8_t)(0x84 + below(e, 4));
        mem_insn(e, op, 1, reg, 0, w);
        break;
    case 7: {         /* group 3: TEST imm, NOT, NEG, MUL, IMUL, DIV, IDIV */
        op[0] = chance(e, 2) ? 0xF6 : 0xF7;
        unsigned sub = (unsigned)below(e, 8);
        mem_insn(e, op, 1, sub, sub < 2 ? (op[0] == 0xF6 ? 1 : immz) : 0, w);
        break;
    }
    case 8: {         /* INC/DEC/PUSH/POP on memory (CALL/JMP through it rarely) */
        static const uint8_t ff[][2] = { { 0xFE, 0 }, { 0xFE, 1 }, { 0xFF, 0 }, { 0xFF, 1 }, { 0xFF, 6 },
                                         { 0xFF, 6 }, { 0x8F, 0 }, { 0x8F, 0 }, { 0xFF, 2 }, { 0xFF, 4 } };
        unsigned k = (unsigned)below(e, chance(e, 8) ? 10 : 8);
        op[0] = ff[k][0];
        mem_insn(e, op, 1, ff[k][1], 0, w);
        break;
    }
    case 9: {         /* MOVZX, MOVSX, MOVSXD */
        static const uint8_t ext[] = { 0xB6, 0xB7, 0xBE, 0xBF };
        if (e->bits == 64 && chance(e, 4)) {
            op[0] = 0x63;
            mem_insn(e, op, 1, reg, 0, true);
        } else {
            op[0] = 0x0F;
            op[1] = ext[below(e, 4)];
            mem_insn(e, op, 2, reg, 0, w);
        }
        break;
    }
    case 10: {        /* BT family, CMPXCHG, XADD, CMPXCHG8B */
        static const uint8_t bt[] = { 0xA3, 0xAB, 0xB3, 0xBB, 0xB0, 0xB1, 0xC0, 0xC1 };
        op[0] = 0x0F;
        if (chance(e, 6)) {
            op[1] = 0xC7;
            mem_insn(e, op, 2, 1, 0, w);
        } else if (chance(e, 4)) {
            op[1] = 0xBA;
            mem_insn(e, op, 2, 4 + (unsigned)below(e, 4), 1, w);
        } else {
            op[1] = bt[below(e, 8)];
            mem_insn(e, op, 2, reg, 0, w);
        }
        break;
    }
    case 11: {        /* shifts and rotates */
        static const uint8_t sh[] = { 0xD0, 0xD1, 0xD2, 0xD3, 0xC0, 0xC1 };
        op[0] = sh[below(e, 6)];
        mem_insn(e, op, 1, (unsigned)below(e, 8), op[0] >= 0xD0 ? 0 : 1, w);
        break;
    }
    case 12: {        /* SETcc, CMOVcc, prefetch, CLFLUSH */
        op[0] = 0x0F;
        uint64_t k = below(e, 4);
        op[1] = k == 0 ? (uint8_t)(0x90 + below(e, 16)) : k == 1 ? (uint8_t)(0x40 + below(e, 16))
              : k == 2 ? 0x18 : 0xAE;
        mem_insn(e, op, 2, k == 3 ? 7 : k == 2 ? (unsigned)below(e, 4) : reg, 0, w);
        break;
    }
    case 13: {        /* MOV to/from moffs */
        struct target t;
        pick_target(e, &t);
        prefixes(e);
        if (t.seg)
            e8(e, t.seg);
        if (e->pre[0])
            e8(e, e->pre[0]);
        e->pre[0] = 0;
        rex(e, w, 0);
        e8(e, 0xA0 + below(e, 4));
        en(e, t.addr, e->bits == 64 ? 8 : e->bits == 32 ? 4 : 2);
        break;
    }
    case 14:          /* LOCKed read-modify-write */
        e8(e, 0xF0);
        op[0] = (uint8_t)(8 * below(e, 8) + 1);
        mem_insn(e, op, 1, reg, 0, w);
        break;
    default:          /* MOV Sreg to memory, LEA, BOUND/ARPL, ENTER-free oddities */
        op[0] = chance(e, 2) ? 0x8C : 0x8D;
        mem_insn(e, op, 1, op[0] == 0x8C ? (unsigned)below(e, 6) : reg, 0, w);
        break;
    }
}

static void set_count(struct em *e)
{
    uint64_t n = chance(e, 8) ? 0 : chance(e, 10) ? 40 + below(e, 60) : 1 + below(e, 4);
    mov_imm(e, 1, n, e->bits == 16 ? 16 : 32);
}

/* rSI and rDI for string instructions: source and destination (ES). */
static void string_regs(struct em *e, uint8_t *seg)
{
    struct target s, d;
    pick_target(e, &s);
    pick_target(e, &d);
    if (e->bits == 16) {
        /* The destination is ES:DI, ES at base G_RO (G_HOLE without HF_RO):
         * read-only RAM, the hole or the start of MMIO range A. */
        d.addr = below(e, 4) ? below(e, 0x2000) : 0xE000 + below(e, 0x2000);
    }
    mov_addr(e, 6, s.addr);
    mov_addr(e, 7, d.addr);
    *seg = s.seg;
}

static void gen_str(struct em *e)
{
    uint8_t seg;
    string_regs(e, &seg);
    set_count(e);
    if (!on(e, HF_RO))
        e8(e, 0xFC);                         /* CLD: downward could reach the read-only pages */
    else if (chance(e, 6))
        e8(e, chance(e, 2) ? 0xFD : 0xFC);   /* STD / CLD */
    prefixes(e);
    if (seg)
        e8(e, seg);
    if (!chance(e, 3))
        e8(e, chance(e, 5) ? 0xF2 : 0xF3);
    if (chance(e, 5))
        e8(e, 0x66);
    if (e->bits == 64 && chance(e, 4))
        e8(e, 0x48);
    static const uint8_t ops[] = { 0xA4, 0xA5, 0xA4, 0xA5, 0xAA, 0xAB, 0xAC, 0xAD, 0xA6, 0xA7, 0xAE, 0xAF };
    e8(e, ops[below(e, sizeof(ops))]);
}

static uint16_t pick_port(struct em *e)
{
    uint64_t r = below(e, 10);
    if (r < 4)
        return (uint16_t)(G_PORT_A + below(e, 8));
    if (r < 7)
        return (uint16_t)(G_PORT_B + below(e, 16));
    /* Platform ports (0x510-0x511 fw_cfg) and the VMM's test sequence port 0x520. */
    static const uint16_t vmm[] = { 0x80, 0x70, 0x71, 0xCF8, 0xCFC, 0x20, 0x21, 0xA0, 0x40, 0x43, 0x61,
                                    0x92, 0xF4, 0x402, 0x510, 0x511, 0x520, 0xFFFF };
    return r < 9 ? vmm[below(e, sizeof(vmm) / 2)] : (uint16_t)rnd(e);
}

static void gen_io(struct em *e)
{
    uint16_t port = pick_port(e);
    uint64_t form = below(e, 4);
    if (form == 0 && port < 0x100) {
        prefixes(e);
        if (chance(e, 4))
            e8(e, 0x66);
        e8(e, 0xE4 + below(e, 4));
        e8(e, port);
        return;
    }
    mov_imm(e, 2, port, 16);
    if (form <= 1) {
        mov_imm(e, 0, rnd(e), 32);
        prefixes(e);
        if (chance(e, 4))
            e8(e, 0x66);
        e8(e, 0xEC + below(e, 4));
        return;
    }
    uint8_t seg;
    string_regs(e, &seg);
    set_count(e);
    if (!on(e, HF_RO))
        e8(e, 0xFC);
    prefixes(e);
    if (seg)
        e8(e, seg);
    if (!chance(e, 3))
        e8(e, 0xF3);
    if (chance(e, 4))
        e8(e, 0x66);
    if (chance(e, 10))
        e8(e, 0x67);
    e8(e, 0x6C + below(e, 4));   /* INSB/INSW/OUTSB/OUTSW */
}

static void mov_to_cr(struct em *e, unsigned cr, uint64_t v)
{
    mov_imm(e, 0, v, e->bits == 64 ? 64 : 32);
    if (cr >= 8) {
        if (e->bits == 64)
            e8(e, 0x44);
        else
            e8(e, 0xF0);   /* AMD's alternative encoding of CR8 outside 64-bit mode */
    }
    e8(e, 0x0F);
    e8(e, 0x22);
    e8(e, 0xC0 | (cr & 7) << 3);
}

static void gen_cr(struct em *e)
{
    static const uint32_t cr0_bits[] = { 1u << 0, 1u << 1, 1u << 2, 1u << 3, 1u << 5, 1u << 16, 1u << 18,
                                         1u << 29, 1u << 30, 1u << 31 };
    static const uint32_t cr4_bits[] = { 1u << 0, 1u << 1, 1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 6,
                                         1u << 7, 1u << 8, 1u << 9, 1u << 10, 1u << 11, 1u << 12, 1u << 16,
                                         1u << 17, 1u << 18, 1u << 20, 1u << 21, 1u << 22, 1u << 23 };
    uint64_t r = below(e, 12);
    if (r < 4) {
        uint64_t v = e->g->cr0;
        if (r == 0)
            v = (v | (1u << 29)) & ~(1u << 30);   /* NW without CD (issue 13, item 1) */
        else
            for (uint64_t n = 1 + below(e, 2); n; n--)
                v ^= cr0_bits[below(e, 10)];
        if (chance(e, 16))
            v = rnd(e);
        mov_to_cr(e, 0, v);
    } else if (r < 6) {
        uint64_t v = e->g->cr4;
        for (uint64_t n = 1 + below(e, 2); n; n--)
            v ^= cr4_bits[below(e, 20)];
        mov_to_cr(e, 4, chance(e, 16) ? rnd(e) : v);
    } else if (r < 7) {
        static const uint64_t roots[] = { G_PD32, G_PDPT_PAE, G_PML4, G_SCRATCH, G_RO, G_MMIO_A, G_HOLE };
        mov_to_cr(e, 3, chance(e, 4) ? rnd(e) & ~0xFFFull : roots[below(e, 7)] | (below(e, 2) << 3));
    } else if (r < 10) {
        mov_to_cr(e, 2, rnd(e));
    } else if (r < 11) {
        e8(e, 0x0F);   /* MOV reg, CRn (CR1, CR5-7, CR9-15 are #UD) */
        e8(e, 0x20);
        e8(e, 0xC0 | below(e, 8) << 3 | below(e, 8));
    } else {
        static const uint8_t misc[][3] = { { 0x0F, 0x06, 0x90 }, { 0x0F, 0x01, 0xF0 }, { 0x0F, 0x01, 0xE0 } };
        unsigned k = (unsigned)below(e, 3);
        if (k == 1)
            mov_imm(e, 0, rnd(e), 16);   /* LMSW AX */
        ebytes(e, misc[k], k == 0 ? 2 : 3);
    }
}

/* MOV CR8 (the TPR), often with interrupts off so that a pending one waits
 * for a window (issue 13, item 6: QEMU at -smp 2). */
static void gen_cr8(struct em *e)
{
    if (chance(e, 2))
        e8(e, 0xFA);
    mov_to_cr(e, 8, chance(e, 6) ? rnd(e) : below(e, 16));
    if (chance(e, 2))
        e8(e, 0xFB);
}

static void gen_dr(struct em *e)
{
    struct hf_guest *g = e->g;
    unsigned dr = (unsigned)below(e, 4);
    uint64_t r = below(e, 10);
    if (r < 5) {
        uint64_t a;
        if (g->ndr_targets && !chance(e, 3))
            a = g->dr_targets[below(e, g->ndr_targets)];
        else
            a = chance(e, 2) ? G_BODY + below(e, 0x100) : flat_target(e);
        mov_imm(e, 0, a, e->bits == 64 ? 64 : 32);
    } else if (r < 9) {
        dr = 7;
        uint64_t v = 0x400;
        for (unsigned i = 0; i < 4; i++)
            if (chance(e, 2))
                v |= (uint64_t)(chance(e, 2) ? 1 : 2) << (2 * i) | below(e, 16) << (16 + 4 * i);
        if (chance(e, 8))
            v |= 1u << 13;   /* GD */
        if (chance(e, 8))
            v |= 3u << 8;    /* LE, GE */
        if (chance(e, 16))
            v = rnd(e);
        mov_imm(e, 0, v, e->bits == 64 ? 64 : 32);
    } else {
        dr = chance(e, 2) ? 6 : 4 + (unsigned)below(e, 2);
        mov_imm(e, 0, chance(e, 2) ? 0xFFFF0FF0 : rnd(e), 32);
    }
    prefixes(e);
    e8(e, 0x0F);
    e8(e, chance(e, 8) ? 0x21 : 0x23);
    e8(e, 0xC0 | dr << 3);
}

static void gen_msr(struct em *e)
{
    static const uint32_t msrs[] = {
        0xC0000080, 0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101,
        0xC0000102, 0xC0000103, 0x174, 0x175, 0x176, 0x277, 0x1B, 0x10, 0x200, 0x2FF, 0xC0010114,
        0xC0010117, 0x179, 0x17B, 0x1D9, 0x48, 0x49, 0xDA0, 0x3A, 0x8B, 0xC0010015, 0x40000000, 0x4B564D00,
        0xC0011029,
    };
    uint32_t idx = chance(e, 10) ? (uint32_t)rnd(e) : msrs[below(e, sizeof(msrs) / 4)];
    if (idx == 0xC0000080 && !on(e, HF_EFER))
        idx = 0xC0000081;   /* STAR instead */
    mov_imm(e, 1, idx, 32);
    bool wr = chance(e, 2);
    if (wr) {
        uint64_t v = rnd(e);
        if (idx == 0xC0000080)
            v = (chance(e, 2) ? 0xD01 & rnd(e) : 0x1D01 & rnd(e)) | (chance(e, 8) ? rnd(e) & ~0xFFFull : 0);
        else if (chance(e, 2))
            v &= 0xFFFFFFFF;
        mov_imm(e, 0, (uint32_t)v, 32);
        mov_imm(e, 2, v >> 32, 32);
    }
    prefixes(e);
    e8(e, 0x0F);
    e8(e, wr ? 0x30 : 0x32);
}

/* Address of G_ZERO as a memory operand: [disp] in every mode (SS base 0 in 16-bit code). */
static void zero_operand(struct em *e, const uint8_t *op, unsigned oplen, unsigned reg)
{
    if (e->bits == 16)
        e8(e, 0x36);
    ebytes(e, op, oplen);
    if (e->bits == 16) {
        e8(e, (uint8_t)(reg << 3 | 6));
        en(e, G_ZERO, 2);
    } else if (e->bits == 32) {
        e8(e, (uint8_t)(reg << 3 | 5));
        en(e, G_ZERO, 4);
    } else {
        e8(e, (uint8_t)(reg << 3 | 4));
        e8(e, 0x25);
        en(e, G_ZERO, 4);
    }
}

static void gen_x87(struct em *e)
{
    uint64_t r = below(e, 6);
    if (r == 0) {
        /* Every exception unmasked, a division by zero, then FWAIT: with
         * CR0.NE = 0 that is FERR# (issue 13, item 6). */
        EMIT(e, 0xDB, 0xE3);                         /* FNINIT */
        static const uint8_t fldcw[] = { 0xD9 };
        zero_operand(e, fldcw, 1, 5);                /* FLDCW [G_ZERO] */
        EMIT(e, 0xD9, 0xE8, 0xD9, 0xEE, 0xDE, 0xF9); /* FLD1; FLDZ; FDIVP */
        EMIT(e, 0x9B);                               /* FWAIT */
    } else if (r < 3) {
        static const uint8_t ops[][2] = { { 0xD9, 0xE8 }, { 0xD9, 0xEE }, { 0xDE, 0xF9 }, { 0xD9, 0xFA },
                                          { 0xDB, 0xE2 }, { 0xD9, 0xC9 }, { 0xDF, 0xE0 }, { 0xD9, 0xF0 },
                                          { 0xDD, 0xD8 }, { 0xD9, 0xFD }, { 0xD8, 0xF1 }, { 0xDB, 0xE3 } };
        for (uint64_t n = 1 + below(e, 4); n; n--)
            ebytes(e, ops[below(e, 12)], 2);
        if (chance(e, 2))
            e8(e, 0x9B);
    } else if (r < 5) {
        /* x87 load or store on an MMIO / read-only / unmapped address: never decoded. */
        static const uint8_t mem[][2] = { { 0xD9, 0 }, { 0xDD, 0 }, { 0xDB, 5 }, { 0xD9, 7 }, { 0xDD, 7 },
                                          { 0xD9, 3 }, { 0xDF, 4 }, { 0xD9, 4 }, { 0xDD, 4 }, { 0xDD, 6 } };
        unsigned k = (unsigned)below(e, 10);
        mem_insn(e, &mem[k][0], 1, mem[k][1], 0, false);
    } else {
        e8(e, (uint8_t)(0xD8 + below(e, 8)));       /* any x87 register form */
        e8(e, (uint8_t)(0xC0 + below(e, 64)));
    }
}

static void gen_sse(struct em *e)
{
    uint64_t r = below(e, 8);
    unsigned reg = (unsigned)below(e, 8);
    uint8_t op[3];
    if (r < 3) {
        static const uint8_t mov[][3] = { { 0, 0x0F, 0x10 }, { 0, 0x0F, 0x11 }, { 0x66, 0x0F, 0x6F },
                                          { 0x66, 0x0F, 0x7F }, { 0, 0x0F, 0x28 }, { 0, 0x0F, 0x29 },
                                          { 0xF3, 0x0F, 0x7E }, { 0x66, 0x0F, 0xD6 }, { 0, 0x0F, 0x2B },
                                          { 0x66, 0x0F, 0xE7 }, { 0, 0x0F, 0xC3 }, { 0, 0x0F, 0x12 } };
        unsigned k = (unsigned)below(e, 12);
        e->pre[0] = mov[k][0];
        op[0] = mov[k][1];
        op[1] = mov[k][2];
        mem_insn(e, op, 2, reg, 0, false);
    } else if (r < 4) {
        static const uint8_t ldmxcsr[] = { 0x0F, 0xAE };
        zero_operand(e, ldmxcsr, 2, 2);              /* LDMXCSR [G_ZERO]: all exceptions unmasked */
        EMIT(e, 0x0F, 0x57, 0xC0, 0x0F, 0x5E, 0xC0); /* XORPS; DIVPS xmm0, xmm0 */
    } else if (r < 5) {
        mov_imm(e, 1, chance(e, 4) ? below(e, 4) : 0, 32);
        mov_imm(e, 0, chance(e, 3) ? rnd(e) : (1 + 2 * below(e, 2) + 4 * below(e, 2)), 32);
        mov_imm(e, 2, chance(e, 6) ? rnd(e) : 0, 32);
        EMIT(e, 0x0F, 0x01);
        e8(e, chance(e, 4) ? 0xD0 : 0xD1);           /* XGETBV / XSETBV */
    } else if (r < 6) {
        op[0] = 0x0F;                                /* FXSAVE/FXRSTOR/XSAVE/XRSTOR on odd memory */
        op[1] = 0xAE;
        mov_imm(e, 0, 7, 32);
        mov_imm(e, 2, 0, 32);
        mem_insn(e, op, 2, (unsigned)(chance(e, 2) ? below(e, 2) : 4 + below(e, 2)), 0, e->bits == 64 && chance(e, 2));
    } else {
        static const uint8_t alu[] = { 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x51, 0x57, 0xEF, 0x2F };
        if (chance(e, 2))
            e8(e, (uint8_t)(chance(e, 2) ? 0x66 : 0xF3));
        e8(e, 0x0F);
        e8(e, alu[below(e, 10)]);
        e8(e, (uint8_t)(0xC0 | below(e, 64)));
        if (chance(e, 6))
            EMIT(e, 0xC5, 0xF8, 0x77);               /* VZEROUPPER (VEX) */
    }
}

static const uint16_t selectors[] = { 0, SEL_CODE32, SEL_DATA32, SEL_CODE16, SEL_DATA16, SEL_CODE64, SEL_TSS,
                                      SEL_CODE32_3, SEL_DATA32_3, SEL_CODE64_3, SEL_CODE16_3, SEL_DS16,
                                      SEL_FS16, SEL_GS16, SEL_SS16_3, 0x38, 0xFFFF, 0x13, 0x1000, 0x2000 };

static uint16_t pick_selector(struct em *e)
{
    uint16_t sel = chance(e, 6) ? (uint16_t)rnd(e) : selectors[below(e, sizeof(selectors) / 2)];
    /* Without HF_RO, no segment on the read-only pages (real mode 0x2000,
     * SEL_DS16): ES there makes every INS a write to them. */
    if (!on(e, HF_RO) && (sel == 0x2000 || sel == 0x2001 || (sel & ~3) == SEL_DS16))
        sel = SEL_GS16;
    return sel;
}

static void gen_desc(struct em *e)
{
    uint8_t op[3];
    switch (below(e, 12)) {
    case 0:   /* LGDT/LIDT from odd memory, SGDT/SIDT to it */
        op[0] = 0x0F;
        op[1] = 0x01;
        mem_insn(e, op, 2, (unsigned)(chance(e, 3) ? below(e, 2) : 2 + below(e, 2)), 0, false);
        break;
    case 1:   /* LTR, LLDT, VERR, VERW, STR, SLDT from a register */
        mov_imm(e, 0, pick_selector(e), 16);
        EMIT(e, 0x0F, 0x00);
        e8(e, 0xC0 | below(e, 6) << 3);
        break;
    case 2: { /* MOV Sreg, r (not CS) */
        mov_imm(e, 0, pick_selector(e), 16);
        static const uint8_t sreg[] = { 0, 2, 3, 4, 5, 1 };
        e8(e, 0x8E);
        e8(e, (uint8_t)(0xC0 | sreg[chance(e, 16) ? 5 : below(e, 5)] << 3));
        if (chance(e, 2))
            EMIT(e, 0x0F, 0xA2);   /* CPUID in the MOV SS shadow */
        break;
    }
    case 3: { /* far return to a random selector: PUSH sel; PUSH off; RETF */
        uint64_t off = chance(e, 2) ? hf_guest_chunk_rip(e->g, (unsigned)below(e, G_CHUNKS)) : rnd(e) & 0xFFFF;
        mov_imm(e, 0, pick_selector(e), e->bits == 16 ? 16 : 32);
        e8(e, 0x50);
        mov_imm(e, 0, off, e->bits == 16 ? 16 : 32);
        e8(e, 0x50);
        if (e->bits == 64)
            e8(e, 0x48);
        e8(e, chance(e, 4) ? 0xCF : 0xCB);   /* IRET with a short frame, or RETF */
        break;
    }
    case 4:   /* INT n */
        e8(e, 0xCD);
        e8(e, below(e, 256));
        break;
    case 5: {
        static const uint8_t one[] = { 0xCC, 0xF1, 0xCE, 0xCF, 0x0F, 0x0B };
        unsigned k = (unsigned)below(e, 5);
        if (k == 3 && e->bits == 64)
            e8(e, 0x48);
        if (k == 4)
            EMIT(e, 0x0F, 0x0B);
        else
            e8(e, one[k]);
        break;
    }
    case 6: { /* SYSCALL, SYSRET, SYSENTER, SYSEXIT */
        static const uint8_t sys[] = { 0x05, 0x07, 0x34, 0x35 };
        if (chance(e, 4))
            e8(e, 0x48);
        e8(e, 0x0F);
        e8(e, sys[below(e, 4)]);
        break;
    }
    case 7: { /* POPF with TF, NT, AC, IOPL, RF, VM, ID */
        static const uint32_t fl[] = { 1u << 8, 1u << 14, 1u << 18, 3u << 12, 1u << 16, 1u << 17, 1u << 21, 1u << 9 };
        uint64_t v = 2;
        for (uint64_t n = 1 + below(e, 3); n; n--)
            v |= fl[below(e, 8)];
        mov_imm(e, 0, v, e->bits == 16 ? 16 : 32);
        e8(e, 0x50);
        e8(e, 0x9D);
        if (chance(e, 2))
            EMIT(e, 0x0F, 0xA2);
        break;
    }
    case 8:   /* LAR/LSL */
        mov_imm(e, 0, pick_selector(e), 16);
        EMIT(e, 0x0F);
        e8(e, chance(e, 2) ? 0x02 : 0x03);
        e8(e, 0xC8);
        break;
    case 9:   /* MOV Sreg from memory, LSS/LFS/LGS */
        op[0] = 0x0F;
        op[1] = (uint8_t)(chance(e, 2) ? 0xB2 : 0xB4 + below(e, 2));
        if (chance(e, 2)) {
            op[0] = 0x8E;
            mem_insn(e, op, 1, (unsigned)below(e, 6), 0, false);
        } else {
            mem_insn(e, op, 2, 0, 0, false);
        }
        break;
    case 10:  /* far JMP/CALL through memory */
        op[0] = 0xFF;
        mem_insn(e, op, 1, chance(e, 2) ? 3 : 5, 0, e->bits == 64 && chance(e, 2));
        break;
    default:  /* ENTER with a large frame, LEAVE, PUSHA/POPA, junk stack */
        if (e->bits == 64)
            EMIT(e, 0xC8, 0xFF, 0xFF, 0x1F, 0xC9);
        else
            EMIT(e, 0x60, 0x61, 0xC8, 0x10, 0x00, 0x03, 0xC9);
        break;
    }
}

static void gen_sys(struct em *e)
{
    switch (below(e, 10)) {
    case 0: {
        static const uint32_t leaf[] = { 0, 1, 7, 0xD, 0x80000000, 0x80000001, 0x8000000A, 0x40000000, 0x8000001F };
        mov_imm(e, 0, chance(e, 4) ? (uint32_t)rnd(e) : leaf[below(e, 9)], 32);
        mov_imm(e, 1, below(e, 3), 32);
        EMIT(e, 0x0F, 0xA2);
        break;
    }
    case 1:
        e8(e, chance(e, 2) ? 0xFB : 0xFA);   /* STI / CLI, then HLT */
        if (chance(e, 2))
            e8(e, 0xF4);
        break;
    case 2:   /* a short spin: the host's tick must still get the CPU back */
        if (chance(e, 2))
            e8(e, 0xFA);
        mov_imm(e, 1, 20000 + below(e, 200000), 32);
        EMIT(e, 0xE2, 0xFE);   /* LOOP $ */
        if (chance(e, 32))
            EMIT(e, 0xEB, 0xFE);   /* JMP $: only the VMM's deadline ends it */
        break;
    case 3: { /* SVM instructions, with RAX aimed at odd places */
        mov_addr(e, 0, chance(e, 2) ? flat_target(e) & ~0xFFFull : G_SCRATCH);
        static const uint8_t svm[] = { 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF };
        EMIT(e, 0x0F, 0x01);
        e8(e, svm[below(e, 8)]);
        break;
    }
    case 4: {
        static const uint8_t two[][3] = { { 0x0F, 0x08 }, { 0x0F, 0x09 }, { 0x0F, 0x31 }, { 0x0F, 0x33 },
                                          { 0x0F, 0xAA }, { 0x0F, 0xFF }, { 0x0F, 0xB9 }, { 0xF3, 0x90 } };
        mov_imm(e, 1, chance(e, 2) ? below(e, 8) : rnd(e), 32);
        ebytes(e, two[below(e, 8)], 2);
        break;
    }
    case 5: {
        static const uint8_t three[] = { 0xF8, 0xF9, 0xC8, 0xC9, 0xCA, 0xCB, 0xEE, 0xEF, 0xFA, 0xFB, 0xFC, 0xD4, 0xD5 };
        mov_addr(e, 0, flat_target(e));
        mov_imm(e, 1, below(e, 2), 32);
        mov_imm(e, 2, 0, 32);
        EMIT(e, 0x0F, 0x01);
        e8(e, three[below(e, sizeof(three))]);   /* SWAPGS, RDTSCP, MONITOR, MWAIT, CLAC, STAC, ..., CLZERO */
        break;
    }
    case 6: { /* INVLPG, CLFLUSH, PREFETCH on odd memory */
        uint8_t op[2] = { 0x0F, 0x01 };
        mem_insn(e, op, 2, 7, 0, false);
        break;
    }
    case 7:   /* VMMCALL */
        mov_imm(e, 0, rnd(e), 32);
        EMIT(e, 0x0F, 0x01, 0xD9);
        break;
    case 8:   /* RDRAND, RDSEED, RDPID */
        e8(e, 0x0F);
        e8(e, 0xC7);
        e8(e, 0xF0 | below(e, 2) << 3 | below(e, 8));
        break;
    default:  /* LOCK on what cannot be locked, UD0/UD1 */
        if (chance(e, 2))
            EMIT(e, 0xF0, 0x90);
        else
            EMIT(e, 0x0F, 0xFF, 0xC0);
        break;
    }
}

static void gen_rand(struct em *e)
{
    for (uint64_t n = 1 + below(e, 8); n; n--)
        e8(e, rnd(e));
}

/* One item of a chunk, chosen among the enabled classes. */
void hf_insn_item(struct em *e)
{
    static const struct { uint32_t flag; unsigned weight; void (*gen)(struct em *); } classes[] = {
        { HF_MEM, 30, gen_mem },  { HF_STR, 8, gen_str },  { HF_IO, 14, gen_io },    { HF_CR, 6, gen_cr },
        { HF_CR8, 2, gen_cr8 },    { HF_DR, 4, gen_dr },    { HF_MSR, 6, gen_msr },   { HF_X87, 4, gen_x87 },
        { HF_SSE, 4, gen_sse },   { HF_DESC, 6, gen_desc }, { HF_SYS, 8, gen_sys },  { HF_RAND, 3, gen_rand },
    };
    unsigned total = 0;
    e->pre[0] = e->pre[1] = 0;
    for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        total += on(e, classes[i].flag) ? classes[i].weight : 0;
    if (!total) {
        EMIT(e, 0x90);
        return;
    }
    unsigned r = (unsigned)below(e, total);
    for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (!on(e, classes[i].flag))
            continue;
        if (r < classes[i].weight) {
            classes[i].gen(e);
            return;
        }
        r -= classes[i].weight;
    }
}

