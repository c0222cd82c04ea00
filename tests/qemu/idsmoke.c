/* SPDX-License-Identifier: MIT */
/*
 * The VM syscalls end to end on identity guest memory (GUEST_MEM, ABI 9),
 * without the VMM, as every platform runs them: a 32-bit guest of a few
 * bytes does OUT, IN, MMIO stores and loads, CPUID, RDMSR, WRMSR, a load
 * from a page unmapped under it, then loads a GDT and IDT, enables
 * interrupts and takes one injected interrupt (an interrupt window first),
 * sets CR0.WP (the kernel's exit) and reads CR0 back, takes an NMI, reads
 * and writes LSTAR (passed through), and halts.  This process serves each exit through the run page and checks
 * what the kernel decoded.  Registered for svm (qemu.idsmoke) and for tdx
 * through the TDX-module model (qemu.tdx_vmsmoke, argument "tdx": the
 * platform's limits are checked too).
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

#define BASE    0x200000u       /* guest RAM: pool pages at their own address */
#define PAGES   8
#define GONE    0x210000u       /* a page mapped, then unmapped under the guest */
#define ENTRY   (BASE + 0x1000)
#define GDTR    (BASE + 0x7F0)
#define IDTR    (BASE + 0x7F8)
#define GDT     (BASE + 0x900)
#define IDT     (BASE + 0xA00)
#define VECTOR  0x40
#define MSR     0x1A0           /* IA32_MISC_ENABLE: intercepted everywhere */

#define LE32(x) (uint8_t)(x), (uint8_t)((x) >> 8), (uint8_t)((x) >> 16), (uint8_t)((x) >> 24)

static const uint8_t guest[] = {
    0x66, 0xBA, 0xF8, 0x03,             /* mov dx, 0x3f8          */
    0xB0, 0x41,                         /* mov al, 'A'            */
    0xEE,                               /* out dx, al             */
    0xEC,                               /* in al, dx              */
    0xA3, LE32(0xC0000000),             /* mov [0xC0000000], eax  */
    0xA1, LE32(0xC0000004),             /* mov eax, [0xC0000004]  */
    0x0F, 0xA2,                         /* cpuid                  */
    0xB9, LE32(MSR),                    /* mov ecx, MSR           */
    0x0F, 0x32,                         /* rdmsr                  */
    0x0F, 0x30,                         /* wrmsr                  */
    0xA1, LE32(GONE),                   /* mov eax, [GONE]        */
    0x0F, 0x01, 0x15, LE32(GDTR),       /* lgdt [GDTR]            */
    0x0F, 0x01, 0x1D, LE32(IDTR),       /* lidt [IDTR]            */
    0xFB,                               /* sti                    */
    0x90,                               /* nop: the window opens after it */
    0x90,                               /* nop: the interrupt returns here */
    0x0F, 0x20, 0xC0,                   /* mov eax, cr0           */
    0x0D, LE32(0x10000),                /* or eax, CR0.WP         */
    0x0F, 0x22, 0xC0,                   /* mov cr0, eax: the kernel's */
    0x0F, 0x20, 0xC0,                   /* mov eax, cr0           */
    0xE7, 0x84,                         /* out 0x84, eax          */
    0xB9, LE32(0xC0000082),             /* mov ecx, LSTAR: not intercepted */
    0x0F, 0x32,                         /* rdmsr                  */
    0xE7, 0x84,                         /* out 0x84, eax          */
    0x89, 0xD0,                         /* mov eax, edx           */
    0xE7, 0x84,                         /* out 0x84, eax          */
    0xB8, LE32(0x2000),                 /* mov eax, 0x2000        */
    0x0F, 0x30,                         /* wrmsr                  */
    0xFA,                               /* cli                    */
    0xF4,                               /* hlt                    */
    /* handler of VECTOR: */
    0xB0, 0x49,                         /* mov al, 'I'            */
    0xE6, 0x80,                         /* out 0x80, al           */
    0xCF,                               /* iret                   */
    /* NMI handler: */
    0xB0, 0x4E,                         /* mov al, 'N'            */
    0xE6, 0x80,                         /* out 0x80, al           */
    0xCF,                               /* iret                   */
};
#define HANDLER (ENTRY + sizeof(guest) - 10)
#define NMI_HANDLER (ENTRY + sizeof(guest) - 5)
#define AFTER_HLT (HANDLER)

static int64_t run(copra_handle_t vcpu)
{
    struct copra_wait_item w = { .handle = vcpu };
    int64_t r = coco_wait(&w, 1, COPRA_WAIT_FOREVER);
    return r == 1 && w.ready ? (int64_t)w.value : r;
}

/* The GDT (null, flat code 0x08, flat data 0x10), its IDT gate for VECTOR
 * (32-bit interrupt gate, DPL 0) and both pseudo-descriptors. */
static void guest_tables(uint8_t *ram)
{
    uint64_t *gdt = (uint64_t *)(ram + (GDT - BASE)), *idt = (uint64_t *)(ram + (IDT - BASE));
    gdt[1] = 0x00CF9A000000FFFFull;
    gdt[2] = 0x00CF92000000FFFFull;
    static const uint32_t gate[][2] = { { VECTOR, HANDLER }, { 2, NMI_HANDLER } };
    for (unsigned i = 0; i < 2; i++)
        idt[gate[i][0]] = (uint64_t)(gate[i][1] & 0xFFFF) | 0x08ull << 16 | 0x8E00ull << 32 |
                          (uint64_t)(gate[i][1] >> 16) << 48;
    uint8_t *p = ram + (GDTR - BASE);
    p[0] = 0x17, p[1] = 0, memcpy(p + 2, &(uint32_t){ GDT }, 4);
    p = ram + (IDTR - BASE);
    p[0] = 0xFF, p[1] = 0x07, memcpy(p + 2, &(uint32_t){ IDT }, 4);
}

static uint64_t state(copra_handle_t vcpu, unsigned id)
{
    uint64_t v = 0xDEAD;
    return coco_vcpu_get_state(vcpu, id, &v) == 0 ? v : 0xDEAD;
}

/* tdx: the TD has NUM_L2_VMS = 3 (the model's), one VM is live: two more,
 * then the platform's slots are full; a closed VM gives its slot back. */
static void check_vm_limit(copra_handle_t vmctl)
{
    int64_t vm2 = coco_vm_create(vmctl), vm3 = coco_vm_create(vmctl);
    CHECK("tdx: VMs 2 and 3", vm2 > 0 && vm3 > 0);
    CHECK_EQUAL("tdx: a fourth VM: no L2 VM left", coco_vm_create(vmctl), COPRA_EFULL);
    CHECK_EQUAL("tdx: close VM 3", coco_close((copra_handle_t)vm3), 0);
    int64_t again = coco_vm_create(vmctl);
    CHECK("tdx: its slot is free again", again > 0);
    coco_close((copra_handle_t)again);
    coco_close((copra_handle_t)vm2);
}

/* SET_MEM_STATE on this platform (tdx: MapGPA, the shared alias, accept).
 * The content is checked through a process mapping: under the model a
 * shared page has no private alias, so a kernel that zeroed it or a PTE
 * without the shared bit would stop the run (status 123).  Objects closed
 * while shared give their pages back private: the next objects, which
 * the kernel zeroes through its own (private) mapping, get them again. */
static void check_mem_state(copra_handle_t vm, copra_handle_t vmctl)
{
    uint32_t rw = COPRA_PROT_READ | COPRA_PROT_WRITE;
    int64_t m = coco_mem_create(4);
    copra_handle_t h = (copra_handle_t)m;
    CHECK_EQUAL("SET_MEM_STATE: pages 1-2 shared", coco_set_mem_state(h, 4096, 2 * 4096, COPRA_MEM_SHARED), 0);
    uint8_t *p = (uint8_t *)coco_mmap(h, NULL, 4 * 4096, rw, 0);
    memset(p, 0x5A, 4 * 4096);
    CHECK("the process reads back what it wrote, private and shared",
          p[0] == 0x5A && p[4096] == 0x5A && p[3 * 4096 - 1] == 0x5A && p[4 * 4096 - 1] == 0x5A);
    coco_munmap(p, 4 * 4096);
    CHECK_EQUAL("private again", coco_set_mem_state(h, 4096, 2 * 4096, COPRA_MEM_PRIVATE), 0);
    p = (uint8_t *)coco_mmap(h, NULL, 4 * 4096, rw, 0);
    CHECK("the converted pages read zero, the others kept their bytes",
          p[4096] == 0 && p[3 * 4096 - 1] == 0 && p[0] == 0x5A && p[4 * 4096 - 1] == 0x5A);
    coco_munmap(p, 4 * 4096);
    CHECK_EQUAL("all four shared", coco_set_mem_state(h, 0, 4 * 4096, COPRA_MEM_SHARED), 0);
    coco_close(h);
    for (unsigned i = 0; i < 8; i++) {
        int64_t again = coco_mem_create(4);
        p = (uint8_t *)coco_mmap((copra_handle_t)again, NULL, 4 * 4096, rw, 0);
        CHECK("a new object after a shared one died: zeroed, usable", again > 0 && p[0] == 0 && p[4 * 4096 - 1] == 0);
        coco_munmap(p, 4 * 4096);
        coco_close((copra_handle_t)again);
    }
    int64_t g = coco_guest_mem(vmctl, 0x240000, 1);
    CHECK_EQUAL("a guest-pool page shared", coco_set_mem_state((copra_handle_t)g, 0, 4096, COPRA_MEM_SHARED), 0);
    CHECK_EQUAL("VM_MAP of it -> EPERM", coco_vm_map(vm, (copra_handle_t)g, 0x240000, 0, 4096, COPRA_GUEST_R), COPRA_EPERM);
    coco_close((copra_handle_t)g);
    g = coco_guest_mem(vmctl, 0x240000, 1);
    CHECK_EQUAL("the pool took it back private: VM_MAP works",
                coco_vm_map(vm, (copra_handle_t)g, 0x240000, 0, 4096, COPRA_GUEST_R), 0);
    CHECK_EQUAL("unmap it", coco_vm_map(vm, COPRA_HANDLE_NONE, 0x240000, 0, 4096, 0), 0);
    coco_close((copra_handle_t)g);
}

int main(int argc, char **argv)
{
    bool tdx = argc > 1 && !strcmp(argv[1], "tdx");
    copra_handle_t vmctl = coco_handle(COCO_INIT_VMCTL);
    int64_t vm = coco_vm_create(vmctl);
    if (!CHECK("VM_CREATE", vm > 0))
        return coco_test_finish();
    int64_t mem = coco_guest_mem(vmctl, BASE, PAGES), gone = coco_guest_mem(vmctl, GONE, 1);
    CHECK("GUEST_MEM: RAM and one more page", mem > 0 && gone > 0);
    uint32_t rwx = COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X;
    CHECK_EQUAL("VM_MAP the RAM at its own address",
                coco_vm_map((copra_handle_t)vm, (copra_handle_t)mem, BASE, 0, PAGES * 4096, rwx), 0);
    CHECK_EQUAL("VM_MAP the other page", coco_vm_map((copra_handle_t)vm, (copra_handle_t)gone, GONE, 0, 4096, rwx), 0);
    /* Every platform makes a mapping readable (tdx: the module refuses W without R). */
    int64_t wonly = coco_guest_mem(vmctl, 0x230000, 1);
    CHECK_EQUAL("VM_MAP of a write-only page", coco_vm_map((copra_handle_t)vm, (copra_handle_t)wonly, 0x230000, 0,
                                                            4096, COPRA_GUEST_W), 0);
    CHECK_EQUAL("VM_MAP unmap it", coco_vm_map((copra_handle_t)vm, COPRA_HANDLE_NONE, 0x230000, 0, 4096, 0), 0);
    coco_close((copra_handle_t)wonly);
    check_mem_state((copra_handle_t)vm, vmctl);
    if (tdx) {
        int64_t heap = coco_mem_create(1);
        CHECK_EQUAL("tdx: VM_MAP of a page not at its own address refused",
                    coco_vm_map((copra_handle_t)vm, (copra_handle_t)heap, 0x300000, 0, 4096, rwx), COPRA_EINVAL);
        coco_close((copra_handle_t)heap);
        check_vm_limit(vmctl);
    }
    uint8_t *ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, PAGES * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    memcpy(ram + (ENTRY - BASE), guest, sizeof(guest));
    guest_tables(ram);

    int64_t vcpu = coco_vcpu_create((copra_handle_t)vm, 0, 0);
    CHECK("VCPU_CREATE", vcpu > 0);
    copra_handle_t h = (copra_handle_t)vcpu;
    if (tdx) {   /* one L2 VMCS per VM and CPU (abi/README.md VCPU_CREATE) */
        CHECK_EQUAL("tdx: a second VCPU of the VM on CPU 0 refused", coco_vcpu_create((copra_handle_t)vm, 1, 0),
                    COPRA_ENOMEM);
    }
    int64_t irq = coco_irq_create(h);
    CHECK("IRQ_CREATE", irq > 0);
    struct copra_run_page *rp = (struct copra_run_page *)coco_mmap(h, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    CHECK("MMAP the run page", (int64_t)rp > 0);

    /* The initial state (abi/README.md), read back through the backend. */
    CHECK_EQUAL("GET_STATE CR0 is PE|ET", state(h, COPRA_STATE_CR0), 0x11);
    CHECK_EQUAL("GET_STATE CR4 is 0", state(h, COPRA_STATE_CR4), 0);
    CHECK_EQUAL("GET_STATE RFLAGS is 2", state(h, COPRA_STATE_RFLAGS), 2);
    CHECK_EQUAL("GET_STATE CS attributes", state(h, COPRA_STATE_SEG(COPRA_CS, COPRA_SEG_ATTR)), 0xC9B);
    CHECK_EQUAL("GET_STATE SS limit", state(h, COPRA_STATE_SEG(COPRA_SS, COPRA_SEG_LIMIT)), 0xFFFFFFFF);
    CHECK_EQUAL("GET_STATE TR: a 32-bit TSS", state(h, COPRA_STATE_SEG(COPRA_TR, COPRA_SEG_ATTR)) & ~2ull, 0x89);
    CHECK_EQUAL("SET_STATE GS base", coco_vcpu_set_state(h, COPRA_STATE_SEG(COPRA_GS, COPRA_SEG_BASE), 0x1234000), 0);
    CHECK_EQUAL("GET_STATE GS base", state(h, COPRA_STATE_SEG(COPRA_GS, COPRA_SEG_BASE)), 0x1234000);
    CHECK_EQUAL("SET_STATE LSTAR", coco_vcpu_set_state(h, COPRA_STATE_LSTAR, 0xFFFF800000001000ull), 0);
    CHECK_EQUAL("GET_STATE LSTAR", state(h, COPRA_STATE_LSTAR), 0xFFFF800000001000ull);
    CHECK_EQUAL("SET_STATE RIP", coco_vcpu_set_state(h, COPRA_STATE_RIP, ENTRY), 0);
    CHECK_EQUAL("SET_STATE RSP", coco_vcpu_set_state(h, COPRA_RSP, BASE + PAGES * 4096), 0);

    CHECK_EQUAL("exit 1: IO", run(h), COPRA_EXIT_IO);
    CHECK("OUT 0x3f8 'A'", rp->io.port == 0x3f8 && rp->io.size == 1 && !rp->io.in && rp->io.data == 'A');
    CHECK_EQUAL("exit 2: IO", run(h), COPRA_EXIT_IO);
    CHECK("IN 0x3f8", rp->io.port == 0x3f8 && rp->io.in && rp->io.size == 1);
    rp->io.data = 0x5A;
    CHECK_EQUAL("exit 3: MMIO", run(h), COPRA_EXIT_MMIO);
    CHECK("store decoded", rp->mmio.gpa == 0xC0000000 && rp->mmio.write && rp->mmio.size == 4 &&
                           rp->mmio.decoded && (rp->mmio.data & 0xff) == 0x5A);
    CHECK_EQUAL("exit 4: MMIO", run(h), COPRA_EXIT_MMIO);
    CHECK("load decoded", rp->mmio.gpa == 0xC0000004 && !rp->mmio.write && rp->mmio.size == 4);
    rp->mmio.data = 0x12345678;
    CHECK_EQUAL("exit 5: CPUID", run(h), COPRA_EXIT_CPUID);
    CHECK_EQUAL("CPUID leaf = the MMIO value", rp->cpuid.leaf, 0x12345678);
    rp->regs.rip += 2;
    rp->dirty = COPRA_DIRTY_RIP;
    CHECK_EQUAL("exit 6: RDMSR", run(h), COPRA_EXIT_MSR_READ);
    CHECK_EQUAL("RDMSR index", rp->msr.index, MSR);
    rp->regs.gpr[COPRA_RAX] = 0x11223344;
    rp->regs.gpr[COPRA_RDX] = 0x55667788;
    rp->regs.rip += 2;
    rp->dirty = COPRA_DIRTY_GPRS | COPRA_DIRTY_RIP;
    CHECK_EQUAL("exit 7: WRMSR", run(h), COPRA_EXIT_MSR_WRITE);
    CHECK("WRMSR of what RDMSR gave", rp->msr.index == MSR && rp->msr.value == 0x5566778811223344ull);
    /* Unmapped while the VCPU is out: its next access faults to the VMM. */
    CHECK_EQUAL("VM_MAP unmap the other page", coco_vm_map((copra_handle_t)vm, COPRA_HANDLE_NONE, GONE, 0, 4096, 0), 0);
    rp->regs.rip += 2;
    rp->dirty = COPRA_DIRTY_RIP;
    CHECK_EQUAL("exit 8: MMIO on the unmapped page", run(h), COPRA_EXIT_MMIO);
    CHECK("load from it decoded", rp->mmio.gpa == GONE && !rp->mmio.write && rp->mmio.size == 4);
    rp->mmio.data = 0;
    /* Queued while IF=0: the kernel asks for the window, then injects. */
    CHECK_EQUAL("IRQ_INJECT", coco_irq_inject((copra_handle_t)irq, VECTOR), 0);
    CHECK_EQUAL("exit 9: IO from the interrupt handler", run(h), COPRA_EXIT_IO);
    CHECK("OUT 0x80 'I'", rp->io.port == 0x80 && !rp->io.in && rp->io.data == 'I');
    CHECK("an interrupt-window exit came first", rp->kind_exits[COPRA_KIND_WINDOW] >= 1);
    /* MOV to CR0 (WP) is checked and done by the kernel; the guest reads it back. */
    CHECK_EQUAL("exit 10: IO with CR0 as the guest reads it", run(h), COPRA_EXIT_IO);
    CHECK("OUT 0x84 CR0 = PE|ET|WP", rp->io.port == 0x84 && rp->io.size == 4 && rp->io.data == 0x10011);
    CHECK_EQUAL("GET_STATE CR0 after the guest's write", state(h, COPRA_STATE_CR0), 0x10011);
    CHECK("the CR0 write exited", rp->kind_exits[COPRA_KIND_CR] >= 1);
    /* An NMI, delivered whatever IF says. */
    CHECK_EQUAL("IRQ_INJECT NMI", coco_irq_inject((copra_handle_t)irq, COPRA_IRQ_NMI), 0);
    CHECK_EQUAL("exit 11: IO from the NMI handler", run(h), COPRA_EXIT_IO);
    CHECK("OUT 0x80 'N'", rp->io.port == 0x80 && !rp->io.in && rp->io.data == 'N');
    /* The guest's LSTAR is in the CPU while it runs (tdx: Copra swaps it,
     * the TDX module does not), the kernel's own is back after the exit. */
    CHECK_EQUAL("exit 12: IO", run(h), COPRA_EXIT_IO);
    CHECK_EQUAL("RDMSR LSTAR in the guest: low half", rp->io.data, 0x1000);
    CHECK_EQUAL("exit 13: IO", run(h), COPRA_EXIT_IO);
    CHECK_EQUAL("RDMSR LSTAR in the guest: high half", rp->io.data, 0xFFFF8000);
    CHECK_EQUAL("exit 14: HLT with IF=0", run(h), COPRA_EXIT_HLT);
    CHECK_EQUAL("GET_STATE LSTAR: the guest's WRMSR", state(h, COPRA_STATE_LSTAR), 0xFFFF800000002000ull);
    CHECK("the kernel's syscalls still work", coco_cpu_current() >= 0);
    CHECK_EQUAL("RIP past the HLT", rp->regs.rip, AFTER_HLT);
    CHECK("IF=0 after the CLI", !(rp->regs.rflags & (1u << 9)));
    coco_printf("exits %lu, to user %lu (IO %lu, NPF %lu, CPUID %lu, MSR %lu, HLT %lu, window %lu, CR %lu, intr %lu)\n",
                (unsigned long)rp->exits, (unsigned long)rp->user_exits, (unsigned long)rp->kind_exits[COPRA_KIND_IO],
                (unsigned long)rp->kind_exits[COPRA_KIND_NPF], (unsigned long)rp->kind_exits[COPRA_KIND_CPUID],
                (unsigned long)rp->kind_exits[COPRA_KIND_MSR], (unsigned long)rp->kind_exits[COPRA_KIND_HLT],
                (unsigned long)rp->kind_exits[COPRA_KIND_WINDOW], (unsigned long)rp->kind_exits[COPRA_KIND_CR],
                (unsigned long)rp->kind_exits[COPRA_KIND_INTR]);
    coco_close((copra_handle_t)irq);
    coco_close(h);
    coco_close((copra_handle_t)vm);
    if (tdx) {   /* the VM's slot came back when it died (its pages revoked first) */
        int64_t vms[3];
        for (unsigned i = 0; i < 3; i++)
            vms[i] = coco_vm_create(vmctl);
        CHECK("tdx: three VMs after the first one died", vms[0] > 0 && vms[1] > 0 && vms[2] > 0);
    }
    return coco_test_finish();
}
