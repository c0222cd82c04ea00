/* SPDX-License-Identifier: MIT */
/*
 * Guest x87/SSE/AVX state (fpu.h).  Each VCPU owns an XSAVE area; a CPU's
 * registers belong to `owner[cpu]`, the VCPU that entered there last, and
 * are saved to its area only when another VCPU enters (lazily: a VCPU that
 * exits to its VMM and re-enters costs nothing).  CR0.TS stays set in the
 * host, so no process can read or change what the registers hold.  The
 * guest's XCR0 is loaded just for VMRUN, as KVM does (VMRUN does not switch
 * it); XSAVE and XRSTOR always run under the host's XCR0, the union of every
 * guest's.
 */
#include "virt/fpu.h"
#include "virt/vcpu.h"
#include "core/heap.h"
#include "core/spinlock.h"
#include "core/string.h"

#define CR0_MP         (1u << 1)
#define CR0_TS         (1u << 3)
#define CR4_OSFXSR     (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE    (1u << 18)
#define XCR0_X87       1u
#define XCR0_SSE       2u
#define XCR0_AVX       4u

static uint64_t host_xcr0;   /* 0: no XSAVE (FXSAVE then) */
static unsigned ymm_offset;  /* of the AVX component (YMM_Hi128) in the XSAVE area */
/* owner[i] is read without the lock only on CPU i, which alone sets it;
 * the lock keeps a VCPU's destruction from freeing an area being saved. */
static struct vcpu *owner[COPRA_CPUS_MAX];
static struct spinlock owner_lock[COPRA_CPUS_MAX];

static inline void xsetbv0(uint64_t v) { __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void fpu_cpu_init(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    bool xsave = r[2] & (1u << 26);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | (xsave ? CR4_OSXSAVE : 0));
    /* TS: every x87/MMX/SSE instruction of a process raises #NM (kills it);
     * MP: so does WAIT. */
    write_cr0(read_cr0() | CR0_MP | CR0_TS);
    if (xsave) {
        cpuid(0xD, 0, r);
        host_xcr0 = r[0] & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
        xsetbv0(host_xcr0);
        cpuid(0xD, 2, r);
        ymm_offset = r[1];
    }
}

int fpu_vcpu_init(struct vcpu *v)
{
    uint64_t pa = page_alloc(1, 1);   /* zeroed: XSTATE_BV 0, every component in its init state */
    if (!pa)
        return COPRA_ENOMEM;
    uint8_t *area = v->fpu.area = phys_to_virt(pa);
    *(uint16_t *)area = 0x37F;          /* FCW and MXCSR as after FNINIT (FXRSTOR loads them) */
    *(uint32_t *)(area + 24) = 0x1F80;  /* XRSTOR loads MXCSR even in the init state */
    v->fpu.xcr0 = host_xcr0 ? XCR0_X87 : 0;   /* XCR0's reset value */
    return COPRA_OK;
}

void fpu_vcpu_destroy(struct vcpu *v)
{
    for (unsigned i = 0; i < COPRA_CPUS_MAX; i++) {
        uint64_t f = spin_lock_irqsave(&owner_lock[i]);
        if (owner[i] == v)
            owner[i] = NULL;
        spin_unlock_irqrestore(&owner_lock[i], f);
    }
    if (v->fpu.area)
        page_free(virt_to_phys(v->fpu.area), 1);
}

/* The owner's registers into its area (owner lock held, CR0.TS clear). */
static void save_owner(unsigned cpu)
{
    if (owner[cpu] && host_xcr0)
        __asm__ volatile("xsave64 (%0)" : : "r"(owner[cpu]->fpu.area), "a"(~0u), "d"(~0u) : "memory");
    else if (owner[cpu])
        __asm__ volatile("fxsave64 (%0)" : : "r"(owner[cpu]->fpu.area) : "memory");
}

void fpu_enter(struct vcpu *v, unsigned cpu)
{
    if (__atomic_load_n(&owner[cpu], __ATOMIC_RELAXED) != v) {
        uint64_t f = spin_lock_irqsave(&owner_lock[cpu]);
        __asm__ volatile("clts" : : : "memory");
        save_owner(cpu);
        if (host_xcr0)
            __asm__ volatile("xrstor64 (%0)" : : "r"(v->fpu.area), "a"(~0u), "d"(~0u) : "memory");
        else
            __asm__ volatile("fxrstor64 (%0)" : : "r"(v->fpu.area) : "memory");
        write_cr0(read_cr0() | CR0_TS);
        owner[cpu] = v;
        spin_unlock_irqrestore(&owner_lock[cpu], f);
    }
    if (v->fpu.xcr0 != host_xcr0)
        xsetbv0(v->fpu.xcr0);
}

void fpu_exit(struct vcpu *v)
{
    if (!host_xcr0)
        return;
    /* Read back: QEMU 7.2 TCG ignores the XSETBV intercept and runs the
     * guest's XSETBV itself (checked against its own CPUID only). */
    v->fpu.xcr0 = xgetbv0();
    if (v->fpu.xcr0 != host_xcr0)
        xsetbv0(host_xcr0);
}

void fpu_vector(struct vcpu *v, unsigned reg, uint8_t *bytes, unsigned n, bool write, bool vex)
{
    uint64_t f = spin_lock_irqsave(&owner_lock[v->cpu]);
    if (owner[v->cpu] == v) {   /* its registers are live here: into the area, restored at the next entry */
        __asm__ volatile("clts" : : : "memory");
        save_owner(v->cpu);
        write_cr0(read_cr0() | CR0_TS);
        owner[v->cpu] = NULL;
    }
    spin_unlock_irqrestore(&owner_lock[v->cpu], f);
    uint8_t *area = v->fpu.area, *xmm = area + 160 + 16 * reg, *ymm = area + ymm_offset + 16 * reg;
    uint64_t *xstate_bv = (uint64_t *)(area + 512), bv = host_xcr0 ? *xstate_bv : XCR0_SSE;
    /* SDM vol. 1 §13.7: a component whose XSTATE_BV bit is clear is in its
     * initial state (zeros), whatever the area holds. */
    if (!(bv & XCR0_SSE))
        memset(area + 160, 0, 256);
    if (host_xcr0 && !(bv & XCR0_AVX))
        memset(area + ymm_offset, 0, 256);
    if (!write) {
        memcpy(bytes, xmm, MIN(n, 16u));
        memcpy(bytes + 16, ymm, n > 16 ? 16 : 0);
        return;
    }
    memset(xmm, 0, 16);   /* MOVD/MOVQ zero the rest of the XMM register */
    memcpy(xmm, bytes, MIN(n, 16u));
    if (host_xcr0 && n > 16)
        memcpy(ymm, bytes + 16, 16);
    else if (host_xcr0 && vex)
        memset(ymm, 0, 16);   /* VEX.128 zeroes bits 255:128 */
    if (host_xcr0)
        *xstate_bv |= XCR0_SSE | (bv & XCR0_AVX) | (n > 16 || vex ? XCR0_AVX : 0);
}

/* What the CPU's XSETBV accepts (SDM vol. 1 §13.3): x87 always, AVX only
 * with SSE; and nothing this kernel does not switch. */
int fpu_set_xcr0(struct vcpu *v, uint64_t xcr0)
{
    if (!(xcr0 & XCR0_X87) || (xcr0 & ~host_xcr0) || ((xcr0 & XCR0_AVX) && !(xcr0 & XCR0_SSE)))
        return COPRA_EINVAL;
    v->fpu.xcr0 = xcr0;
    return COPRA_OK;
}
