/* SPDX-License-Identifier: MIT */
/*
 * Typed stubs for the VM syscalls (abi/copra/vm.h, numbers 22..29 in
 * abi/copra/syscall.h).  Like the stubs in coco/syscall.h, each returns
 * >= 0 on success or a negative enum copra_error.
 *
 * A VCPU's run page is MMAP(vcpu, NULL, COPRA_PAGE_SIZE, READ|WRITE, 0);
 * running the guest is WAIT_FOR_EVENT on the VCPU handle (coco_wait).
 */
#ifndef COCO_VM_H
#define COCO_VM_H

#include <copra/abi.h>

/* VM_CREATE: an empty VM (no memory, no VCPUs); returns its handle.
 * `vmctl` is a VM-creation capability with MANAGE (COPRA_OBJ_VMCTL): the
 * first process's coco_handle(COCO_INIT_VMCTL), or one handed on to it. */
int64_t coco_vm_create(copra_handle_t vmctl);

/* The first process's received handles (abi/README.md). */
#define COCO_INIT_CONSOLE 0u
#define COCO_INIT_VMCTL   1u

/* VM_MAP: map pages [offset, offset + len) of memory object `mem` at
 * guest-physical `gpa` with COPRA_GUEST_* `prot` (all page-aligned);
 * `mem` COPRA_HANDLE_NONE unmaps [gpa, gpa + len).  Unmapped guest-physical
 * addresses are MMIO: accesses exit. */
int coco_vm_map(copra_handle_t vm, copra_handle_t mem, uint64_t gpa, uint64_t offset,
                uint64_t len, uint32_t prot);

/* VCPU_CREATE: VCPU number `index` (< COPRA_VCPUS_MAX) of `vm`, run on CPU
 * `cpu`; returns its handle.  It starts in the multiboot v1 entry state
 * (32-bit protected mode, paging off, flat segments) with RIP = 0. */
int64_t coco_vcpu_create(copra_handle_t vm, unsigned index, uint64_t cpu);

/* VCPU_GET_STATE / VCPU_SET_STATE: one enum copra_state_id value. */
int coco_vcpu_get_state(copra_handle_t vcpu, unsigned id, uint64_t *value);
int coco_vcpu_set_state(copra_handle_t vcpu, unsigned id, uint64_t value);

/* VCPU_KICK: make a running (or HLT-parked) VCPU exit with COPRA_EXIT_KICK. */
int coco_vcpu_kick(copra_handle_t vcpu);

/* GUEST_MEM: the guest pool's `pages` pages at guest-physical (= physical)
 * address `gpa`, as a memory object (abi/README.md "Guest memory"). */
int64_t coco_guest_mem(copra_handle_t vmctl, uint64_t gpa, uint64_t pages);

/* SET_MEM_STATE: pages [offset, offset + len) of a memory object become
 * COPRA_MEM_PRIVATE or COPRA_MEM_SHARED (with the host); none may be mapped. */
int coco_set_mem_state(copra_handle_t mem, uint64_t offset, uint64_t len, unsigned state);

/* IRQ_CREATE: an IRQ object bound to `vcpu`; returns its handle. */
int64_t coco_irq_create(copra_handle_t vcpu);

/* IRQ_INJECT: queue vector 0x10..0xff (or COPRA_IRQ_NMI); the kernel
 * delivers it when the guest can take it and wakes a VCPU parked in HLT. */
int coco_irq_inject(copra_handle_t irq, unsigned vector);

/* IRQ_TIMER: each expiration of `timer` posts `vector` in the VCPU's
 * virtual-APIC page (MMAP of `irq`); vector 0 unbinds. */
int coco_irq_timer(copra_handle_t irq, copra_handle_t timer, unsigned vector);

/* MMIO_EVENT / IOIO_EVENT: range handles for a device model (abi/copra/vm.h). */
int64_t coco_mmio_event(copra_handle_t vm, uint64_t gpa, uint64_t len);
int64_t coco_ioio_event(copra_handle_t vm, uint16_t port, uint32_t count);

#endif
