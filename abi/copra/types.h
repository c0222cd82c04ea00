/* SPDX-License-Identifier: MIT */
/* Fixed-width types for the ABI headers, usable in freestanding and hosted builds. */
#ifndef COPRA_ABI_TYPES_H
#define COPRA_ABI_TYPES_H

#include <stdint.h>
#include <stddef.h>

#define COPRA_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

#endif
