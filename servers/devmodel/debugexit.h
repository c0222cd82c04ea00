/* SPDX-License-Identifier: MIT */
/* The exit-status protocol between the debugexit model and the VMM (debugexit.c). */
#ifndef DEVMODEL_DEBUGEXIT_H
#define DEVMODEL_DEBUGEXIT_H

/* debugexit exits with BASE | vcpu << 8 | value (0..0x7f, or 0x80 for a
 * value above 0x7f); a fault gives 0x100 + vector, always below BASE. */
#define DEBUGEXIT_STATUS_BASE     0x1000
#define DEBUGEXIT_STATUS_TOO_BIG  0x80
#define DEBUGEXIT_STATUS(vcpu, value) \
    (DEBUGEXIT_STATUS_BASE | (int)((vcpu) << 8) | ((value) <= 0x7f ? (int)(value) : DEBUGEXIT_STATUS_TOO_BIG))

#endif
