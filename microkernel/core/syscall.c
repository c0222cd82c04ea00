/* SPDX-License-Identifier: MIT */
#include "core/syscall.h"
#include "core/heap.h"
#include "core/initrd.h"
#include "core/process.h"
#include "core/string.h"
#include "core/usercopy.h"
#include "core/memobj.h"
#include "arch/x86_64/apic.h"

void console_log(const void *owner, const char *name, const char *text, size_t len);
extern uint64_t boot_tsc;

/* Core's own entries; KERNEL_INIT functions add theirs before any process
 * runs, and nothing writes the table after that. */
static syscall_fn syscall_table[COPRA_SYS_COUNT] = {
    [COPRA_SYS_EXIT]           = SYSCALL_FN(sys_exit),
    [COPRA_SYS_EXEC]           = SYSCALL_FN(sys_exec),
    [COPRA_SYS_CLOSE]          = SYSCALL_FN(sys_close),
    [COPRA_SYS_OPEN]           = SYSCALL_FN(sys_open),
    [COPRA_SYS_READ]           = SYSCALL_FN(sys_read),
    [COPRA_SYS_MMAP]           = SYSCALL_FN(sys_mmap),
    [COPRA_SYS_MUNMAP]         = SYSCALL_FN(sys_munmap),
    [COPRA_SYS_LOG]            = SYSCALL_FN(sys_log),
    [COPRA_SYS_WAIT_FOR_EVENT] = SYSCALL_FN(sys_wait_for_event),
    [COPRA_SYS_SYSINFO]        = SYSCALL_FN(sys_sysinfo),
    [COPRA_SYS_DUP]            = SYSCALL_FN(sys_dup),
    [COPRA_SYS_THREAD_CREATE]  = SYSCALL_FN(sys_thread_create),
    [COPRA_SYS_THREAD_EXIT]    = SYSCALL_FN(sys_thread_exit),
    [COPRA_SYS_THREAD_SET_CPU] = SYSCALL_FN(sys_thread_set_cpu),
    [COPRA_SYS_EVENT_CREATE]   = SYSCALL_FN(sys_event_create),
    [COPRA_SYS_SIGNAL]         = SYSCALL_FN(sys_signal),
    [COPRA_SYS_CLOCK]          = SYSCALL_FN(sys_clock),
    [COPRA_SYS_TIMER_CREATE]   = SYSCALL_FN(sys_timer_create),
    [COPRA_SYS_TIMER_SET]      = SYSCALL_FN(sys_timer_set),
    [COPRA_SYS_MEM_CREATE]     = SYSCALL_FN(sys_mem_create),
    [COPRA_SYS_BATCH]          = SYSCALL_FN(sys_batch),
    [COPRA_SYS_CPU_CURRENT]    = SYSCALL_FN(sys_cpu_current),
    [COPRA_SYS_SET_MEM_STATE]  = SYSCALL_FN(sys_set_mem_state),
};

void syscall_register(unsigned nr, syscall_fn fn)
{
    ASSERT(nr < COPRA_SYS_COUNT && !syscall_table[nr]);
    syscall_table[nr] = fn;
}

/* RAX = number; RDI, RSI, RDX, R10, R8, R9 = arguments; RAX = result. */
void syscall_dispatch(struct trap_frame *f)
{
    if (f->rax >= COPRA_SYS_COUNT || !syscall_table[f->rax]) {
        f->rax = (uint64_t)(int64_t)COPRA_ENOSYS;
        return;
    }
    f->rax = (uint64_t)syscall_table[f->rax](f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
}

/*
 * Runs each record as its own syscall, copying one record in and one result
 * out at a time, so a fault on record k leaves records < k done and reports
 * EFAULT as the BATCH result.
 */
int64_t sys_batch(uint64_t ucalls, uint64_t uresults, uint64_t count, uint64_t flags)
{
    if (flags & ~(uint64_t)COPRA_BATCH_STOP_ON_ERROR)
        return COPRA_EINVAL;
    if (count > COPRA_BATCH_MAX)
        return COPRA_ERANGE;
    if (!user_range_ok(ucalls, count * sizeof(struct copra_batch_call)) ||
        !user_range_ok(uresults, count * sizeof(struct copra_batch_result)))
        return COPRA_EFAULT;
    uint64_t i;
    for (i = 0; i < count; i++) {
        struct copra_batch_call c;
        struct copra_batch_result r;
        if (copy_from_user(&c, ucalls + i * sizeof(c), sizeof(c)))
            return COPRA_EFAULT;
        if (c.nr >= COPRA_SYS_COUNT || !syscall_table[c.nr])
            r.result = COPRA_ENOSYS;
        else if (c.nr == COPRA_SYS_EXIT || c.nr == COPRA_SYS_THREAD_EXIT || c.nr == COPRA_SYS_BATCH)
            r.result = COPRA_EINVAL;
        else
            r.result = syscall_table[c.nr](c.args[0], c.args[1], c.args[2], c.args[3], c.args[4],
                                           c.args[5]);
        r.user_data = c.user_data;
        if (copy_to_user(uresults + i * sizeof(r), &r, sizeof(r)))
            return COPRA_EFAULT;
        if (r.result < 0 && (flags & COPRA_BATCH_STOP_ON_ERROR)) {
            i++;
            break;
        }
        if (process_current()->exiting)
            break;
    }
    return (int64_t)i;
}

/* Console lines tagged with the process name; text after the last '\n'
 * leaves the line open for the process's next LOG (console_log()). */
int64_t sys_log(uint64_t ubuf, uint64_t len)
{
    char text[COPRA_LOG_MAX];
    if (len > COPRA_LOG_MAX)
        return COPRA_ERANGE;
    if (copy_from_user(text, ubuf, len))
        return COPRA_EFAULT;
    console_log(process_current(), process_current()->name, text, len);
    return COPRA_OK;
}

int64_t sys_sysinfo(uint64_t uinfo, uint64_t size)
{
    struct copra_sysinfo info = { 0 };
    if (size < sizeof(info))
        return COPRA_EINVAL;
    info.guest_pool_end = pool_end();
    info.guest_pool_free_pages = pool_pmm.free;
    info.abi_version = COPRA_ABI_VERSION;
    info.ncpus = cpu_count;
    info.total_pages = heap_pmm.total;
    info.free_pages = heap_pmm.free;
    info.tsc_hz = tsc_hz();
    info.boot_tsc = boot_tsc;
    memcpy(info.manifest_sha384, initrd_manifest_sha384, sizeof(info.manifest_sha384));
    for (unsigned i = 0; i < cpu_count; i++) {
        info.kernel_entries += cpus[i].entries;
        info.address_space_switches += cpus[i].cr3_switches;
        info.guest_entries += cpus[i].guest_entries;
        info.guest_tsc += cpus[i].guest_tsc;
        info.idle_tsc += cpus[i].idle_tsc;
    }
    return copy_to_user(uinfo, &info, sizeof(info));
}
