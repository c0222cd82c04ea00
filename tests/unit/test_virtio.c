/* SPDX-License-Identifier: MIT */
/* Unit tests for libcoco/virtio.c: the virtio-mmio register file and the
 * split-virtqueue walker, over a fake guest RAM of RAM_BYTES. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <coco/virtio.h>

#define RAM_BYTES  0x10000u
#define QNUM       8u
#define DESC       0x1000u
#define AVAIL      0x2000u
#define USED       0x3000u
#define BUF        0x8000u

static uint8_t *ram;
static struct virtio_mmio dev;
static struct virtio_chain chain;
static unsigned notified, irq_changes;
static bool irq_level;

static void on_notify(struct virtio_mmio *d, unsigned queue)
{
    (void)d;
    notified |= 1u << queue;
}

static void on_irq(struct virtio_mmio *d, bool level)
{
    (void)d;
    irq_level = level;
    irq_changes++;
}

static const struct virtio_mmio_ops ops = { .notify = on_notify, .set_irq = on_irq };

static void setup(void)
{
    ram = calloc(1, RAM_BYTES);
    memset(&dev, 0, sizeof dev);
    dev.device_id = VIRTIO_ID_BLOCK;
    dev.device_features = VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC) | 1u;   /* bit 0: a device feature */
    dev.nqueues = 1;
    dev.queue_num_max = 16;
    dev.config_len = 8;
    dev.config[0] = 0x11;
    dev.config[1] = 0x22;
    dev.config[7] = 0x88;
    dev.ram = (struct virtio_guest_ram){ ram, RAM_BYTES, 0 };
    dev.ops = &ops;
    virtio_mmio_init(&dev);
    notified = irq_changes = 0;
    irq_level = false;
}

static void teardown(void)
{
    free(ram);
}

static uint32_t rd(unsigned offset)
{
    return (uint32_t)virtio_mmio_read(&dev, offset, 4);
}

static void wr(unsigned offset, uint32_t value)
{
    virtio_mmio_write(&dev, offset, 4, value);
}

/* The driver's side of §3.1.1 up to DRIVER_OK, with `features` and queue 0
 * at DESC/AVAIL/USED of QNUM entries. */
static void driver_init(uint64_t features)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                           VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void desc_set(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    struct virtq_desc d = { addr, len, flags, next };
    memcpy(ram + table + 16 * i, &d, sizeof d);
}

static uint16_t get16(uint64_t gpa)
{
    uint16_t v;
    memcpy(&v, ram + gpa, 2);
    return v;
}

static void put16(uint64_t gpa, uint16_t v)
{
    memcpy(ram + gpa, &v, 2);
}

/* Make `head` available as the next entry. */
static void avail_add(uint16_t head)
{
    uint16_t idx = get16(AVAIL + 2);
    put16(AVAIL + 4 + 2 * (idx % QNUM), head);
    put16(AVAIL + 2, (uint16_t)(idx + 1));
}

START_TEST(test_identity_registers)
{
    ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_VENDOR_COPRA);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), (1u << VIRTIO_F_INDIRECT_DESC) | 1u);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1u);   /* VERSION_1 = bit 32 */
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);   /* no queue 1 */
    /* Registers are 32-bit only; config space takes any width. */
    ck_assert_uint_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
    ck_assert_uint_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG, 1), 0x11);
    ck_assert_uint_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG, 2), 0x2211);
    ck_assert_uint_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG, 8), 0x8800000000002211ull);
    ck_assert_uint_eq(virtio_mmio_read(&dev, VIRTIO_MMIO_CONFIG + 6, 4), 0);   /* past config_len */
    ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
}
END_TEST

START_TEST(test_features_need_version_1)
{
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);   /* legacy driver */

    /* A feature the device does not offer (bit 1) is refused too. */
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 3);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);

    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
    ck_assert(virtio_mmio_has(&dev, VIRTIO_F_VERSION_1));
    /* Frozen once FEATURES_OK is set. */
    wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
    ck_assert(virtio_mmio_has(&dev, 0));
}
END_TEST

START_TEST(test_queue_setup_and_notify)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(notified, 1);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);   /* no such queue */
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffffu);
    ck_assert_uint_eq(notified, 1);
    /* A ready queue's layout cannot move. */
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
    ck_assert_uint_eq(dev.queue[0].desc, DESC);
}
END_TEST

START_TEST(test_queue_outside_ram_needs_reset)
{
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, RAM_BYTES - 16 * QNUM + 16);   /* last entry past the end */
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
                      VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* Reset clears it. */
    wr(VIRTIO_MMIO_STATUS, 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
}
END_TEST

START_TEST(test_queue_validity_rules)
{
    struct virtio_guest_ram r = { ram, RAM_BYTES, 0 };
    struct virtio_queue q = { .num = QNUM, .desc = DESC, .driver = AVAIL, .device = USED };
    ck_assert(virtio_queue_valid(&r, &q));
    q.num = 6;   /* not a power of 2 */
    ck_assert(!virtio_queue_valid(&r, &q));
    q.num = 0;
    ck_assert(!virtio_queue_valid(&r, &q));
    q.num = QNUM;
    q.desc = DESC + 8;   /* misaligned */
    ck_assert(!virtio_queue_valid(&r, &q));
    q.desc = DESC;
    q.device = USED + 2;
    ck_assert(!virtio_queue_valid(&r, &q));
    q.device = 0xfffffffffffffff0ull;   /* would wrap */
    ck_assert(!virtio_queue_valid(&r, &q));
    /* A window from 1 MiB up (what the VMM gives its models): the same
     * queue 1 MiB higher is valid, the old addresses below the window not. */
    struct virtio_guest_ram high = { ram, RAM_BYTES, 0x100000 };
    q.device = USED;
    ck_assert(!virtio_queue_valid(&high, &q));
    q = (struct virtio_queue){ .num = QNUM, .desc = DESC + 0x100000, .driver = AVAIL + 0x100000,
                               .device = USED + 0x100000 };
    ck_assert(virtio_queue_valid(&high, &q));
    q.desc = 0x100000 - 16;   /* straddles the window's start */
    ck_assert(!virtio_queue_valid(&high, &q));
}
END_TEST

/* A blk-like chain: 16-byte header (R), 512 bytes (W), status (W). */
static void three_part_chain(unsigned first)
{
    desc_set(DESC, first, BUF, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(first + 1));
    desc_set(DESC, first + 1, BUF + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(first + 2));
    desc_set(DESC, first + 2, BUF + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
}

START_TEST(test_pop_push_chain)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_EMPTY);
    three_part_chain(2);
    avail_add(2);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.head, 2);
    ck_assert_uint_eq(chain.error, 0);
    ck_assert_uint_eq(chain.nsegments, 3);
    ck_assert_ptr_eq(chain.segment[0].data, ram + BUF);
    ck_assert(!chain.segment[0].device_writes);
    ck_assert_ptr_eq(chain.segment[2].data, ram + BUF + 0x400);
    ck_assert(chain.segment[2].device_writes);
    ck_assert_uint_eq(chain.readable, 16);
    ck_assert_uint_eq(chain.writable, 513);
    ck_assert(chain.complete);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_EMPTY);

    virtio_mmio_push(&dev, 0, 2, 513);
    ck_assert_uint_eq(get16(USED + 2), 1);
    struct virtq_used_elem e;
    memcpy(&e, ram + USED + 4, sizeof e);
    ck_assert_uint_eq(e.id, 2);
    ck_assert_uint_eq(e.len, 513);
    ck_assert(irq_level);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED_BUFFER);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED_BUFFER);
    ck_assert(!irq_level);
    ck_assert_uint_eq(irq_changes, 2);

    /* NO_INTERRUPT: the used ring moves, the line does not. */
    put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
    avail_add(2);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    virtio_mmio_push(&dev, 0, 2, 1);
    ck_assert_uint_eq(get16(USED + 2), 2);
    ck_assert(!irq_level);
}
END_TEST

START_TEST(test_chain_copy)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    three_part_chain(0);
    memcpy(ram + BUF, "0123456789abcdef", 16);
    avail_add(0);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    char out[16];
    ck_assert_uint_eq(virtio_chain_read(&chain, 4, out, sizeof out), 12);
    ck_assert_mem_eq(out, "456789abcdef", 12);
    uint8_t in[520];
    memset(in, 0x5a, sizeof in);
    /* 512 data bytes plus the status byte: the writable part is 513. */
    ck_assert_uint_eq(virtio_chain_write(&chain, 500, in, sizeof in), 13);
    ck_assert_uint_eq(ram[BUF + 0x100 + 500], 0x5a);
    ck_assert_uint_eq(ram[BUF + 0x100 + 499], 0);
    ck_assert_uint_eq(ram[BUF + 0x400], 0x5a);
    ck_assert_uint_eq(ram[BUF + 0x401], 0);
}
END_TEST

START_TEST(test_descriptor_outside_ram)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    three_part_chain(0);
    desc_set(DESC, 1, RAM_BYTES - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    avail_add(0);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_OUTSIDE_RAM);
    ck_assert_uint_eq(chain.nsegments, 3);   /* the walk went on to the status */
    ck_assert(chain.complete);
    ck_assert_ptr_null(chain.segment[1].data);
    ck_assert_ptr_eq(chain.segment[2].data, ram + BUF + 0x400);
    ck_assert_uint_eq(dev.chain_errors, 1);
    /* An address that wraps around 2^64. */
    desc_set(DESC, 1, 0xffffffffffffff00ull, 0x200, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    avail_add(0);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_OUTSIDE_RAM);
    /* The queue keeps working. */
    three_part_chain(0);
    avail_add(0);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, 0);
}
END_TEST

/* The pure walker on queue 0 as the driver set it up. */
static int walk(bool indirect)
{
    return virtio_queue_pop(&dev.ram, &dev.queue[0], indirect, &chain);
}

static bool needs_reset_set(void)
{
    return (rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

START_TEST(test_loop_and_bad_next)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    desc_set(DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    desc_set(DESC, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);   /* back to 0 */
    avail_add(0);
    ck_assert_int_eq(walk(false), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_TOO_LONG);
    ck_assert_uint_le(chain.nsegments, QNUM);
    ck_assert(!chain.complete);
    desc_set(DESC, 1, BUF, 4, VIRTQ_DESC_F_NEXT, QNUM);   /* past the table */
    avail_add(0);
    ck_assert_int_eq(walk(false), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_BAD_INDEX);
    ck_assert(!chain.complete);
}
END_TEST

/* Through the register file a chain without a known end is a device
 * error: DEVICE_NEEDS_RESET, a config interrupt, silence until reset. */
START_TEST(test_loop_needs_reset)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    desc_set(DESC, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 0);   /* to itself */
    avail_add(0);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_BROKEN);
    ck_assert(needs_reset_set());
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_CONFIG_CHANGE);
    ck_assert_uint_eq(get16(USED + 2), 0);   /* nothing given back */
    three_part_chain(0);
    avail_add(0);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_EMPTY);
    ck_assert_uint_eq(dev.chain_errors, 1);
}
END_TEST

START_TEST(test_indirect)
{
    const uint64_t table = 0x4000;
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC));
    desc_set(table, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    desc_set(table, 1, BUF + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
    desc_set(DESC, 3, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(3);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.head, 3);
    ck_assert_uint_eq(chain.error, 0);
    ck_assert(chain.complete);
    ck_assert_uint_eq(chain.nsegments, 2);
    ck_assert_uint_eq(chain.writable, 8);
    /* Direct descriptors, then the table (§2.6.5.3.2 allows it). */
    desc_set(DESC, 2, BUF + 0x200, 4, VIRTQ_DESC_F_NEXT, 3);
    avail_add(2);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, 0);
    ck_assert_uint_eq(chain.nsegments, 3);
    ck_assert_uint_eq(chain.readable, 20);

    /* Nested: an indirect descriptor inside the table. */
    desc_set(table, 1, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(3);
    ck_assert_int_eq(walk(true), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_BAD_INDIRECT);
    ck_assert(!chain.complete);
    /* A table length that is not whole descriptors; a table outside RAM. */
    desc_set(DESC, 3, table, 24, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(3);
    ck_assert_int_eq(walk(true), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_BAD_INDIRECT);
    desc_set(DESC, 3, RAM_BYTES - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(3);
    ck_assert_int_eq(walk(true), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_OUTSIDE_RAM);
    ck_assert(!chain.complete);
    /* INDIRECT together with NEXT. */
    desc_set(DESC, 3, table, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 0);
    avail_add(3);
    ck_assert_int_eq(walk(true), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_BAD_INDIRECT);
    /* A loop inside the table. */
    desc_set(table, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
    desc_set(table, 1, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
    desc_set(DESC, 3, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(3);
    ck_assert_int_eq(walk(true), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_TOO_LONG);
    ck_assert(!needs_reset_set());   /* the pure walker changes no register */
}
END_TEST

START_TEST(test_indirect_not_negotiated)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    desc_set(DESC, 0, 0x4000, 32, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(0);
    ck_assert_int_eq(walk(false), VIRTIO_POP_CHAIN);
    ck_assert_uint_eq(chain.error, VIRTIO_CHAIN_BAD_INDIRECT);
    dev.queue[0].last_avail--;
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_BROKEN);
    ck_assert(needs_reset_set());
}
END_TEST

START_TEST(test_broken_avail_index)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    put16(AVAIL + 2, QNUM + 1);   /* more pending than the queue holds */
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_BROKEN);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
                      VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_CONFIG_CHANGE);
    ck_assert(irq_level);
    /* Silent until reset: no pop, no notify. */
    put16(AVAIL + 2, 1);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_EMPTY);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    ck_assert_uint_eq(notified, 0);
    /* The driver writes back what it read: NEEDS_RESET stays. */
    wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS));
    ck_assert_uint_ne(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
    wr(VIRTIO_MMIO_STATUS, 0);
    ck_assert(!irq_level);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

START_TEST(test_broken_head)
{
    driver_init(VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
    avail_add(QNUM);
    ck_assert_int_eq(virtio_mmio_pop(&dev, 0, &chain), VIRTIO_POP_BROKEN);
    ck_assert_uint_eq(dev.broken_rings, 1);
}
END_TEST

START_TEST(test_index_wraps)
{
    struct virtio_guest_ram r = { ram, RAM_BYTES, 0 };
    struct virtio_queue q = { .num = QNUM, .desc = DESC, .driver = AVAIL, .device = USED,
                              .ready = true, .last_avail = 0xfffe, .used_idx = 0xfffe };
    desc_set(DESC, 5, BUF, 4, 0, 0);
    put16(AVAIL + 2, 0xfffe);
    for (unsigned i = 0; i < 4; i++) {
        avail_add(5);
        ck_assert_int_eq(virtio_queue_pop(&r, &q, false, &chain), VIRTIO_POP_CHAIN);
        ck_assert_uint_eq(chain.head, 5);
        virtio_queue_push(&r, &q, 5, 0);
    }
    ck_assert_uint_eq(q.last_avail, 2);
    ck_assert_uint_eq(get16(USED + 2), 2);
    ck_assert_int_eq(virtio_queue_pop(&r, &q, false, &chain), VIRTIO_POP_EMPTY);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtio");
    TCase *t = tcase_create("virtio");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_identity_registers);
    tcase_add_test(t, test_features_need_version_1);
    tcase_add_test(t, test_queue_setup_and_notify);
    tcase_add_test(t, test_queue_outside_ram_needs_reset);
    tcase_add_test(t, test_queue_validity_rules);
    tcase_add_test(t, test_pop_push_chain);
    tcase_add_test(t, test_chain_copy);
    tcase_add_test(t, test_descriptor_outside_ram);
    tcase_add_test(t, test_loop_and_bad_next);
    tcase_add_test(t, test_loop_needs_reset);
    tcase_add_test(t, test_indirect);
    tcase_add_test(t, test_indirect_not_negotiated);
    tcase_add_test(t, test_broken_avail_index);
    tcase_add_test(t, test_broken_head);
    tcase_add_test(t, test_index_wraps);
    suite_add_tcase(s, t);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
