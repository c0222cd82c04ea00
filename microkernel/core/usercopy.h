/* SPDX-License-Identifier: MIT */
/*
 * Copies between kernel and user memory.  The range check rejects anything
 * outside [0, COPRA_USER_END) before touching it; an unmapped or read-only
 * user page faults inside usercopy() and turns into COPRA_EFAULT (trap.c).
 */
#ifndef CORE_USERCOPY_H
#define CORE_USERCOPY_H

#include "core/kernel.h"

int64_t usercopy(void *dst, const void *src, size_t len);

static inline bool user_range_ok(uint64_t addr, uint64_t len)
{
    return addr < COPRA_USER_END && len <= COPRA_USER_END - addr;
}

static inline int copy_from_user(void *dst, uint64_t src, size_t len)
{
    if (!user_range_ok(src, len))
        return COPRA_EFAULT;
    return (int)usercopy(dst, (const void *)(uintptr_t)src, len);
}

static inline int copy_to_user(uint64_t dst, const void *src, size_t len)
{
    if (!user_range_ok(dst, len))
        return COPRA_EFAULT;
    return (int)usercopy((void *)(uintptr_t)dst, src, len);
}

#endif
