/* SPDX-License-Identifier: MIT */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H
#include <stddef.h>
#include <stdint.h>
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
int serial_getc(void);
extern uint8_t (*serial_port_io)(uint16_t port, int value);
#endif
