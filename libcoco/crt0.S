/* SPDX-License-Identifier: MIT */
/*
 * Process entry.  The kernel enters here in ring 3 with RSP 16-byte aligned
 * and pointing at the initial stack described in abi/copra/syscall.h:
 *     argc, argv[0] .. argv[argc-1], 0, nhandles, handle[0] .. handle[n-1]
 * (all 8-byte words).  Everything else is done in C (start.c).
 */
    .section .text._start, "ax", @progbits
    .globl  _start
    .type   _start, @function
_start:
    xorl    %ebp, %ebp              /* outermost frame: end of back traces */
    movq    %rsp, %rdi              /* coco_runtime_start(initial stack)   */
    andq    $-16, %rsp              /* SysV: RSP+8 is 16-aligned at entry  */
    call    coco_runtime_start      /* of the callee, hence 16 before CALL */
    ud2                             /* coco_runtime_start never returns    */
    .size   _start, . - _start

    .section .note.GNU-stack, "", @progbits
