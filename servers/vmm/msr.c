/* SPDX-License-Identifier: MIT */
/*
 * RDMSR and WRMSR exits: the MSRs this VMM models, as KVM models them.  An
 * MSR it does not model raises #GP(0) in the guest, as on hardware and on
 * KVM (without ignore_msrs): guests probe optional MSRs with exception
 * handling (Linux's rdmsr_safe) and must see the same answer a PC gives.
 * Each unmodelled index is reported once.
 *
 *   guest state   EFER, PAT, SYSENTER_*, STAR, LSTAR, CSTAR, SFMASK, FS/GS/
 *                 KERNEL_GS base, TSC_AUX: VCPU_GET/SET_STATE; a value the
 *                 kernel refuses (COPRA_EINVAL) is the guest's #GP.
 *                 TSC_AUX exists only with RDTSCP or RDPID in CPUID.
 *   TSC (0x10)    the host TSC + the VCPU's offset; a write sets the offset
 *                 (COPRA_STATE_TSC_OFFSET), so RDTSC agrees.  Every VCPU
 *                 starts with the VM's offset: the guest's TSC counts from
 *                 about 0 at VM creation, as after a reset.
 *   APIC_BASE     per VCPU: 0xFEE00000 | enable | BSP (VCPU 0).  Reserved
 *                 bits, x2APIC enable (no x2APIC in CPUID) and a base other
 *                 than 0xFEE00000 (irqd's LAPIC does not move) are #GP;
 *                 enable/disable is recorded (irqd is not told).
 *   MISC_ENABLE   per VCPU, reset BTS- and PEBS-unavailable (KVM's value);
 *                 writes are kept.
 *   kvm-clock     MSR_KVM_SYSTEM_TIME_NEW (0x4b564d01), per VCPU: bit 0
 *                 enables, the rest is the GPA of the VCPU's struct
 *                 pvclock_vcpu_time_info (pvclock.h), which the VMM writes
 *                 at the enable and again when the guest writes its TSC
 *                 (the only times the TSC-to-time mapping changes here).
 *                 MSR_KVM_WALL_CLOCK_NEW (0x4b564d00), per VM: a write of
 *                 a GPA gets the struct pvclock_wall_clock there, the wall
 *                 time at kvm-clock 0 (= the rtc model's start, so the
 *                 guest's date and its RTC agree).  Reads return what was
 *                 written.  A GPA whose structure is not all in RAM, or
 *                 crosses a page, is accepted and nothing is written, as
 *                 KVM does (its gfn_to_pfn cache refuses it silently).
 *                 The old MSRs 0x11/0x12 are not served (CPUID shows
 *                 CLOCKSOURCE2 only): #GP, as KVM with enforced PV CPUID.
 *   MCG_CAP       0: no banks; MCG_STATUS kept; MCG_CTL and banks #GP.
 *   UCODE_REV     0x1_0000_0000 (KVM's "microcode revision 1"); writes ignored.
 *   MTRRs         MTRRcap: fixed ranges and WC, no variable ranges; def_type
 *                 kept per VM; fixed ranges read WB; writes ignored.
 *   AMD           VM_CR: SVMDIS | LOCK (no nested SVM); HWCR 0 (bits 3, 6, 8
 *                 ignored, McStatusWrEn kept, others #GP); DE_CFG: LFENCE
 *                 serializing, writes within it; SYSCFG, TSEG, NB_CFG,
 *                 MMIO_CONF_BASE, BU_CFG2, DC_CFG, EX_CFG, HSAVE_PA,
 *                 INT_PENDING_MSG, PERF_CTL read 0 and ignore writes (KVM's
 *                 list); DEBUGCTL reads 0, writes ignored (no LBR).
 * Everything else, x2APIC (0x800-0x8FF), FEATURE_CONTROL (no VMX), the
 * speculation-control MSRs (hidden in CPUID) and the performance counters
 * (no PMU) included: #GP.
 */
#include "vm.h"

#include "pvclock.h"

#define MSR_TSC             0x10u
#define MSR_APIC_BASE       0x1bu
#define MSR_UCODE_WRITE     0x79u
#define MSR_UCODE_REV       0x8bu
#define MSR_MTRR_CAP        0xfeu
#define MSR_MCG_CAP         0x179u
#define MSR_MCG_STATUS      0x17au
#define MSR_PERF_CTL        0x199u
#define MSR_MISC_ENABLE     0x1a0u
#define MSR_DEBUGCTL        0x1d9u
#define MSR_PAT             0x277u
#define MSR_MTRR_DEF_TYPE   0x2ffu
#define MSR_EFER            0xc0000080u
#define MSR_TSC_AUX         0xc0000103u
#define MSR_HWCR            0xc0010015u
#define MSR_VM_CR           0xc0010114u
#define MSR_DE_CFG          0xc0011029u
#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

#define APIC_BASE_DEFAULT   0xfee00000ull
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_X2APIC    (1ull << 10)
#define APIC_BASE_BSP       (1ull << 8)
#define EFER_LMA            (1ull << 10)
#define MTRR_FIXED_WB       0x0606060606060606ull
#define MTRR_CAP_VALUE      ((1ull << 10) | (1ull << 8))  /* WC, fixed ranges; no variable */
#define VM_CR_VALUE         ((1ull << 4) | (1ull << 3))   /* SVMDIS, LOCK: no SVM here */
#define MISC_ENABLE_RESET   ((1ull << 11) | (1ull << 12)) /* BTS, PEBS unavailable */
#define UCODE_REV_VALUE     0x100000000ull
#define HWCR_IGNORED        ((1ull << 3) | (1ull << 6) | (1ull << 8))
#define HWCR_MCSTATUSWREN   (1ull << 18)
#define DE_CFG_LFENCE       (1ull << 1)
#define KVM_SYSTEM_TIME_ENABLE 1ull
#define PAGE_SIZE           4096ull

static const struct {
    uint32_t msr;
    unsigned state;
} msr_states[] = {
    { MSR_EFER,         COPRA_STATE_EFER },
    { MSR_PAT,          COPRA_STATE_PAT },
    { 0x174u,           COPRA_STATE_SYSENTER_CS },
    { 0x175u,           COPRA_STATE_SYSENTER_ESP },
    { 0x176u,           COPRA_STATE_SYSENTER_EIP },
    { 0xc0000081u,      COPRA_STATE_STAR },
    { 0xc0000082u,      COPRA_STATE_LSTAR },
    { 0xc0000083u,      COPRA_STATE_CSTAR },
    { 0xc0000084u,      COPRA_STATE_SFMASK },
    { 0xc0000100u,      COPRA_STATE_SEG(COPRA_FS, COPRA_SEG_BASE) },
    { 0xc0000101u,      COPRA_STATE_SEG(COPRA_GS, COPRA_SEG_BASE) },
    { 0xc0000102u,      COPRA_STATE_KERNEL_GS_BASE },
    { MSR_TSC_AUX,      COPRA_STATE_TSC_AUX },
};

/* Read as 0, writes ignored (KVM's kvm_get/set_msr_common lists). */
static const uint32_t msr_zero[] = {
    0xc0010010u, 0xc0010112u, 0xc0010113u, 0xc0010117u, 0xc0010055u, 0xc001001fu,
    0xc0010058u, 0xc001102au, MSR_PERF_CTL, 0xc0011022u, 0xc001102cu, MSR_DEBUGCTL,
};

static bool msr_is_fixed_mtrr(uint32_t msr)
{
    return msr == 0x250u || msr == 0x258u || msr == 0x259u || (msr >= 0x268u && msr <= 0x26fu);
}

static bool msr_is_variable_mtrr(uint32_t msr)
{
    return msr >= 0x200u && msr <= 0x20fu;
}

static bool msr_is_zero(uint32_t msr)
{
    for (unsigned i = 0; i < sizeof msr_zero / sizeof msr_zero[0]; i++)
        if (msr_zero[i] == msr)
            return true;
    return false;
}

static int msr_state_id(const struct vmm_vcpu *v, uint32_t msr)
{
    if (msr == MSR_TSC_AUX && !v->vm->has_tsc_aux)
        return -1;
    for (unsigned i = 0; i < sizeof msr_states / sizeof msr_states[0]; i++)
        if (msr_states[i].msr == msr)
            return (int)msr_states[i].state;
    return -1;
}

/* Count an unmodelled MSR and report it the first time (per VM). */
static bool msr_unknown(struct vmm_vcpu *v, uint32_t msr, bool write, uint64_t value)
{
    struct vmm_vm *vm = v->vm;
    bool first = true;

    __atomic_add_fetch(write ? &vm->msr_unknown_writes : &vm->msr_unknown_reads, 1,
                       __ATOMIC_RELAXED);
    vmm_lock(&vm->devices_lock);
    for (unsigned i = 0; i < vm->nmsr_logged; i++)
        if (vm->msr_logged[i] == msr)
            first = false;
    if (first && vm->nmsr_logged < VMM_LOG_ONCE_MAX)
        vm->msr_logged[vm->nmsr_logged++] = msr;
    else
        first = false;
    vmm_unlock(&vm->devices_lock);
    if (first && write)
        coco_printf("vmm: vcpu %u: write 0x%llx to unknown MSR 0x%x: #GP (reported once)\n",
                    v->index, (unsigned long long)value, msr);
    else if (first)
        coco_printf("vmm: vcpu %u: read of unknown MSR 0x%x: #GP (reported once)\n", v->index, msr);
    return false;
}

/* Guest RAM for a kvm-clock structure of `size` bytes at `gpa`, or NULL
 * where KVM would not write it: outside RAM, or across a page. */
static uint8_t *pvclock_guest(struct vmm_vcpu *v, uint64_t gpa, uint64_t size, bool one_page)
{
    struct vmm_vm *vm = v->vm;
    if (gpa >= vm->ram_size || vm->ram_size - gpa < size ||
        (one_page && (gpa & (PAGE_SIZE - 1)) + size > PAGE_SIZE)) {
        if (!__atomic_test_and_set(&vm->pvclock_bad_logged, __ATOMIC_RELAXED))
            coco_printf("vmm: vcpu %u: kvm-clock structure at GPA 0x%llx not in RAM or across a "
                        "page: not written (reported once)\n", v->index, (unsigned long long)gpa);
        return NULL;
    }
    return vm->ram + gpa;
}

/* Version odd while the rest changes, even after (the guest retries a
 * read that saw an odd or changed version): what KVM does. */
static uint32_t pvclock_begin(uint32_t *version)
{
    uint32_t next = (__atomic_load_n(version, __ATOMIC_RELAXED) + 1) | 1;
    __atomic_store_n(version, next, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return next;
}

static void pvclock_end(uint32_t *version, uint32_t odd)
{
    __atomic_store_n(version, odd + 1, __ATOMIC_RELEASE);
}

/* (Re)write the VCPU's pvclock_vcpu_time_info, if kvm-clock is on.  Runs on
 * the VCPU's thread, so vmm_rdtsc() reads the TSC of the CPU the VCPU runs on. */
static void pvclock_update(struct vmm_vcpu *v)
{
    if (!(v->kvm_system_time & KVM_SYSTEM_TIME_ENABLE))
        return;
    uint64_t gpa = v->kvm_system_time & ~KVM_SYSTEM_TIME_ENABLE;
    struct pvclock_vcpu_time_info *guest = (struct pvclock_vcpu_time_info *)(void *)
        pvclock_guest(v, gpa, sizeof *guest, true);
    if (guest == NULL)
        return;
    struct pvclock_vcpu_time_info t;
    pvclock_time_info(&t, vmm_rdtsc(), v->tsc_offset, v->vm->tsc_offset, v->vm->tsc_hz);
    uint32_t odd = pvclock_begin(&guest->version);
    guest->tsc_timestamp = t.tsc_timestamp;
    guest->system_time = t.system_time;
    guest->tsc_to_system_mul = t.tsc_to_system_mul;
    guest->tsc_shift = t.tsc_shift;
    guest->flags = t.flags;
    pvclock_end(&guest->version, odd);
}

static void pvclock_wall_write(struct vmm_vcpu *v, uint64_t gpa)
{
    struct pvclock_wall_clock *guest = (struct pvclock_wall_clock *)(void *)
        pvclock_guest(v, gpa, sizeof *guest, false);
    if (guest == NULL)
        return;
    uint32_t odd = pvclock_begin(&guest->version);
    guest->sec = (uint32_t)v->vm->wall_start;
    guest->nsec = 0;
    pvclock_end(&guest->version, odd);
}

void msr_vcpu_reset(struct vmm_vcpu *v)
{
    v->kvm_system_time = 0;
    v->apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (v->index == 0 ? APIC_BASE_BSP : 0);
    v->misc_enable = MISC_ENABLE_RESET;
    v->mcg_status = 0;
    v->hwcr = 0;
    v->de_cfg = DE_CFG_LFENCE;
    v->tsc_offset = v->vm->tsc_offset;
}

uint64_t msr_vm_tsc_offset(void)
{
    return -vmm_rdtsc();
}

bool msr_read(struct vmm_vcpu *v, uint32_t msr, uint64_t *value)
{
    int id = msr_state_id(v, msr);

    *value = 0;
    if (id >= 0) {
        int r = coco_vcpu_get_state(v->handle, (unsigned)id, value);
        if (r < 0)
            coco_printf("vmm: vcpu %u: MSR 0x%x: VCPU_GET_STATE(%d) failed: %s\n", v->index, msr,
                        id, coco_strerror(r));
        return r == 0;
    }
    switch (msr) {
    case MSR_TSC:           *value = vmm_rdtsc() + v->tsc_offset; return true;
    case MSR_APIC_BASE:     *value = v->apic_base; return true;
    case MSR_MISC_ENABLE:   *value = v->misc_enable; return true;
    case MSR_MCG_CAP:       return true;
    case MSR_MCG_STATUS:    *value = v->mcg_status; return true;
    case MSR_UCODE_REV:     *value = UCODE_REV_VALUE; return true;
    case MSR_MTRR_CAP:      *value = MTRR_CAP_VALUE; return true;
    case MSR_MTRR_DEF_TYPE: *value = __atomic_load_n(&v->vm->mtrr_def_type, __ATOMIC_RELAXED); return true;
    case MSR_VM_CR:         *value = VM_CR_VALUE; return true;
    case MSR_HWCR:          *value = v->hwcr; return true;
    case MSR_DE_CFG:        *value = v->de_cfg; return true;
    case MSR_KVM_SYSTEM_TIME_NEW: *value = v->kvm_system_time; return true;
    case MSR_KVM_WALL_CLOCK_NEW:
        *value = __atomic_load_n(&v->vm->kvm_wall_clock, __ATOMIC_RELAXED);
        return true;
    default:
        break;
    }
    if (msr_is_fixed_mtrr(msr))
        *value = MTRR_FIXED_WB;
    if (msr_is_fixed_mtrr(msr) || msr_is_variable_mtrr(msr) || msr_is_zero(msr))
        return true;
    return msr_unknown(v, msr, false, 0);
}

static bool apic_base_write(struct vmm_vcpu *v, uint64_t value)
{
    uint64_t reserved = ~((1ull << v->vm->phys_bits) - 1) | 0x2ffull | APIC_BASE_X2APIC;
    if ((value & reserved) || (value & ~0xfffull) != APIC_BASE_DEFAULT)
        return false;   /* reserved bits, x2APIC, or a relocation */
    v->apic_base = value;
    return true;
}

bool msr_write(struct vmm_vcpu *v, uint32_t msr, uint64_t value)
{
    int id = msr_state_id(v, msr);

    if (id >= 0) {
        if (msr == MSR_EFER) {
            /* EFER.LMA is read-only (APM vol. 2 §3.1.7): keep the current one. */
            uint64_t current = 0;
            coco_vcpu_get_state(v->handle, COPRA_STATE_EFER, &current);
            value = (value & ~EFER_LMA) | (current & EFER_LMA);
        }
        int r = coco_vcpu_set_state(v->handle, (unsigned)id, value);
        if (r < 0 && r != COPRA_EINVAL)
            coco_printf("vmm: vcpu %u: MSR 0x%x <- 0x%llx: VCPU_SET_STATE(%d) failed: %s\n",
                        v->index, msr, (unsigned long long)value, id, coco_strerror(r));
        return r == 0;   /* COPRA_EINVAL: a value the CPU refuses, #GP */
    }
    switch (msr) {
    case MSR_TSC: {
        uint64_t offset = value - vmm_rdtsc();
        if (coco_vcpu_set_state(v->handle, COPRA_STATE_TSC_OFFSET, offset) != 0)
            return false;
        v->tsc_offset = offset;
        pvclock_update(v);   /* same time, new TSC: keep kvm-clock consistent */
        return true;
    }
    case MSR_KVM_SYSTEM_TIME_NEW:
        v->kvm_system_time = value;
        pvclock_update(v);
        return true;
    case MSR_KVM_WALL_CLOCK_NEW:
        __atomic_store_n(&v->vm->kvm_wall_clock, value, __ATOMIC_RELAXED);
        pvclock_wall_write(v, value);
        return true;
    case MSR_APIC_BASE:
        return apic_base_write(v, value);
    case MSR_MISC_ENABLE:
        v->misc_enable = value;
        return true;
    case MSR_MCG_STATUS:
        v->mcg_status = value;
        return true;
    case MSR_UCODE_REV:
    case MSR_UCODE_WRITE:
        return true;
    case MSR_MTRR_DEF_TYPE:
        __atomic_store_n(&v->vm->mtrr_def_type, value & 0xcffull, __ATOMIC_RELAXED);
        return true;
    case MSR_VM_CR:
        return true;
    case MSR_HWCR:
        value &= ~HWCR_IGNORED;
        if (value & ~HWCR_MCSTATUSWREN)
            return false;
        v->hwcr = value;
        return true;
    case MSR_DE_CFG:
        if (value & ~DE_CFG_LFENCE)
            return false;
        v->de_cfg = value;
        return true;
    default:
        break;
    }
    if (msr_is_fixed_mtrr(msr) || msr_is_variable_mtrr(msr) || msr_is_zero(msr))
        return true;
    return msr_unknown(v, msr, true, value);
}
