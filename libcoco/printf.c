/* SPDX-License-Identifier: MIT */
/*
 * Formatted output.  One formatter writes into an `output` sink; vsnprintf's
 * sink is the caller's buffer, coco_printf's is a COPRA_LOG_MAX buffer that
 * is sent with LOG whenever it fills and at the end.  No floating point:
 * servers are built with -mgeneral-regs-only.
 */
#include <coco/libc.h>
#include <coco/syscall.h>
#include <limits.h>

struct output {
    char *buf;
    size_t capacity;  /* bytes buf may hold (vsnprintf keeps one for the NUL) */
    size_t used;      /* bytes in buf now */
    size_t total;     /* bytes formatted so far, written or not */
    void (*flush)(struct output *out); /* NULL: drop what does not fit */
};

static void output_char(struct output *out, char c)
{
    if (out->used == out->capacity && out->flush != NULL)
        out->flush(out);
    if (out->used < out->capacity)
        out->buf[out->used++] = c;
    out->total++;
}

static void output_repeat(struct output *out, char c, int count)
{
    while (count-- > 0)
        output_char(out, c);
}

static void output_bytes(struct output *out, const char *s, size_t n)
{
    while (n--)
        output_char(out, *s++);
}

enum {
    FLAG_LEFT  = 1 << 0, /* '-' */
    FLAG_ZERO  = 1 << 1, /* '0' */
    FLAG_PLUS  = 1 << 2, /* '+' */
    FLAG_SPACE = 1 << 3, /* ' ' */
    FLAG_ALT   = 1 << 4, /* '#' */
};

struct spec {
    unsigned flags;
    int width;      /* 0: none */
    int precision;  /* -1: none */
};

static void format_padded(struct output *out, const struct spec *spec,
                          const char *prefix, size_t prefix_len,
                          int zeros, const char *body, size_t body_len)
{
    size_t len = prefix_len + (size_t)zeros + body_len;
    int pad = spec->width > 0 && (size_t)spec->width > len ? spec->width - (int)len : 0;

    if (!(spec->flags & FLAG_LEFT))
        output_repeat(out, ' ', pad);
    output_bytes(out, prefix, prefix_len);
    output_repeat(out, '0', zeros);
    output_bytes(out, body, body_len);
    if (spec->flags & FLAG_LEFT)
        output_repeat(out, ' ', pad);
}

static void format_integer(struct output *out, const struct spec *spec,
                           uint64_t magnitude, bool negative, unsigned base,
                           bool upper, bool force_hex_prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char body[24];  /* 2^64 - 1 has 20 decimal digits */
    char prefix[3];
    size_t body_len = 0, prefix_len = 0;
    int zeros = 0;

    /* C: precision 0 with value 0 prints no digits. */
    if (!(magnitude == 0 && spec->precision == 0)) {
        char reversed[24];
        size_t n = 0;
        do {
            reversed[n++] = digits[magnitude % base];
            magnitude /= base;
        } while (magnitude != 0);
        while (n)
            body[body_len++] = reversed[--n];
    }

    if (negative)
        prefix[prefix_len++] = '-';
    else if (spec->flags & FLAG_PLUS)
        prefix[prefix_len++] = '+';
    else if (spec->flags & FLAG_SPACE)
        prefix[prefix_len++] = ' ';
    if (base == 16 && (force_hex_prefix || ((spec->flags & FLAG_ALT) && body_len > 0 &&
                                            !(body_len == 1 && body[0] == '0')))) {
        prefix[prefix_len++] = '0';
        prefix[prefix_len++] = upper ? 'X' : 'x';
    }

    if (spec->precision >= 0) {
        if ((size_t)spec->precision > body_len)
            zeros = spec->precision - (int)body_len;
    } else if ((spec->flags & (FLAG_ZERO | FLAG_LEFT)) == FLAG_ZERO && spec->width > 0) {
        size_t len = prefix_len + body_len;
        if ((size_t)spec->width > len)
            zeros = spec->width - (int)len;
    }
    format_padded(out, spec, prefix, prefix_len, zeros, body, body_len);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_MAX, LEN_PTRDIFF };

static int64_t fetch_signed(va_list *ap, enum length length)
{
    switch (length) {
    case LEN_CHAR:    return (signed char)va_arg(*ap, int);
    case LEN_SHORT:   return (short)va_arg(*ap, int);
    case LEN_LONG:    return va_arg(*ap, long);
    case LEN_LLONG:   return va_arg(*ap, long long);
    case LEN_SIZE:    return (int64_t)va_arg(*ap, size_t); /* %zd: ssize_t */
    case LEN_MAX:     return va_arg(*ap, intmax_t);
    case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
    case LEN_INT:     break;
    }
    return va_arg(*ap, int);
}

static uint64_t fetch_unsigned(va_list *ap, enum length length)
{
    switch (length) {
    case LEN_CHAR:    return (unsigned char)va_arg(*ap, unsigned);
    case LEN_SHORT:   return (unsigned short)va_arg(*ap, unsigned);
    case LEN_LONG:    return va_arg(*ap, unsigned long);
    case LEN_LLONG:   return va_arg(*ap, unsigned long long);
    case LEN_SIZE:    return va_arg(*ap, size_t);
    case LEN_MAX:     return va_arg(*ap, uintmax_t);
    case LEN_PTRDIFF: return (uint64_t)va_arg(*ap, ptrdiff_t);
    case LEN_INT:     break;
    }
    return va_arg(*ap, unsigned);
}

static int parse_number(const char **p)
{
    int n = 0;

    while (isdigit((unsigned char)**p)) {
        if (n < INT_MAX / 10 - 10)  /* saturate; nobody pads that wide */
            n = n * 10 + (**p - '0');
        (*p)++;
    }
    return n;
}

static void format(struct output *out, const char *fmt, va_list *ap)
{
    const char *p = fmt;

    while (*p) {
        if (*p != '%') {
            output_char(out, *p++);
            continue;
        }
        const char *start = p++;
        struct spec spec = { .flags = 0, .width = 0, .precision = -1 };

        for (;; p++) {
            if (*p == '-')      spec.flags |= FLAG_LEFT;
            else if (*p == '0') spec.flags |= FLAG_ZERO;
            else if (*p == '+') spec.flags |= FLAG_PLUS;
            else if (*p == ' ') spec.flags |= FLAG_SPACE;
            else if (*p == '#') spec.flags |= FLAG_ALT;
            else break;
        }
        if (*p == '*') {
            p++;
            spec.width = va_arg(*ap, int);
            if (spec.width < 0) {
                spec.flags |= FLAG_LEFT;
                spec.width = spec.width == INT_MIN ? INT_MAX : -spec.width;
            }
        } else {
            spec.width = parse_number(&p);
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                p++;
                spec.precision = va_arg(*ap, int);
                if (spec.precision < 0)
                    spec.precision = -1;
            } else {
                spec.precision = parse_number(&p);
            }
        }

        enum length length = LEN_INT;
        switch (*p) {
        case 'h':
            p++;
            length = LEN_SHORT;
            if (*p == 'h') { p++; length = LEN_CHAR; }
            break;
        case 'l':
            p++;
            length = LEN_LONG;
            if (*p == 'l') { p++; length = LEN_LLONG; }
            break;
        case 'z': p++; length = LEN_SIZE; break;
        case 'j': p++; length = LEN_MAX; break;
        case 't': p++; length = LEN_PTRDIFF; break;
        default: break;
        }

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(ap, length);
            uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
            format_integer(out, &spec, magnitude, v < 0, 10, false, false);
            break;
        }
        case 'u':
            format_integer(out, &spec, fetch_unsigned(ap, length), false, 10, false, false);
            break;
        case 'x':
        case 'X':
            format_integer(out, &spec, fetch_unsigned(ap, length), false, 16, *p == 'X', false);
            break;
        case 'p':
            format_integer(out, &spec, (uint64_t)(uintptr_t)va_arg(*ap, void *), false, 16,
                           false, true);
            break;
        case 'c': {
            char c = (char)va_arg(*ap, int);
            format_padded(out, &spec, "", 0, 0, &c, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(*ap, const char *);
            if (s == NULL)
                s = "(null)";
            size_t n = spec.precision >= 0 ? strnlen(s, (size_t)spec.precision) : strlen(s);
            format_padded(out, &spec, "", 0, 0, s, n);
            break;
        }
        case '%':
            output_char(out, '%');
            break;
        case '\0':
            /* A lone '%' at the end: print it as written. */
            output_bytes(out, start, (size_t)(p - start));
            return;
        default:
            /* Unknown conversion: print it as written rather than guess. */
            output_bytes(out, start, (size_t)(p - start) + 1);
            break;
        }
        p++;
    }
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
    struct output out = {
        .buf = buf, .capacity = size > 0 ? size - 1 : 0, .used = 0, .total = 0, .flush = NULL,
    };
    va_list copy;

    va_copy(copy, ap);
    format(&out, fmt, &copy);
    va_end(copy);
    if (size > 0)
        buf[out.used] = '\0';
    return out.total > INT_MAX ? INT_MAX : (int)out.total;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void output_flush_log(struct output *out)
{
    coco_log(out->buf, out->used);
    out->used = 0;
}

int coco_vprintf(const char *restrict fmt, va_list ap)
{
    char buf[COPRA_LOG_MAX];
    struct output out = {
        .buf = buf, .capacity = sizeof buf, .used = 0, .total = 0, .flush = output_flush_log,
    };
    va_list copy;

    va_copy(copy, ap);
    format(&out, fmt, &copy);
    va_end(copy);
    if (out.used > 0)
        output_flush_log(&out);
    return out.total > INT_MAX ? INT_MAX : (int)out.total;
}

int coco_printf(const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = coco_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
