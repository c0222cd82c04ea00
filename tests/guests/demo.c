/* SPDX-License-Identifier: MIT */
/*
 * The demo guest of the default image (`make run`): greets through the
 * UART device model, then echoes every line typed on the console back
 * through the same UART (the model prints whole lines, so a line shows up
 * when Enter is pressed).  'q' ends it, and so do about 5 seconds without
 * input, so `make run` ends by itself when nobody types; either way it
 * stops the VM through isa-debug-exit with status 0.
 */
#include "guest.h"

#define COM1_DATA (PORT_COM1 + 0)
#define COM1_LSR  (PORT_COM1 + 5)
#define IDLE_SECONDS 5

int guest_main(unsigned cpu, uint32_t info)
{
    (void)cpu;
    (void)info;
    uint32_t r[4];
    cpuid(0x40000010, 0, r);
    uint64_t khz = r[0] ? r[0] : 1000000;
    uint64_t idle = IDLE_SECONDS * 1000 * khz;

    guest_printf("Hello from the Copra demo guest: this line went through the UART device model.\n");
    guest_printf("Type a line and press Enter to have it echoed; 'q' quits (or wait %u s).\n",
                 IDLE_SECONDS);
    uint64_t deadline = rdtsc() + idle;
    bool mid_line = false;
    for (;;) {
        if (!(inb(COM1_LSR) & 0x01)) {
            if (rdtsc() > deadline) {
                if (mid_line)
                    guest_printf("\n");
                guest_printf("no input for %u s: bye\n", IDLE_SECONDS);
                break;
            }
            __asm__ volatile("pause");
            continue;
        }
        char c = (char)inb(COM1_DATA);
        deadline = rdtsc() + idle;
        if (c == 'q') {
            if (mid_line)
                guest_printf("\n");
            guest_printf("q: bye\n");
            break;
        }
        c = c == '\r' ? '\n' : c;
        mid_line = c != '\n';
        guest_putc(c);
    }
    return 0;
}
