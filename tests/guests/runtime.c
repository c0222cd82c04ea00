/* SPDX-License-Identifier: MIT */
/* The test guests' runtime (guest.h). */
#include "guest.h"

static unsigned passed, failed;   /* updated atomically: any VCPU may check */

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

unsigned guest_cmdline_number(uint32_t multiboot_info, const char *key, unsigned dflt)
{
    const uint32_t *info = (const uint32_t *)(uintptr_t)multiboot_info;
    if (info == NULL || !(info[0] & 4))   /* flags: MULTIBOOT_INFO_CMDLINE */
        return dflt;
    const char *cmdline = (const char *)(uintptr_t)info[4];
    size_t n = 0;
    while (key[n])
        n++;
    for (const char *p = cmdline; *p; p++) {
        if (memcmp(p, key, n) != 0 || (p != cmdline && p[-1] != ' ' && p[-1] != ','))
            continue;
        unsigned v = 0;
        for (p += n; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (unsigned)(*p - '0');
        return v;
    }
    return dflt;
}

void guest_putc(char c)
{
    /* LSR bit 5: the transmitter holding register is empty. */
    while (!(inb(PORT_COM1 + 5) & 0x20))
        __asm__ volatile("pause");
    outb(PORT_COM1, (uint8_t)c);
}

void guest_print(const char *s)
{
    while (*s)
        guest_putc(*s++);
}

static void print_number(uint64_t v, unsigned base, unsigned width, char pad, bool negative)
{
    char digits[24];
    unsigned n = 0;

    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (negative)
        digits[n++] = '-';
    while (width > n) {
        guest_putc(pad);
        width--;
    }
    while (n)
        guest_putc(digits[--n]);
}

/* One UART serves every VCPU, so guest_printf() keeps a line whole: it
 * holds this lock for the call.  Bounded spinning, so that an interrupt
 * handler printing over a holder it interrupted cannot hang the guest. */
static volatile int print_lock;

static void print_lock_take(void)
{
    for (unsigned i = 0; i < 10000000u; i++) {
        if (!__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
            return;
        __asm__ volatile("pause");
    }
}

void guest_printf(const char *fmt, ...)
{
    va_list ap;

    print_lock_take();
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            guest_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            print_number(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
            print_number(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false);
            break;
        case 'x':
            print_number(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false);
            break;
        case 'p':
            guest_print("0x");
            print_number((uint64_t)(uintptr_t)va_arg(ap, void *), 16, width, pad, false);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            guest_print(s ? s : "(null)");
            break;
        }
        case 'c':
            guest_putc((char)va_arg(ap, int));
            break;
        case '%':
            guest_putc('%');
            break;
        default:
            guest_putc('%');
            if (*fmt == '\0')
                fmt--;
            else
                guest_putc(*fmt);
            break;
        }
    }
    va_end(ap);
    __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

bool guest_check(bool ok, const char *name, const char *file, int line)
{
    if (ok) {
        __atomic_add_fetch(&passed, 1, __ATOMIC_RELAXED);
        guest_printf("PASS %s\n", name);
    } else {
        __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
        guest_printf("FAIL %s (%s:%d)\n", name, file, line);
    }
    return ok;
}

bool guest_check_equal(uint64_t got, uint64_t want, const char *name, const char *file, int line)
{
    if (guest_check(got == want, name, file, line))
        return true;
    guest_printf("  got 0x%llx, want 0x%llx\n", (unsigned long long)got, (unsigned long long)want);
    return false;
}

int guest_finish(void)
{
    unsigned p = __atomic_load_n(&passed, __ATOMIC_RELAXED);
    unsigned f = __atomic_load_n(&failed, __ATOMIC_RELAXED);
    guest_printf("%u passed, %u failed\n", p, f);
    return f == 0 ? 0 : 1;
}

_Noreturn void guest_exit(int status)
{
    outl(PORT_DEBUG_EXIT, (uint32_t)status);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- IDT ---------------------------------------------------------------- */

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
} __attribute__((packed));

extern const char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static guest_handler handlers[256];

void guest_isr(struct guest_frame *frame);
void guest_isr(struct guest_frame *frame)
{
    guest_handler h = frame->vector < 256 ? handlers[frame->vector] : NULL;
    if (h != NULL) {
        h(frame);
        return;
    }
    guest_printf("unexpected interrupt or exception: vector %llu, error 0x%llx, rip 0x%llx\n",
                 (unsigned long long)frame->vector, (unsigned long long)frame->error,
                 (unsigned long long)frame->rip);
    guest_exit(0x70);
}

void idt_init(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) pointer = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };

    for (unsigned v = 0; v < 256; v++) {
        uint64_t addr = (uint64_t)(uintptr_t)isr_stubs + 16u * v;
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)addr, .selector = 0x08, .ist = 0,
            .type = 0x8E,   /* present, DPL 0, 64-bit interrupt gate */
            .offset_mid = (uint16_t)(addr >> 16), .offset_high = (uint32_t)(addr >> 32),
        };
    }
    __asm__ volatile("lidt %0" :: "m"(pointer));
}

void idt_set_handler(unsigned vector, guest_handler handler)
{
    if (vector < 256)
        handlers[vector] = handler;
}

/* ---- Entry (from boot.S) ------------------------------------------------- */

__attribute__((weak)) void guest_ap_main(unsigned cpu)
{
    (void)cpu;
    for (;;)
        __asm__ volatile("sti; hlt");
}

_Noreturn void guest_start(unsigned cpu, uint32_t multiboot_info);
_Noreturn void guest_start(unsigned cpu, uint32_t multiboot_info)
{
    if (cpu == 0)
        guest_exit(guest_main(cpu, multiboot_info));
    guest_ap_main(cpu);
    for (;;)
        __asm__ volatile("sti; hlt");
}
