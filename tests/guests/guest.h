/* SPDX-License-Identifier: MIT */
/*
 * The test guests' runtime: port I/O, serial output, checks, exit through
 * the debug-exit port, an IDT.  Guests are freestanding 64-bit code entered
 * through boot.S; each defines guest_main() (VCPU 0) and, if it uses more
 * VCPUs, guest_ap_main() (VCPU 1 and up; the default parks the VCPU in
 * HLT with interrupts on).
 *
 * Ports served by device-model processes (`device uart`, `device debugexit`
 * in the VM description; servers/devmodel/): 0x3f8 COM1 (a 16550, output
 * as "[uart] ..." lines), 0xf4 debug exit.  Served by the VMM
 * (servers/vmm/devices.c): 0xe9 debug console, 0xf0 test interrupt
 * service, 0x500-0x50f and 0x520-0x52b test registers; MMIO scratch device at 0xC0000000
 * (alias 0x40000000 in boot.S's page tables).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORT_DEBUG_EXIT 0xf4
#define PORT_TEST_IRQ   0xf0
#define PORT_COM1       0x3f8
#define PORT_BANK       0x500
#define PORT_SEQUENCE   0x520   /* above fw_cfg's 0x510-0x511 and its DMA 0x514-0x51b */
#define PORT_SUM        0x524
#define PORT_SUM_COUNT  0x528

#define MMIO_SCRATCH        0xC0000000ull
#define MMIO_SCRATCH_ALIAS  0x40000000ull
#define MMIO_SCRATCH_SIZE   0x1000u

#define RFLAGS_CF 0x0001ull
#define RFLAGS_PF 0x0004ull
#define RFLAGS_AF 0x0010ull
#define RFLAGS_ZF 0x0040ull
#define RFLAGS_SF 0x0080ull
#define RFLAGS_IF 0x0200ull
#define RFLAGS_DF 0x0400ull
#define RFLAGS_OF 0x0800ull
#define RFLAGS_STATUS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}

/* Output to COM1 (the UART model prints it line by line as "[uart] ..."). */
void guest_putc(char c);
void guest_print(const char *s);
/* %s %c %d %u %x %p, length l/ll, zero padding and width ("%016llx"). */
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Checks: "PASS name" / "FAIL name (file:line)"; guest_finish() prints the
 * summary "N passed, M failed" and returns 0 if nothing failed, else 1. */
bool guest_check(bool ok, const char *name, const char *file, int line);
bool guest_check_equal(uint64_t got, uint64_t want, const char *name, const char *file, int line);
int guest_finish(void);
#define CHECK(name, cond) guest_check((cond) ? true : false, (name), __FILE__, __LINE__)
#define CHECK_EQ(name, got, want) \
    guest_check_equal((uint64_t)(got), (uint64_t)(want), (name), __FILE__, __LINE__)

/* OUT status to the debug-exit port: the VM stops, the VMM exits with it. */
_Noreturn void guest_exit(int status);

/* Interrupts. */
struct guest_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*guest_handler)(struct guest_frame *frame);
/* Install the IDT (all 256 gates; unexpected vectors print and exit 0x70). */
void idt_init(void);
void idt_set_handler(unsigned vector, guest_handler handler);

/* The decimal number after `key` (e.g. "cpus=") in the multiboot command
 * line, where key starts the line or follows ' ' or ','; else `dflt`. */
unsigned guest_cmdline_number(uint32_t multiboot_info, const char *key, unsigned dflt);

/* What each guest defines. */
int guest_main(unsigned cpu, uint32_t multiboot_info);
void guest_ap_main(unsigned cpu);

/* Memory functions GCC may call. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
