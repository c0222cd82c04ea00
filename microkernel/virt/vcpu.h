/* SPDX-License-Identifier: MIT */
/* VCPU objects: the run loop behind WAIT_FOR_EVENT, exit decoding, IRQs. */
#ifndef VIRT_VCPU_H
#define VIRT_VCPU_H

#include "core/kernel.h"
#include "core/memobj.h"
#include "core/object.h"
#include "core/waitable.h"
#include "virt/emulate.h"
#include "virt/fpu.h"
#include "virt/vm.h"

struct thread;
struct copra_wait_item;

/* An access the guest made that someone outside the kernel must serve. */
struct bus_request {
    bool active;
    bool mmio;              /* else port I/O */
    bool write;
    uint8_t size;
    uint64_t addr;          /* port or guest-physical address */
    uint64_t data;          /* write: the value; read: filled by the server */
};

/* Where an instruction that exited half-done stands (see vcpu.c). */
enum vcpu_pending {
    PENDING_NONE,
    PENDING_IO,             /* non-string IN/OUT */
    PENDING_STRING_IO,      /* one element of INS/OUTS */
    PENDING_MMIO_READ,      /* decoded insn waiting for its read value */
    PENDING_MMIO_WRITE,     /* decoded insn waiting for its write to be taken */
    PENDING_MMIO_WRITEBACK, /* read-modify-write: the write after the read */
    PENDING_MMIO_RAW,       /* undecodable: the VMM changed the state itself */
};

struct vcpu {
    struct kobject obj;
    struct vm *vm;                   /* holds a reference */
    uint32_t index;
    int32_t cpu;                     /* the physical CPU it runs on */
    struct memobj *run_mem;          /* the run page */
    struct copra_run_page *run;
    struct memobj *vapic_mem;        /* the virtual-APIC page (MMAP of an IRQ handle) */
    struct copra_vapic_page *vapic;
    uint64_t gpr[16];                /* loaded/saved by the backend around entry */
    void *arch;                      /* backend state (svm.c: struct svm_vcpu) */
    struct fpu fpu;                  /* x87/SSE/AVX state (fpu.c) */
    /* Interrupts (scheduler lock). */
    uint64_t irq_pending[4];         /* vectors 0..255 */
    bool nmi_pending;
    struct waitq irq_waiters;        /* a VCPU parked in HLT waits here */
    volatile bool kick;              /* leave the guest and return to user space */
    struct thread *runner;           /* the thread inside WAIT_FOR_EVENT on it */
    struct spinlock state_lock;      /* GET/SET_STATE against the runner's claim */
    /* 0 while its thread neither runs the guest nor touches guest RAM; else
     * 1 + the VM's tlb_gen it entered with (vm.c frees retired mappings). */
    uint64_t entered_gen;
    /* The exit user space is serving. */
    enum vcpu_pending pending;
    struct decoded_insn insn;
    struct emulate_access acc;       /* the decoded insn's bus access, from the exit */
    uint64_t next_rip;
    uint64_t string_gva;             /* INS: where the element goes */
    uint8_t string_asize;            /* INS/OUTS address size in bytes */
    struct bus_request bus;
    uint64_t pending_event;          /* COPRA_STATE_PENDING_EVENT */
    uint64_t fault_gva, fault_code;  /* the #PF a guest access met (vcpu.c guest_copy) */
    uint8_t vec[32];                 /* a vector move's bytes ... */
    uint8_t vec_done;                /* ... of which this many have been on the bus */
    uint64_t dr[4], dr7;             /* the guest's; never loaded into the CPU (ctrlreg.c) */
    uint64_t tsc_aux;                /* the guest's TSC_AUX, in the MSR only while it runs */
    /* INIT/SIPI and halting (scheduler lock): enum copra_mp_state. */
    uint64_t mp_state;
    bool init_pending, halt_reported;
    int16_t sipi_vector;             /* -1: none since the INIT */
    /* NMI blocking, for backends without virtual NMIs (svm.c): 0 open, 1 in
     * the guest's handler (IRET intercepted), 2 its IRET seen at iret_rip;
     * nmi_step: the backend set TF to see the IRET complete.  INIT clears it. */
    uint8_t tpr_set;                 /* 0x10 | class: CR8 from the LAPIC's TPR (IRQ_INJECT) */
    uint8_t nmi_block;
    bool nmi_step;
    uint64_t iret_rip;
    bool state_set;                  /* the VMM set state: check it before the next entry */
    /* A request posted to a device model's range (scheduler lock). */
    enum { IO_IDLE, IO_WAITING, IO_DONE, IO_GONE } io_state;
    uint64_t io_data;
    struct waitq io_waiters;
};

/* An IRQ object (IRQ_CREATE): the right to interrupt one VCPU. */
struct irq {
    struct kobject obj;
    struct vcpu *vcpu;   /* holds a reference */
};

/* WAIT_FOR_EVENT with a VCPU among the items (`run`) runs the guest on the
 * VCPU's CPU until an exit for user space (the VCPU item becomes ready,
 * value = exit reason) or another item is ready; MMAP maps the run page.
 * IRQ objects map the VCPU's virtual-APIC page. */
extern const struct kobject_ops vcpu_ops, irq_ops;
/* Forces the VCPU out of the guest if it is in it (any CPU). */
void vcpu_kick_cpu(struct vcpu *v);

int64_t sys_vcpu_create(uint64_t vm, uint64_t index, uint64_t cpu);
int64_t sys_vcpu_get_state(uint64_t vcpu, uint64_t id, uint64_t value_ptr);
int64_t sys_vcpu_set_state(uint64_t vcpu, uint64_t id, uint64_t value);
int64_t sys_vcpu_kick(uint64_t vcpu);
int64_t sys_irq_create(uint64_t vcpu);
int64_t sys_irq_inject(uint64_t irq, uint64_t vector);
int64_t sys_irq_timer(uint64_t irq, uint64_t timer, uint64_t vector);

#endif
