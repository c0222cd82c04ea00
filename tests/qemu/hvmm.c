/* SPDX-License-Identifier: MIT */
/*
 * hvmm: one case of the hostile-guest fuzzer (hfuzz.h).  It builds a VM
 * with RAM, read-only RAM, holes and device-model ranges, writes a random
 * guest for one CPU mode (hfuzz_guest.c), starts the hostile device model
 * (hdm) with the ranges, and runs one thread per VCPU that answers every
 * exit -- mostly as a VMM would, often with random data, random state,
 * random events.  Its main thread meanwhile injects interrupts, kicks,
 * pokes state and maps guest pages under the running VCPUs.
 *
 * Usage (from hfuzz): hvmm seed=S case=C flags=F modes=M budget=MS exits=N
 * ncpus=N [cap=1].  With cap=1 its received handle 0 is the right to create
 * VMs, handed on by hfuzz (see vm_create()).
 *
 * It exits with an enum hfuzz_status: what it saw the kernel get wrong.
 * Everything else -- a panic, a QEMU abort, a lost CPU, lost pages -- hfuzz
 * and the test runner see.
 */
#include "hfuzz_guest.h"
#include "hfuzz_ksyms.h"
#include <coco/vm.h>

#define VCPUS_MAX 2

struct vcpu_ctx {
    unsigned index;
    unsigned cpu;
    copra_handle_t vcpu, irq, timer;
    struct copra_run_page *run;
    struct copra_vapic_page *vapic;   /* scribbled on at random (ABI 9) */
    uint64_t rng;
    unsigned exits, fails, shutdowns, fail_streak;
    unsigned by_reason[16];
    bool wrote_kernel_value;   /* this VMM put a kernel address in RIP, GDTR or IDTR itself */
    int64_t thread;
    volatile bool done;
};

static struct {
    uint64_t seed, index;
    uint32_t flags;
    unsigned nvcpus, ncpus, max_exits;
    bool trace;                  /* log every exit and every hostile act (replaying a case) */
    uint64_t deadline;
    struct hf_guest g;
    copra_handle_t vm, hot;
    bool hot_mapped;
    uint8_t *ro;
    uint8_t ro_copy[G_RO_SIZE];
    struct vcpu_ctx v[VCPUS_MAX];
    volatile int verdict;
} C;

static void verdict(int status, const char *what, uint64_t a, uint64_t b)
{
    int none = 0;
    if (__atomic_compare_exchange_n(&C.verdict, &none, status, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        coco_printf("hvmm: case %lu: %s (%#lx, %#lx)\n", (unsigned long)C.index, what, (unsigned long)a,
                    (unsigned long)b);
}

/* Guest RAM as the VMM makes it: the guest pool's own pages at their
 * address (GUEST_MEM; all an identity platform, tdx or snp, maps), else
 * ordinary memory, which svm maps at any address. */
static int64_t ram_create(copra_handle_t cap, uint64_t gpa, uint64_t size)
{
    int64_t r = cap ? coco_guest_mem(cap, gpa, size / 4096) : COPRA_EBADH;
    return r > 0 ? r : coco_mem_create(size / 4096);
}

/* The one place that creates the VM, with the VM-creation capability the
 * first process received as its handle 1 and hfuzz handed on as our
 * handle 0 (`cap`, or COPRA_HANDLE_NONE). */
static int64_t vm_create(copra_handle_t cap)
{
    return coco_vm_create(cap);
}

/* ---- values a hostile VMM writes ---- */

static bool is_kernel(uint64_t x) { return x >= 0xFFFF800000000000ull; }

static uint64_t any_value(uint64_t *rng)
{
    static const uint64_t v[] = { 0, 1, 2, 0xFFFF, 0xFFFFFFFF, ~0ull, 0x7FFFFFFFFFFFull, 0x800000000000ull,
                                  0xFFFF800000000000ull, G_BODY, G_RO, G_MMIO_A, G_HOLE, G_MMIO_B, 0xFFFFF000 };
    switch (hf_below(rng, 5)) {
    case 0: return v[hf_below(rng, sizeof(v) / 8)];
    case 1: return hfuzz_ktext[hf_below(rng, sizeof(hfuzz_ktext) / 8)];
    case 2: return hf_next(rng) & 0xFFFF;
    case 3: return (uint32_t)hf_next(rng);
    default: return hf_next(rng);
    }
}

static uint64_t random_event(uint64_t *rng)
{
    uint64_t type = hf_below(rng, 8), vec = hf_below(rng, 256);
    switch (hf_below(rng, 6)) {
    case 0: type = 3; vec = 2; break;                  /* an exception with the NMI vector */
    case 1: type = 3; vec = hf_below(rng, 32); break;  /* an exception, maybe without its error code */
    case 2: type = 2; break;                           /* NMI with any vector */
    case 3: type = 0; vec = 0x20 + hf_below(rng, 0xE0); break;
    default: break;
    }
    uint64_t e = vec | type << 8 | COPRA_EVENT_VALID;
    if (hf_chance(rng, 2))
        e |= COPRA_EVENT_ERROR_CODE | (hf_next(rng) & 0xFFFFFFFF00000000ull);
    if (hf_chance(rng, 10))
        e = hf_next(rng);   /* reserved bits, maybe not valid */
    return e;
}

static uint64_t state_value(struct vcpu_ctx *v, unsigned id)
{
    uint64_t *rng = &v->rng;
    const struct hf_guest *g = &C.g;
    static const uint32_t cr0_bits[] = { 1u << 0, 1u << 1, 1u << 2, 1u << 3, 1u << 5, 1u << 16, 1u << 18,
                                         1u << 29, 1u << 30, 1u << 31 };
    switch (id) {
    case COPRA_STATE_CR0:
        if (hf_chance(rng, 3))
            return (g->cr0 | 1u << 29) & ~(1u << 30);   /* NW without CD (issue 13, item 1) */
        return hf_chance(rng, 8) ? any_value(rng) : g->cr0 ^ cr0_bits[hf_below(rng, 10)];
    case COPRA_STATE_CR4:
        return hf_chance(rng, 4) ? any_value(rng) : g->cr4 ^ (1ull << hf_below(rng, 24));
    case COPRA_STATE_CR3:
        return hf_chance(rng, 2) ? any_value(rng) : (G_PML4 | hf_below(rng, 0x1000));
    case COPRA_STATE_EFER:
        return hf_chance(rng, 4) ? any_value(rng) : (0xD01 & hf_next(rng));
    case COPRA_STATE_RFLAGS:
        return hf_chance(rng, 4) ? any_value(rng) : (2 | (hf_next(rng) & 0x3F7FD5));
    case COPRA_STATE_PENDING_EVENT:
        return random_event(rng);
    default:
        if (id >= COPRA_STATE_SEG_BASE_ID && (id - COPRA_STATE_SEG_BASE_ID) % 4 == COPRA_SEG_ATTR) {
            static const uint16_t attrs[] = { 0x09B, 0x093, 0xC9B, 0xC93, 0xA9B, 0x0FB, 0x0F3, 0x08B, 0x089,
                                              0x082, 0x000, 0x0F0, 0xFFF };
            return hf_chance(rng, 3) ? hf_below(rng, 0x1000) : attrs[hf_below(rng, 13)];
        }
        return any_value(rng);
    }
}

/* A state ID to write: the ones VMRUN checks more often than the rest. */
static unsigned state_id(uint64_t *rng)
{
    static const uint8_t hot[] = { COPRA_STATE_CR0, COPRA_STATE_CR3, COPRA_STATE_CR4, COPRA_STATE_EFER,
                                   COPRA_STATE_RFLAGS, COPRA_STATE_RIP, COPRA_STATE_PAT,
                                   COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_ATTR), COPRA_STATE_SEG(COPRA_SS, COPRA_SEG_ATTR),
                                   COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR), COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_BASE),
                                   COPRA_STATE_GDTR_BASE, COPRA_STATE_IDTR_LIMIT };
    return hf_chance(rng, 2) ? hot[hf_below(rng, sizeof(hot))] : (unsigned)hf_below(rng, COPRA_STATE_COUNT + 2);
}

#define TRACE(...)                       \
    do {                                 \
        if (C.trace)                     \
            coco_printf(__VA_ARGS__);    \
    } while (0)

static void set_state(struct vcpu_ctx *v, unsigned id, uint64_t value)
{
    TRACE("hvmm: vcpu %u: SET_STATE %u = %#lx\n", v->index, id, (unsigned long)value);
    if ((id == COPRA_STATE_RIP || id == COPRA_STATE_GDTR_BASE || id == COPRA_STATE_IDTR_BASE) && is_kernel(value))
        v->wrote_kernel_value = true;
    coco_vcpu_set_state(v->vcpu, id, value);
}

/* ---- entering the guest ---- */

/* The complete entry state at `chunk`, in one BATCH. */
static int full_reset(struct vcpu_ctx *v, unsigned chunk)
{
    struct hf_state s[HF_STATE_MAX];
    unsigned n = hf_guest_state(&C.g, v->index, chunk, &v->rng, s);
    struct copra_batch_call calls[COPRA_BATCH_MAX];
    struct copra_batch_result res[COPRA_BATCH_MAX];
    if (n > COPRA_BATCH_MAX)
        n = COPRA_BATCH_MAX;
    for (unsigned i = 0; i < n; i++)
        calls[i] = (struct copra_batch_call){ .nr = COPRA_SYS_VCPU_SET_STATE, .args = { v->vcpu, s[i].id, s[i].value } };
    int64_t r = coco_batch(calls, res, n, 0);
    if (r != (int64_t)n)
        return -1;
    /* A kernel that checks state more strictly may refuse a value (a busy
     * TSS type, say): the rest still applies, and the entry shows the result. */
    for (unsigned i = 0; i < n; i++)
        if (res[i].result < 0)
            TRACE("hvmm: vcpu %u: entry state %u = %#lx refused (%ld)\n", v->index, s[i].id,
                  (unsigned long)s[i].value, (long)res[i].result);
    v->run->dirty = 0;
    return 0;
}

static void goto_chunk(struct vcpu_ctx *v, unsigned chunk)
{
    v->run->regs.rip = hf_guest_chunk_rip(&C.g, chunk);
    v->run->dirty |= COPRA_DIRTY_RIP;
}

static void advance(struct vcpu_ctx *v, unsigned n)
{
    if (hf_chance(&v->rng, 16))
        n = (unsigned)hf_below(&v->rng, 4);   /* wrong on purpose: re-execute or land mid-instruction */
    v->run->regs.rip += n;
    v->run->dirty |= COPRA_DIRTY_RIP;
}

static uint64_t data_value(uint64_t *rng)
{
    return hf_chance(rng, 2) ? hf_next(rng) : hf_chance(rng, 2) ? 0 : ~0ull;
}

/* After a failed entry: nothing of the host may show, and a state that ran must run again. */
static void entry_failed(struct vcpu_ctx *v)
{
    uint64_t rip = v->run->regs.rip, gdtr = 0, idtr = 0;
    coco_vcpu_get_state(v->vcpu, COPRA_STATE_GDTR_BASE, &gdtr);
    coco_vcpu_get_state(v->vcpu, COPRA_STATE_IDTR_BASE, &idtr);
    if (!v->wrote_kernel_value &&
        ((rip >= HFUZZ_KTEXT_START && rip < HFUZZ_KTEXT_END) || idtr == HFUZZ_KIDT ||
         (gdtr >= HFUZZ_KDATA_START && gdtr < HFUZZ_KDATA_END)))
        verdict(HS_LEAK, "host state readable after a failed entry (issue 13 item 1): rip, idtr", rip, idtr);
    v->fails++;
    if (++v->fail_streak >= 2) {
        verdict(HS_WEDGED, "VMRUN still fails after the VMM restored a state that ran (issue 13 item 3): "
                           "exit code, info1", v->run->fail.code, v->run->fail.info1);
        v->done = true;
        return;
    }
    if (full_reset(v, (unsigned)hf_below(&v->rng, G_CHUNKS)))
        verdict(HS_SETUP, "restoring the entry state failed", v->index, 0);
}

static void serve(struct vcpu_ctx *v, unsigned reason)
{
    struct copra_run_page *run = v->run;
    uint64_t *rng = &v->rng;
    switch (reason) {
    case COPRA_EXIT_IO:
        if (run->io.in)
            run->io.data = data_value(rng);
        break;
    case COPRA_EXIT_MMIO:
        if (!run->mmio.decoded)
            goto_chunk(v, (unsigned)hf_below(rng, G_CHUNKS));   /* not emulated: skip to some chunk */
        else if (!run->mmio.write)
            run->mmio.data = data_value(rng);
        break;
    case COPRA_EXIT_CPUID:
    case COPRA_EXIT_MSR_READ:
        for (unsigned r = 0; r < 4; r++)
            run->regs.gpr[r] = hf_chance(rng, 2) ? hf_next(rng) : hf_next(rng) & 0xFFFFFFFF;
        run->dirty |= COPRA_DIRTY_GPRS;
        advance(v, 2);
        break;
    case COPRA_EXIT_MSR_WRITE:
        advance(v, 2);
        break;
    case COPRA_EXIT_VMMCALL:
        advance(v, 3);
        break;
    case COPRA_EXIT_HLT:
        if (hf_chance(rng, 2)) {
            run->regs.rflags |= 0x200;   /* STI for the guest: the next HLT parks, an IRQ wakes it */
            advance(v, 1);
            if (C.flags & HF_IRQ)
                coco_irq_inject(v->irq, 0x20 + (unsigned)hf_below(rng, 0xE0));
        } else {
            goto_chunk(v, (unsigned)hf_below(rng, G_CHUNKS));
        }
        break;
    case COPRA_EXIT_SHUTDOWN:
        v->shutdowns++;
        if (full_reset(v, (unsigned)hf_below(rng, G_CHUNKS)))
            verdict(HS_SETUP, "restoring the entry state failed", v->index, 1);
        break;
    case COPRA_EXIT_FAIL:
        entry_failed(v);
        return;
    case COPRA_EXIT_UNHANDLED:
        goto_chunk(v, (unsigned)hf_below(rng, G_CHUNKS));
        break;
    default:
        break;
    }
    v->fail_streak = 0;
}

/* What a hostile VMM adds between two entries. */
static void hostile(struct vcpu_ctx *v)
{
    uint64_t *rng = &v->rng;
    if (!hf_chance(rng, 3))
        return;
    switch (hf_below(rng, 6)) {
    case 0:
    case 1:
        if (C.flags & HF_STATE)
            for (uint64_t n = 1 + hf_below(rng, 3); n; n--) {
                unsigned id = state_id(rng);
                if (id == COPRA_STATE_PENDING_EVENT && !(C.flags & HF_EVENT))
                    continue;
                set_state(v, id, state_value(v, id));
            }
        break;
    case 2:
        if (C.flags & HF_EVENT)
            coco_vcpu_set_state(v->vcpu, COPRA_STATE_PENDING_EVENT, random_event(rng));
        break;
    case 3:
        if (C.flags & HF_STATE) {
            v->run->regs.gpr[hf_below(rng, 16)] = any_value(rng);
            if (hf_chance(rng, 4))
                v->run->regs.rflags = state_value(v, COPRA_STATE_RFLAGS);
            v->run->dirty |= hf_below(rng, 4);
            if ((v->run->dirty & COPRA_DIRTY_RIP) && is_kernel(v->run->regs.rip))
                v->wrote_kernel_value = true;
        }
        break;
    case 4:
        if (C.flags & HF_IRQ) {
            unsigned vec = hf_chance(rng, 4) ? COPRA_IRQ_NMI : 0x10 + (unsigned)hf_below(rng, 0xF0);
            TRACE("hvmm: vcpu %u: IRQ_INJECT %#x\n", v->index, vec);
            coco_irq_inject(v->irq, vec);
        }
        break;
    default:
        if (C.flags & HF_STATE) {
            uint64_t x;
            coco_vcpu_get_state(v->vcpu, (unsigned)hf_below(rng, COPRA_STATE_COUNT), &x);
        }
        break;
    }
}

static int vcpu_loop(void *arg)
{
    struct vcpu_ctx *v = arg;
    while (!v->done && v->exits < C.max_exits) {
        uint64_t now = hf_now();
        if (now >= C.deadline)
            break;
        struct copra_wait_item w = { .handle = v->vcpu };
        int64_t r = coco_wait(&w, 1, C.deadline - now);
        if (r == COPRA_ETIMEOUT)
            break;
        if (r < 0 || !w.ready) {
            verdict(HS_SYSCALL, "WAIT on the VCPU failed", (uint64_t)r, v->index);
            break;
        }
        v->exits++;
        unsigned reason = (unsigned)w.value;
        TRACE("hvmm: vcpu %u: exit %u rip %#lx rflags %#lx, info %#lx %#lx\n", v->index, reason,
              (unsigned long)v->run->regs.rip, (unsigned long)v->run->regs.rflags, (unsigned long)v->run->fail.code,
              (unsigned long)v->run->fail.info1);
        v->by_reason[reason < 16 ? reason : 15]++;
        serve(v, reason);
        if (reason != COPRA_EXIT_FAIL)
            hostile(v);
    }
    v->done = true;
    return 0;
}

/* ---- the main thread: meddling while the VCPUs run ---- */

static void meddle(uint64_t *rng)
{
    struct vcpu_ctx *v = &C.v[hf_below(rng, C.nvcpus)];
    uint64_t act = hf_below(rng, 6);
    TRACE("hvmm: meddle %lu on vcpu %u\n", (unsigned long)act, v->index);
    switch (act) {
    case 0:
        if (!(C.flags & HF_IRQ))
            break;
        if (hf_chance(rng, 4)) {
            /* The virtual-APIC page is the VMM's to write: any bits, any
             * TPR, any EOI address, a timer posting any vector. */
            uint64_t *w = (uint64_t *)v->vapic;
            w[hf_below(rng, sizeof(*v->vapic) / 8)] = hf_chance(rng, 2) ? hf_next(rng) : 1ull << hf_below(rng, 64);
            if (hf_chance(rng, 4))
                v->vapic->apic_base = hf_chance(rng, 2) ? 0xFEE00000 : hf_next(rng) & ~0xFFFull;
            if (hf_chance(rng, 4)) {
                coco_irq_timer(v->irq, v->timer, (unsigned)hf_below(rng, 0x110));
                coco_timer_set(v->timer, (uint64_t)coco_clock() + hf_below(rng, 2000000),
                               hf_chance(rng, 2) ? 100000 + hf_below(rng, 1000000) : 0);
            }
            coco_irq_inject(v->irq, COPRA_IRQ_POSTED);
        } else {
            coco_irq_inject(v->irq, hf_chance(rng, 8) ? COPRA_IRQ_NMI : 0x10 + (unsigned)hf_below(rng, 0xF0));
        }
        break;
    case 1:
        if (C.flags & HF_IRQ)
            coco_vcpu_kick(v->vcpu);
        break;
    case 2:
        /* SET_STATE racing the VCPU's own WAIT (issue 13, item 9): EBUSY or applied. */
        if (C.flags & HF_STATE) {
            unsigned id = state_id(rng);
            if (id != COPRA_STATE_PENDING_EVENT || (C.flags & HF_EVENT))
                set_state(v, id, state_value(v, id));
        }
        break;
    case 3:
        if (C.flags & HF_STATE) {
            uint64_t x;
            coco_vcpu_get_state(v->vcpu, (unsigned)hf_below(rng, COPRA_STATE_COUNT), &x);
        }
        break;
    case 4:
        if (C.flags & HF_MAP) {
            uint32_t prot = COPRA_GUEST_R | (uint32_t)hf_below(rng, 8);
            if (C.hot_mapped)
                C.hot_mapped = coco_vm_map(C.vm, COPRA_HANDLE_NONE, G_HOTPLUG, 0, 4096, 0) != 0;
            else
                C.hot_mapped = coco_vm_map(C.vm, C.hot, G_HOTPLUG, 0, 4096, prot & 7) == 0;
        }
        break;
    default:
        if (C.flags & HF_STATE) {   /* the run page written under a running VCPU */
            v->run->regs.gpr[hf_below(rng, 16)] = any_value(rng);
            v->run->dirty = hf_below(rng, 4);
            if ((v->run->dirty & COPRA_DIRTY_RIP) && is_kernel(v->run->regs.rip))
                v->wrote_kernel_value = true;
        }
        break;
    }
}

/* ---- setting up ---- */

static void *map(copra_handle_t h, size_t len)
{
    int64_t a = coco_mmap(h, NULL, len, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    return a < 0 ? NULL : (void *)a;
}

#define NEED(cond, what)                                     \
    do {                                                     \
        if (!(cond)) {                                       \
            verdict(HS_SETUP, what, __LINE__, 0);            \
            return C.verdict;                                \
        }                                                    \
    } while (0)

static void dr_targets(struct hf_guest *g)
{
    uint64_t *rng = &g->rng;
    unsigned n = 0;
    static int stack_probe;
    for (; n < 12; n++)
        g->dr_targets[n] = hfuzz_ktext[hf_below(rng, sizeof(hfuzz_ktext) / 8)];
    for (; n < 20; n++)
        g->dr_targets[n] = hfuzz_kdata[hf_below(rng, sizeof(hfuzz_kdata) / 8)] + 8 * hf_below(rng, 8);
    g->dr_targets[n++] = (uint64_t)(uintptr_t)&vcpu_loop;     /* this VMM's code, */
    g->dr_targets[n++] = (uint64_t)(uintptr_t)&serve;
    g->dr_targets[n++] = (uint64_t)(uintptr_t)&coco_wait;
    g->dr_targets[n++] = (uint64_t)(uintptr_t)&C.verdict;     /* data */
    g->dr_targets[n++] = (uint64_t)(uintptr_t)&stack_probe;
    g->dr_targets[n++] = COPRA_USER_STACK_TOP - 8 - 8 * hf_below(rng, 64);   /* every process's stack */
    g->dr_targets[n++] = 0x400000 + hf_below(rng, 0x4000);                   /* every program's code */
    g->ndr_targets = n;
}

int main(int argc, char **argv)
{
    C.seed = coco_arg_u64(argc, argv, "seed", 1);
    C.index = coco_arg_u64(argc, argv, "case", 0);
    C.flags = (uint32_t)coco_arg_u64(argc, argv, "flags", HF_DEFAULT);
    uint32_t modes = (uint32_t)coco_arg_u64(argc, argv, "modes", HM_ALL) & HM_ALL;
    uint64_t budget = coco_arg_u64(argc, argv, "budget", 100) * HF_MS;
    C.max_exits = (unsigned)coco_arg_u64(argc, argv, "exits", 3000);
    C.ncpus = (unsigned)coco_arg_u64(argc, argv, "ncpus", 1);
    C.trace = coco_arg_u64(argc, argv, "trace", 0) != 0;
    copra_handle_t cap = coco_arg_u64(argc, argv, "cap", 0) && coco_handle_count() ? coco_handle(0) : COPRA_HANDLE_NONE;
    uint64_t rng = hf_case_seed(C.seed, C.index, 1);
    if (!modes)
        modes = HM_ALL;
    enum hfuzz_mode mode;
    do
        mode = (enum hfuzz_mode)hf_below(&rng, HM_COUNT);
    while (!(modes & (1u << mode)));
    C.nvcpus = (C.flags & HF_SMP) && hf_chance(&rng, 2) ? 2 : 1;

    int64_t vm = vm_create(cap);
    NEED(vm > 0, "VM_CREATE");
    C.vm = (copra_handle_t)vm;
    int64_t ram = ram_create(cap, 0, G_RAM_SIZE), ro = ram_create(cap, G_RO, G_RO_SIZE);
    int64_t hot = ram_create(cap, G_HOTPLUG, 4096);
    NEED(ram > 0 && ro > 0 && hot > 0, "MEM_CREATE");
    C.hot = (copra_handle_t)hot;
    uint8_t *ramp = map((copra_handle_t)ram, G_RAM_SIZE);
    C.ro = map((copra_handle_t)ro, G_RO_SIZE);
    NEED(ramp && C.ro, "MMAP");
    for (unsigned i = 0; i < G_RO_SIZE; i++)
        C.ro[i] = C.ro_copy[i] = (uint8_t)(hf_next(&rng) & 0x7F);
    /* The VM gets the read-only pages through a handle without WRITE, as a VMM would hand them. */
    int64_t ro_r = coco_dup((copra_handle_t)ro, COPRA_RIGHT_READ | COPRA_RIGHT_MAP);
    NEED(ro_r > 0, "DUP");
    /* The random code's pages are read-only to the guest unless HF_SMC:
     * code that rewrites itself can make the one instruction form QEMU 7.2
     * aborts on, which hf_guest_build keeps out of the code it writes. */
    uint32_t body_prot = COPRA_GUEST_R | COPRA_GUEST_X | (C.flags & HF_SMC ? COPRA_GUEST_W : 0);
    NEED(coco_vm_map(C.vm, (copra_handle_t)ram, 0, 0, G_BODY, COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X) == 0 &&
             coco_vm_map(C.vm, (copra_handle_t)ram, G_BODY, G_BODY, G_RAM_SIZE - G_BODY, body_prot) == 0,
         "VM_MAP RAM");
    /* Without HF_RO the pages are plain RAM: random segment values in real
     * mode would otherwise still reach them now and then. */
    uint32_t ro_prot = COPRA_GUEST_R | (hf_chance(&rng, 2) ? COPRA_GUEST_X : 0);
    if (C.flags & HF_RO)
        NEED(coco_vm_map(C.vm, (copra_handle_t)ro_r, G_RO, 0, G_RO_SIZE, ro_prot) == 0, "VM_MAP read-only RAM");
    else
        NEED(coco_vm_map(C.vm, (copra_handle_t)ro, G_RO, 0, G_RO_SIZE, ro_prot | COPRA_GUEST_W) == 0, "VM_MAP RAM");
    coco_close((copra_handle_t)ro);
    coco_close((copra_handle_t)ro_r);
    coco_close((copra_handle_t)ram);

    /* The device model's ranges, sometimes one over the read-only RAM. */
    copra_handle_t dmh[8];
    unsigned ndm = 0;
    int64_t h;
    NEED((h = coco_mmio_event(C.vm, G_MMIO_A, G_MMIO_A_LEN)) > 0, "MMIO_EVENT");
    dmh[ndm++] = (copra_handle_t)h;
    NEED((h = coco_mmio_event(C.vm, G_MMIO_B, G_MMIO_B_LEN)) > 0, "MMIO_EVENT");
    dmh[ndm++] = (copra_handle_t)h;
    NEED((h = coco_ioio_event(C.vm, G_PORT_A, 8)) > 0, "IOIO_EVENT");
    dmh[ndm++] = (copra_handle_t)h;
    NEED((h = coco_ioio_event(C.vm, G_PORT_B, 16)) > 0, "IOIO_EVENT");
    dmh[ndm++] = (copra_handle_t)h;
    if (hf_chance(&rng, 4) && (h = coco_mmio_event(C.vm, G_RO + 0x1000, 0x1000)) > 0)
        dmh[ndm++] = (copra_handle_t)h;
    unsigned nranges = ndm;
    int64_t quit = coco_event_create(0);
    NEED(quit > 0, "EVENT_CREATE");
    dmh[ndm++] = (copra_handle_t)quit;
    int64_t quit_dup = coco_dup((copra_handle_t)quit, COPRA_RIGHT_SIGNAL);
    NEED(quit_dup > 0, "DUP");

    C.g.ram = ramp;
    C.g.mode = mode;
    C.g.flags = C.flags;
    C.g.rng = hf_case_seed(C.seed, C.index, 2);
    if (C.flags & HF_DR)
        dr_targets(&C.g);
    hf_guest_build(&C.g);

    for (unsigned i = 0; i < C.nvcpus; i++) {
        struct vcpu_ctx *v = &C.v[i];
        v->index = i;
        v->cpu = (unsigned)hf_below(&rng, C.ncpus);
        v->rng = hf_case_seed(C.seed, C.index, 3 + i);
        int64_t vh = coco_vcpu_create(C.vm, i, v->cpu);
        if (vh == COPRA_ENOMEM && i > 0 && v->cpu == C.v[0].cpu) {
            C.nvcpus = i;   /* tdx: a VM has one VCPU per CPU (abi/README.md VCPU_CREATE) */
            break;
        }
        NEED(vh > 0, "VCPU_CREATE");
        v->vcpu = (copra_handle_t)vh;
        v->run = map(v->vcpu, 4096);
        int64_t irq = coco_irq_create(v->vcpu), irq_dm = coco_irq_create(v->vcpu);
        NEED(v->run && irq > 0 && irq_dm > 0, "IRQ_CREATE");
        v->irq = (copra_handle_t)irq;
        dmh[ndm++] = (copra_handle_t)irq_dm;
        v->vapic = map(v->irq, 4096);
        int64_t timer = coco_timer_create();
        NEED(v->vapic && timer > 0, "the virtual-APIC page and a timer");
        v->timer = (copra_handle_t)timer;
        NEED(full_reset(v, i * G_CHUNKS / 2) == 0, "entry state");
    }
    char cpus[16];
    snprintf(cpus, sizeof(cpus), C.nvcpus > 1 ? "CPUs %u+%u" : "CPU %u", C.v[0].cpu, C.v[1].cpu);
    coco_printf("hvmm: case %lu: %s, %u VCPU(s) on %s, %s, TR %u, CR0 %#lx CR4 %#lx, %u code bytes%s\n",
                (unsigned long)C.index, hfuzz_mode_names[mode], C.nvcpus, cpus, C.g.ring3 ? "ring 3" : "ring 0", C.g.tr_kind,
                (unsigned long)C.g.cr0, (unsigned long)C.g.cr4, C.g.body_len,
                C.g.lock_bt_scrubbed ? " (LOCK BTx reg scrubbed)" : "");

    C.deadline = hf_now() + budget;
    char a[6][32];
    snprintf(a[0], 32, "seed=%lu", (unsigned long)C.seed);
    snprintf(a[1], 32, "case=%lu", (unsigned long)C.index);
    snprintf(a[2], 32, "flags=%u", C.flags);
    snprintf(a[3], 32, "deadline=%lu", (unsigned long)(C.deadline + 30 * HF_MS));
    snprintf(a[4], 32, "ranges=%u", nranges);
    snprintf(a[5], 32, "irqs=%u", C.nvcpus);
    const char *dargv[] = { "hdm", a[0], a[1], a[2], a[3], a[4], a[5] };
    int64_t dm = coco_spawn("hdm", 7, dargv, dmh, ndm);
    NEED(dm > 0, "EXEC hdm");

    for (unsigned i = 0; i < C.nvcpus; i++) {
        C.v[i].thread = coco_thread_spawn(vcpu_loop, &C.v[i], 64 * 1024, C.v[i].cpu);
        NEED(C.v[i].thread > 0, "THREAD_CREATE");
    }

    /* Meddle until every VCPU thread is back; a thread the guest keeps is a finding. */
    uint64_t mrng = hf_case_seed(C.seed, C.index, 9);
    for (;;) {
        struct copra_wait_item w[VCPUS_MAX];
        for (unsigned i = 0; i < C.nvcpus; i++)
            w[i] = (struct copra_wait_item){ .handle = (copra_handle_t)C.v[i].thread };
        coco_wait(w, C.nvcpus, (1 + hf_below(&mrng, 4)) * HF_MS);
        unsigned ended = 0;
        for (unsigned i = 0; i < C.nvcpus; i++)
            ended += w[i].ready;
        if (ended == C.nvcpus)
            break;
        if (hf_now() > C.deadline + 3000 * HF_MS) {
            verdict(HS_VCPU_STUCK, "a VCPU thread did not come back 3 s after the deadline", C.v[0].done,
                    C.v[C.nvcpus - 1].done);
            break;
        }
        if (hf_now() < C.deadline)
            meddle(&mrng);
    }

    coco_signal((copra_handle_t)quit_dup);
    int64_t dstatus = -1;
    struct copra_wait_item dw = { .handle = (copra_handle_t)dm };
    if (coco_wait(&dw, 1, 3000 * HF_MS) != 1)
        verdict(HS_DM_STUCK, "the device model did not end", 0, 0);
    else
        dstatus = (int64_t)dw.value;
    if ((C.flags & HF_RO) && memcmp(C.ro, C.ro_copy, G_RO_SIZE)) {
        unsigned at = 0;
        while (C.ro[at] == C.ro_copy[at])
            at++;
        verdict(HS_RO_WRITTEN, "the guest wrote RAM mapped read-only (issue 13 item 4): gpa, byte", G_RO + at, C.ro[at]);
    }
    unsigned exits = 0, fails = 0, shut = 0, r[16] = { 0 };
    for (unsigned i = 0; i < C.nvcpus; i++) {
        exits += C.v[i].exits;
        fails += C.v[i].fails;
        shut += C.v[i].shutdowns;
        for (unsigned k = 0; k < 16; k++)
            r[k] += C.v[i].by_reason[k];
    }
    coco_printf("hvmm: case %lu: %u exits (io %u mmio %u cpuid %u msr %u hlt %u shutdown %u fail %u other %u), dm %#lx\n",
                (unsigned long)C.index, exits, r[1], r[2], r[3], r[4] + r[5], r[6], shut, fails,
                r[8] + r[9] + r[11] + r[12], (unsigned long)dstatus);
    return C.verdict;
}
