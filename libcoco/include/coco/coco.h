/* SPDX-License-Identifier: MIT */
/* Everything a Copra server usually needs from libcoco. */
#ifndef COCO_COCO_H
#define COCO_COCO_H

#include <copra/abi.h>
#include <coco/libc.h>
#include <coco/syscall.h>
#include <coco/assert.h>

#endif
