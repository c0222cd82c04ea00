/* SPDX-License-Identifier: MIT */
/*
 * Guest x87/SSE/AVX state (issue 9 item 1).  The guest enables SSE, and
 * XSAVE and AVX when CPUID offers them, checks what XSETBV and CPUID do as
 * hardware would, then fills XMM0-15 (all of YMM0-15 with AVX), MXCSR, the
 * x87 control word and an x87 register with a pattern derived from its
 * command line and exits to the VMM (CPUID) ROUNDS times, checking after
 * every exit that every register is intact.  qemu.fpu_isolation_* runs two
 * such VMs, in two VMM processes, whose VCPU 0 share physical CPU 0
 * (tests/qemu/multivm.c): each checks that the other never shows through.
 *
 * cmdline: the pattern, a hex number (e.g. "a5").  On plain QEMU
 * (-cpu EPYC -kernel fpu.elf) every check passes the same way.
 */
#include "guest.h"

#define CR0_MP         (1ull << 1)
#define CR0_EM         (1ull << 2)
#define CR0_TS         (1ull << 3)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE    (1ull << 18)
#define CPUID1_XSAVE   (1u << 26)
#define CPUID1_OSXSAVE (1u << 27)
#define CPUID1_AVX     (1u << 28)
#define ROUNDS         20000u

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

static uint8_t want[16][32] __attribute__((aligned(32)));
static uint8_t got[16][32] __attribute__((aligned(32)));
static uint16_t want_fcw;
static uint32_t want_mxcsr;
static int64_t want_st0;
static bool avx, xsave_on;
static volatile unsigned faults[32];

#define CR_ACCESSORS(n)                                                                        \
    static uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
CR_ACCESSORS(0)
CR_ACCESSORS(4)

static uint64_t xgetbv(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* XSETBV is 0F 01 D1: the fault handlers step over its 3 bytes. */
static void on_fault(struct guest_frame *f)
{
    faults[f->vector]++;
    f->rip += 3;
}

/* The vector XSETBV raised (0 if none). */
static unsigned xsetbv(uint32_t index, uint64_t value)
{
    unsigned gp = faults[13], ud = faults[6];
    __asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
    return faults[13] != gp ? 13 : faults[6] != ud ? 6 : 0;
}

static bool cpuid_osxsave(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    return r[2] & CPUID1_OSXSAVE;
}

#define X16(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) \
                op(8) op(9) op(10) op(11) op(12) op(13) op(14) op(15)
#define LOAD_XMM(i)  "movdqu " #i "*32(%0), %%xmm" #i "\n\t"
#define STORE_XMM(i) "movdqu %%xmm" #i ", " #i "*32(%0)\n\t"
#define LOAD_YMM(i)  "vmovdqu " #i "*32(%0), %%ymm" #i "\n\t"
#define STORE_YMM(i) "vmovdqu %%ymm" #i ", " #i "*32(%0)\n\t"

static void regs_store(void)
{
    memset(got, 0, sizeof got);
    if (avx)
        __asm__ volatile(X16(STORE_YMM) : : "r"(got) : "memory");
    else
        __asm__ volatile(X16(STORE_XMM) : : "r"(got) : "memory");
}

static void regs_load(void)
{
    if (avx)
        __asm__ volatile(X16(LOAD_YMM) : : "r"(want) : "memory");
    else
        __asm__ volatile(X16(LOAD_XMM) : : "r"(want) : "memory");
    __asm__ volatile("fninit; fldcw %0; fildll %1; ldmxcsr %2"
                     : : "m"(want_fcw), "m"(want_st0), "m"(want_mxcsr) : "memory");
}

/* 0 if every register holds the pattern; else a bit per kind that differs. */
static unsigned regs_check(void)
{
    uint16_t fcw, fsw;
    uint32_t mxcsr;
    int64_t st0;
    unsigned bad = 0;
    regs_store();
    __asm__ volatile("fnstcw %0; fnstsw %1; stmxcsr %2; fld %%st(0); fistpll %3"
                     : "=m"(fcw), "=m"(fsw), "=m"(mxcsr), "=m"(st0) : : "memory");
    for (unsigned i = 0; i < 16; i++)
        if (memcmp(got[i], want[i], avx ? 32 : 16))
            bad |= 1;
    if (fcw != want_fcw || mxcsr != want_mxcsr)
        bad |= 2;
    if (st0 != want_st0 || ((fsw >> 11) & 7) != 7)   /* one value on the stack: TOP = 7 */
        bad |= 4;
    return bad;
}

static uint64_t parse_hex(const char *s)
{
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
                   : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10) : 16;
        if (d == 16)
            break;
        v = v * 16 + d;
    }
    return v;
}

/* XSETBV and CPUID's OSXSAVE, as hardware does them.  Leaves XCR0 at
 * x87|SSE|AVX (or x87|SSE) with CR4.OSXSAVE set. */
static void check_xsave(void)
{
    uint32_t r[4], leaf1[4];
    cpuid(1, 0, leaf1);
    CHECK("CPUID.1:ECX.OSXSAVE clear while CR4.OSXSAVE is clear", !cpuid_osxsave());
    if (!(leaf1[2] & CPUID1_XSAVE)) {
        guest_print("no XSAVE in CPUID: SSE only\n");
        return;
    }
    CHECK_EQ("XSETBV with CR4.OSXSAVE clear raises #UD", xsetbv(0, 3), 6);
    write_cr4(read_cr4() | CR4_OSXSAVE);
    CHECK("CPUID.1:ECX.OSXSAVE set with CR4.OSXSAVE", cpuid_osxsave());
    CHECK_EQ("XCR0 starts at 1 (x87)", xgetbv(), 1);
    cpuid(0xd, 0, r);
    uint64_t supported = (uint64_t)r[3] << 32 | r[0];
    guest_printf("CPUID.0xD.0: XCR0 may be 0x%llx; AVX in CPUID.1: %s\n",
                 (unsigned long long)supported, leaf1[2] & CPUID1_AVX ? "yes" : "no");
    CHECK("CPUID.0xD.0 offers x87 and SSE", (supported & 3) == 3);
    CHECK("CPUID.0xD.0 offers AVX exactly when CPUID.1 does",
          !(supported & 4) == !(leaf1[2] & CPUID1_AVX));
    CHECK_EQ("XSETBV with ECX = 1 raises #GP", xsetbv(1, 3), 13);
    CHECK_EQ("XSETBV without x87 raises #GP", xsetbv(0, 2), 13);
    CHECK_EQ("XSETBV of 0 raises #GP", xsetbv(0, 0), 13);
    CHECK_EQ("XSETBV of AVX without SSE raises #GP", xsetbv(0, 5), 13);
    CHECK_EQ("XSETBV of a bit CPUID does not offer raises #GP", xsetbv(0, supported | 1ull << 63), 13);
    CHECK_EQ("XCR0 unchanged by the refused XSETBVs", xgetbv(), 1);
    CHECK_EQ("XSETBV of x87|SSE", xsetbv(0, 3), 0);
    CHECK_EQ("XGETBV gives x87|SSE", xgetbv(), 3);
    cpuid(0xd, 0, r);
    CHECK_EQ("CPUID.0xD.0 EBX: 576-byte area for x87|SSE", r[1], 576);
    if ((supported & 4) && (leaf1[2] & CPUID1_AVX)) {
        CHECK_EQ("XSETBV of x87|SSE|AVX", xsetbv(0, 7), 0);
        CHECK_EQ("XGETBV gives x87|SSE|AVX", xgetbv(), 7);
        cpuid(0xd, 0, r);
        CHECK_EQ("CPUID.0xD.0 EBX: 832-byte area with AVX", r[1], 832);
        avx = xgetbv() == 7;
    }
    write_cr4(read_cr4() & ~CR4_OSXSAVE);
    CHECK("CPUID.1:ECX.OSXSAVE follows CR4 back to clear", !cpuid_osxsave());
    write_cr4(read_cr4() | CR4_OSXSAVE);
    CHECK("CPUID.1:ECX.OSXSAVE set again", cpuid_osxsave());
    xsave_on = true;
}

int guest_main(unsigned cpu, uint32_t info_gpa)
{
    const struct mb_info *info = (const struct mb_info *)(uintptr_t)info_gpa;
    const char *tag = info_gpa && (info->flags & 4) ? (const char *)(uintptr_t)info->cmdline : "1";
    uint64_t seed = parse_hex(tag);
    uint32_t r[4];

    guest_printf("fpu guest '%s' on vcpu %u\n", tag, cpu);
    idt_init();
    idt_set_handler(6, on_fault);
    idt_set_handler(13, on_fault);

    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    regs_store();
    uint32_t mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    bool zero = true;
    for (unsigned i = 0; i < 16; i++)
        for (unsigned b = 0; b < 16; b++)
            zero &= got[i][b] == 0;
    CHECK("XMM0-15 start zeroed (no one else's state)", zero);
    CHECK_EQ("MXCSR starts at 0x1f80", mxcsr, 0x1f80);

    check_xsave();

    for (unsigned i = 0; i < 16; i++)
        for (unsigned q = 0; q < 4; q++) {
            uint64_t v = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(i * 4 + q + 1) * 0x0101010101010101ull;
            memcpy(&want[i][q * 8], &v, 8);
        }
    want_fcw = (uint16_t)(0x7f | (seed & 0xf) << 8);          /* precision and rounding control */
    want_mxcsr = (uint32_t)(0x1f80 | (seed & 3) << 13);        /* rounding control */
    want_st0 = (int64_t)(seed * 1000003 + 17);
    regs_load();
    CHECK_EQ("registers hold the pattern before any exit", regs_check(), 0);

    /* A round trip longer than 0.3 ms: another thread (the other VM) ran.
     * TSC kHz from the VMM's leaf 0x4000_0010 (none on plain QEMU). */
    cpuid(0x40000000, 0, r);
    uint32_t khz = 0;
    if (r[0] >= 0x40000010u) {
        cpuid(0x40000010, 0, r);
        khz = r[0];
    }
    uint64_t slow = khz ? (uint64_t)khz * 3 / 10 : 1000000;
    unsigned bad_rounds = 0, bad_kinds = 0, gaps = 0;
    for (unsigned round = 0; round < ROUNDS; round++) {
        uint64_t t0 = rdtsc();
        cpuid(0, 0, r);   /* an exit to the VMM, in user space */
        gaps += rdtsc() - t0 > slow;
        unsigned bad = regs_check();
        if (bad) {
            if (!bad_rounds)
                guest_printf("round %u: registers changed (kinds 0x%x); ymm0 now %016llx\n", round, bad,
                             (unsigned long long)*(uint64_t *)got[0]);
            bad_rounds++;
            bad_kinds |= bad;
            regs_load();
        }
    }
    guest_printf("fpu '%s': %u rounds, %u of them slow (another thread ran), %u with changed registers\n",
                 tag, ROUNDS, gaps, bad_rounds);
    CHECK_EQ("XMM/YMM registers intact after every exit", bad_kinds & 1, 0);
    CHECK_EQ("MXCSR and the x87 control word intact after every exit", bad_kinds & 2, 0);
    CHECK_EQ("x87 register stack intact after every exit", bad_kinds & 4, 0);
    if (xsave_on)
        CHECK_EQ("XCR0 intact", xgetbv(), avx ? 7 : 3);
    return guest_finish();
}
