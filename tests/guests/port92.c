/* SPDX-License-Identifier: MIT */
/*
 * System Control Port A (0x92): the `port92` model, or QEMU's.  Reads the
 * power-on value (A20 on), writes other bits and reads them back (A20
 * stays on: turning it off would wrap this guest's own code at 1 MiB on
 * QEMU), then sets bit 0: a system reset.  The VM description says
 * expect=shutdown, so the reset is the success (status 0); on plain QEMU
 * run with -no-reboot, where QEMU exits.  If the write is ignored the
 * guest exits with status 1.
 */
#include "guest.h"

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("port92 guest on vcpu %u\n", cpu);
    uint8_t v = inb(0x92);
    guest_printf("port 0x92 at start: 0x%x\n", v);
    CHECK_EQ("A20 on at start, no reset pending", v & 0x03, 0x02);
    outb(0x92, 0x42);
    CHECK_EQ("bits read back", inb(0x92), 0x42);
    outb(0x92, 0x02);
    CHECK_EQ("A20 on, bit 6 cleared", inb(0x92), 0x02);
    if (guest_finish() != 0)
        return 1;
    guest_printf("resetting through port 0x92\n");
    outb(0x92, 0x03);
    for (volatile unsigned i = 0; i < 10000000; i++)
        ;
    guest_printf("FAIL: still running after the reset request\n");
    return 1;
}
