/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libcoco's virtio-mmio transport (libcoco/virtio.c):
 * random descriptor tables and rings over a guest RAM buffer of exactly
 * RAM_BYTES (so AddressSanitizer catches any access outside it), walked
 * directly and through the register file as a driver would drive it.
 * Build: clang -fsanitize=fuzzer,address,undefined -I libcoco/include \
 *            tests/fuzz/virtio_fuzz.c libcoco/virtio.c
 *
 * Input: 9-byte header {num_log2, flags, desc le16, driver le16, device
 * le16, nops}, nops register accesses of 6 bytes {offset/4 | 0x80 = read,
 * size code, value le32}, then guest RAM (zero-padded).  Besides memory
 * errors it traps when a popped chain breaks the walker's contract.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <coco/virtio.h>

#define RAM_BYTES   4096u
#define HEADER      9u
#define OP_BYTES    6u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct virtio_chain chain;
static uint8_t scratch[RAM_BYTES + 64];

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* The contract: segments inside RAM, NULL only with an error, byte counts
 * that add up, at most VIRTIO_QUEUE_NUM_MAX of them. */
static void chain_check(const struct virtio_guest_ram *ram, const struct virtio_chain *c,
                        unsigned num)
{
    uint64_t readable = 0, writable = 0;
    if (c->head >= num || c->nsegments > VIRTIO_QUEUE_NUM_MAX)
        __builtin_trap();
    for (unsigned i = 0; i < c->nsegments; i++) {
        const struct virtio_segment *s = &c->segment[i];
        if (s->data == NULL) {
            if (!(c->error & VIRTIO_CHAIN_OUTSIDE_RAM))
                __builtin_trap();
        } else if (s->data < ram->base || (uint64_t)(s->data - ram->base) + s->len > ram->size) {
            __builtin_trap();
        }
        if (s->device_writes)
            writable += s->len;
        else
            readable += s->len;
    }
    if (readable != c->readable || writable != c->writable)
        __builtin_trap();
    /* A walk that stopped on a structural fault never claims the end. */
    if ((c->error & (VIRTIO_CHAIN_BAD_INDEX | VIRTIO_CHAIN_TOO_LONG | VIRTIO_CHAIN_BAD_INDIRECT)) &&
        c->complete)
        __builtin_trap();
    if (c->error == 0 && !c->complete)
        __builtin_trap();
}

/* What a model does with a chain: read it, write it, give it back. */
static void chain_use(const struct virtio_chain *c)
{
    uint64_t got = virtio_chain_read(c, 3, scratch, sizeof scratch);
    if (got > c->readable)
        __builtin_trap();
    memset(scratch, 0xa5, sizeof scratch);
    if (virtio_chain_write(c, 1, scratch, sizeof scratch) > c->writable)
        __builtin_trap();
}

static void fuzz_notify(struct virtio_mmio *dev, unsigned queue)
{
    /* Bounded: a driver that keeps refilling cannot be simulated here. */
    for (unsigned i = 0; i < 2u * VIRTIO_QUEUE_NUM_MAX; i++) {
        int r = virtio_mmio_pop(dev, queue, &chain);
        if (r != VIRTIO_POP_CHAIN)
            return;
        chain_check(&dev->ram, &chain, dev->queue[queue].num);
        /* The register file hands out only chains with a known end. */
        if (!chain.complete || (chain.error & ~VIRTIO_CHAIN_OUTSIDE_RAM))
            __builtin_trap();
        chain_use(&chain);
        virtio_mmio_push(dev, queue, chain.head, (uint32_t)chain.writable);
    }
}

static const struct virtio_mmio_ops fuzz_ops = { .notify = fuzz_notify };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned sizes[4] = { 1, 2, 4, 8 };
    uint8_t header[HEADER] = { 0 };
    memcpy(header, data, size < HEADER ? size : HEADER);
    size_t used = size < HEADER ? size : HEADER;
    size_t nops = header[8];
    if (nops * OP_BYTES > size - used)
        nops = (size - used) / OP_BYTES;
    const uint8_t *ops = data + used;
    used += nops * OP_BYTES;

    uint8_t *ram = malloc(RAM_BYTES);
    if (ram == NULL)
        return 0;
    memset(ram, 0, RAM_BYTES);
    memcpy(ram, data + used, size - used < RAM_BYTES ? size - used : RAM_BYTES);
    /* Half the inputs see the window start above GPA 0, as the VMM gives it. */
    struct virtio_guest_ram window = { ram, RAM_BYTES, (size & 1) ? 0x800 : 0 };

    /* 1. The walker alone, on the queue the header describes. */
    struct virtio_queue q = { .num = 1u << (header[0] % 9), .desc = le16(header + 2),
                              .driver = le16(header + 4), .device = le16(header + 6), .ready = true };
    if (virtio_queue_valid(&window, &q)) {
        bool indirect = header[1] & 1u;
        for (unsigned i = 0; i < 2u * VIRTIO_QUEUE_NUM_MAX; i++) {
            int r = virtio_queue_pop(&window, &q, indirect, &chain);
            if (r != VIRTIO_POP_CHAIN)
                break;
            chain_check(&window, &chain, q.num);
            chain_use(&chain);
            virtio_queue_push(&window, &q, chain.head, (uint32_t)chain.writable);
        }
    }

    /* 2. The register file, driven by the accesses in the input. */
    static struct virtio_mmio dev;
    memset(&dev, 0, sizeof dev);
    dev.device_id = VIRTIO_ID_BLOCK;
    dev.device_features = VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC) | 0xfu;
    dev.nqueues = 2;
    dev.queue_num_max = (uint16_t)(header[1] >> 4 ? 1u << (header[1] >> 4 & 7u) : VIRTIO_QUEUE_NUM_MAX);
    dev.config_len = 36;
    dev.ram = window;
    dev.ops = &fuzz_ops;
    virtio_mmio_init(&dev);
    for (size_t i = 0; i < nops; i++) {
        const uint8_t *op = ops + i * OP_BYTES;
        uint64_t offset = (uint64_t)(op[0] & 0x7fu) * 4;
        unsigned width = sizes[op[1] & 3u];
        uint32_t value = (uint32_t)op[2] | (uint32_t)op[3] << 8 | (uint32_t)op[4] << 16 |
                         (uint32_t)op[5] << 24;
        if (op[0] & 0x80u)
            (void)virtio_mmio_read(&dev, offset, width);
        else
            virtio_mmio_write(&dev, offset, width, value);
        if ((dev.interrupt_status != 0) != dev.irq_level)
            __builtin_trap();
        for (unsigned k = 0; k < dev.nqueues; k++)
            if (dev.queue[k].ready && !virtio_queue_valid(&dev.ram, &dev.queue[k]))
                __builtin_trap();
    }
    free(ram);
    return 0;
}
