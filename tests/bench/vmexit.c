/* SPDX-License-Identifier: MIT */
/*
 * Guest exit round trip served by the VMM's VCPU thread (issue 4 figure):
 * a 32-bit guest loops `out 0x80, al` N times; this process, acting as the
 * VMM, waits on the VCPU for each exit and re-enters.  Under
 * `-icount shift=0` the TSC counts instructions, so TSC ticks per exit are
 * counted instructions per round trip (they include the guest's own 3
 * loop instructions).  `vmexit wall` reports wall-clock exits per second
 * (run it without -icount).
 */
#include <coco/coco.h>
#include <coco/vm.h>

#define ITERATIONS 20000u
#define ENTRY 0x1000

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

int main(int argc, char **argv)
{
    bool wall = argc >= 2 && !strcmp(argv[1], "wall");
    const uint8_t guest[] = {
        0xB9, ITERATIONS & 0xff, (ITERATIONS >> 8) & 0xff, 0, 0,  /* mov ecx, N   */
        0xE6, 0x80,                                               /* out 0x80, al */
        0x49,                                                     /* dec ecx      */
        0x75, 0xFB,                                               /* jnz out      */
        0xFA, 0xF4,                                               /* cli; hlt     */
    };
    int64_t vm = coco_vm_create(), mem = coco_mem_create(16);
    if (vm < 0 || mem < 0 ||
        coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, 0, 0, 16 * 4096, COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X))
        return 2;
    uint8_t *ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, 16 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    memcpy(ram + ENTRY, guest, sizeof(guest));
    copra_handle_t vcpu = (copra_handle_t)coco_vcpu_create((copra_handle_t)vm, 0, 0);
    struct copra_run_page *rp = (struct copra_run_page *)coco_mmap(vcpu, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    coco_vcpu_set_state(vcpu, COPRA_STATE_RIP, ENTRY);

    struct copra_wait_item w = { .handle = vcpu };
    unsigned n = 0;
    /* The first exit warms up; time the rest. */
    if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1 || w.value != COPRA_EXIT_IO)
        return 3;
    struct copra_sysinfo s0, s1;
    coco_sysinfo(&s0, sizeof(s0));
    uint64_t exits0 = rp->exits, t0 = rdtsc(), ns0 = (uint64_t)coco_clock();
    for (;;) {
        if (coco_wait(&w, 1, COPRA_WAIT_FOREVER) != 1)
            return 4;
        if (w.value != COPRA_EXIT_IO)
            break;
        n++;
    }
    uint64_t t1 = rdtsc(), ns1 = (uint64_t)coco_clock();
    coco_sysinfo(&s1, sizeof(s1));
    if (w.value != COPRA_EXIT_HLT || n != ITERATIONS - 1)
        return 5;
    uint64_t vmruns = rp->exits - exits0;
    if (wall) {
        coco_printf("bench vmexit_io_vmm_wall %lu exits/s\n", (unsigned long)(n * 1000000000ull / (ns1 - ns0)));
        return 0;
    }
    coco_printf("bench vmexit_io_vmm %lu insns/roundtrip\n", (unsigned long)((t1 - t0) / n));
    /* Per exit, from the kernel's own counters (SYSINFO) across the loop;
     * the two SYSINFO calls add 2 kernel entries in all, not per exit. */
    uint64_t ke = s1.kernel_entries - s0.kernel_entries, as = s1.address_space_switches - s0.address_space_switches;
    uint64_t ge = s1.guest_entries - s0.guest_entries;
    coco_printf("bench vmexit_io_vmm_vmruns_per_exit %lu.%02lu vmruns\n", (unsigned long)(ge / n),
                (unsigned long)(ge * 100 / n % 100));
    coco_printf("bench vmexit_io_vmm_kernel_entries_per_exit %lu.%02lu entries\n", (unsigned long)(ke / n),
                (unsigned long)(ke * 100 / n % 100));
    coco_printf("bench vmexit_io_vmm_address_space_switches_per_exit %lu.%02lu switches\n",
                (unsigned long)(as / n), (unsigned long)(as * 100 / n % 100));
    (void)vmruns;
    return 0;
}
