/* SPDX-License-Identifier: MIT */
/* CPU instructions, descriptor tables and per-CPU state. */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include "core/kernel.h"
#include "arch/x86_64/asm.h"

struct thread;

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout (SDM vol. 3 fig. 8-11)");

/* Everything one CPU owns.  The running thread's `on_cpu` leads here. */
struct cpu {
    uint32_t index;
    uint32_t apic_id;
    volatile bool online;
    struct thread *current;
    struct thread *idle;
    struct thread *runq_head, *runq_tail;   /* guarded by the scheduler lock */
    struct thread *dead;                    /* freed by the next thread to run here */
    volatile uint64_t tlb_flushes;          /* TLB shoot-down IPIs handled */
    uint64_t ticks;
    uint64_t entries, cr3_switches, guest_entries;   /* SYSINFO counters */
    uint64_t guest_tsc, idle_tsc;
    uint64_t gdt[7];                /* null, kcode, kdata, ucode, udata, tss (2) */
    struct tss tss;
    /* The stacks of the vectors that must not run on a stack in doubt:
     * one guarded KSTACK_SIZE block cut in four (#DF at the top, then NMI,
     * #DB, #MC).  Its word 0 is the running thread (for thread_current()),
     * word 1 that thread's kernel stack top (entry.S trap_ist): two stores
     * per thread switch. */
    uint64_t ist_base;
    uint64_t nmis;                          /* host NMIs taken */
};

extern struct cpu cpus[COPRA_CPUS_MAX];
extern unsigned cpu_count;
extern uint8_t smap_enabled;

void cpu_init(struct cpu *cpu);
void cpu_set_kernel_stack(struct cpu *cpu, uint64_t rsp0);
void idt_init(void);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#define DEFINE_CR(n) \
    static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t irq_save(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
    return f;
}
static inline void irq_restore(uint64_t f)
{
    if (f & (1u << 9))
        __asm__ volatile("sti" : : : "memory");
}
static inline void irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline void cpu_flush_tlb(void)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* Ends QEMU through isa-debug-exit with `status`; halts if there is none. */
NORETURN void cpu_poweroff(uint32_t status);

#endif
