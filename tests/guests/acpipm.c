/* SPDX-License-Identifier: MIT */
/*
 * The ACPI power registers (`device acpipm`, servers/devmodel/acpipm.h),
 * written as Linux writes them through the FADT of a hardware-reduced
 * platform.  Checks the power-on values, that a sleep type other than S5
 * is not entered (WAK_STS comes back at once, as ACPICA's
 * acpi_hw_extended_sleep() waits for), WAK_STS write-1-to-clear, and that
 * a wrong reset value does nothing.  Then, as the command line says:
 *   (default)  SLP_TYP S5 | SLP_EN to the sleep control register, as
 *              `poweroff` does: the VM stops with status 0;
 *   reset=1    the reset value to the reset register, as `reboot` does:
 *              the VM resets (expect=shutdown makes that status 0).
 * Either way a guest still running afterwards exits with status 1.
 */
#include "guest.h"

#define PM_PORT        0x600
#define SLEEP_CONTROL  (PM_PORT + 0)
#define SLEEP_STATUS   (PM_PORT + 1)
#define RESET_REG      (PM_PORT + 2)
#define SLP_EN         0x20
#define WAK_STS        0x80
#define SLP_TYP_S5     5
#define RESET_VALUE    0x42

int guest_main(unsigned cpu, uint32_t info)
{
    bool reset = guest_cmdline_number(info, "reset=", 0) != 0;

    guest_printf("acpipm guest on vcpu %u\n", cpu);
    CHECK_EQ("sleep control reads 0", inb(SLEEP_CONTROL), 0);
    CHECK_EQ("sleep status reads 0 at power-on", inb(SLEEP_STATUS), 0);
    CHECK_EQ("reset register reads 0", inb(RESET_REG), 0);
    outb(SLEEP_STATUS, WAK_STS);                     /* ACPICA clears WAK_STS first */
    outb(SLEEP_CONTROL, 3 << 2 | SLP_EN);            /* S3: not supported */
    CHECK_EQ("S3 request: WAK_STS set at once", inb(SLEEP_STATUS), WAK_STS);
    outb(SLEEP_STATUS, 0x7f);
    CHECK_EQ("writing 0 to WAK_STS keeps it", inb(SLEEP_STATUS), WAK_STS);
    outb(SLEEP_STATUS, WAK_STS);
    CHECK_EQ("writing 1 to WAK_STS clears it", inb(SLEEP_STATUS), 0);
    outb(SLEEP_CONTROL, SLP_TYP_S5 << 2);            /* no SLP_EN: nothing */
    outb(RESET_REG, 0x06);                           /* not the reset value: nothing */
    CHECK("still running after S5 without SLP_EN and a wrong reset value", true);
    if (guest_finish() != 0)
        return 1;
    if (reset) {
        guest_printf("resetting through the ACPI reset register\n");
        outb(RESET_REG, RESET_VALUE);
    } else {
        guest_printf("powering off through the ACPI sleep control register\n");
        outb(SLEEP_CONTROL, SLP_TYP_S5 << 2 | SLP_EN);
    }
    for (volatile unsigned i = 0; i < 10000000; i++)
        ;
    guest_printf("FAIL: still running after the request\n");
    return 1;
}
