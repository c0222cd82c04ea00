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
