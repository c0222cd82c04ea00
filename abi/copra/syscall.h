/* SPDX-License-Identifier: MIT */
/*
 * Syscall numbers, argument structures and limits.
 *
 * Calling convention (see abi/README.md): `int 0x80`, number in RAX,
 * arguments in RDI, RSI, RDX, R10, R8, R9; result in RAX (>= 0 success,
 * a negative enum copra_error on failure).  Every other register is
 * preserved; RCX and R11 are declared clobbered by the stubs so that a
 * later switch to SYSCALL needs no user-space change.
 */
#ifndef COPRA_ABI_SYSCALL_H
#define COPRA_ABI_SYSCALL_H

#include "types.h"
#include "object.h"

#define COPRA_SYSCALL_VECTOR 0x80

enum copra_syscall {
    COPRA_SYS_EXIT           = 0,  /* (status)                                  */
    COPRA_SYS_EXEC           = 1,  /* (const struct copra_exec_args *)  -> process handle */
    COPRA_SYS_CLOSE          = 2,  /* (handle)                                  */
    COPRA_SYS_OPEN           = 3,  /* (path, path_len)                 -> file handle */
    COPRA_SYS_READ           = 4,  /* (handle, buf, len, offset)       -> bytes */
    COPRA_SYS_MMAP           = 5,  /* (handle|0, addr, len, prot, offset) -> address */
    COPRA_SYS_MUNMAP         = 6,  /* (addr, len)                               */
    COPRA_SYS_LOG            = 7,  /* (buf, len)                                */
    COPRA_SYS_WAIT_FOR_EVENT = 8,  /* (struct copra_wait_item *, count, timeout_ns) -> ready count */
    COPRA_SYS_SYSINFO        = 9,  /* (struct copra_sysinfo *, size)            */
    COPRA_SYS_DUP            = 10, /* (handle, rights)                 -> new handle */
    COPRA_SYS_THREAD_CREATE  = 11, /* (entry, stack_top, arg, cpu)     -> thread handle */
    COPRA_SYS_THREAD_EXIT    = 12, /* (status)                                  */
    COPRA_SYS_THREAD_SET_CPU = 13, /* (thread handle | COPRA_HANDLE_NONE = self, cpu) */
    COPRA_SYS_EVENT_CREATE   = 14, /* (area_pages)                     -> event handle */
    COPRA_SYS_SIGNAL         = 15, /* (event handle)                            */
    COPRA_SYS_CLOCK          = 16, /* ()                               -> monotonic ns */
    COPRA_SYS_TIMER_CREATE   = 17, /* ()                               -> timer handle */
    COPRA_SYS_TIMER_SET      = 18, /* (timer handle, deadline_ns, period_ns)    */
    COPRA_SYS_MEM_CREATE     = 19, /* (pages)                          -> memory handle */
    COPRA_SYS_BATCH          = 20, /* (const struct copra_batch_call *, struct copra_batch_result *, count, flags) -> records run */
    COPRA_SYS_CPU_CURRENT    = 21, /* ()                               -> index of the CPU running the caller */
    COPRA_SYS_VM_CREATE      = 22, /* (vmctl handle)                   -> VM handle */
    COPRA_SYS_VM_MAP         = 23, /* (vm, memory handle|0 = unmap, gpa, offset, len, COPRA_GUEST_*) */
    COPRA_SYS_VCPU_CREATE    = 24, /* (vm, index, cpu)                 -> VCPU handle */
    COPRA_SYS_VCPU_GET_STATE = 25, /* (vcpu, enum copra_state_id, uint64_t *value) */
    COPRA_SYS_VCPU_SET_STATE = 26, /* (vcpu, enum copra_state_id, value)        */
    COPRA_SYS_VCPU_KICK      = 27, /* (vcpu)                                    */
    COPRA_SYS_IRQ_CREATE     = 28, /* (vcpu)                           -> IRQ handle */
    COPRA_SYS_IRQ_INJECT     = 29, /* (irq, vector 0x10..0xff | COPRA_IRQ_NMI/INIT/SIPI(v)/TPR(c)/POSTED) */
    COPRA_SYS_MMIO_EVENT     = 30, /* (vm, gpa, len)                   -> MMIO range handle */
    COPRA_SYS_IOIO_EVENT     = 31, /* (vm, port, count)                -> IOIO range handle */
    COPRA_SYS_IRQ_TIMER      = 32, /* (irq, timer, vector 0x10..0xff | 0 = unbind) (ABI 9) */
    COPRA_SYS_GUEST_MEM      = 33, /* (vmctl, gpa, pages) -> memory handle: the guest pool's pages at gpa (ABI 9) */
    COPRA_SYS_SET_MEM_STATE  = 34, /* (memory, offset, len, COPRA_MEM_PRIVATE/SHARED) (ABI 9) */
    COPRA_SYS_COUNT
};

/* Limits every syscall checks before copying anything. */
#define COPRA_PATH_MAX       256u   /* bytes of an initrd path, without NUL   */
#define COPRA_ARGV_MAX       4096u  /* bytes of the packed argv of EXEC       */
#define COPRA_ARGC_MAX       64u
#define COPRA_EXEC_HANDLES_MAX 16u  /* handles moved by one EXEC              */
#define COPRA_LOG_MAX        1024u  /* bytes of one LOG call                  */
#define COPRA_WAIT_MAX       64u    /* items of one WAIT_FOR_EVENT            */
#define COPRA_HANDLES_PER_PROCESS 256u
#define COPRA_TIMERS_PER_PROCESS 64u  /* live timers a process created (TIMER_CREATE) */
#define COPRA_PROCESS_NAME_MAX 32u
#define COPRA_EVENT_AREA_MAX_PAGES 16u /* pages of an event's mappable area */
#define COPRA_MEM_MAX_PAGES  (1ull << 18) /* pages of one memory object (1 GiB) */
#define COPRA_BATCH_MAX      64u    /* records of one BATCH                   */
#define COPRA_CPUS_MAX       8u
#define COPRA_CPU_ANY        UINT64_MAX /* THREAD_CREATE: the caller's CPU */

/* User address space: [COPRA_USER_BASE, COPRA_USER_END). */
#define COPRA_PAGE_SIZE      4096ull
#define COPRA_USER_BASE      0x0000000000010000ull
#define COPRA_USER_END       0x0000800000000000ull
#define COPRA_USER_STACK_TOP 0x00007fffffff0000ull
#define COPRA_USER_STACK_SIZE (256ull * 1024)
#define COPRA_MMAP_BASE      0x0000100000000000ull /* where MMAP looks first */

/* SET_MEM_STATE: a page is private (the default: only this machine's
 * software can read it) or shared with the host outside it (TDX: MapGPA). */
#define COPRA_MEM_PRIVATE 0u
#define COPRA_MEM_SHARED  1u

/* MMAP protection; W together with X is refused (COPRA_EPERM). */
#define COPRA_PROT_READ  1u
#define COPRA_PROT_WRITE 2u
#define COPRA_PROT_EXEC  4u

/*
 * EXEC: start the ELF at `path` in the initrd as a new process.
 * argv is packed: `argc` NUL-terminated strings back to back, argv_len bytes
 * in all (the last byte must be NUL).  The `nhandles` handles are moved into
 * the child: they are closed in the caller and appear in the child's table,
 * in order, as the child's "received handles" (see the initial stack below).
 * Each must carry COPRA_RIGHT_TRANSFER.
 */
struct copra_exec_args {
    uint64_t path;       /* const char *, not NUL-terminated */
    uint64_t path_len;
    uint64_t argv;       /* const char *, packed strings */
    uint64_t argv_len;
    uint64_t handles;    /* const copra_handle_t * */
    uint32_t argc;
    uint32_t nhandles;
};
COPRA_STATIC_ASSERT(sizeof(struct copra_exec_args) == 48, "exec args");

/*
 * Initial user stack of a process, from RSP upward (all 8-byte words):
 *   argc, argv[0] .. argv[argc-1], 0, nhandles, handle[0] .. handle[n-1]
 * The strings live above.  RSP is 16-byte aligned at entry.
 */

/*
 * WAIT_FOR_EVENT item: the caller fills `handle`, the kernel `ready`/`value`.
 * Readiness per object type:
 *   process, thread: level-triggered; ready from its exit on, forever;
 *                    value = exit status.
 *   event:           counting, auto-reset; ready while SIGNALs are pending;
 *                    the WAIT that reports it ready takes them all:
 *                    value = number of SIGNALs since the last such WAIT.
 *   timer:           like an event; value = expirations since the last WAIT.
 * A WAIT returns as soon as at least one item is ready and reports every
 * item that is ready at that moment.
 */
struct copra_wait_item {
    copra_handle_t handle;
    uint32_t ready;      /* out: 1 if this object is ready              */
    uint64_t value;      /* out: process exit status, event count, ...  */
};
COPRA_STATIC_ASSERT(sizeof(struct copra_wait_item) == 16, "wait item");
#define COPRA_WAIT_FOREVER UINT64_MAX

/*
 * BATCH runs `count` records in order as if each were its own syscall and
 * fills one result per record run.  With COPRA_BATCH_STOP_ON_ERROR it stops
 * after the first negative result; otherwise it runs every record.  It
 * returns the number of records run; results past that are left untouched.
 * No record counts as complete before BATCH returns.  EXIT, THREAD_EXIT and
 * BATCH itself are refused inside a batch (result COPRA_EINVAL).
 */
struct copra_batch_call {
    uint64_t nr;
    uint64_t args[6];
    uint64_t user_data;  /* copied to the result */
};
COPRA_STATIC_ASSERT(sizeof(struct copra_batch_call) == 64, "batch call");

struct copra_batch_result {
    int64_t result;
    uint64_t user_data;
};
COPRA_STATIC_ASSERT(sizeof(struct copra_batch_result) == 16, "batch result");
#define COPRA_BATCH_STOP_ON_ERROR 1u

struct copra_sysinfo {
    uint32_t abi_version;
    uint32_t ncpus;
    uint64_t total_pages;   /* usable physical pages */
    uint64_t free_pages;    /* free physical pages now */
    uint64_t tsc_hz;        /* calibrated TSC frequency */
    uint64_t boot_tsc;      /* TSC at kernel entry */
    uint8_t  manifest_sha384[48];
    /* Event counters summed over all CPUs since boot, for benchmarks: */
    uint64_t kernel_entries;          /* interrupts, exceptions and syscalls */
    uint64_t address_space_switches;  /* CR3 loads that changed the page tables */
    uint64_t guest_entries;           /* VMRUNs (or the platform's equivalent) */
    /* (ABI 8) TSC ticks summed over all CPUs since boot: inside guests, and
     * halted in the idle loop.  The rest was kernel and user work. */
    uint64_t guest_tsc;
    uint64_t idle_tsc;
    /* (ABI 9) The guest pool (GUEST_MEM): RAM below this address that the
     * kernel keeps for guests, and how many of its pages are free now. */
    uint64_t guest_pool_end;
    uint64_t guest_pool_free_pages;
};
COPRA_STATIC_ASSERT(sizeof(struct copra_sysinfo) == 144, "sysinfo");

/*
 * Status the system reports to QEMU through isa-debug-exit (port 0xf4):
 * the first process's exit status (0..0x7f) when it exits, or
 * COPRA_STATUS_PANIC when the kernel stops on an internal error, or
 * COPRA_STATUS_BOOT_ERROR when the boot image is unusable.
 */
#define COPRA_DEBUG_EXIT_PORT   0xf4
#define COPRA_STATUS_PANIC      0x7e
#define COPRA_STATUS_BOOT_ERROR 0x7d
#define COPRA_STATUS_INIT_FAULT 0x7c  /* the first process was killed by a fault */

#endif
