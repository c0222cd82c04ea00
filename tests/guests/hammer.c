/* SPDX-License-Identifier: MIT */
/*
 * Hammer: many accesses to unclaimed ports and unmapped guest-physical
 * addresses, of random sizes and directions.  Every read must return all
 * ones; the VMM counts them and prints the totals when the VM stops (the
 * QEMU test checks those counts); the kernel must survive all of it.
 */
#include "guest.h"

#define PORT_ROUNDS 12000u
#define MMIO_ROUNDS 12000u

static uint64_t random_state = 0x243f6a8885a308d3ull;

static uint64_t random_next(void)
{
    /* xorshift64* (Vigna): enough to scatter addresses, deterministic. */
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return random_state * 0x2545f4914f6cdd1dull;
}

/* Ports nobody claims: skip the ones the VMM serves. */
static uint16_t random_port(void)
{
    for (;;) {
        uint16_t port = (uint16_t)random_next();
        if ((port >= 0xe9 && port <= 0xf4) || (port >= 0x3f8 && port <= 0x3ff) ||
            (port >= 0x500 && port <= 0x51f))
            continue;
        return port;
    }
}

/* Unmapped guest-physical addresses: RAM is 64 MiB; 0x40000000-0x7fffffff is
 * boot.S's alias of the MMIO range and 0xC0000000-0xC0000fff the scratch
 * device, both avoided; everything else up to 4 GiB is identity-mapped. */
static uintptr_t random_gpa(unsigned size)
{
    for (;;) {
        uint64_t a = random_next() & 0xffffffffull & ~(uint64_t)(size - 1);
        if (a < 0x4000000ull || (a >= 0x40000000ull && a < 0x80000000ull) ||
            (a >= 0xC0000000ull && a < 0xC0001000ull))
            continue;
        return (uintptr_t)a;
    }
}

int guest_main(unsigned cpu, uint32_t info)
{
    unsigned bad_port_reads = 0, bad_mmio_reads = 0, port_reads = 0, mmio_reads = 0;

    (void)info;
    guest_printf("hammer guest on vcpu %u: %u port and %u MMIO accesses\n", cpu, PORT_ROUNDS,
                 MMIO_ROUNDS);
    for (unsigned i = 0; i < PORT_ROUNDS; i++) {
        uint64_t r = random_next();
        uint16_t port = random_port();
        bool in = r & 1;
        switch ((r >> 1) % 3) {
        case 0:
            if (in) { port_reads++; bad_port_reads += inb(port) != 0xff; }
            else outb(port, (uint8_t)(r >> 8));
            break;
        case 1:
            if (in) { port_reads++; bad_port_reads += inw(port) != 0xffff; }
            else outw(port, (uint16_t)(r >> 8));
            break;
        default:
            if (in) { port_reads++; bad_port_reads += inl(port) != 0xffffffffu; }
            else outl(port, (uint32_t)(r >> 8));
            break;
        }
    }
    for (unsigned i = 0; i < MMIO_ROUNDS; i++) {
        uint64_t r = random_next();
        bool read = r & 1;
        unsigned size = 1u << ((r >> 1) & 3);
        uintptr_t gpa = random_gpa(size);
        if (read)
            mmio_reads++;
        switch (size) {
        case 1:
            if (read) bad_mmio_reads += *(volatile uint8_t *)gpa != 0xff;
            else *(volatile uint8_t *)gpa = (uint8_t)r;
            break;
        case 2:
            if (read) bad_mmio_reads += *(volatile uint16_t *)gpa != 0xffff;
            else *(volatile uint16_t *)gpa = (uint16_t)r;
            break;
        case 4:
            if (read) bad_mmio_reads += *(volatile uint32_t *)gpa != 0xffffffffu;
            else *(volatile uint32_t *)gpa = (uint32_t)r;
            break;
        default:
            if (read) bad_mmio_reads += *(volatile uint64_t *)gpa != ~0ull;
            else *(volatile uint64_t *)gpa = r;
            break;
        }
    }
    guest_printf("%u port reads, %u MMIO reads done\n", port_reads, mmio_reads);
    CHECK_EQ("every unclaimed port read returned all ones", bad_port_reads, 0);
    CHECK_EQ("every unmapped MMIO read returned all ones", bad_mmio_reads, 0);
    outl(PORT_BANK, 0xabcdef01);
    CHECK_EQ("the test registers still work", inl(PORT_BANK), 0xabcdef01);
    return guest_finish();
}
