/* SPDX-License-Identifier: MIT */
/*
 * BATCH (abi/copra/syscall.h): records run in order as separate syscalls,
 * one result each with the record's user_data; failures are results, not
 * the batch's return, unless STOP_ON_ERROR stops the batch after the first
 * one (results past it untouched); EXIT, THREAD_EXIT and BATCH inside a
 * batch are refused with EINVAL; bad pointers are EFAULT; more than
 * COPRA_BATCH_MAX records is ERANGE.
 */
#include <coco/coco.h>
#include <coco/test.h>

#define KPTR      0xFFFFFFFFC0010000ull
#define UNMAPPED  0x00007f0000000000ull
#define FORGED    0x7fff00ffu
#define UNTOUCHED 0x5a5a5a5a5a5a5a5all
#define NOT_A_SYSCALL 999u

static struct copra_batch_call calls[COPRA_BATCH_MAX + 1];
static struct copra_batch_result results[COPRA_BATCH_MAX + 1];

static void reset(void)
{
    memset(calls, 0, sizeof calls);
    for (unsigned i = 0; i < COPRA_BATCH_MAX + 1; i++)
        results[i] = (struct copra_batch_result){ .result = (int64_t)UNTOUCHED,
                                                  .user_data = UNTOUCHED };
}

static void record(unsigned i, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    calls[i] = (struct copra_batch_call){
        .nr = nr, .args = { a0, a1, a2 }, .user_data = 0xba7c0000u + i,
    };
}

static bool user_data_ok(unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        if (results[i].user_data != 0xba7c0000u + i)
            return false;
    return true;
}

static bool untouched(unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        if (results[i].result != (int64_t)UNTOUCHED || results[i].user_data != UNTOUCHED)
            return false;
    return true;
}

static void test_mixed(void)
{
    static const char line[] = "a LOG record inside a BATCH";
    static struct copra_sysinfo info;
    int64_t event = coco_event_create(0);
    struct copra_wait_item item = { .handle = (copra_handle_t)event };

    reset();
    record(0, COPRA_SYS_CPU_CURRENT, 0, 0, 0);
    record(1, COPRA_SYS_CLOCK, 0, 0, 0);
    record(2, COPRA_SYS_SYSINFO, (uint64_t)&info, sizeof info, 0);
    record(3, COPRA_SYS_LOG, (uint64_t)line, sizeof line - 1, 0);
    record(4, NOT_A_SYSCALL, 0, 0, 0);
    record(5, COPRA_SYS_CLOSE, FORGED, 0, 0);
    record(6, COPRA_SYS_SIGNAL, (uint64_t)event, 0, 0);
    record(7, COPRA_SYS_WAIT_FOR_EVENT, (uint64_t)&item, 1, 0);   /* sees record 6 */
    record(8, COPRA_SYS_LOG, KPTR, 8, 0);
    record(9, COPRA_SYS_EVENT_CREATE, 0, 0, 0);
    record(10, COPRA_SYS_CLOCK, 0, 0, 0);

    int64_t ran = coco_batch(calls, results, 11, 0);
    CHECK_EQUAL("BATCH of 11 records without STOP_ON_ERROR runs all", ran, 11);
    CHECK("every result carries its record's user_data", user_data_ok(11));
    CHECK("CPU_CURRENT in a batch", results[0].result >= 0 && results[0].result < COPRA_CPUS_MAX);
    CHECK("CLOCK in a batch", results[1].result > 0);
    CHECK_EQUAL("SYSINFO in a batch", results[2].result, 0);
    CHECK("SYSINFO wrote through its pointer", info.abi_version == COPRA_ABI_VERSION);
    CHECK_EQUAL("LOG in a batch", results[3].result, 0);
    CHECK_EQUAL("an unknown number in a batch -> ENOSYS", results[4].result, COPRA_ENOSYS);
    CHECK_EQUAL("CLOSE of a forged handle in a batch -> EBADH", results[5].result, COPRA_EBADH);
    CHECK_EQUAL("SIGNAL in a batch", results[6].result, 0);
    CHECK_EQUAL("a later record sees an earlier one's effect (WAIT after SIGNAL)",
                results[7].result, 1);
    CHECK("and fills the WAIT item", item.ready == 1 && item.value == 1);
    CHECK_EQUAL("a bad pointer inside a record -> that record's EFAULT", results[8].result,
                COPRA_EFAULT);
    CHECK("EVENT_CREATE in a batch returns a handle", results[9].result > 0);
    CHECK("records run in order (CLOCK)", results[10].result >= results[1].result);
    if (results[9].result > 0) {
        CHECK_EQUAL("the handle created in a batch is usable",
                    coco_signal((copra_handle_t)results[9].result), 0);
        coco_close((copra_handle_t)results[9].result);
    }
    coco_close((copra_handle_t)event);
}

static void test_stop_on_error(void)
{
    reset();
    record(0, COPRA_SYS_CLOCK, 0, 0, 0);
    record(1, COPRA_SYS_CPU_CURRENT, 0, 0, 0);
    record(2, COPRA_SYS_CLOSE, FORGED, 0, 0);
    record(3, COPRA_SYS_CLOCK, 0, 0, 0);
    record(4, COPRA_SYS_CLOCK, 0, 0, 0);

    CHECK_EQUAL("STOP_ON_ERROR stops after the failing record",
                coco_batch(calls, results, 5, COPRA_BATCH_STOP_ON_ERROR), 3);
    CHECK("results up to the failure are filled", results[0].result > 0 &&
          results[1].result == 0 && results[2].result == COPRA_EBADH && user_data_ok(3));
    CHECK("results past the failure are untouched", untouched(3, 5));

    reset();
    record(0, COPRA_SYS_CLOCK, 0, 0, 0);
    record(1, COPRA_SYS_CLOSE, FORGED, 0, 0);
    record(2, COPRA_SYS_CLOCK, 0, 0, 0);
    CHECK_EQUAL("without STOP_ON_ERROR the batch runs past the failure",
                coco_batch(calls, results, 3, 0), 3);
    CHECK("and fills every result", results[1].result == COPRA_EBADH &&
          results[2].result >= results[0].result && user_data_ok(3) && untouched(3, 5));

    reset();
    for (unsigned i = 0; i < COPRA_BATCH_MAX; i++)
        record(i, COPRA_SYS_CLOCK, 0, 0, 0);
    CHECK_EQUAL("STOP_ON_ERROR with no failure runs all 64",
                coco_batch(calls, results, COPRA_BATCH_MAX, COPRA_BATCH_STOP_ON_ERROR),
                COPRA_BATCH_MAX);
    bool ordered = user_data_ok(COPRA_BATCH_MAX);
    for (unsigned i = 1; i < COPRA_BATCH_MAX; i++)
        ordered &= results[i].result >= results[i - 1].result;
    CHECK("64 CLOCK records: in order, each with its user_data", ordered);
    CHECK("the 65th result is untouched", untouched(COPRA_BATCH_MAX, COPRA_BATCH_MAX + 1));
}

static void test_refused(void)
{
    reset();
    record(0, COPRA_SYS_EXIT, 3, 0, 0);
    record(1, COPRA_SYS_THREAD_EXIT, 4, 0, 0);
    record(2, COPRA_SYS_BATCH, (uint64_t)calls, (uint64_t)results, 1);
    record(3, COPRA_SYS_CLOCK, 0, 0, 0);
    CHECK_EQUAL("a batch with EXIT, THREAD_EXIT and BATCH records still runs",
                coco_batch(calls, results, 4, 0), 4);
    CHECK_EQUAL("EXIT inside a batch -> EINVAL (and we are alive)", results[0].result, COPRA_EINVAL);
    CHECK_EQUAL("THREAD_EXIT inside a batch -> EINVAL", results[1].result, COPRA_EINVAL);
    CHECK_EQUAL("BATCH inside a batch -> EINVAL", results[2].result, COPRA_EINVAL);
    CHECK("the record after them runs", results[3].result > 0 && user_data_ok(4));

    reset();
    record(0, COPRA_SYS_EXIT, 3, 0, 0);
    record(1, COPRA_SYS_CLOCK, 0, 0, 0);
    CHECK_EQUAL("EXIT inside a batch counts as a failure for STOP_ON_ERROR",
                coco_batch(calls, results, 2, COPRA_BATCH_STOP_ON_ERROR), 1);
}

static void test_bad_arguments(void)
{
    reset();
    record(0, COPRA_SYS_CLOCK, 0, 0, 0);
    CHECK_EQUAL("BATCH records at a kernel address -> EFAULT",
                coco_batch((void *)(uintptr_t)KPTR, results, 1, 0), COPRA_EFAULT);
    CHECK_EQUAL("BATCH records unmapped -> EFAULT",
                coco_batch((void *)(uintptr_t)UNMAPPED, results, 1, 0), COPRA_EFAULT);
    CHECK_EQUAL("BATCH records null -> EFAULT", coco_batch(NULL, results, 1, 0), COPRA_EFAULT);
    CHECK_EQUAL("BATCH results at a kernel address -> EFAULT",
                coco_batch(calls, (void *)(uintptr_t)KPTR, 1, 0), COPRA_EFAULT);
    CHECK_EQUAL("BATCH results unmapped -> EFAULT",
                coco_batch(calls, (void *)(uintptr_t)UNMAPPED, 1, 0), COPRA_EFAULT);
    CHECK_EQUAL("BATCH results in read-only text -> EFAULT",
                coco_batch(calls, (void *)(uintptr_t)&test_bad_arguments, 1, 0), COPRA_EFAULT);
    CHECK_EQUAL("BATCH of COPRA_BATCH_MAX + 1 records -> ERANGE",
                coco_batch(calls, results, COPRA_BATCH_MAX + 1, 0), COPRA_ERANGE);
    CHECK_EQUAL("BATCH of 2^32 + 1 records -> ERANGE",
                coco_syscall6(COPRA_SYS_BATCH, (uint64_t)calls, (uint64_t)results,
                              (1ull << 32) + 1, 0, 0, 0), COPRA_ERANGE);
    CHECK_EQUAL("BATCH with an unknown flag -> EINVAL", coco_batch(calls, results, 1, 0x100),
                COPRA_EINVAL);
    CHECK("refused batches leave the results untouched", untouched(0, COPRA_BATCH_MAX + 1));
    /* The records straddle the end of a mapping (the next page is unmapped). */
    int64_t page = coco_mmap(COPRA_HANDLE_NONE, NULL, 2 * COPRA_PAGE_SIZE,
                             COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (page > 0 && coco_munmap((void *)(uintptr_t)(page + COPRA_PAGE_SIZE), COPRA_PAGE_SIZE) == 0) {
        struct copra_batch_call *last = (struct copra_batch_call *)(uintptr_t)
            (page + COPRA_PAGE_SIZE - sizeof(struct copra_batch_call));
        *last = calls[0];
        CHECK_EQUAL("BATCH records running off their mapping -> EFAULT",
                    coco_batch(last, results, 2, 0), COPRA_EFAULT);
        coco_munmap((void *)(uintptr_t)page, COPRA_PAGE_SIZE);
    }
}

int main(void)
{
    test_mixed();
    test_stop_on_error();
    test_refused();
    test_bad_arguments();
    return coco_test_finish();
}
