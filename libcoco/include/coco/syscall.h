/* SPDX-License-Identifier: MIT */
/*
 * Typed syscall stubs, one per number in abi/copra/syscall.h, plus the
 * process-level conveniences built on them (spawn, wait, read a whole file).
 *
 * Every call returns >= 0 on success or a negative enum copra_error.
 * Calling convention (abi/copra/syscall.h): `int $0x80`, number in RAX,
 * arguments in RDI, RSI, RDX, R10, R8, R9, result in RAX; RCX and R11 are
 * declared clobbered so a later switch to SYSCALL needs no change here.
 */
#ifndef COCO_SYSCALL_H
#define COCO_SYSCALL_H

#include <copra/abi.h>

/* The generic entry.  Unused arguments may be passed as 0. */
static inline int64_t coco_syscall6(uint64_t nr, uint64_t a0, uint64_t a1,
                                    uint64_t a2, uint64_t a3, uint64_t a4,
                                    uint64_t a5)
{
    register uint64_t rax __asm__("rax") = nr;
    register uint64_t rdi __asm__("rdi") = a0;
    register uint64_t rsi __asm__("rsi") = a1;
    register uint64_t rdx __asm__("rdx") = a2;
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    __asm__ volatile("int $0x80"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(rdx), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return (int64_t)rax;
}
COPRA_STATIC_ASSERT(COPRA_SYSCALL_VECTOR == 0x80, "stub hard-codes int $0x80");

/* ---- One stub per syscall ------------------------------------------- */

/* EXIT: end the calling process with `status` (0..0x7f is what a parent and
 * QEMU's debug-exit device can see). */
_Noreturn void coco_exit(int status);

/* EXEC: start a new process; returns its process handle. */
int64_t coco_exec(const struct copra_exec_args *args);

/* CLOSE: drop a handle. */
int coco_close(copra_handle_t handle);

/* OPEN: open the initrd file `path` (`len` bytes, no NUL needed); returns
 * a file handle. */
int64_t coco_open(const char *path, size_t len);

/* READ: read up to `len` bytes at `offset`; returns bytes read, 0 at end. */
int64_t coco_read(copra_handle_t handle, void *buf, size_t len, uint64_t offset);

/* MMAP: map `len` bytes of `handle` (or anonymous, zero-filled memory for
 * COPRA_HANDLE_NONE) with COPRA_PROT_* `prot`; `addr` NULL lets the kernel
 * choose.  Returns the address. */
int64_t coco_mmap(copra_handle_t handle, void *addr, size_t len, uint32_t prot,
                  uint64_t offset);

/* MUNMAP: remove the mappings in [addr, addr + len). */
int coco_munmap(void *addr, size_t len);

/* LOG: write `len` (<= COPRA_LOG_MAX) bytes to the kernel log, which tags
 * each line with the process name. */
int coco_log(const char *buf, size_t len);

/* WAIT_FOR_EVENT: block until at least one of `count` items is ready or
 * `timeout_ns` passes (COPRA_WAIT_FOREVER: never); returns the ready count,
 * filling in each item's `ready` and `value`. */
int64_t coco_wait(struct copra_wait_item *items, unsigned count, uint64_t timeout_ns);

/* SYSINFO: fill `info` (`size` bytes, normally sizeof *info). */
int coco_sysinfo(struct copra_sysinfo *info, size_t size);

/* DUP: a new handle to the same object with `rights`, which must be a
 * subset of the rights `handle` holds (COPRA_ERIGHTS otherwise). */
int64_t coco_dup(copra_handle_t handle, uint32_t rights);

/*
 * THREAD_CREATE: start a thread in this process at entry(arg) with
 * RSP = stack_top (16-byte aligned, in a mapping the caller made) on CPU
 * `cpu` (an index below SYSINFO's ncpus, or COPRA_CPU_ANY).  Returns a
 * thread handle.  The entry is jumped to, not called: there is no return
 * address, so it must end with coco_thread_exit(), and a C function sees
 * its stack 8 bytes off the SysV alignment.  coco_thread_spawn() below
 * handles both; prefer it.
 */
int64_t coco_thread_create(void (*entry)(uint64_t), void *stack_top, uint64_t arg,
                           uint64_t cpu);

/* THREAD_EXIT: end the calling thread with `status` (what a join sees).
 * The last thread to leave ends the process with that status. */
_Noreturn void coco_thread_exit(int64_t status);

/* THREAD_SET_CPU: pin `thread` (COPRA_HANDLE_NONE: the caller, which moves
 * at once) to CPU `cpu`, or COPRA_CPU_ANY. */
int coco_thread_set_cpu(copra_handle_t thread, uint64_t cpu);

/* EVENT_CREATE: a counting event with an `area_pages`-page shared area
 * (0..COPRA_EVENT_AREA_MAX_PAGES) that MMAP can map.  Returns its handle. */
int64_t coco_event_create(unsigned area_pages);

/* SIGNAL: add one to the event's pending count and wake its waiters. */
int coco_signal(copra_handle_t event);

/* CLOCK: monotonic nanoseconds since boot. */
int64_t coco_clock(void);

/* TIMER_CREATE: a disarmed timer; returns its handle. */
int64_t coco_timer_create(void);

/* TIMER_SET: expire at `deadline_ns` (absolute, on CLOCK; 0 disarms), then
 * every `period_ns` (0: once).  WAIT reports the expirations since the
 * last WAIT. */
int coco_timer_set(copra_handle_t timer, uint64_t deadline_ns, uint64_t period_ns);

/* MEM_CREATE: `pages` zeroed pages as a memory object that MMAP maps and
 * EXEC can hand on; returns its handle. */
int64_t coco_mem_create(uint64_t pages);

/* BATCH: run `count` (<= COPRA_BATCH_MAX) records in order, one result
 * each; COPRA_BATCH_STOP_ON_ERROR in `flags` stops after the first
 * failure.  Returns the number of records run. */
int64_t coco_batch(const struct copra_batch_call *calls,
                   struct copra_batch_result *results, unsigned count, uint32_t flags);

/* CPU_CURRENT: the index of the CPU running the caller. */
int64_t coco_cpu_current(void);

/* ---- Received handles (what the parent's EXEC moved into us) -------- */

unsigned coco_handle_count(void);
/* The value of a "KEY=N" argument (decimal, 0x hex or 0 octal), or dflt. */
uint64_t coco_arg_u64(int argc, char **argv, const char *key, uint64_t dflt);
/* Handle number `index` in the order the parent passed them, or
 * COPRA_HANDLE_NONE if index >= coco_handle_count(). */
copra_handle_t coco_handle(unsigned index);

/* ---- Conveniences ---------------------------------------------------- */

/*
 * Start the initrd program `path` with `argc` arguments `argv` (argv[0] is
 * by convention the path; if argc is 0 or argv NULL, the child gets argv[0]
 * = path) and move `nhandles` handles into it.  Packs argv the way EXEC
 * wants.  Returns the child's process handle or a negative error
 * (COPRA_ERANGE if argv does not fit COPRA_ARGC_MAX / COPRA_ARGV_MAX or
 * nhandles exceeds COPRA_EXEC_HANDLES_MAX).
 */
int64_t coco_spawn(const char *path, int argc, const char *const argv[],
                   const copra_handle_t *handles, unsigned nhandles);

/* Block until the process behind `process` exits; store its exit status in
 * *status (if not NULL).  Does not close the handle.  Returns 0 or an error. */
int coco_wait_process(copra_handle_t process, int64_t *status);

/*
 * Read the whole initrd file `path` (NUL-terminated C string) into a
 * malloc'd buffer, NUL-terminated (the NUL is not counted in *len).  On
 * success *buf must be released with free().  Returns 0 or an error
 * (COPRA_ENOMEM if the buffer cannot be allocated).
 */
int coco_read_file(const char *path, char **buf, size_t *len);

/*
 * Start a thread running fn(arg) on a fresh `stack_size`-byte stack (0: a
 * default of COCO_THREAD_STACK_DEFAULT; rounded up to whole pages) on CPU
 * `cpu` (or COPRA_CPU_ANY); when fn returns, the thread ends with
 * THREAD_EXIT(fn's return value).  Returns the thread handle or a negative
 * error.  The stack has no guard page.
 *
 * A thread cannot unmap the stack it runs on, so libcoco remembers each
 * stack and coco_thread_join() unmaps it once the thread has ended.  A
 * thread that is never joined through coco_thread_join() keeps its stack
 * mapped until the process ends (or the caller MUNMAPs it after waiting on
 * the handle itself).
 */
#define COCO_THREAD_STACK_DEFAULT (64u * 1024)
int64_t coco_thread_spawn(int (*fn)(void *), void *arg, size_t stack_size, uint64_t cpu);

/*
 * Block until the thread behind `thread` has ended; store its status in
 * *status (if not NULL) and unmap its stack if coco_thread_spawn() made it.
 * Does not close the handle.  Returns 0 or an error.
 */
int coco_thread_join(copra_handle_t thread, int64_t *status);

/* A short constant name for an enum copra_error value ("EINVAL", ...). */
const char *coco_strerror(int64_t error);

#endif
