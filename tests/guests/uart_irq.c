/* SPDX-License-Identifier: MIT */
/*
 * UART input by interrupt, end to end through the real VMM: the VMM starts
 * the 16550 model (servers/devmodel/uart16550.c) with its interrupt line
 * (GSI 4 by default) and irqd (servers/irqd) for the line's IOAPIC.  The
 * test feeds "hello copra\n" to the serial port (copra-qemu --input); the
 * guest routes GSI 4 through the IOAPIC to a vector (level triggered, active
 * high: the UART drives a level line, coco/irqline.h), enables the receive
 * interrupt (IER.ERBFI, and MCR.OUT2 as PCs need) and waits in `sti; hlt`.
 * The handler drains RBR while LSR.DR and sends the EOI (broadcast to the
 * IOAPIC, clearing remote IRR); the main loop never looks at the UART.
 * The UART's is the only interrupt: nothing else wakes the HLT, so missing
 * input ends in the test's timeout.  (A LAPIC timer as a watchdog made the
 * test flaky under load: irqd puts a vector in service when it injects it,
 * so a timer tick injected while the UART handler runs takes that
 * handler's EOI, and the UART vector could stay in service.)  The PIC
 * stays masked.
 */
#include "irqtest.h"

#define COM1_DATA (PORT_COM1 + 0)
#define COM1_IER  (PORT_COM1 + 1)
#define COM1_IIR  (PORT_COM1 + 2)
#define COM1_MCR  (PORT_COM1 + 4)
#define COM1_LSR  (PORT_COM1 + 5)

#define UART_GSI        4
#define UART_VECTOR     0x34
#define SPURIOUS_VECTOR 0xFF
#define REDIR_LEVEL     (1ull << 15)
#define REDIR_MASKED    (1ull << 16)
#define REMOTE_IRR      (1u << 14)

static volatile char rx[64];
static volatile unsigned rx_count, uart_irqs, empty_irqs;
static volatile bool newline;
static volatile uint8_t first_iir;
static volatile bool remote_irr_in_handler, tmr_in_handler;

static void on_uart(struct guest_frame *frame)
{
    uint8_t iir = inb(COM1_IIR);
    unsigned got = 0;

    if (uart_irqs == 0) {
        first_iir = iir;
        remote_irr_in_handler = (ioapic_read(0x10 + 2 * UART_GSI) & REMOTE_IRR) != 0;
        tmr_in_handler = lapic_bit(LAPIC_TMR, (unsigned)frame->vector);
    }
    uart_irqs++;
    while (inb(COM1_LSR) & 0x01) {
        char c = (char)inb(COM1_DATA);
        got++;
        if (c == '\n' || c == '\r')
            newline = true;
        else if (rx_count < sizeof rx - 1)
            rx[rx_count++] = c;
    }
    if (got == 0)
        empty_irqs++;
    lapic_eoi();    /* level vector: the EOI is broadcast to the IOAPIC */
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("uart_irq guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(UART_VECTOR, on_uart);
    outb(0x21, 0xFF);   /* PIC masked: ISA IRQ 4 only through the IOAPIC */
    outb(0xA1, 0xFF);
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);

    CHECK_EQ("IOAPIC entry 4 masked at reset", ioapic_read(0x10 + 2 * UART_GSI), REDIR_MASKED);
    /* Physical destination: this VCPU's APIC ID. */
    uint64_t dest = (uint64_t)(lapic_read(LAPIC_ID) >> 24) << 56;
    ioapic_redirect(UART_GSI, dest | REDIR_LEVEL | UART_VECTOR);
    CHECK_EQ("IOAPIC entry 4: level, vector 0x34",
             ioapic_read(0x10 + 2 * UART_GSI), REDIR_LEVEL | UART_VECTOR);

    guest_printf("type a line:\n");
    outb(COM1_MCR, 0x0b);    /* DTR, RTS, OUT2 */
    outb(COM1_IER, 0x01);    /* ERBFI */
    CHECK_EQ("IER: receive-data interrupt enabled", inb(COM1_IER), 0x01);

    /* Interrupts off while testing, so that a wake-up between the test
     * and the HLT is not lost (STI's shadow covers the HLT). */
    while (!newline)
        __asm__ volatile("sti; hlt; cli" ::: "memory");

    outb(COM1_IER, 0x00);
    /* Only now look at the UART: a byte left behind is a lost interrupt. */
    uint8_t lsr = inb(COM1_LSR);
    ioapic_redirect(UART_GSI, REDIR_MASKED | REDIR_LEVEL | UART_VECTOR);

    char line[sizeof rx];
    unsigned n = rx_count;
    for (unsigned i = 0; i < n; i++)
        line[i] = rx[i];
    line[n] = '\0';
    guest_printf("got: %s\n", line);
    guest_printf("%u UART interrupts (%u with nothing to read)\n", uart_irqs, empty_irqs);
    CHECK("the input line arrived by interrupt", n == 11 && memcmp(line, "hello copra", 11) == 0);
    CHECK("UART interrupts: at least one", uart_irqs > 0);
    CHECK_EQ("no byte left unread: LSR.DR clear after the wait", lsr & 0x01, 0);
    CHECK("at most one interrupt per byte", uart_irqs <= 12);
    CHECK_EQ("first interrupt: IIR says RX data available", first_iir & 0x0f, 0x04);
    CHECK("remote IRR set in the handler", remote_irr_in_handler);
    CHECK("TMR bit set for the level vector", tmr_in_handler);
    CHECK_EQ("remote IRR clear after the EOIs", ioapic_read(0x10 + 2 * UART_GSI) & REMOTE_IRR, 0);
    CHECK("nothing left in service", !lapic_bit(LAPIC_ISR, UART_VECTOR));
    CHECK_EQ("IIR: no interrupt pending", inb(COM1_IIR) & 0x0f, 0x01);
    return guest_finish();
}
