/* SPDX-License-Identifier: MIT */
/* One typed stub per VM syscall (coco/vm.h). */
#include <coco/syscall.h>
#include <coco/vm.h>

int64_t coco_vm_create(copra_handle_t vmctl)
{
    return coco_syscall6(COPRA_SYS_VM_CREATE, vmctl, 0, 0, 0, 0, 0);
}

int coco_vm_map(copra_handle_t vm, copra_handle_t mem, uint64_t gpa, uint64_t offset,
                uint64_t len, uint32_t prot)
{
    return (int)coco_syscall6(COPRA_SYS_VM_MAP, vm, mem, gpa, offset, len, prot);
}

int64_t coco_vcpu_create(copra_handle_t vm, unsigned index, uint64_t cpu)
{
    return coco_syscall6(COPRA_SYS_VCPU_CREATE, vm, index, cpu, 0, 0, 0);
}

int coco_vcpu_get_state(copra_handle_t vcpu, unsigned id, uint64_t *value)
{
    return (int)coco_syscall6(COPRA_SYS_VCPU_GET_STATE, vcpu, id,
                              (uint64_t)(uintptr_t)value, 0, 0, 0);
}

int coco_vcpu_set_state(copra_handle_t vcpu, unsigned id, uint64_t value)
{
    return (int)coco_syscall6(COPRA_SYS_VCPU_SET_STATE, vcpu, id, value, 0, 0, 0);
}

int coco_vcpu_kick(copra_handle_t vcpu)
{
    return (int)coco_syscall6(COPRA_SYS_VCPU_KICK, vcpu, 0, 0, 0, 0, 0);
}

int64_t coco_irq_create(copra_handle_t vcpu)
{
    return coco_syscall6(COPRA_SYS_IRQ_CREATE, vcpu, 0, 0, 0, 0, 0);
}

int coco_irq_inject(copra_handle_t irq, unsigned vector)
{
    return (int)coco_syscall6(COPRA_SYS_IRQ_INJECT, irq, vector, 0, 0, 0, 0);
}

int64_t coco_guest_mem(copra_handle_t vmctl, uint64_t gpa, uint64_t pages)
{
    return coco_syscall6(COPRA_SYS_GUEST_MEM, vmctl, gpa, pages, 0, 0, 0);
}

int coco_set_mem_state(copra_handle_t mem, uint64_t offset, uint64_t len, unsigned state)
{
    return (int)coco_syscall6(COPRA_SYS_SET_MEM_STATE, mem, offset, len, state, 0, 0);
}

int coco_irq_timer(copra_handle_t irq, copra_handle_t timer, unsigned vector)
{
    return (int)coco_syscall6(COPRA_SYS_IRQ_TIMER, irq, timer, vector, 0, 0, 0);
}

int64_t coco_mmio_event(copra_handle_t vm, uint64_t gpa, uint64_t len)
{
    return coco_syscall6(COPRA_SYS_MMIO_EVENT, vm, gpa, len, 0, 0, 0);
}

int64_t coco_ioio_event(copra_handle_t vm, uint16_t port, uint32_t count)
{
    return coco_syscall6(COPRA_SYS_IOIO_EVENT, vm, port, count, 0, 0, 0);
}
