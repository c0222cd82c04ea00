/* SPDX-License-Identifier: MIT */
/*
 * A device model killed mid-request.  The UART model runs with
 * `debug-crash=1`: writing 0xDE to SCR arms it, and the next register read
 * kills the model while the read is outstanding.  The kernel completes the
 * read with all-ones, the VMM restarts the model with fresh ranges, and the
 * guest goes on using the UART (whose state is the reset state).  The
 * command line's `crashes=N` (default 2) sets how many times; the VMM gives
 * up after 3 restarts and stops the VM (status 1).
 */
#include "guest.h"

#define COM1_LSR (PORT_COM1 + 5)
#define COM1_SCR (PORT_COM1 + 7)

static unsigned crashes_wanted(uint32_t info)
{
    const uint32_t *mbi = (const uint32_t *)(uintptr_t)info;
    if (info == 0 || !(mbi[0] & 4))
        return 2;
    const char *s = (const char *)(uintptr_t)mbi[4];
    for (; *s; s++)
        if (memcmp(s, "crashes=", 8) == 0 && s[8] >= '1' && s[8] <= '9')
            return (unsigned)(s[8] - '0');
    return 2;
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)cpu;
    unsigned crashes = crashes_wanted(info);

    guest_printf("uartcrash guest: %u crash(es) of the UART model\n", crashes);
    for (unsigned i = 1; i <= crashes; i++) {
        guest_printf("before crash %u\n", i);
        outb(COM1_SCR, 0xde);
        uint16_t lsr = i % 2 ? inb(COM1_LSR) : inw(COM1_LSR);
        CHECK_EQ("the read the model died in returns all-ones", lsr, i % 2 ? 0xff : 0xffff);
        guest_printf("after restart %u\n", i);
        CHECK_EQ("the restarted model starts from reset: SCR 0", inb(COM1_SCR), 0);
        outb(COM1_SCR, 0x42);
        CHECK_EQ("and works: SCR holds 0x42", inb(COM1_SCR), 0x42);
        CHECK_EQ("LSR: THR empty again", inb(COM1_LSR) & 0x60, 0x60);
    }
    return guest_finish();
}
