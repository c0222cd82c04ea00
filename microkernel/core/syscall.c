/* SPDX-License-Identifier: MIT */
#include "core/syscall.h"
#include "core/heap.h"
#include "core/initrd.h"
#include "core/process.h"
#include "core/string.h"
#include "core/usercopy.h"
#include "arch/x86_64/apic.h"

void console_write(const char *s, size_t n);
extern uint64_t boot_tsc;

typedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static const syscall_fn syscall_table[COPRA_SYS_COUNT] = {
    [COPRA_SYS_EXIT]           = (syscall_fn)(void (*)(void))sys_exit,
    [COPRA_SYS_EXEC]           = (syscall_fn)(void (*)(void))sys_exec,
    [COPRA_SYS_CLOSE]          = (syscall_fn)(void (*)(void))sys_close,
    [COPRA_SYS_OPEN]           = (syscall_fn)(void (*)(void))sys_open,
    [COPRA_SYS_READ]           = (syscall_fn)(void (*)(void))sys_read,
    [COPRA_SYS_MMAP]           = (syscall_fn)(void (*)(void))sys_mmap,
    [COPRA_SYS_MUNMAP]         = (syscall_fn)(void (*)(void))sys_munmap,
    [COPRA_SYS_LOG]            = (syscall_fn)(void (*)(void))sys_log,
    [COPRA_SYS_WAIT_FOR_EVENT] = (syscall_fn)(void (*)(void))sys_wait_for_event,
    [COPRA_SYS_SYSINFO]        = (syscall_fn)(void (*)(void))sys_sysinfo,
};

/* RAX = number; RDI, RSI, RDX, R10, R8, R9 = arguments; RAX = result. */
void syscall_dispatch(struct trap_frame *f)
{
    if (f->rax >= COPRA_SYS_COUNT || !syscall_table[f->rax]) {
        f->rax = (uint64_t)(int64_t)COPRA_ENOSYS;
        return;
    }
    f->rax = (uint64_t)syscall_table[f->rax](f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
}

/* One console line per '\n', each tagged with the process name. */
int64_t sys_log(uint64_t ubuf, uint64_t len)
{
    char text[COPRA_LOG_MAX];
    char line[COPRA_LOG_MAX + COPRA_PROCESS_NAME_MAX + 8];
    if (len > COPRA_LOG_MAX)
        return COPRA_ERANGE;
    if (copy_from_user(text, ubuf, len))
        return COPRA_EFAULT;
    const char *name = process_current()->name;
    size_t start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = (size_t)ksnprintf(line, sizeof(line), "[%s] ", name);
        for (size_t i = start; i < end; i++)
            line[n++] = (text[i] >= 0x20 && text[i] < 0x7f) || text[i] == '\t' ? text[i] : '?';
        line[n++] = '\n';
        console_write(line, n);
        start = end + 1;
    }
    return COPRA_OK;
}

int64_t sys_sysinfo(uint64_t uinfo, uint64_t size)
{
    struct copra_sysinfo info;
    if (size < sizeof(info))
        return COPRA_EINVAL;
    memset(&info, 0, sizeof(info));
    info.abi_version = COPRA_ABI_VERSION;
    info.ncpus = 1;
    info.total_pages = page_total_count();
    info.free_pages = page_free_count();
    info.tsc_hz = tsc_hz();
    info.boot_tsc = boot_tsc;
    memcpy(info.manifest_sha384, initrd_manifest_sha384, sizeof(info.manifest_sha384));
    return copy_to_user(uinfo, &info, sizeof(info));
}
