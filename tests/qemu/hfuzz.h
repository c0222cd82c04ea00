/* SPDX-License-Identifier: MIT */
/*
 * The hostile-guest fuzzer, shared by its three programs:
 *   hfuzz  the first process: runs the cases, watches every CPU and the
 *          free-page count, and reports (tests/qemu/hfuzz.c);
 *   hvmm   one case: a hostile VMM that builds a random guest for one CPU
 *          mode and answers its exits with random state (tests/qemu/hvmm.c,
 *          guest code from tests/qemu/hfuzz_guest.c);
 *   hdm    the hostile device model of that case (tests/qemu/hdm.c).
 * Everything a case does follows from (seed, case number, flags): a case
 * replays with `init=hfuzz -- seed=S case=C` and the same flags.
 */
#ifndef HFUZZ_H
#define HFUZZ_H

#include <coco/coco.h>

/* What a case may do; "no-NAME" on the command line clears the bit. */
enum hfuzz_flag {
    HF_PFX   = 1u << 0,   /* random legacy and REX prefixes */
    HF_MEM   = 1u << 1,   /* MOV/ALU/... on MMIO, read-only RAM, unmapped memory */
    HF_STR   = 1u << 2,   /* MOVS/STOS/LODS/CMPS/SCAS, REP */
    HF_IO    = 1u << 3,   /* IN/OUT/INS/OUTS */
    HF_CR    = 1u << 4,   /* MOV CRn (CR0/CR3/CR4/CR8), CLTS, LMSW */
    HF_DR    = 1u << 5,   /* MOV DRn: breakpoints on kernel, VMM and guest addresses */
    HF_MSR   = 1u << 6,   /* RDMSR/WRMSR */
    HF_X87   = 1u << 7,   /* x87, unmasked exceptions, FWAIT */
    HF_SSE   = 1u << 8,   /* SSE, MXCSR, XSETBV, XSAVE */
    HF_DESC  = 1u << 9,   /* LGDT/LIDT/LTR/LLDT, segment loads, far transfers, INT n, IRET */
    HF_SYS   = 1u << 10,  /* CPUID, HLT, STI/CLI, SVM instructions, POPF with TF, ... */
    HF_RAND  = 1u << 11,  /* plain random bytes */
    HF_RING3 = 1u << 12,  /* the random code runs at CPL 3 in protected modes */
    HF_RO    = 1u << 13,  /* read-only guest RAM (without it those pages are writable) */
    HF_STATE = 1u << 14,  /* the VMM writes random state (VCPU_SET_STATE, run page) */
    HF_EVENT = 1u << 15,  /* the VMM queues random PENDING_EVENTs */
    HF_IRQ   = 1u << 16,  /* IRQ_INJECT of random vectors and NMIs, KICKs */
    HF_SLOT  = 1u << 17,  /* the device model scribbles on its slots */
    HF_CRASH = 1u << 18,  /* the device model dies mid-request */
    HF_MAP   = 1u << 19,  /* the VMM maps and unmaps guest pages while VCPUs run */
    HF_SMP   = 1u << 20,  /* two VCPUs */
    HF_CR8   = 1u << 21,  /* MOV CR8 (64-bit, and LOCK MOV CR0 elsewhere) */
    HF_EFER  = 1u << 22,  /* WRMSR EFER (the kernel applies it for the guest) */
    HF_SMC   = 1u << 23,  /* the random code's own pages are writable: self-modifying code.
                           * Off by default: it reaches a QEMU 7.2 abort no intercept can
                           * prevent (hf_guest_scrub_lock_bt) */
    HF_ALL   = (1u << 24) - 1,
    HF_DEFAULT = HF_ALL & ~HF_SMC,
};

static const struct { const char *name; uint32_t bit; } hfuzz_flag_names[] = {
    { "pfx", HF_PFX },     { "mem", HF_MEM },     { "str", HF_STR },     { "io", HF_IO },
    { "cr", HF_CR },       { "dr", HF_DR },       { "msr", HF_MSR },     { "x87", HF_X87 },
    { "sse", HF_SSE },     { "desc", HF_DESC },   { "sys", HF_SYS },     { "rand", HF_RAND },
    { "ring3", HF_RING3 }, { "ro", HF_RO },       { "state", HF_STATE }, { "event", HF_EVENT },
    { "irq", HF_IRQ },     { "slot", HF_SLOT },   { "crash", HF_CRASH }, { "map", HF_MAP },
    { "smp", HF_SMP },     { "cr8", HF_CR8 },     { "efer", HF_EFER },   { "smc", HF_SMC },
};

/* CPU modes of the guest; "modes=real,pae" picks some. */
enum hfuzz_mode { HM_REAL, HM_P16, HM_P32, HM_PG32, HM_PAE, HM_LONG, HM_COUNT };
static const char *const hfuzz_mode_names[HM_COUNT] = { "real", "p16", "p32", "pg32", "pae", "long" };
#define HM_ALL ((1u << HM_COUNT) - 1)

/* hvmm's exit statuses: what it saw go wrong (0 = nothing). */
enum hfuzz_status {
    HS_OK = 0,
    HS_SETUP = 2,        /* a syscall that must work failed while building the case */
    HS_WEDGED = 20,      /* VMRUN keeps failing after the VMM restored a state that ran */
    HS_LEAK = 21,        /* after a failed entry the VMM reads host (kernel) state */
    HS_RO_WRITTEN = 22,  /* the guest changed RAM mapped read-only into its VM */
    HS_DM_STUCK = 23,    /* the device model did not end */
    HS_VCPU_STUCK = 24,  /* a VCPU thread did not come back from the guest */
    HS_SYSCALL = 25,     /* WAIT on the VCPU failed unexpectedly */
};

/* Guest-physical layout of every case (identity: GPA = linear in flat modes). */
#define G_COUNTER   0x0500u    /* fault handler: chunk counter (32 bits) */
#define G_TABLE32   0x0600u    /* chunk offsets from the body segment's base, 32-bit */
#define G_TABLE16   0x0700u    /* the same, 16-bit (real mode) */
#define G_ZERO      0x0800u    /* 16 zero bytes: x87 control word with every exception unmasked */
#define G_GDT       0x1000u
#define G_IDT       0x2000u
#define G_TSS       0x3000u
#define G_HANDLER   0x4000u
#define G_PD32      0x5000u    /* 1024 4-MiB PSE entries */
#define G_PDPT_PAE  0x6000u
#define G_PD_PAE    0x7000u    /* 4 pages: 2-MiB entries for 4 GiB, shared with long mode */
#define G_PML4      0xB000u
#define G_PDPT_LONG 0xC000u
#define G_SCRATCH   0xD000u
#define G_STACK3    0xF000u    /* ring-3 stack top */
#define G_STACK0    0xFFF0u    /* ring-0 stack top (VCPU 0; VCPU 1 uses 0xF800) */
#define G_BODY      0x10000u   /* the random code, 64 KiB */
#define G_RAM_SIZE  0x20000u   /* RAM [0, 0x20000), RWX */
#define G_RO        0x20000u   /* 2 read-only pages */
#define G_RO_SIZE   0x2000u
#define G_HOLE      0x22000u   /* unmapped up to 0x30000: MMIO exits to the VMM */
#define G_MMIO_A    0x30000u   /* the device model's MMIO range A (2 pages) */
#define G_MMIO_A_LEN 0x2000u
#define G_MMIO_B    0xC0000000u /* range B (1 page), beyond 16-bit reach */
#define G_MMIO_B_LEN 0x1000u
#define G_HOTPLUG   0x28000u   /* the hostile VMM maps/unmaps a page here */
#define G_PORT_A    0x3F8u     /* device model ports: 8 at A, 16 at B */
#define G_PORT_B    0x60u
#define G_CHUNKS    64u        /* chunks of random code (power of two) */

/* GDT selectors. */
#define SEL_CODE32  0x08
#define SEL_DATA32  0x10
#define SEL_CODE16  0x18
#define SEL_DATA16  0x20
#define SEL_CODE64  0x28
#define SEL_TSS     0x30
#define SEL_CODE32_3 0x43
#define SEL_DATA32_3 0x4B
#define SEL_CODE64_3 0x53
#define SEL_CODE16_3 0x5B
#define SEL_DS16    0x60       /* base G_RO */
#define SEL_FS16    0x68       /* base G_MMIO_A */
#define SEL_GS16    0x70       /* base G_SCRATCH */
#define SEL_SS16_3  0x7B
#define SEL_ES16    0x80       /* base G_HOLE: ES without HF_RO */

/* xorshift64*: one generator per thread of a case. */
static inline uint64_t hf_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t hf_below(uint64_t *s, uint64_t n) { return n ? hf_next(s) % n : 0; }
static inline bool hf_chance(uint64_t *s, unsigned one_in) { return hf_below(s, one_in) == 0; }

/* splitmix64: independent streams from (seed, case, purpose). */
static inline uint64_t hf_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x ? x : 1;
}

static inline uint64_t hf_case_seed(uint64_t seed, uint64_t index, uint64_t purpose)
{
    return hf_mix(hf_mix(seed) ^ hf_mix(index * 0x100 + purpose));
}

static inline uint64_t hf_now(void) { return (uint64_t)coco_clock(); }

#define HF_MS 1000000ull

#endif
