/* SPDX-License-Identifier: MIT */
/*
 * SHUTDOWN: load a null IDT and raise #UD.  The #UD cannot be delivered
 * (#GP), nor the #GP (#DF), nor the #DF: a triple fault.  The VM stops with
 * COPRA_EXIT_SHUTDOWN, which triplefault.conf declares expected
 * (expect=shutdown), so the VMM exits 0.  The kernel must live on.
 */
#include "guest.h"

int guest_main(unsigned cpu, uint32_t info)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) null_idt = { 0, 0 };

    (void)info;
    guest_printf("triplefault guest on vcpu %u\n", cpu);
    guest_print("loading a null IDT and executing ud2\n");
    __asm__ volatile("lidt %0\n ud2" :: "m"(null_idt));
    guest_print("still running after a triple fault?\n");
    return 1;
}
