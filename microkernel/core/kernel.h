/* SPDX-License-Identifier: MIT */
/* Definitions every kernel file uses. */
#ifndef CORE_KERNEL_H
#define CORE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <copra/abi.h>

#define PAGE_SIZE   4096ull
#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))
#define unlikely(x)      __builtin_expect(!!(x), 0)
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define NORETURN         __attribute__((noreturn))

/* All physical memory is mapped at PHYS_MAP_BASE (paging.c), RW + NX. */
#define PHYS_MAP_BASE 0xFFFF800000000000ull
#define KERNEL_VBASE  0xFFFFFFFF80000000ull

static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)(pa + PHYS_MAP_BASE); }
static inline uint64_t virt_to_phys(const void *va)
{
    uint64_t v = (uint64_t)(uintptr_t)va;
    return v >= KERNEL_VBASE ? v - KERNEL_VBASE : v - PHYS_MAP_BASE;
}

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ASSERT(c) do { if (unlikely(!(c))) panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); } while (0)

/* A subsystem outside core (virt/) starts itself: its init function runs
 * once the boot CPU, memory and paging are up, before SMP and the first
 * process (main.c).  It may set cpu_init_hook, which then runs on every CPU
 * (the boot CPU's call included), and hand the first process handles. */
#define KERNEL_INIT(fn) \
    static void (*const kinit_##fn)(void) __attribute__((used, section(".kinit"))) = fn
/* The same, before anything else, the console included (no memory yet). */
#define KERNEL_EARLY_INIT(fn) \
    static void (*const kinit_early_##fn)(void) __attribute__((used, section(".kinit.early"))) = fn
struct cpu;
struct kobject;
extern void (*cpu_init_hook)(struct cpu *cpu);
void boot_handle_add(struct kobject *o, uint32_t rights);

#endif
