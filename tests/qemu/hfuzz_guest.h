/* SPDX-License-Identifier: MIT */
/*
 * The hostile guest of one hfuzz case, built at run time: descriptor
 * tables, page tables and a fault handler for one CPU mode, then 64 chunks
 * of random instructions (tests/qemu/hfuzz_guest.c).  The VMM enters it
 * with VCPU_SET_STATE alone: no boot code runs in the guest.
 */
#ifndef HFUZZ_GUEST_H
#define HFUZZ_GUEST_H

#include "hfuzz.h"

#define HF_DR_TARGETS 32

struct hf_guest {
    /* in */
    uint8_t *ram;                 /* [0, G_RAM_SIZE) of guest-physical memory, mapped */
    enum hfuzz_mode mode;
    uint32_t flags;               /* enum hfuzz_flag */
    uint64_t rng;
    uint64_t dr_targets[HF_DR_TARGETS];  /* kernel and VMM addresses for breakpoints */
    unsigned ndr_targets;
    /* out: how the VMM enters it */
    bool ring3;                   /* the random code runs at CPL 3 */
    bool iopl3;
    unsigned tr_kind;             /* 0: the initial TR, 1: busy TSS, 2: available TSS */
    uint64_t cr0, cr4, efer;
    uint32_t chunk_off[G_CHUNKS]; /* chunk offsets from the body segment's base */
    uint32_t body_len;
    unsigned lock_bt_scrubbed;    /* LOCK BTx reg forms made harmless (hf_guest_scrub_lock_bt) */
};

struct hf_state {
    uint32_t id;
    uint64_t value;
};

/* Writes the guest into g->ram and fills the out fields. */
void hf_guest_build(struct hf_guest *g);
unsigned hf_guest_scrub_lock_bt(uint8_t *code, uint32_t len);

/* The RIP that starts chunk `chunk` (relative to CS's base, as the guest sees it). */
uint64_t hf_guest_chunk_rip(const struct hf_guest *g, unsigned chunk);

/* The complete entry state of VCPU `vcpu` at chunk `chunk`: up to 80 (id, value) pairs. */
unsigned hf_guest_state(const struct hf_guest *g, unsigned vcpu, unsigned chunk, uint64_t *rng,
                        struct hf_state *out);

#define HF_STATE_MAX 80

#endif
