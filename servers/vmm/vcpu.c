/* SPDX-License-Identifier: MIT */
/*
 * One thread per VCPU: WAIT_FOR_EVENT on the VCPU runs the guest until an
 * exit the kernel leaves to user space; this file serves it and waits again.
 *
 *   IO, MMIO      devices.c answers; the kernel completes the instruction
 *                 (writes the IN / read value, advances RIP) on the next entry.
 *   CPUID         the CPUID policy below; RIP += 2.
 *   XSETBV        checked as the CPU would, within the CPUID policy's XCR0
 *                 mask: XCR0 set and RIP += 3, or #GP/#UD injected.
 *   MSR           the MSR table below; RIP += 2.
 *   VMMCALL       no hypercalls yet: RAX = -1000 (as KVM's -KVM_ENOSYS); RIP += 3.
 *   HLT (IF=0), SHUTDOWN, FAIL, UNHANDLED: the VM stops.
 *   DEVICE_GONE   a device model died mid-request: devmodels.c restarts it
 *                 (or stops the VM: the debug-exit model's exit).
 *   KICK          nothing (the VM is stopping, or another item woke us).
 *
 * Lengths: TCG's SVM has no NRIPS (shared/reference/qemu-tcg-svm.md), and
 * the VMM advances RIP for these exits itself, by the architectural
 * instruction lengths (CPUID 0F A2, RDMSR 0F 32, WRMSR 0F 30, VMMCALL
 * 0F 01 D9).
 */
#include "vm.h"

#define CPUID_LENGTH   2u
#define XSETBV_LENGTH  3u
#define MSR_LENGTH     2u
#define VMMCALL_LENGTH 3u
#define VMMCALL_ENOSYS ((uint64_t)-1000)


/* ---- Helpers ---------------------------------------------------------- */

static void regs_advance(struct vmm_vcpu *v, unsigned length)
{
    v->run->regs.rip += length;
    v->run->dirty |= COPRA_DIRTY_RIP | COPRA_DIRTY_GPRS;
}

/* EDX:EAX <- value (RDMSR, and the upper halves of RAX/RDX cleared). */
static void regs_set_edx_eax(struct vmm_vcpu *v, uint64_t value)
{
    v->run->regs.gpr[COPRA_RAX] = (uint32_t)value;
    v->run->regs.gpr[COPRA_RDX] = value >> 32;
}

/* ---- CPUID policy ----------------------------------------------------- */

/*
 * Leaves come from the CPU the VMM runs on (CPUID is not intercepted for
 * ring 3 on Copra), masked:
 *   1:          ECX.hypervisor(31) set; VMX(5), MONITOR(3), x2APIC(21) clear
 *               (no nested VMX, MWAIT is not intercepted, no x2APIC model);
 *               EBX[31:24] = initial APIC ID = VCPU index, EBX[23:16] = VCPUs;
 *               ECX.OSXSAVE(27) = the guest's CR4.OSXSAVE, as the CPU does it;
 *               XSAVE(26) only with an XCR0 mask, AVX(28), FMA(12), F16C(29)
 *               only if it has AVX.
 *   7.0:        AVX2 only with AVX in the mask; AVX-512, AMX and PKU clear (the
 *               kernel switches x87, SSE and AVX state only).  The mask,
 *               vm->xcr0_mask, is what the kernel switches (vmm_host_xcr0())
 *               within VMM_XCR0_POLICY.
 *   0xD:        0: EAX:EDX = the XCR0 mask, EBX = the area size for the
 *               guest's XCR0, ECX = for the mask; 1: no XSAVES (IA32_XSS is
 *               not virtualized); n >= 2: the host's, for bits in the mask.
 *   0xB, 0x1F:  EDX = x2APIC ID = VCPU index.
 *   0x4000_0000: max hypervisor leaf 0x4000_0010, signature "CopraCopraCo";
 *   0x4000_0010: EAX = TSC frequency in kHz (the de-facto "timing
 *               information" leaf of VMware and KVM), EBX = 0 (no bus clock);
 *               guests time out with RDTSC, which is not intercepted;
 *   other 0x4000_0001..0x4000_00FF: zero (no paravirtual features yet).
 *   0x8000_0001: ECX.SVM(2) clear (no nested SVM).
 *   0x8000_000A: zero (the SVM feature leaf of a CPU without SVM).
 */
#define CPUID_SIGNATURE_EBX 0x72706f43u   /* "Copr" */
#define CPUID_SIGNATURE_ECX 0x706f4361u   /* "aCop" */
#define CPUID_SIGNATURE_EDX 0x6f436172u   /* "raCo" */
#define CPUID1_ECX_FMA      (1u << 12)
#define CPUID1_ECX_XSAVE    (1u << 26)
#define CPUID1_ECX_OSXSAVE  (1u << 27)
#define CPUID1_ECX_AVX      (1u << 28)
#define CPUID1_ECX_F16C     (1u << 29)
#define CPUID7_EBX_AVX2     (1u << 5)
#define CPUID7_EBX_AVX512   0xdc230000u   /* F, DQ, IFMA, PF, ER, CD, BW, VL */
#define CPUID7_ECX_HIDDEN   0x0000585au   /* AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ; PKU, OSPKE */
#define CPUID7_EDX_HIDDEN   0x03c0010cu   /* AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16; AMX */
#define CPUIDD1_EAX_XSAVES  (1u << 3)
#define XCR0_AVX            4u
#define CR4_OSXSAVE         (1ull << 18)

static void cpuid_native(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

/* Bytes of a standard-format XSAVE area for the components in `xcr0`. */
static uint32_t xsave_size(uint64_t xcr0)
{
    uint32_t size = 576, r[4];   /* legacy area and header */
    for (unsigned i = 2; i < 63; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        cpuid_native(0xd, i, r);
        if (r[0] + r[1] > size)
            size = r[0] + r[1];
    }
    return size;
}

static uint64_t vcpu_state(const struct vmm_vcpu *v, unsigned id)
{
    uint64_t value = 0;
    int r = coco_vcpu_get_state(v->handle, id, &value);
    if (r < 0)
        coco_printf("vmm: vcpu %u: VCPU_GET_STATE(%u) failed: %s\n", v->index, id, coco_strerror(r));
    return value;
}

static void cpuid_policy(const struct vmm_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    uint64_t mask = v->vm->xcr0_mask;

    if (leaf >= 0x40000000u && leaf <= 0x400000ffu) {
        r[0] = r[1] = r[2] = r[3] = 0;
        if (leaf == 0x40000010u)
            r[0] = (uint32_t)(v->vm->tsc_hz / 1000);
        if (leaf == 0x40000000u) {
            r[0] = 0x40000010u;
            r[1] = CPUID_SIGNATURE_EBX;
            r[2] = CPUID_SIGNATURE_ECX;
            r[3] = CPUID_SIGNATURE_EDX;
        }
        return;
    }
    cpuid_native(leaf, subleaf, r);
    switch (leaf) {
    case 1:
        r[2] |= 1u << 31;
        r[2] &= ~((1u << 5) | (1u << 3) | (1u << 21));
        r[1] = (r[1] & 0x0000ffffu) | (uint32_t)v->index << 24 |
               (uint32_t)(v->vm->nvcpus & 0xff) << 16;
        r[2] &= ~CPUID1_ECX_OSXSAVE;
        if (!mask)
            r[2] &= ~CPUID1_ECX_XSAVE;
        if (!(mask & XCR0_AVX))
            r[2] &= ~(CPUID1_ECX_AVX | CPUID1_ECX_FMA | CPUID1_ECX_F16C);
        if ((r[2] & CPUID1_ECX_XSAVE) && (vcpu_state(v, COPRA_STATE_CR4) & CR4_OSXSAVE))
            r[2] |= CPUID1_ECX_OSXSAVE;
        break;
    case 7:
        if (subleaf != 0)
            break;
        r[1] &= ~CPUID7_EBX_AVX512;
        if (!(mask & XCR0_AVX))
            r[1] &= ~CPUID7_EBX_AVX2;
        r[2] &= ~CPUID7_ECX_HIDDEN;
        r[3] &= ~CPUID7_EDX_HIDDEN;
        break;
    case 0xd:
        if (subleaf == 0) {
            r[0] = (uint32_t)mask;
            r[3] = (uint32_t)(mask >> 32);
            r[1] = xsave_size(vcpu_state(v, COPRA_STATE_XCR0));
            r[2] = xsave_size(mask);
        } else if (subleaf == 1) {
            r[0] &= ~CPUIDD1_EAX_XSAVES;
            r[1] = xsave_size(vcpu_state(v, COPRA_STATE_XCR0));
            r[2] = r[3] = 0;
        } else if (subleaf >= 63 || !(mask & (1ull << subleaf))) {
            r[0] = r[1] = r[2] = r[3] = 0;
        }
        if (!mask)
            r[0] = r[1] = r[2] = r[3] = 0;
        break;
    case 0xb:
    case 0x1f:
        r[3] = v->index;
        break;
    case 0x80000001u:
        r[2] &= ~(1u << 2);
        break;
    case 0x8000000au:
        r[0] = r[1] = r[2] = r[3] = 0;
        break;
    default:
        break;
    }
}

static void exit_cpuid(struct vmm_vcpu *v)
{
    uint32_t r[4];

    cpuid_policy(v, v->run->cpuid.leaf, v->run->cpuid.subleaf, r);
    v->run->regs.gpr[COPRA_RAX] = r[0];
    v->run->regs.gpr[COPRA_RBX] = r[1];
    v->run->regs.gpr[COPRA_RCX] = r[2];
    v->run->regs.gpr[COPRA_RDX] = r[3];
    regs_advance(v, CPUID_LENGTH);
}

/*
 * XSETBV (an exit on SVM hardware; QEMU 7.2 TCG runs it without one, then
 * the kernel reads the guest's XCR0 back after every exit).  The CPU's
 * checks (APM vol. 3 XSETBV): #UD without CR4.OSXSAVE; #GP(0) at CPL > 0,
 * for an XCR other than 0, without x87, AVX without SSE, or a component
 * outside CPUID 0xD's (here: the policy's mask).
 */
static void exit_xsetbv(struct vmm_vcpu *v)
{
    const uint64_t *gpr = v->run->regs.gpr;
    uint64_t value = gpr[COPRA_RDX] << 32 | (uint32_t)gpr[COPRA_RAX];
    uint64_t event = COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | COPRA_EVENT_ERROR_CODE | 13;

    if (!(vcpu_state(v, COPRA_STATE_CR4) & CR4_OSXSAVE))
        event = COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | 6;
    else if (!(vcpu_state(v, COPRA_STATE_SEG(COPRA_SS, COPRA_SEG_ATTR)) & 0x60) &&   /* CPL 0 */
             (uint32_t)gpr[COPRA_RCX] == 0 && (value & 1) && !(value & ~v->vm->xcr0_mask) &&
             (!(value & XCR0_AVX) || (value & 2)) &&
             coco_vcpu_set_state(v->handle, COPRA_STATE_XCR0, value) == 0) {
        regs_advance(v, XSETBV_LENGTH);
        return;
    }
    int r = coco_vcpu_set_state(v->handle, COPRA_STATE_PENDING_EVENT, event);
    if (r < 0)
        coco_printf("vmm: vcpu %u: XSETBV: injecting 0x%llx failed: %s\n", v->index,
                    (unsigned long long)event, coco_strerror(r));
}

/* ---- MSR table -------------------------------------------------------- */

/*
 * MSRs that are guest state live in the kernel's VMCB: reads and writes go
 * through VCPU_GET_STATE / VCPU_SET_STATE.  A few are emulated here.  Every
 * other MSR reads 0 and ignores writes, reported once per index; a real CPU
 * would raise #GP, but guests probe MSRs and a missing one should not kill
 * them.
 */
#define MSR_TSC            0x10u
#define MSR_APIC_BASE      0x1bu
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_MTRR_CAP       0xfeu
#define MSR_MTRR_DEF_TYPE  0x2ffu
#define MSR_PAT            0x277u
#define MSR_EFER           0xc0000080u
#define MSR_VM_CR          0xc0010114u

#define APIC_BASE_DEFAULT  0xfee00000ull
#define APIC_BASE_ENABLE   (1ull << 11)
#define APIC_BASE_BSP      (1ull << 8)
#define EFER_LMA           (1ull << 10)
#define MTRR_FIXED_WB      0x0606060606060606ull
#define MTRR_CAP_VALUE     ((1ull << 10) | (1ull << 8))  /* WC, fixed ranges; no variable */
#define VM_CR_VALUE        ((1ull << 4) | (1ull << 3))   /* SVMDIS, LOCK: no SVM here */

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
};

static bool msr_is_fixed_mtrr(uint32_t msr)
{
    return msr == 0x250u || msr == 0x258u || msr == 0x259u || (msr >= 0x268u && msr <= 0x26fu);
}

static bool msr_is_variable_mtrr(uint32_t msr)
{
    return msr >= 0x200u && msr <= 0x20fu;
}

static int msr_state_id(uint32_t msr)
{
    for (unsigned i = 0; i < sizeof msr_states / sizeof msr_states[0]; i++)
        if (msr_states[i].msr == msr)
            return (int)msr_states[i].state;
    return -1;
}

/* Report an unknown MSR the first time it is used (per VM). */
static void msr_unknown(struct vmm_vcpu *v, uint32_t msr, bool write, uint64_t value)
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
    if (!first)
        return;
    if (write)
        coco_printf("vmm: vcpu %u: write 0x%llx to unknown MSR 0x%x ignored (reported once)\n",
                    v->index, (unsigned long long)value, msr);
    else
        coco_printf("vmm: vcpu %u: read of unknown MSR 0x%x returns 0 (reported once)\n",
                    v->index, msr);
}

static uint64_t msr_read(struct vmm_vcpu *v, uint32_t msr)
{
    uint64_t value = 0;
    int id = msr_state_id(msr);

    if (id >= 0) {
        int r = coco_vcpu_get_state(v->handle, (unsigned)id, &value);
        if (r < 0) {
            coco_printf("vmm: vcpu %u: MSR 0x%x: VCPU_GET_STATE(%d) failed: %s\n", v->index, msr,
                        id, coco_strerror(r));
            return 0;
        }
        return value;
    }
    switch (msr) {
    case MSR_TSC: {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return (uint64_t)hi << 32 | lo;
    }
    case MSR_APIC_BASE:
        return APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (v->index == 0 ? APIC_BASE_BSP : 0);
    case MSR_FEATURE_CONTROL:
        return 1;   /* locked, VMX off */
    case MSR_MTRR_CAP:
        return MTRR_CAP_VALUE;
    case MSR_MTRR_DEF_TYPE:
        return __atomic_load_n(&v->vm->mtrr_def_type, __ATOMIC_RELAXED);
    case MSR_VM_CR:
        return VM_CR_VALUE;
    default:
        break;
    }
    if (msr_is_fixed_mtrr(msr))
        return MTRR_FIXED_WB;
    if (msr_is_variable_mtrr(msr))
        return 0;
    msr_unknown(v, msr, false, 0);
    return 0;
}

static void msr_write(struct vmm_vcpu *v, uint32_t msr, uint64_t value)
{
    int id = msr_state_id(msr);

    if (id >= 0) {
        if (msr == MSR_EFER) {
            /* EFER.LMA is read-only (APM vol. 2 §3.1.7): keep the current one. */
            uint64_t current = 0;
            coco_vcpu_get_state(v->handle, COPRA_STATE_EFER, &current);
            value = (value & ~EFER_LMA) | (current & EFER_LMA);
        }
        int r = coco_vcpu_set_state(v->handle, (unsigned)id, value);
        if (r < 0)
            coco_printf("vmm: vcpu %u: MSR 0x%x <- 0x%llx: VCPU_SET_STATE(%d) failed: %s\n",
                        v->index, msr, (unsigned long long)value, id, coco_strerror(r));
        return;
    }
    switch (msr) {
    case MSR_MTRR_DEF_TYPE:
        __atomic_store_n(&v->vm->mtrr_def_type, value & 0xcffull, __ATOMIC_RELAXED);
        return;
    case MSR_TSC:
    case MSR_APIC_BASE:     /* no APIC model to move or disable yet */
    case MSR_FEATURE_CONTROL:
    case MSR_VM_CR:
        return;
    default:
        break;
    }
    if (msr_is_fixed_mtrr(msr) || msr_is_variable_mtrr(msr))
        return;
    msr_unknown(v, msr, true, value);
}

/* ---- Serial output ---------------------------------------------------- */

void vcpu_serial_flush(struct vmm_vcpu *v)
{
    if (v->line_len == 0)
        return;
    if (v->vm->nvcpus == 1)
        coco_printf("[guest] %.*s\n", (int)v->line_len, v->line);
    else
        coco_printf("[guest %u] %.*s\n", v->index, (int)v->line_len, v->line);
    v->line_len = 0;
}

/* ---- The exit loop ---------------------------------------------------- */

static void exit_stop_crash(struct vmm_vcpu *v, const char *what)
{
    const struct copra_run_page *run = v->run;
    vm_stop(v->vm, VMM_STATUS_GUEST_CRASH,
            "vcpu %u: %s (code 0x%llx, info1 0x%llx, info2 0x%llx) at rip 0x%llx", v->index,
            what, (unsigned long long)run->fail.code, (unsigned long long)run->fail.info1,
            (unsigned long long)run->fail.info2, (unsigned long long)run->regs.rip);
}

/* Serve one exit; false when the VM stops. */
static bool vcpu_exit(struct vmm_vcpu *v, uint32_t reason)
{
    struct copra_run_page *run = v->run;
    const struct vmm_config *config = v->vm->config;

    if (reason < VMM_EXIT_REASONS)
        v->exits[reason]++;
    switch (reason) {
    case COPRA_EXIT_IO:
        if (run->io.in)
            run->io.data = devices_io_in(v, run->io.port, run->io.size);
        else
            devices_io_out(v, run->io.port, run->io.size, run->io.data);
        break;
    case COPRA_EXIT_MMIO:
        if (!run->mmio.decoded) {
            char bytes[3 * 16 + 1];
            unsigned n = run->mmio.insn_len < 16 ? run->mmio.insn_len : 16;
            bytes[0] = '\0';
            for (unsigned i = 0; i < n; i++)
                snprintf(bytes + 3 * i, sizeof bytes - 3 * i, " %02x", run->mmio.insn[i]);
            vm_stop(v->vm, VMM_STATUS_GUEST_CRASH,
                    "vcpu %u: MMIO access to 0x%llx at rip 0x%llx by an instruction the kernel "
                    "cannot decode:%s", v->index, (unsigned long long)run->mmio.gpa,
                    (unsigned long long)run->regs.rip, n ? bytes : " (no bytes)");
            break;
        }
        if (run->mmio.write)
            devices_mmio_write(v, run->mmio.gpa, run->mmio.size, run->mmio.data);
        else
            run->mmio.data = devices_mmio_read(v, run->mmio.gpa, run->mmio.size);
        break;
    case COPRA_EXIT_CPUID:
        exit_cpuid(v);
        break;
    case COPRA_EXIT_XSETBV:
        exit_xsetbv(v);
        break;
    case COPRA_EXIT_MSR_READ:
        regs_set_edx_eax(v, msr_read(v, run->msr.index));
        regs_advance(v, MSR_LENGTH);
        break;
    case COPRA_EXIT_MSR_WRITE:
        msr_write(v, run->msr.index, run->msr.value);
        regs_advance(v, MSR_LENGTH);
        break;
    case COPRA_EXIT_VMMCALL:
        run->regs.gpr[COPRA_RAX] = VMMCALL_ENOSYS;
        regs_advance(v, VMMCALL_LENGTH);
        break;
    case COPRA_EXIT_KICK:
        break;
    case COPRA_EXIT_HLT:
        vm_stop(v->vm, config->guest_expect == VMM_EXPECT_HALT ? 0 : VMM_STATUS_GUEST_CRASH,
                "vcpu %u: HLT with interrupts disabled at rip 0x%llx (rflags 0x%llx): nothing "
                "can wake it%s", v->index, (unsigned long long)run->regs.rip,
                (unsigned long long)run->regs.rflags,
                config->guest_expect == VMM_EXPECT_HALT ? " (expected: expect=halt)" : "");
        break;
    case COPRA_EXIT_SHUTDOWN:
        vm_reset(v->vm, "vcpu %u: shutdown (triple fault) at rip 0x%llx", v->index,
                 (unsigned long long)run->regs.rip);
        break;
    case COPRA_EXIT_FAIL:
        exit_stop_crash(v, "the platform refused to enter the guest");
        break;
    case COPRA_EXIT_UNHANDLED:
        exit_stop_crash(v, "an exit the kernel does not handle");
        break;
    case COPRA_EXIT_DEVICE_GONE:
        /* The access completed (all-ones or dropped); re-enter once the
         * model has been restarted, or the VM stops (a debug exit). */
        devmodels_device_gone(v);
        break;
    default:
        vm_stop(v->vm, VMM_STATUS_GUEST_CRASH, "vcpu %u: unknown exit reason %u", v->index,
                reason);
        break;
    }
    return !vm_stopping(v->vm);
}

int vcpu_thread(void *arg)
{
    struct vmm_vcpu *v = arg;

    while (!vm_stopping(v->vm)) {
        struct copra_wait_item item = { .handle = v->handle };
        v->models_generation = __atomic_load_n(&v->vm->models_generation, __ATOMIC_ACQUIRE);
        int64_t r = coco_wait(&item, 1, COPRA_WAIT_FOREVER);
        if (r < 0) {
            vm_stop(v->vm, VMM_STATUS_GUEST_CRASH, "vcpu %u: WAIT_FOR_EVENT failed: %s",
                    v->index, coco_strerror(r));
            break;
        }
        if (!item.ready)
            continue;
        if (!vcpu_exit(v, v->run->exit_reason))
            break;
    }
    vcpu_serial_flush(v);
    return 0;
}
