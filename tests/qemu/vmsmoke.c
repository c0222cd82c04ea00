/* SPDX-License-Identifier: MIT */
/*
 * The VM syscalls end to end, without the VMM: a 32-bit guest of a few
 * bytes does OUT, IN, an MMIO store and load, CPUID and HLT; this process
 * serves each exit through the run page and checks what the kernel decoded.
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

static const uint8_t guest[] = {
    0x66, 0xBA, 0xF8, 0x03,             /* mov dx, 0x3f8          */
    0xB0, 0x41,                         /* mov al, 'A'            */
    0xEE,                               /* out dx, al             */
    0xEC,                               /* in al, dx              */
    0xA3, 0x00, 0x00, 0x00, 0xC0,       /* mov [0xC0000000], eax  */
    0xA1, 0x04, 0x00, 0x00, 0xC0,       /* mov eax, [0xC0000004]  */
    0x0F, 0xA2,                         /* cpuid                  */
    0xFA,                               /* cli                    */
    0xF4,                               /* hlt                    */
};

#define ENTRY 0x1000

static int64_t run(copra_handle_t vcpu)
{
    struct copra_wait_item w = { .handle = vcpu };
    int64_t r = coco_wait(&w, 1, COPRA_WAIT_FOREVER);
    return r == 1 && w.ready ? (int64_t)w.value : r;
}

int main(void)
{
    int64_t vm = coco_vm_create(coco_handle(COCO_INIT_VMCTL));
    if (!CHECK("VM_CREATE", vm > 0))
        return coco_test_finish();
    int64_t mem = coco_mem_create(16);
    CHECK("VM_MAP 64 KiB of RAM at 0", coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, 0, 0, 16 * 4096,
                                                   COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X) == 0);
    CHECK("VM_MAP overlap refused", coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, 0x2000, 0, 4096,
                                                COPRA_GUEST_R) == COPRA_EEXIST);
    uint8_t *ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, 16 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    memcpy(ram + ENTRY, guest, sizeof(guest));

    int64_t vcpu = coco_vcpu_create((copra_handle_t)vm, 0, 0);
    CHECK("VCPU_CREATE", vcpu > 0);
    CHECK("second VCPU with the same index refused", coco_vcpu_create((copra_handle_t)vm, 0, 0) == COPRA_EEXIST);
    CHECK("DUP of a VCPU refused", coco_dup((copra_handle_t)vcpu, COPRA_RIGHT_WAIT) == COPRA_EPERM);
    CHECK("DUP of a VM refused", coco_dup((copra_handle_t)vm, COPRA_RIGHT_MANAGE) == COPRA_EPERM);
    struct copra_run_page *rp = (struct copra_run_page *)coco_mmap((copra_handle_t)vcpu, NULL, 4096,
                                                                    COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    CHECK("MMAP the run page", (int64_t)rp > 0);
    CHECK("SET_STATE RIP", coco_vcpu_set_state((copra_handle_t)vcpu, COPRA_STATE_RIP, ENTRY) == 0);
    uint64_t v = 0;
    CHECK("GET_STATE CR0 is PE|ET", coco_vcpu_get_state((copra_handle_t)vcpu, COPRA_STATE_CR0, &v) == 0 && v == 0x11);
    /* XCR0 (ABI 6): reset value 1; SET refuses what XSETBV would, and any
     * component the kernel does not switch (XGETBV here reads the kernel's). */
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t host_xcr0 = (uint64_t)hi << 32 | lo;
    coco_printf("host XCR0 0x%llx\n", (unsigned long long)host_xcr0);
    CHECK("host XCR0 holds x87 and SSE", (host_xcr0 & 3) == 3);
    CHECK("GET_STATE XCR0 is 1", coco_vcpu_get_state((copra_handle_t)vcpu, COPRA_STATE_XCR0, &v) == 0 && v == 1);
    static const uint64_t bad_xcr0[] = { 0, 2, 5, 1ull << 63 | 3, 0x203 };
    for (unsigned i = 0; i < sizeof bad_xcr0 / sizeof bad_xcr0[0]; i++)
        CHECK_EQUAL("SET_STATE XCR0 refuses a value XSETBV would",
                    coco_vcpu_set_state((copra_handle_t)vcpu, COPRA_STATE_XCR0, bad_xcr0[i]), COPRA_EINVAL);
    CHECK_EQUAL("SET_STATE XCR0 = the host's", coco_vcpu_set_state((copra_handle_t)vcpu, COPRA_STATE_XCR0, host_xcr0), 0);
    CHECK("GET_STATE XCR0 gives it", coco_vcpu_get_state((copra_handle_t)vcpu, COPRA_STATE_XCR0, &v) == 0 && v == host_xcr0);
    CHECK_EQUAL("SET_STATE XCR0 = 1", coco_vcpu_set_state((copra_handle_t)vcpu, COPRA_STATE_XCR0, 1), 0);

    CHECK("exit 1: IO", run((copra_handle_t)vcpu) == COPRA_EXIT_IO);
    CHECK("OUT 0x3f8 'A'", rp->io.port == 0x3f8 && rp->io.size == 1 && !rp->io.in && rp->io.data == 'A');
    CHECK("exit 2: IO", run((copra_handle_t)vcpu) == COPRA_EXIT_IO);
    CHECK("IN 0x3f8", rp->io.port == 0x3f8 && rp->io.in);
    rp->io.data = 0x5A;
    CHECK("exit 3: MMIO", run((copra_handle_t)vcpu) == COPRA_EXIT_MMIO);
    CHECK("store decoded", rp->mmio.gpa == 0xC0000000 && rp->mmio.write && rp->mmio.size == 4 &&
                           rp->mmio.decoded && (rp->mmio.data & 0xff) == 0x5A);
    CHECK("exit 4: MMIO", run((copra_handle_t)vcpu) == COPRA_EXIT_MMIO);
    CHECK("load decoded", rp->mmio.gpa == 0xC0000004 && !rp->mmio.write && rp->mmio.size == 4);
    rp->mmio.data = 0x12345678;
    CHECK("exit 5: CPUID", run((copra_handle_t)vcpu) == COPRA_EXIT_CPUID);
    CHECK("CPUID leaf = the MMIO value", rp->cpuid.leaf == 0x12345678);
    rp->regs.gpr[COPRA_RAX] = 1;
    rp->regs.rip += 2;
    rp->dirty = COPRA_DIRTY_GPRS | COPRA_DIRTY_RIP;
    CHECK("exit 6: HLT with IF=0", run((copra_handle_t)vcpu) == COPRA_EXIT_HLT);
    CHECK("RIP past the HLT (where an NMI would return)", rp->regs.rip == ENTRY + sizeof(guest));
    CHECK("RAX from the VMM", rp->regs.gpr[COPRA_RAX] == 1);
    coco_printf("exits %lu, to user %lu\n", (unsigned long)rp->exits, (unsigned long)rp->user_exits);
    /* The guest ran with CR0.TS clear; the exit gave the host its CR0 back:
     * a process on this CPU still cannot touch the (guest's) x87 registers. */
    const char *argv[] = { "child", "fault", "x87" };
    int64_t status = -1, child = coco_spawn("child", 3, argv, NULL, 0);
    CHECK("x87 in a process after a guest ran: #NM", child > 0 &&
          coco_wait_process((copra_handle_t)child, &status) == 0 && status == 0x107);
    return coco_test_finish();
}
