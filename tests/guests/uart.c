/* SPDX-License-Identifier: MIT */
/*
 * The 16550 device model (servers/devmodel/uart16550.c) from the guest's
 * side.  The test feeds "hello copra\n" to the serial port (copra-qemu
 * --input); the guest reads it from RBR, polling LSR.DR, and prints it
 * back, then checks the registers: SCR, the divisor latch behind DLAB,
 * IIR and the THR-empty interrupt condition, FIFO enable, loopback (THR to
 * RBR, MSR from MCR) and an RX overrun.  No interrupt controller here:
 * interrupt-driven input comes with irqd.
 */
#include "guest.h"

#define COM1_DATA (PORT_COM1 + 0)
#define COM1_IER  (PORT_COM1 + 1)
#define COM1_IIR  (PORT_COM1 + 2)
#define COM1_FCR  (PORT_COM1 + 2)
#define COM1_LCR  (PORT_COM1 + 3)
#define COM1_MCR  (PORT_COM1 + 4)
#define COM1_LSR  (PORT_COM1 + 5)
#define COM1_MSR  (PORT_COM1 + 6)
#define COM1_SCR  (PORT_COM1 + 7)

#define INPUT_WAIT_SECONDS 20

static uint64_t tsc_khz(void)
{
    uint32_t r[4];
    cpuid(0x40000010, 0, r);
    return r[0] ? r[0] : 1000000;
}

/* Read one byte within `deadline` (TSC); -1 on timeout. */
static int read_byte(uint64_t deadline)
{
    while (!(inb(COM1_LSR) & 0x01))
        if (rdtsc() > deadline)
            return -1;
    return inb(COM1_DATA);
}

static void check_input(void)
{
    char line[64];
    unsigned n = 0;
    uint64_t deadline = rdtsc() + INPUT_WAIT_SECONDS * 1000 * tsc_khz();

    guest_printf("type a line:\n");
    for (;;) {
        int c = read_byte(deadline);
        if (c < 0 || c == '\n' || c == '\r' || n == sizeof line - 1)
            break;
        line[n++] = (char)c;
    }
    line[n] = '\0';
    guest_printf("got: %s\n", line);
    CHECK("the input line arrived through RBR", n == 11 && memcmp(line, "hello copra", 11) == 0);
    CHECK_EQ("nothing more to read: LSR.DR clear", inb(COM1_LSR) & 0x01, 0);
}

static void check_registers(void)
{
    CHECK_EQ("LSR: THR and transmitter empty", inb(COM1_LSR) & 0x60, 0x60);
    outb(COM1_SCR, 0xa5);
    CHECK_EQ("SCR holds what was written", inb(COM1_SCR), 0xa5);

    /* No output while DLAB is set (THR is DLL then): read, restore, check. */
    outb(COM1_LCR, 0x83);           /* DLAB, 8N1 */
    outb(COM1_DATA, 0x01);          /* DLL: 115200 baud */
    outb(COM1_IER, 0x00);           /* DLM */
    uint8_t dll = inb(COM1_DATA), dlm = inb(COM1_IER);
    outb(COM1_LCR, 0x03);
    CHECK_EQ("DLL behind DLAB", dll, 0x01);
    CHECK_EQ("DLM behind DLAB", dlm, 0x00);
    CHECK_EQ("LCR reads back", inb(COM1_LCR), 0x03);
    CHECK_EQ("IER after DLAB is cleared: untouched by the DLM write", inb(COM1_IER), 0x00);

    outb(COM1_FCR, 0x00);
    CHECK_EQ("IIR: no interrupt, no FIFO", inb(COM1_IIR), 0x01);
    outb(COM1_FCR, 0x07);
    CHECK_EQ("IIR: FIFO enabled bits", inb(COM1_IIR), 0xc1);

    /* ETBEI with THR empty: a THRE interrupt, cleared by reading IIR. */
    /* (No output in between: a byte sent sets the condition again.) */
    outb(COM1_IER, 0x02);
    uint8_t first = inb(COM1_IIR), second = inb(COM1_IIR);
    outb(COM1_IER, 0x00);
    CHECK_EQ("IIR: THR empty pending after ETBEI", first, 0xc2);
    CHECK_EQ("IIR: reading it cleared the THRE condition", second, 0xc1);
}

static void check_loopback(void)
{
    /* No output in loopback (it would come back as input): read, restore, check. */
    uint8_t r[8];
    outb(COM1_MCR, 0x10 | 0x0b);    /* loopback, DTR, RTS, OUT2 */
    r[0] = inb(COM1_MSR);
    outb(COM1_DATA, 'Z');
    r[1] = inb(COM1_LSR);
    outb(COM1_IER, 0x01);
    r[2] = inb(COM1_IIR);
    r[3] = inb(COM1_DATA);
    r[4] = inb(COM1_IIR);
    /* 17 bytes into the 16-byte FIFO: an overrun, reported once by LSR. */
    for (unsigned i = 0; i < 17; i++)
        outb(COM1_DATA, (uint8_t)('a' + i));
    r[5] = inb(COM1_LSR);
    r[6] = inb(COM1_LSR);
    unsigned got = 0;
    bool in_order = true;
    while ((inb(COM1_LSR) & 0x01) && got < 32) {
        in_order &= inb(COM1_DATA) == 'a' + got;
        got++;
    }
    outb(COM1_IER, 0x00);
    outb(COM1_MCR, 0x03);
    CHECK_EQ("MSR in loopback: DSR, CTS, DCD from DTR, RTS, OUT2", r[0] & 0xf0, 0xb0);
    CHECK_EQ("loopback: LSR.DR", r[1] & 0x01, 0x01);
    CHECK_EQ("IIR: RX data available (ERBFI)", r[2], 0xc4);
    CHECK_EQ("loopback: the byte comes back through RBR", r[3], 'Z');
    CHECK_EQ("IIR: no interrupt once RX is empty", r[4], 0xc1);
    CHECK_EQ("overrun: LSR.OE and DR", r[5] & 0x03, 0x03);
    CHECK_EQ("LSR read cleared OE", r[6] & 0x02, 0);
    CHECK_EQ("the FIFO kept 16 bytes", got, 16);
    CHECK("in order", in_order);
    CHECK_EQ("MSR without loopback: CTS, DSR, DCD", inb(COM1_MSR) & 0xf0, 0xb0);
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)cpu;
    (void)info;
    check_input();
    check_registers();
    check_loopback();
    return guest_finish();
}
