/* SPDX-License-Identifier: MIT */
/* One typed stub per syscall in abi/copra/syscall.h. */
#include <coco/syscall.h>

_Noreturn void coco_exit(int status)
{
    coco_syscall6(COPRA_SYS_EXIT, (uint64_t)(int64_t)status, 0, 0, 0, 0, 0);
    /* EXIT does not return; if a broken kernel lets it, do not run on. */
    for (;;)
        __asm__ volatile("ud2");
}

int64_t coco_exec(const struct copra_exec_args *args)
{
    return coco_syscall6(COPRA_SYS_EXEC, (uint64_t)(uintptr_t)args, 0, 0, 0, 0, 0);
}

int coco_close(copra_handle_t handle)
{
    return (int)coco_syscall6(COPRA_SYS_CLOSE, handle, 0, 0, 0, 0, 0);
}

int64_t coco_open(const char *path, size_t len)
{
    return coco_syscall6(COPRA_SYS_OPEN, (uint64_t)(uintptr_t)path, len, 0, 0, 0, 0);
}

int64_t coco_read(copra_handle_t handle, void *buf, size_t len, uint64_t offset)
{
    return coco_syscall6(COPRA_SYS_READ, handle, (uint64_t)(uintptr_t)buf, len,
                         offset, 0, 0);
}

int64_t coco_mmap(copra_handle_t handle, void *addr, size_t len, uint32_t prot,
                  uint64_t offset)
{
    return coco_syscall6(COPRA_SYS_MMAP, handle, (uint64_t)(uintptr_t)addr, len,
                         prot, offset, 0);
}

int coco_munmap(void *addr, size_t len)
{
    return (int)coco_syscall6(COPRA_SYS_MUNMAP, (uint64_t)(uintptr_t)addr, len,
                              0, 0, 0, 0);
}

int coco_log(const char *buf, size_t len)
{
    return (int)coco_syscall6(COPRA_SYS_LOG, (uint64_t)(uintptr_t)buf, len,
                              0, 0, 0, 0);
}

int64_t coco_wait(struct copra_wait_item *items, unsigned count, uint64_t timeout_ns)
{
    return coco_syscall6(COPRA_SYS_WAIT_FOR_EVENT, (uint64_t)(uintptr_t)items,
                         count, timeout_ns, 0, 0, 0);
}

int coco_sysinfo(struct copra_sysinfo *info, size_t size)
{
    return (int)coco_syscall6(COPRA_SYS_SYSINFO, (uint64_t)(uintptr_t)info, size,
                              0, 0, 0, 0);
}

int64_t coco_dup(copra_handle_t handle, uint32_t rights)
{
    return coco_syscall6(COPRA_SYS_DUP, handle, rights, 0, 0, 0, 0);
}

int64_t coco_thread_create(void (*entry)(uint64_t), void *stack_top, uint64_t arg,
                           uint64_t cpu)
{
    return coco_syscall6(COPRA_SYS_THREAD_CREATE, (uint64_t)(uintptr_t)entry,
                         (uint64_t)(uintptr_t)stack_top, arg, cpu, 0, 0);
}

_Noreturn void coco_thread_exit(int64_t status)
{
    coco_syscall6(COPRA_SYS_THREAD_EXIT, (uint64_t)status, 0, 0, 0, 0, 0);
    /* There is nothing to return to (the thread's entry was jumped to). */
    for (;;)
        __asm__ volatile("ud2");
}

int coco_thread_set_cpu(copra_handle_t thread, uint64_t cpu)
{
    return (int)coco_syscall6(COPRA_SYS_THREAD_SET_CPU, thread, cpu, 0, 0, 0, 0);
}

int64_t coco_event_create(unsigned area_pages)
{
    return coco_syscall6(COPRA_SYS_EVENT_CREATE, area_pages, 0, 0, 0, 0, 0);
}

int coco_signal(copra_handle_t event)
{
    return (int)coco_syscall6(COPRA_SYS_SIGNAL, event, 0, 0, 0, 0, 0);
}

int64_t coco_clock(void)
{
    return coco_syscall6(COPRA_SYS_CLOCK, 0, 0, 0, 0, 0, 0);
}

int64_t coco_timer_create(void)
{
    return coco_syscall6(COPRA_SYS_TIMER_CREATE, 0, 0, 0, 0, 0, 0);
}

int coco_timer_set(copra_handle_t timer, uint64_t deadline_ns, uint64_t period_ns)
{
    return (int)coco_syscall6(COPRA_SYS_TIMER_SET, timer, deadline_ns, period_ns,
                              0, 0, 0);
}

int64_t coco_mem_create(uint64_t pages)
{
    return coco_syscall6(COPRA_SYS_MEM_CREATE, pages, 0, 0, 0, 0, 0);
}

int64_t coco_batch(const struct copra_batch_call *calls,
                   struct copra_batch_result *results, unsigned count, uint32_t flags)
{
    return coco_syscall6(COPRA_SYS_BATCH, (uint64_t)(uintptr_t)calls,
                         (uint64_t)(uintptr_t)results, count, flags, 0, 0);
}

int64_t coco_cpu_current(void)
{
    return coco_syscall6(COPRA_SYS_CPU_CURRENT, 0, 0, 0, 0, 0, 0);
}
