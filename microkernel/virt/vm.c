/* SPDX-License-Identifier: MIT */
#include "virt/vm.h"
#include "virt/platform.h"
#include "virt/vcpu.h"
#include "core/heap.h"
#include "core/syscall.h"
#include "virt/range.h"
#include "core/process.h"

#define GPA_LIMIT (1ull << 47)   /* 4-level nested paging */

static uint32_t next_vm_id = 1;
/* The right to create VMs: one object, handed to the first process. */
struct kobject vm_control = { COPRA_OBJ_VMCTL, 1, NULL };

static void mappings_free(struct vm_mapping *m)
{
    while (m) {
        struct vm_mapping *next = m->next;
        memobj_mapped(m->mem, m->first_page, m->npages, -1);
        memobj_put(m->mem);
        kfree(m);
        m = next;
    }
}

/* Frees the retired mappings no VCPU can reach any more: each VCPU is out
 * of the guest or entered it at a later tlb_gen, which flushed them. */
static void vm_reap(struct vm *vm)
{
    struct vm_mapping *dead = NULL, **pp = &vm->retired, *m;
    uint64_t f = spin_lock_irqsave(&vm->lock), oldest = UINT64_MAX;
    for (unsigned i = 0; i < COPRA_VCPUS_MAX; i++) {
        uint64_t e = vm->vcpus[i] ? __atomic_load_n(&vm->vcpus[i]->entered_gen, __ATOMIC_SEQ_CST) : 0;
        if (e)
            oldest = MIN(oldest, e - 1);
    }
    while ((m = *pp)) {
        if (m->retired_gen <= oldest) {
            *pp = m->next;
            m->next = dead;
            dead = m;
        } else {
            pp = &m->next;
        }
    }
    spin_unlock_irqrestore(&vm->lock, f);
    mappings_free(dead);
}

static void vm_destroy(struct kobject *o)
{
    struct vm *vm = container_of(o, struct vm, obj);
    platform->vm_destroy(vm);   /* it may walk vm->maps (tdx.c revokes each page) */
    mappings_free(vm->maps);
    mappings_free(vm->retired);
    kfree(vm);
}

uint64_t vm_gpa_to_hpa(struct vm *vm, uint64_t gpa, uint32_t *prot)
{
    uint64_t f = spin_lock_irqsave(&vm->lock), hpa = 0;
    for (struct vm_mapping *m = vm->maps; m; m = m->next) {
        if (gpa >= m->gpa && gpa - m->gpa < m->npages * PAGE_SIZE) {
            hpa = m->mem->pages[m->first_page + (gpa - m->gpa) / PAGE_SIZE] + gpa % PAGE_SIZE;
            if (prot)
                *prot = m->prot;
            break;
        }
    }
    spin_unlock_irqrestore(&vm->lock, f);
    return hpa;
}

/* The caller holds the right to create VMs (MANAGE on the VM-creation handle). */
static int vmctl_check(uint64_t hctl)
{
    struct kobject *ctl;
    int err = process_handle_get(hctl, COPRA_OBJ_VMCTL, COPRA_RIGHT_MANAGE, &ctl);
    if (!err)
        kobject_put(ctl);   /* vm_control lives forever */
    return err;
}

int64_t sys_vm_create(uint64_t hctl)
{
    int err = vmctl_check(hctl);
    if (err)
        return err;
    if (!platform)
        return COPRA_ENOSYS;   /* no virtualization on this CPU */
    struct vm *vm = kmalloc(sizeof(*vm));
    if (!vm)
        return COPRA_ENOMEM;
    kobject_init(&vm->obj, COPRA_OBJ_VM, vm_destroy);
    vm->id = __atomic_fetch_add(&next_vm_id, 1, __ATOMIC_RELAXED);
    if ((err = platform->vm_init(vm))) {   /* COPRA_EFULL: the platform's VM slots are taken */
        kfree(vm);
        return err;
    }
    return process_handle_install(&vm->obj, COPRA_RIGHTS_VM);
}

static int vm_unmap_range(struct vm *vm, uint64_t gpa, uint64_t npages)
{
    uint64_t f = spin_lock_irqsave(&vm->lock);
    struct vm_mapping **pp = &vm->maps, *m;
    while ((m = *pp) && !(m->gpa == gpa && m->npages == npages))
        pp = &m->next;
    if (m) {
        *pp = m->next;
        for (uint64_t i = 0; i < npages; i++)
            platform->vm_unmap(vm, gpa + i * PAGE_SIZE);
        m->retired_gen = __atomic_add_fetch(&vm->tlb_gen, 1, __ATOMIC_SEQ_CST);
        /* A VCPU running on another CPU may still reach the pages through
         * its TLB until it next enters, or the kernel may be copying to them
         * for it: the memory stays referenced until vm_reap() sees none can,
         * so it is never reused under the guest. */
        m->next = vm->retired;
        vm->retired = m;
    }
    struct vcpu *kick[COPRA_VCPUS_MAX];
    unsigned n = 0;
    for (unsigned i = 0; m && i < COPRA_VCPUS_MAX; i++)
        if (vm->vcpus[i] && kobject_get_unless_zero(&vm->vcpus[i]->obj))
            kick[n++] = vm->vcpus[i];
    spin_unlock_irqrestore(&vm->lock, f);
    if (!m)
        return COPRA_EINVAL;   /* only whole mappings are unmapped */
    /* Running VCPUs leave the guest and flush before they enter again. */
    while (n--) {
        vcpu_kick_cpu(kick[n]);
        kobject_put(&kick[n]->obj);
    }
    return COPRA_OK;
}

int64_t sys_vm_map(uint64_t hvm, uint64_t hmem, uint64_t gpa, uint64_t offset, uint64_t len, uint64_t prot)
{
    struct kobject *ovm, *omem = NULL;
    int err = process_handle_get(hvm, COPRA_OBJ_VM, COPRA_RIGHT_MANAGE, &ovm);
    if (err)
        return err;
    struct vm *vm = container_of(ovm, struct vm, obj);
    uint32_t need = COPRA_RIGHT_MAP | ((prot & COPRA_GUEST_W) ? COPRA_RIGHT_WRITE : 0);
    if (hmem != COPRA_HANDLE_NONE)
        err = process_handle_get(hmem, COPRA_OBJ_MEMORY, need, &omem);
    bool bad_range = len == 0 || gpa >= GPA_LIMIT || len > GPA_LIMIT - gpa;
    if (!err && ((prot & ~(uint64_t)(COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X)) || bad_range))
        err = COPRA_EINVAL;
    else if (!err && (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(offset, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE)))
        err = COPRA_EALIGN;
    uint64_t npages = len / PAGE_SIZE;
    if (!err && !omem) {
        err = vm_unmap_range(vm, gpa, npages);
        vm_reap(vm);
        kobject_put(ovm);
        return err;
    }
    struct memobj *mem = omem ? container_of(omem, struct memobj, obj) : NULL;
    if (!err && (offset / PAGE_SIZE >= mem->npages || npages > mem->npages - offset / PAGE_SIZE))
        err = COPRA_EINVAL;
    struct vm_mapping *nm = err ? NULL : kmalloc(sizeof(*nm));
    if (!err && !nm)
        err = COPRA_ENOMEM;
    if (!err) {
        uint64_t f = spin_lock_irqsave(&vm->lock);
        for (struct vm_mapping *m = vm->maps; m && !err; m = m->next)
            if (gpa < m->gpa + m->npages * PAGE_SIZE && m->gpa < gpa + len)
                err = COPRA_EEXIST;
        /* Guest-pool memory belongs to the first VM it is mapped into: two
         * VMs never share a range (abi/README.md "Guest memory"). */
        uint64_t unbound = UINT64_MAX;
        if (!err && mem->pool_vm &&
            !__atomic_compare_exchange_n(&mem->pool_vm, &unbound, vm->id, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
            unbound != vm->id)
            err = COPRA_EBUSY;
        bool counted = !err;   /* first: SET_MEM_STATE leaves the pages alone from here */
        if (counted)
            memobj_mapped(mem, offset / PAGE_SIZE, npages, 1);
        for (uint64_t i = 0; !err && i < npages; i++) {
            uint64_t hpa = mem->pages[offset / PAGE_SIZE + i];
            err = __atomic_load_n(&mem->maps[offset / PAGE_SIZE + i], __ATOMIC_ACQUIRE) & MEMOBJ_SHARED
                ? COPRA_EPERM   /* a shared page is never a guest's private memory */
                : platform->identity && hpa != gpa + i * PAGE_SIZE ? COPRA_EINVAL
                : platform->vm_map(vm, gpa + i * PAGE_SIZE, hpa, (uint32_t)prot);
            if (err)
                while (i--)
                    platform->vm_unmap(vm, gpa + i * PAGE_SIZE);
        }
        if (err && counted)
            memobj_mapped(mem, offset / PAGE_SIZE, npages, -1);
        if (!err) {
            *nm = (struct vm_mapping){ gpa, npages, (uint32_t)prot, mem, offset / PAGE_SIZE, vm->maps, 0 };
            vm->maps = nm;
            omem = NULL;   /* the mapping keeps the reference */
        }
        spin_unlock_irqrestore(&vm->lock, f);
        if (err)
            kfree(nm);
    }
    vm_reap(vm);
    kobject_put(omem);
    kobject_put(ovm);
    return err;
}

int64_t sys_guest_mem(uint64_t hctl, uint64_t gpa, uint64_t pages)
{
    int err = vmctl_check(hctl);
    if (err)
        return err;
    if (pages == 0)
        return COPRA_EINVAL;
    if (!IS_ALIGNED(gpa, PAGE_SIZE))
        return COPRA_EALIGN;
    if (pages > MEMOBJ_MAX_PAGES || gpa >= pool_end() || pages > (pool_end() - gpa) / PAGE_SIZE)
        return COPRA_ERANGE;
    struct memobj *m;
    err = memobj_create_at(gpa, pages, &m);
    if (err)
        return err;
    return process_handle_install(&m->obj, COPRA_RIGHTS_MEMORY);
}

/* ---- virt/ at boot: the platform, its syscalls and object types, which
 * core reaches only through what is registered here ---- */

static const struct kobject_ops vm_ops = { .no_dup = true };

static void virt_init(void)
{
    static const struct { unsigned nr; syscall_fn fn; } calls[] = {
        { COPRA_SYS_VM_CREATE, SYSCALL_FN(sys_vm_create) },
        { COPRA_SYS_VM_MAP, SYSCALL_FN(sys_vm_map) },
        { COPRA_SYS_GUEST_MEM, SYSCALL_FN(sys_guest_mem) },
        { COPRA_SYS_VCPU_CREATE, SYSCALL_FN(sys_vcpu_create) },
        { COPRA_SYS_VCPU_GET_STATE, SYSCALL_FN(sys_vcpu_get_state) },
        { COPRA_SYS_VCPU_SET_STATE, SYSCALL_FN(sys_vcpu_set_state) },
        { COPRA_SYS_VCPU_KICK, SYSCALL_FN(sys_vcpu_kick) },
        { COPRA_SYS_IRQ_CREATE, SYSCALL_FN(sys_irq_create) },
        { COPRA_SYS_IRQ_INJECT, SYSCALL_FN(sys_irq_inject) },
        { COPRA_SYS_IRQ_TIMER, SYSCALL_FN(sys_irq_timer) },
        { COPRA_SYS_MMIO_EVENT, SYSCALL_FN(sys_mmio_event) },
        { COPRA_SYS_IOIO_EVENT, SYSCALL_FN(sys_ioio_event) },
    };
    kprintf("copra: platform %s\n", platform ? platform->name : "none (no guests)");
    cpu_init_hook = platform_cpu_init;
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        syscall_register(calls[i].nr, calls[i].fn);
    kobject_ops[COPRA_OBJ_VM] = &vm_ops;
    kobject_ops[COPRA_OBJ_VCPU] = &vcpu_ops;
    kobject_ops[COPRA_OBJ_IRQ] = &irq_ops;
    kobject_ops[COPRA_OBJ_MMIO] = kobject_ops[COPRA_OBJ_IOIO] = &range_ops;
    boot_handle_add(&vm_control, COPRA_RIGHTS_VMCTL);   /* the first process's handle 1 */
}
KERNEL_INIT(virt_init);
KERNEL_EARLY_INIT(platform_init);   /* before the console: TDX's console is a TDVMCALL */
