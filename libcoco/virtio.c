/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport (coco/virtio.h): register file and split
 * virtqueues.  Pure C: the host tests and the fuzzer build this file as is.
 *
 * Guest RAM is shared with the driver's VCPUs, which may change it at any
 * moment.  Every guest field is therefore read once into a local (a
 * descriptor as a whole, with memcpy), checked, and only the local is used;
 * the available index is read with acquire and the used index written with
 * release (§2.6.13, §2.6.8: ring entries before the index that publishes
 * them).
 */
#include <coco/virtio.h>

#include <string.h>

#define AVAIL_FLAGS   0u
#define AVAIL_IDX     2u
#define AVAIL_RING    4u
#define USED_IDX      2u
#define USED_RING     4u

/* GPA range [gpa, gpa + len) inside the window, without overflow. */
static bool ram_holds(const struct virtio_guest_ram *ram, uint64_t gpa, uint64_t len)
{
    return gpa >= ram->gpa && gpa - ram->gpa <= ram->size && len <= ram->size - (gpa - ram->gpa);
}

/* Where a GPA that ram_holds() accepted is in the model. */
static uint8_t *ram_at(const struct virtio_guest_ram *ram, uint64_t gpa)
{
    return ram->base + (gpa - ram->gpa);
}

/* A 2-byte field at a checked, 2-aligned GPA. */
static uint16_t ram_load16(const struct virtio_guest_ram *ram, uint64_t gpa, int order)
{
    return __atomic_load_n((const uint16_t *)(const void *)ram_at(ram, gpa), order);
}

bool virtio_queue_valid(const struct virtio_guest_ram *ram, const struct virtio_queue *q)
{
    /* §2.6: a power of 2, so that idx % num stays right across the 16-bit wrap. */
    if (q->num == 0 || q->num > VIRTIO_QUEUE_NUM_MAX || (q->num & (q->num - 1)) != 0)
        return false;
    /* §2.6 table "Virtqueue Part Alignment": 16, 2, 4. */
    return q->desc % 16 == 0 && ram_holds(ram, q->desc, 16ull * q->num) &&
           q->driver % 2 == 0 && ram_holds(ram, q->driver, 6 + 2ull * q->num) &&
           q->device % 4 == 0 && ram_holds(ram, q->device, 6 + 8ull * q->num);
}

/* Walk the chain starting at `head` (< q->num) into `chain`.  Structural
 * faults (index, loop, indirect misuse) end the walk; a buffer outside RAM
 * is recorded (data = NULL) and the walk goes on, so the model can still
 * find the status byte at the end of an otherwise well-formed chain. */
static void chain_walk(const struct virtio_guest_ram *ram, const struct virtio_queue *q,
                       bool indirect, uint16_t head, struct virtio_chain *chain)
{
    uint64_t table = q->desc;
    uint32_t size = q->num;
    bool in_indirect = false;
    uint32_t index = head, steps = 0;

    chain->head = head;
    chain->error = 0;
    chain->complete = false;
    chain->nsegments = 0;
    chain->readable = chain->writable = 0;
    for (;;) {
        if (index >= size) {
            chain->error |= VIRTIO_CHAIN_BAD_INDEX;
            return;
        }
        /* Each step visits a distinct index of a `size`-entry table unless
         * the chain loops; more steps than entries is a loop (§2.6.5.2). */
        if (++steps > size) {
            chain->error |= VIRTIO_CHAIN_TOO_LONG;
            return;
        }
        struct virtq_desc d;
        memcpy(&d, ram_at(ram, table + 16ull * index), sizeof d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            /* §2.6.5.3.1: only if negotiated, never with NEXT, never nested,
             * a whole number of descriptors. */
            if (!indirect || in_indirect || (d.flags & VIRTQ_DESC_F_NEXT) || d.len == 0 ||
                d.len % sizeof d != 0 || d.len / sizeof d > VIRTIO_QUEUE_NUM_MAX) {
                chain->error |= VIRTIO_CHAIN_BAD_INDIRECT;
                return;
            }
            if (!ram_holds(ram, d.addr, d.len)) {
                chain->error |= VIRTIO_CHAIN_OUTSIDE_RAM;
                return;
            }
            table = d.addr;
            size = d.len / sizeof d;
            in_indirect = true;
            index = 0;
            steps = 0;
            continue;
        }
        if (chain->nsegments == VIRTIO_QUEUE_NUM_MAX) {
            chain->error |= VIRTIO_CHAIN_TOO_LONG;
            return;
        }
        struct virtio_segment *s = &chain->segment[chain->nsegments++];
        s->len = d.len;
        s->device_writes = (d.flags & VIRTQ_DESC_F_WRITE) != 0;
        if (ram_holds(ram, d.addr, d.len)) {
            s->data = ram_at(ram, d.addr);
        } else {
            s->data = NULL;
            chain->error |= VIRTIO_CHAIN_OUTSIDE_RAM;
        }
        if (s->device_writes)
            chain->writable += d.len;
        else
            chain->readable += d.len;
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
            chain->complete = true;
            return;
        }
        index = d.next;
    }
}

int virtio_queue_pop(const struct virtio_guest_ram *ram, struct virtio_queue *q, bool indirect,
                     struct virtio_chain *chain)
{
    /* Acquire: the ring entry and descriptors the index publishes are
     * read after it. */
    uint16_t avail_idx = ram_load16(ram, q->driver + AVAIL_IDX, __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return VIRTIO_POP_EMPTY;
    if (pending > q->num)
        return VIRTIO_POP_BROKEN;   /* §2.6.6: the driver cannot be further ahead */
    uint16_t head = ram_load16(ram, q->driver + AVAIL_RING + 2ull * (q->last_avail % q->num),
                               __ATOMIC_RELAXED);
    if (head >= q->num)
        return VIRTIO_POP_BROKEN;   /* no id the used ring could give back */
    q->last_avail++;
    chain_walk(ram, q, indirect, head, chain);
    return VIRTIO_POP_CHAIN;
}

bool virtio_queue_push(const struct virtio_guest_ram *ram, struct virtio_queue *q, uint16_t head,
                       uint32_t written)
{
    uint8_t *used = ram_at(ram, q->device);
    struct virtq_used_elem e = { .id = head, .len = written };
    memcpy(used + USED_RING + 8ull * (q->used_idx % q->num), &e, sizeof e);
    q->used_idx++;
    __atomic_store_n((uint16_t *)(void *)(used + USED_IDX), q->used_idx, __ATOMIC_RELEASE);
    /* The used index must be visible before the flags are read, or a
     * driver that clears NO_INTERRUPT and then checks the index could miss
     * both (§2.6.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return !(ram_load16(ram, q->driver + AVAIL_FLAGS, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copy between `buf` and the chain's segments of one direction, from byte
 * `offset` of them on. */
static uint64_t chain_copy(const struct virtio_chain *chain, bool device_writes, uint64_t offset,
                           uint8_t *buf, const uint8_t *src, uint64_t len)
{
    uint64_t done = 0;
    for (unsigned i = 0; i < chain->nsegments && done < len; i++) {
        const struct virtio_segment *s = &chain->segment[i];
        if (s->device_writes != device_writes)
            continue;
        if (offset >= s->len) {
            offset -= s->len;
            continue;
        }
        if (s->data == NULL)
            break;
        uint64_t n = s->len - offset;
        if (n > len - done)
            n = len - done;
        if (src != NULL)
            memcpy(s->data + offset, src + done, n);
        else
            memcpy(buf + done, s->data + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

uint64_t virtio_chain_read(const struct virtio_chain *chain, uint64_t offset, void *out, uint64_t len)
{
    return chain_copy(chain, false, offset, out, NULL, len);
}

uint64_t virtio_chain_write(const struct virtio_chain *chain, uint64_t offset, const void *in,
                            uint64_t len)
{
    return chain_copy(chain, true, offset, NULL, in, len);
}

/* ---- Register file ------------------------------------------------------- */

static void irq_update(struct virtio_mmio *dev)
{
    bool level = dev->interrupt_status != 0;
    if (level == dev->irq_level)
        return;
    dev->irq_level = level;
    if (dev->ops != NULL && dev->ops->set_irq != NULL)
        dev->ops->set_irq(dev, level);
}

void virtio_mmio_interrupt(struct virtio_mmio *dev, uint32_t bits)
{
    dev->interrupt_status |= bits;
    irq_update(dev);
}

/* §2.1.2: the device sets DEVICE_NEEDS_RESET and, once the driver is
 * running, tells it with a configuration-change interrupt. */
static void needs_reset(struct virtio_mmio *dev)
{
    if (dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return;
    dev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    dev->broken_rings++;
    if (dev->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_mmio_interrupt(dev, VIRTIO_INT_CONFIG_CHANGE);
}

/* The driver-visible state after a reset. */
static void state_clear(struct virtio_mmio *dev)
{
    dev->status = 0;
    dev->device_features_sel = dev->driver_features_sel = dev->queue_sel = 0;
    dev->driver_features = 0;
    for (unsigned i = 0; i < VIRTIO_QUEUES_MAX; i++)
        dev->queue[i] = (struct virtio_queue){ .num = dev->queue_num_max };
    dev->interrupt_status = 0;
}

/* Status written as 0 (§4.2.2.1: "writing 0 triggers a device reset"). */
static void device_reset(struct virtio_mmio *dev)
{
    state_clear(dev);
    irq_update(dev);
    if (dev->ops != NULL && dev->ops->reset != NULL)
        dev->ops->reset(dev);
}

void virtio_mmio_init(struct virtio_mmio *dev)
{
    dev->device_features |= VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
    if (dev->nqueues > VIRTIO_QUEUES_MAX)
        dev->nqueues = VIRTIO_QUEUES_MAX;
    if (dev->queue_num_max == 0 || dev->queue_num_max > VIRTIO_QUEUE_NUM_MAX)
        dev->queue_num_max = VIRTIO_QUEUE_NUM_MAX;
    if (dev->config_len > VIRTIO_CONFIG_MAX)
        dev->config_len = VIRTIO_CONFIG_MAX;
    dev->irq_level = false;
    state_clear(dev);
}

static struct virtio_queue *selected_queue(struct virtio_mmio *dev)
{
    return dev->queue_sel < dev->nqueues ? &dev->queue[dev->queue_sel] : NULL;
}

static uint64_t config_read(const struct virtio_mmio *dev, uint64_t offset, unsigned size)
{
    uint64_t value = 0;
    if (offset > dev->config_len || size > dev->config_len - offset)
        return 0;
    for (unsigned i = size; i-- > 0;)
        value = value << 8 | dev->config[offset + i];
    return value;
}

uint64_t virtio_mmio_read(struct virtio_mmio *dev, uint64_t offset, unsigned size)
{
    if (offset >= VIRTIO_MMIO_CONFIG)
        return config_read(dev, offset - VIRTIO_MMIO_CONFIG, size);
    if (size != 4)
        return 0;   /* §4.2.2.2: registers are read 32 bits wide */
    const struct virtio_queue *q = selected_queue(dev);
    switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return VIRTIO_MMIO_VERSION_MODERN;
    case VIRTIO_MMIO_DEVICE_ID:
        return dev->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_VENDOR_COPRA;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return dev->device_features_sel < 2 ? (uint32_t)(dev->device_features >> (32 * dev->device_features_sel))
                                            : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return q != NULL ? dev->queue_num_max : 0;   /* 0: no such queue */
    case VIRTIO_MMIO_QUEUE_READY:
        return q != NULL && q->ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return dev->interrupt_status;
    case VIRTIO_MMIO_STATUS:
        return dev->status;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
        return 0xffffffffu;   /* no shared memory regions: Linux reads ~0 as "none" */
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return dev->config_generation;
    default:
        return 0;   /* write-only or reserved */
    }
}

/* FEATURES_OK is kept only for a subset of what the device offers that
 * includes VERSION_1 (§2.2.2, §6.1); the driver reads it back to learn. */
static bool features_acceptable(const struct virtio_mmio *dev)
{
    return (dev->driver_features & ~dev->device_features) == 0 &&
           virtio_mmio_has(dev, VIRTIO_F_VERSION_1);
}

static void status_write(struct virtio_mmio *dev, uint32_t value)
{
    if (value == 0) {
        device_reset(dev);
        return;
    }
    if ((value & VIRTIO_STATUS_FEATURES_OK) && !(dev->status & VIRTIO_STATUS_FEATURES_OK) &&
        !features_acceptable(dev))
        value &= ~VIRTIO_STATUS_FEATURES_OK;
    dev->status = (value & 0xffu & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
                  (dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void queue_ready_write(struct virtio_mmio *dev, struct virtio_queue *q, uint32_t value)
{
    if (!(value & 1u)) {
        q->ready = false;
        return;
    }
    if (q->ready)
        return;
    if (q->num > dev->queue_num_max || !virtio_queue_valid(&dev->ram, q)) {
        needs_reset(dev);
        return;
    }
    q->last_avail = q->used_idx = 0;
    q->ready = true;
}

/* The low (`high` false) or high half of a 64-bit queue address. */
static void set_half(uint64_t *field, bool high, uint32_t value)
{
    *field = high ? (*field & 0xffffffffull) | (uint64_t)value << 32
                  : (*field & ~0xffffffffull) | value;
}

void virtio_mmio_write(struct virtio_mmio *dev, uint64_t offset, unsigned size, uint64_t value64)
{
    if (offset >= VIRTIO_MMIO_CONFIG) {
        if (dev->ops != NULL && dev->ops->config_write != NULL &&
            offset - VIRTIO_MMIO_CONFIG < dev->config_len)
            dev->ops->config_write(dev, (unsigned)(offset - VIRTIO_MMIO_CONFIG), size, value64);
        return;
    }
    if (size != 4)
        return;
    uint32_t value = (uint32_t)value64;
    struct virtio_queue *q = selected_queue(dev);
    /* A ready queue's layout is fixed until it is reset (§4.2.3.2). */
    struct virtio_queue *setup = q != NULL && !q->ready ? q : NULL;
    switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        dev->device_features_sel = value;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        dev->driver_features_sel = value;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (!(dev->status & VIRTIO_STATUS_FEATURES_OK) && dev->driver_features_sel < 2)
            set_half(&dev->driver_features, dev->driver_features_sel == 1, value);
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        dev->queue_sel = value;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (setup != NULL)
            setup->num = value;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (q != NULL)
            queue_ready_write(dev, q, value);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        /* Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index. */
        dev->notifications++;
        if (value < dev->nqueues && dev->queue[value].ready &&
            !(dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && dev->ops != NULL &&
            dev->ops->notify != NULL)
            dev->ops->notify(dev, value);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        dev->interrupt_status &= ~value;
        irq_update(dev);
        break;
    case VIRTIO_MMIO_STATUS:
        status_write(dev, value);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (setup != NULL)
            set_half(&setup->desc, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH, value);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (setup != NULL)
            set_half(&setup->driver, offset == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, value);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (setup != NULL)
            set_half(&setup->device, offset == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, value);
        break;
    default:
        break;   /* read-only or reserved: ignored */
    }
}

int virtio_mmio_pop(struct virtio_mmio *dev, unsigned queue, struct virtio_chain *chain)
{
    if (queue >= dev->nqueues || !dev->queue[queue].ready ||
        (dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
        return VIRTIO_POP_EMPTY;
    struct virtio_queue *q = &dev->queue[queue];
    int r = virtio_queue_pop(&dev->ram, q, virtio_mmio_has(dev, VIRTIO_F_INDIRECT_DESC), chain);
    if (r == VIRTIO_POP_CHAIN) {
        dev->chains++;
        if (chain->error)
            dev->chain_errors++;
        if (!chain->complete)
            r = VIRTIO_POP_BROKEN;   /* the chain's end, and so its status, is unknown */
    }
    if (r == VIRTIO_POP_BROKEN)
        needs_reset(dev);
    return r;
}

void virtio_mmio_push(struct virtio_mmio *dev, unsigned queue, uint16_t head, uint32_t written)
{
    if (virtio_queue_push(&dev->ram, &dev->queue[queue], head, written))
        virtio_mmio_interrupt(dev, VIRTIO_INT_USED_BUFFER);
}
