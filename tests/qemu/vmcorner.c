/* SPDX-License-Identifier: MIT */
/*
 * Two corners of a VM's life (issue 13, item 9):
 *   - memory unmapped from a VM is freed while the VM lives, once no VCPU
 *     can reach it any more: map, unmap and close a memory object many
 *     times, with a VCPU idle between its runs and with one running a guest
 *     that reads the range all the while, and the free-page count returns
 *     to its baseline before the VM is closed;
 *   - a thread inside a VCPU WAIT stays on the VCPU's CPU: THREAD_SET_CPU on
 *     it is COPRA_EBUSY while the guest is parked in `sti; hlt`, the wait
 *     ends on the VCPU's CPU, and afterwards the thread can be moved again;
 *   - (ABI 9) the virtual-APIC page (MMAP of an IRQ handle) and IRQ_TIMER:
 *     a posted vector wakes a parked VCPU only above the TPR and moves from
 *     IRR to ISR when delivered; a bound TIMER posts by itself; a guest's
 *     xAPIC EOI write completes in the kernel unless its vector is in
 *     eoi_exit; every argument error of IRQ_TIMER;
 *   - (ABI 9) the guest pool (GUEST_MEM): memory at its own physical address,
 *     each page to one owner at a time, zeroed for the next, mapped into one
 *     VM only; every argument error;
 *   - (ABI 9) SET_MEM_STATE: a page changes between private and shared only
 *     while nothing maps it, loses its content doing so, and a shared page
 *     never goes into a VM; every argument error.
 */
#include <coco/coco.h>
#include <coco/test.h>
#include <coco/vm.h>

#define ENTRY  0x1000
#define WINDOW 0x100000   /* the guest-physical range mapped and unmapped */
#define PAGES  4
#define ROUNDS 200

/* 32-bit protected mode, paging off (the VCPU's initial state). */
static const uint8_t reader[] = {
    0xA1, 0x00, 0x00, 0x10, 0x00,       /* 1: mov eax, [WINDOW] (RAM or MMIO) */
    0xE6, 0x80,                         /*    out 0x80, al                    */
    0xEB, 0xF7,                         /*    jmp 1b                          */
};
static const uint8_t halter[] = {
    0xFB, 0xF4,                         /* 1: sti; hlt (parks: nothing pending) */
    0xEB, 0xFC,                         /*    jmp 1b                           */
};

/* Writes the xAPIC EOI register, then leaves through an OUT. */
static const uint8_t eoier[] = {
    0xA3, 0xB0, 0x00, 0xE0, 0xFE,       /* 1: mov [0xFEE000B0], eax           */
    0xE6, 0x80,                         /*    out 0x80, al                    */
    0xEB, 0xF7,                         /*    jmp 1b                          */
};

struct guest {
    copra_handle_t vm, vcpu, stop;
    struct copra_run_page *run;
    unsigned cpu;
    volatile bool quit;
};

static uint64_t free_pages(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.free_pages : 0;
}

static unsigned ncpus(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.ncpus : 1;
}

static int64_t run(struct guest *g)
{
    struct copra_wait_item w = { .handle = g->vcpu };
    int64_t r = coco_wait(&w, 1, COPRA_WAIT_FOREVER);
    return r == 1 && w.ready ? (int64_t)w.value : r;
}

/* A VM with 16 pages of RAM at 0 holding `code`, and VCPU 0 on `cpu`. */
static bool guest_create(struct guest *g, const uint8_t *code, size_t len, unsigned cpu)
{
    g->vm = (copra_handle_t)coco_vm_create(coco_handle(COCO_INIT_VMCTL));
    int64_t mem = coco_mem_create(16);
    if ((int64_t)g->vm <= 0 || mem <= 0 ||
        coco_vm_map(g->vm, (copra_handle_t)mem, 0, 0, 16 * 4096, COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X))
        return false;
    uint8_t *ram = (uint8_t *)coco_mmap((copra_handle_t)mem, NULL, 16 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if ((int64_t)ram <= 0)
        return false;
    memcpy(ram + ENTRY, code, len);
    coco_munmap(ram, 16 * 4096);
    coco_close((copra_handle_t)mem);   /* the VM keeps it */
    g->cpu = cpu;
    g->vcpu = (copra_handle_t)coco_vcpu_create(g->vm, 0, cpu);
    g->run = (struct copra_run_page *)coco_mmap(g->vcpu, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    return (int64_t)g->vcpu > 0 && (int64_t)g->run > 0 && coco_vcpu_set_state(g->vcpu, COPRA_STATE_RIP, ENTRY) == 0;
}

static void guest_destroy(struct guest *g)
{
    coco_munmap(g->run, 4096);
    coco_close(g->vcpu);
    coco_close(g->vm);
}

/* A wait on nothing that can become ready: the caller sleeps. */
static void sleep_ms(copra_handle_t never, unsigned ms)
{
    struct copra_wait_item w = { .handle = never };
    coco_wait(&w, 1, ms * 1000000ull);
}

/* One round: a fresh memory object mapped at WINDOW, the guest run once
 * through its read of it (if `run_guest`), unmapped, closed. */
static bool map_unmap(struct guest *g, bool run_guest)
{
    int64_t mem = coco_mem_create(PAGES);
    bool ok = mem > 0 && coco_vm_map(g->vm, (copra_handle_t)mem, WINDOW, 0, PAGES * 4096, COPRA_GUEST_R) == 0;
    if (ok && run_guest)
        ok = run(g) == COPRA_EXIT_IO;   /* read from RAM, then the OUT */
    ok &= coco_vm_map(g->vm, COPRA_HANDLE_NONE, WINDOW, 0, PAGES * 4096, 0) == 0;
    coco_close((copra_handle_t)mem);
    return ok;
}

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* Serves the reader guest until told to stop: RAM or all-ones MMIO reads. */
static int reader_thread(void *arg)
{
    struct guest *g = arg;
    while (!g->quit) {
        int64_t r = run(g);
        if (r == COPRA_EXIT_MMIO)
            g->run->mmio.data = ~0ull;
        else if (r != COPRA_EXIT_IO && r != COPRA_EXIT_KICK)
            return 1;
    }
    return 0;
}

static void test_retired_mappings(void)
{
    struct guest g = { 0 };
    if (!CHECK("a VM reading the window, VCPU on the last CPU", guest_create(&g, reader, sizeof(reader), ncpus() - 1)))
        return;
    /* The nested page table's pages for the window stay, and a thread's
     * first stack leaves page tables and heap behind: warm up first. */
    int64_t warm = coco_thread_spawn(nothing, NULL, 0, COPRA_CPU_ANY);
    CHECK("warm-up round", map_unmap(&g, true) && warm > 0 && coco_thread_join((copra_handle_t)warm, NULL) == 0);
    uint64_t base = free_pages();

    unsigned ok = 0;
    for (unsigned i = 0; i < ROUNDS; i++)
        ok += map_unmap(&g, true);
    CHECK_EQUAL("map, run the guest reading it, unmap, close: every round", ok, ROUNDS);
    uint64_t after = free_pages();
    if (!CHECK("every unmapped page is free again, the VM still alive", after == base))
        coco_printf("  free pages %lu -> %lu\n", (unsigned long)base, (unsigned long)after);

    /* The same while another thread keeps the guest reading the window. */
    int64_t t = coco_thread_spawn(reader_thread, &g, 0, COPRA_CPU_ANY);
    ok = 0;
    for (unsigned i = 0; i < ROUNDS && t > 0; i++)
        ok += map_unmap(&g, false);
    g.quit = true;
    coco_vcpu_kick(g.vcpu);
    int64_t status = -1;
    CHECK("the guest thread ends", t > 0 && coco_thread_join((copra_handle_t)t, &status) == 0 && status == 0);
    CHECK_EQUAL("rounds under a running guest", ok, ROUNDS);
    /* Any VM_MAP call frees what no VCPU can reach; this one fails. */
    CHECK_EQUAL("unmapping what is not mapped -> EINVAL",
                coco_vm_map(g.vm, COPRA_HANDLE_NONE, WINDOW, 0, PAGES * 4096, 0), COPRA_EINVAL);
    after = free_pages();
    if (!CHECK("and after it every page is free again", after == base))
        coco_printf("  free pages %lu -> %lu\n", (unsigned long)base, (unsigned long)after);
    guest_destroy(&g);
}

/* Runs the halting guest: the wait parks, returns on a kick; then the
 * thread waits for `stop` outside any VCPU wait. */
static int halter_thread(void *arg)
{
    struct guest *g = arg;
    int64_t r = run(g);
    g->quit = true;
    struct copra_wait_item w = { .handle = g->stop };
    coco_wait(&w, 1, COPRA_WAIT_FOREVER);
    return r == COPRA_EXIT_KICK ? 0 : 1;
}

static void test_set_cpu_in_vcpu_wait(void)
{
    struct guest g = { 0 };
    unsigned n = ncpus(), other = 0;
    g.stop = (copra_handle_t)coco_event_create(0);
    if (!CHECK("a VM parking in `sti; hlt`, VCPU on the last CPU", guest_create(&g, halter, sizeof(halter), n - 1)))
        return;
    int64_t t = coco_thread_spawn(halter_thread, &g, 0, other);
    uint64_t v;
    /* Parked: the HLT exit counted, the VCPU still held by the thread. */
    for (unsigned i = 0; i < 5000 && t > 0 &&
                         (g.run->exits == 0 || coco_vcpu_get_state(g.vcpu, COPRA_STATE_RIP, &v) != COPRA_EBUSY); i++)
        sleep_ms(g.stop, 1);
    CHECK("the guest parked in HLT", t > 0 && g.run->exits > 0);
    CHECK_EQUAL("THREAD_SET_CPU on a thread in a VCPU wait -> EBUSY (to the VCPU's CPU)",
                coco_thread_set_cpu((copra_handle_t)t, n - 1), COPRA_EBUSY);
    CHECK_EQUAL("THREAD_SET_CPU on a thread in a VCPU wait -> EBUSY (to another CPU)",
                coco_thread_set_cpu((copra_handle_t)t, other), COPRA_EBUSY);
    CHECK_EQUAL("VCPU_KICK wakes it", coco_vcpu_kick(g.vcpu), 0);
    for (unsigned i = 0; i < 5000 && !g.quit; i++)
        sleep_ms(g.stop, 1);
    CHECK_EQUAL("the wait ended on the VCPU's CPU", g.run->cpu, n - 1);
    CHECK_EQUAL("out of the wait, THREAD_SET_CPU works again", coco_thread_set_cpu((copra_handle_t)t, other), 0);
    coco_signal(g.stop);
    int64_t status = -1;
    CHECK("the VCPU wait ended with the kick", coco_thread_join((copra_handle_t)t, &status) == 0 && status == 0);
    coco_close(g.stop);
    guest_destroy(&g);
}

static int64_t run_for(struct guest *g, uint64_t ms)
{
    struct copra_wait_item w = { .handle = g->vcpu };
    int64_t r = coco_wait(&w, 1, ms * 1000000ull);
    return r == 1 && w.ready ? (int64_t)w.value : r;
}

static bool bit(const uint64_t *map, unsigned v) { return (map[v / 64] >> (v % 64)) & 1; }

static struct copra_vapic_page *vapic_of(struct guest *g, copra_handle_t *irq)
{
    *irq = (copra_handle_t)coco_irq_create(g->vcpu);
    int64_t a = coco_mmap(*irq, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    return (int64_t)*irq > 0 && a > 0 ? (struct copra_vapic_page *)(uintptr_t)a : NULL;
}

static void test_vapic_delivery(void)
{
    struct guest g = { 0 };
    copra_handle_t irq;
    struct copra_vapic_page *p;
    if (!CHECK("a VM parking in `sti; hlt` with a virtual-APIC page",
               guest_create(&g, halter, sizeof(halter), 0) && (p = vapic_of(&g, &irq)) != NULL))
        return;
    CHECK_EQUAL("MMAP of an IRQ handle with EXEC -> EPERM",
                coco_mmap(irq, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_EXEC, 0), COPRA_EPERM);
    CHECK_EQUAL("parked in HLT", run_for(&g, 20), COPRA_ETIMEOUT);
    p->tpr = 0xF0;
    p->irr[1] = 1ull << (0x40 - 64);
    CHECK_EQUAL("IRQ_INJECT(POSTED)", coco_irq_inject(irq, COPRA_IRQ_POSTED), 0);
    CHECK_EQUAL("a posted vector below the TPR does not wake it", run_for(&g, 20), COPRA_ETIMEOUT);
    CHECK("and stays in IRR", bit(p->irr, 0x40) && !bit(p->isr, 0x40));
    p->tpr = 0;
    coco_irq_inject(irq, COPRA_IRQ_POSTED);
    /* The guest has no IDT worth the name: taking the vector triple-faults. */
    CHECK_EQUAL("above it, the vector is delivered", run_for(&g, 1000), COPRA_EXIT_SHUTDOWN);
    CHECK("moved from IRR to ISR", !bit(p->irr, 0x40) && bit(p->isr, 0x40));
    coco_munmap(p, 4096);
    coco_close(irq);
    guest_destroy(&g);

    /* A TIMER bound with IRQ_TIMER posts its vector without anyone's help. */
    if (!CHECK("another, for IRQ_TIMER", guest_create(&g, halter, sizeof(halter), 0) &&
                                         (p = vapic_of(&g, &irq)) != NULL))
        return;
    int64_t timer = coco_timer_create();
    copra_handle_t t = (copra_handle_t)timer;
    CHECK_EQUAL("IRQ_TIMER(vector 0x0F) -> EINVAL", coco_irq_timer(irq, t, 0x0F), COPRA_EINVAL);
    CHECK_EQUAL("IRQ_TIMER(vector 0x100) -> EINVAL", coco_irq_timer(irq, t, 0x100), COPRA_EINVAL);
    CHECK_EQUAL("IRQ_TIMER(a timer as the IRQ) -> ETYPE", coco_irq_timer(t, t, 0x41), COPRA_ETYPE);
    CHECK_EQUAL("IRQ_TIMER(an IRQ as the timer) -> ETYPE", coco_irq_timer(irq, irq, 0x41), COPRA_ETYPE);
    CHECK_EQUAL("IRQ_TIMER(no such handle) -> EBADH", coco_irq_timer(irq, 0x7FFF, 0x41), COPRA_EBADH);
    int64_t t_wait = coco_dup(t, COPRA_RIGHT_WAIT), irq_map = coco_dup(irq, COPRA_RIGHT_MAP);
    CHECK_EQUAL("IRQ_TIMER(timer without MANAGE) -> ERIGHTS",
                coco_irq_timer(irq, (copra_handle_t)t_wait, 0x41), COPRA_ERIGHTS);
    CHECK_EQUAL("IRQ_TIMER(IRQ without SIGNAL) -> ERIGHTS",
                coco_irq_timer((copra_handle_t)irq_map, t, 0x41), COPRA_ERIGHTS);
    CHECK_EQUAL("IRQ_INJECT(0x103) -> EINVAL", coco_irq_inject(irq, 0x103), COPRA_EINVAL);
    CHECK_EQUAL("parked in HLT", run_for(&g, 20), COPRA_ETIMEOUT);
    CHECK_EQUAL("IRQ_TIMER(vector 0x41), then unbound (0)",
                coco_irq_timer(irq, t, 0x41) | coco_irq_timer(irq, t, 0), 0);
    coco_timer_set(t, (uint64_t)coco_clock() + 1000000, 0);
    CHECK_EQUAL("an unbound timer's expiry does not wake the VCPU", run_for(&g, 20), COPRA_ETIMEOUT);
    CHECK_EQUAL("IRQ_TIMER(vector 0x41)", coco_irq_timer(irq, t, 0x41), 0);
    coco_timer_set(t, (uint64_t)coco_clock() + 1000000, 0);
    CHECK_EQUAL("a bound timer's expiry delivers its vector", run_for(&g, 1000), COPRA_EXIT_SHUTDOWN);
    CHECK("which is in service", bit(p->isr, 0x41) && !bit(p->irr, 0x41));
    coco_close((copra_handle_t)t_wait);
    coco_close((copra_handle_t)irq_map);
    coco_close(irq);
    guest_destroy(&g);   /* the timer still holds the IRQ, and through it the VCPU */
    coco_timer_set(t, (uint64_t)coco_clock() + 1000000, 0);
    sleep_ms(t, 5);
    coco_munmap(p, 4096);
    CHECK_EQUAL("closing the timer last", coco_close(t), 0);
}

static void test_vapic_eoi(void)
{
    struct guest g = { 0 };
    copra_handle_t irq;
    struct copra_vapic_page *p;
    if (!CHECK("a VM writing the xAPIC EOI register",
               guest_create(&g, eoier, sizeof(eoier), 0) && (p = vapic_of(&g, &irq)) != NULL))
        return;
    p->apic_base = 0xFEE00000;
    p->isr[0] = 1ull << 0x30;
    p->isr[1] = 1ull << (0x50 - 64);
    CHECK_EQUAL("the EOI completes in the kernel: the next exit is the OUT", run(&g), COPRA_EXIT_IO);
    CHECK("it ended the highest vector in service", !bit(p->isr, 0x50) && bit(p->isr, 0x30));
    CHECK_EQUAL("counted", p->kernel_eois, 1);
    p->eoi_exit[0] = 1ull << 0x30;
    CHECK_EQUAL("an eoi_exit vector's EOI reaches user space", run(&g), COPRA_EXIT_MMIO);
    CHECK("as the write it is", g.run->mmio.gpa == 0xFEE000B0 && g.run->mmio.write && g.run->mmio.size == 4);
    CHECK("with the vector still in service", bit(p->isr, 0x30) && p->kernel_eois == 1);
    CHECK_EQUAL("then the OUT", run(&g), COPRA_EXIT_IO);
    p->apic_base = 0;
    CHECK_EQUAL("apic_base 0: every EOI reaches user space", run(&g), COPRA_EXIT_MMIO);
    coco_munmap(p, 4096);
    coco_close(irq);
    guest_destroy(&g);
}

static uint64_t pool_free(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 ? info.guest_pool_free_pages : 0;
}

static void test_guest_pool(void)
{
    copra_handle_t ctl = coco_handle(COCO_INIT_VMCTL);
    struct copra_sysinfo info;
    coco_sysinfo(&info, sizeof(info));
    CHECK("a guest pool below the kernel", info.guest_pool_end >= (1ull << 20) && info.guest_pool_free_pages > 256);
    const uint64_t at = 0x200000;
    uint64_t before = pool_free();
    int64_t m = coco_guest_mem(ctl, at, 4);
    CHECK("GUEST_MEM(2 MiB, 4 pages)", m > 0);
    CHECK_EQUAL("the pool has 4 pages less", pool_free(), before - 4);
    CHECK_EQUAL("the same pages again -> EBUSY", coco_guest_mem(ctl, at + 0x3000, 2), COPRA_EBUSY);
    CHECK_EQUAL("the legacy hole (0xA0000, no RAM) -> EBUSY", coco_guest_mem(ctl, 0xA0000, 1), COPRA_EBUSY);
    CHECK_EQUAL("0 pages -> EINVAL", coco_guest_mem(ctl, at, 0), COPRA_EINVAL);
    CHECK_EQUAL("an unaligned address -> EALIGN", coco_guest_mem(ctl, at + 8, 1), COPRA_EALIGN);
    CHECK_EQUAL("past the pool -> ERANGE", coco_guest_mem(ctl, info.guest_pool_end - 4096, 2), COPRA_ERANGE);
    CHECK_EQUAL("far past it -> ERANGE", coco_guest_mem(ctl, ~0ull & ~4095ull, 1), COPRA_ERANGE);
    CHECK_EQUAL("a memory handle for authority -> ETYPE", coco_guest_mem((copra_handle_t)m, at, 1), COPRA_ETYPE);
    CHECK_EQUAL("no such handle -> EBADH", coco_guest_mem(0x7FFF, at, 1), COPRA_EBADH);
    uint8_t *p = (uint8_t *)coco_mmap((copra_handle_t)m, NULL, 4 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    CHECK("mapped, and zero", (int64_t)p > 0 && p[0] == 0 && p[4 * 4096 - 1] == 0);
    if ((int64_t)p > 0) {
        memset(p, 0xA5, 4 * 4096);
        coco_munmap(p, 4 * 4096);
    }
    /* Mapped into one VM only. */
    int64_t a = coco_vm_create(ctl), b = coco_vm_create(ctl);
    CHECK_EQUAL("VM_MAP into a VM at its own address", coco_vm_map((copra_handle_t)a, (copra_handle_t)m, at, 0, 4 * 4096,
                                                              COPRA_GUEST_R | COPRA_GUEST_W), 0);
    CHECK_EQUAL("and into a second VM -> EBUSY", coco_vm_map((copra_handle_t)b, (copra_handle_t)m, at, 0, 4096,
                                                              COPRA_GUEST_R), COPRA_EBUSY);
    coco_close((copra_handle_t)a);
    coco_close((copra_handle_t)b);
    coco_close((copra_handle_t)m);
    CHECK_EQUAL("closed (and unmapped with its VM): back in the pool", pool_free(), before);
    m = coco_guest_mem(ctl, at, 4);
    p = (uint8_t *)coco_mmap((copra_handle_t)m, NULL, 4 * 4096, COPRA_PROT_READ, 0);
    bool zero = (int64_t)p > 0;
    for (unsigned i = 0; zero && i < 4 * 4096; i++)
        zero = p[i] == 0;
    CHECK("claimed again: zeroed, nothing of the last owner's", m > 0 && zero);
    coco_munmap(p, 4 * 4096);
    coco_close((copra_handle_t)m);
    /* Physical page 0 is a pool page like any other (a guest's RAM at 0). */
    before = pool_free();
    m = coco_guest_mem(ctl, 0, 2);
    CHECK("GUEST_MEM at 0", m > 0);
    coco_close((copra_handle_t)m);
    CHECK_EQUAL("closed: page 0 back in the pool too", pool_free(), before);
}

static void test_mem_state(void)
{
    copra_handle_t ctl = coco_handle(COCO_INIT_VMCTL);
    int64_t m = coco_mem_create(4);
    CHECK("a memory object", m > 0);
    copra_handle_t h = (copra_handle_t)m;
    uint8_t *p = (uint8_t *)coco_mmap(h, NULL, 4 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    CHECK("mapped", (int64_t)p > 0);
    p[4096] = 0x5A;
    CHECK_EQUAL("SET_MEM_STATE of a mapped page -> EBUSY", coco_set_mem_state(h, 4096, 4096, COPRA_MEM_SHARED), COPRA_EBUSY);
    coco_munmap(p, 4 * 4096);
    CHECK_EQUAL("unmapped: shared", coco_set_mem_state(h, 4096, 4096, COPRA_MEM_SHARED), 0);
    p = (uint8_t *)coco_mmap(h, NULL, 4 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    CHECK("a shared page maps, and lost its content", (int64_t)p > 0 && p[4096] == 0);
    p[4096] = 0xA5;
    coco_munmap(p, 4 * 4096);
    int64_t vm = coco_vm_create(ctl);
    CHECK_EQUAL("VM_MAP of a shared page -> EPERM",
                coco_vm_map((copra_handle_t)vm, h, 0, 0, 4 * 4096, COPRA_GUEST_R | COPRA_GUEST_W), COPRA_EPERM);
    CHECK_EQUAL("private again", coco_set_mem_state(h, 4096, 4096, COPRA_MEM_PRIVATE), 0);
    CHECK_EQUAL("then VM_MAP works",
                coco_vm_map((copra_handle_t)vm, h, 0, 0, 4 * 4096, COPRA_GUEST_R | COPRA_GUEST_W), 0);
    CHECK_EQUAL("SET_MEM_STATE of a page a VM maps -> EBUSY",
                coco_set_mem_state(h, 0, 4096, COPRA_MEM_SHARED), COPRA_EBUSY);
    p = (uint8_t *)coco_mmap(h, NULL, 4 * 4096, COPRA_PROT_READ, 0);
    CHECK("the shared content did not come back", (int64_t)p > 0 && p[4096] == 0);
    coco_munmap(p, 4 * 4096);
    coco_close((copra_handle_t)vm);
    CHECK_EQUAL("state 2 -> EINVAL", coco_set_mem_state(h, 0, 4096, 2), COPRA_EINVAL);
    CHECK_EQUAL("len 0 -> EINVAL", coco_set_mem_state(h, 0, 0, COPRA_MEM_SHARED), COPRA_EINVAL);
    CHECK_EQUAL("unaligned -> EALIGN", coco_set_mem_state(h, 100, 4096, COPRA_MEM_SHARED), COPRA_EALIGN);
    CHECK_EQUAL("past the object -> ERANGE", coco_set_mem_state(h, 3 * 4096, 2 * 4096, COPRA_MEM_SHARED), COPRA_ERANGE);
    CHECK_EQUAL("huge -> ERANGE", coco_set_mem_state(h, 4096, ~4095ull, COPRA_MEM_SHARED), COPRA_ERANGE);
    int64_t ro = coco_dup(h, COPRA_RIGHT_READ | COPRA_RIGHT_MAP);
    CHECK_EQUAL("without WRITE -> ERIGHTS", coco_set_mem_state((copra_handle_t)ro, 0, 4096, COPRA_MEM_SHARED), COPRA_ERIGHTS);
    CHECK_EQUAL("a VM-creation handle -> ETYPE", coco_set_mem_state(ctl, 0, 4096, COPRA_MEM_SHARED), COPRA_ETYPE);
    coco_close((copra_handle_t)ro);
    coco_close(h);
}

int main(void)
{
    test_retired_mappings();
    test_set_cpu_in_vcpu_wait();
    test_vapic_delivery();
    test_vapic_eoi();
    test_guest_pool();
    test_mem_state();
    return coco_test_finish();
}
