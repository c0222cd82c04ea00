/* SPDX-License-Identifier: MIT */
/*
 * The byte emitter the hostile guest is written with (hfuzz_guest.c for the
 * fixed parts, hfuzz_insn.c for the random code).
 */
#ifndef HFUZZ_EMIT_H
#define HFUZZ_EMIT_H

#include "hfuzz_guest.h"

struct em {
    uint8_t *buf;        /* guest RAM at the body */
    uint32_t pos, limit;
    int bits;            /* 16, 32, 64: the code size */
    struct hf_guest *g;
    uint8_t pre[2];      /* operand-size or mandatory prefixes of the next mem_insn() */
};

static inline uint64_t rnd(struct em *e) { return hf_next(&e->g->rng); }
static inline uint64_t below(struct em *e, uint64_t n) { return hf_below(&e->g->rng, n); }
static inline bool chance(struct em *e, unsigned n) { return hf_chance(&e->g->rng, n); }
static inline bool on(struct em *e, uint32_t flag) { return (e->g->flags & flag) != 0; }

static inline void e8(struct em *e, uint64_t b)
{
    if (e->pos < e->limit)
        e->buf[e->pos] = (uint8_t)b;
    e->pos++;
}

static inline void en(struct em *e, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        e8(e, v >> (8 * i));
}

static inline void ebytes(struct em *e, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        e8(e, b[i]);
}

#define EMIT(e, ...)                                                   \
    do {                                                               \
        static const uint8_t b_[] = { __VA_ARGS__ };                   \
        ebytes((e), b_, sizeof(b_));                                   \
    } while (0)

/* One random instruction (with its set-up) of an enabled class (hfuzz_insn.c). */
void hf_insn_item(struct em *e);

#endif
