/* SPDX-License-Identifier: MIT */
/*
 * The VCPU run loop.  WAIT_FOR_EVENT on a VCPU moves the thread to the
 * VCPU's CPU and enters the guest again and again, handling in the kernel
 * what needs no policy (host interrupts, interrupt windows, HLT with IF=1,
 * EFER) and stopping for everything else: the exit is written to the run
 * page and the wait returns.  The next wait first completes the instruction
 * the VMM served (IN data into RAX, an MMIO read into its register, RIP).
 */
#include "virt/vcpu.h"
#include "virt/ctrlreg.h"
#include "virt/emulate.h"
#include "virt/gpt.h"
#include "virt/platform.h"
#include "virt/range.h"
#include "core/heap.h"
#include "core/process.h"
#include "core/timer.h"
#include "core/string.h"
#include "core/usercopy.h"
#include "core/wait.h"
#include "arch/x86_64/apic.h"

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_TF (1ull << 8)
#define DR6_BS    (1ull << 14)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_AC (1ull << 18)
#define MSR_EFER_INDEX 0xC0000080u
#define PARK (-1)   /* HLT with IF = 1: an interrupt wakes it */
#define HALT (-2)   /* HLT with IF = 0: an NMI or INIT wakes it */

static uint64_t state(struct vcpu *v, unsigned id) { return platform->get_state(v, id); }

/* ---- guest memory ---- */

static int read_gpa(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
    uint64_t hpa = vm_gpa_to_hpa(ctx, gpa, NULL);
    if (!hpa || (gpa % PAGE_SIZE) + size > PAGE_SIZE)
        return -1;
    memcpy(buf, phys_to_virt(hpa), size);
    return 0;
}

/* The paging registers for gpt_walk(); maxphyaddr 0 means 52 (gpt.h). */
static struct gpt_regs gpt_regs_of(struct vcpu *v)
{
    return (struct gpt_regs){ .cr0 = state(v, COPRA_STATE_CR0), .cr3 = state(v, COPRA_STATE_CR3),
                              .cr4 = state(v, COPRA_STATE_CR4), .efer = state(v, COPRA_STATE_EFER) };
}

/* The access bits (gpt.h) of an access the guest's own instruction makes:
 * CPL 3 is a user access; for data at CPL 0-2 RFLAGS.AC lets SMAP pass
 * (SDM vol. 3 §4.6.1).  CPL is SS.DPL, as the VMCB keeps it (svm.c). */
static unsigned guest_access(struct vcpu *v, unsigned access)
{
    if (((state(v, COPRA_STATE_SEG(COPRA_SS, COPRA_SEG_ATTR)) >> 5) & 3) == 3)
        return access | GPT_USER;
    if (access & GPT_FETCH)
        return access;
    return access | ((state(v, COPRA_STATE_RFLAGS) & RFLAGS_AC) ? GPT_AC : 0);
}

/* Copies between a guest-virtual range and `buf`, checked as `access`
 * (gpt.h).  0; 1 if the guest's page tables deny it (the #PF is in
 * v->fault_gva/fault_code: copy_failed()); -1 if a page is not RAM, or RAM
 * the VM may not write, as an NPF would be. */
static int guest_copy(struct vcpu *v, uint64_t gva, void *buf, size_t n, unsigned access)
{
    struct gpt_regs r = gpt_regs_of(v);
    uint8_t *b = buf;
    bool write = access & GPT_WRITE;
    while (n) {
        uint64_t gpa, hpa;
        size_t chunk = MIN(n, PAGE_SIZE - gva % PAGE_SIZE);
        uint32_t prot = 0;
        int e = gpt_walk(&r, gva, access, read_gpa, v->vm, &gpa, &v->fault_code);
        v->fault_gva = gva;
        if (e || !(hpa = vm_gpa_to_hpa(v->vm, gpa, &prot)) || (write && !(prot & COPRA_GUEST_W)))
            return e == GPT_EFAULT ? 1 : -1;
        if (write)
            memcpy(phys_to_virt(hpa), b, chunk);
        else
            memcpy(b, phys_to_virt(hpa), chunk);
        gva += chunk, b += chunk, n -= chunk;
    }
    return 0;
}

/* The guest takes exception `vector` (CTRL_GP with error code 0, CTRL_UD)
 * at the instruction, as the CPU would have raised it. */
static int vcpu_fault_code(struct vcpu *v, int vector, uint16_t code)
{
    bool has_code = vector == CTRL_GP || vector == CTRL_NP || vector == CTRL_PF;
    v->pending_event = COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | (uint64_t)vector |
                       (has_code ? COPRA_EVENT_ERROR_CODE | (uint64_t)code << 32 : 0);
    return 0;
}

static int vcpu_fault(struct vcpu *v, int vector) { return vcpu_fault_code(v, vector, 0); }

/* After guest_copy() returned c != 0: the guest takes the #PF it recorded
 * (nothing of the instruction done; 0: enter again), or `reason` goes to
 * user space when the memory is not RAM. */
static int copy_failed(struct vcpu *v, int c, int reason)
{
    if (c < 0)
        return reason;
    platform->set_state(v, COPRA_STATE_CR2, v->fault_gva);
    v->pending = PENDING_NONE;
    return vcpu_fault_code(v, CTRL_PF, (uint16_t)v->fault_code);
}

static bool guest_translate(struct vcpu *v, uint64_t gva, bool write, uint64_t *gpa)
{
    struct gpt_regs r = gpt_regs_of(v);
    uint64_t err;
    return gpt_walk(&r, gva, write ? GPT_WRITE : 0, read_gpa, v->vm, gpa, &err) == 0;
}

static enum decode_mode guest_mode(struct vcpu *v)
{
    uint64_t attr = state(v, COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_ATTR));
    if ((state(v, COPRA_STATE_EFER) & (1u << 10)) && (attr & (1u << 9)))   /* LMA, CS.L */
        return DECODE_MODE_64;
    return (attr & (1u << 10)) ? DECODE_MODE_32 : DECODE_MODE_16;          /* CS.D */
}

/* CS:rip as a linear address (CS is flat in 64-bit mode). */
static uint64_t linear_rip(struct vcpu *v, enum decode_mode mode, uint64_t rip)
{
    return rip + (mode == DECODE_MODE_64 ? 0 : state(v, COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_BASE)));
}

static uint64_t seg_base(struct vcpu *v, unsigned decode_seg)
{
    static const uint8_t map[] = { COPRA_ES, COPRA_CS, COPRA_SS, COPRA_DS, COPRA_FS, COPRA_GS };
    if (decode_seg >= sizeof(map))
        return 0;
    if (guest_mode(v) == DECODE_MODE_64 && decode_seg < DECODE_SEG_FS)
        return 0;   /* flat in 64-bit mode */
    return state(v, COPRA_STATE_SEG(map[decode_seg], COPRA_SEG_BASE));
}

/* SS:(rSP + delta) at the stack's address size, SS.B outside 64-bit mode
 * (SDM vol. 1 §6.2.3), which *size receives. */
static uint64_t stack_addr(struct vcpu *v, int64_t delta, unsigned *size)
{
    *size = guest_mode(v) == DECODE_MODE_64 ? 8 : (state(v, COPRA_STATE_SEG(COPRA_SS, COPRA_SEG_ATTR)) & (1u << 10)) ? 4 : 2;
    return seg_base(v, DECODE_SEG_SS) + ((v->gpr[COPRA_RSP] + (uint64_t)delta) & decode_size_mask(*size));
}

/* ---- completing an exit user space served ---- */

static void set_rip(struct vcpu *v, uint64_t rip) { platform->set_state(v, COPRA_STATE_RIP, rip); }

/* An instruction the kernel or the VMM emulated is done: RIP moves past it,
 * and with RFLAGS.TF set the single-step trap follows, as on the CPU (#DB
 * with DR6.BS, SDM vol. 3 §17.3.1.4), unless an event is already queued. */
static void step_rip(struct vcpu *v, uint64_t rip)
{
    set_rip(v, rip);
    if ((platform->get_state(v, COPRA_STATE_RFLAGS) & RFLAGS_TF) && !v->pending_event) {
        platform->set_state(v, COPRA_STATE_DR6, platform->get_state(v, COPRA_STATE_DR6) | DR6_BS);
        v->pending_event = COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | 1;
    }
}

/* INS/OUTS: rSI/rDI move by one element, rCX counts, all at the
 * instruction's address size (SDM vol. 1 §3.7.5). */
static void string_step(struct vcpu *v, bool rep)
{
    int64_t step = (state(v, COPRA_STATE_RFLAGS) & RFLAGS_DF) ? -(int64_t)v->bus.size : v->bus.size;
    unsigned idx = v->bus.write ? COPRA_RSI : COPRA_RDI;
    emulate_reg_write(v->gpr, (int)idx, false, v->string_asize, v->gpr[idx] + (uint64_t)step);
    if (rep)
        emulate_reg_write(v->gpr, COPRA_RCX, false, v->string_asize, v->gpr[COPRA_RCX] - 1);
}

static uint64_t string_count(struct vcpu *v)
{
    return v->gpr[COPRA_RCX] & decode_size_mask(v->string_asize);
}

/* Puts the decoded instruction's next access (v->acc.size bytes) on the
 * bus and in the run page, to wait as `p` for the device's answer. */
static int mmio_request(struct vcpu *v, enum vcpu_pending p, bool write, uint64_t gpa, uint64_t data)
{
    v->pending = p;
    v->bus = (struct bus_request){ true, true, write, v->acc.size, gpa, data };
    v->run->mmio.gpa = gpa;
    v->run->mmio.write = write;
    v->run->mmio.data = data;
    return COPRA_EXIT_MMIO;
}

/* Finishes the instruction behind the last exit.  Returns an exit reason
 * when the instruction needs another round trip (RMW: the write), else 0. */
static int vcpu_complete(struct vcpu *v)
{
    struct copra_run_page *run = v->run;
    enum vcpu_pending p = v->pending;
    v->pending = PENDING_NONE;
    switch (p) {
    case PENDING_IO:
        if (!v->bus.write)
            emulate_reg_write(v->gpr, COPRA_RAX, false, v->bus.size, run->io.data);
        step_rip(v, v->next_rip);
        return 0;
    case PENDING_STRING_IO: {
        int c = v->bus.write ? 0 : guest_copy(v, v->string_gva, &run->io.data, v->bus.size,
                                              guest_access(v, GPT_WRITE));
        if (c)
            return copy_failed(v, c, COPRA_EXIT_UNHANDLED);
        string_step(v, v->insn.rep);
        if (!v->insn.rep || !string_count(v))
            step_rip(v, v->next_rip);
        return 0;
    }
    case PENDING_MMIO_READ:
    case PENDING_MMIO_WRITE: {
        uint64_t rflags = state(v, COPRA_STATE_RFLAGS), wval = 0, mem = p == PENDING_MMIO_READ ? run->mmio.data : 0;
        const struct emulate_access acc = v->acc;   /* as decided at the exit */
        enum decode_op op = v->insn.op;
        int c = 0;
        if (op >= DECODE_VEC_LOAD) {
            /* A vector move: the next 8 bytes, one more trip, until all are done. */
            if (p == PENDING_MMIO_READ)
                memcpy(v->vec + v->vec_done, &mem, acc.size);
            if ((v->vec_done += acc.size) < v->insn.mem_size) {
                uint64_t data = 0;
                memcpy(&data, v->vec + v->vec_done, p == PENDING_MMIO_WRITE ? acc.size : 0);
                return mmio_request(v, p, p == PENDING_MMIO_WRITE, v->bus.addr + acc.size, data);
            }
            if (p == PENDING_MMIO_READ)
                fpu_vector(v, (unsigned)v->insn.reg, v->vec, v->insn.mem_size, true, v->insn.vex);
            step_rip(v, v->next_rip);
            return 0;
        }
        /* The element in RAM, before anything changes: a #PF leaves the
         * instruction undone, as on the CPU (a second MMIO element, MOVS's
         * destination, is a second trip below). */
        uint64_t dst = op == DECODE_MOVS || op == DECODE_CMPS
                     ? seg_base(v, DECODE_SEG_ES) + decode_string_dst(&v->insn, v->gpr) : 0;
        if (op == DECODE_CMPS) {
            /* value_read is seg:[rSI], wval ES:[rDI] (emulate.h); either may be MMIO. */
            uint64_t src = seg_base(v, v->insn.segment) + decode_effective_address(&v->insn, v->gpr, 0), ram = 0;
            if (!(c = guest_copy(v, src, &ram, acc.size, guest_access(v, 0))))
                wval = mem, mem = ram;
            else if (c < 0)
                c = guest_copy(v, dst, &wval, acc.size, guest_access(v, 0));
        } else if (op == DECODE_MOVS && p == PENDING_MMIO_READ) {
            c = guest_copy(v, dst, &mem, acc.size, guest_access(v, GPT_WRITE));   /* MMIO -> RAM */
        } else if (op == DECODE_PUSH || op == DECODE_POP) {
            unsigned ssize;
            uint64_t slot = stack_addr(v, -(int64_t)acc.size, &ssize);
            if (op == DECODE_PUSH && (c = guest_copy(v, slot, &mem, acc.size, guest_access(v, GPT_WRITE))))
                return copy_failed(v, c, COPRA_EXIT_UNHANDLED);
            emulate_reg_write(v->gpr, COPRA_RSP, false, ssize,
                              v->gpr[COPRA_RSP] + (op == DECODE_POP ? acc.size : -(uint64_t)acc.size));
        }
        if (c > 0 || (c < 0 && op != DECODE_MOVS))
            return copy_failed(v, c, COPRA_EXIT_UNHANDLED);
        int st = emulate_complete(&v->insn, v->gpr, &rflags, mem, &wval);
        platform->set_state(v, COPRA_STATE_RFLAGS, rflags);
        if (p == PENDING_MMIO_READ && acc.write && (op != DECODE_MOVS || c < 0)) {
            /* Read-modify-write, XCHG: the new value goes back to the device;
             * MOVS from MMIO to MMIO: a second access, at the destination. */
            uint64_t gpa = v->bus.addr;
            if (op == DECODE_MOVS && !guest_translate(v, dst, true, &gpa))
                return COPRA_EXIT_UNHANDLED;
            v->next_rip = st == EMULATE_DONE ? v->next_rip : state(v, COPRA_STATE_RIP);
            return mmio_request(v, PENDING_MMIO_WRITEBACK, true, gpa, wval);
        }
        if (st == EMULATE_DONE)
            step_rip(v, v->next_rip);
        return 0;
    }
    case PENDING_MMIO_WRITEBACK:
        step_rip(v, v->next_rip);
        return 0;
    default:
        return 0;
    }
}

/* ---- exits ---- */

/* Legacy prefixes (and a REX in 64-bit mode) before the opcode of b[0..n):
 * their count; *asize67 says whether 0x67 was among them. */
static unsigned insn_prefixes(const uint8_t *b, unsigned n, enum decode_mode mode, bool *asize67)
{
    unsigned i = 0;
    *asize67 = false;
    for (; i < n; i++) {
        *asize67 |= b[i] == 0x67;
        if (!(b[i] == 0x67 || b[i] == 0xF2 || b[i] == 0xF3 || b[i] == 0x66 || b[i] == 0x2E || b[i] == 0x36 ||
              b[i] == 0x3E || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65 || b[i] == 0xF0 ||
              (mode == DECODE_MODE_64 && (b[i] & 0xF0) == 0x40)))
            break;
    }
    return i;
}

static unsigned string_addr_size(struct vcpu *v)
{
    enum decode_mode mode = guest_mode(v);
    unsigned size = mode == DECODE_MODE_64 ? 8 : mode == DECODE_MODE_32 ? 4 : 2;
    uint8_t b[15];
    bool a67 = false;
    if (!guest_copy(v, linear_rip(v, mode, state(v, COPRA_STATE_RIP)), b, sizeof(b), 0))
        insn_prefixes(b, sizeof(b), mode, &a67);
    return !a67 ? size : mode == DECODE_MODE_32 ? 2 : 4;   /* 0x67 switches 16 and 32, 64 to 32 */
}

static int exit_io(struct vcpu *v, const struct vm_exit *e)
{
    struct copra_run_page *run = v->run;
    v->next_rip = e->rip + e->insn_len;
    v->bus = (struct bus_request){ true, false, !e->io.in, e->io.size, e->io.port, 0 };
    run->io.port = e->io.port;
    run->io.size = e->io.size;
    run->io.in = e->io.in;
    run->io.string = e->io.string;
    run->io.data = 0;
    if (!e->io.string) {
        if (!e->io.in)
            v->bus.data = run->io.data = v->gpr[COPRA_RAX] & ((1ull << (8 * e->io.size)) - 1);
        v->pending = PENDING_IO;
        return COPRA_EXIT_IO;
    }
    /* INS/OUTS: one element per round trip; REP repeats the instruction. */
    memset(&v->insn, 0, sizeof(v->insn));
    v->insn.rep = e->io.rep;
    /* QEMU leaves EXITINFO1's address-size bits clear (reference, pitfall
     * 12): take the mode's default, switched by a 0x67 prefix. */
    v->string_asize = string_addr_size(v);
    uint64_t amask = decode_size_mask(v->string_asize);
    if (e->io.rep && !string_count(v)) {
        step_rip(v, v->next_rip);
        return 0;
    }
    if (e->io.in) {
        v->string_gva = seg_base(v, DECODE_SEG_ES) + (v->gpr[COPRA_RDI] & amask);
    } else {
        uint64_t src = seg_base(v, DECODE_SEG_DS) + (v->gpr[COPRA_RSI] & amask);
        int c = guest_copy(v, src, &run->io.data, e->io.size, guest_access(v, 0));
        if (c)
            return copy_failed(v, c, COPRA_EXIT_UNHANDLED);
        v->bus.data = run->io.data;
    }
    v->pending = PENDING_STRING_IO;
    return COPRA_EXIT_IO;
}

/* The highest vector set in a 256-bit map, -1 if none; 0-15 are not
 * interrupt vectors and never count.  On the path of every entry, twice:
 * four loads and one test when nothing is set. */
static inline int bits_highest(const uint64_t *bits)
{
    uint64_t w0 = __atomic_load_n(&bits[0], __ATOMIC_ACQUIRE) & ~0xFFFFull;
    uint64_t w1 = __atomic_load_n(&bits[1], __ATOMIC_ACQUIRE);
    uint64_t w2 = __atomic_load_n(&bits[2], __ATOMIC_ACQUIRE);
    uint64_t w3 = __atomic_load_n(&bits[3], __ATOMIC_ACQUIRE);
    if (!(w0 | w1 | w2 | w3))
        return -1;
    return w3 ? 255 - __builtin_clzll(w3) : w2 ? 191 - __builtin_clzll(w2)
         : w1 ? 127 - __builtin_clzll(w1) : 63 - __builtin_clzll(w0);
}

static bool bits_test(const uint64_t *bits, int v) { return (__atomic_load_n(&bits[v / 64], __ATOMIC_RELAXED) >> (v % 64)) & 1; }
static void bits_clear(uint64_t *bits, int v) { __atomic_and_fetch(&bits[v / 64], ~(1ull << (v % 64)), __ATOMIC_ACQ_REL); }
static void bits_set(uint64_t *bits, int v) { __atomic_or_fetch(&bits[v / 64], 1ull << (v % 64), __ATOMIC_ACQ_REL); }

/* The posted vector the guest takes next, -1 if none beats the processor
 * priority (SDM vol. 3A §10.8.3.1; struct copra_vapic_page). */
static int vapic_next(struct vcpu *v)
{
    struct copra_vapic_page *p = v->vapic;
    int irr = bits_highest(p->irr);
    if (irr < 0)
        return -1;
    int isr = bits_highest(p->isr);
    uint32_t ppr = MAX(__atomic_load_n(&p->tpr, __ATOMIC_RELAXED), isr < 0 ? 0u : (uint32_t)isr) & 0xF0u;
    return ((uint32_t)irr & 0xF0u) > ppr ? irr : -1;
}

/*
 * The guest wrote its xAPIC's EOI register: done here, as the CPU's EOI
 * virtualization does, unless the vector in service must be reported to
 * the controller (eoi_exit).  True if the write is complete.
 */
static bool vapic_eoi(struct vcpu *v, uint64_t gpa)
{
    struct copra_vapic_page *p = v->vapic;
    uint64_t base = __atomic_load_n(&p->apic_base, __ATOMIC_RELAXED);
    if (!base || gpa != base + 0xB0)
        return false;
    int isr = bits_highest(p->isr);
    if (isr >= 0 && bits_test(p->eoi_exit, isr))
        return false;
    if (isr >= 0)
        bits_clear(p->isr, isr);
    p->kernel_eois++;
    return true;
}

static bool irq_any(struct vcpu *v)
{
    return v->nmi_pending || bits_highest(v->irq_pending) >= 0 || vapic_next(v) >= 0;
}

static int exit_mmio(struct vcpu *v, const struct vm_exit *e)
{
    struct copra_run_page *run = v->run;
    struct emulate_access *acc = &v->acc;
    uint64_t rip = e->rip;
    size_t got = 0;
    enum decode_mode mode = guest_mode(v);
    memset(&run->mmio, 0, sizeof(run->mmio));
    run->mmio.gpa = e->gpa;
    run->mmio.write = e->write;
    /* As the CPU fetched it: execute permission at the guest's CPL with
     * SMEP, 32-bit wrap outside long mode, the second page only if the
     * instruction crosses; what could be read is what the decoder gets, and
     * a fault on bytes it needs is the guest's #PF. */
    struct gpt_regs r = gpt_regs_of(v);
    int fetch = gpt_fetch(&r, linear_rip(v, mode, rip), guest_access(v, GPT_FETCH), read_gpa, v->vm, run->mmio.insn, 15,
                          &got, &v->fault_gva, &v->fault_code);
    run->mmio.insn_len = (uint8_t)got;
    int d = e->fetch ? DECODE_EUNSUPPORTED : decode_insn(run->mmio.insn, got, mode, &v->insn);
    if (d == DECODE_ETRUNCATED && fetch == GPT_EFAULT)
        return copy_failed(v, 1, 0);
    v->pending = PENDING_MMIO_RAW;
    enum decode_op op = v->insn.op;
    /* Undecodable, or PUSH/POP with the stack in MMIO: the VMM sees raw bytes. */
    if (d || emulate_prepare(&v->insn, v->gpr, acc) || (op == DECODE_PUSH && e->write) ||
        (op == DECODE_POP && !e->write))
        return COPRA_EXIT_MMIO;
    v->next_rip = rip + v->insn.length;
    if (acc->none || (op == DECODE_MOV_STORE && acc->size >= 4 && vapic_eoi(v, e->gpa))) {
        step_rip(v, v->next_rip);
        v->pending = PENDING_NONE;
        return 0;
    }
    if (op >= DECODE_VEC_LOAD) {
        /* SSE/AVX moves in 8-byte accesses (the slot's width), lowest address
         * first; MOVDQA's alignment is the CPU's #GP; across a page: raw. */
        if (v->insn.aligned && (e->gpa & (acc->size - 1)))
            return vcpu_fault(v, CTRL_GP);   /* (pending RAW completes nothing) */
        if ((e->gpa & (PAGE_SIZE - 1)) + acc->size > PAGE_SIZE)
            return COPRA_EXIT_MMIO;
        if (op == DECODE_VEC_STORE)
            fpu_vector(v, (unsigned)v->insn.reg, v->vec, acc->size, false, false);
        v->vec_done = 0;
        acc->size = MIN(acc->size, 8);
        memcpy(&acc->value, v->vec, acc->size);
    }
    if ((op == DECODE_MOVS && e->write) || op == DECODE_POP) {
        /* A write to MMIO of an element in RAM: MOVS's source, POP's stack top. */
        unsigned ssize;
        uint64_t src = op == DECODE_POP ? stack_addr(v, 0, &ssize)
                     : seg_base(v, v->insn.segment) + decode_effective_address(&v->insn, v->gpr, rip);
        int c = guest_copy(v, src, &acc->value, acc->size, guest_access(v, 0));
        if (c)
            return copy_failed(v, c, COPRA_EXIT_MMIO);
        acc->read = false;
    }
    run->mmio.decoded = 1;
    run->mmio.size = acc->size;
    return mmio_request(v, acc->read ? PENDING_MMIO_READ : PENDING_MMIO_WRITE, !acc->read, e->gpa,
                        acc->read ? 0 : acc->value);
}

/*
 * MOV to CR0/CR4/CR8, MOV to or from DR0-7: the operand GPR comes from the
 * platform when it decodes (decode assists, TDX exit qualification), else
 * from the instruction bytes, 0F 20-23 /r with the register in ModRM.rm.
 */
/* The two-byte instruction 0F op ModRM, as MOV CR/DR (0F 20-23) and LTR
 * (0F 00 /3) are encoded: its op, ModRM, ModRM.reg with REX.R and length. */
struct insn_0f {
    uint8_t op, modrm;
    unsigned reg, len;
};

/* Reads that instruction at `rip` into *in; returns the GPR ModRM.rm names
 * (with REX.B), or -1 if the bytes are something else or cannot be read. */
static int insn_0f(struct vcpu *v, uint64_t rip, enum decode_mode mode, struct insn_0f *in)
{
    uint8_t b[15];
    size_t got = 0;
    uint64_t fault_gva, fault_err;
    bool a67;
    struct gpt_regs r = gpt_regs_of(v);
    gpt_fetch(&r, linear_rip(v, mode, rip), 0, read_gpa, v->vm, b, sizeof(b), &got, &fault_gva, &fault_err);
    unsigned i = insn_prefixes(b, (unsigned)got, mode, &a67);
    uint8_t rex = i && mode == DECODE_MODE_64 && (b[i - 1] & 0xF0) == 0x40 ? b[i - 1] : 0;
    if (i + 3 > got || b[i] != 0x0F)
        return -1;
    *in = (struct insn_0f){ b[i + 1], b[i + 2], ((b[i + 2] >> 3) & 7) | ((rex & 4u) << 1), i + 3 };
    return (b[i + 2] & 7) | ((rex & 1) << 3);
}

#define LAPIC_TPR_GPA 0xFEE00080ull   /* the VMM refuses to move the LAPIC (APIC_BASE) */
static int vcpu_route(struct vcpu *v, int reason);

static int exit_ctl(struct vcpu *v, const struct vm_exit *e)
{
    enum decode_mode mode = guest_mode(v);
    struct insn_0f in = { .len = 0 };
    int gpr = e->ctl_gpr < 0 ? -1 : (int)(uint8_t)e->ctl_gpr;
    if (gpr < 0 && ((gpr = insn_0f(v, e->rip, mode, &in)) < 0 || in.op < 0x20 || in.op > 0x23))
        return COPRA_EXIT_UNHANDLED;   /* LMSW, CLTS, or bytes gone: the VMM decides */
    uint64_t value = v->gpr[gpr], width = mode == DECODE_MODE_64 ? ~0ull : 0xFFFFFFFFull;
    int fault;
    if (e->kind == VMX_CR_WRITE)
        fault = ctrl_write_cr(v, e->ctl_reg, value & width);
    else if (e->ctl_write)
        fault = ctrl_dr_write(v, e->ctl_reg, value & width);
    else if (!(fault = ctrl_dr_read(v, e->ctl_reg, &value)))
        v->gpr[gpr] = value & width;
    if (fault)
        return vcpu_fault(v, fault);
    step_rip(v, e->rip + (in.len ? in.len : e->insn_len));
    if (e->kind == VMX_CR_WRITE && e->ctl_reg == 8) {
        /* CR8 is the LAPIC's TPR[7:4]: the interrupt controller (a device
         * model, if one serves the LAPIC) takes it as the write to TPR it is. */
        v->bus = (struct bus_request){ true, true, true, 4, LAPIC_TPR_GPA, (value & 0xF) << 4 };
        int r = vcpu_route(v, COPRA_EXIT_MMIO);
        v->bus.active = false;
        return r == COPRA_EXIT_MMIO ? 0 : r;   /* unclaimed: there is no LAPIC to tell */
    }
    return 0;
}

/*
 * LTR from a register (0F 00 /3), done here as SDM vol. 2 "LTR" describes:
 * QEMU 7.2 loads a null selector as a not-present TR, where the CPU raises
 * #GP, and then aborts on the guest's next ring transition.  A memory
 * operand goes to the VMM.  TR is cached with the available type (svm.c).
 */
static int exit_ltr(struct vcpu *v, const struct vm_exit *e)
{
    bool lma = state(v, COPRA_STATE_EFER) & (1u << 10);
    struct insn_0f in;
    int gpr = insn_0f(v, e->rip, guest_mode(v), &in);
    if (gpr < 0 || in.op != 0x00 || (in.modrm & 0xF8) != 0xD8)
        return COPRA_EXIT_UNHANDLED;   /* LTR from memory: the VMM decides */
    uint16_t sel = (uint16_t)v->gpr[gpr], err = sel & 0xFFFC;
    unsigned size = lma ? 16 : 8;
    uint32_t d[4] = { 0 };
    if (!(sel & 0xFFF8) || (sel & 4) || (sel & 0xFFF8) + size - 1 > state(v, COPRA_STATE_GDTR_LIMIT))
        return vcpu_fault_code(v, CTRL_GP, err);
    uint64_t at = state(v, COPRA_STATE_GDTR_BASE) + (sel & 0xFFF8);
    if (guest_copy(v, at, d, size, 0))
        return COPRA_EXIT_UNHANDLED;   /* a GDT that is not RAM */
    unsigned type = (d[1] >> 8) & 0x1F;   /* S and type */
    if (type != 9 && (type != 1 || lma))
        return vcpu_fault_code(v, CTRL_GP, err);   /* not an available TSS */
    if (!(d[1] & (1u << 15)))
        return vcpu_fault_code(v, CTRL_NP, err);
    uint32_t busy = d[1] | (1u << 9);
    if (guest_copy(v, at + 4, &busy, 4, GPT_WRITE))
        return COPRA_EXIT_UNHANDLED;
    uint64_t limit = (d[0] & 0xFFFF) | (d[1] & 0xF0000);
    platform->set_state(v, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_SEL), sel);
    platform->set_state(v, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_BASE),
                        (d[0] >> 16) | ((d[1] & 0xFF) << 16) | (d[1] & 0xFF000000u) | (uint64_t)d[2] << 32);
    platform->set_state(v, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_LIMIT),
                        (d[1] & (1u << 23)) ? limit << 12 | 0xFFF : limit);
    platform->set_state(v, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR), ((d[1] >> 8) & 0xFF) | ((d[1] >> 12) & 0xF00));
    step_rip(v, e->rip + in.len);
    return 0;
}

static int exit_msr(struct vcpu *v, const struct vm_exit *e)
{
    uint32_t index = (uint32_t)v->gpr[COPRA_RCX];
    if (index == MSR_EFER_INDEX) {
        /* EFER is the backend's (SVM keeps SVME set underneath); no policy here. */
        if (e->msr_write) {
            int fault = ctrl_write_efer(v, (v->gpr[COPRA_RDX] << 32) | (uint32_t)v->gpr[COPRA_RAX]);
            if (fault)
                return vcpu_fault(v, fault);
        } else {
            uint64_t efer = state(v, COPRA_STATE_EFER);
            v->gpr[COPRA_RAX] = (uint32_t)efer;
            v->gpr[COPRA_RDX] = efer >> 32;
        }
        step_rip(v, state(v, COPRA_STATE_RIP) + 2);   /* RDMSR and WRMSR are 0F 32 and 0F 30 */
        return 0;
    }
    v->run->msr.index = index;
    v->run->msr.value = (v->gpr[COPRA_RDX] << 32) | (uint32_t)v->gpr[COPRA_RAX];
    return e->msr_write ? COPRA_EXIT_MSR_WRITE : COPRA_EXIT_MSR_READ;
}

/*
 * An interrupt is pending but an STI (or MOV SS) shadow holds it, and the
 * shadowed instruction is a HLT: the idle idiom `sti; hlt`.  QEMU before
 * 9.1 does not load the shadow from the VMCB at VMRUN, so the window would
 * open on the HLT, the interrupt would land before it and the guest would
 * then halt with its wake-up spent (seen as a rare hang under load).  Do
 * what the CPU does instead: the HLT executes and the interrupt ends it,
 * returning past the HLT.  True if the HLT was skipped (shadow gone).
 */
static bool skip_shadowed_hlt(struct vcpu *v)
{
    if (!(state(v, COPRA_STATE_RFLAGS) & RFLAGS_IF))
        return false;
    uint64_t rip = state(v, COPRA_STATE_RIP);
    uint8_t insn;
    if (guest_copy(v, linear_rip(v, guest_mode(v), rip), &insn, 1, 0) || insn != 0xF4)
        return false;
    set_rip(v, rip + 1);   /* a new RIP ends the shadow (platform set_state) */
    return true;
}

/* Before each entry: one event per entry, NMI first (APM vol. 2 §15.20). */
static void vcpu_inject(struct vcpu *v)
{
    uint8_t tpr = __atomic_exchange_n(&v->tpr_set, 0, __ATOMIC_ACQ_REL);
    if (tpr)
        platform->set_state(v, COPRA_STATE_CR8, tpr & 0xF);
    if (platform->event_pending(v))
        return;   /* an interrupted delivery is being retried first */
    if (v->pending_event) {
        platform->inject(v, v->pending_event);
        v->pending_event = 0;
        return;
    }
    if (v->nmi_pending && platform->nmi_allowed(v) && __atomic_exchange_n(&v->nmi_pending, false, __ATOMIC_ACQ_REL)) {
        platform->inject(v, COPRA_EVENT_VALID | COPRA_EVENT_TYPE_NMI | 2);
        return;
    }
    int vec = bits_highest(v->irq_pending);
    bool posted = vec < 0 && (vec = vapic_next(v)) >= 0;
    if (vec < 0)
        return;
    if (platform->irq_window_open(v) || skip_shadowed_hlt(v)) {   /* IF=1 and no shadow */
        bits_clear(posted ? v->vapic->irr : v->irq_pending, vec);
        if (posted)
            bits_set(v->vapic->isr, vec);
        platform->inject(v, COPRA_EVENT_VALID | COPRA_EVENT_TYPE_INTR | (uint64_t)vec);
    } else {
        platform->request_window(v, true);
    }
}

/*
 * An IO or MMIO exit goes to the device model whose range covers it, if
 * any, and is completed here without the VMM; a read-modify-write makes two
 * trips.  Unclaimed accesses go to the VMM.  If the device model is gone,
 * the instruction completes with all-ones and the VMM hears of it.
 */
static int vcpu_route(struct vcpu *v, int reason)
{
    bool gone = false;
    if (!__atomic_load_n(&v->vm->ranges, __ATOMIC_RELAXED))
        return reason;   /* no device model in this VM */
    while ((reason == COPRA_EXIT_IO || reason == COPRA_EXIT_MMIO) &&
           v->pending != PENDING_MMIO_RAW && v->bus.active) {
        enum range_result r = range_dispatch(v);
        if (r == RANGE_UNCLAIMED)
            return reason;
        gone |= r == RANGE_GONE;
        if (reason == COPRA_EXIT_IO)
            v->run->io.data = v->bus.data;
        else
            v->run->mmio.data = v->bus.data;
        reason = vcpu_complete(v);
    }
    return gone ? COPRA_EXIT_DEVICE_GONE : reason;
}

/*
 * QEMU 7.2 reports a guest's MOV to CR3 with bits above MAXPHYADDR in long
 * mode as a failed entry (its helper leaves through SVM_EXIT_ERR) where the
 * CPU raises #GP; the state saved is the guest's, at that instruction.  The
 * entries themselves cannot fail on state checked before them (ctrlreg.c).
 */
static bool exit_bad_cr3(struct vcpu *v, const struct vm_exit *e)
{
    struct insn_0f in;
    if (!(state(v, COPRA_STATE_EFER) & (1u << 10)) || guest_mode(v) != DECODE_MODE_64)
        return false;
    int gpr = insn_0f(v, e->rip, DECODE_MODE_64, &in);
    return gpr >= 0 && in.op == 0x22 && in.reg == 3 && ctrl_check_state(COPRA_STATE_CR3, v->gpr[gpr]);
}

/*
 * From here until entered_gen is 0 again this thread may use guest
 * translations, or RAM found through vm->maps: vm.c keeps an unmapped range
 * until every VCPU is out or entered after it.  "Entering" (1, older than
 * any retirement) is published before tlb_gen is read, both seq_cst against
 * the unmapper's bump and its read of entered_gen, so either the unmapper
 * sees this VCPU or the backend's later read of tlb_gen sees the bump.
 */
static void vcpu_gen_enter(struct vcpu *v)
{
    __atomic_store_n(&v->entered_gen, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&v->entered_gen, __atomic_load_n(&v->vm->tlb_gen, __ATOMIC_SEQ_CST) + 1, __ATOMIC_RELEASE);
}

/* Enters the guest once.  0: keep going; PARK: HLT with IF=1; else an exit
 * reason for user space. */
static int vcpu_run_once(struct vcpu *v)
{
    struct copra_run_page *run = v->run;
    vcpu_gen_enter(v);   /* until vcpu_wait clears it after the exit */
    if (run->dirty) {
        if (run->dirty & COPRA_DIRTY_GPRS)
            memcpy(v->gpr, run->regs.gpr, sizeof(v->gpr));
        if (run->dirty & COPRA_DIRTY_RIP) {
            /* The VMM moved RIP past what it emulated (CPUID, MSR, ...). */
            bool moved = run->regs.rip != platform->get_state(v, COPRA_STATE_RIP);
            platform->set_state(v, COPRA_STATE_RFLAGS, run->regs.rflags);
            if (moved)
                step_rip(v, run->regs.rip);
            else
                set_rip(v, run->regs.rip);
        }
        run->dirty = 0;
    }
    if (v->state_set) {
        v->state_set = false;
        if (!ctrl_check_entry(v)) {
            /* The VMM's state is one VMRUN refuses: no entry happened. */
            memset(&run->fail, 0, sizeof(run->fail));
            run->fail.info1 = 1;
            return COPRA_EXIT_FAIL;
        }
    }
    vcpu_inject(v);
    struct vm_exit e;
    cpu_this()->guest_entries++;
    uint64_t t0 = rdtsc();
    platform->vcpu_enter(v, &e);
    cpu_this()->guest_tsc += rdtsc() - t0;
    if (e.kind != VMX_NO_ENTRY) {
        run->exits++;
        run->kind_exits[(unsigned)e.kind < COPRA_EXIT_KINDS ? (unsigned)e.kind : COPRA_KIND_OTHER]++;
    }
    switch (e.kind) {
    case VMX_INTR:
    case VMX_NO_ENTRY:
        /* Take the host interrupt (timer, IPI) that caused the exit, and let
         * other threads of this CPU run if the tick asked for it. */
        __asm__ volatile("sti; nop; cli" : : : "memory");
        if (cpu_this()->runq_head)
            sched_yield();
        return 0;
    case VMX_WINDOW:
        platform->request_window(v, false);
        return 0;
    case VMX_NONE:
        return 0;
    case VMX_HLT:
        set_rip(v, state(v, COPRA_STATE_RIP) + 1);   /* an NMI returns past it, as on the CPU */
        return state(v, COPRA_STATE_RFLAGS) & RFLAGS_IF ? PARK : HALT;
    case VMX_IO:
        return vcpu_route(v, exit_io(v, &e));
    case VMX_NPF:
        return vcpu_route(v, exit_mmio(v, &e));
    case VMX_CPUID:
        run->cpuid.leaf = (uint32_t)v->gpr[COPRA_RAX];
        run->cpuid.subleaf = (uint32_t)v->gpr[COPRA_RCX];
        return COPRA_EXIT_CPUID;
    case VMX_MSR:
        return exit_msr(v, &e);
    case VMX_CR_WRITE:
    case VMX_DR:
        return exit_ctl(v, &e);
    case VMX_LTR:
        return exit_ltr(v, &e);
    case VMX_XSETBV:
        return COPRA_EXIT_XSETBV;
    case VMX_SHUTDOWN:
        return COPRA_EXIT_SHUTDOWN;
    case VMX_VMMCALL:
        return COPRA_EXIT_VMMCALL;
    case VMX_FAIL:
        if (exit_bad_cr3(v, &e))
            return vcpu_fault(v, CTRL_GP);
        platform->vcpu_reset(v);
        run->fail.code = e.code;
        run->fail.info1 = run->fail.info2 = 0;
        return COPRA_EXIT_FAIL;
    case VMX_OTHER:
    default:
        run->fail.code = e.code;
        run->fail.info1 = e.info1;
        run->fail.info2 = e.info2;
        return COPRA_EXIT_UNHANDLED;
    }
}

static void fill_run_page(struct vcpu *v, int reason)
{
    struct copra_run_page *run = v->run;
    run->exit_reason = (uint32_t)reason;
    run->cpu = cpu_this()->index;
    run->user_exits++;
    memcpy(run->regs.gpr, v->gpr, sizeof(v->gpr));
    run->regs.rip = state(v, COPRA_STATE_RIP);
    run->regs.rflags = state(v, COPRA_STATE_RFLAGS);
}

static unsigned others_take(struct copra_wait_item *items, struct waitable **states, unsigned count,
                            unsigned vi)
{
    unsigned n = 0;
    for (unsigned i = 0; i < count; i++) {
        if (i == vi)
            continue;
        items[i].value = 0;
        items[i].ready = waitable_take(states[i], &items[i].value);
        n += items[i].ready;
    }
    return n;
}

static void others_watch(struct waitq **queues, struct waiter *w, unsigned count, unsigned vi,
                         struct thread *t, bool on)
{
    for (unsigned i = 0; i < count; i++) {
        if (i == vi)
            continue;
        if (on)
            waitq_add_locked(queues[i], &w[i], t);
        else
            waitq_remove_locked(queues[i], &w[i]);
    }
}

/* Under the scheduler lock: the VCPU's enum copra_mp_state, and the VM's
 * count of runnable VCPUs that tells when the whole VM is halted.  Every
 * change starts a new wait for a SIPI (only the first one after it counts). */
static void mp_set(struct vcpu *v, uint64_t s)
{
    __atomic_add_fetch(&v->vm->runnable, (s == COPRA_MP_RUNNABLE) - (v->mp_state == COPRA_MP_RUNNABLE),
                       __ATOMIC_RELAXED);
    v->mp_state = s;
    v->halt_reported &= s != COPRA_MP_RUNNABLE;
    v->sipi_vector = -1;
}

/*
 * INIT and SIPI as the CPU takes them, before an entry (scheduler lock): an
 * INIT leaves the VCPU waiting for a SIPI (the VMM sets the INIT state on
 * COPRA_EXIT_INIT); a SIPI then ends the wait (COPRA_EXIT_SIPI); an NMI or
 * INIT ends a HLT with IF = 0.  0: enter; PARK: wait for one of those; else
 * an exit reason.  A VM whose every VCPU is halted or waits for a SIPI is
 * reported once, by the VCPU that completed it (COPRA_EXIT_HLT).
 */
static int vcpu_mp(struct vcpu *v)
{
    if (v->init_pending) {
        v->init_pending = false;
        v->nmi_pending = false;
        v->nmi_block = 0;   /* the backend drops its IRET/#DB intercepts at the next exit */
        v->pending_event = 0;
        memset(v->irq_pending, 0, sizeof(v->irq_pending));
        memset(v->vapic->irr, 0, sizeof(v->vapic->irr));
        memset(v->vapic->isr, 0, sizeof(v->vapic->isr));
        return COPRA_EXIT_INIT;
    }
    if (v->mp_state == COPRA_MP_WAIT_SIPI && v->sipi_vector >= 0) {
        v->run->sipi.vector = (uint32_t)v->sipi_vector;
        mp_set(v, COPRA_MP_RUNNABLE);
        return COPRA_EXIT_SIPI;
    }
    if (v->mp_state == COPRA_MP_HALTED && v->nmi_pending)
        mp_set(v, COPRA_MP_RUNNABLE);
    if (v->mp_state == COPRA_MP_RUNNABLE)
        return 0;
    if (__atomic_load_n(&v->vm->runnable, __ATOMIC_RELAXED) == 0 && !v->halt_reported) {
        v->halt_reported = true;
        return COPRA_EXIT_HLT;
    }
    return PARK;
}

/* Under the scheduler lock: something that ends the VCPU's park. */
static bool vcpu_wakes(struct vcpu *v)
{
    if (v->init_pending || v->kick)
        return true;
    if (v->mp_state == COPRA_MP_WAIT_SIPI)
        return v->sipi_vector >= 0;
    return v->mp_state == COPRA_MP_HALTED ? v->nmi_pending : irq_any(v);
}

static int64_t vcpu_wait(struct kobject *o, unsigned vi, struct copra_wait_item *items, struct waitable **states,
                  struct waitq **queues, unsigned count, uint64_t deadline, bool poll)
{
    struct vcpu *v = container_of(o, struct vcpu, obj);
    struct thread *self = thread_current(), *none = NULL;
    struct waiter w[COPRA_WAIT_MAX], wirq;
    uint64_t f = spin_lock_irqsave(&v->state_lock);
    bool claimed = __atomic_compare_exchange_n(&v->runner, &none, self, false, __ATOMIC_ACQ_REL,
                                               __ATOMIC_ACQUIRE);
    spin_unlock_irqrestore(&v->state_lock, f);
    if (!claimed)
        return COPRA_EBUSY;   /* another thread runs this VCPU */
    self->vcpu_bound = true;   /* THREAD_SET_CPU refuses from here on */
    if (cpu_this()->index != (unsigned)v->cpu)
        sched_migrate(v->cpu);

    int64_t ret;
    __atomic_store_n(&v->entered_gen, 1, __ATOMIC_SEQ_CST);   /* completing may write guest RAM */
    int reason = vcpu_complete(v);
    __atomic_store_n(&v->entered_gen, 0, __ATOMIC_RELEASE);
    items[vi].ready = 0;
    /* The scheduler lock is held at the top of every iteration. */
    f = sched_lock();
    self->affinity = v->cpu;   /* undoes a THREAD_SET_CPU that missed vcpu_bound */
    for (;;) {
        ret = count > 1 ? others_take(items, states, count, vi) : 0;
        if (ret || reason > 0)
            break;
        if (v->kick) {
            v->kick = false;
            reason = COPRA_EXIT_KICK;
            break;
        }
        if (self->proc->exiting) {
            ret = COPRA_EBUSY;
            break;
        }
        if (poll || (deadline && time_ns() >= deadline)) {
            ret = COPRA_ETIMEOUT;
            break;
        }
        reason = v->init_pending || v->mp_state ? vcpu_mp(v) : 0;
        if (reason > 0)
            break;
        if (reason == PARK)
            goto park;
        if (count > 1)
            others_watch(queues, w, count, vi, self, true);
        self->in_guest = true;
        sched_unlock(f);

        reason = vcpu_run_once(v);
        /* Served in the kernel or by a device model: enter again at once
         * while nothing else could need this thread.  A kick or an exiting
         * process seen late costs one more entry: in_guest stays set, so
         * their IPI still forces that entry out. */
        while (reason == 0 && count == 1 && !deadline && !poll && !__atomic_load_n(&v->kick, __ATOMIC_RELAXED) &&
               !__atomic_load_n(&v->init_pending, __ATOMIC_RELAXED) &&
               !__atomic_load_n(&self->proc->exiting, __ATOMIC_RELAXED) && !cpu_this()->runq_head)
            reason = vcpu_run_once(v);

        f = sched_lock();
        self->in_guest = false;
        __atomic_store_n(&v->entered_gen, 0, __ATOMIC_RELEASE);
        if (count > 1)
            others_watch(queues, w, count, vi, self, false);
        if (reason == HALT) {
            /* An INIT that came after the HLT (before this lock) already
             * moved the VCPU to wait-for-SIPI, maybe with its SIPI taken:
             * halting now would drop both. */
            if (!v->init_pending)
                mp_set(v, COPRA_MP_HALTED);
            continue;   /* vcpu_mp: the VM may be halted as a whole */
        }
        if (reason == PARK) {
park:
            /* HLT, or waiting for a SIPI: sleep until something can wake the
             * guest.  Other items that become ready meanwhile are reported
             * (their signals were taken, so they must not be dropped). */
            while (!vcpu_wakes(v) && !self->proc->exiting &&
                   !(deadline && time_ns() >= deadline) &&
                   !(ret = count > 1 ? others_take(items, states, count, vi) : 0)) {
                others_watch(queues, w, count, vi, self, true);
                waitq_add_locked(&v->irq_waiters, &wirq, self);
                sched_block_locked(deadline);
                waitq_remove_locked(&v->irq_waiters, &wirq);
                others_watch(queues, w, count, vi, self, false);
            }
            reason = 0;
            if (ret)
                break;
        }
    }
    if (reason > 0) {
        /* The VCPU item is ready (and maybe others with it). */
        fill_run_page(v, reason);
        items[vi].ready = 1;
        items[vi].value = (uint64_t)reason;
        ret = ret > 0 ? ret + 1 : 1;
    }
    __atomic_store_n(&v->runner, NULL, __ATOMIC_RELEASE);
    self->vcpu_bound = false;
    sched_unlock(f);
    return ret;
}

static void vcpu_kick_cpu_locked(struct vcpu *v)
{
    struct thread *t = v->runner;
    if (t && t->in_guest && t->on_cpu != cpu_this())
        apic_send_ipi(t->on_cpu->apic_id, VECTOR_KICK);
}

void vcpu_kick_cpu(struct vcpu *v)
{
    uint64_t f = sched_lock();
    vcpu_kick_cpu_locked(v);
    sched_unlock(f);
}

/* ---- objects and syscalls ---- */

static void vcpu_destroy(struct kobject *o)
{
    struct vcpu *v = container_of(o, struct vcpu, obj);
    uint64_t f = spin_lock_irqsave(&v->vm->lock);
    v->vm->vcpus[v->index] = NULL;
    if (v->mp_state == COPRA_MP_RUNNABLE)
        __atomic_sub_fetch(&v->vm->runnable, 1, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&v->vm->lock, f);
    if (v->arch)
        platform->vcpu_destroy(v);
    fpu_vcpu_destroy(v);
    if (v->run_mem)
        memobj_put(v->run_mem);
    if (v->vapic_mem)
        memobj_put(v->vapic_mem);
    kobject_put(&v->vm->obj);
    kfree(v);
}

static int vcpu_lookup(uint64_t h, uint32_t rights, struct vcpu **out)
{
    struct kobject *o;
    int err = process_handle_get(h, COPRA_OBJ_VCPU, rights, &o);
    if (!err)
        *out = container_of(o, struct vcpu, obj);
    return err;
}

/* With `state_on_cpu` (platform.h) the calling thread visits the VCPU's
 * CPU for its state, and goes back where it was allowed to run after. */
static int32_t vcpu_go_home(struct vcpu *v)
{
    int32_t was = thread_current()->affinity;
    if (platform->state_on_cpu && cpu_this()->index != (unsigned)v->cpu)
        sched_migrate(v->cpu);
    return was;
}

static void vcpu_go_back(int32_t was)
{
    if (platform->state_on_cpu && thread_current()->affinity != was) {
        uint64_t f = sched_lock();
        thread_current()->affinity = was;   /* it moves when next queued */
        sched_unlock(f);
    }
}

int64_t sys_vcpu_create(uint64_t hvm, uint64_t index, uint64_t cpu)
{
    struct kobject *o;
    int err = process_handle_get(hvm, COPRA_OBJ_VM, COPRA_RIGHT_MANAGE, &o);
    if (err)
        return err;
    struct vm *vm = container_of(o, struct vm, obj);
    if (index >= COPRA_VCPUS_MAX || cpu >= cpu_count) {
        kobject_put(o);
        return COPRA_EINVAL;
    }
    struct vcpu *v = kmalloc(sizeof(*v));
    if (!v) {
        kobject_put(o);
        return COPRA_ENOMEM;
    }
    kobject_init(&v->obj, COPRA_OBJ_VCPU, vcpu_destroy);
    v->vm = vm;   /* takes over the lookup's reference */
    v->index = (uint32_t)index;
    v->cpu = (int32_t)cpu;
    v->sipi_vector = -1;
    uint64_t f = spin_lock_irqsave(&vm->lock);
    if (vm->vcpus[index])
        err = COPRA_EEXIST;
    else
        vm->vcpus[index] = v;
    spin_unlock_irqrestore(&vm->lock, f);
    if (err) {
        kobject_put(o);
        kfree(v);
        return err;
    }
    __atomic_add_fetch(&vm->runnable, 1, __ATOMIC_RELAXED);   /* COPRA_MP_RUNNABLE; vcpu_destroy undoes it */
    int32_t was = vcpu_go_home(v);
    bool failed = !(v->run_mem = memobj_create(1)) || !(v->vapic_mem = memobj_create(1)) ||
                  platform->vcpu_init(v) || fpu_vcpu_init(v);
    vcpu_go_back(was);
    if (failed) {
        kobject_put(&v->obj);
        return COPRA_ENOMEM;
    }
    v->run = phys_to_virt(v->run_mem->pages[0]);
    v->vapic = phys_to_virt(v->vapic_mem->pages[0]);
    return process_handle_install(&v->obj, COPRA_RIGHTS_VCPU);
}

/* One piece of state, read or written while no thread runs the VCPU: the
 * state lock orders it against vcpu_wait's claim of the VCPU. */
static int vcpu_state_access(struct vcpu *v, uint64_t id, uint64_t *value, bool write)
{
    if (id >= COPRA_STATE_COUNT)
        return COPRA_EINVAL;
    if (write && ctrl_check_state((unsigned)id, *value))
        return COPRA_EINVAL;   /* VMRUN would refuse it */
    int32_t was = vcpu_go_home(v);
    int err = COPRA_OK;
    uint64_t *slot = id < 16 ? &v->gpr[id] : id == COPRA_STATE_PENDING_EVENT ? &v->pending_event
                   : id == COPRA_STATE_DR7 ? &v->dr7 : id == COPRA_STATE_TSC_AUX ? &v->tsc_aux
                   : id >= COPRA_STATE_DR0 && id < COPRA_STATE_DR0 + 4 ? &v->dr[id - COPRA_STATE_DR0] : NULL;
    uint64_t f = spin_lock_irqsave(&v->state_lock);
    if (v->runner)
        err = COPRA_EBUSY;   /* its state is in the CPU */
    else if (id == COPRA_STATE_XCR0 && write)
        err = fpu_set_xcr0(v, *value);
    else if (id == COPRA_STATE_XCR0)
        *value = v->fpu.xcr0;
    else if (id == COPRA_STATE_MP_STATE && write) {
        uint64_t s = sched_lock();
        mp_set(v, *value);
        sched_unlock(s);
    } else if (id == COPRA_STATE_MP_STATE)
        *value = v->mp_state;
    else if (slot && write)
        *slot = id == COPRA_STATE_PENDING_EVENT && !(*value & COPRA_EVENT_VALID) ? 0 : *value;
    else if (slot)
        *value = *slot;
    else if (write)
        err = platform->set_state(v, (unsigned)id, *value);
    else
        *value = platform->get_state(v, (unsigned)id);
    if (write && !err) {
        v->state_set = true;
        if (id == COPRA_STATE_RIP)
            v->pending = PENDING_NONE;   /* the VMM moved the guest on: nothing to complete */
    }
    spin_unlock_irqrestore(&v->state_lock, f);
    vcpu_go_back(was);
    return err;
}

int64_t sys_vcpu_get_state(uint64_t h, uint64_t id, uint64_t uvalue)
{
    struct vcpu *v;
    int err = vcpu_lookup(h, COPRA_RIGHT_READ, &v);
    if (err)
        return err;
    uint64_t value = 0;
    err = vcpu_state_access(v, id, &value, false);
    if (!err)
        err = copy_to_user(uvalue, &value, sizeof(value));
    kobject_put(&v->obj);
    return err;
}

int64_t sys_vcpu_set_state(uint64_t h, uint64_t id, uint64_t value)
{
    struct vcpu *v;
    int err = vcpu_lookup(h, COPRA_RIGHT_WRITE, &v);
    if (err)
        return err;
    err = vcpu_state_access(v, id, &value, true);
    kobject_put(&v->obj);
    return err;
}

int64_t sys_vcpu_kick(uint64_t h)
{
    struct vcpu *v;
    int err = vcpu_lookup(h, COPRA_RIGHT_MANAGE, &v);
    if (err)
        return err;
    uint64_t f = sched_lock();
    v->kick = true;
    waitq_wake_all_locked(&v->irq_waiters);   /* a VCPU parked in HLT */
    sched_unlock(f);
    vcpu_kick_cpu(v);
    kobject_put(&v->obj);
    return COPRA_OK;
}

static void irq_destroy(struct kobject *o)
{
    struct irq *irq = container_of(o, struct irq, obj);
    kobject_put(&irq->vcpu->obj);
    kfree(irq);
}

int64_t sys_irq_create(uint64_t h)
{
    struct vcpu *v;
    int err = vcpu_lookup(h, COPRA_RIGHT_MANAGE, &v);
    if (err)
        return err;
    struct irq *irq = kmalloc(sizeof(*irq));
    if (!irq) {
        kobject_put(&v->obj);
        return COPRA_ENOMEM;
    }
    kobject_init(&irq->obj, COPRA_OBJ_IRQ, irq_destroy);
    irq->vcpu = v;
    return process_handle_install(&irq->obj, COPRA_RIGHTS_IRQ);
}

int64_t sys_irq_inject(uint64_t h, uint64_t vector)
{
    struct kobject *o;
    int err = process_handle_get(h, COPRA_OBJ_IRQ, COPRA_RIGHT_SIGNAL, &o);
    if (err)
        return err;
    struct vcpu *v = container_of(o, struct irq, obj)->vcpu;
    if (vector != COPRA_IRQ_NMI && vector != COPRA_IRQ_INIT && vector != COPRA_IRQ_POSTED &&
        (vector < 0x10 || vector > 0xff) &&
        (vector & ~0xFFull) != COPRA_IRQ_SIPI(0) && (vector & ~0xFull) != COPRA_IRQ_TPR(0)) {
        kobject_put(o);
        return COPRA_EINVAL;
    }
    if (vector >= COPRA_IRQ_TPR(0)) {
        /* Only the VCPU's own LAPIC write (or CR8) changes its TPR, and it
         * waits for that write: the next entry applies it, no kick. */
        __atomic_store_n(&v->tpr_set, (uint8_t)(0x10 | (vector & 0xF)), __ATOMIC_RELEASE);
        kobject_put(o);
        return COPRA_OK;
    }
    uint64_t f = sched_lock();
    if (vector == COPRA_IRQ_NMI)
        v->nmi_pending = true;
    else if (vector == COPRA_IRQ_INIT) {
        v->init_pending = true;   /* reported at the next entry (vcpu_mp) */
        mp_set(v, COPRA_MP_WAIT_SIPI);
    } else if (vector == COPRA_IRQ_POSTED) {
        /* Nothing to queue: the page's IRR is read at the next entry. */
    } else if (vector > 0xff) {   /* a SIPI */
        if (v->mp_state == COPRA_MP_WAIT_SIPI && v->sipi_vector < 0)
            v->sipi_vector = (int16_t)(vector & 0xFF);
    } else {
        bits_set(v->irq_pending, (int)vector);   /* 0x10..0xFF: checked above */
    }
    waitq_wake_all_locked(&v->irq_waiters);
    sched_unlock(f);
    vcpu_kick_cpu(v);   /* a running guest takes it at the next entry */
    kobject_put(o);
    return COPRA_OK;
}

/* Under the scheduler lock: a TIMER bound by IRQ_TIMER expired, posting
 * its vector as the interrupt controller would, without a trip to it. */
static void irq_timer_post(struct kobject *o, unsigned vector)
{
    struct vcpu *v = container_of(o, struct irq, obj)->vcpu;
    bits_set(v->vapic->irr, (int)vector);
    waitq_wake_all_locked(&v->irq_waiters);
    vcpu_kick_cpu_locked(v);
}

int64_t sys_irq_timer(uint64_t hirq, uint64_t htimer, uint64_t vector)
{
    struct kobject *irq, *o;
    int err = process_handle_get(hirq, COPRA_OBJ_IRQ, COPRA_RIGHT_SIGNAL, &irq);
    if (err)
        return err;
    err = process_handle_get(htimer, COPRA_OBJ_TIMER, COPRA_RIGHT_MANAGE, &o);
    if (!err && vector && (vector < 0x10 || vector > 0xff)) {
        kobject_put(o);
        err = COPRA_EINVAL;
    }
    if (err) {
        kobject_put(irq);
        return err;
    }
    struct timer *t = container_of(o, struct timer, obj);
    uint64_t f = sched_lock();
    struct kobject *old = t->post_target;
    t->post = vector ? irq_timer_post : NULL;
    t->post_target = vector ? irq : NULL;   /* the timer keeps the lookup's reference */
    t->post_arg = (unsigned)vector;
    sched_unlock(f);
    if (old)
        kobject_put(old);
    if (!vector)
        kobject_put(irq);
    kobject_put(o);
    return COPRA_OK;
}

static struct memobj *vcpu_map(struct kobject *o) { return container_of(o, struct vcpu, obj)->run_mem; }
static struct memobj *irq_map(struct kobject *o) { return container_of(o, struct irq, obj)->vcpu->vapic_mem; }

const struct kobject_ops vcpu_ops = { .run = vcpu_wait, .map = vcpu_map, .no_dup = true };
const struct kobject_ops irq_ops = { .map = irq_map };
