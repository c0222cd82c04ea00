/* SPDX-License-Identifier: MIT */
/*
 * Virtual machines: VM and VCPU objects, the run page, guest state IDs and
 * IRQ objects.  The kernel enters the guest and decodes exits; user space
 * (the VMM, device models, irqd) does everything else.
 */
#ifndef COPRA_ABI_VM_H
#define COPRA_ABI_VM_H

#include "types.h"
#include "object.h"

#define COPRA_VCPUS_MAX 64u

/* VM_MAP protection of a guest-physical range. */
#define COPRA_GUEST_R 1u
#define COPRA_GUEST_W 2u
#define COPRA_GUEST_X 4u

/* Rights of new handles (one handle per VM and per VCPU: DUP is refused). */
#define COPRA_RIGHTS_VM   (COPRA_RIGHT_MANAGE | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_VCPU (COPRA_RIGHT_READ | COPRA_RIGHT_WRITE | COPRA_RIGHT_MAP | \
                           COPRA_RIGHT_WAIT | COPRA_RIGHT_MANAGE | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_IRQ  (COPRA_RIGHT_SIGNAL | COPRA_RIGHT_MAP | COPRA_RIGHT_TRANSFER)

/*
 * Why WAIT_FOR_EVENT on a VCPU returned (copra_run_page.exit_reason, and
 * the wait item's value).  Exits the kernel completes itself (an IOIO or
 * MMIO access inside a device model's range, an interrupt window, a HLT
 * with interrupts enabled) never reach user space.
 */
enum copra_exit_reason {
    COPRA_EXIT_NONE      = 0,
    COPRA_EXIT_IO        = 1,  /* port I/O no range claims: run->io       */
    COPRA_EXIT_MMIO      = 2,  /* guest-physical access outside RAM: run->mmio */
    COPRA_EXIT_CPUID     = 3,  /* run->cpuid; VMM sets RAX..RDX, advances RIP */
    COPRA_EXIT_MSR_READ  = 4,  /* run->msr; VMM sets RAX/RDX, advances RIP */
    COPRA_EXIT_MSR_WRITE = 5,  /* run->msr.value = EDX:EAX                 */
    COPRA_EXIT_HLT       = 6,  /* (ABI 7) every VCPU of the VM is halted with RFLAGS.IF = 0
                                  or waits for a SIPI: nothing inside the VM can wake it */
    COPRA_EXIT_SHUTDOWN  = 7,  /* triple fault: the VCPU cannot run on     */
    COPRA_EXIT_VMMCALL   = 8,  /* hypercall; RAX etc. in run->regs         */
    COPRA_EXIT_KICK      = 9,  /* VCPU_KICK, or another wait item became ready */
    COPRA_EXIT_FAIL      = 10, /* the platform refused to enter: run->fail */
    COPRA_EXIT_UNHANDLED = 11, /* an exit the kernel does not decode: run->fail */
    COPRA_EXIT_DEVICE_GONE = 12, /* (issue 5) a device model died mid-request */
    COPRA_EXIT_XSETBV    = 13, /* (ABI 6) XSETBV: ECX, EDX:EAX in run->regs; the VMM
                                  checks it, SET_STATEs XCR0 and advances RIP by 3,
                                  or injects #GP/#UD (PENDING_EVENT) */
    COPRA_EXIT_INIT      = 14, /* (ABI 7) an INIT (IRQ_INJECT COPRA_IRQ_INIT) reached the
                                  VCPU: the VMM sets the INIT state; it now waits for a SIPI */
    COPRA_EXIT_SIPI      = 15, /* (ABI 7) a SIPI woke it from wait-for-SIPI: run->sipi.vector;
                                  the VMM sets CS = vector << 8, RIP = 0 */
};

/*
 * (ABI 8) Exits by kind as the kernel saw them, all of them, served in the
 * kernel, by a device model or by the VMM (run->kind_exits[], a kvm_stat
 * view): the platform's exit classes.
 */
enum copra_exit_kind {
    COPRA_KIND_IO, COPRA_KIND_NPF, COPRA_KIND_CPUID, COPRA_KIND_MSR, COPRA_KIND_HLT,
    COPRA_KIND_SHUTDOWN, COPRA_KIND_VMMCALL,
    COPRA_KIND_INTR,          /* a host interrupt (timer, IPI, kick) */
    COPRA_KIND_WINDOW,        /* the guest became able to take an interrupt */
    COPRA_KIND_CR, COPRA_KIND_DR, COPRA_KIND_LTR, COPRA_KIND_XSETBV,
    COPRA_KIND_FAIL,          /* the platform refused the entry */
    COPRA_KIND_NONE,          /* the backend handled it (NMI blocking) */
    COPRA_KIND_OTHER,
    COPRA_EXIT_KINDS
};

/* COPRA_STATE_MP_STATE values: what the VCPU does at its next WAIT. */
enum copra_mp_state {
    COPRA_MP_RUNNABLE  = 0,   /* enters the guest */
    COPRA_MP_HALTED    = 1,   /* HLT with IF = 0: only an NMI or INIT wakes it */
    COPRA_MP_WAIT_SIPI = 2,   /* after INIT: only a SIPI (or INIT) wakes it */
};

/* run->dirty: state groups the VMM changed in the run page, loaded by the
 * kernel before the next entry. */
#define COPRA_DIRTY_GPRS   (1u << 0)   /* regs.gpr[] */
#define COPRA_DIRTY_RIP    (1u << 1)   /* regs.rip, regs.rflags */

/* GPR order in copra_regs.gpr[] (the x86 encoding order). */
enum copra_gpr {
    COPRA_RAX, COPRA_RCX, COPRA_RDX, COPRA_RBX, COPRA_RSP, COPRA_RBP, COPRA_RSI, COPRA_RDI,
    COPRA_R8, COPRA_R9, COPRA_R10, COPRA_R11, COPRA_R12, COPRA_R13, COPRA_R14, COPRA_R15,
};

struct copra_regs {
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
};
COPRA_STATIC_ASSERT(sizeof(struct copra_regs) == 144, "regs");

/*
 * The 4 KiB run page of a VCPU (MMAP the VCPU handle).  The kernel fills it
 * on every exit to user space; the VMM reads it, writes results, and waits
 * on the VCPU again.  Completion rule on the next entry:
 *   IO in / MMIO read: the kernel writes `data` into the guest (register or
 *   memory) and advances RIP; IO out / MMIO write: it advances RIP.
 *   Any other exit: the VMM changes state itself (regs + dirty, or SET_STATE).
 */
struct copra_run_page {
    uint32_t exit_reason;        /* enum copra_exit_reason */
    uint32_t cpu;                /* physical CPU the VCPU ran on */
    uint64_t dirty;              /* COPRA_DIRTY_* set by the VMM */
    uint64_t exits;              /* exits taken so far, all kinds */
    uint64_t user_exits;         /* exits that reached user space */
    struct copra_regs regs;      /* at every exit to user space */
    union {
        struct {
            uint16_t port;
            uint8_t size;        /* 1, 2 or 4 */
            uint8_t in;          /* 1 = IN */
            uint8_t string;      /* INS/OUTS (the kernel iterates REP) */
            uint8_t pad[3];
            uint64_t data;       /* OUT: value; IN: the VMM writes it */
        } io;
        struct {
            uint64_t gpa;
            uint8_t size;        /* 1, 2, 4 or 8; 0 if not decoded */
            uint8_t write;
            uint8_t decoded;     /* 0: the kernel could not decode insn[] */
            uint8_t insn_len;    /* bytes valid in insn[] */
            uint8_t pad[4];
            uint64_t data;       /* write: value; read: the VMM writes it */
            uint8_t insn[16];
        } mmio;
        struct {
            uint32_t leaf, subleaf;
        } cpuid;
        struct {
            uint32_t index;
            uint32_t pad;
            uint64_t value;
        } msr;
        struct {
            uint32_t vector;     /* COPRA_EXIT_SIPI: the start page is vector << 12 */
        } sipi;
        struct {
            uint64_t code;       /* platform exit code (SVM EXITCODE) */
            uint64_t info1, info2;
        } fail;
        uint8_t raw[64];
    };
    /* (ABI 8) Statistics the kernel keeps; the VMM only reads them. */
    uint64_t kind_exits[COPRA_EXIT_KINDS];   /* exits by enum copra_exit_kind */
    uint8_t reserved[4096 - 240 - 8 * COPRA_EXIT_KINDS];
};
COPRA_STATIC_ASSERT(sizeof(struct copra_run_page) == 4096, "run page is one page");
COPRA_STATIC_ASSERT(__builtin_offsetof(struct copra_run_page, regs) == 32, "run page regs");
COPRA_STATIC_ASSERT(__builtin_offsetof(struct copra_run_page, io) == 176, "run page exit info");
COPRA_STATIC_ASSERT(__builtin_offsetof(struct copra_run_page, kind_exits) == 240, "run page statistics");

/*
 * Guest state IDs for VCPU_GET_STATE / VCPU_SET_STATE (one 64-bit value per
 * call; batch them with BATCH).  Segments take four IDs each:
 * COPRA_STATE_SEG(seg) + COPRA_SEG_SEL/BASE/LIMIT/ATTR, with attributes in
 * the VMCB's packed 12-bit form (descriptor bits 8-15 -> 0-7, 20-23 -> 8-11).
 */
enum copra_state_id {
    COPRA_STATE_GPR0      = 0,    /* + enum copra_gpr */
    COPRA_STATE_RIP       = 16,
    COPRA_STATE_RFLAGS    = 17,
    COPRA_STATE_CR0       = 18,
    COPRA_STATE_CR2       = 19,
    COPRA_STATE_CR3       = 20,
    COPRA_STATE_CR4       = 21,
    COPRA_STATE_EFER      = 22,
    COPRA_STATE_GDTR_BASE = 23,
    COPRA_STATE_GDTR_LIMIT= 24,
    COPRA_STATE_IDTR_BASE = 25,
    COPRA_STATE_IDTR_LIMIT= 26,
    COPRA_STATE_PAT       = 27,
    COPRA_STATE_STAR      = 28,
    COPRA_STATE_LSTAR     = 29,
    COPRA_STATE_CSTAR     = 30,
    COPRA_STATE_SFMASK    = 31,
    COPRA_STATE_KERNEL_GS_BASE = 32,
    COPRA_STATE_SYSENTER_CS  = 33,
    COPRA_STATE_SYSENTER_ESP = 34,
    COPRA_STATE_SYSENTER_EIP = 35,
    COPRA_STATE_PENDING_EVENT = 36, /* read: queued event or 0; write: see COPRA_EVENT_* */
    COPRA_STATE_CR8       = 37,   /* the task-priority register as CR8 shows it (0-15) */
    COPRA_STATE_DR0       = 38,   /* DR0-DR3: 38-41 */
    COPRA_STATE_DR6       = 42,
    COPRA_STATE_DR7       = 43,
    COPRA_STATE_XCR0      = 48,     /* (ABI 6) the guest's XCR0 (reset value 1) */
    COPRA_STATE_TSC_OFFSET = 49,    /* (ABI 7) added to the host TSC for the guest's RDTSC(P) */
    COPRA_STATE_TSC_AUX   = 50,     /* (ABI 7) what the guest's RDTSCP/RDPID read; bits 63:32 zero */
    COPRA_STATE_MP_STATE  = 51,     /* (ABI 7) enum copra_mp_state */
    COPRA_STATE_SEG_BASE_ID = 64,   /* segments: 64 + 4 * seg + field */
    COPRA_STATE_COUNT = 64 + 4 * 8,
};
enum copra_segment { COPRA_ES, COPRA_CS, COPRA_SS, COPRA_DS, COPRA_FS, COPRA_GS, COPRA_LDTR, COPRA_TR };
enum copra_segment_field { COPRA_SEG_SEL, COPRA_SEG_BASE, COPRA_SEG_LIMIT, COPRA_SEG_ATTR };
#define COPRA_STATE_SEG(seg, field) (COPRA_STATE_SEG_BASE_ID + 4 * (seg) + (field))

/* COPRA_STATE_PENDING_EVENT value: an event injected at the next entry. */
#define COPRA_EVENT_VALID      (1ull << 31)
#define COPRA_EVENT_TYPE_INTR  (0ull << 8)
#define COPRA_EVENT_TYPE_NMI   (2ull << 8)
#define COPRA_EVENT_TYPE_EXC   (3ull << 8)
#define COPRA_EVENT_ERROR_CODE (1ull << 11)   /* error code in bits 32-63 */

/* IRQ_INJECT value: a vector 0x10-0xFF, COPRA_IRQ_NMI, COPRA_IRQ_INIT, or
 * COPRA_IRQ_SIPI(v) (ignored unless the VCPU waits for a SIPI; the first
 * one counts, as on the CPU). */
#define COPRA_IRQ_NMI 0x100u
#define COPRA_IRQ_INIT 0x101u
#define COPRA_IRQ_SIPI(v) (0x200u | ((v) & 0xFFu))
/* (ABI 7) The LAPIC's task priority class (TPR[7:4]) for CR8: the interrupt
 * controller keeps CR8 equal to its TPR, as the CPU does. */
#define COPRA_IRQ_TPR(c) (0x300u | ((c) & 0xFu))
/* (ABI 9) Look at the VCPU's virtual-APIC page: vectors were posted to its
 * IRR (the notification of a posted interrupt). */
#define COPRA_IRQ_POSTED 0x102u

/*
 * (ABI 9) The virtual-APIC page of a VCPU: MMAP of any of its IRQ handles
 * (one page, the same for all of them).  The LAPIC stays in the interrupt
 * controller (irqd); the kernel does only what a CPU's virtual-interrupt
 * delivery does with a virtual-APIC page (posted interrupts, APICv), so that
 * an interrupt and its EOI need no trip to irqd:
 *   irr       the controller ORs vectors in (atomically) and then notifies
 *             with IRQ_INJECT(COPRA_IRQ_POSTED); a TIMER bound by IRQ_TIMER
 *             posts its vector here at each expiration, with no trip at all.
 *   delivery  before an entry with the guest's IF open, the highest IRR
 *             vector whose class (vector >> 4) is above the PPR class (the
 *             higher of tpr >> 4 and the highest ISR vector's class) moves
 *             from irr to isr and is injected.  Vectors 0-15 are ignored.
 *   EOI       a write of 4 or more bytes at apic_base + 0xB0 (the xAPIC EOI
 *             register; apic_base 0: none) clears the highest isr vector in
 *             the kernel and completes the write there -- unless that
 *             vector's eoi_exit bit is set (a level-triggered interrupt the
 *             IOAPIC must hear of): then the write goes to the range's owner
 *             like any access, and the owner clears the isr bit itself.
 *   INIT      clears irr and isr.
 * Vectors IRQ_INJECT queues directly (0x10-0xFF: the PIC's ExtINT, test
 * harnesses) bypass the page: injected with IF open, no isr, no EOI, before
 * any posted vector.  The page decides nothing but this VCPU's interrupts,
 * so the kernel trusts none of it beyond that.
 */
struct copra_vapic_page {
    uint64_t irr[4];             /* bit v = vector v */
    uint64_t isr[4];
    uint64_t eoi_exit[4];
    uint64_t apic_base;          /* guest-physical address of the xAPIC page */
    uint32_t tpr;                /* the LAPIC's task priority (bits 7:4 the class) */
    uint32_t pad;
    uint64_t kernel_eois;        /* EOIs the kernel completed (statistics) */
};
COPRA_STATIC_ASSERT(sizeof(struct copra_vapic_page) == 120, "virtual-APIC page header");

/*
 * MMIO and IOIO event ranges (MMIO_EVENT, IOIO_EVENT).  An exit inside a
 * range never reaches the VMM: the kernel writes the access into the slot
 * of the exiting VCPU in the range's mapped area, makes the range ready
 * (counting, like an event) and parks the VCPU.  The device model waits on
 * the range, serves every slot in state COPRA_IO_REQUEST (for a read it
 * writes `data`), sets the slot to COPRA_IO_DONE and SIGNALs the range -- or
 * simply waits on the range again: a WAIT_FOR_EVENT by a holder of SIGNAL
 * on the range completes its DONE slots first, so serving a request costs
 * one syscall.  The kernel then completes the instruction in the guest and
 * resumes it.  Only `data` is taken from a slot (cut to the access size).
 * An explicit SIGNAL returns COPRA_EINVAL (and resets the slots) when a slot
 * is marked done with no request behind it or holds an undefined state.  If
 * the range goes away (its last handle closed: the device model exited or
 * crashed) with requests outstanding, reads complete as all-ones, writes
 * are dropped, and the VMM's VCPU wait returns COPRA_EXIT_DEVICE_GONE.
 */
#define COPRA_RIGHTS_RANGE (COPRA_RIGHT_WAIT | COPRA_RIGHT_MAP | COPRA_RIGHT_SIGNAL | COPRA_RIGHT_TRANSFER)
#define COPRA_IO_FREE    0u
#define COPRA_IO_REQUEST 1u   /* written by the kernel */
#define COPRA_IO_DONE    2u   /* written by the device model */
#define COPRA_IO_KIND_PIO  1u
#define COPRA_IO_KIND_MMIO 2u
#define COPRA_IOIO_MAX_PORTS 0x10000u
#define COPRA_MMIO_MAX_LEN   (1ull << 32)

struct copra_io_slot {
    uint32_t state;          /* COPRA_IO_* */
    uint32_t vcpu;           /* index of the VCPU that made the access */
    uint8_t kind;            /* COPRA_IO_KIND_* */
    uint8_t size;            /* 1, 2, 4 or 8 */
    uint8_t write;
    uint8_t pad[5];
    uint64_t addr;           /* port or guest-physical address */
    uint64_t data;           /* write: the value; read: the device model's answer */
    uint64_t seq;            /* increases with every request of this slot */
    uint8_t reserved[24];
};
COPRA_STATIC_ASSERT(sizeof(struct copra_io_slot) == 64, "io slot");

/* The mapped area of a range: one slot per VCPU index. */
struct copra_io_area {
    struct copra_io_slot slot[COPRA_VCPUS_MAX];
};
COPRA_STATIC_ASSERT(sizeof(struct copra_io_area) == 4096, "io area is one page");

#endif
