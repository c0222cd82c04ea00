/* SPDX-License-Identifier: MIT */
/*
 * Threads as C functions: coco_thread_spawn() maps a stack, starts the
 * thread on it through an assembly trampoline that calls fn(arg) with the
 * SysV stack alignment and ends the thread with THREAD_EXIT(fn's return);
 * coco_thread_join() waits and unmaps the stack.
 *
 * A thread cannot unmap its own stack (it runs on it until THREAD_EXIT), so
 * every stack spawn made is kept in `stacks`, keyed by the thread handle,
 * until a join takes it.  `stacks_lock` guards that list.
 */
#include <coco/libc.h>
#include <coco/syscall.h>

/* What the trampoline finds at the top of the new stack. */
struct thread_start {
    int (*fn)(void *);
    void *arg;
};
COPRA_STATIC_ASSERT(sizeof(struct thread_start) % 16 == 0, "stack top stays 16-aligned");

struct thread_stack {
    struct thread_stack *next;
    copra_handle_t thread;
    void *base;
    size_t size;
};

static struct thread_stack *stacks;  /* guarded by stacks_lock */
static bool stacks_lock;

static void stacks_acquire(void)
{
    while (__atomic_test_and_set(&stacks_lock, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}

static void stacks_release(void)
{
    __atomic_clear(&stacks_lock, __ATOMIC_RELEASE);
}

_Noreturn void coco_thread_main(const struct thread_start *start);

/*
 * THREAD_CREATE enters here with RDI = RSP = the struct thread_start at the
 * top of the stack, RSP 16-byte aligned.  CALL pushes the return address,
 * so coco_thread_main sees RSP + 8 aligned to 16 as SysV wants.
 */
__asm__(
    "    .section .text.coco_thread_entry, \"ax\", @progbits\n"
    "    .globl  coco_thread_entry\n"
    "    .type   coco_thread_entry, @function\n"
    "coco_thread_entry:\n"
    "    xorl    %ebp, %ebp\n"          /* outermost frame: end of back traces */
    "    call    coco_thread_main\n"
    "    ud2\n"
    "    .size   coco_thread_entry, . - coco_thread_entry\n"
    "    .text\n");
void coco_thread_entry(uint64_t start);

_Noreturn void coco_thread_main(const struct thread_start *start)
{
    coco_thread_exit(start->fn(start->arg));
}

int64_t coco_thread_spawn(int (*fn)(void *), void *arg, size_t stack_size, uint64_t cpu)
{
    struct thread_stack *record;
    struct thread_start *start;
    int64_t addr, thread;

    if (fn == NULL)
        return COPRA_EINVAL;
    if (stack_size == 0)
        stack_size = COCO_THREAD_STACK_DEFAULT;
    if (stack_size > SIZE_MAX - COPRA_PAGE_SIZE)
        return COPRA_ERANGE;
    stack_size = (stack_size + COPRA_PAGE_SIZE - 1) & ~(size_t)(COPRA_PAGE_SIZE - 1);

    record = malloc(sizeof *record);
    if (record == NULL)
        return COPRA_ENOMEM;
    addr = coco_mmap(COPRA_HANDLE_NONE, NULL, stack_size,
                     COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (addr < 0) {
        free(record);
        return addr;
    }

    start = (struct thread_start *)(uintptr_t)((uint64_t)addr + stack_size) - 1;
    start->fn = fn;
    start->arg = arg;
    thread = coco_thread_create(coco_thread_entry, start, (uint64_t)(uintptr_t)start, cpu);
    if (thread < 0) {
        coco_munmap((void *)(uintptr_t)addr, stack_size);
        free(record);
        return thread;
    }

    *record = (struct thread_stack){
        .thread = (copra_handle_t)thread,
        .base = (void *)(uintptr_t)addr,
        .size = stack_size,
    };
    stacks_acquire();
    record->next = stacks;
    stacks = record;
    stacks_release();
    return thread;
}

int coco_thread_join(copra_handle_t thread, int64_t *status)
{
    struct copra_wait_item item;
    struct thread_stack *record = NULL;

    for (;;) {
        item = (struct copra_wait_item){ .handle = thread };
        int64_t ready = coco_wait(&item, 1, COPRA_WAIT_FOREVER);
        if (ready < 0)
            return (int)ready;
        if (item.ready)
            break;
    }
    if (status != NULL)
        *status = (int64_t)item.value;

    stacks_acquire();
    for (struct thread_stack **link = &stacks; *link != NULL; link = &(*link)->next) {
        if ((*link)->thread == thread) {
            record = *link;
            *link = record->next;
            break;
        }
    }
    stacks_release();
    if (record != NULL) {
        coco_munmap(record->base, record->size);
        free(record);
    }
    return 0;
}
