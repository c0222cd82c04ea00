/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio devices (`device virtio-blk`, `device virtio-rng`;
 * servers/devmodel/virtio_*.c) driven as a driver drives them (virtio 1.1
 * §3.1.1, §4.2.3): reset, ACKNOWLEDGE, DRIVER, feature negotiation with
 * VERSION_1, FEATURES_OK read back, queue setup, DRIVER_OK; then requests
 * on split virtqueues.  Register offsets and layouts are written here from
 * the spec, not taken from the models' header.
 *
 * virtio-blk (0xFEB00000, GSI 16): reads the marker sectors of the 8-sector
 * disk image virtio-disk.img from the initrd, writes a sector and reads it
 * back, GET_ID, FLUSH, an unknown type (UNSUPP), transfers past the end
 * (IOERR), a data descriptor outside guest RAM (IOERR, and the device
 * keeps working), an indirect table, a descriptor loop, a `next` past the
 * table and a corrupt available index (each DEVICE_NEEDS_RESET with a
 * configuration-change interrupt, then a reset brings the device back).  virtio-rng (0xFEB00200, GSI 17): random bytes
 * in two buffers of one chain.
 *
 * With `bench=N` on the command line (virtio_bench.conf, bench.virtio_blk
 * under -icount shift=0, where the TSC counts every instruction executed:
 * guest, kernel, models) it instead times N reads of one sector and of 4
 * KiB with the used ring polled (the model has no line: irq=none) and
 * prints the instructions per request.
 *
 * Completions: each completion's interrupt comes through irqd's IOAPIC
 * (level-triggered, active-high, GSI 16 + the window's index) and is
 * waited for with HLT; then the used ring is read.  The handler reads
 * InterruptStatus and ACKs it before the EOI, so the line is low again when
 * the EOI reaches the IOAPIC.
 *
 * The devices are found by scanning the 24 windows from 0xFEB00000 for
 * their DeviceID, so the guest also runs on QEMU's microvm, whose
 * virtio-mmio transports sit at the same addresses and GSIs (README,
 * "virtio-mmio", has the command and the checks that differ there).
 */
#include "irqtest.h"

#define WINDOW_BASE     0xFEB00000ull   /* virtio-mmio windows: Copra's default, QEMU microvm's */
#define WINDOW_SIZE     0x200u
#define WINDOWS         24u
#define GSI_BASE        16u             /* Copra's default: GSI 16 + window index */
#define BLK_VECTOR      0x40u
#define RNG_VECTOR      0x41u
#define SPURIOUS_VECTOR 0xFFu
#define REDIR_LEVEL     (1ull << 15)
#define WAIT_ROUNDS     1000u

/* §4.2.2 */
#define R_MAGIC         0x000
#define R_VERSION       0x004
#define R_DEVICE_ID     0x008
#define R_DEV_FEATURES  0x010
#define R_DEV_FEAT_SEL  0x014
#define R_DRV_FEATURES  0x020
#define R_DRV_FEAT_SEL  0x024
#define R_QUEUE_SEL     0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM     0x038
#define R_QUEUE_READY   0x044
#define R_QUEUE_NOTIFY  0x050
#define R_INT_STATUS    0x060
#define R_INT_ACK       0x064
#define R_STATUS        0x070
#define R_DESC_LOW      0x080
#define R_DESC_HIGH     0x084
#define R_DRIVER_LOW    0x090
#define R_DRIVER_HIGH   0x094
#define R_DEVICE_LOW    0x0a0
#define R_DEVICE_HIGH   0x0a4
#define R_CONFIG        0x100

#define S_ACKNOWLEDGE   1u
#define S_DRIVER        2u
#define S_DRIVER_OK     4u
#define S_FEATURES_OK   8u
#define S_NEEDS_RESET   64u

#define F_BLK_SIZE      (1ull << 6)
#define F_FLUSH         (1ull << 9)
#define F_INDIRECT      (1ull << 28)
#define F_VERSION_1     (1ull << 32)

#define D_NEXT          1u
#define D_WRITE         2u
#define D_INDIRECT      4u

#define T_IN            0u
#define T_OUT           1u
#define T_FLUSH         4u
#define T_GET_ID        8u
#define BLK_OK          0u
#define BLK_IOERR       1u
#define BLK_UNSUPP      2u

#define QNUM            8u
#define SECTORS         8u
#define OUTSIDE_RAM     0x80000000ull   /* 2 GiB: far above the VM's 64 MiB */

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct vq {
    struct desc desc[QNUM] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[QNUM], used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags, idx;
        struct { uint32_t id, len; } ring[QNUM];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
    struct desc indirect[4] __attribute__((aligned(16)));
    uint64_t base;
    uint16_t last_used;
    volatile unsigned *irqs;
};

struct blk_header {
    uint32_t type, reserved;
    uint64_t sector;
};

static struct vq blk, rng;
static uint64_t blk_base, rng_base;   /* found by device ID (find_device()) */
static volatile unsigned blk_irqs, rng_irqs;
static volatile uint32_t blk_isr_seen;
static struct blk_header header;
static uint8_t sector[4096], sector2[512], status;
static uint8_t random_a[64], random_b[32];

static uint32_t r32(uint64_t base, uint32_t reg)
{
    return *(volatile uint32_t *)(uintptr_t)(base + reg);
}

static void w32(uint64_t base, uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)(base + reg) = value;
}

static void on_blk(struct guest_frame *frame)
{
    (void)frame;
    uint32_t isr = r32(blk_base, R_INT_STATUS);
    blk_isr_seen |= isr;
    w32(blk_base, R_INT_ACK, isr);
    blk_irqs++;
    lapic_eoi();
}

static void on_rng(struct guest_frame *frame)
{
    (void)frame;
    w32(rng_base, R_INT_ACK, r32(rng_base, R_INT_STATUS));
    rng_irqs++;
    lapic_eoi();
}

/* §3.1.1 with `features`, queue 0 as `q`; returns the status read back
 * after FEATURES_OK (0 if the device refused the features). */
static uint32_t device_init(struct vq *q, uint64_t base, uint64_t features)
{
    w32(base, R_STATUS, 0);
    w32(base, R_STATUS, S_ACKNOWLEDGE);
    w32(base, R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
    w32(base, R_DRV_FEAT_SEL, 0);
    w32(base, R_DRV_FEATURES, (uint32_t)features);
    w32(base, R_DRV_FEAT_SEL, 1);
    w32(base, R_DRV_FEATURES, (uint32_t)(features >> 32));
    w32(base, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    uint32_t st = r32(base, R_STATUS);
    if (!(st & S_FEATURES_OK))
        return 0;
    memset(q, 0, offsetof(struct vq, base));
    q->base = base;
    q->last_used = 0;
    w32(base, R_QUEUE_SEL, 0);
    if (r32(base, R_QUEUE_READY) != 0 || r32(base, R_QUEUE_NUM_MAX) < QNUM)
        return 0;
    w32(base, R_QUEUE_NUM, QNUM);
    w32(base, R_DESC_LOW, (uint32_t)(uintptr_t)q->desc);
    w32(base, R_DESC_HIGH, 0);
    w32(base, R_DRIVER_LOW, (uint32_t)(uintptr_t)&q->avail);
    w32(base, R_DRIVER_HIGH, 0);
    w32(base, R_DEVICE_LOW, (uint32_t)(uintptr_t)&q->used);
    w32(base, R_DEVICE_HIGH, 0);
    w32(base, R_QUEUE_READY, 1);
    w32(base, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return r32(base, R_STATUS);
}

/* Offer chain `head` (descriptors already written), notify, and wait for
 * its completion and interrupt; returns the used length, or ~0u if the
 * used ring did not move or gave back another id. */
static uint32_t submit(struct vq *q, uint16_t head)
{
    unsigned irqs = *q->irqs;
    q->avail.ring[q->avail.idx % QNUM] = head;
    __atomic_store_n(&q->avail.idx, (uint16_t)(q->avail.idx + 1), __ATOMIC_RELEASE);
    w32(q->base, R_QUEUE_NOTIFY, 0);
    /* The used ring moves before the interrupt comes (on Copra before the
     * notify write even completes; QEMU's devices complete later). */
    wait_for(q->irqs, irqs + 1, WAIT_ROUNDS);
    if (__atomic_load_n(&q->used.idx, __ATOMIC_ACQUIRE) == q->last_used)
        return ~0u;
    uint32_t id = q->used.ring[q->last_used % QNUM].id;
    uint32_t len = q->used.ring[q->last_used % QNUM].len;
    q->last_used++;
    return id == head ? len : ~0u;
}

static void desc_set(struct desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    *d = (struct desc){ addr, len, flags, next };
}

/* A blk request: header, `len` data bytes at `data` (device-written for
 * IN and GET_ID), status.  Returns the status byte (0xEE if untouched). */
static uint8_t blk_request(uint32_t type, uint64_t sector_no, uint64_t data, uint32_t len,
                           uint32_t *used_len)
{
    header = (struct blk_header){ type, 0, sector_no };
    status = 0xEE;
    uint16_t dw = type == T_OUT ? 0 : D_WRITE;
    desc_set(&blk.desc[0], (uintptr_t)&header, sizeof header, D_NEXT, 1);
    if (len > 0) {
        desc_set(&blk.desc[1], data, len, D_NEXT | dw, 2);
        desc_set(&blk.desc[2], (uintptr_t)&status, 1, D_WRITE, 0);
    } else {
        desc_set(&blk.desc[1], (uintptr_t)&status, 1, D_WRITE, 0);
    }
    *used_len = submit(&blk, 0);
    return status;
}

/* Offer descriptor 0 with the available index set to `avail_idx` (one
 * ahead: a normal offer), notify, and expect DEVICE_NEEDS_RESET with a
 * configuration-change interrupt; then reset and set the device up again. */
static void expect_needs_reset(const char *what, unsigned avail_idx)
{
    unsigned irqs = blk_irqs;
    uint16_t used = blk.used.idx;
    blk_isr_seen = 0;
    blk.avail.ring[blk.avail.idx % QNUM] = 0;
    __atomic_store_n(&blk.avail.idx, (uint16_t)avail_idx, __ATOMIC_RELEASE);
    w32(blk_base, R_QUEUE_NOTIFY, 0);
    wait_for(&blk_irqs, irqs + 1, WAIT_ROUNDS);
    guest_printf("blk: %s:\n", what);
    CHECK("blk: ... DEVICE_NEEDS_RESET", r32(blk_base, R_STATUS) & S_NEEDS_RESET);
    CHECK("blk: ... a configuration-change interrupt", blk_isr_seen & 2u);
    CHECK_EQ("blk: ... nothing given back", blk.used.idx, used);
    uint32_t st = device_init(&blk, blk_base, F_VERSION_1);
    CHECK_EQ("blk: ... after a reset the device is back", st,
             S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

static bool starts_with(const uint8_t *p, const char *s)
{
    while (*s != '\0')
        if (*p++ != (uint8_t)*s++)
            return false;
    return true;
}

static void test_blk(void)
{
    uint32_t len;

    /* Identity and features (§4.2.2). */
    CHECK_EQ("blk: MagicValue 'virt'", r32(blk_base, R_MAGIC), 0x74726976u);
    CHECK_EQ("blk: Version 2 (modern)", r32(blk_base, R_VERSION), 2);
    CHECK_EQ("blk: DeviceID 2", r32(blk_base, R_DEVICE_ID), 2);
    w32(blk_base, R_DEV_FEAT_SEL, 1);
    CHECK_EQ("blk: offers VERSION_1", r32(blk_base, R_DEV_FEATURES) & 1u, 1);
    w32(blk_base, R_DEV_FEAT_SEL, 0);
    uint32_t low = r32(blk_base, R_DEV_FEATURES);
    CHECK("blk: offers BLK_SIZE, FLUSH, INDIRECT_DESC",
          (low & (F_BLK_SIZE | F_FLUSH | F_INDIRECT)) == (F_BLK_SIZE | F_FLUSH | F_INDIRECT));
    CHECK_EQ("blk: a driver without VERSION_1 is refused FEATURES_OK",
             device_init(&blk, blk_base, F_FLUSH), 0);
    uint32_t st = device_init(&blk, blk_base, F_VERSION_1 | F_FLUSH | F_BLK_SIZE | F_INDIRECT);
    CHECK_EQ("blk: FEATURES_OK and DRIVER_OK", st, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    CHECK_EQ("blk: queue ready", r32(blk_base, R_QUEUE_READY), 1);
    CHECK_EQ("blk: capacity 8 sectors", r32(blk_base, R_CONFIG) | (uint64_t)r32(blk_base, R_CONFIG + 4) << 32,
             SECTORS);
    CHECK_EQ("blk: blk_size 512", r32(blk_base, R_CONFIG + 20), 512);

    /* The marker sectors of the image. */
    CHECK_EQ("blk: read sector 0: OK", blk_request(T_IN, 0, (uintptr_t)sector, 512, &len), BLK_OK);
    CHECK_EQ("blk: read sector 0: 513 bytes written", len, 513);
    CHECK("blk: sector 0 holds its marker", starts_with(sector, "copra virtio disk, sector 0\n"));
    CHECK_EQ("blk: read sectors 6-7: OK", blk_request(T_IN, 6, (uintptr_t)sector, 1024, &len), BLK_OK);
    CHECK("blk: sector 6 holds its marker", starts_with(sector, "copra virtio disk, sector 6\n"));
    CHECK("blk: sector 7 holds its marker", starts_with(sector + 512, "copra virtio disk, sector 7\n"));
    CHECK_EQ("blk: one interrupt per request so far", blk_irqs, 2);
    CHECK_EQ("blk: interrupts were used-buffer ones", blk_isr_seen, 1);
    CHECK_EQ("blk: InterruptStatus clear after the ACK", r32(blk_base, R_INT_STATUS), 0);

    /* Write, then read back. */
    for (unsigned i = 0; i < 512; i++)
        sector2[i] = (uint8_t)(i * 7 + 3);
    CHECK_EQ("blk: write sector 3: OK", blk_request(T_OUT, 3, (uintptr_t)sector2, 512, &len), BLK_OK);
    CHECK_EQ("blk: write: only the status byte written", len, 1);
    memset(sector, 0, sizeof sector);
    CHECK_EQ("blk: read sector 3 back: OK", blk_request(T_IN, 3, (uintptr_t)sector, 512, &len), BLK_OK);
    bool same = true;
    for (unsigned i = 0; i < 512; i++)
        same = same && sector[i] == sector2[i];
    CHECK("blk: sector 3 reads back what was written", same);
    CHECK_EQ("blk: read sector 2: OK", blk_request(T_IN, 2, (uintptr_t)sector, 512, &len), BLK_OK);
    CHECK("blk: sector 2 untouched", starts_with(sector, "copra virtio disk, sector 2\n"));

    /* Other request types. */
    CHECK_EQ("blk: FLUSH: OK", blk_request(T_FLUSH, 0, 0, 0, &len), BLK_OK);
    memset(sector, 0xff, 20);
    CHECK_EQ("blk: GET_ID: OK", blk_request(T_GET_ID, 0, (uintptr_t)sector, 20, &len), BLK_OK);
    CHECK("blk: GET_ID: the id string", starts_with(sector, "copra-virtio-blk") && sector[16] == 0);
    CHECK_EQ("blk: unknown type 99: UNSUPP", blk_request(99, 0, (uintptr_t)sector, 512, &len), BLK_UNSUPP);

    /* Errors the device must survive. */
    CHECK_EQ("blk: read sector 8 (past the end): IOERR",
             blk_request(T_IN, SECTORS, (uintptr_t)sector, 512, &len), BLK_IOERR);
    CHECK_EQ("blk: read sectors 7-8: IOERR", blk_request(T_IN, 7, (uintptr_t)sector, 1024, &len),
             BLK_IOERR);
    CHECK_EQ("blk: read of 100 bytes (not whole sectors): IOERR",
             blk_request(T_IN, 0, (uintptr_t)sector, 100, &len), BLK_IOERR);
    CHECK_EQ("blk: a huge sector number: IOERR",
             blk_request(T_IN, 0xffffffffffffffffull, (uintptr_t)sector, 512, &len), BLK_IOERR);
    CHECK_EQ("blk: data descriptor outside guest RAM: IOERR",
             blk_request(T_IN, 0, OUTSIDE_RAM, 512, &len), BLK_IOERR);
    CHECK_EQ("blk: ... and only the status byte written", len, 1);
    CHECK_EQ("blk: write from outside guest RAM: IOERR",
             blk_request(T_OUT, 1, OUTSIDE_RAM, 512, &len), BLK_IOERR);
    CHECK_EQ("blk: the device still works: read sector 1",
             blk_request(T_IN, 1, (uintptr_t)sector, 512, &len), BLK_OK);
    CHECK("blk: sector 1 holds its marker", starts_with(sector, "copra virtio disk, sector 1\n"));

    /* An indirect table (§2.6.5.3): header, data, status. */
    header = (struct blk_header){ T_IN, 0, 5 };
    status = 0xEE;
    desc_set(&blk.indirect[0], (uintptr_t)&header, sizeof header, D_NEXT, 1);
    desc_set(&blk.indirect[1], (uintptr_t)sector, 512, D_NEXT | D_WRITE, 2);
    desc_set(&blk.indirect[2], (uintptr_t)&status, 1, D_WRITE, 0);
    desc_set(&blk.desc[4], (uintptr_t)blk.indirect, 3 * sizeof(struct desc), D_INDIRECT, 0);
    len = submit(&blk, 4);
    CHECK_EQ("blk: indirect read of sector 5: OK", status, BLK_OK);
    CHECK_EQ("blk: indirect: 513 bytes", len, 513);
    CHECK("blk: sector 5 holds its marker", starts_with(sector, "copra virtio disk, sector 5\n"));

    /* Chains the device cannot walk to their end and a corrupt ring:
     * DEVICE_NEEDS_RESET with a configuration-change interrupt (as QEMU),
     * nothing given back; a reset brings the device back each time. */
    desc_set(&blk.desc[0], (uintptr_t)&header, sizeof header, D_NEXT, 1);
    desc_set(&blk.desc[1], (uintptr_t)sector, 512, D_NEXT | D_WRITE, 0);   /* back to 0 */
    expect_needs_reset("a descriptor loop", blk.avail.idx + 1);
    desc_set(&blk.desc[0], (uintptr_t)&header, sizeof header, D_NEXT, 1);   /* the reset zeroed it */
    desc_set(&blk.desc[1], (uintptr_t)sector, 512, D_NEXT | D_WRITE, QNUM);   /* past the table */
    expect_needs_reset("a next index past the table", blk.avail.idx + 1);
    /* A well-formed chain, so that the index is the only fault. */
    desc_set(&blk.desc[0], (uintptr_t)&header, sizeof header, D_NEXT, 1);
    desc_set(&blk.desc[1], (uintptr_t)sector, 512, D_NEXT | D_WRITE, 2);
    desc_set(&blk.desc[2], (uintptr_t)&status, 1, D_WRITE, 0);
    expect_needs_reset("the available index QNUM + 1 ahead", blk.avail.idx + QNUM + 1);
    CHECK_EQ("blk: read sector 4 after the reset: OK", blk_request(T_IN, 4, (uintptr_t)sector, 512, &len),
             BLK_OK);
    CHECK("blk: sector 4 holds its marker", starts_with(sector, "copra virtio disk, sector 4\n"));
    memset(sector, 0, 512);
    CHECK_EQ("blk: sector 3 still holds the write", blk_request(T_IN, 3, (uintptr_t)sector, 512, &len), BLK_OK);
    CHECK_EQ("blk: ... its first byte", sector[0], 3);
}

static bool all_zero(const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void test_rng(void)
{
    CHECK_EQ("rng: MagicValue", r32(rng_base, R_MAGIC), 0x74726976u);
    CHECK_EQ("rng: DeviceID 4", r32(rng_base, R_DEVICE_ID), 4);
    uint32_t st = device_init(&rng, rng_base, F_VERSION_1);
    CHECK_EQ("rng: FEATURES_OK and DRIVER_OK", st, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    desc_set(&rng.desc[0], (uintptr_t)random_a, sizeof random_a, D_NEXT | D_WRITE, 1);
    desc_set(&rng.desc[1], (uintptr_t)random_b, sizeof random_b, D_WRITE, 0);
    CHECK_EQ("rng: 96 random bytes", submit(&rng, 0), 96);
    CHECK("rng: the first buffer is not all zero", !all_zero(random_a, sizeof random_a));
    CHECK("rng: the second buffer is not all zero", !all_zero(random_b, sizeof random_b));
    uint8_t first[8];
    memcpy(first, random_a, sizeof first);
    CHECK_EQ("rng: again", submit(&rng, 0), 96);
    bool differ = false;
    for (unsigned i = 0; i < sizeof first; i++)
        differ = differ || first[i] != random_a[i];
    CHECK("rng: two requests give different bytes", differ);
    CHECK_EQ("rng: one interrupt per request", rng_irqs, 2);
    desc_set(&rng.desc[0], OUTSIDE_RAM, 64, D_WRITE, 0);
    CHECK_EQ("rng: a buffer outside guest RAM gets nothing", submit(&rng, 0), 0);
    desc_set(&rng.desc[0], (uintptr_t)random_a, sizeof random_a, D_WRITE, 0);
    CHECK_EQ("rng: the device still works", submit(&rng, 0), 64);
}

/* N polled reads of `bytes` from sector 0; the TSC ticks per request. */
static uint64_t bench_reads(unsigned n, uint32_t bytes)
{
    header = (struct blk_header){ T_IN, 0, 0 };
    desc_set(&blk.desc[0], (uintptr_t)&header, sizeof header, D_NEXT, 1);
    desc_set(&blk.desc[1], (uintptr_t)sector, bytes, D_NEXT | D_WRITE, 2);
    desc_set(&blk.desc[2], (uintptr_t)&status, 1, D_WRITE, 0);
    unsigned failed = 0;
    uint64_t t0 = rdtsc();
    for (unsigned i = 0; i < n; i++) {
        blk.avail.ring[blk.avail.idx % QNUM] = 0;
        __atomic_store_n(&blk.avail.idx, (uint16_t)(blk.avail.idx + 1), __ATOMIC_RELEASE);
        w32(blk_base, R_QUEUE_NOTIFY, 0);
        if (__atomic_load_n(&blk.used.idx, __ATOMIC_ACQUIRE) != (uint16_t)(blk.last_used + 1) ||
            status != BLK_OK)
            failed++;
        blk.last_used++;
    }
    uint64_t t1 = rdtsc();
    CHECK_EQ("bench: every request completed by its notify", failed, 0);
    return (t1 - t0) / n;
}

/* The window holding a device of type `id`, scanning as Linux's
 * command-line or ACPI probing would find it; *slot its index. */
static uint64_t find_device(uint32_t id, unsigned *slot)
{
    for (unsigned i = 0; i < WINDOWS; i++) {
        uint64_t base = WINDOW_BASE + (uint64_t)WINDOW_SIZE * i;
        if (r32(base, R_MAGIC) == 0x74726976u && r32(base, R_DEVICE_ID) == id) {
            *slot = i;
            return base;
        }
    }
    return 0;
}

int guest_main(unsigned cpu, uint32_t info)
{
    guest_printf("virtio guest on vcpu %u\n", cpu);
    unsigned blk_slot = 0, rng_slot = 0;
    blk_base = find_device(2, &blk_slot);
    rng_base = find_device(4, &rng_slot);
    /* QEMU's microvm numbers its GSIs from 5 (ioapic2=off): virtio-gsi=5. */
    unsigned gsi_base = guest_cmdline_number(info, "virtio-gsi=", GSI_BASE);
    guest_printf("virtio-blk at 0x%llx, GSI %u; virtio-rng at 0x%llx, GSI %u\n",
                 (unsigned long long)blk_base, gsi_base + blk_slot,
                 (unsigned long long)rng_base, gsi_base + rng_slot);
    if (blk_base == 0) {
        CHECK("a virtio-blk device", false);
        return guest_finish();
    }
    unsigned bench = guest_cmdline_number(info, "bench=", 0);
    if (bench > 0) {
        uint32_t st = device_init(&blk, blk_base, F_VERSION_1);
        CHECK_EQ("bench: blk ready", st, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
        bench_reads(100, 512);   /* warm up */
        guest_printf("bench virtio_blk_read_512 %llu insns/request\n",
                     (unsigned long long)bench_reads(bench, 512));
        guest_printf("bench virtio_blk_read_4096 %llu insns/request\n",
                     (unsigned long long)bench_reads(bench, 4096));
        return guest_finish();
    }
    idt_init();
    idt_set_handler(BLK_VECTOR, on_blk);
    idt_set_handler(RNG_VECTOR, on_rng);
    outb(0x21, 0xFF);   /* the PICs stay masked */
    outb(0xA1, 0xFF);
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    uint64_t dest = (uint64_t)(lapic_read(LAPIC_ID) >> 24) << 56;
    ioapic_redirect(gsi_base + blk_slot, dest | REDIR_LEVEL | BLK_VECTOR);   /* active-high */
    if (rng_base != 0)
        ioapic_redirect(gsi_base + rng_slot, dest | REDIR_LEVEL | RNG_VECTOR);
    blk.irqs = &blk_irqs;
    rng.irqs = &rng_irqs;

    test_blk();
    if (rng_base != 0)
        test_rng();
    else
        CHECK("a virtio-rng device", false);
    return guest_finish();
}
