/* SPDX-License-Identifier: MIT */
/*
 * The hostile guest: system structures for one CPU mode and random code.
 *
 * Layout (hfuzz.h): the IVT or IDT sends every vector to one handler that
 * resets the stack, bumps a counter in guest RAM and jumps (far return) to
 * the chunk the counter names, so a fault resumes the guest at the next
 * chunk instead of ending the case.  A triple fault (the handler's own
 * structures scribbled on, a junk IDTR) is a SHUTDOWN exit, which the VMM
 * serves like any other.  The random code itself comes from hfuzz_insn.c.
 */
#include "hfuzz_emit.h"

/* ---- system structures ---- */

static void put16(uint8_t *p, uint64_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint64_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }

static void build_gdt(uint8_t *gdt)
{
    static const uint64_t desc[] = {
        [SEL_CODE32 / 8] = 0x00CF9B000000FFFFull, [SEL_DATA32 / 8] = 0x00CF93000000FFFFull,
        [SEL_CODE16 / 8] = 0x00009B010000FFFFull, [SEL_DATA16 / 8] = 0x000093000000FFFFull,
        [SEL_CODE64 / 8] = 0x00AF9B000000FFFFull, [SEL_TSS / 8] = 0x0000890030000067ull,
        [SEL_CODE32_3 / 8] = 0x00CFFB000000FFFFull, [SEL_DATA32_3 / 8] = 0x00CFF3000000FFFFull,
        [SEL_CODE64_3 / 8] = 0x00AFFB000000FFFFull, [SEL_CODE16_3 / 8] = 0x0000FB010000FFFFull,
        [SEL_DS16 / 8] = 0x000093020000FFFFull,   [SEL_FS16 / 8] = 0x000093030000FFFFull,
        [SEL_GS16 / 8] = 0x00009300D000FFFFull,   [SEL_SS16_3 / 8] = 0x0000F3000000FFFFull,
        [SEL_ES16 / 8] = 0x000093022000FFFFull,
    };
    for (unsigned i = 0; i < sizeof(desc) / 8; i++)
        put64(gdt + 8 * i, desc[i]);
}

static void build_paging(uint8_t *ram)
{
    for (unsigned i = 0; i < 1024; i++)   /* 4-MiB pages, P RW US A D PS */
        put32(ram + G_PD32 + 4 * i, (uint64_t)i << 22 | 0xE7);
    for (unsigned i = 0; i < 4; i++) {
        put64(ram + G_PDPT_PAE + 8 * i, (G_PD_PAE + 0x1000ull * i) | 1);
        put64(ram + G_PDPT_LONG + 8 * i, (G_PD_PAE + 0x1000ull * i) | 0x27);
    }
    for (unsigned i = 0; i < 2048; i++)   /* 2-MiB pages for 4 GiB */
        put64(ram + G_PD_PAE + 8 * i, (uint64_t)i << 21 | 0xE7);
    put64(ram + G_PML4, G_PDPT_LONG | 0x27);
}

/* The handler every vector reaches: next chunk, fresh stack. */
static void build_handler(struct hf_guest *g)
{
    struct em h = { .buf = g->ram + G_HANDLER, .limit = 0x1000, .g = g };
    struct em *e = &h;
    if (g->mode == HM_REAL) {
        EMIT(e, 0x31, 0xC0, 0x8E, 0xD0, 0xBC);          /* xor ax,ax; mov ss,ax; mov sp, */
        en(e, G_STACK0, 2);
        EMIT(e, 0x36, 0xA1); en(e, G_COUNTER, 2);       /* mov ax, ss:[counter] */
        EMIT(e, 0x40, 0x36, 0xA3); en(e, G_COUNTER, 2); /* inc ax; mov ss:[counter], ax */
        EMIT(e, 0x83, 0xE0, G_CHUNKS - 1, 0xD1, 0xE0, 0x89, 0xC3); /* and ax,63; shl ax,1; mov bx,ax */
        EMIT(e, 0x36, 0x8B, 0x87); en(e, G_TABLE16, 2);  /* mov ax, ss:[bx+table16] */
        EMIT(e, 0x68, 0x00, 0x10, 0x50, 0xCB);          /* push 0x1000; push ax; retf */
        return;
    }
    if (g->mode == HM_LONG) {
        EMIT(e, 0x48, 0xC7, 0xC4); en(e, G_STACK0, 4);  /* mov rsp, stack */
        EMIT(e, 0x8B, 0x04, 0x25); en(e, G_COUNTER, 4); /* mov eax, [counter] */
        EMIT(e, 0xFF, 0xC0, 0x89, 0x04, 0x25); en(e, G_COUNTER, 4);
        EMIT(e, 0x83, 0xE0, G_CHUNKS - 1, 0x8B, 0x04, 0x85); en(e, G_TABLE32, 4);
        if (g->ring3) {
            EMIT(e, 0x6A, SEL_DATA32_3, 0x68); en(e, G_STACK3, 4);
            EMIT(e, 0x6A, SEL_CODE64_3);
        } else {
            EMIT(e, 0x6A, SEL_CODE64);
        }
        EMIT(e, 0x50, 0x48, 0xCB);                      /* push rax; retfq */
        return;
    }
    EMIT(e, 0xFC, 0x66, 0xB8, SEL_DATA32, 0x00, 0x8E, 0xD0, 0xBC); /* cld; mov ax, data; mov ss, ax; mov esp, */
    en(e, G_STACK0, 4);
    EMIT(e, 0x36, 0xA1); en(e, G_COUNTER, 4);
    EMIT(e, 0x40, 0x36, 0xA3); en(e, G_COUNTER, 4);
    EMIT(e, 0x83, 0xE0, G_CHUNKS - 1, 0x36, 0x8B, 0x04, 0x85); en(e, G_TABLE32, 4);
    bool b16 = g->mode == HM_P16;
    if (g->ring3) {
        EMIT(e, 0x6A); e8(e, b16 ? SEL_SS16_3 : SEL_DATA32_3);
        EMIT(e, 0x68); en(e, G_STACK3, 4);
        EMIT(e, 0x6A); e8(e, b16 ? SEL_CODE16_3 : SEL_CODE32_3);
    } else {
        EMIT(e, 0x6A); e8(e, b16 ? SEL_CODE16 : SEL_CODE32);
    }
    EMIT(e, 0x50, 0xCB);                                /* push eax; retf */
}

static void build_idt(struct hf_guest *g)
{
    uint8_t *idt = g->ram + G_IDT;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t type = hf_chance(&g->rng, 2) ? 0xEE : 0x8E;   /* DPL 3 for half: INT n from ring 3 */
        if (g->mode == HM_REAL) {
            put16(g->ram + 4 * v, G_HANDLER);
            put16(g->ram + 4 * v + 2, 0);
        } else {
            bool long64 = g->mode == HM_LONG;   /* 16-byte gates, upper offset 0 */
            uint8_t *d = idt + (long64 ? 16 : 8) * v;
            put16(d, G_HANDLER);
            put16(d + 2, long64 ? SEL_CODE64 : SEL_CODE32);
            d[4] = 0;
            d[5] = type;
            put16(d + 6, 0);
            if (long64)
                put64(d + 8, 0);
        }
    }
}

uint64_t hf_guest_chunk_rip(const struct hf_guest *g, unsigned chunk)
{
    uint64_t off = g->chunk_off[chunk % G_CHUNKS];
    return g->mode == HM_REAL || g->mode == HM_P16 ? off : G_BODY + off;
}

/*
 * QEMU 7.2's translator takes LOCK BT/BTS/BTR/BTC with a register operand
 * (0F A3/AB/B3/BB, 0F BA /4-7, mod = 3) as if it had a memory operand: it
 * uses an address temporary nothing in the instruction computed
 * (target/i386/tcg/translate.c, `bt_op`).  When no earlier instruction of
 * the same translation block set it, QEMU aborts ("tcg/tcg.c:3243: tcg fatal
 * error"); otherwise the guest does an atomic read-modify-write at a stale
 * guest address.  Hardware raises #UD.  No SVM intercept exists for it, so
 * the kernel cannot keep a guest from it under QEMU; the fuzzer leaves it
 * out (README, "Known limits of the QEMU host").  The body is scanned at
 * every byte offset, as a jump into the middle of an instruction decodes
 * from there, and the LOCK of each such form becomes a DS prefix.  Returns
 * how many it changed.
 */
unsigned hf_guest_scrub_lock_bt(uint8_t *code, uint32_t len)
{
    unsigned changed = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (code[i] != 0xF0)
            continue;
        uint32_t j = i + 1;
        while (j < len && (code[j] == 0xF0 || code[j] == 0xF2 || code[j] == 0xF3 || code[j] == 0x26 ||
                           code[j] == 0x2E || code[j] == 0x36 || code[j] == 0x3E || code[j] == 0x64 ||
                           code[j] == 0x65 || code[j] == 0x66 || code[j] == 0x67 || (code[j] & 0xF0) == 0x40))
            j++;
        if (j + 2 >= len || code[j] != 0x0F || (code[j + 2] & 0xC0) != 0xC0)
            continue;
        uint8_t op = code[j + 1];
        if (op == 0xA3 || op == 0xAB || op == 0xB3 || op == 0xBB || op == 0xBA) {
            code[i] = 0x3E;
            changed++;
        }
    }
    return changed;
}

void hf_guest_build(struct hf_guest *g)
{
    uint64_t *rng = &g->rng;
    memset(g->ram, 0, G_RAM_SIZE);
    g->ring3 = g->mode != HM_REAL && (g->flags & HF_RING3) && hf_chance(rng, 3);
    g->iopl3 = g->ring3 && !hf_chance(rng, 4);
    /* QEMU 7.2 caches TR with the type LTR read (available) and aborts
     * ("invalid tss type") on a stack switch through a busy one, which is
     * what a VMCB holds after VMRUN takes the type as given (issue 13, item
     * 6): busy types only with HF_RING3. */
    g->tr_kind = (g->flags & HF_RING3) ? (unsigned)hf_below(rng, 3) : 2;
    static const uint64_t cr0[HM_COUNT] = { 0x10, 0x11, 0x11, 0x80000011, 0x80000011, 0x80000011 };
    static const uint64_t cr4[HM_COUNT] = { 0, 0, 0, 0x10, 0x20, 0x20 };
    g->cr0 = cr0[g->mode];
    /* NE: x87 errors as #MF; without it FERR#, which QEMU 7.2 raises without
     * its lock (issue 13, item 6): NE clear only with HF_X87. */
    if (!(g->flags & HF_X87) || hf_chance(rng, 2))
        g->cr0 |= 1u << 5;
    if (hf_chance(rng, 3))
        g->cr0 |= 1u << 16;   /* WP */
    if (hf_chance(rng, 4))
        g->cr0 |= 1u << 1;    /* MP */
    g->cr4 = cr4[g->mode];
    if (hf_chance(rng, 2))
        g->cr4 |= 0x600;      /* OSFXSR, OSXMMEXCPT */
    if (hf_chance(rng, 4))
        g->cr4 |= 1u << 18;   /* OSXSAVE */
    if (hf_chance(rng, 6))
        g->cr4 |= 1u << 3;    /* DE */
    g->efer = g->mode == HM_LONG ? 0x500 | (hf_chance(rng, 2) ? 0x800 : 0) | (hf_chance(rng, 2) ? 1 : 0) : 0;
    if (g->mode == HM_PAE && hf_chance(rng, 2))
        g->efer |= 0x800;     /* NXE */

    build_gdt(g->ram + G_GDT);
    build_paging(g->ram);
    build_idt(g);
    build_handler(g);
    uint8_t *tss = g->ram + G_TSS;
    if (g->mode == HM_LONG) {
        put64(tss + 4, G_STACK0);
    } else {
        put32(tss + 4, G_STACK0);
        put32(tss + 8, SEL_DATA32);
    }
    put16(tss + 0x66, 0x68);

    struct em body = { .buf = g->ram + G_BODY, .limit = G_RAM_SIZE - G_BODY - 16, .g = g };
    body.bits = g->mode == HM_LONG ? 64 : g->mode <= HM_P16 ? 16 : 32;
    for (unsigned c = 0; c < G_CHUNKS; c++) {
        g->chunk_off[c] = body.pos;
        for (uint64_t n = 1 + hf_below(rng, 4); n; n--)
            hf_insn_item(&body);
        if (body.pos > body.limit - 256)
            body.pos = g->chunk_off[c];   /* no room: an empty chunk */
    }
    EMIT(&body, 0x0F, 0x0B);   /* UD2: the handler goes on with the next chunk */
    g->body_len = body.pos;
    g->lock_bt_scrubbed = hf_guest_scrub_lock_bt(body.buf, body.pos);
    for (unsigned c = 0; c < G_CHUNKS; c++) {
        uint64_t rip = hf_guest_chunk_rip(g, c);
        put32(g->ram + G_TABLE32 + 4 * c, rip);
        put16(g->ram + G_TABLE16 + 2 * c, rip);
    }
}

/* ---- entry state ---- */

static void seg(struct hf_state *s, unsigned *n, unsigned which, uint64_t sel, uint64_t base, uint64_t limit,
                uint64_t attr)
{
    s[(*n)++] = (struct hf_state){ COPRA_STATE_SEG(which, COPRA_SEG_SEL), sel };
    s[(*n)++] = (struct hf_state){ COPRA_STATE_SEG(which, COPRA_SEG_BASE), base };
    s[(*n)++] = (struct hf_state){ COPRA_STATE_SEG(which, COPRA_SEG_LIMIT), limit };
    s[(*n)++] = (struct hf_state){ COPRA_STATE_SEG(which, COPRA_SEG_ATTR), attr };
}

unsigned hf_guest_state(const struct hf_guest *g, unsigned vcpu, unsigned chunk, uint64_t *rng,
                        struct hf_state *s)
{
    unsigned n = 0;
    uint64_t stack = vcpu ? 0xF800 : G_STACK0;
    for (unsigned r = 0; r < 16; r++)
        s[n++] = (struct hf_state){ COPRA_STATE_GPR0 + r, r == COPRA_RSP ? (g->ring3 ? G_STACK3 - 0x400 * vcpu : stack)
                                                          : hf_next(rng) & (hf_chance(rng, 2) ? 0xFFFF : ~0ull) };
    uint64_t rflags = 2 | (hf_chance(rng, 2) ? 0x200 : 0) | (g->iopl3 ? 0x3000 : 0);
    s[n++] = (struct hf_state){ COPRA_STATE_RIP, hf_guest_chunk_rip(g, chunk) };
    s[n++] = (struct hf_state){ COPRA_STATE_RFLAGS, rflags };
    s[n++] = (struct hf_state){ COPRA_STATE_CR0, g->cr0 };
    s[n++] = (struct hf_state){ COPRA_STATE_CR2, 0 };
    s[n++] = (struct hf_state){ COPRA_STATE_CR3, g->mode == HM_PG32 ? G_PD32 : g->mode == HM_PAE ? G_PDPT_PAE
                                                 : g->mode == HM_LONG ? G_PML4 : 0 };
    s[n++] = (struct hf_state){ COPRA_STATE_CR4, g->cr4 };
    s[n++] = (struct hf_state){ COPRA_STATE_EFER, g->efer };
    s[n++] = (struct hf_state){ COPRA_STATE_GDTR_BASE, G_GDT };
    s[n++] = (struct hf_state){ COPRA_STATE_GDTR_LIMIT, 0xFF };
    s[n++] = (struct hf_state){ COPRA_STATE_IDTR_BASE, g->mode == HM_REAL ? 0 : G_IDT };
    s[n++] = (struct hf_state){ COPRA_STATE_IDTR_LIMIT, g->mode == HM_REAL ? 0x3FF : g->mode == HM_LONG ? 0xFFF : 0x7FF };
    s[n++] = (struct hf_state){ COPRA_STATE_PAT, 0x0007040600070406ull };
    s[n++] = (struct hf_state){ COPRA_STATE_PENDING_EVENT, 0 };
    switch (g->mode) {
    case HM_REAL:
        seg(s, &n, COPRA_CS, G_BODY >> 4, G_BODY, 0xFFFF, 0x09B);
        seg(s, &n, COPRA_SS, 0, 0, 0xFFFF, 0x093);
        seg(s, &n, COPRA_DS, G_RO >> 4, G_RO, 0xFFFF, 0x093);
        if (g->flags & HF_RO)
            seg(s, &n, COPRA_ES, G_RO >> 4, G_RO, 0xFFFF, 0x093);
        else
            seg(s, &n, COPRA_ES, G_HOLE >> 4, G_HOLE, 0xFFFF, 0x093);
        seg(s, &n, COPRA_FS, G_MMIO_A >> 4, G_MMIO_A, 0xFFFF, 0x093);
        seg(s, &n, COPRA_GS, G_SCRATCH >> 4, G_SCRATCH, 0xFFFF, 0x093);
        break;
    case HM_P16:
        if (g->ring3) {
            seg(s, &n, COPRA_CS, SEL_CODE16_3, G_BODY, 0xFFFF, 0x0FB);
            seg(s, &n, COPRA_SS, SEL_SS16_3, 0, 0xFFFF, 0x0F3);
        } else {
            seg(s, &n, COPRA_CS, SEL_CODE16, G_BODY, 0xFFFF, 0x09B);
            seg(s, &n, COPRA_SS, SEL_DATA16, 0, 0xFFFF, 0x093);
        }
        seg(s, &n, COPRA_DS, SEL_DS16, G_RO, 0xFFFF, 0x093);
        if (g->flags & HF_RO)
            seg(s, &n, COPRA_ES, SEL_DS16, G_RO, 0xFFFF, 0x093);
        else
            seg(s, &n, COPRA_ES, SEL_ES16, G_HOLE, 0xFFFF, 0x093);
        seg(s, &n, COPRA_FS, SEL_FS16, G_MMIO_A, 0xFFFF, 0x093);
        seg(s, &n, COPRA_GS, SEL_GS16, G_SCRATCH, 0xFFFF, 0x093);
        break;
    default: {
        bool l = g->mode == HM_LONG;
        if (g->ring3) {
            seg(s, &n, COPRA_CS, l ? SEL_CODE64_3 : SEL_CODE32_3, 0, 0xFFFFFFFF, l ? 0xAFB : 0xCFB);
            seg(s, &n, COPRA_SS, SEL_DATA32_3, 0, 0xFFFFFFFF, 0xCF3);
        } else {
            seg(s, &n, COPRA_CS, l ? SEL_CODE64 : SEL_CODE32, 0, 0xFFFFFFFF, l ? 0xA9B : 0xC9B);
            seg(s, &n, COPRA_SS, SEL_DATA32, 0, 0xFFFFFFFF, 0xC93);
        }
        for (unsigned r = 0; r < 4; r++) {
            static const uint8_t segs[] = { COPRA_DS, COPRA_ES, COPRA_FS, COPRA_GS };
            seg(s, &n, segs[r], g->ring3 ? SEL_DATA32_3 : SEL_DATA32, 0, 0xFFFFFFFF, g->ring3 ? 0xCF3 : 0xC93);
        }
        break;
    }
    }
    if (g->tr_kind == 0)
        seg(s, &n, COPRA_TR, 0, 0, 0xFFFF, 0x08B);
    else
        seg(s, &n, COPRA_TR, SEL_TSS, G_TSS, 0x67, g->tr_kind == 1 ? 0x08B : 0x089);
    seg(s, &n, COPRA_LDTR, 0, 0, 0xFFFF, 0x082);
    return n;
}
