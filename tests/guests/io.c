/* SPDX-License-Identifier: MIT */
/*
 * Port I/O exits of every size and form, checked against the VMM's test
 * registers (servers/vmm/devices.c): 0x500-0x50f a byte-addressed bank,
 * 0x520 a sequence counter (each IN returns the next number), 0x524 an
 * accumulator (OUT adds) and 0x528 its OUT count.  Covers IN/OUT with
 * immediate and DX ports, 8/16/32-bit, the effect on the rest of RAX, and
 * INS/OUTS with and without REP, forwards and backwards (DF), with a 32-bit
 * address size (67 prefix), and REP with RCX = 0.
 */
#include "guest.h"

static uint8_t buffer[256] __attribute__((aligned(16)));

static void check_bank(void)
{
    outl(0x500, 0x11223344);
    CHECK_EQ("outl/inl round trip", inl(0x500), 0x11223344);
    CHECK_EQ("inb 0x501 reads byte 1 of the dword", inb(0x501), 0x33);
    CHECK_EQ("inw 0x502 reads the upper word", inw(0x502), 0x1122);
    outw(0x504, 0xbeef);
    outb(0x506, 0x5a);
    CHECK_EQ("outw/outb then inl", inl(0x504) & 0xffffff, 0x5abeef);
    CHECK_EQ("inl at 0x50e: bytes past the bank read all-ones", inl(0x50e) >> 16, 0xffff);

    /* Immediate-port forms (E4/E5/E6/E7) as well as DX forms. */
    __asm__ volatile("mov $0x77, %%al; outb %%al, $0x80" ::: "rax");   /* unclaimed */
    uint8_t b;
    __asm__ volatile("mov $0x66, %%al; mov $0x508, %%dx; outb %%al, %%dx; inb %%dx, %%al"
                     : "=a"(b) :: "rdx");
    CHECK_EQ("outb/inb through DX", b, 0x66);

    /* The rest of RAX: IN AL/AX keep the upper bits, IN EAX zeroes 63:32. */
    uint64_t rax = 0xdeadbeefcafebabeull;
    outl(0x508, 0x87654321);
    __asm__ volatile("inb %%dx, %%al" : "+a"(rax) : "d"(0x508));
    CHECK_EQ("inb keeps RAX[63:8]", rax, 0xdeadbeefcafeba21ull);
    rax = 0xdeadbeefcafebabeull;
    __asm__ volatile("inw %%dx, %%ax" : "+a"(rax) : "d"(0x508));
    CHECK_EQ("inw keeps RAX[63:16]", rax, 0xdeadbeefcafe4321ull);
    rax = 0xdeadbeefcafebabeull;
    __asm__ volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(0x508));
    CHECK_EQ("inl zero-extends into RAX", rax, 0x87654321ull);
    rax = 0xdeadbeefcafebabeull;
    __asm__ volatile("inb $0x99, %%al" : "+a"(rax));
    CHECK_EQ("inb from an unclaimed port: all ones", rax & 0xff, 0xff);
    CHECK_EQ("inw from an unclaimed port: all ones", inw(0x1234), 0xffff);
    CHECK_EQ("inl from an unclaimed port: all ones", inl(0x1234), 0xffffffffu);
    outl(0x1234, 1);   /* ignored and counted */
}

static void check_ins(void)
{
    uint64_t rdi, rcx;

    /* REP INSB: each iteration is its own IN of the sequence port. */
    memset(buffer, 0xcc, sizeof buffer);
    outl(PORT_SEQUENCE, 10);
    rdi = (uint64_t)(uintptr_t)buffer;
    rcx = 16;
    __asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    bool ok = true;
    for (unsigned i = 0; i < 16; i++)
        ok &= buffer[i] == 10 + i;
    CHECK("rep insb: 16 sequence values in order", ok);
    CHECK("rep insb: byte 16 untouched", buffer[16] == 0xcc);
    CHECK_EQ("rep insb: RDI advanced by 16", rdi, (uint64_t)(uintptr_t)buffer + 16);
    CHECK_EQ("rep insb: RCX = 0", rcx, 0);

    /* REP INSW / INSL. */
    outl(PORT_SEQUENCE, 0x1000);
    rdi = (uint64_t)(uintptr_t)buffer;
    rcx = 5;
    __asm__ volatile("rep insw" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    const uint16_t *w = (const uint16_t *)buffer;
    CHECK("rep insw: 5 words", w[0] == 0x1000 && w[4] == 0x1004 && rdi == (uint64_t)(uintptr_t)buffer + 10);
    outl(PORT_SEQUENCE, 0x70000000);
    rdi = (uint64_t)(uintptr_t)buffer;
    rcx = 3;
    __asm__ volatile("rep insl" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    const uint32_t *l = (const uint32_t *)buffer;
    CHECK("rep insl: 3 dwords", l[0] == 0x70000000 && l[2] == 0x70000002 && rcx == 0);

    /* INSB without REP: one element, RCX untouched. */
    outl(PORT_SEQUENCE, 0x42);
    rdi = (uint64_t)(uintptr_t)buffer;
    rcx = 7;
    __asm__ volatile("insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    CHECK("insb: one byte, RDI + 1, RCX untouched",
          buffer[0] == 0x42 && rdi == (uint64_t)(uintptr_t)buffer + 1 && rcx == 7);

    /* DF = 1: backwards. */
    memset(buffer, 0, 16);
    outl(PORT_SEQUENCE, 1);
    rdi = (uint64_t)(uintptr_t)buffer + 7;
    rcx = 4;
    __asm__ volatile("std; rep insb; cld" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    CHECK("std; rep insb: stores downwards",
          buffer[7] == 1 && buffer[6] == 2 && buffer[4] == 4 && buffer[3] == 0 &&
          rdi == (uint64_t)(uintptr_t)buffer + 3);

    /* REP with RCX = 0: nothing happens. */
    outl(PORT_SEQUENCE, 0x99);
    rdi = (uint64_t)(uintptr_t)buffer;
    rcx = 0;
    buffer[0] = 0xee;
    __asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    CHECK("rep insb with RCX = 0: no access", buffer[0] == 0xee && inl(PORT_SEQUENCE) == 0x99);
}

static void check_outs(void)
{
    uint64_t rsi, rcx;

    for (unsigned i = 0; i < sizeof buffer; i++)
        buffer[i] = (uint8_t)(i * 7 + 1);

    outl(PORT_SUM_COUNT, 0);
    rsi = (uint64_t)(uintptr_t)buffer;
    rcx = 100;
    __asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(PORT_SUM) : "memory");
    uint64_t want = 0;
    for (unsigned i = 0; i < 100; i++)
        want += buffer[i];
    CHECK_EQ("rep outsb: 100 OUTs", inl(PORT_SUM_COUNT), 100);
    CHECK_EQ("rep outsb: their sum", inl(PORT_SUM), want);
    CHECK("rep outsb: RSI + 100, RCX = 0", rsi == (uint64_t)(uintptr_t)buffer + 100 && rcx == 0);

    outl(PORT_SUM_COUNT, 0);
    rsi = (uint64_t)(uintptr_t)buffer;
    rcx = 8;
    __asm__ volatile("rep outsw" : "+S"(rsi), "+c"(rcx) : "d"(PORT_SUM) : "memory");
    want = 0;
    for (unsigned i = 0; i < 8; i++)
        want += ((const uint16_t *)buffer)[i];
    CHECK("rep outsw: 8 words summed", inl(PORT_SUM_COUNT) == 8 && inl(PORT_SUM) == want);

    outl(PORT_SUM_COUNT, 0);
    rsi = (uint64_t)(uintptr_t)buffer;
    rcx = 4;
    __asm__ volatile("rep outsl" : "+S"(rsi), "+c"(rcx) : "d"(PORT_SUM) : "memory");
    want = 0;
    for (unsigned i = 0; i < 4; i++)
        want += ((const uint32_t *)buffer)[i];
    CHECK("rep outsl: 4 dwords summed", inl(PORT_SUM_COUNT) == 4 && (inl(PORT_SUM) == (uint32_t)want));

    outl(PORT_SUM_COUNT, 0);
    rsi = (uint64_t)(uintptr_t)buffer + 3;
    __asm__ volatile("outsb" : "+S"(rsi) : "d"(PORT_SUM) : "memory");
    CHECK("outsb: one OUT of buffer[3]", inl(PORT_SUM_COUNT) == 1 && inl(PORT_SUM) == buffer[3]);

    /* OUTS to the serial port: a line of guest output. */
    static const char line[] = "hello from rep outsb\n";
    rsi = (uint64_t)(uintptr_t)line;
    rcx = sizeof line - 1;
    __asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(PORT_COM1) : "memory");
    CHECK("rep outsb to COM1 done", rcx == 0);
}

/* Last, as a kernel that gets it wrong may stop the VM. */
static void check_ins_addr32(void)
{
    uint64_t rdi, rcx;

    /* 67 prefix: EDI/ECX as the address and count registers. */
    outl(PORT_SEQUENCE, 0x30);
    rdi = 0xffffffff00000000ull | (uint64_t)(uintptr_t)buffer;
    rcx = 0xffffffff00000002ull;
    __asm__ volatile("addr32 rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_SEQUENCE) : "memory");
    CHECK("addr32 rep insb: EDI/ECX used", buffer[0] == 0x30 && buffer[1] == 0x31);
    CHECK_EQ("addr32 rep insb: ECX = 0",
             (uint32_t)rcx, 0);
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("io guest on vcpu %u\n", cpu);
    check_bank();
    check_ins();
    check_outs();
    check_ins_addr32();
    return guest_finish();
}
