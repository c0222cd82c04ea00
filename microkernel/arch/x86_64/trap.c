/* SPDX-License-Identifier: MIT */
/* Exceptions, interrupts and the syscall vector. */
#include "arch/x86_64/trap.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "core/process.h"
#include "core/thread.h"
#include "core/syscall.h"

extern char usercopy_start[], usercopy_end[], usercopy_fault[];

static const char *const vector_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved", "reserved",
    "reserved", "reserved", "reserved", "reserved", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved",
};

const char *trap_vector_name(uint64_t v)
{
    return v < 32 ? vector_names[v] : "interrupt";
}

void trap_print_frame(const struct trap_frame *f)
{
    kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
    kprintf("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
    kprintf("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
    kprintf("  rip %016lx cs %04lx rflags %08lx ss %04lx\n", f->rip, f->cs, f->rflags, f->ss);
}

static void trap_exception(struct trap_frame *f)
{
    if (trap_from_user(f))
        process_fault(f);
    /* A user pointer that faulted inside usercopy(): the syscall gets EFAULT. */
    if (f->vector == 14 && f->rip >= (uint64_t)(uintptr_t)usercopy_start &&
        f->rip < (uint64_t)(uintptr_t)usercopy_end) {
        f->rip = (uint64_t)(uintptr_t)usercopy_fault;
        return;
    }
    kprintf("copra: kernel exception %s (vector %lu), error 0x%lx, rip 0x%lx, cr2 0x%lx\n",
            trap_vector_name(f->vector), f->vector, f->error, f->rip, read_cr2());
    trap_print_frame(f);
    panic("exception in the kernel");
}

bool (*trap_platform_hook)(struct trap_frame *f);
uint8_t trap_platform_vector;

void trap_dispatch(struct trap_frame *f)
{
    if (trap_platform_hook && f->vector == trap_platform_vector && trap_platform_hook(f))
        return;   /* before cpu_this(): the platform's exception can come from the first CPUID on */
    cpu_this()->entries++;
    if (f->vector == COPRA_SYSCALL_VECTOR) {
        syscall_dispatch(f);
    } else if (f->vector == 2) {
        cpu_this()->nmis++;   /* a host NMI (watchdog, debugger): nothing to do but count it */
    } else if (f->vector < 32) {
        trap_exception(f);
    } else if (f->vector == VECTOR_TIMER) {
        apic_eoi();
        sched_tick(trap_from_user(f));
    } else if (f->vector == VECTOR_TLB) {
        cpu_flush_tlb();
        __atomic_add_fetch(&cpu_this()->tlb_flushes, 1, __ATOMIC_SEQ_CST);
        apic_eoi();
    } else if (f->vector == VECTOR_WAKEUP) {
        apic_eoi();
        if (trap_from_user(f))
            sched_yield();
    } else if (f->vector != VECTOR_SPURIOUS) {
        apic_eoi();   /* VECTOR_KICK: entering the kernel was the point */
    }
    /* A thread of an exiting process never returns to user mode. */
    if (trap_from_user(f) && thread_current()->proc->exiting)
        thread_exit(0);
}
