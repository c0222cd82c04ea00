/* SPDX-License-Identifier: MIT */
/*
 * IPIs between two VCPUs through irqd's LAPICs (tests/qemu/irqvmm.c runs
 * it with vcpus 2): each VCPU sees its own LAPIC at the same address (irqd
 * tells them apart by the range slot), a fixed IPI from VCPU 0 to VCPU 1,
 * one back from VCPU 1's handler, ping-pong rounds, all-but-self, and an
 * NMI.  INIT/SIPI are not used: the harness starts both VCPUs itself.
 */
#include "irqtest.h"

#define PING_VECTOR 0x50
#define PONG_VECTOR 0x51
#define ALL_VECTOR  0x52
#define ROUNDS      10u

static volatile unsigned hits[2][256];
static volatile uint32_t ap_id;
static volatile unsigned ap_ready;

static void send_ipi(unsigned apic_id, uint32_t icr_low)
{
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, icr_low);
}

static unsigned this_cpu(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

static void on_ipi(struct guest_frame *frame)
{
    unsigned cpu = this_cpu();
    hits[cpu & 1][frame->vector]++;
    if (frame->vector == PING_VECTOR)
        send_ipi(0, 0x4000 | PONG_VECTOR);   /* answer VCPU 0 */
    if (frame->vector != 2)
        lapic_eoi();
}

void guest_ap_main(unsigned cpu)
{
    if (cpu != 1)
        return;
    idt_init();   /* loads IDTR on this VCPU; the gates are the same */
    lapic_write(LAPIC_SVR, 0x1FF);
    ap_id = lapic_read(LAPIC_ID);
    __atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("sti; hlt");
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("ipi guest on vcpu %u\n", cpu);
    idt_set_handler(PING_VECTOR, on_ipi);
    idt_set_handler(PONG_VECTOR, on_ipi);
    idt_set_handler(ALL_VECTOR, on_ipi);
    idt_set_handler(2, on_ipi);
    idt_init();
    lapic_write(LAPIC_SVR, 0x1FF);

    uint32_t t0 = clock_us();
    while (!__atomic_load_n(&ap_ready, __ATOMIC_ACQUIRE) && clock_us() - t0 < 2000000)
        __asm__ volatile("pause");
    CHECK("vcpu 1 came up", ap_ready);
    CHECK_EQ("vcpu 0 sees LAPIC ID 0", lapic_read(LAPIC_ID), 0);
    CHECK_EQ("vcpu 1 sees LAPIC ID 1", ap_id, 1u << 24);

    /* 1. Fixed IPI 0 -> 1; vcpu 1's handler answers 1 -> 0. */
    send_ipi(1, 0x4000 | PING_VECTOR);
    wait_for(&hits[0][PONG_VECTOR], 1, 100);
    CHECK_EQ("vcpu 1 got the fixed IPI", hits[1][PING_VECTOR], 1);
    CHECK_EQ("vcpu 0 got the answer", hits[0][PONG_VECTOR], 1);

    /* 2. Ping-pong rounds. */
    uint64_t tsc0 = rdtsc();
    for (unsigned i = 2; i <= ROUNDS + 1; i++) {
        send_ipi(1, 0x4000 | PING_VECTOR);
        wait_for(&hits[0][PONG_VECTOR], i, 100);
    }
    uint64_t tsc1 = rdtsc();
    CHECK_EQ("10 more round trips", hits[0][PONG_VECTOR], ROUNDS + 1);
    guest_printf("IPI round trip: %llu TSC ticks\n", (unsigned long long)((tsc1 - tsc0) / ROUNDS));

    /* 3. All but self: only vcpu 1. */
    send_ipi(0, 0xC4000 | ALL_VECTOR);
    t0 = clock_us();
    while (hits[1][ALL_VECTOR] == 0 && clock_us() - t0 < 1000000)
        __asm__ volatile("pause");
    CHECK_EQ("all-but-self reached vcpu 1", hits[1][ALL_VECTOR], 1);
    CHECK_EQ("and not vcpu 0", hits[0][ALL_VECTOR], 0);

    /* 4. NMI to vcpu 1. */
    send_ipi(1, 0x4400);
    t0 = clock_us();
    while (hits[1][2] == 0 && clock_us() - t0 < 1000000)
        __asm__ volatile("pause");
    CHECK_EQ("NMI IPI", hits[1][2], 1);

    /* 5. A physical destination nobody has. */
    send_ipi(7, 0x4000 | PING_VECTOR);
    delay_us(5000);
    CHECK_EQ("IPI to APIC ID 7 goes nowhere", hits[1][PING_VECTOR], ROUNDS + 1);
    return guest_finish();
}
