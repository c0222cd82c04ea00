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
#include <stdint.h>

/* Records and logs one check; returns `ok` so callers can skip dependants. */
bool coco_test_check(bool ok, const char *name, const char *file, int line);

/* Logs the summary; returns the exit status: 0 if nothing failed, else 1. */
int coco_test_finish(void);

/* Like coco_test_check(got == want, ...); on failure also logs
 *     got <got> (<error name>), want <want> (<error name>)
 * (error names only for negative values). */
bool coco_test_check_equal(int64_t got, int64_t want, const char *name,
                           const char *file, int line);

unsigned coco_test_passed(void);
unsigned coco_test_failed(void);

#define CHECK(name, cond) coco_test_check((cond) ? true : false, (name), __FILE__, __LINE__)
/* CHECK that the int64_t value of `expr` equals `want` (a result or error). */
#define CHECK_EQUAL(name, expr, want) \
    coco_test_check_equal((int64_t)(expr), (int64_t)(want), (name), __FILE__, __LINE__)

#endif
