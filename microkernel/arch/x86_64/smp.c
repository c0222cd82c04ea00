/* SPDX-License-Identifier: MIT */
#include "arch/x86_64/smp.h"
#include "arch/x86_64/kstack.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "core/heap.h"
#include "core/string.h"
#include "core/thread.h"

#define TRAMPOLINE_PA 0x8000ull

extern char trampoline_start[], trampoline_end[], trampoline_cr3[], trampoline_stack[];
extern char trampoline_cpu[], trampoline_entry[];

/* First C code of another CPU, on its idle thread's stack. */
NORETURN static void ap_main(struct cpu *cpu)
{
    cpu_init(cpu);
    apic_init_ap();
    if (cpu_init_hook)
        cpu_init_hook(cpu);
    apic_timer_start();
    __atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
    sched_idle();
}

static void trampoline_set(const char *field, uint64_t value)
{
    uint64_t off = (uintptr_t)field - (uintptr_t)trampoline_start;
    memcpy((uint8_t *)phys_to_virt(TRAMPOLINE_PA) + off, &value, sizeof(value));
}

static bool smp_start(uint32_t apic, unsigned index)
{
    struct cpu *c = &cpus[index];
    struct thread *idle = kmalloc(sizeof(*idle));
    uint64_t kstack = kstack_alloc();
    if (!idle || !kstack)
        panic("smp: out of memory for CPU %u", index);
    c->index = index;
    c->apic_id = apic;
    thread_init_idle(idle, c, kstack);
    trampoline_set(trampoline_stack, kstack + KSTACK_SIZE);
    trampoline_set(trampoline_cpu, (uint64_t)(uintptr_t)c);
    apic_start_cpu(apic, TRAMPOLINE_PA);
    for (int ms = 0; ms < 500 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); ms++)
        delay_us(1000);
    return c->online;
}

void smp_init(void)
{
    uint32_t ids[ACPI_MAX_CPUS];
    unsigned n = acpi_cpu_apic_ids(ids, ACPI_MAX_CPUS);
    cpus[0].online = true;
    if (n <= 1) {
        kprintf("copra: smp: 1 CPU\n");
        return;
    }
    /* The trampoline page must run at its physical address once paging is on. */
    paging_identity_map(TRAMPOLINE_PA, true);
    memcpy(phys_to_virt(TRAMPOLINE_PA), trampoline_start,
           (uintptr_t)trampoline_end - (uintptr_t)trampoline_start);
    trampoline_set(trampoline_cr3, paging_kernel_root());
    trampoline_set(trampoline_entry, (uint64_t)(uintptr_t)ap_main);
    for (unsigned i = 0; i < n && cpu_count < COPRA_CPUS_MAX; i++) {
        if (ids[i] == cpus[0].apic_id)
            continue;
        if (smp_start(ids[i], cpu_count))
            cpu_count++;
        else
            kprintf("copra: smp: CPU with APIC ID %u did not start\n", ids[i]);
    }
    paging_identity_map(TRAMPOLINE_PA, false);
    kprintf("copra: smp: %u CPUs online\n", cpu_count);
}
