/* SPDX-License-Identifier: MIT */
/*
 * A guest's control and debug registers.  Nothing the CPU would refuse may
 * reach an entry: a value the VMM sets through VCPU_SET_STATE is checked
 * here (COPRA_EINVAL), and what the guest writes itself -- MOV to CR0 (the
 * selective intercept), CR4 and CR8, MOV to or from DR0-7, WRMSR to EFER --
 * is intercepted and emulated here with the faults hardware raises (APM
 * vol. 2 §3.1, §13.1; SDM vol. 3 §2.5).  Debug registers never reach the
 * hardware: DR0-3 and DR7 live in struct vcpu, so a guest cannot arm a
 * breakpoint on the host's code (the platform keeps DR7 disabled).
 */
#include "virt/ctrlreg.h"
#include "virt/platform.h"
#include "virt/vcpu.h"
#include "arch/x86_64/cpu.h"

#define GCR0_PE (1ull << 0)
#define GCR0_ET (1ull << 4)
#define GCR0_NW (1ull << 29)
#define GCR0_CD (1ull << 30)
#define GCR0_PG (1ull << 31)
#define GCR4_DE (1ull << 3)
#define GCR4_PAE (1ull << 5)
#define GCR4_PCIDE (1ull << 17)
#define GEFER_LME (1ull << 8)
#define GEFER_LMA (1ull << 10)
#define GEFER_GUEST (1ull | GEFER_LME | GEFER_LMA | (1ull << 11))   /* SCE, LME, LMA, NXE */
#define SEG_L (1u << 9)
#define SEG_D (1u << 10)

static uint64_t cr4_allowed;   /* CR4 bits this CPU implements (QEMU: cr4_reserved_bits) */
static unsigned phys_bits;

static void ctrl_init(void)
{
    uint32_t r[4], b7 = 0, c7 = 0;
    cpuid(0, 0, r);
    if (r[0] >= 7) {
        cpuid(7, 0, r);
        b7 = r[1];
        c7 = r[2];
    }
    cpuid(1, 0, r);
    /* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT, then by CPUID;
     * never PKE: PKRU is not part of the guest FPU state fpu.c switches. */
    uint64_t m = 0x7FF;
    m |= (r[2] & (1u << 17)) ? GCR4_PCIDE : 0;
    m |= (r[2] & (1u << 26)) ? 1ull << 18 : 0;      /* OSXSAVE */
    m |= (b7 & 1u) ? 1ull << 16 : 0;                 /* FSGSBASE */
    m |= (b7 & (1u << 7)) ? 1ull << 20 : 0;          /* SMEP */
    m |= (b7 & (1u << 20)) ? 1ull << 21 : 0;         /* SMAP */
    m |= (c7 & (1u << 2)) ? 1ull << 11 : 0;          /* UMIP */
    cpuid(0x80000000, 0, r);
    unsigned bits = 36;
    if (r[0] >= 0x80000008) {
        cpuid(0x80000008, 0, r);
        bits = r[0] & 0xFF;
    }
    __atomic_store_n(&phys_bits, bits, __ATOMIC_RELAXED);
    __atomic_store_n(&cr4_allowed, m, __ATOMIC_RELEASE);
}

static uint64_t allowed_cr4(void)
{
    uint64_t m = __atomic_load_n(&cr4_allowed, __ATOMIC_ACQUIRE);
    if (!m) {
        ctrl_init();
        m = __atomic_load_n(&cr4_allowed, __ATOMIC_ACQUIRE);
    }
    return m;
}

static bool cr0_valid(uint64_t v)
{
    return !(v >> 32) && !((v & GCR0_NW) && !(v & GCR0_CD)) && !((v & GCR0_PG) && !(v & GCR0_PE));
}

static bool event_valid(uint64_t e)
{
    unsigned type = (e >> 8) & 7, vector = e & 0xFF;
    if (e & 0x7FFFF000ull)
        return false;   /* reserved bits 12-30 */
    if ((e & COPRA_EVENT_ERROR_CODE) && type != 3)
        return false;
    /* APM §15.20: types 0 (INTR), 2 (NMI), 3 (exception), 4 (INTn); an
     * exception's vector is below 32 and not NMI's (QEMU also refuses 31). */
    return type == 0 || type == 2 || type == 4 || (type == 3 && vector != 2 && vector < 31);
}

int ctrl_check_state(unsigned id, uint64_t value)
{
    switch (id) {
    case COPRA_STATE_CR0:
        return cr0_valid(value) ? COPRA_OK : COPRA_EINVAL;
    case COPRA_STATE_CR3:
        allowed_cr4();   /* phys_bits is known from here on */
        return value >> phys_bits ? COPRA_EINVAL : COPRA_OK;
    case COPRA_STATE_CR4:
        return value & ~allowed_cr4() ? COPRA_EINVAL : COPRA_OK;
    case COPRA_STATE_CR8:
        return value > 15 ? COPRA_EINVAL : COPRA_OK;
    case COPRA_STATE_EFER:
        return value & ~GEFER_GUEST ? COPRA_EINVAL : COPRA_OK;
    case COPRA_STATE_DR6:
    case COPRA_STATE_DR7:
    case COPRA_STATE_TSC_AUX:
        return value >> 32 ? COPRA_EINVAL : COPRA_OK;
    case COPRA_STATE_MP_STATE:
        return value > COPRA_MP_WAIT_SIPI ? COPRA_EINVAL : COPRA_OK;
    case COPRA_STATE_PENDING_EVENT:
        return !(value & COPRA_EVENT_VALID) || event_valid(value) ? COPRA_OK : COPRA_EINVAL;
    case COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR): {
        /* Present system descriptor of a 16- or 32/64-bit TSS (QEMU aborts on others). */
        unsigned type = value & 0x1F;
        return (value & 0x80) && (type == 1 || type == 3 || type == 9 || type == 11) ? COPRA_OK
                                                                                      : COPRA_EINVAL;
    }
    default:
        return COPRA_OK;
    }
}

static uint64_t get(struct vcpu *v, unsigned id) { return platform->get_state(v, id); }

static bool cs_long(struct vcpu *v)
{
    return get(v, COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_ATTR)) & SEG_L;
}

bool ctrl_check_entry(struct vcpu *v)
{
    /* The combinations VMRUN checks (APM §15.5.1) once long mode is on. */
    uint64_t cr0 = get(v, COPRA_STATE_CR0);
    if (!(get(v, COPRA_STATE_EFER) & GEFER_LME) || !(cr0 & GCR0_PG))
        return true;
    uint64_t cs = get(v, COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_ATTR));
    return (get(v, COPRA_STATE_CR4) & GCR4_PAE) && (cr0 & GCR0_PE) && !((cs & SEG_L) && (cs & SEG_D));
}

int ctrl_write_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
    uint64_t efer = get(v, COPRA_STATE_EFER);
    if (cr == 8)
        return value > 15 ? CTRL_GP : platform->set_state(v, COPRA_STATE_CR8, value) ? CTRL_GP : 0;
    if (cr == 4) {
        uint64_t old = get(v, COPRA_STATE_CR4);
        if ((value & ~allowed_cr4()) || ((efer & GEFER_LMA) && !(value & GCR4_PAE)) ||
            ((value & GCR4_PCIDE) && !(old & GCR4_PCIDE) &&
             (!(efer & GEFER_LMA) || (get(v, COPRA_STATE_CR3) & 0xFFF))))
            return CTRL_GP;
        return platform->set_state(v, COPRA_STATE_CR4, value) ? CTRL_GP : 0;
    }
    if (cr != 0)
        return CTRL_UD;
    /* CR0: the checks of MOV CR0, and the long-mode switch the CPU makes
     * when paging goes on or off with EFER.LME set (APM §14.6). */
    uint64_t old = get(v, COPRA_STATE_CR0);
    value |= GCR0_ET;
    if (!cr0_valid(value))
        return CTRL_GP;
    if ((value & GCR0_PG) && !(old & GCR0_PG) && (efer & GEFER_LME)) {
        if (!(get(v, COPRA_STATE_CR4) & GCR4_PAE) || cs_long(v))
            return CTRL_GP;
        efer |= GEFER_LMA;
    } else if (!(value & GCR0_PG) && (old & GCR0_PG) && (efer & GEFER_LMA)) {
        if (cs_long(v))
            return CTRL_GP;   /* paging goes off only from compatibility mode */
        efer &= ~GEFER_LMA;
    }
    if (platform->set_state(v, COPRA_STATE_EFER, efer) || platform->set_state(v, COPRA_STATE_CR0, value))
        return CTRL_GP;
    return 0;
}

int ctrl_write_efer(struct vcpu *v, uint64_t value)
{
    uint64_t old = get(v, COPRA_STATE_EFER);
    /* LMA is the CPU's to set; LME may not change while paging is on. */
    if ((value & ~GEFER_GUEST) ||
        (((value ^ old) & GEFER_LME) && (get(v, COPRA_STATE_CR0) & GCR0_PG)))
        return CTRL_GP;
    value = (value & ~GEFER_LMA) | (old & GEFER_LMA);
    return platform->set_state(v, COPRA_STATE_EFER, value) ? CTRL_GP : 0;
}

/* DR0-7 as MOV DR names them: DR4 and DR5 are aliases of DR6 and DR7
 * while CR4.DE is clear, else #UD, as DR8 and up are. */
static int dr_alias(struct vcpu *v, unsigned *dr)
{
    if (*dr > 7 || ((*dr == 4 || *dr == 5) && (get(v, COPRA_STATE_CR4) & GCR4_DE)))
        return CTRL_UD;
    if (*dr == 4 || *dr == 5)
        *dr += 2;
    return 0;
}

int ctrl_dr_read(struct vcpu *v, unsigned dr, uint64_t *value)
{
    if (dr_alias(v, &dr))
        return CTRL_UD;
    *value = dr < 4 ? v->dr[dr] : dr == 6 ? get(v, COPRA_STATE_DR6) : v->dr7;
    return 0;
}

int ctrl_dr_write(struct vcpu *v, unsigned dr, uint64_t value)
{
    if (dr_alias(v, &dr))
        return CTRL_UD;
    if (dr < 4) {
        v->dr[dr] = value;
        return 0;
    }
    if (value >> 32)
        return CTRL_GP;
    if (dr == 6)
        return platform->set_state(v, COPRA_STATE_DR6, (value | 0xFFFF0FF0u) & ~(1ull << 12)) ? CTRL_GP : 0;
    v->dr7 = (value | 0x400) & ~0x0000D800ull;   /* bit 10 reads 1; 11, 12, 14, 15 read 0 */
    return 0;
}
