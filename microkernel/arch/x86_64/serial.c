/* SPDX-License-Identifier: MIT */
/* 16550 UART on COM1, polled: the kernel console. */
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"

#define COM1 0x3F8

/* Set by the tdx backend: in a TD a native IN/OUT raises #VE, so the
 * console goes through TDG.VP.VMCALL (value < 0: a read). */
uint8_t (*serial_port_io)(uint16_t port, int value);
static uint8_t port_in(uint16_t port) { return serial_port_io ? serial_port_io(port, -1) : inb(port); }
static void port_out(uint16_t port, uint8_t v)
{
    if (serial_port_io)
        serial_port_io(port, v);
    else
        outb(port, v);
}

void serial_init(void)
{
    /* {register, value}, in order: no interrupts; DLAB; divisor 1 = 115200 baud
     * (low, high byte); 8N1; FIFO on, cleared; DTR and RTS. */
    static const uint8_t setup[][2] = {
        { 1, 0x00 }, { 3, 0x80 }, { 0, 0x01 }, { 1, 0x00 }, { 3, 0x03 }, { 2, 0xC7 }, { 4, 0x03 },
    };
    for (unsigned i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
        port_out(COM1 + setup[i][0], setup[i][1]);
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    for (int i = 0; i < 100000 && !(port_in(COM1 + 5) & 0x20); i++)
        cpu_relax();
    port_out(COM1, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        serial_putc(s[i]);
}

/* A received byte, or -1 if none is waiting. */
int serial_getc(void)
{
    return (port_in(COM1 + 5) & 1) ? port_in(COM1) : -1;
}
