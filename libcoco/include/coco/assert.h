/* SPDX-License-Identifier: MIT */
/*
 * assert(expr): if expr is false, LOG "assertion failed: FILE:LINE: EXPR"
 * and exit with status COCO_ASSERT_STATUS.
 *
 * Unlike C's assert, NDEBUG does not turn it off: CMake's default build type
 * here (RelWithDebInfo) defines NDEBUG, and a server that checks an
 * invariant should keep checking it.  Define COCO_NDEBUG to compile it out.
 */
#ifndef COCO_ASSERT_H
#define COCO_ASSERT_H

/* Exit status of a failed assertion.  Exit statuses are 0..0x7f; 0x7d-0x7e
 * are taken by the kernel (COPRA_STATUS_BOOT_ERROR, COPRA_STATUS_PANIC), so
 * a failed assertion reports 0x7b (123). */
#define COCO_ASSERT_STATUS 0x7b

_Noreturn void coco_assert_fail(const char *expr, const char *file, int line);

#ifdef COCO_NDEBUG
#define assert(expr) ((void)0)
#else
#define assert(expr) \
    ((expr) ? (void)0 : coco_assert_fail(#expr, __FILE__, __LINE__))
#endif

#endif
