/* SPDX-License-Identifier: MIT */
/*
 * The split that Copra exists for, at the syscall level: this process is
 * the VMM; it creates an IOIO range (ports 0x3f8-0x3ff) and an MMIO range
 * (0xC0000000, one page) and moves them with EXEC to a device-model process
 * ("devsplit dm").  The guest's port and MMIO accesses must then never reach
 * the VMM, and their results must come from the device model.  Then the
 * containment case: a device model that crashes on its first request
 * ("devsplit dm-crash") gives the VMM COPRA_EXIT_DEVICE_GONE, the guest
 * reads all-ones, the kernel lives, and a fresh model with fresh ranges
 * serves the guest again.  The device model, holding no VM-creation
 * capability, cannot create a VM of its own (VM_CREATE: EBADH, ETYPE).
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

#define ENTRY 0x1000
#define RESULT 0x2000   /* the guest stores what it read here */

static const uint8_t guest[] = {
    0x66, 0xBA, 0xF8, 0x03,             /* mov dx, 0x3f8                 */
    0xB0, 0x41,                         /* mov al, 'A'                   */
    0xEE,                               /* out dx, al     (device model) */
    0xEC,                               /* in al, dx      (device model) */
    0xA2, 0x00, 0x20, 0x00, 0x00,       /* mov [0x2000], al              */
    0xA3, 0x00, 0x00, 0x00, 0xC0,       /* mov [0xC0000000], eax (dm)    */
    0xA1, 0x04, 0x00, 0x00, 0xC0,       /* mov eax, [0xC0000004] (dm)    */
    0xA3, 0x04, 0x20, 0x00, 0x00,       /* mov [0x2004], eax             */
    0x83, 0x0D, 0x08, 0x00, 0x00, 0xC0, 0x01, /* or dword [0xC0000008], 1 (read + write) */
    0x0F, 0xA2,                         /* cpuid          (VMM)          */
    0xFA, 0xF4,                         /* cli; hlt       (VMM)          */
};

/* ---- the device model ---- */

static int device_model(bool crash)
{
    if (coco_handle_count() != 2)
        return 10;
    copra_handle_t io = coco_handle(0), mmio = coco_handle(1);
    struct copra_io_area *a[2];
    a[0] = (struct copra_io_area *)coco_mmap(io, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    a[1] = (struct copra_io_area *)coco_mmap(mmio, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if ((int64_t)a[0] < 0 || (int64_t)a[1] < 0)
        return 11;
    uint32_t regs[4] = { 0, 0x12345678, 0x100, 0 };
    /* A malformed completion first: the kernel refuses it, and lives. */
    a[0]->slot[5].state = COPRA_IO_DONE;
    a[0]->slot[6].state = 77;
    if (!crash && coco_signal(io) != COPRA_EINVAL)
        return 14;
    /* Nor can it make a VM of its own: it was given no VM-creation capability. */
    if (!crash && (coco_vm_create(io) != COPRA_ETYPE || coco_vm_create(COPRA_HANDLE_NONE) != COPRA_EBADH ||
                   coco_vm_create(0x10002) != COPRA_EBADH))
        return 15;
    for (;;) {
        struct copra_wait_item w[2] = { { .handle = io }, { .handle = mmio } };
        if (coco_wait(w, 2, COPRA_WAIT_FOREVER) < 0)
            return 12;
        if (crash)
            *(volatile int *)0 = 1;   /* dies holding a request */
        for (int r = 0; r < 2; r++) {
            if (!w[r].ready)
                continue;
            for (unsigned i = 0; i < COPRA_VCPUS_MAX; i++) {
                struct copra_io_slot *s = &a[r]->slot[i];
                if (s->state != COPRA_IO_REQUEST)
                    continue;
                if (r == 0) {
                    if (!s->write)
                        s->data = 0x5A;
                    else if (s->data != 'A')
                        return 13;
                } else {
                    unsigned reg = (unsigned)(s->addr - 0xC0000000u) / 4 % 4;
                    if (s->write)
                        regs[reg] = (uint32_t)s->data;
                    else
                        s->data = regs[reg];
                }
                s->state = COPRA_IO_DONE;
            }
            coco_signal(r == 0 ? io : mmio);
        }
        if (regs[2] == 0x101)   /* the guest's OR went through: all done */
            return 0;
    }
}

/* ---- the VMM ---- */

struct vmm {
    copra_handle_t vm, vcpu;
    struct copra_run_page *run;
    uint8_t *ram;
};

static int64_t start_model(struct vmm *m, const char *mode, copra_handle_t *ranges)
{
    int64_t io = coco_ioio_event(m->vm, 0x3f8, 8);
    int64_t mmio = coco_mmio_event(m->vm, 0xC0000000ull, 4096);
    if (io < 0 || mmio < 0)
        return io < 0 ? io : mmio;
    ranges[0] = (copra_handle_t)io;
    ranges[1] = (copra_handle_t)mmio;
    const char *argv[] = { "devsplit", mode };
    return coco_spawn("devsplit", 2, argv, ranges, 2);
}

static int64_t run(struct vmm *m)
{
    struct copra_wait_item w = { .handle = m->vcpu };
    int64_t r = coco_wait(&w, 1, COPRA_WAIT_FOREVER);
    return r == 1 && w.ready ? (int64_t)w.value : r;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "dm"))
        return device_model(false);
    if (argc >= 2 && !strcmp(argv[1], "dm-crash"))
        return device_model(true);

    struct vmm m;
    m.vm = (copra_handle_t)coco_vm_create(coco_handle(COCO_INIT_VMCTL));
    int64_t mem = coco_mem_create(16);
    coco_vm_map(m.vm, (copra_handle_t)mem, 0, 0, 16 * 4096, COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X);
    m.ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, 16 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    memcpy(m.ram + ENTRY, guest, sizeof(guest));
    m.vcpu = (copra_handle_t)coco_vcpu_create(m.vm, 0, 0);
    m.run = (struct copra_run_page *)coco_mmap(m.vcpu, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    coco_vcpu_set_state(m.vcpu, COPRA_STATE_RIP, ENTRY);

    copra_handle_t ranges[2];
    int64_t probe = coco_ioio_event(m.vm, 0x3f8, 8);
    CHECK("overlapping IOIO range refused", probe > 0 && coco_ioio_event(m.vm, 0x3fc, 1) == COPRA_EEXIST);
    CHECK("closing a range frees its ports", coco_close((copra_handle_t)probe) == 0 &&
                                             (probe = coco_ioio_event(m.vm, 0x3fc, 1)) > 0);
    coco_close((copra_handle_t)probe);
    CHECK("bad ranges refused", coco_ioio_event(m.vm, 0xffff, 2) == COPRA_EINVAL &&
                                coco_mmio_event(m.vm, 0, 0) == COPRA_EINVAL);

    /* 1. A crashing device model. */
    int64_t dm = start_model(&m, "dm-crash", ranges);
    CHECK("device model started (crashing kind)", dm > 0);
    int64_t r = run(&m);
    CHECK("VMM told the device model is gone", r == COPRA_EXIT_DEVICE_GONE);
    int64_t status = -1;
    coco_wait_process((copra_handle_t)dm, &status);
    CHECK("the device model was killed by its fault", status == 0x10e);
    coco_close((copra_handle_t)dm);

    /* 2. Restart with fresh ranges, from the start of the program. */
    memset(m.ram + RESULT, 0, 16);
    coco_vcpu_set_state(m.vcpu, COPRA_STATE_RIP, ENTRY);
    dm = start_model(&m, "dm", ranges);
    CHECK("fresh ranges for the restarted model", dm > 0);
    r = run(&m);
    if (!CHECK("only CPUID reaches the VMM", r == COPRA_EXIT_CPUID))
        coco_printf("  got %ld, rip %lx, port %x\n", (long)r, (unsigned long)m.run->regs.rip, m.run->io.port);
    CHECK("IN came from the device model", m.ram[RESULT] == 0x5A);
    CHECK("MMIO read came from the device model", *(uint32_t *)(m.ram + RESULT + 4) == 0x12345678);
    m.run->regs.rip += 2;
    m.run->dirty = COPRA_DIRTY_RIP;
    r = run(&m);
    CHECK("then HLT", r == COPRA_EXIT_HLT);
    coco_wait_process((copra_handle_t)dm, &status);
    CHECK("the device model saw the read-modify-write and finished", status == 0);
    coco_printf("exits %lu, to the VMM %lu\n", (unsigned long)m.run->exits, (unsigned long)m.run->user_exits);
    return coco_test_finish();
}
