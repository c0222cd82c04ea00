/* SPDX-License-Identifier: MIT */
/*
 * SMP: every VCPU starts at the entry (servers/vmm/vm.h); they share guest
 * RAM.  Each adds to a shared counter with LOCK-prefixed instructions, then
 * they meet at a barrier; VCPU 0 checks the total and reports.
 */
#include "guest.h"

#define ROUNDS 20000u
#define VCPUS  2u

static volatile uint64_t counter;
static volatile uint32_t arrived, started;
static volatile uint64_t xadd_sum;

static void work(unsigned cpu)
{
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < VCPUS)
        __asm__ volatile("pause");
    for (unsigned i = 0; i < ROUNDS; i++) {
        __asm__ volatile("lock incq %0" : "+m"(counter));
        uint64_t one = 1;
        __asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(xadd_sum));
    }
    guest_printf("vcpu %u done\n", cpu);
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
}

void guest_ap_main(unsigned cpu)
{
    if (cpu < VCPUS)
        work(cpu);
    for (;;)
        __asm__ volatile("sti; hlt");
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("smp guest on vcpu %u, waiting for %u vcpus\n", cpu, VCPUS);
    uint32_t r[4];
    cpuid(1, 0, r);
    CHECK_EQ("cpuid leaf 1: 2 logical processors", (r[1] >> 16) & 0xff, VCPUS);
    work(cpu);
    uint64_t spins = 0;
    while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < VCPUS && spins < 2000000000ull) {
        __asm__ volatile("pause");
        spins++;
    }
    CHECK_EQ("all vcpus arrived", arrived, VCPUS);
    CHECK_EQ("lock inc: shared counter", counter, (uint64_t)ROUNDS * VCPUS);
    CHECK_EQ("lock xadd: shared sum", xadd_sum, (uint64_t)ROUNDS * VCPUS);
    return guest_finish();
}
