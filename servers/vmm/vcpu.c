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
 *   MSR           msr.c; RIP += 2, or #GP(0) injected.
 *   VMMCALL       no hypercalls yet: RAX = -1000 (as KVM's -KVM_ENOSYS); RIP += 3.
 *   INIT, SIPI     the INIT state, then CS:IP = vector << 8 : 0 (irqd sends them).
 *   HLT (every VCPU halted with IF=0 or waiting for a SIPI), SHUTDOWN,
 *                 FAIL, UNHANDLED: the VM stops.
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
 * A whitelist over the CPU the VMM runs on (CPUID is not intercepted for
 * ring 3 on Copra): a feature bit reaches the guest only if it is listed
 * below, so a host feature this VM does not model (TSC-deadline, x2APIC,
 * PMU, speculation-control MSRs, MONITOR/MWAIT, nested SVM/VMX, ...) never
 * does, whatever the host grows.  Leaves not listed read zero; the maximum
 * basic leaf is 0xD and the maximum extended leaf 0x8000_0008.
 *   1:          EBX[31:24] initial APIC ID = VCPU index, EBX[23:16] = VCPUs,
 *               EDX.HTT with more than one; ECX.hypervisor set;
 *               ECX.OSXSAVE = the guest's CR4.OSXSAVE, as the CPU does it;
 *               XSAVE only with an XCR0 mask, AVX/FMA/F16C only with AVX.
 *   4:          the host's caches with EAX[31:26] = VCPUs - 1 (one core
 *               each, nothing shared between VCPUs above L2's sharing).
 *   7.0:        EAX = 0 (no subleaf 1); AVX2/VAES/VPCLMULQDQ only with AVX;
 *               no AVX-512, AMX, PKU (the kernel switches x87, SSE, AVX).
 *   0xB:        x2APIC topology: level 0 SMT (1 thread), level 1 core
 *               (VCPUs), EDX = VCPU index.
 *   0xD:        0: EAX:EDX = the XCR0 mask (vm->xcr0_mask, what the kernel
 *               switches within VMM_XCR0_POLICY), EBX = the area size for
 *               the guest's XCR0, ECX = for the mask; 1: no XSAVES (IA32_XSS
 *               is not virtualized); n >= 2: the host's, for bits in the mask.
 *   0x4000_0000: max hypervisor leaf 0x4000_0010, signature "CopraCopraCo";
 *   0x4000_0010: EAX = TSC frequency in kHz (the de-facto "timing
 *               information" leaf of VMware and KVM), EBX = 0 (no bus clock);
 *   0x4000_0100: KVM's interface, where Linux's hypervisor_cpuid_base()
 *               scan (0x4000_0000 + n * 0x100) finds it after Copra's own:
 *               EAX = 0x4000_0101, signature "KVMKVMKVM\0\0\0";
 *   0x4000_0101: EAX = KVM_FEATURE_CLOCKSOURCE2 only (kvm-clock through
 *               MSRs 0x4b564d00/01, msr.c), EDX = 0 (no hints).  Not
 *               CLOCKSOURCE_STABLE_BIT: each VCPU's clock comes from its
 *               own host CPU's TSC, and Copra does not make the host CPUs'
 *               TSCs agree (under QEMU TCG they do not), so the guest must
 *               keep its kvm-clock monotonic across VCPUs itself.
 *   0x8000_0001: AMD's feature mirror, whitelisted; CmpLegacy with more than
 *               one VCPU; no SVM, TOPOEXT, OSVW, IBS, perf-counter extensions.
 *   0x8000_0007: EDX.invariant TSC only.
 *   0x8000_0008: EAX (address sizes) as the host; EBX CLZERO, XSAVEERPTR;
 *               ECX.NC = VCPUs - 1 with the matching APIC-ID core bits.
 */
#define CPUID_SIGNATURE_EBX 0x72706f43u   /* "Copr" */
#define CPUID_SIGNATURE_ECX 0x706f4361u   /* "aCop" */
#define CPUID_SIGNATURE_EDX 0x6f436172u   /* "raCo" */
#define CPUID_KVM_BASE      0x40000100u
#define CPUID_KVM_FEATURES  0x40000101u
#define CPUID_KVM_SIGNATURE_EBX 0x4b4d564bu   /* "KVMK" */
#define CPUID_KVM_SIGNATURE_ECX 0x564b4d56u   /* "VMKV" */
#define CPUID_KVM_SIGNATURE_EDX 0x4du         /* "M\0\0\0" */
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define CPUID_MAX_BASIC     0xdu
#define CPUID_MAX_EXTENDED  0x80000008u
#define CPUID1_ECX_FMA      (1u << 12)
#define CPUID1_ECX_XSAVE    (1u << 26)
#define CPUID1_ECX_OSXSAVE  (1u << 27)
#define CPUID1_ECX_AVX      (1u << 28)
#define CPUID1_ECX_F16C     (1u << 29)
#define CPUID1_EDX_HTT      (1u << 28)
#define CPUID7_EBX_AVX2     (1u << 5)
#define CPUID7_ECX_VAES     (3u << 9)     /* VAES, VPCLMULQDQ */
#define CPUIDD1_EAX_XSAVES  (1u << 3)
#define XCR0_AVX            4u
#define CR4_OSXSAVE         (1ull << 18)

/* SSE3 PCLMUL SSSE3 FMA CX16 PCID SSE4.1 SSE4.2 MOVBE POPCNT AES XSAVE OSXSAVE AVX F16C RDRAND hypervisor */
#define CPUID1_ECX_ALLOWED  0xfeda3203u
/* FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2 HTT */
#define CPUID1_EDX_ALLOWED  0x178bfbffu
/* FSGSBASE BMI1 AVX2 SMEP BMI2 ERMS RDSEED ADX SMAP CLFLUSHOPT CLWB SHA */
#define CPUID7_EBX_ALLOWED  0x219c03a9u
/* UMIP GFNI VAES VPCLMULQDQ RDPID */
#define CPUID7_ECX_ALLOWED  0x00400704u
/* FSRM */
#define CPUID7_EDX_ALLOWED  0x00000010u
/* LAHF CmpLegacy ABM SSE4A MisAlignSse 3DNowPrefetch XOP FMA4 TBM */
#define CPUIDX1_ECX_ALLOWED 0x002109e3u
/* leaf 1's EDX bits AMD mirrors, SYSCALL NX MMXEXT FFXSR 1G-pages RDTSCP LM 3DNowExt 3DNow */
#define CPUIDX1_EDX_ALLOWED 0xefd3fbffu
#define CPUIDX1_ECX_XOP_FMA4 ((1u << 11) | (1u << 16))
#define CPUIDX7_EDX_INVTSC  (1u << 8)
#define CPUIDX8_EBX_ALLOWED 0x00000005u   /* CLZERO, XSAVEERPTR */

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

/* Bits an APIC ID needs for `n` VCPUs (the topology leaves' shift). */
static uint32_t id_bits(unsigned n)
{
    uint32_t bits = 0;
    while ((1u << bits) < n)
        bits++;
    return bits;
}

static void cpuid_xsave(const struct vmm_vcpu *v, uint32_t subleaf, uint32_t r[4])
{
    uint64_t mask = v->vm->xcr0_mask;
    if (!mask || (subleaf >= 2 && (subleaf >= 63 || !(mask & (1ull << subleaf))))) {
        r[0] = r[1] = r[2] = r[3] = 0;
    } else if (subleaf == 0) {
        r[0] = (uint32_t)mask;
        r[3] = (uint32_t)(mask >> 32);
        r[1] = xsave_size(vcpu_state(v, COPRA_STATE_XCR0));
        r[2] = xsave_size(mask);
    } else if (subleaf == 1) {
        r[0] &= ~CPUIDD1_EAX_XSAVES;
        r[1] = xsave_size(vcpu_state(v, COPRA_STATE_XCR0));
        r[2] = r[3] = 0;
    }
}

void cpuid_policy(const struct vmm_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    uint64_t mask = v->vm->xcr0_mask;
    unsigned n = v->vm->nvcpus;
    uint32_t host_max[4];

    if (leaf >= 0x40000000u && leaf <= 0x400001ffu) {
        r[0] = r[1] = r[2] = r[3] = 0;
        if (leaf == CPUID_KVM_BASE) {
            r[0] = CPUID_KVM_FEATURES;
            r[1] = CPUID_KVM_SIGNATURE_EBX;
            r[2] = CPUID_KVM_SIGNATURE_ECX;
            r[3] = CPUID_KVM_SIGNATURE_EDX;
        }
        if (leaf == CPUID_KVM_FEATURES)
            r[0] = KVM_FEATURE_CLOCKSOURCE2;
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
    cpuid_native(leaf & 0x80000000u, 0, host_max);
    uint32_t max = leaf & 0x80000000u ? CPUID_MAX_EXTENDED : CPUID_MAX_BASIC;
    max = host_max[0] < max ? host_max[0] : max;
    if (leaf > max) {
        r[0] = r[1] = r[2] = r[3] = 0;
        return;
    }
    cpuid_native(leaf, subleaf, r);
    switch (leaf) {
    case 0:
    case 0x80000000u:
        r[0] = max;
        break;
    case 1:
        r[1] = (r[1] & 0x0000ffffu) | (uint32_t)v->index << 24 | (uint32_t)(n & 0xff) << 16;
        r[2] = (r[2] & CPUID1_ECX_ALLOWED & ~CPUID1_ECX_OSXSAVE) | 1u << 31;
        r[3] = (r[3] & CPUID1_EDX_ALLOWED & ~CPUID1_EDX_HTT) | (n > 1 ? CPUID1_EDX_HTT : 0);
        if (!mask)
            r[2] &= ~CPUID1_ECX_XSAVE;
        if (!(mask & XCR0_AVX))
            r[2] &= ~(CPUID1_ECX_AVX | CPUID1_ECX_FMA | CPUID1_ECX_F16C);
        if ((r[2] & CPUID1_ECX_XSAVE) && (vcpu_state(v, COPRA_STATE_CR4) & CR4_OSXSAVE))
            r[2] |= CPUID1_ECX_OSXSAVE;
        break;
    case 2:
        break;
    case 4:
        if (r[0] & 0x1f)
            r[0] = (r[0] & 0x03ffc3ffu) | (uint32_t)(n - 1) << 26;
        break;
    case 7:
        if (subleaf != 0) {
            r[0] = r[1] = r[2] = r[3] = 0;
            break;
        }
        r[0] = 0;
        r[1] &= CPUID7_EBX_ALLOWED;
        r[2] &= CPUID7_ECX_ALLOWED;
        r[3] &= CPUID7_EDX_ALLOWED;
        if (!(mask & XCR0_AVX)) {
            r[1] &= ~CPUID7_EBX_AVX2;
            r[2] &= ~CPUID7_ECX_VAES;
        }
        break;
    case 0xb:
        r[0] = subleaf == 0 ? 0 : subleaf == 1 ? id_bits(n) : 0;
        r[1] = subleaf == 0 ? 1 : subleaf == 1 ? n : 0;
        r[2] = (subleaf & 0xff) | (subleaf < 2 ? (subleaf + 1) << 8 : 0);
        r[3] = v->index;
        break;
    case 0xd:
        cpuid_xsave(v, subleaf, r);
        break;
    case 0x80000001u:
        r[2] &= CPUIDX1_ECX_ALLOWED;
        r[2] = (r[2] & ~2u) | (n > 1 ? 2u : 0);
        if (!(mask & XCR0_AVX))
            r[2] &= ~CPUIDX1_ECX_XOP_FMA4;
        r[3] &= CPUIDX1_EDX_ALLOWED;
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u:   /* brand string */
    case 0x80000005u: case 0x80000006u:                      /* cache and TLB */
        break;
    case 0x80000007u:
        r[0] = r[1] = r[2] = 0;
        r[3] &= CPUIDX7_EDX_INVTSC;
        break;
    case 0x80000008u:
        r[1] &= CPUIDX8_EBX_ALLOWED;
        r[2] = (id_bits(n) << 12) | (n - 1);
        r[3] = 0;
        break;
    default:
        r[0] = r[1] = r[2] = r[3] = 0;
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

int vcpu_set_states(struct vmm_vcpu *v, const uint64_t (*values)[2], unsigned n)
{
    struct copra_batch_call calls[COPRA_BATCH_MAX];
    struct copra_batch_result results[COPRA_BATCH_MAX];

    for (unsigned done = 0; done < n;) {
        unsigned k = n - done < COPRA_BATCH_MAX ? n - done : COPRA_BATCH_MAX;
        for (unsigned i = 0; i < k; i++)
            calls[i] = (struct copra_batch_call){
                .nr = COPRA_SYS_VCPU_SET_STATE, .args = { v->handle, values[done + i][0], values[done + i][1] },
            };
        int64_t r = coco_batch(calls, results, k, COPRA_BATCH_STOP_ON_ERROR);
        if (r < 0)
            return (int)r;
        for (int64_t i = 0; i < r; i++)
            if (results[i].result < 0) {
                coco_printf("vmm: vcpu %u: VCPU_SET_STATE(%llu) failed: %s\n", v->index,
                            (unsigned long long)values[done + i][0], coco_strerror(results[i].result));
                return (int)results[i].result;
            }
        done += k;
    }
    return 0;
}

/*
 * INIT (the kernel now holds the VCPU in wait-for-SIPI): the state the CPU
 * takes, as KVM sets it (AMD APM vol. 2 table 14-1): real mode at
 * F000:FFF0 with CS base 0xFFFF0000, CR0 CD|NW|ET, EFER 0, RDX the CPUID
 * signature.  MSRs other than EFER and the x87/SSE state are kept.
 */
static void exit_init(struct vmm_vcpu *v)
{
    uint32_t sig[4];
    cpuid_policy(v, 1, 0, sig);
    uint64_t values[80][2];
    unsigned n = 0;
#define PUT(id, value) (values[n][0] = (id), values[n][1] = (value), n++)
    for (unsigned r = 0; r < 16; r++)
        PUT(COPRA_STATE_GPR0 + r, r == COPRA_RDX ? sig[0] : 0);
    PUT(COPRA_STATE_CR0, 0x60000010u);
    PUT(COPRA_STATE_CR2, 0);
    PUT(COPRA_STATE_CR3, 0);
    PUT(COPRA_STATE_CR4, 0);
    PUT(COPRA_STATE_EFER, 0);
    PUT(COPRA_STATE_CR8, 0);
    PUT(COPRA_STATE_XCR0, 1);
    PUT(COPRA_STATE_RFLAGS, 2);
    PUT(COPRA_STATE_RIP, 0xfff0);
    for (unsigned s = COPRA_ES; s <= COPRA_TR; s++) {
        static const uint16_t attr[] = { 0x92, 0x9a, 0x92, 0x92, 0x92, 0x92, 0x82, 0x83 };
        PUT(COPRA_STATE_SEG(s, COPRA_SEG_SEL), s == COPRA_CS ? 0xf000 : 0);
        PUT(COPRA_STATE_SEG(s, COPRA_SEG_BASE), s == COPRA_CS ? 0xffff0000u : 0);
        PUT(COPRA_STATE_SEG(s, COPRA_SEG_LIMIT), 0xffff);
        PUT(COPRA_STATE_SEG(s, COPRA_SEG_ATTR), attr[s]);
    }
    PUT(COPRA_STATE_GDTR_BASE, 0);
    PUT(COPRA_STATE_GDTR_LIMIT, 0xffff);
    PUT(COPRA_STATE_IDTR_BASE, 0);
    PUT(COPRA_STATE_IDTR_LIMIT, 0xffff);
    for (unsigned d = 0; d < 4; d++)
        PUT(COPRA_STATE_DR0 + d, 0);
    PUT(COPRA_STATE_DR6, 0xffff0ff0u);
    PUT(COPRA_STATE_DR7, 0x400);
#undef PUT
    if (vcpu_set_states(v, values, n) < 0)
        vm_stop(v->vm, VMM_STATUS_VM_SETUP, "vcpu %u: setting the INIT state failed", v->index);
}

/* SIPI: the VCPU starts in real mode at vector << 12 (CS = vector << 8, IP 0). */
static void exit_sipi(struct vmm_vcpu *v)
{
    uint64_t vector = v->run->sipi.vector;
    const uint64_t values[][2] = {
        { COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_SEL), vector << 8 },
        { COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_BASE), vector << 12 },
        { COPRA_STATE_RIP, 0 },
    };
    if (vcpu_set_states(v, values, 3) < 0)
        vm_stop(v->vm, VMM_STATUS_VM_SETUP, "vcpu %u: setting the SIPI state failed", v->index);
}

/* Queue an exception for the guest's next entry (RIP stays: a fault). */
static void vcpu_inject(struct vmm_vcpu *v, uint64_t event, const char *what)
{
    int r = coco_vcpu_set_state(v->handle, COPRA_STATE_PENDING_EVENT, event);
    if (r < 0)
        coco_printf("vmm: vcpu %u: %s: injecting 0x%llx failed: %s\n", v->index, what,
                    (unsigned long long)event, coco_strerror(r));
}

void vcpu_inject_gp(struct vmm_vcpu *v, const char *what)
{
    vcpu_inject(v, COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | COPRA_EVENT_ERROR_CODE | 13, what);
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
    vcpu_inject(v, event, "XSETBV");
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
    case COPRA_EXIT_MSR_READ: {
        uint64_t value;
        if (!msr_read(v, run->msr.index, &value)) {
            vcpu_inject_gp(v, "RDMSR");
            break;
        }
        regs_set_edx_eax(v, value);
        regs_advance(v, MSR_LENGTH);
        break;
    }
    case COPRA_EXIT_MSR_WRITE:
        if (msr_write(v, run->msr.index, run->msr.value))
            regs_advance(v, MSR_LENGTH);
        else
            vcpu_inject_gp(v, "WRMSR");
        break;
    case COPRA_EXIT_VMMCALL:
        run->regs.gpr[COPRA_RAX] = VMMCALL_ENOSYS;
        regs_advance(v, VMMCALL_LENGTH);
        break;
    case COPRA_EXIT_KICK:
        break;
    case COPRA_EXIT_INIT:
        exit_init(v);
        break;
    case COPRA_EXIT_SIPI:
        exit_sipi(v);
        break;
    case COPRA_EXIT_HLT:
        vm_stop(v->vm, config->guest_expect == VMM_EXPECT_HALT ? 0 : VMM_STATUS_GUEST_CRASH,
                "vcpu %u: HLT with interrupts disabled at rip 0x%llx (rflags 0x%llx), every VCPU "
                "halted or waiting for a SIPI: nothing can wake the VM%s", v->index, (unsigned long long)run->regs.rip,
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
