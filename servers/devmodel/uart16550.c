/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART (program `uart`): eight registers at the IOIO range the VMM
 * hands over (COM1: ports 0x3f8-0x3ff).  Output goes to the kernel console
 * line by line through LOG, so the kernel tags it "[uart] ..."; a line
 * without its '\n' yet (a shell prompt, an echoed key) goes out once no
 * byte came for UART_FLUSH_NS, and the kernel continues it with the next
 * LOG.  Input comes from the console object into a 16-byte receive FIFO.
 *
 *   argv:    uart vcpus=N [console] [irq=GSI] [debug-crash]
 *   handles: [0] the IOIO range (8 ports); then the console (READ | WAIT)
 *            if `console`; then the interrupt line's event (coco/irqline.h)
 *            if `irq=`.
 *
 * Registers (offset, DLAB = LCR bit 7):
 *   0  RBR (read: pops the RX FIFO) / THR (write: transmit) / DLL if DLAB
 *   1  IER (ERBFI 0, ETBEI 1, ELSI 2, EDSSI 3) / DLM if DLAB
 *   2  IIR (read) / FCR (write: enable, clear RX, clear TX)
 *   3  LCR   4 MCR (bit 4 loopback)   5 LSR   6 MSR   7 SCR
 * Transmission is instant: THR is always empty (LSR.THRE and TEMT set), and
 * a written byte is on the console (or, in loopback, in the RX FIFO) when
 * the OUT completes.  The interrupt (IIR, and the line when `irq=` is
 * given) follows the 16550 rules: pending when (ELSI and an overrun), or
 * (ERBFI and RX data), or (ETBEI and the THR-empty condition), which is set
 * when ETBEI is enabled or a byte is sent and cleared by reading IIR while
 * it is the reported source or by writing THR.  As in QEMU's model, MCR.OUT2
 * does not gate the line.
 *
 * `debug-crash` (a test aid, `device uart debug-crash=1` in the VM
 * description): writing 0xDE to SCR arms a crash; the next register read
 * dereferences NULL while the request is outstanding, so the kernel
 * completes the read with all-ones and the VMM restarts the model.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#define UART_PORTS      8u
#define UART_FIFO_SIZE  16u
#define UART_LINE_MAX   200u
#define UART_FLUSH_NS   50000000ull   /* a partial line idle this long is sent without its '\n' */
#define UART_CRASH_MAGIC 0xDEu

#define REG_DATA 0u
#define REG_IER  1u
#define REG_IIR  2u   /* FCR on write */
#define REG_LCR  3u
#define REG_MCR  4u
#define REG_LSR  5u
#define REG_MSR  6u
#define REG_SCR  7u

#define IER_ERBFI 0x01u
#define IER_ETBEI 0x02u
#define IER_ELSI  0x04u
#define IER_EDSSI 0x08u

#define IIR_NONE  0x01u
#define IIR_LSR   0x06u
#define IIR_RX    0x04u
#define IIR_THRE  0x02u
#define IIR_FIFO  0xC0u

#define FCR_ENABLE   0x01u
#define FCR_CLEAR_RX 0x02u

#define LCR_DLAB  0x80u
#define MCR_LOOP  0x10u

#define LSR_DR    0x01u
#define LSR_OE    0x02u
#define LSR_THRE  0x20u
#define LSR_TEMT  0x40u

#define MSR_CTS 0x10u
#define MSR_DSR 0x20u
#define MSR_RI  0x40u
#define MSR_DCD 0x80u

struct uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    bool fifo_enabled;
    bool overrun;                 /* LSR.OE until LSR is read */
    bool thr_pending;             /* the THR-empty interrupt condition */
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;

    char line[UART_LINE_MAX + 1]; /* output up to the next '\n', and it */
    unsigned line_len;
    struct devmodel_deadline flush;   /* sends a partial line */
    bool has_flush;
    unsigned flush_len;           /* line_len when the deadline was armed */

    bool has_console;
    copra_handle_t console;
    uint64_t console_pending;     /* bytes the console reported, not yet read;
                                   * CONSOLE_UNKNOWN: read until it is empty */

    bool has_irq;
    struct devmodel_irq irq;

    bool debug_crash, crash_armed;
};

static unsigned rx_depth(const struct uart *u)
{
    return u->fifo_enabled ? UART_FIFO_SIZE : 1u;
}

static void rx_push(struct uart *u, uint8_t byte)
{
    if (u->rx_count >= rx_depth(u)) {
        u->overrun = true;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
    u->rx_count++;
}

#define CONSOLE_UNKNOWN UINT64_MAX

/* Move console input into the FIFO while there is room; the console keeps
 * what does not fit, so input is never lost to an overrun.  The console's
 * WAIT counts say how much to read; after a (re)start the count is unknown
 * (a predecessor may have been told), so the model reads until a READ comes
 * back empty, and counts that arrive meanwhile are already covered.  (Adding
 * them to a sentinel once wrapped the count and lost the last bytes.) */
static void rx_refill(struct uart *u)
{
    if (u->mcr & MCR_LOOP)
        return;   /* loopback disconnects the serial input */
    while (u->has_console && u->console_pending > 0 && u->rx_count < rx_depth(u)) {
        uint8_t buf[UART_FIFO_SIZE];
        uint64_t room = rx_depth(u) - u->rx_count;
        int64_t got = coco_read(u->console, buf, room < u->console_pending ? room : u->console_pending, 0);
        if (got <= 0) {
            u->console_pending = 0;   /* empty: from now on the counts are exact */
            break;
        }
        if (u->console_pending != CONSOLE_UNKNOWN)
            u->console_pending -= (uint64_t)got < u->console_pending ? (uint64_t)got : u->console_pending;
        for (int64_t i = 0; i < got; i++)
            rx_push(u, buf[i]);
    }
}

static uint8_t uart_iir(const struct uart *u)
{
    uint8_t fifo = u->fifo_enabled ? IIR_FIFO : 0;

    if ((u->ier & IER_ELSI) && u->overrun)
        return fifo | IIR_LSR;
    if ((u->ier & IER_ERBFI) && u->rx_count > 0)
        return fifo | IIR_RX;
    if ((u->ier & IER_ETBEI) && u->thr_pending)
        return fifo | IIR_THRE;
    return fifo | IIR_NONE;
}

static void uart_irq_update(struct uart *u)
{
    if (u->has_irq)
        devmodel_irq_set(&u->irq, !(uart_iir(u) & IIR_NONE));
}

static void line_flush(struct uart *u)
{
    if (u->line_len == 0)
        return;
    coco_log(u->line, u->line_len);
    u->line_len = 0;
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP) {
        rx_push(u, byte);
        return;
    }
    if (byte == '\r')
        return;
    if (byte == '\n') {
        u->line[u->line_len++] = '\n';
        line_flush(u);
        return;
    }
    if (u->line_len == UART_LINE_MAX)
        line_flush(u);
    u->line[u->line_len++] = (byte >= 0x20 && byte < 0x7f) || byte == '\t' ? (char)byte : '?';
    if (u->has_flush && u->flush.armed == 0) {
        u->flush_len = u->line_len;
        devmodel_deadline_set(&u->flush, (uint64_t)coco_clock() + UART_FLUSH_NS);
    }
}

/* UART_FLUSH_NS passed since the deadline was armed.  A line that grew
 * meanwhile is still being written (a guest slowed down by other VMs on its
 * CPU): wait again rather than cut it, which would interleave it with other
 * VMs' lines on the console.  One that did not is a prompt: send it. */
static void flush_expired(void *state, uint64_t value)
{
    struct uart *u = state;
    (void)value;
    devmodel_deadline_expired(&u->flush);
    if (u->line_len > u->flush_len) {
        u->flush_len = u->line_len;
        devmodel_deadline_set(&u->flush, (uint64_t)coco_clock() + UART_FLUSH_NS);
        return;
    }
    line_flush(u);
}

static uint8_t uart_msr(const struct uart *u)
{
    if (u->mcr & MCR_LOOP)   /* DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD */
        return (uint8_t)(((u->mcr & 0x01u) ? MSR_DSR : 0) | ((u->mcr & 0x02u) ? MSR_CTS : 0) |
                         ((u->mcr & 0x04u) ? MSR_RI : 0) | ((u->mcr & 0x08u) ? MSR_DCD : 0));
    return MSR_DCD | MSR_DSR | MSR_CTS;
}

static uint8_t uart_read_byte(struct uart *u, unsigned reg)
{
    uint8_t v = 0;

    switch (reg) {
    case REG_DATA:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        if (u->rx_count > 0) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
            u->rx_count--;
            rx_refill(u);
        }
        break;
    case REG_IER:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case REG_IIR:
        v = uart_iir(u);
        if ((v & 0x0fu) == IIR_THRE)
            u->thr_pending = false;   /* reading IIR clears a THRE interrupt */
        break;
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        v = LSR_THRE | LSR_TEMT | (u->rx_count > 0 ? LSR_DR : 0) | (u->overrun ? LSR_OE : 0);
        u->overrun = false;
        break;
    case REG_MSR:
        return uart_msr(u);
    case REG_SCR:
        return u->scr;
    }
    return v;
}

static void uart_write_byte(struct uart *u, unsigned reg, uint8_t v)
{
    switch (reg) {
    case REG_DATA:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
            return;
        }
        /* Writing THR clears the THRE interrupt; the byte leaves at once and
         * THR is empty again: a new edge for an edge-triggered consumer. */
        u->thr_pending = false;
        uart_irq_update(u);
        uart_transmit(u, v);
        u->thr_pending = true;
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            return;
        }
        if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
            u->thr_pending = true;    /* enabling ETBEI with THR empty interrupts */
        if (!(v & IER_ETBEI))
            u->thr_pending = false;
        u->ier = v & 0x0fu;
        break;
    case REG_IIR:   /* FCR */
        u->fifo_enabled = v & FCR_ENABLE;
        if ((v & FCR_CLEAR_RX) || !u->fifo_enabled) {
            u->rx_head = u->rx_count = 0;
            rx_refill(u);
        }
        break;
    case REG_LCR:
        u->lcr = v;
        return;
    case REG_MCR:
        u->mcr = v & 0x1fu;
        rx_refill(u);
        break;
    case REG_LSR:
    case REG_MSR:
        return;     /* read-only here (factory test writes are ignored) */
    case REG_SCR:
        u->scr = v;
        if (u->debug_crash && v == UART_CRASH_MAGIC)
            u->crash_armed = true;
        return;
    }
    uart_irq_update(u);
}

static uint64_t uart_read(void *state, uint64_t offset, unsigned size)
{
    struct uart *u = state;
    uint64_t value = 0;

    if (u->crash_armed) {
        coco_printf("crashing on purpose (debug-crash armed) in a read of offset %llu\n",
                    (unsigned long long)offset);
        *(volatile uint8_t *)(uintptr_t)0 = 0;   /* dies holding the request */
    }
    /* An access wider than a byte covers the following registers. */
    for (unsigned i = 0; i < size && offset + i < UART_PORTS; i++)
        value |= (uint64_t)uart_read_byte(u, (unsigned)offset + i) << (8 * i);
    uart_irq_update(u);
    return value;
}

static void uart_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    struct uart *u = state;

    for (unsigned i = 0; i < size && offset + i < UART_PORTS; i++)
        uart_write_byte(u, (unsigned)offset + i, (uint8_t)(value >> (8 * i)));
}

static void console_ready(void *state, uint64_t value)
{
    struct uart *u = state;

    /* Over-counting is harmless (a READ comes back empty); wrapping is not. */
    if (u->console_pending != CONSOLE_UNKNOWN)
        u->console_pending = CONSOLE_UNKNOWN - 1 - u->console_pending < value ? CONSOLE_UNKNOWN - 1
                                                                            : u->console_pending + value;
    rx_refill(u);
    uart_irq_update(u);
}

int main(int argc, char **argv)
{
    static struct uart uart;
    struct uart *u = &uart;
    unsigned next = 1;
    uint64_t gsi;

    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    u->dll = 12;    /* 9600 baud, as firmware leaves it */
    u->lcr = 0x03;  /* 8N1 */
    u->thr_pending = true;
    u->debug_crash = devmodel_arg_present(argc, argv, "debug-crash");
    if (devmodel_arg_present(argc, argv, "console") && next < coco_handle_count()) {
        u->has_console = true;
        u->console = coco_handle(next++);
        /* A restarted model cannot know what its predecessor was told:
         * look for buffered input once. */
        u->console_pending = CONSOLE_UNKNOWN;
    }
    if (devmodel_arg_u64(argc, argv, "irq", &gsi) && next < coco_handle_count()) {
        int r = devmodel_irq_init(&u->irq, coco_handle(next++));
        if (r < 0)
            coco_printf("cannot map the IRQ %llu line: %s; running without an interrupt\n",
                        (unsigned long long)gsi, coco_strerror(r));
        else
            u->has_irq = true;
    }

    struct devmodel_range range = {
        .handle = coco_handle(0), .base = 0x3f8, .read = uart_read, .write = uart_write, .state = u,
    };
    struct devmodel_source sources[2];
    unsigned nsources = 0;
    if (u->has_console)
        sources[nsources++] = (struct devmodel_source){ .handle = u->console, .ready = console_ready,
                                                        .state = u };
    u->has_flush = devmodel_deadline_init(&u->flush) == 0;
    if (u->has_flush)
        sources[nsources++] = (struct devmodel_source){ .handle = u->flush.timer, .ready = flush_expired,
                                                        .state = u };
    struct devmodel dm = { .ranges = &range, .nranges = 1, .sources = sources, .nsources = nsources };
    devmodel_init_args(&dm, argc, argv);
    rx_refill(u);
    int r = devmodel_run(&dm);
    line_flush(u);
    if (r < 0)
        coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return r < 0 ? 1 : r;
}
