/* SPDX-License-Identifier: MIT */
/* GDT, TSS, IDT and CPU feature setup. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/kstack.h"
#include "core/string.h"

struct cpu cpus[COPRA_CPUS_MAX];
unsigned cpu_count = 1;
uint8_t smap_enabled;

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT gate layout");

static struct idt_entry idt[256] __attribute__((aligned(16)));
extern char trap_stubs[];   /* entry.S: 256 stubs, 16 bytes apart */

struct descriptor_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t addr = (uint64_t)(uintptr_t)(trap_stubs + 16 * v);
        idt[v].offset_lo = (uint16_t)addr;
        idt[v].selector = GDT_KCODE;
        /* IST 1 #DF, 2 NMI, 3 #DB, 4 #MC: never on the stack that was in use. */
        idt[v].ist = v == 8 ? 1 : v == 2 ? 2 : v == 1 ? 3 : v == 18 ? 4 : 0;
        /* Interrupt gate; DPL 3 only for the syscall vector so that user
         * code cannot raise exceptions or IRQ vectors with `int n`. */
        idt[v].type_attr = v == COPRA_SYSCALL_VECTOR ? 0xEE : 0x8E;
        idt[v].offset_mid = (uint16_t)(addr >> 16);
        idt[v].offset_hi = (uint32_t)(addr >> 32);
    }
}

void cpu_set_kernel_stack(struct cpu *cpu, uint64_t rsp0)
{
    cpu->tss.rsp[0] = rsp0;
    uint64_t *base = (uint64_t *)(uintptr_t)cpu->ist_base;
    if (base) {   /* from cpu_init() on */
        base[0] = *(uint64_t *)(uintptr_t)(rsp0 - KSTACK_SIZE);
        base[1] = rsp0;
    }
}

static void cpu_enable_features(const struct cpu *cpu)
{
    uint32_t r[4];
    uint64_t cr4 = read_cr4();

    cpuid(0, 0, r);
    if (r[0] >= 7) {   /* the highest standard leaf */
        cpuid(7, 0, r);
        if (r[1] & (1u << 7))
            cr4 |= CR4_SMEP;
        if (r[1] & (1u << 20)) {
            cr4 |= CR4_SMAP;
            smap_enabled = 1;
        }
        if (r[2] & (1u << 2))
            cr4 |= CR4_UMIP;
    }
    cpuid(1, 0, r);
    if (r[3] & (1u << 13))
        cr4 |= CR4_PGE;
    write_cr4(cr4);
    if (cpu == &cpus[0])
        kprintf("copra: cpu: SMEP %s, SMAP %s, UMIP %s\n", cr4 & CR4_SMEP ? "on" : "absent",
                cr4 & CR4_SMAP ? "on" : "absent", cr4 & CR4_UMIP ? "on" : "absent");
    write_cr0(read_cr0() | CR0_WP);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
}

void cpu_init(struct cpu *cpu)
{
    uint64_t tss = (uint64_t)(uintptr_t)&cpu->tss;

    cpu->gdt[0] = 0;
    cpu->gdt[1] = 0x00AF9A000000FFFFull;   /* kernel code, L=1 */
    cpu->gdt[2] = 0x00CF92000000FFFFull;   /* kernel data */
    cpu->gdt[3] = 0x00AFFA000000FFFFull;   /* user code, DPL 3, L=1 */
    cpu->gdt[4] = 0x00CFF2000000FFFFull;   /* user data, DPL 3 */
    cpu->gdt[5] = (sizeof(struct tss) - 1) | ((tss & 0xFFFFFF) << 16) |
                  (0x89ull << 40) | (((tss >> 24) & 0xFF) << 56);
    cpu->gdt[6] = tss >> 32;
    uint64_t rsp0 = cpu->tss.rsp[0];
    memset(&cpu->tss, 0, sizeof(cpu->tss));
    cpu->tss.iomap_base = sizeof(struct tss);   /* no I/O bitmap: user port I/O faults */
    if (!cpu->ist_base && !(cpu->ist_base = kstack_alloc()))
        panic("cpu: no interrupt stacks for CPU %u", cpu->index);
    for (unsigned i = 0; i < 4; i++)   /* IST 1..4, a quarter each, top down */
        cpu->tss.ist[i] = cpu->ist_base + KSTACK_SIZE - i * (KSTACK_SIZE / 4);
    if (rsp0)   /* an AP: its idle thread was set up before it started */
        cpu_set_kernel_stack(cpu, rsp0);

    struct descriptor_pointer p = { sizeof(cpu->gdt) - 1, (uint64_t)(uintptr_t)cpu->gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %2, %%ds\n\t"
        "mov %2, %%es\n\t"
        "mov %2, %%ss\n\t"
        : : "m"(p), "i"((uint64_t)GDT_KCODE), "r"((uint64_t)GDT_KDATA) : "rax", "memory");
    __asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
    struct descriptor_pointer idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
    cpu_enable_features(cpu);
}

void cpu_poweroff(uint32_t status)
{
    irq_disable();
    outl(COPRA_DEBUG_EXIT_PORT, status);
    for (;;)
        __asm__ volatile("hlt");
}
