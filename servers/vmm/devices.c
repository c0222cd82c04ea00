/* SPDX-License-Identifier: MIT */
/*
 * Port I/O and MMIO that no device model claims, served by the VMM itself.
 * The UART (COM1) and isa-debug-exit (0xf4) are device-model processes
 * (`device uart`, `device debugexit`: devmodels.c); without them their
 * ports are unclaimed like any other.
 *
 *   0xe9        the Bochs/QEMU debug console: output printed line by line as
 *               "[guest] ..." ("[guest N]" with several VCPUs); reads 0xe9.
 *   0xf0        test interrupt service: OUT v asks for vector v (0x10..0xff,
 *               or 0x100 = NMI) to be injected into the writing VCPU about
 *               1 ms later (IRQ_INJECT from a timer thread).
 *   0x500-0x50f test register bank: 16 bytes; IN returns what OUT wrote,
 *               byte-addressed (an access of size s covers s ports).
 *   0x520       test sequence: IN returns the counter, then adds one; OUT
 *               sets it (checks every INS iteration is its own access).
 *   0x524       test accumulator: OUT adds the value, IN reads the sum.
 *   0x528       IN: number of OUTs to 0x524; OUT: clears sum and count.
 *   other ports reads all-ones, writes ignored; counted.
 *   MMIO 0xC0000000-0xC0000FFF  scratch device: reads return what was written.
 *   other MMIO  reads all-ones, writes ignored; counted.
 * The first few unclaimed accesses are logged, the rest only counted.
 */
#include "vm.h"

#define PORT_TEST_IRQ     0xf0u
#define PORT_DEBUGCON     0xe9u
#define PORT_BANK         0x500u
#define PORT_SEQUENCE     0x520u
#define PORT_SUM          0x524u
#define PORT_SUM_COUNT    0x528u

#define UNCLAIMED_LOG_MAX 8u
#define TEST_IRQ_DELAY_NS 1000000ull

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void serial_putc(struct vmm_vcpu *v, uint8_t c)
{
    if (c == '\n') {
        if (v->line_len == 0)
            v->line[v->line_len++] = ' ';
        vcpu_serial_flush(v);
        return;
    }
    if (c == '\r')
        return;
    if (v->line_len == VMM_SERIAL_LINE_MAX)
        vcpu_serial_flush(v);
    v->line[v->line_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?';
}

static void unclaimed_log(struct vmm_vcpu *v, unsigned *logged, const char *what,
                          uint64_t where, unsigned size, bool write, uint64_t value)
{
    unsigned n = __atomic_fetch_add(logged, 1, __ATOMIC_RELAXED);
    if (n >= UNCLAIMED_LOG_MAX)
        return;
    if (write)
        coco_printf("vmm: vcpu %u: unclaimed %s write 0x%llx, size %u, value 0x%llx: ignored%s\n",
                    v->index, what, (unsigned long long)where, size, (unsigned long long)value,
                    n + 1 == UNCLAIMED_LOG_MAX ? " (further ones only counted)" : "");
    else
        coco_printf("vmm: vcpu %u: unclaimed %s read 0x%llx, size %u: all ones%s\n", v->index,
                    what, (unsigned long long)where, size,
                    n + 1 == UNCLAIMED_LOG_MAX ? " (further ones only counted)" : "");
}

/* ---- The test interrupt service --------------------------------------- */

/* Inject what is due, re-arm the timer for the rest.  Under test_irq_lock. */
static void test_irq_run(struct vmm_vm *vm)
{
    uint64_t now = (uint64_t)coco_clock(), next = 0;

    for (unsigned i = 0; i < vm->ntest_irq;) {
        struct vmm_test_irq *t = &vm->test_irq[i];
        if (t->deadline > now) {
            if (next == 0 || t->deadline < next)
                next = t->deadline;
            i++;
            continue;
        }
        int r = coco_irq_inject(vm->vcpus[t->vcpu].irq, t->vector);
        if (r < 0)
            coco_printf("vmm: test interrupt service: IRQ_INJECT(vcpu %u, 0x%x) failed: %s\n",
                        t->vcpu, t->vector, coco_strerror(r));
        *t = vm->test_irq[--vm->ntest_irq];
    }
    if (next != 0)
        coco_timer_set(vm->test_irq_timer, next, 0);
}

static int test_irq_thread(void *arg)
{
    struct vmm_vm *vm = arg;

    for (;;) {
        struct copra_wait_item items[2] = {
            { .handle = vm->test_irq_timer }, { .handle = vm->test_irq_done },
        };
        if (coco_wait(items, 2, COPRA_WAIT_FOREVER) < 0 || items[1].ready)
            return 0;
        if (items[0].ready) {
            vmm_lock(&vm->test_irq_lock);
            test_irq_run(vm);
            vmm_unlock(&vm->test_irq_lock);
        }
    }
}

static void test_irq_request(struct vmm_vcpu *v, uint64_t value)
{
    struct vmm_vm *vm = v->vm;
    unsigned vector = (unsigned)(value & 0x1ff);

    if (vector != COPRA_IRQ_NMI && (vector < 0x10 || vector > 0xff)) {
        coco_printf("vmm: vcpu %u: test interrupt service: vector 0x%x refused (0x10..0xff or "
                    "0x100 for NMI)\n", v->index, vector);
        return;
    }
    vmm_lock(&vm->test_irq_lock);
    if (vm->ntest_irq < VMM_TEST_IRQ_PENDING) {
        vm->test_irq[vm->ntest_irq++] = (struct vmm_test_irq){
            .vcpu = v->index, .vector = vector,
            .deadline = (uint64_t)coco_clock() + TEST_IRQ_DELAY_NS,
        };
        test_irq_run(vm);
    }
    vmm_unlock(&vm->test_irq_lock);
}

int devices_start(struct vmm_vm *vm)
{
    int64_t r = coco_timer_create();
    if (r < 0)
        goto fail;
    vm->test_irq_timer = (copra_handle_t)r;
    r = coco_event_create(0);
    if (r < 0)
        goto fail;
    vm->test_irq_done = (copra_handle_t)r;
    r = coco_thread_spawn(test_irq_thread, vm, 0, COPRA_CPU_ANY);
    if (r < 0)
        goto fail;
    vm->test_irq_thread = (copra_handle_t)r;
    return 0;
fail:
    coco_printf("vmm: cannot start the test interrupt service: %s\n", coco_strerror(r));
    devices_stop(vm);
    return VMM_STATUS_VM_SETUP;
}

void devices_stop(struct vmm_vm *vm)
{
    if (vm->test_irq_thread != COPRA_HANDLE_NONE) {
        coco_signal(vm->test_irq_done);
        coco_thread_join(vm->test_irq_thread, NULL);
        coco_close(vm->test_irq_thread);
        vm->test_irq_thread = COPRA_HANDLE_NONE;
    }
    if (vm->test_irq_done != COPRA_HANDLE_NONE)
        coco_close(vm->test_irq_done);
    if (vm->test_irq_timer != COPRA_HANDLE_NONE)
        coco_close(vm->test_irq_timer);
    vm->test_irq_done = vm->test_irq_timer = COPRA_HANDLE_NONE;
}

/* ---- Ports ------------------------------------------------------------ */

static uint64_t bank_read(struct vmm_vm *vm, unsigned offset, unsigned size)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t byte = offset + i < sizeof vm->port_bank ? vm->port_bank[offset + i] : 0xff;
        value |= byte << (8 * i);
    }
    return value;
}

static void bank_write(struct vmm_vm *vm, unsigned offset, unsigned size, uint64_t value)
{
    for (unsigned i = 0; i < size && offset + i < sizeof vm->port_bank; i++)
        vm->port_bank[offset + i] = (uint8_t)(value >> (8 * i));
}

uint64_t devices_io_in(struct vmm_vcpu *v, uint16_t port, unsigned size)
{
    struct vmm_vm *vm = v->vm;
    uint64_t mask = size_mask(size), value;

    if (port == PORT_DEBUGCON)
        return PORT_DEBUGCON;
    if (port >= PORT_BANK && port < PORT_BANK + sizeof vm->port_bank) {
        vmm_lock(&vm->devices_lock);
        value = bank_read(vm, port - PORT_BANK, size);
        vmm_unlock(&vm->devices_lock);
        return value;
    }
    if (port == PORT_SEQUENCE) {
        vmm_lock(&vm->devices_lock);
        value = vm->port_sequence++;
        vmm_unlock(&vm->devices_lock);
        return value & mask;
    }
    if (port == PORT_SUM)
        return __atomic_load_n(&vm->port_sum, __ATOMIC_RELAXED) & mask;
    if (port == PORT_SUM_COUNT)
        return __atomic_load_n(&vm->port_sum_count, __ATOMIC_RELAXED) & mask;

    __atomic_add_fetch(&vm->io_unclaimed_reads, 1, __ATOMIC_RELAXED);
    unclaimed_log(v, &vm->io_logged, "port", port, size, false, 0);
    return mask;
}

void devices_io_out(struct vmm_vcpu *v, uint16_t port, unsigned size, uint64_t value)
{
    struct vmm_vm *vm = v->vm;

    value &= size_mask(size);
    if (port == PORT_DEBUGCON) {
        serial_putc(v, (uint8_t)value);
        return;
    }
    if (port == PORT_TEST_IRQ) {
        test_irq_request(v, value);
        return;
    }
    if (port >= PORT_BANK && port < PORT_BANK + sizeof vm->port_bank) {
        vmm_lock(&vm->devices_lock);
        bank_write(vm, port - PORT_BANK, size, value);
        vmm_unlock(&vm->devices_lock);
        return;
    }
    if (port == PORT_SEQUENCE) {
        vmm_lock(&vm->devices_lock);
        vm->port_sequence = value;
        vmm_unlock(&vm->devices_lock);
        return;
    }
    if (port == PORT_SUM) {
        vmm_lock(&vm->devices_lock);
        vm->port_sum += value;
        vm->port_sum_count++;
        vmm_unlock(&vm->devices_lock);
        return;
    }
    if (port == PORT_SUM_COUNT) {
        vmm_lock(&vm->devices_lock);
        vm->port_sum = vm->port_sum_count = 0;
        vmm_unlock(&vm->devices_lock);
        return;
    }
    __atomic_add_fetch(&vm->io_unclaimed_writes, 1, __ATOMIC_RELAXED);
    unclaimed_log(v, &vm->io_logged, "port", port, size, true, value);
}

/* ---- MMIO ------------------------------------------------------------- */

static bool in_scratch(uint64_t gpa, unsigned size)
{
    return gpa >= VMM_MMIO_SCRATCH_GPA && gpa - VMM_MMIO_SCRATCH_GPA < VMM_MMIO_SCRATCH_SIZE &&
           size <= VMM_MMIO_SCRATCH_SIZE - (gpa - VMM_MMIO_SCRATCH_GPA);
}

uint64_t devices_mmio_read(struct vmm_vcpu *v, uint64_t gpa, unsigned size)
{
    struct vmm_vm *vm = v->vm;

    if (size > 8)
        size = 8;
    if (in_scratch(gpa, size)) {
        uint64_t value = 0;
        vmm_lock(&vm->devices_lock);
        memcpy(&value, vm->mmio_scratch + (gpa - VMM_MMIO_SCRATCH_GPA), size);
        vmm_unlock(&vm->devices_lock);
        return value;
    }
    __atomic_add_fetch(&vm->mmio_unclaimed_reads, 1, __ATOMIC_RELAXED);
    unclaimed_log(v, &vm->mmio_logged, "MMIO", gpa, size, false, 0);
    return size_mask(size);
}

void devices_mmio_write(struct vmm_vcpu *v, uint64_t gpa, unsigned size, uint64_t value)
{
    struct vmm_vm *vm = v->vm;

    if (size > 8)
        size = 8;
    if (in_scratch(gpa, size)) {
        vmm_lock(&vm->devices_lock);
        memcpy(vm->mmio_scratch + (gpa - VMM_MMIO_SCRATCH_GPA), &value, size);
        vmm_unlock(&vm->devices_lock);
        return;
    }
    __atomic_add_fetch(&vm->mmio_unclaimed_writes, 1, __ATOMIC_RELAXED);
    unclaimed_log(v, &vm->mmio_logged, "MMIO", gpa, size, true, value & size_mask(size));
}
