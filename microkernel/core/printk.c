/* SPDX-License-Identifier: MIT */
/* Formatted console output: exactly the formats the kernel uses, %d %u %x %p %s
 * with l/z, and a width on numbers, which always pads with zeros (%016lx). */
#include <stdarg.h>
#include "core/kernel.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"

struct out {
    char *buf;
    size_t size, len;
};

static void out_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_number(struct out *o, uint64_t v, unsigned base, bool neg, int width)
{
    char tmp[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    for (int i = n; i < width; i++)
        out_char(o, '0');
    while (n)
        out_char(o, tmp[--n]);
}

static int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_char(&o, *fmt);
            continue;
        }
        fmt++;
        int width = 0, lng = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z')
            lng++, fmt++;
        switch (*fmt) {
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            out_number(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width);
            break;
        }
        case 'u': case 'x': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            out_number(&o, v, *fmt == 'x' ? 16 : 10, false, width);
            break;
        }
        case 'p':
            out_char(&o, '0'), out_char(&o, 'x');
            out_number(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, 16);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            for (s = s ? s : "(null)"; *s; s++)
                out_char(&o, *s);
            break;
        }
        default:   /* none the kernel uses: the rest prints as text */
            out_char(&o, '%');
            fmt--;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Serialises console lines between CPUs; a line is never interleaved. */
static struct spinlock console_lock;
/* The process whose last LOG did not end its line (a shell prompt): its
 * next LOG continues the line; anything else printed first ends it. */
static const void *open_line;

static void line_close(const void *owner)
{
    if (open_line != NULL && open_line != owner) {
        serial_write("\n", 1);
        open_line = NULL;
    }
}

void console_log(const void *owner, const char *name, const char *text, size_t len)
{
    char line[COPRA_LOG_MAX + COPRA_PROCESS_NAME_MAX + 8];
    uint64_t f = spin_lock_irqsave(&console_lock);
    line_close(owner);
    for (size_t start = 0; start < len;) {
        size_t end = start, n = 0;
        while (end < len && text[end] != '\n')
            end++;
        if (open_line != owner)
            n = (size_t)ksnprintf(line, sizeof(line), "[%s] ", name);
        for (size_t i = start; i < end; i++)
            line[n++] = (text[i] >= 0x20 && text[i] < 0x7f) || text[i] == '\t' ? text[i] : '?';
        if (end < len)
            line[n++] = '\n';
        open_line = end < len ? NULL : owner;
        serial_write(line, n);
        start = end + 1;
    }
    spin_unlock_irqrestore(&console_lock, f);
}

void kprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    uint64_t f = spin_lock_irqsave(&console_lock);
    line_close(NULL);
    serial_write(buf, MIN((size_t)n, sizeof(buf) - 1));
    spin_unlock_irqrestore(&console_lock, f);
}

void panic(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    irq_disable();
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    serial_write("\nKERNEL PANIC: ", 15);
    serial_write(buf, MIN((size_t)n, sizeof(buf) - 1));
    serial_write("\n", 1);
    cpu_poweroff(COPRA_STATUS_PANIC);
}
