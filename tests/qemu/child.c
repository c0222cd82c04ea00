/* SPDX-License-Identifier: MIT */
/*
 * Helper process for the QEMU tests, started by them with EXEC:
 *   child exit N        exit with status N
 *   child args A B C    exit 0 if argv is exactly that
 *   child handle        exit 0 if it received one readable file handle
 *   child spin N        busy-loop N iterations, then exit 7
 *   child fault KIND    do something a process must be killed for
 *   child vm-create     with one received handle: exit 0 if VM_CREATE with it
 *                       works; with none: exit 0 if no handle it holds or
 *                       could guess (any slot, generation 1) creates a VM
 */
#include <coco/coco.h>
#include <coco/vm.h>

static int fault(const char *kind)
{
    volatile uint64_t *p;
    if (!strcmp(kind, "null")) {
        p = (volatile uint64_t *)0;
        return (int)*p;
    }
    if (!strcmp(kind, "kernel-read")) {
        p = (volatile uint64_t *)0xFFFFFFFFC0010000ull;
        return (int)*p;
    }
    if (!strcmp(kind, "kernel-exec"))
        ((void (*)(void))0xFFFFFFFFC0012000ull)();
    if (!strcmp(kind, "write-text")) {
        p = (volatile uint64_t *)(uintptr_t)&coco_exit;
        *p = 0;
    }
    if (!strcmp(kind, "exec-stack")) {
        volatile uint8_t code[16] = { 0xc3 };   /* ret, on the NX stack */
        ((void (*)(void))(uintptr_t)code)();
    }
    if (!strcmp(kind, "hlt"))
        __asm__ volatile("hlt");
    if (!strcmp(kind, "cli"))
        __asm__ volatile("cli");
    if (!strcmp(kind, "outb"))
        __asm__ volatile("outb %%al, $0x80" : : "a"(0));
    if (!strcmp(kind, "ud2"))
        __asm__ volatile("ud2");
    if (!strcmp(kind, "int3"))
        __asm__ volatile("int3");
    if (!strcmp(kind, "int-timer"))
        __asm__ volatile("int $0x20");
    if (!strcmp(kind, "wrmsr"))
        __asm__ volatile("wrmsr" : : "c"(0xC0000080), "a"(0), "d"(0));
    /* Processes have no FPU: the kernel keeps CR0.TS set (it may hold a
     * guest's registers), so x87, MMX, SSE and XSAVE raise #NM. */
    if (!strcmp(kind, "x87"))
        __asm__ volatile("fninit");
    if (!strcmp(kind, "fnsave")) {
        static uint8_t area[108];
        __asm__ volatile("fnsave %0" : "=m"(area));
    }
    if (!strcmp(kind, "sse"))
        __asm__ volatile("xorps %xmm0, %xmm0");
    if (!strcmp(kind, "mov-cr3"))
        __asm__ volatile("mov %0, %%cr3" : : "r"(0ull));
    if (!strcmp(kind, "noncanonical")) {
        p = (volatile uint64_t *)0x0000800000000000ull;
        return (int)*p;
    }
    if (!strcmp(kind, "div0")) {
        /* In assembly: gcc turns 1 / x into compares, with no division. */
        uint32_t zero = 0;
        __asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; div %0" : : "r"(zero) : "rax", "rdx");
        return 98;
    }
    coco_printf("unknown fault kind '%s'\n", kind);
    return 99;
}

static int vm_create(void)
{
    if (coco_handle_count() == 1)
        return coco_vm_create(coco_handle(0)) > 0 ? 0 : 1;
    copra_handle_t own = (copra_handle_t)coco_event_create(0);
    if (coco_vm_create(COPRA_HANDLE_NONE) != COPRA_EBADH || coco_vm_create(own) != COPRA_ETYPE)
        return 2;
    for (uint32_t slot = 0; slot < COPRA_HANDLES_PER_PROCESS; slot++) {
        int64_t r = coco_vm_create((1u << 16) | slot);
        if (r != ((1u << 16 | slot) == own ? COPRA_ETYPE : COPRA_EBADH)) {
            coco_printf("VM_CREATE(%#x) gave %ld\n", (1u << 16) | slot, (long)r);
            return 3;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "exit"))
        return (int)strtoul(argv[2], NULL, 0);
    if (argc >= 2 && !strcmp(argv[1], "args"))
        return !(argc == 5 && !strcmp(argv[2], "A") && !strcmp(argv[3], "BB") && !strcmp(argv[4], "CCC"));
    if (argc >= 2 && !strcmp(argv[1], "handle")) {
        char buf[8] = { 0 };
        if (coco_handle_count() != 1)
            return 2;
        return coco_read(coco_handle(0), buf, 5, 0) == 5 && !memcmp(buf, "copra", 5) ? 0 : 1;
    }
    if (argc >= 3 && !strcmp(argv[1], "spin")) {
        for (volatile unsigned long i = 0, n = strtoul(argv[2], NULL, 0); i < n; i++)
            ;
        return 7;
    }
    if (argc >= 3 && !strcmp(argv[1], "fault"))
        return fault(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "vm-create"))
        return vm_create();
    coco_printf("usage: child exit N | args A BB CCC | handle | spin N | fault KIND | vm-create\n");
    return 100;
}
