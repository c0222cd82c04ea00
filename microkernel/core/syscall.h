/* SPDX-License-Identifier: MIT */
/*
 * The syscall table.  Each entry is sys_<name>() in the file of the object
 * it acts on; every one validates all of its arguments before acting.
 */
#ifndef CORE_SYSCALL_H
#define CORE_SYSCALL_H

#include "arch/x86_64/trap.h"

void syscall_dispatch(struct trap_frame *f);

typedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
#define SYSCALL_FN(f) ((syscall_fn)(void (*)(void))(f))
/* A subsystem outside core (virt/) adds its syscalls at boot (KERNEL_INIT). */
void syscall_register(unsigned nr, syscall_fn fn);

int64_t sys_exit(uint64_t status);                                    /* process.c */
int64_t sys_exec(uint64_t args);                                      /* process.c */
int64_t sys_close(uint64_t h);                                        /* process.c */
int64_t sys_open(uint64_t path, uint64_t len);                        /* initrd.c  */
int64_t sys_read(uint64_t h, uint64_t buf, uint64_t len, uint64_t off); /* initrd.c */
int64_t sys_mmap(uint64_t h, uint64_t addr, uint64_t len, uint64_t prot, uint64_t off); /* aspace.c */
int64_t sys_munmap(uint64_t addr, uint64_t len);                      /* aspace.c  */
int64_t sys_log(uint64_t buf, uint64_t len);                          /* syscall.c */
int64_t sys_wait_for_event(uint64_t items, uint64_t count, uint64_t timeout_ns); /* wait.c */
int64_t sys_sysinfo(uint64_t info, uint64_t size);                    /* syscall.c */
int64_t sys_dup(uint64_t h, uint64_t rights);                         /* process.c */
int64_t sys_thread_create(uint64_t entry, uint64_t stack, uint64_t arg, uint64_t cpu); /* thread.c */
int64_t sys_thread_exit(uint64_t status);                             /* thread.c  */
int64_t sys_thread_set_cpu(uint64_t h, uint64_t cpu);                 /* thread.c  */
int64_t sys_cpu_current(void);                                        /* thread.c  */
int64_t sys_event_create(uint64_t pages);                             /* event.c   */
int64_t sys_signal(uint64_t h);                                       /* event.c   */
int64_t sys_clock(void);                                              /* timer.c   */
int64_t sys_timer_create(void);                                       /* timer.c   */
int64_t sys_timer_set(uint64_t h, uint64_t deadline, uint64_t period); /* timer.c  */
int64_t sys_mem_create(uint64_t pages);                               /* memobj.c  */
int64_t sys_set_mem_state(uint64_t h, uint64_t off, uint64_t len, uint64_t state); /* memobj.c */
int64_t sys_batch(uint64_t calls, uint64_t results, uint64_t count, uint64_t flags); /* syscall.c */

#endif
