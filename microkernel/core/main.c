/* SPDX-License-Identifier: MIT */
/* Boot: from the multiboot hand-off to the first user process. */
#include "core/kernel.h"
#include "core/console.h"
#include "core/heap.h"
#include "core/initrd.h"
#include "core/pmm.h"
#include "arch/x86_64/kstack.h"
#include "core/process.h"
#include "core/string.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/smp.h"

#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)
#define MAX_RAM_RANGES  32
#define BOOT_MAP_LIMIT  (2ull << 30)   /* boot.S maps the first 2 GiB */

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
    uint32_t start, end, string, reserved;
};

struct mb_mmap_entry {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

extern char __kernel_pstart[], __kernel_pend[];
extern char boot_kstack[];
static struct thread boot_idle;
uint64_t boot_tsc;
static char cmdline[512];
static uint64_t ram[2 * MAX_RAM_RANGES];
static size_t nram;
extern void (*const __kinit_early_start[])(void), (*const __kinit_start[])(void), (*const __kinit_end[])(void);
void (*cpu_init_hook)(struct cpu *cpu);
static struct { struct kobject *o; uint32_t rights; } boot_handles[4];
static unsigned nboot_handles;

/* The first process's received handles after the console (KERNEL_INIT). */
void boot_handle_add(struct kobject *o, uint32_t rights)
{
    ASSERT(nboot_handles < 4);
    boot_handles[nboot_handles].o = o;
    boot_handles[nboot_handles++].rights = rights;
}

NORETURN static void boot_fail(const char *why)
{
    kprintf("copra: boot error: %s\n", why);
    cpu_poweroff(COPRA_STATUS_BOOT_ERROR);
}

/* An allocator of the first `nframes` frames, its bitmap at `bitmap_pa`,
 * with every RAM frame of the memory map among them free. */
static void ram_allocator(struct pmm *p, uint64_t bitmap_pa, uint64_t nframes)
{
    pmm_init(p, phys_to_virt(bitmap_pa), nframes);
    for (size_t i = 0; i < nram; i++)
        pmm_release_range(p, ram[2 * i], ram[2 * i + 1]);
}

/* The physical page allocator over the multiboot memory map. */
static void memory_init(const struct mb_info *mb, uint64_t mod_start, uint64_t mod_end)
{
    if (!(mb->flags & MB_INFO_MMAP))
        boot_fail("no memory map from the boot loader");
    uint64_t max_pa = 0;
    for (uint64_t off = 0; off + sizeof(struct mb_mmap_entry) <= mb->mmap_length;) {
        const struct mb_mmap_entry *e = phys_to_virt(mb->mmap_addr + off);
        if (e->type == 1 && e->len && nram < MAX_RAM_RANGES) {
            ram[2 * nram] = e->addr;
            ram[2 * nram + 1] = e->len;
            nram++;
            max_pa = MAX(max_pa, e->addr + e->len);
        }
        off += e->size + 4;
    }
    if (!nram)
        boot_fail("no usable RAM in the memory map");

    /* The bitmap goes in the first RAM above the kernel and the initrd. */
    uint64_t nframes = max_pa / PAGE_SIZE;
    uint64_t bytes = ALIGN_UP(pmm_bitmap_bytes(nframes), PAGE_SIZE);
    uint64_t low = ALIGN_UP(MAX((uint64_t)(uintptr_t)__kernel_pend, mod_end), PAGE_SIZE);
    uint64_t where = 0;
    for (size_t i = 0; i < nram && !where; i++) {
        uint64_t s = MAX(ALIGN_UP(ram[2 * i], PAGE_SIZE), low), e = ram[2 * i] + ram[2 * i + 1];
        if (s < e && e - s >= bytes && s + bytes <= BOOT_MAP_LIMIT)
            where = s;
    }
    if (!where)
        boot_fail("no room for the page bitmap");
    ram_allocator(&heap_pmm, where, nframes);
    /* Below the kernel image: the guest pool, never the kernel's own (the
     * AP trampoline borrows a page of it before any guest exists). */
    uint64_t pstart = (uint64_t)(uintptr_t)__kernel_pstart;
    pmm_reserve_range(&heap_pmm, 0, (uint64_t)(uintptr_t)__kernel_pend);
    pmm_reserve_range(&heap_pmm, where, bytes);
    pmm_reserve_range(&heap_pmm, mod_start, mod_end - mod_start);   /* kmain: mod_end >= mod_start */
    uint64_t pool_bitmap = pmm_alloc(&heap_pmm, ALIGN_UP(pmm_bitmap_bytes(pstart / PAGE_SIZE), PAGE_SIZE) / PAGE_SIZE, 1);
    if (!pool_bitmap || pool_bitmap + pmm_bitmap_bytes(pstart / PAGE_SIZE) > BOOT_MAP_LIMIT)
        boot_fail("no room for the guest pool's bitmap");
    ram_allocator(&pool_pmm, pool_bitmap, pstart / PAGE_SIZE);
    pmm_reserve_range(&pool_pmm, mod_start, mod_end - mod_start);
}

/*
 * The command line is words: "init=PATH" names the first process (default
 * "vmm"), words after "--" are its arguments, "crashtest" is a test hook.
 * Returns the packed argv (abi/copra/syscall.h) of the first process.
 */
static size_t parse_cmdline(char *argv, size_t cap, uint32_t *argc, bool *crashtest)
{
    size_t n = 4;
    bool args = false;
    memcpy(argv, "vmm", 4);
    *argc = 1;
    for (char *c = cmdline; *c;) {
        while (*c == ' ')
            c++;
        char *w = c;
        while (*c && *c != ' ')
            c++;
        size_t len = (size_t)(c - w);
        if (!len)
            break;
        if (!args && len == 2 && !memcmp(w, "--", 2)) {
            args = true;
        } else if (!args && len == 9 && !memcmp(w, "crashtest", 9)) {
            *crashtest = true;
        } else if (args || (len > 5 && !memcmp(w, "init=", 5))) {
            if (!args)
                w += 5, len -= 5, n = 0, *argc = 0;   /* replaces the default path */
            if (n + len + 1 > cap || *argc == COPRA_ARGC_MAX)
                boot_fail("kernel command line: init= path or arguments too long");
            memcpy(argv + n, w, len);
            n += len;
            argv[n++] = 0;
            (*argc)++;
        }
    }
    return n;
}

NORETURN void kmain(uint32_t magic, uint32_t info_pa)
{
    boot_tsc = rdtsc();
    /* Early hooks first: on TDX the console itself goes through the TDX
     * module, which the platform's detection sets up. */
    for (void (*const *init)(void) = __kinit_early_start; init < __kinit_start; init++)
        (*init)();
    serial_init();
    kprintf("\ncopra: microkernel, ABI %u\n", COPRA_ABI_VERSION);
    if (magic != MB_BOOT_MAGIC)
        boot_fail("not started by a multiboot loader");
    const struct mb_info *mb = phys_to_virt(info_pa);
    if (mb->flags & MB_INFO_CMDLINE) {   /* cmdline[] is zeroed: its last byte stays the NUL */
        const char *c = phys_to_virt(mb->cmdline);
        memcpy(cmdline, c, strnlen(c, sizeof(cmdline) - 1));
    }
    if (!(mb->flags & MB_INFO_MODS) || mb->mods_count < 1)
        boot_fail("no initrd module (use -initrd)");
    const struct mb_module *mod = phys_to_virt(mb->mods_addr);
    uint64_t mod_start = mod->start, mod_end = mod->end;
    if (mod_end < mod_start || mod_end > BOOT_MAP_LIMIT)
        boot_fail("initrd module lies outside the first 2 GiB");

    memory_init(mb, mod_start, mod_end);
    paging_init(ram, nram);
    kstack_init();
    idt_init();
    cpu_init(&cpus[0]);
    apic_init();
    kprintf("copra: %lu MiB free of %lu MiB, guest pool %lu MiB below %lu MiB, TSC %lu MHz, cmdline '%s'\n",
            heap_pmm.free / 256, heap_pmm.total / 256, pool_pmm.free / 256, pool_end() >> 20,
            tsc_hz() / 1000000, cmdline);
    /* The initrd before the hooks: virt/ measures its manifest on TDX. */
    initrd_init(phys_to_virt(mod_start), mod_end - mod_start);
    for (void (*const *init)(void) = __kinit_start; init < __kinit_end; init++)
        (*init)();
    if (cpu_init_hook)
        cpu_init_hook(&cpus[0]);
    thread_init_idle(&boot_idle, &cpus[0], (uint64_t)(uintptr_t)boot_kstack);
    cpus[0].apic_id = apic_id();
    smp_init();

    char argv[512];
    uint32_t argc;
    bool crashtest = false;
    size_t argv_len = parse_cmdline(argv, sizeof(argv), &argc, &crashtest);
    int err = process_create(argv, strlen(argv), argv, argv_len, argc, 2, &process_init);
    if (err) {
        kprintf("copra: boot error: cannot start init process '%s': error %d\n", argv, err);
        cpu_poweroff(COPRA_STATUS_BOOT_ERROR);
    }
    /* "crashtest" proves the kernel-exception path (report, failure status) in CI. */
    if (crashtest)
        *(volatile uint64_t *)KERNEL_VBASE = 0;   /* physical 0 is the guest pool: never mapped here */
    kprintf("copra: starting '%s' at %lu us after kernel entry\n", argv,
            (rdtsc() - boot_tsc) / (tsc_hz() / 1000000));
    /* The first process's received handles: console input, then what the
     * subsystems added (virt/: the right to create VMs, to hand on).  It
     * has not started: its fresh table needs no lock and cannot be full. */
    handle_install(&process_init->handles, &console_input.obj, COPRA_RIGHTS_CONSOLE);
    for (unsigned i = 0; i < nboot_handles; i++)
        handle_install(&process_init->handles, boot_handles[i].o, boot_handles[i].rights);
    process_start(process_init);
    apic_timer_start();
    sched_idle();
}
