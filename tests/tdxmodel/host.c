/* SPDX-License-Identifier: MIT */
/*
 * The platform model's generic SVM host (host.h).
 *
 * Memory: the model occupies [__model_start, __model_end) rounded out to
 * 2 MiB (linked at 1.75 GiB, model.ld).  L1 gets everything else below
 * 4 GiB through an identity nested page table: guest-physical =
 * host-physical, so a GPA L1 passes in a TDCALL is the page the model
 * reads.  The same memory appears a second time at GPA | 2^alias_bit
 * (struct model): the shared alias of a TD whose GPA width is 48 (bit 47),
 * or an SNP guest's C-bit.  L1's multiboot memory map leaves the model out.
 *
 * Devices (COM1, PIT, PIC, LAPIC, IOAPIC, isa-debug-exit) are L1's: no I/O
 * intercepts, and L1 runs without V_INTR_MASKING and without the INTR
 * intercept, so a physical interrupt is delivered through L1's IDT when
 * L1's RFLAGS.IF allows it (QEMU's x86_cpu_pending_interrupt() tests the
 * guest's IF when HF2_VINTR_MASK is clear).  The host runs with GIF = 0
 * between #VMEXIT and VMRUN, so it never takes an interrupt itself.
 */
#include "host.h"

#define MB_BOOT_MAGIC   0x2BADB002u
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)
#define MB_INFO_LOADER  (1u << 9)
#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_AOUT_KLUDGE  (1u << 16)

#define COM1            0x3f8
#define PORT_DEBUG_EXIT 0xf4
#define MSR_EFER        0xC0000080u
#define MSR_VM_CR       0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define EFER_LMA        (1ull << 10)
#define EFER_NXE        (1ull << 11)
#define EFER_SVME       (1ull << 12)
#define POOL_PAGES      1024            /* nested page tables and VMCBs */
#define TRACK_MAX       (4ull << 30)    /* tracked L1 RAM: below 4 GiB (tdx.c TRACK_PAGES) */
#define GiB             (1ull << 30)
#define MiB2            (2ull << 20)
#define ALIAS_BIT       (1ull << host_model.alias_bit)

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};
struct mb_module {
    uint32_t start, end, string, reserved;
};
struct mb_mmap {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

extern char __model_start[], __model_end[];
static uint64_t model_lo, model_hi;   /* the model's memory, 2 MiB aligned */

struct guest l1;
uint64_t l1_track_top;
/* Model option "strict-ve" (QEMU -append): stop where a real TD would take
 * a #VE that a TD-aware L1 avoids: native port I/O, HLT, and MMIO (any
 * access beyond tracked RAM).  Without it, devices are passed through. */
static bool strict_ve;
static const char *model_cmdline;   /* the model's own (QEMU -append) */
static uint64_t *l1_npt;
static struct guest halt_guest;
static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static unsigned pool_used;
static uint8_t iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t msrpm[2 * 4096] __attribute__((aligned(4096)));
static uint8_t hsave[4096] __attribute__((aligned(4096)));

/* ---- Output ---------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void serial_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    for (unsigned spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
        ;
    outb(COM1, (uint8_t)c);
}

static void print_number(uint64_t v, unsigned base, unsigned width, char pad)
{
    char buf[24];
    unsigned n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (width > n) {
        serial_putc(pad);
        width--;
    }
    while (n)
        serial_putc(buf[--n]);
}

/* %s %c %d %u %x with l/ll and zero padding; enough for the model's messages. */
void host_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0, longs = 0;
        if (*fmt == '0')
            pad = '0';
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        uint64_t v;
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            while (*s)
                serial_putc(*s++);
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t x = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (x < 0) {
                serial_putc('-');
                x = -x;
            }
            print_number((uint64_t)x, 10, width, pad);
            break;
        }
        case 'u':
        case 'x':
            v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            print_number(v, *fmt == 'u' ? 10 : 16, width, pad);
            break;
        default:
            serial_putc(*fmt);
        }
    }
    va_end(ap);
}

_Noreturn void host_stop(int status)
{
    __asm__ volatile("outl %0, %1" :: "a"((uint32_t)status), "Nd"((uint16_t)PORT_DEBUG_EXIT));
    for (;;)
        __asm__ volatile("cli; hlt");
}

void host_exception(const uint64_t *frame);
void host_exception(const uint64_t *frame)
{
    host_printf(MODEL_TAG ": host exception %u error 0x%lx at rip 0x%lx\n", (unsigned)frame[0],
                frame[1], frame[2]);
    host_stop(MODEL_STATUS_ERROR);
}

void *host_memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *host_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* GCC may emit calls to these. */
void *memset(void *dst, int c, size_t n);
void *memset(void *dst, int c, size_t n) { return host_memset(dst, c, n); }
void *memcpy(void *dst, const void *src, size_t n);
void *memcpy(void *dst, const void *src, size_t n) { return host_memcpy(dst, src, n); }

/* ---- Hardware access on L1's behalf ------------------------------------ */

uint32_t host_in(uint16_t port, unsigned size)
{
    uint32_t v = 0;
    if (size == 1)
        v = inb(port);
    else if (size == 2)
        __asm__ volatile("inw %1, %w0" : "=a"(v) : "Nd"(port));
    else
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void host_out(uint16_t port, unsigned size, uint32_t value)
{
    if (size == 1)
        outb(port, (uint8_t)value);
    else if (size == 2)
        __asm__ volatile("outw %w0, %1" :: "a"(value), "Nd"(port));
    else
        __asm__ volatile("outl %0, %1" :: "a"(value), "Nd"(port));
}

uint64_t host_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

void host_wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

void host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

/* ---- Memory --------------------------------------------------------------- */

void *host_page_alloc(void)
{
    if (pool_used == POOL_PAGES) {
        host_printf(MODEL_TAG ": out of page-table pages\n");
        host_stop(MODEL_STATUS_ERROR);
    }
    void *p = pool[pool_used++];
    host_memset(p, 0, PAGE_SIZE);
    return p;
}

bool host_l1_owns(uint64_t gpa, uint64_t n)
{
    gpa &= ~ALIAS_BIT;
    if (n == 0 || gpa + n < gpa || gpa + n > 4 * GiB)
        return false;
    return gpa + n <= model_lo || gpa >= model_hi;
}

uint64_t *host_npt_new(void)
{
    return host_page_alloc();
}

/* The entry for gpa at `level` (3 = PML4 ... 0 = PT), creating tables on
 * the way and splitting a 2 MiB leaf into 512 4 KiB ones with the same
 * rights. */
static uint64_t *npt_entry(uint64_t *root, uint64_t gpa, int level)
{
    uint64_t *table = root;
    for (int l = 3; l > level; l--) {
        uint64_t *e = &table[(gpa >> (12 + 9 * l)) & 511];
        if (*e & NPT_PS) {
            uint64_t *split = host_page_alloc();
            for (unsigned i = 0; i < 512; i++)
                split[i] = (*e & ~NPT_PS) + i * PAGE_SIZE;
            *e = (uint64_t)(uintptr_t)split | NPT_P | NPT_W | NPT_U;
        } else if (!(*e & NPT_P)) {
            *e = (uint64_t)(uintptr_t)host_page_alloc() | NPT_P | NPT_W | NPT_U;
        }
        table = (uint64_t *)(uintptr_t)(*e & NPT_ADDR);
    }
    return &table[(gpa >> (12 + 9 * level)) & 511];
}

void host_npt_set(uint64_t *root, uint64_t gpa, uint64_t pte)
{
    *npt_entry(root, gpa, 0) = pte;
}

uint64_t *host_l1_npt(void)
{
    return l1_npt;
}

/* 0 - 4 GiB identity at GPA 0 and again at the shared alias, 2 MiB pages,
 * without the model's memory. */
static void l1_npt_build(void)
{
    l1_npt = host_npt_new();
    uint64_t top = strict_ve ? (l1_track_top + MiB2 - 1) & ~(MiB2 - 1) : 4 * GiB;
    for (uint64_t pa = 0; pa < top; pa += MiB2) {
        if (pa >= model_lo && pa < model_hi)
            continue;
        uint64_t pde = pa | NPT_P | NPT_W | NPT_U | NPT_PS;
        *npt_entry(l1_npt, pa, 1) = pde;
        *npt_entry(l1_npt, pa | ALIAS_BIT, 1) = pde;
    }
}

bool host_translate(const struct vmcb *v, uint64_t la, uint64_t *gpa)
{
    bool lma = v->efer & (1u << 10);
    if (!lma || !(v->cs.attr & (1u << 9)))   /* CS base counts outside 64-bit code */
        la = (la + v->cs.base) & 0xffffffffu;
    if (!(v->cr0 & (1ull << 31))) {
        *gpa = la;
        return true;
    }
    /* 4-level (long mode), PAE (3 levels, the PDPT from CR3 31:5) or
     * 32-bit paging (2 levels of 4-byte entries, 4 MiB pages with PSE). */
    bool pae = v->cr4 & (1u << 5);
    unsigned width = pae ? 8 : 4, bits = pae ? 9 : 10;
    int top = lma ? 3 : pae ? 2 : 1;
    uint64_t table = lma ? v->cr3 & NPT_ADDR : pae ? v->cr3 & 0xffffffe0u : v->cr3 & 0xfffff000u;
    for (int level = top; level >= 0; level--) {
        unsigned shift = 12 + bits * (unsigned)level;
        uint64_t index = (la >> shift) & (level == 2 && !lma ? 3 : (1u << bits) - 1), e;
        uint64_t at = (table & ~ALIAS_BIT) + index * width;
        if (!host_l1_owns(at, width))
            return false;
        e = width == 8 ? *(volatile uint64_t *)(uintptr_t)at : *(volatile uint32_t *)(uintptr_t)at;
        if (!(e & 1))
            return false;
        bool leaf = level == 0 || (level == 1 && (e & NPT_PS) && (pae || (v->cr4 & (1u << 4)))) ||
                    (level == 2 && lma && (e & NPT_PS));
        if (leaf) {
            uint64_t size = 1ull << shift, addr = width == 8 ? e & NPT_ADDR : e & 0xfffff000u;
            if (size == (1u << 22))   /* a 4 MiB page: bits 20:13 are physical 39:32 */
                addr = (e & 0xffc00000u) | ((e & 0x1fe000u) << 19);
            *gpa = ((addr & ~(size - 1)) | (la & (size - 1))) & ~ALIAS_BIT;
            return true;
        }
        table = width == 8 ? e & NPT_ADDR : e & 0xfffff000u;
    }
    return false;
}

void host_l1_inject(unsigned vector, bool has_error, uint32_t error)
{
    l1.vmcb->eventinj = vector | EVENTINJ_VALID | EVENTINJ_EXCP | (has_error ? EVENTINJ_ERR : 0) |
                        (uint64_t)error << 32;
}

/* ---- Running guests -------------------------------------------------------- */

void host_vmrun(uint64_t vmcb_pa, uint64_t *gpr);

void host_run(struct guest *g)
{
    /* With V_INTR_MASKING, physical interrupts reach the guest's INTR
     * intercept only while the host's IF was 1 at VMRUN (HIF).  GIF is 0
     * here (after the previous #VMEXIT), so the host itself still takes
     * none. */
    bool hif = (g->vmcb->int_ctl & INT_CTL_V_INTR_MASKING) != 0;
    if (hif)
        __asm__ volatile("sti");
    host_vmrun((uint64_t)(uintptr_t)g->vmcb, g->gpr);
    if (hif)
        __asm__ volatile("cli");
}

/* A real-mode guest that only halts, in its own nested address space (GPA
 * 0 = one page holding `hlt; jmp .-1`), with the INTR intercept: HLT inside
 * it waits for a physical interrupt, which ends it with #VMEXIT(INTR)
 * before the interrupt is acknowledged.  So L1 takes that interrupt once it
 * runs again with IF = 1. */
static void halt_guest_init(void)
{
    uint8_t *code = host_page_alloc();
    code[0] = 0xf4;   /* hlt */
    code[1] = 0xeb;   /* jmp .-1 */
    code[2] = 0xfd;
    uint64_t *npt = host_npt_new();
    host_npt_set(npt, 0, (uint64_t)(uintptr_t)code | NPT_P | NPT_U);
    struct vmcb *v = halt_guest.vmcb = host_page_alloc();
    v->misc1 = MISC1_INTR | MISC1_SHUTDOWN;
    v->misc2 = MISC2_VMRUN;
    v->exc_intercepts = 0xffffffffu;
    v->iopm_pa = (uint64_t)(uintptr_t)iopm;
    v->msrpm_pa = (uint64_t)(uintptr_t)msrpm;
    v->asid = 5;
    v->int_ctl = INT_CTL_V_INTR_MASKING;
    v->np_enable = 1;
    v->ncr3 = (uint64_t)(uintptr_t)npt;
    struct vmcb_seg rm = { .sel = 0, .attr = 0x93, .limit = 0xffff, .base = 0 };
    v->es = v->ss = v->ds = v->fs = v->gs = rm;
    v->cs = (struct vmcb_seg){ .sel = 0, .attr = 0x9b, .limit = 0xffff, .base = 0 };
    v->gdtr = v->idtr = (struct vmcb_seg){ .limit = 0xffff };
    v->ldtr = (struct vmcb_seg){ .attr = 0x82, .limit = 0xffff };
    v->tr = (struct vmcb_seg){ .attr = 0x83, .limit = 0xffff };
    v->efer = EFER_SVME;
    v->cr0 = 0x10;
    v->dr6 = 0xffff0ff0;
    v->dr7 = 0x400;
    v->g_pat = 0x0007040600070406ull;
}

void host_wait_for_interrupt(void)
{
    struct vmcb *v = halt_guest.vmcb;
    v->rip = 0;
    v->rflags = 2;
    v->tlb_control = 1;
    host_run(&halt_guest);
    if ((uint32_t)v->exitcode != EXIT_INTR) {
        host_printf(MODEL_TAG ": halt guest: unexpected exit 0x%lx\n", v->exitcode);
        host_stop(MODEL_STATUS_ERROR);
    }
}

/* ---- Loading L1 ------------------------------------------------------------ */

static uint32_t strlen32(const char *s)
{
    uint32_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Copy [src, src + filesz) to dst and zero up to memsz, after checking
 * that the destination is L1 memory that holds no module. */
static void l1_place(uint64_t dst, const void *src, uint64_t filesz, uint64_t memsz,
                     uint64_t mods_lo, uint64_t mods_hi)
{
    if (!host_l1_owns(dst, memsz) || (dst < mods_hi && dst + memsz > mods_lo)) {
        host_printf(MODEL_TAG ": L1 segment 0x%lx+0x%lx overlaps the model or the modules\n", dst,
                    memsz);
        host_stop(MODEL_STATUS_ERROR);
    }
    host_memcpy((void *)(uintptr_t)dst, src, filesz);
    host_memset((void *)(uintptr_t)(dst + filesz), 0, memsz - filesz);
}

/* Load module 0 as a multiboot v1 kernel (ELF32 program headers, or the
 * header's address fields with the a.out kludge, as QEMU's loader does).
 * Returns the entry point. */
static uint32_t l1_load(const uint8_t *image, uint32_t size, uint64_t mods_lo, uint64_t mods_hi)
{
    const uint32_t *hdr = NULL;
    for (uint32_t off = 0; off + 12 <= size && off < 8192; off += 4) {
        const uint32_t *h = (const uint32_t *)(image + off);
        if (h[0] == MB_HEADER_MAGIC && h[0] + h[1] + h[2] == 0) {
            hdr = h;
            break;
        }
    }
    if (hdr == NULL) {
        host_printf(MODEL_TAG ": module 0 has no multiboot header\n");
        host_stop(MODEL_STATUS_ERROR);
    }
    if (hdr[1] & MB_AOUT_KLUDGE) {
        uint32_t header_addr = hdr[3], load_addr = hdr[4], load_end = hdr[5], bss_end = hdr[6];
        uint32_t file_off = (uint32_t)((const uint8_t *)hdr - image) - (header_addr - load_addr);
        uint32_t load_size = load_end ? load_end - load_addr : size - file_off;
        uint32_t mem_size = bss_end ? bss_end - load_addr : load_size;
        l1_place(load_addr, image + file_off, load_size, mem_size, mods_lo, mods_hi);
        return hdr[7];
    }
    /* ELF32: e_entry 0x18, e_phoff 0x1c, e_phentsize 0x2a, e_phnum 0x2c. */
    if (size < 0x34 || image[0] != 0x7f || image[1] != 'E' || image[4] != 1) {
        host_printf(MODEL_TAG ": module 0 is neither ELF32 nor a.out-kludge multiboot\n");
        host_stop(MODEL_STATUS_ERROR);
    }
    uint32_t entry = *(const uint32_t *)(image + 0x18), phoff = *(const uint32_t *)(image + 0x1c);
    uint16_t phentsize = *(const uint16_t *)(image + 0x2a), phnum = *(const uint16_t *)(image + 0x2c);
    for (unsigned i = 0; i < phnum; i++) {
        const uint32_t *ph = (const uint32_t *)(image + phoff + i * phentsize);
        if (phoff + (i + 1) * phentsize > size)
            break;
        if (ph[0] != 1)   /* PT_LOAD */
            continue;
        uint32_t offset = ph[1], paddr = ph[3], filesz = ph[4], memsz = ph[5];
        if (offset + filesz > size || filesz > memsz) {
            host_printf(MODEL_TAG ": module 0: bad program header %u\n", i);
            host_stop(MODEL_STATUS_ERROR);
        }
        l1_place(paddr, image + offset, filesz, memsz, mods_lo, mods_hi);
    }
    return entry;
}

/* L1's multiboot information, built at 64 KiB (below 1 MiB, where L1s that
 * map only their first GiB see it; QEMU's own is at 0x9000):
 * module 0's string as the command line (QEMU's loader also puts the
 * kernel's file name first), modules 1.. as L1's modules, and the memory
 * map without the model. */
#define L1_INFO_AT 0x10000u
static uint32_t l1_boot_info(const struct mb_info *mbi, uint64_t at)
{
    const struct mb_module *mods = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
    uint8_t *p = (uint8_t *)(uintptr_t)at;
    struct mb_info *info = (struct mb_info *)p;
    host_memset(info, 0, sizeof *info);
    p += sizeof *info;
    struct mb_module *lmods = (struct mb_module *)p;
    uint32_t nmods = mbi->mods_count - 1;
    p += nmods * sizeof *lmods;
    for (uint32_t i = 0; i < nmods; i++) {
        lmods[i] = mods[i + 1];
        const char *s = (const char *)(uintptr_t)mods[i + 1].string;
        uint32_t n = s ? strlen32(s) + 1 : 0;
        lmods[i].string = s ? (uint32_t)(uintptr_t)p : 0;
        host_memcpy(p, s, n);
        p += n;
    }
    const char *cmd = (const char *)(uintptr_t)mods[0].string;
    uint32_t n = cmd ? strlen32(cmd) + 1 : 1;
    info->cmdline = (uint32_t)(uintptr_t)p;
    if (cmd)
        host_memcpy(p, cmd, n);
    else
        *p = 0;
    p += n;
    p = (uint8_t *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
    info->mmap_addr = (uint32_t)(uintptr_t)p;
    const uint8_t *e = (const uint8_t *)(uintptr_t)mbi->mmap_addr;
    const uint8_t *end = e + mbi->mmap_length;
    for (; e < end; e += ((const struct mb_mmap *)e)->size + 4) {
        struct mb_mmap m = *(const struct mb_mmap *)e;
        uint64_t lo = m.addr, hi = m.addr + m.len;
        struct mb_mmap *out = (struct mb_mmap *)p;
        /* An available range around the model becomes two (or one, or none). */
        if (m.type == 1 && lo < model_hi && hi > model_lo) {
            if (lo < model_lo) {
                *out++ = (struct mb_mmap){ 20, lo, model_lo - lo, 1 };
            }
            if (hi > model_hi) {
                *out++ = (struct mb_mmap){ 20, model_hi, hi - model_hi, 1 };
            }
        } else {
            *out++ = (struct mb_mmap){ 20, lo, m.len, m.type };
        }
        p = (uint8_t *)out;
    }
    info->mmap_length = (uint32_t)((uintptr_t)p - info->mmap_addr);
    info->flags = MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP;
    info->mem_lower = mbi->mem_lower;
    info->mem_upper = mbi->mem_upper;
    info->mods_count = nmods;
    info->mods_addr = nmods ? (uint32_t)(uintptr_t)lmods : 0;
    if (!host_l1_owns(at, (uintptr_t)p - at) || (uintptr_t)p > 0x90000) {
        host_printf(MODEL_TAG ": no room for L1's multiboot information\n");
        host_stop(MODEL_STATUS_ERROR);
    }
    return (uint32_t)at;
}

/* The VMCB of a multiboot kernel at its entry (Multiboot Specification
 * 0.6.96 §3.2): 32-bit protected mode, flat segments, paging off,
 * EAX = magic, EBX = information. */
static void l1_vmcb_init(uint32_t entry, uint32_t info)
{
    struct vmcb *v = l1.vmcb = host_page_alloc();
    v->exc_intercepts = 1u << 6;                              /* #UD: TDCALL and friends */
    v->misc1 = MISC1_CPUID | MISC1_MSR | MISC1_SHUTDOWN | (strict_ve ? MISC1_IOIO | MISC1_HLT : 0);
    v->misc2 = MISC2_VMRUN | MISC2_VMMCALL | MISC2_SVM_INSNS;   /* L1 gets no SVM */
    v->iopm_pa = (uint64_t)(uintptr_t)iopm;
    v->msrpm_pa = (uint64_t)(uintptr_t)msrpm;
    v->asid = 1;
    v->tlb_control = 1;
    v->np_enable = 1;
    v->ncr3 = (uint64_t)(uintptr_t)l1_npt;
    struct vmcb_seg data = { .sel = 0x10, .attr = 0xc93, .limit = 0xffffffffu, .base = 0 };
    v->es = v->ss = v->ds = v->fs = v->gs = data;
    v->cs = (struct vmcb_seg){ .sel = 0x08, .attr = 0xc9b, .limit = 0xffffffffu, .base = 0 };
    v->gdtr = v->idtr = (struct vmcb_seg){ .limit = 0xffff };
    v->ldtr = (struct vmcb_seg){ .attr = 0x82, .limit = 0xffff };
    v->tr = (struct vmcb_seg){ .attr = 0x8b, .limit = 0xffff };
    v->efer = EFER_SVME;   /* required in a guest's VMCB; hidden from L1's RDMSR */
    v->cr0 = 0x11;         /* PE | ET */
    v->dr6 = 0xffff0ff0;
    v->dr7 = 0x400;
    v->rflags = 2;
    v->rip = entry;
    v->rax = MB_BOOT_MAGIC;
    v->g_pat = 0x0007040600070406ull;
    l1.gpr[R_BX] = info;
}

void host_msr_intercept(uint32_t msr, bool on)
{
    uint32_t base = msr >= 0xC0010000u ? 0x1000 : msr >= 0xC0000000u ? 0x800 : 0;
    uint32_t n = msr & 0x1fff;
    uint8_t bits = (uint8_t)(3u << (2 * (n % 4)));
    msrpm[base + n / 4] = on ? msrpm[base + n / 4] | bits : msrpm[base + n / 4] & (uint8_t)~bits;
}

void host_io_intercept(bool on)
{
    host_memset(iopm, on ? 0xff : 0, sizeof iopm);
}


/* ---- L1's exits -------------------------------------------------------------- */

static const struct model *model = &host_model;

static void l1_cpuid(void)
{
    uint32_t r[4];
    uint32_t leaf = (uint32_t)l1.vmcb->rax, sub = (uint32_t)l1.gpr[R_CX];
    host_cpuid(leaf, sub, r);
    if (leaf == 0x80000001u)
        r[2] &= ~(1u << 2);   /* no SVM inside the TD */
    model->cpuid(leaf, sub, r);
    l1.vmcb->rax = r[0];
    l1.gpr[R_BX] = r[1];
    l1.gpr[R_CX] = r[2];
    l1.gpr[R_DX] = r[3];
    l1.vmcb->rip += 2;
}

/* The intercepted MSRs: EFER keeps SVME (a guest VMCB needs it) without L1
 * seeing it; the SVM MSRs do not exist for L1. */
static void l1_msr(void)
{
    uint32_t msr = (uint32_t)l1.gpr[R_CX];
    bool write = l1.vmcb->exitinfo1 & 1;
    if (msr != MSR_EFER) {
        host_l1_inject(13, true, 0);
        return;
    }
    if (write) {   /* LMA is the CPU's to change */
        uint64_t v = (l1.gpr[R_DX] << 32) | (uint32_t)l1.vmcb->rax;
        l1.vmcb->efer = (v & ~EFER_LMA) | (l1.vmcb->efer & EFER_LMA) | EFER_SVME;
    } else {
        uint64_t v = l1.vmcb->efer & ~EFER_SVME;
        l1.vmcb->rax = (uint32_t)v;
        l1.gpr[R_DX] = v >> 32;
    }
    l1.vmcb->rip += 2;
}

bool host_l1_fetch(uint8_t insn[4])
{
    for (unsigned i = 0; i < 4; i++) {
        uint64_t gpa;
        if (!host_translate(l1.vmcb, l1.vmcb->rip + i, &gpa) || !host_l1_owns(gpa, 1))
            return false;
        insn[i] = *(volatile uint8_t *)(uintptr_t)gpa;
    }
    return true;
}

static void l1_ud(void)
{
    uint8_t insn[4];
    if (!host_l1_fetch(insn) || !model->ud(insn))
        host_l1_inject(6, false, 0);
}

static void l1_run_loop(void)
{
    for (;;) {
        host_run(&l1);
        struct vmcb *v = l1.vmcb;
        v->tlb_control = 0;
        uint32_t code = (uint32_t)v->exitcode;
        if (model->exit != NULL && model->exit(code))
            continue;
        switch (code) {
        case EXIT_EXCP_BASE + 6:
            l1_ud();
            break;
        case EXIT_CPUID:
            l1_cpuid();
            break;
        case EXIT_MSR:
            l1_msr();
            break;
        case EXIT_VMMCALL:
            if (model->vmmcall == NULL || !model->vmmcall())
                host_l1_inject(6, false, 0);
            break;
        case EXIT_VMRUN:
        case EXIT_VMRUN + 2:   /* VMLOAD, VMSAVE, STGI, CLGI, SKINIT */
        case EXIT_VMRUN + 3:
        case EXIT_VMRUN + 4:
        case EXIT_VMRUN + 5:
        case EXIT_VMRUN + 6:
            host_l1_inject(6, false, 0);
            break;
        case EXIT_IOIO:
            host_printf(MODEL_TAG ": L1 executed %s port 0x%x at rip 0x%lx: a #VE in a real TD "
                        "(strict-ve)\n", (v->exitinfo1 & 1) ? "IN from" : "OUT to",
                        (unsigned)(v->exitinfo1 >> 16), v->rip);
            host_stop(MODEL_STATUS_VE);
        case EXIT_HLT:
            host_printf(MODEL_TAG ": L1 executed HLT at rip 0x%lx: a #VE in a real TD (strict-ve)\n",
                        v->rip);
            host_stop(MODEL_STATUS_VE);
        case EXIT_SHUTDOWN:
            host_printf(MODEL_TAG ": L1 shut down (triple fault) at rip 0x%lx\n", v->rip);
            host_stop(MODEL_STATUS_SHUTDOWN);
        case EXIT_NPF:
            if (strict_ve && (v->exitinfo2 & ~ALIAS_BIT) >= l1_track_top) {
                host_printf(MODEL_TAG ": L1 accessed MMIO at GPA 0x%lx at rip 0x%lx: a #VE in a real "
                            "TD (strict-ve)\n", v->exitinfo2, v->rip);
                host_stop(MODEL_STATUS_VE);
            }
            host_printf(MODEL_TAG ": L1 accessed GPA 0x%lx (error 0x%lx) at rip 0x%lx: not L1 memory, "
                        "or a private page not accepted\n", v->exitinfo2, v->exitinfo1, v->rip);
            host_stop(MODEL_STATUS_NPF);
        default:
            host_printf(MODEL_TAG ": unexpected L1 exit 0x%x (info 0x%lx 0x%lx) at rip 0x%lx\n", code,
                        v->exitinfo1, v->exitinfo2, v->rip);
            host_stop(MODEL_STATUS_ERROR);
        }
    }
}

/* Does the space-separated command line hold `word`? */
static bool cmdline_has(const char *cmd, const char *word)
{
    for (const char *c = cmd; c && *c; c++) {
        if (c != cmd && c[-1] != ' ')
            continue;
        uint32_t n = 0;
        while (word[n] && c[n] == word[n])
            n++;
        if (!word[n] && (c[n] == ' ' || c[n] == 0))
            return true;
    }
    return false;
}

bool host_option(const char *word)
{
    return cmdline_has(model_cmdline, word);
}

void host_main(uint32_t magic, uint32_t info);
void host_main(uint32_t magic, uint32_t info)
{
    const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)info;
    host_printf(MODEL_TAG ": %s platform model (test infrastructure: our reading of the "
                "specification)\n", host_model.name);
    if (magic != MB_BOOT_MAGIC || !(mbi->flags & MB_INFO_MODS) || mbi->mods_count == 0 ||
        !(mbi->flags & MB_INFO_MMAP)) {
        host_printf(MODEL_TAG ": magic 0x%x, flags 0x%x, %u modules\n", magic, mbi->flags,
                    mbi->mods_count);
        host_printf(MODEL_TAG ": need a multiboot loader with modules and a memory map "
                    "(-initrd \"kernel.elf args,module,...\")\n");
        host_stop(MODEL_STATUS_ERROR);
    }
    uint32_t r[4];
    host_cpuid(0x80000001u, 0, r);
    bool svm = r[2] & (1u << 2);
    host_cpuid(0x8000000Au, 0, r);
    if (!svm || !(r[3] & 1)) {
        host_printf(MODEL_TAG ": the CPU has no SVM with nested paging (use -cpu EPYC)\n");
        host_stop(MODEL_STATUS_ERROR);
    }
    host_wrmsr(MSR_EFER, host_rdmsr(MSR_EFER) | EFER_SVME | EFER_NXE);
    host_wrmsr(MSR_VM_HSAVE_PA, (uint64_t)(uintptr_t)hsave);

    model_lo = (uint64_t)(uintptr_t)__model_start & ~(MiB2 - 1);
    model_hi = ((uint64_t)(uintptr_t)__model_end + MiB2 - 1) & ~(MiB2 - 1);
    /* Tracked RAM: up to the end of the highest available range, at most TRACK_MAX. */
    const uint8_t *e = (const uint8_t *)(uintptr_t)mbi->mmap_addr;
    for (const uint8_t *end = e + mbi->mmap_length; e < end; e += ((const struct mb_mmap *)e)->size + 4) {
        const struct mb_mmap *m = (const struct mb_mmap *)e;
        if (m->type == 1 && m->addr + m->len > l1_track_top)
            l1_track_top = m->addr + m->len;
    }
    if (l1_track_top > TRACK_MAX)
        l1_track_top = TRACK_MAX;

    if (mbi->flags & MB_INFO_CMDLINE)
        model_cmdline = (const char *)(uintptr_t)mbi->cmdline;
    strict_ve = host_option("strict-ve");
    host_memset(iopm, strict_ve ? 0xff : 0, sizeof iopm);
    host_memset(msrpm, 0, sizeof msrpm);
    host_msr_intercept(MSR_EFER, true);
    host_msr_intercept(MSR_VM_CR, true);
    host_msr_intercept(MSR_VM_HSAVE_PA, true);
    l1_npt_build();
    halt_guest_init();

    const struct mb_module *mods = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
    uint64_t mods_lo = ~0ull, mods_hi = 0;
    for (uint32_t i = 0; i < mbi->mods_count; i++) {
        if (mods[i].start < mods_lo)
            mods_lo = mods[i].start;
        if (mods[i].end > mods_hi)
            mods_hi = mods[i].end;
    }
    uint32_t entry = l1_load((const uint8_t *)(uintptr_t)mods[0].start,
                             mods[0].end - mods[0].start, mods_lo, mods_hi);
    uint32_t l1_info = l1_boot_info(mbi, L1_INFO_AT);
    host_printf(MODEL_TAG ": model memory 0x%lx-0x%lx, L1 entry 0x%x, %u L1 modules, "
                "tracked RAM 0x%lx%s\n", model_lo, model_hi, entry, mbi->mods_count - 1, l1_track_top,
                strict_ve ? ", strict-ve" : "");
    l1_vmcb_init(entry, l1_info);
    model->init();
    l1_run_loop();
}
