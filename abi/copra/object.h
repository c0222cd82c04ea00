/* SPDX-License-Identifier: MIT */
/* Kernel object types and handle rights. */
#ifndef COPRA_ABI_OBJECT_H
#define COPRA_ABI_OBJECT_H

#include "types.h"

/*
 * A handle is a process-local 32-bit value: (generation << 16) | slot.
 * Generations start at 1, so 0 is never a valid handle; COPRA_HANDLE_NONE
 * is used where a call takes an optional handle (anonymous MMAP).
 */
typedef uint32_t copra_handle_t;
#define COPRA_HANDLE_NONE 0u

enum copra_object_type {
    COPRA_OBJ_NONE    = 0,
    COPRA_OBJ_PROCESS = 1,
    COPRA_OBJ_THREAD  = 2,
    COPRA_OBJ_FILE    = 3,
    COPRA_OBJ_MEMORY  = 4,
    COPRA_OBJ_EVENT   = 5,
    COPRA_OBJ_TIMER   = 6,
    COPRA_OBJ_VM      = 7,
    COPRA_OBJ_VCPU    = 8,
    COPRA_OBJ_MMIO    = 9,
    COPRA_OBJ_IOIO    = 10,
    COPRA_OBJ_IRQ     = 11,
    COPRA_OBJ_CONSOLE = 12,   /* input from the system console (see below) */
    COPRA_OBJ_VMCTL   = 13,   /* the right to create VMs (ABI 6, see below) */
    COPRA_OBJ_COUNT
};

/* Rights held by a handle.  A call checks the rights it needs before acting. */
#define COPRA_RIGHT_READ     (1u << 0) /* READ file contents, GET_STATE     */
#define COPRA_RIGHT_WRITE    (1u << 1) /* SET_STATE, writable mappings      */
#define COPRA_RIGHT_MAP      (1u << 2) /* MMAP the object                   */
#define COPRA_RIGHT_SIGNAL   (1u << 3) /* SIGNAL an event, raise an IRQ     */
#define COPRA_RIGHT_WAIT     (1u << 4) /* WAIT_FOR_EVENT on the object      */
#define COPRA_RIGHT_TRANSFER (1u << 5) /* move the handle to a child (EXEC) */
#define COPRA_RIGHT_MANAGE   (1u << 6) /* create sub-objects, kill, configure */
#define COPRA_RIGHTS_ALL     0x7fu

/*
 * Rights a new handle gets (DUP can only take rights away):
 *   process (EXEC)          WAIT | MANAGE | TRANSFER
 *   thread (THREAD_CREATE)  WAIT | MANAGE | TRANSFER
 *   file (OPEN)             READ | MAP | TRANSFER
 *   memory (MEM_CREATE)     READ | WRITE | MAP | TRANSFER
 *   event (EVENT_CREATE)    SIGNAL | WAIT | MAP | TRANSFER
 *   timer (TIMER_CREATE)    WAIT | MANAGE | TRANSFER
 * Rights each call needs: READ (READ), MMAP (MAP; and WRITE for a writable
 * mapping of a memory object), SIGNAL (SIGNAL), WAIT_FOR_EVENT (WAIT),
 * TIMER_SET, THREAD_SET_CPU on another thread and VM_CREATE (MANAGE), EXEC's handle
 * list (TRANSFER).  DUP and CLOSE need none.
 */
#define COPRA_RIGHTS_PROCESS (COPRA_RIGHT_WAIT | COPRA_RIGHT_MANAGE | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_THREAD  (COPRA_RIGHT_WAIT | COPRA_RIGHT_MANAGE | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_FILE    (COPRA_RIGHT_READ | COPRA_RIGHT_MAP | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_MEMORY  (COPRA_RIGHT_READ | COPRA_RIGHT_WRITE | COPRA_RIGHT_MAP | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_EVENT   (COPRA_RIGHT_SIGNAL | COPRA_RIGHT_WAIT | COPRA_RIGHT_MAP | COPRA_RIGHT_TRANSFER)
#define COPRA_RIGHTS_TIMER   (COPRA_RIGHT_WAIT | COPRA_RIGHT_MANAGE | COPRA_RIGHT_TRANSFER)

/*
 * The console: the first process receives one handle to it (its received
 * handle 0), to hand on to whichever server owns console input (the UART
 * device model).  WAIT: counting, value = bytes that arrived since the last
 * such WAIT.  READ(console, buf, len, 0) takes up to len buffered bytes and
 * never blocks (0 = nothing buffered).
 */
#define COPRA_RIGHTS_CONSOLE (COPRA_RIGHT_READ | COPRA_RIGHT_WAIT | COPRA_RIGHT_TRANSFER)

/*
 * The VM-creation capability: the first process receives one handle to it
 * (its received handle 1) and hands it on (DUP, EXEC) to whoever may create
 * VMs.  VM_CREATE(vmctl) needs MANAGE on it.
 */
#define COPRA_RIGHTS_VMCTL (COPRA_RIGHT_MANAGE | COPRA_RIGHT_TRANSFER)

#endif
