/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over MMIO (program `virtio-blk`; virtio 1.1 §5.2), on the
 * transport of coco/virtio.h.
 *
 *   argv:    virtio-blk vcpus=N ram=BYTES [ram_at=GPA] base=GPA [irq=GSI] disk=BYTES
 *   handles: [0] the MMIO range (base, 0x200)
 *            [1] guest RAM (MAP | WRITE)
 *            [2] the interrupt line, when argv has irq=
 *            then the disk: a memory object (MAP | WRITE) of at least
 *            `disk` bytes, which the VMM filled from the initrd file the VM
 *            description names.  Guest writes stay in it: the initrd is
 *            never changed, and a restarted model starts from the VMM's
 *            object again, so it keeps them (the object outlives us).
 *
 * One request queue.  Features: VERSION_1, SEG_MAX, BLK_SIZE (512), FLUSH
 * (a no-op: the disk is memory) and INDIRECT_DESC.  Requests: IN, OUT,
 * FLUSH, GET_ID; any other type is answered VIRTIO_BLK_S_UNSUPP.  A
 * transfer that is not whole sectors, reaches past the capacity, or whose
 * chain is malformed (coco/virtio.h) is answered VIRTIO_BLK_S_IOERR.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>
#include <coco/virtio.h>

#define VIRTIO_BLK_F_SEG_MAX   2u
#define VIRTIO_BLK_F_BLK_SIZE  6u
#define VIRTIO_BLK_F_FLUSH     9u

#define VIRTIO_BLK_T_IN        0u
#define VIRTIO_BLK_T_OUT       1u
#define VIRTIO_BLK_T_FLUSH     4u
#define VIRTIO_BLK_T_GET_ID    8u

#define VIRTIO_BLK_S_OK        0u
#define VIRTIO_BLK_S_IOERR     1u
#define VIRTIO_BLK_S_UNSUPP    2u

#define SECTOR_BYTES           512u
#define BLK_ID_BYTES           20u   /* §5.2.6: GET_ID writes 20 bytes */
#define CONFIG_CAPACITY        0u
#define CONFIG_SEG_MAX         12u
#define CONFIG_BLK_SIZE        20u
#define CONFIG_BYTES           36u   /* through num_queues (§5.2.4) */

struct blk_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct blk_model {
    struct virtio_mmio dev;
    uint8_t *disk;
    uint64_t disk_bytes;          /* capacity * 512 */
    uint64_t requests, errors;
};

static void put_le(uint8_t *p, uint64_t value, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

/* The status byte is the last byte of the chain's last segment, which must
 * be device-writable (§5.2.6); NULL if the driver gave no such byte, or the
 * walk stopped early (a loop, a bad index) so the end is unknown. */
static uint8_t *status_byte(const struct virtio_chain *c)
{
    if (c->nsegments == 0 || !c->complete)
        return NULL;
    const struct virtio_segment *s = &c->segment[c->nsegments - 1];
    return s->device_writes && s->len >= 1 && s->data != NULL ? s->data + s->len - 1 : NULL;
}

/* Whether [sector * 512, + bytes) is whole sectors inside the disk. */
static bool blk_extent_ok(const struct blk_model *b, uint64_t sector, uint64_t bytes)
{
    uint64_t capacity = b->disk_bytes / SECTOR_BYTES;
    return bytes % SECTOR_BYTES == 0 && sector <= capacity &&
           bytes / SECTOR_BYTES <= capacity - sector;
}

/* Serve one chain; returns the bytes written into it (data and status). */
static uint32_t blk_request(struct blk_model *b, const struct virtio_chain *c)
{
    uint8_t *status = status_byte(c);
    struct blk_header h;
    uint32_t written = 0;
    uint8_t result = VIRTIO_BLK_S_IOERR;

    b->requests++;
    if (status == NULL)
        return 0;   /* nowhere to say anything: give the chain back empty */
    if (c->error == 0 && virtio_chain_read(c, 0, &h, sizeof h) == sizeof h) {
        /* Data bytes: the writable ones before the status byte, or the
         * readable ones after the header. */
        uint64_t in_bytes = c->writable - 1, out_bytes = c->readable - sizeof h;
        switch (h.type) {
        case VIRTIO_BLK_T_IN:
            if (blk_extent_ok(b, h.sector, in_bytes)) {
                written = (uint32_t)virtio_chain_write(c, 0, b->disk + h.sector * SECTOR_BYTES, in_bytes);
                result = VIRTIO_BLK_S_OK;
            }
            break;
        case VIRTIO_BLK_T_OUT:
            if (blk_extent_ok(b, h.sector, out_bytes)) {
                virtio_chain_read(c, sizeof h, b->disk + h.sector * SECTOR_BYTES, out_bytes);
                result = VIRTIO_BLK_S_OK;
            }
            break;
        case VIRTIO_BLK_T_FLUSH:
            result = VIRTIO_BLK_S_OK;   /* the disk is memory: nothing to flush */
            break;
        case VIRTIO_BLK_T_GET_ID: {
            static const char id[BLK_ID_BYTES] = "copra-virtio-blk";   /* NUL-padded */
            written = (uint32_t)virtio_chain_write(c, 0, id, in_bytes < BLK_ID_BYTES ? in_bytes : BLK_ID_BYTES);
            result = VIRTIO_BLK_S_OK;
            break;
        }
        default:
            result = VIRTIO_BLK_S_UNSUPP;
            break;
        }
    }
    if (result != VIRTIO_BLK_S_OK)
        b->errors++;
    *status = result;
    return written + 1;
}

static void blk_notify(struct virtio_mmio *dev, unsigned queue)
{
    static struct virtio_chain chain;   /* 4 KiB: not on the loop's stack */
    struct blk_model *b = dev->state;
    while (virtio_mmio_pop(dev, queue, &chain) == VIRTIO_POP_CHAIN)
        virtio_mmio_push(dev, queue, chain.head, blk_request(b, &chain));
}

static const struct virtio_mmio_ops blk_ops = { .notify = blk_notify };

int main(int argc, char **argv)
{
    static struct blk_model b;
    uint64_t disk_bytes = coco_arg_u64(argc, argv, "disk", 0);
    unsigned disk_handle = virtio_model_first_handle(argc, argv);

    if (virtio_model_map_ram(&b.dev, argc, argv) < 0)
        return 1;
    if (coco_handle_count() <= disk_handle || disk_bytes == 0) {
        coco_printf("no disk (a memory handle and disk=BYTES)\n");
        return 1;
    }
    uint64_t mapped = (disk_bytes + COPRA_PAGE_SIZE - 1) & ~(COPRA_PAGE_SIZE - 1);
    int64_t r = coco_mmap(coco_handle(disk_handle), NULL, mapped, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (r < 0) {
        coco_printf("cannot map the disk (%llu bytes): %s\n", (unsigned long long)disk_bytes,
                    coco_strerror(r));
        return 1;
    }
    b.disk = (uint8_t *)(uintptr_t)r;
    b.disk_bytes = disk_bytes / SECTOR_BYTES * SECTOR_BYTES;   /* a partial sector is left out */

    b.dev.device_id = VIRTIO_ID_BLOCK;
    b.dev.device_features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) |
                            VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH) | VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC);
    b.dev.nqueues = 1;
    b.dev.queue_num_max = VIRTIO_QUEUE_NUM_MAX;
    b.dev.config_len = CONFIG_BYTES;
    put_le(b.dev.config + CONFIG_CAPACITY, b.disk_bytes / SECTOR_BYTES, 8);
    /* A chain holds the header and the status besides the data. */
    put_le(b.dev.config + CONFIG_SEG_MAX, VIRTIO_QUEUE_NUM_MAX - 2, 4);
    put_le(b.dev.config + CONFIG_BLK_SIZE, SECTOR_BYTES, 4);
    b.dev.ops = &blk_ops;
    b.dev.state = &b;
    coco_printf("disk of %llu sectors at GPA 0x%llx\n",
                (unsigned long long)(b.disk_bytes / SECTOR_BYTES),
                (unsigned long long)coco_arg_u64(argc, argv, "base", 0));
    return virtio_model_run(&b.dev, argc, argv);
}
