/* SPDX-License-Identifier: MIT */
/*
 * The allocator: first fit over an address-ordered free list, carved from
 * 64 KiB chunks of anonymous MMAP memory.  Requests of LARGE_MIN bytes or
 * more get a mapping of their own, returned with MUNMAP on free.  Chunks are
 * never returned.
 *
 * Every block starts with a 16-byte header, so payloads are 16-aligned
 * (chunks and large mappings are page-aligned).  A free block's payload
 * holds the free-list link.  Each chunk ends in a zero-sized "used" sentinel
 * header so coalescing never joins blocks of two chunks that happen to be
 * adjacent in the address space.  One spinlock guards the free list; VCPU
 * threads of the VMM share it.
 */
#include <coco/assert.h>
#include <coco/libc.h>
#include <coco/syscall.h>

#define ALIGNMENT   16u
#define HEADER_SIZE 16u
#define CHUNK_SIZE  (64u * 1024)
#define LARGE_MIN   (32u * 1024)   /* payloads this big are mapped directly */
#define SPLIT_MIN   (HEADER_SIZE + 32u)

#define MAGIC_FREE  0xf4eeb10cu
#define MAGIC_USED  0x05edb10cu
#define MAGIC_LARGE 0x1a46eb10u

struct block {
    uint64_t size;   /* payload bytes (multiple of 16); large: mapping - header */
    uint32_t magic;  /* MAGIC_FREE, MAGIC_USED or MAGIC_LARGE */
    uint32_t reserved;
};
COPRA_STATIC_ASSERT(sizeof(struct block) == HEADER_SIZE, "block header");

static struct block *free_list;  /* address order; guarded by heap_lock */
static bool heap_lock;

static void heap_acquire(void)
{
    while (__atomic_test_and_set(&heap_lock, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}

static void heap_release(void)
{
    __atomic_clear(&heap_lock, __ATOMIC_RELEASE);
}

static struct block **block_next(struct block *b)
{
    return (struct block **)(void *)(b + 1);
}

static struct block *block_after(struct block *b)
{
    return (struct block *)((char *)(b + 1) + b->size);
}

static _Noreturn void heap_corrupt(const char *what, const void *ptr)
{
    coco_printf("malloc: %s %p\n", what, ptr);
    coco_exit(COCO_ASSERT_STATUS);
}

/* Insert `b` in address order, merging with its neighbours. */
static void free_list_insert(struct block *b)
{
    struct block *prev = NULL, *next = free_list;

    while (next != NULL && next < b) {
        prev = next;
        next = *block_next(next);
    }
    if (next == b)
        heap_corrupt("double free of", b + 1);

    b->magic = MAGIC_FREE;
    if (next != NULL && block_after(b) == next) {
        b->size += HEADER_SIZE + next->size;
        next = *block_next(next);
    }
    *block_next(b) = next;
    if (prev != NULL && block_after(prev) == b) {
        prev->size += HEADER_SIZE + b->size;
        *block_next(prev) = next;
    } else if (prev != NULL) {
        *block_next(prev) = b;
    } else {
        free_list = b;
    }
}

static bool heap_grow(void)
{
    int64_t addr = coco_mmap(COPRA_HANDLE_NONE, NULL, CHUNK_SIZE,
                             COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (addr < 0)
        return false;

    struct block *first = (struct block *)(uintptr_t)addr;
    struct block *sentinel = (struct block *)((char *)first + CHUNK_SIZE - HEADER_SIZE);
    first->size = CHUNK_SIZE - 2 * HEADER_SIZE;
    sentinel->size = 0;
    sentinel->magic = MAGIC_USED;
    free_list_insert(first);
    return true;
}

static void *malloc_large(size_t size)
{
    size_t length = (size + HEADER_SIZE + COPRA_PAGE_SIZE - 1) & ~(size_t)(COPRA_PAGE_SIZE - 1);
    int64_t addr = coco_mmap(COPRA_HANDLE_NONE, NULL, length,
                             COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (addr < 0)
        return NULL;

    struct block *b = (struct block *)(uintptr_t)addr;
    b->size = length - HEADER_SIZE;
    b->magic = MAGIC_LARGE;
    return b + 1;
}

void *malloc(size_t size)
{
    if (size > SIZE_MAX - COPRA_PAGE_SIZE - HEADER_SIZE)
        return NULL;
    size_t need = size == 0 ? ALIGNMENT : (size + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1);
    if (need >= LARGE_MIN)
        return malloc_large(need);

    heap_acquire();
    for (int attempt = 0; attempt < 2; attempt++) {
        struct block **link = &free_list;
        for (struct block *b = free_list; b != NULL; link = block_next(b), b = *link) {
            if (b->size < need)
                continue;
            if (b->size - need >= SPLIT_MIN) {
                struct block *rest = (struct block *)((char *)(b + 1) + need);
                rest->size = b->size - need - HEADER_SIZE;
                rest->magic = MAGIC_FREE;
                *block_next(rest) = *block_next(b);
                *link = rest;
                b->size = need;
            } else {
                *link = *block_next(b);
            }
            b->magic = MAGIC_USED;
            heap_release();
            return b + 1;
        }
        if (attempt == 0 && !heap_grow())
            break;
    }
    heap_release();
    return NULL;
}

static struct block *block_of(void *ptr)
{
    if ((uintptr_t)ptr % ALIGNMENT != 0)
        heap_corrupt("misaligned pointer", ptr);
    return (struct block *)ptr - 1;
}

void free(void *ptr)
{
    if (ptr == NULL)
        return;
    struct block *b = block_of(ptr);

    if (b->magic == MAGIC_LARGE) {
        b->magic = 0;
        coco_munmap(b, b->size + HEADER_SIZE);
        return;
    }
    if (b->magic != MAGIC_USED)
        heap_corrupt(b->magic == MAGIC_FREE ? "double free of" : "free of bad pointer", ptr);
    heap_acquire();
    free_list_insert(b);
    heap_release();
}

void *calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    struct block *b = block_of(ptr);
    if (b->magic != MAGIC_USED && b->magic != MAGIC_LARGE)
        heap_corrupt("realloc of bad pointer", ptr);
    if (b->size >= size)
        return ptr;

    void *bigger = malloc(size);
    if (bigger == NULL)
        return NULL;
    memcpy(bigger, ptr, b->size);
    free(ptr);
    return bigger;
}
