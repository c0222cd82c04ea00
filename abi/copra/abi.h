/* SPDX-License-Identifier: MIT */
/* The Copra kernel/user contract.  Bump COPRA_ABI_VERSION on any change of a
 * number or layout and record it in abi/CHANGELOG.md. */
#ifndef COPRA_ABI_H
#define COPRA_ABI_H

#define COPRA_ABI_VERSION 9u

#include "types.h"
#include "errors.h"
#include "object.h"
#include "syscall.h"
#include "manifest.h"
#include "vm.h"

#endif
