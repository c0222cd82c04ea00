/* SPDX-License-Identifier: MIT */
/*
 * Test reporting for programs that run under QEMU.  Each check LOGs one line
 *     PASS <name>
 *     FAIL <name> (<file>:<line>)
 * and coco_test_finish() LOGs the summary line
 *     <N> passed, <M> failed
 * which the host-side runner parses.  Typical use:
 *     int main(void) { CHECK("open", coco_open("x", 1) >= 0);
 *                      return coco_test_finish(); }
 */
#ifndef COCO_TEST_H
#define COCO_TEST_H

#include <stdbool.h>

/* Records and logs one check; returns `ok` so callers can skip dependants. */
bool coco_test_check(bool ok, const char *name, const char *file, int line);

/* Logs the summary; returns the exit status: 0 if nothing failed, else 1. */
int coco_test_finish(void);

unsigned coco_test_passed(void);
unsigned coco_test_failed(void);

#define CHECK(name, cond) coco_test_check((cond) ? true : false, (name), __FILE__, __LINE__)

#endif
