/* SPDX-License-Identifier: MIT */
/* VM objects: guest-physical memory (VM_MAP) and the VCPUs of one guest. */
#ifndef VIRT_VM_H
#define VIRT_VM_H

#include "core/kernel.h"
#include "core/memobj.h"
#include "core/object.h"
#include "core/spinlock.h"

struct vcpu;
struct range;

struct vm_mapping {
    uint64_t gpa, npages;
    uint32_t prot;              /* COPRA_GUEST_* */
    struct memobj *mem;         /* holds a reference */
    uint64_t first_page;
    struct vm_mapping *next;
    uint64_t retired_gen;       /* the tlb_gen whose entries no longer see it */
};

struct vm {
    struct kobject obj;
    uint32_t id;
    struct spinlock lock;       /* guards maps and vcpus[] */
    struct vm_mapping *maps;
    struct range *ranges;       /* weak, scheduler lock: a range unlinks itself when it dies */
    struct vm_mapping *retired; /* unmapped, kept while a VCPU may reach it (vm.c) */
    struct vcpu *vcpus[COPRA_VCPUS_MAX];  /* weak: a VCPU clears its slot when it dies */
    uint64_t npt_root;          /* backend: nested page table / EPT root */
    uint32_t asid;
    volatile uint64_t tlb_gen;  /* bumped when a guest mapping goes away */
    int32_t runnable;           /* VCPUs in COPRA_MP_RUNNABLE (scheduler lock; vcpu.c) */
};

/* Finds the RAM page behind `gpa`: its host-physical address, or 0 (MMIO). */
uint64_t vm_gpa_to_hpa(struct vm *vm, uint64_t gpa, uint32_t *prot);

/* The VM-creation capability (COPRA_OBJ_VMCTL); the first process gets it. */
extern struct kobject vm_control;

int64_t sys_vm_create(uint64_t vmctl);
int64_t sys_vm_map(uint64_t vm, uint64_t mem, uint64_t gpa, uint64_t offset, uint64_t len, uint64_t prot);
int64_t sys_guest_mem(uint64_t vmctl, uint64_t gpa, uint64_t pages);

#endif
