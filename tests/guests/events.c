/* SPDX-License-Identifier: MIT */
/*
 * Events as the CPU orders them (issue 9, item 3):
 *   - pending interrupts are taken by priority, not arrival: two self-IPIs
 *     sent with IF = 0, the lower vector first, arrive higher first;
 *   - an NMI blocks further NMIs until its handler's IRET: the handler sends
 *     itself a second NMI through irqd's LAPIC (ICR, self) and spins; the
 *     second must arrive only after the IRET, never nested;
 *   - CR8 is the LAPIC's TPR: a class written through CR8 reads back from
 *     the LAPIC and holds interrupts of that class and below until CR8 is
 *     lowered; a TPR written to the LAPIC reads back through CR8;
 *   - a single-step trap follows an instruction the kernel or the VMM
 *     emulated (CPUID, IN, an MMIO load, RDMSR) when TF was set: the #DB
 *     handler sees RIP right after that instruction, not one later.
 * The same guest runs on plain QEMU (with its own LAPIC):
 *   qemu-system-x86_64 -M pc -cpu EPYC -m 64 -display none -serial stdio \
 *       -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel events.elf
 */
#include "irqtest.h"

#define ICR_NMI_SELF ((1u << 18) | 0x400u | (1u << 14))
#define RFLAGS_TF    (1ull << 8)
#define MMIO_SCRATCH 0xC0000000ull

static volatile unsigned nmis, nested, in_nmi, second_sent;
static volatile unsigned order[4], norder;

static void on_fixed(struct guest_frame *f)
{
    if (norder < 4)
        order[norder++] = (unsigned)f->vector;
    lapic_eoi();
}
static volatile uint64_t db_rip, db_count;

static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        __asm__ volatile("pause");
}

static void self_nmi(void)
{
    lapic_write(LAPIC_ICR_HIGH, 0);
    lapic_write(LAPIC_ICR_LOW, ICR_NMI_SELF);
}

static void on_nmi(struct guest_frame *f)
{
    (void)f;
    if (in_nmi)
        nested++;
    in_nmi = 1;
    nmis++;
    if (!second_sent) {
        second_sent = 1;
        self_nmi();          /* pending now, blocked until our IRET */
        spin(300000);
    }
    in_nmi = 0;
}

static void on_db(struct guest_frame *f)
{
    db_rip = f->rip;
    db_count++;
    f->rflags &= ~RFLAGS_TF;   /* one step */
}

/* Sets TF, runs `insn` (the instruction after the POPF), returns where the
 * single-step trap came from; *expected is the address after `insn`. */
#define STEP_OVER(name, insn, ...)                                                         \
    static uint64_t name(uint64_t *expected)                                              \
    {                                                                                     \
        uint64_t after;                                                                   \
        db_rip = 0;                                                                       \
        __asm__ volatile("lea 1f(%%rip), %0\n\t"                                          \
                         "pushfq\n\t"                                                     \
                         "orq $0x100, (%%rsp)\n\t"                                        \
                         "popfq\n\t" insn "\n1:\n\t"                                      \
                         "nop" : "=&r"(after) : __VA_ARGS__);                             \
        *expected = after;                                                                \
        return db_rip;                                                                    \
    }

STEP_OVER(step_cpuid, "cpuid", "a"(0) : "rbx", "rcx", "rdx", "memory")
STEP_OVER(step_in, "inb $0x61, %%al", "a"(0) : "memory")
STEP_OVER(step_mmio, "movl (%%rsi), %%eax", "S"(MMIO_SCRATCH) : "rax", "memory")
STEP_OVER(step_rdmsr, "rdmsr", "c"(0x1b) : "rax", "rdx", "memory")   /* APIC_BASE: the VMM's */

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("events guest on vcpu %u\n", cpu);
    idt_init();
    idt_set_handler(2, on_nmi);
    idt_set_handler(1, on_db);
    lapic_write(LAPIC_SVR, 0x1FF);
    outb(0x21, 0xFF);   /* the PIC masked: on plain QEMU the BIOS left the PIT ticking at vector 8 */
    outb(0xA1, 0xFF);

    idt_set_handler(0x40, on_fixed);
    idt_set_handler(0x80, on_fixed);
    lapic_write(LAPIC_ICR_HIGH, 0);
    lapic_write(LAPIC_ICR_LOW, (1u << 18) | (1u << 14) | 0x40);
    lapic_write(LAPIC_ICR_LOW, (1u << 18) | (1u << 14) | 0x80);
    spin(100000);
    __asm__ volatile("sti; nop; nop; cli" ::: "memory");
    spin(100000);
    __asm__ volatile("sti; nop; nop; cli" ::: "memory");
    CHECK_EQ("two interrupts taken", norder, 2);
    CHECK("the higher vector first, though it came second", order[0] == 0x80 && order[1] == 0x40);

    /* CR8 and the LAPIC's TPR are one register. */
    norder = 0;
    __asm__ volatile("mov %0, %%cr8" : : "r"(0xFull));
    CHECK_EQ("CR8 = 15 reads back from the LAPIC's TPR", lapic_read(LAPIC_TPR) & 0xF0, 0xF0);
    lapic_write(LAPIC_ICR_LOW, (1u << 18) | (1u << 14) | 0x80);
    __asm__ volatile("sti" ::: "memory");
    spin(200000);
    __asm__ volatile("cli" ::: "memory");
    CHECK_EQ("an interrupt of class 8 waits while CR8 = 15", norder, 0);
    __asm__ volatile("mov %0, %%cr8; sti" : : "r"(0ull) : "memory");
    spin(200000);
    __asm__ volatile("cli" ::: "memory");
    CHECK_EQ("it arrives once CR8 is lowered", norder, 1);
    lapic_write(LAPIC_TPR, 0x50);
    uint64_t cr8;
    __asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
    CHECK_EQ("a TPR written to the LAPIC reads back through CR8", cr8, 5);
    lapic_write(LAPIC_TPR, 0);

    self_nmi();
    uint64_t t0 = rdtsc();
    while (nmis < 2 && rdtsc() - t0 < 20000000000ull)
        __asm__ volatile("pause");
    CHECK_EQ("both NMIs taken", nmis, 2);
    CHECK_EQ("the second NMI waited for the first one's IRET", nested, 0);

    static const struct { const char *name; uint64_t (*step)(uint64_t *); } steps[] = {
        { "single-step trap right after CPUID (VMM)", step_cpuid },
        { "single-step trap right after IN (VMM)", step_in },
        { "single-step trap right after an MMIO load (kernel + VMM)", step_mmio },
        { "single-step trap right after RDMSR (VMM)", step_rdmsr },
    };
    for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        uint64_t expected = 0, got = steps[i].step(&expected);
        CHECK_EQ(steps[i].name, got, expected);
    }
    CHECK_EQ("one #DB per step", db_count, 4);
    return guest_finish();
}
