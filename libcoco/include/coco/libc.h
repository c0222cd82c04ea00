/* SPDX-License-Identifier: MIT */
/*
 * The small libc subset of libcoco: string and memory functions, character
 * classes, number parsing, formatted output and the allocator.  The names
 * are the standard ones (GCC emits calls to memcpy/memset/memmove/memcmp
 * on its own, even in freestanding code).
 */
#ifndef COCO_LIBC_H
#define COCO_LIBC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- string.c ------------------------------------------------------- */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
/* Copies at most size-1 bytes and always NUL-terminates (if size > 0);
 * returns strlen(src), as BSD strlcpy does. */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);

int isspace(int c);
int isdigit(int c);
int isxdigit(int c);
int isalpha(int c);
int isalnum(int c);
int isupper(int c);
int islower(int c);
int isprint(int c);
int toupper(int c);
int tolower(int c);

/*
 * Base 0 (prefix "0x"/"0X" = 16, else 10; leading "0" is decimal, there is
 * no octal), 10 or 16 (an optional "0x" prefix is accepted).  Skips leading
 * white space, accepts one '+' or '-' (negates, as C does).  On overflow
 * returns ULONG_MAX/ULLONG_MAX.  *end (if not NULL) points after the last
 * digit used, or at `s` if there was none.  Other bases return 0.
 */
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);

/* ---- printf.c ------------------------------------------------------- */
/*
 * Conversions: %d %i %u %x %X %p %s %c %%; length modifiers hh h l ll z j t;
 * flags '-' (left-justify), '0' (zero pad), '+', ' ', '#' (0x prefix);
 * width and precision as numbers or '*'.  Precision limits %s and is the
 * minimum digit count of integers.  No floating point.
 */
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Format and write to the kernel log with LOG.  Output is sent as one LOG
 * call; output longer than COPRA_LOG_MAX is sent as several consecutive
 * calls of at most COPRA_LOG_MAX bytes.  Nothing is added or stripped (end
 * the format with "\n" for a line).  Returns the number of bytes formatted.
 */
int coco_vprintf(const char *restrict fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int coco_printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- malloc.c ------------------------------------------------------- */
/* 16-byte aligned; memory comes from anonymous MMAP.  Thread-safe. */
void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);

#endif
