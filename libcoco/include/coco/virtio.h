/* SPDX-License-Identifier: MIT */
/*
 * virtio over MMIO (issue 10): the transport every virtio device model
 * shares, so a model is its request handler and little else.
 *
 *   Virtio 1.1 (OASIS, 2019) §4.2.2: the MMIO register layout, version 2
 *   ("modern"); legacy (version 1) is not offered.  VIRTIO_F_VERSION_1 is
 *   always offered and a driver that does not accept it is refused
 *   FEATURES_OK (§6.1).
 *   §2.6: split virtqueues (descriptor table, available ring, used ring),
 *   chained descriptors and, if the model offers VIRTIO_F_INDIRECT_DESC,
 *   indirect tables (§2.6.5.3).  No VIRTIO_F_EVENT_IDX.
 *
 * Two layers:
 *
 *   virtio.c (pure C, no syscalls; tests/unit/test_virtio.c and
 *   tests/fuzz/virtio_fuzz.c build it on the host): the register file
 *   (virtio_mmio_read/write) and the queue walker (virtio_queue_pop/push)
 *   over a window of guest RAM the caller mapped.  Every address the
 *   guest gives -- ring bases, descriptor addresses and lengths, indexes --
 *   is checked against that window before it is used, and every guest
 *   field is read once into a local, so a driver (or another VCPU racing
 *   it) cannot make the model touch memory outside the window.  A buffer
 *   outside guest RAM makes its request fail (virtio_chain.error; the
 *   model answers with its I/O-error status, the chain's end being known).
 *   A chain that cannot be walked to its end (a loop or more descriptors
 *   than the queue or table holds, a `next` past it, a misused indirect
 *   table or one outside RAM) or a bad ring (the available index more than the queue size
 *   ahead, a head index >= the queue size, rings outside RAM) sets
 *   DEVICE_NEEDS_RESET and raises a configuration-change interrupt
 *   (§2.1.2), as QEMU does (virtio_error()): with the chain's end unknown
 *   there is no status byte to put an error in, and giving the chain back
 *   untouched would let the driver read a stale status as success.
 *
 *   virtio_model.c (the process around it, target only): maps guest RAM
 *   and the interrupt line from the handles the VMM gives and runs the
 *   devmodel loop (coco/devmodel.h) with the register file as the range.
 *
 * Interrupts: InterruptStatus bit 0 (used buffer) and bit 1 (configuration
 * change) drive one level-triggered line: high while any bit is set, low
 * once the driver has ACKed them all.
 */
#ifndef COCO_VIRTIO_H
#define COCO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- MMIO registers (§4.2.2) --------------------------------------------- */

#define VIRTIO_MMIO_MAGIC_VALUE        0x000u
#define VIRTIO_MMIO_VERSION            0x004u
#define VIRTIO_MMIO_DEVICE_ID          0x008u
#define VIRTIO_MMIO_VENDOR_ID          0x00cu
#define VIRTIO_MMIO_DEVICE_FEATURES    0x010u
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014u
#define VIRTIO_MMIO_DRIVER_FEATURES    0x020u
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024u
#define VIRTIO_MMIO_QUEUE_SEL          0x030u
#define VIRTIO_MMIO_QUEUE_NUM_MAX      0x034u
#define VIRTIO_MMIO_QUEUE_NUM          0x038u
#define VIRTIO_MMIO_QUEUE_READY        0x044u
#define VIRTIO_MMIO_QUEUE_NOTIFY       0x050u
#define VIRTIO_MMIO_INTERRUPT_STATUS   0x060u
#define VIRTIO_MMIO_INTERRUPT_ACK      0x064u
#define VIRTIO_MMIO_STATUS             0x070u
#define VIRTIO_MMIO_QUEUE_DESC_LOW     0x080u
#define VIRTIO_MMIO_QUEUE_DESC_HIGH    0x084u
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW   0x090u
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH  0x094u
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW   0x0a0u
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH  0x0a4u
#define VIRTIO_MMIO_SHM_SEL            0x0acu
#define VIRTIO_MMIO_SHM_LEN_LOW        0x0b0u
#define VIRTIO_MMIO_SHM_LEN_HIGH       0x0b4u
#define VIRTIO_MMIO_CONFIG_GENERATION  0x0fcu
#define VIRTIO_MMIO_CONFIG             0x100u
#define VIRTIO_MMIO_SIZE               0x200u   /* one device's window */

#define VIRTIO_MMIO_MAGIC              0x74726976u   /* "virt" */
#define VIRTIO_MMIO_VERSION_MODERN     2u
#define VIRTIO_VENDOR_COPRA            0x41525043u   /* "CPRA"; any value is allowed */

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE      1u
#define VIRTIO_STATUS_DRIVER           2u
#define VIRTIO_STATUS_DRIVER_OK        4u
#define VIRTIO_STATUS_FEATURES_OK      8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED           128u

/* InterruptStatus bits. */
#define VIRTIO_INT_USED_BUFFER         1u
#define VIRTIO_INT_CONFIG_CHANGE       2u

/* Feature bits independent of the device type (§6). */
#define VIRTIO_F_INDIRECT_DESC         28u
#define VIRTIO_F_VERSION_1             32u
#define VIRTIO_FEATURE(bit)            (1ull << (bit))

/* Device IDs (§5). */
#define VIRTIO_ID_BLOCK                2u
#define VIRTIO_ID_RNG                  4u

/* ---- Split virtqueues (§2.6) -------------------------------------------- */

#define VIRTQ_DESC_F_NEXT              1u
#define VIRTQ_DESC_F_WRITE             2u
#define VIRTQ_DESC_F_INDIRECT          4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT     1u

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc");

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem");

/* The largest queue a model offers (QueueNumMax) and so the longest chain
 * (§2.6.5.2: no chain is longer than the queue size; an indirect table is
 * held to the same bound). */
#define VIRTIO_QUEUE_NUM_MAX           256u
#define VIRTIO_QUEUES_MAX              4u
#define VIRTIO_CONFIG_MAX              (VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)

/* The window of guest-physical memory a model can reach: GPA gpa ..
 * gpa + size - 1, mapped at `base` in the model.  The VMM hands models the
 * guest's RAM from 1 MiB up (gpa = 1 MiB): the PC's low megabyte is no
 * place for DMA buffers (Linux reserves all of it). */
struct virtio_guest_ram {
    uint8_t *base;
    uint64_t size;
    uint64_t gpa;
};

struct virtio_queue {
    /* Registers as the driver wrote them (QueueSel selects which). */
    uint32_t num;
    uint64_t desc, driver, device;
    bool ready;
    /* Device side, set when the driver makes the queue ready. */
    uint16_t last_avail;          /* the next available-ring entry to take */
    uint16_t used_idx;            /* the used ring's idx as this device last wrote it */
};

/* One segment of a popped chain.  `data` is NULL when the descriptor lies
 * (partly) outside guest RAM; then the chain's `error` is set too. */
struct virtio_segment {
    uint8_t *data;
    uint32_t len;
    bool device_writes;           /* VIRTQ_DESC_F_WRITE: the device writes it */
};

/* Why a chain is unusable (virtio_chain.error); the model fails it. */
#define VIRTIO_CHAIN_OUTSIDE_RAM   1u   /* a buffer or indirect table outside guest RAM */
#define VIRTIO_CHAIN_BAD_INDEX     2u   /* a `next` >= the queue or table size */
#define VIRTIO_CHAIN_TOO_LONG      4u   /* longer than the queue/table: a loop, or too many */
#define VIRTIO_CHAIN_BAD_INDIRECT  8u   /* INDIRECT not offered, nested, with NEXT, bad length */
/* The faults that stop a walk before the chain's end. */
#define VIRTIO_CHAIN_WALK_FAULTS   (VIRTIO_CHAIN_BAD_INDEX | VIRTIO_CHAIN_TOO_LONG | \
                                    VIRTIO_CHAIN_BAD_INDIRECT)

struct virtio_chain {
    uint16_t head;                /* the id the used ring gets back */
    unsigned error;               /* VIRTIO_CHAIN_* bits, 0 if every segment is good */
    bool complete;                /* the walk reached the chain's end (a descriptor
                                     without NEXT): the last segment is the last */
    unsigned nsegments;
    uint64_t readable, writable;  /* bytes the device may read / write in all */
    struct virtio_segment segment[VIRTIO_QUEUE_NUM_MAX];
};

/* virtio_queue_pop() results. */
#define VIRTIO_POP_EMPTY   0
#define VIRTIO_POP_CHAIN   1      /* `chain` holds the next request (check .error) */
#define VIRTIO_POP_BROKEN  (-1)   /* the ring itself is corrupt: the device needs a reset */

/* Take the next available chain of ready queue `q` and walk it (pure: reads
 * guest RAM through `ram` only, never outside it).  `indirect`: whether
 * VIRTIO_F_INDIRECT_DESC was negotiated. */
int virtio_queue_pop(const struct virtio_guest_ram *ram, struct virtio_queue *q, bool indirect,
                     struct virtio_chain *chain);

/* Return chain `head` to the driver with `written` bytes written into it.
 * Returns true if the driver wants an interrupt for it (it did not set
 * VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtio_queue_push(const struct virtio_guest_ram *ram, struct virtio_queue *q, uint16_t head,
                       uint32_t written);

/* Whether the queue's three areas, as its registers say, lie in guest RAM
 * with the alignment §2.6 asks (16, 2, 4) and a size 1..VIRTIO_QUEUE_NUM_MAX. */
bool virtio_queue_valid(const struct virtio_guest_ram *ram, const struct virtio_queue *q);

/* Copy `len` bytes of the chain's device-readable segments starting at
 * byte `offset` of them into `out`; returns the bytes copied. */
uint64_t virtio_chain_read(const struct virtio_chain *chain, uint64_t offset, void *out,
                           uint64_t len);
/* Copy into the device-writable segments from byte `offset` of them;
 * returns the bytes copied. */
uint64_t virtio_chain_write(const struct virtio_chain *chain, uint64_t offset, const void *in,
                            uint64_t len);

/* ---- The register file --------------------------------------------------- */

struct virtio_mmio;

struct virtio_mmio_ops {
    /* The driver notified queue `queue` (ready, < nqueues). */
    void (*notify)(struct virtio_mmio *dev, unsigned queue);
    /* The driver wrote 0 to Status: forget every request state. Optional. */
    void (*reset)(struct virtio_mmio *dev);
    /* The driver wrote device configuration space (offset from 0x100). Optional. */
    void (*config_write)(struct virtio_mmio *dev, unsigned offset, unsigned size, uint64_t value);
    /* Drive the interrupt line (called only on a change of level). */
    void (*set_irq)(struct virtio_mmio *dev, bool level);
};

struct virtio_mmio {
    /* Set by the model before the first access. */
    uint32_t device_id;
    uint64_t device_features;     /* VIRTIO_F_VERSION_1 is added by virtio_mmio_init() */
    unsigned nqueues;             /* 1..VIRTIO_QUEUES_MAX */
    uint16_t queue_num_max;       /* 1..VIRTIO_QUEUE_NUM_MAX */
    uint8_t config[VIRTIO_CONFIG_MAX];   /* device configuration space, little-endian */
    unsigned config_len;
    struct virtio_guest_ram ram;
    const struct virtio_mmio_ops *ops;
    void *state;                  /* the model's */

    /* Driver-visible state. */
    uint32_t status;
    uint32_t device_features_sel, driver_features_sel, queue_sel;
    uint64_t driver_features;
    uint32_t interrupt_status;
    uint32_t config_generation;
    struct virtio_queue queue[VIRTIO_QUEUES_MAX];
    bool irq_level;

    /* Statistics. */
    uint64_t notifications, chains, chain_errors, broken_rings;
};

/* Fill in the transport's defaults around what the model set. */
void virtio_mmio_init(struct virtio_mmio *dev);
/* An access at `offset` of the device's 0x200-byte window. */
uint64_t virtio_mmio_read(struct virtio_mmio *dev, uint64_t offset, unsigned size);
void virtio_mmio_write(struct virtio_mmio *dev, uint64_t offset, unsigned size, uint64_t value);

/* Whether the driver accepted feature `bit`. */
static inline bool virtio_mmio_has(const struct virtio_mmio *dev, unsigned bit)
{
    return (dev->driver_features >> bit) & 1u;
}

/* Pop the next chain of queue `queue` (ready).  A broken ring, or a chain
 * whose walk stopped short (VIRTIO_CHAIN_WALK_FAULTS, an indirect table
 * outside RAM), sets
 * DEVICE_NEEDS_RESET (and the config interrupt) and returns
 * VIRTIO_POP_BROKEN; the device then stays silent until the driver resets
 * it.  A chain it returns is complete; its error can only be
 * VIRTIO_CHAIN_OUTSIDE_RAM. */
int virtio_mmio_pop(struct virtio_mmio *dev, unsigned queue, struct virtio_chain *chain);
/* Complete a chain; sets the used-buffer interrupt if the driver wants one. */
void virtio_mmio_push(struct virtio_mmio *dev, unsigned queue, uint16_t head, uint32_t written);
/* Set InterruptStatus bits and raise the line. */
void virtio_mmio_interrupt(struct virtio_mmio *dev, uint32_t bits);

/* ---- The process (virtio_model.c, target only) -------------------------- */

/* What every virtio model gets from the VMM (servers/vmm/devmodels.c):
 *   argv:    NAME vcpus=N ram=BYTES [ram_at=GPA] base=GPA [irq=GSI] ...
 *   handles: [0] the MMIO range (base, VIRTIO_MMIO_SIZE)
 *            [1] guest RAM: a DUP of the VM's memory object (MAP | WRITE)
 *            [2] the driver's DUP of the interrupt line, when argv has irq=
 *            then the model's own (virtio-blk: its disk)
 * virtio_model_map_ram() maps RAM into dev->ram (0 or an error, logged);
 * virtio_model_run() maps the line, then serves the range until the loop
 * fails; it returns the process's exit status. */
int virtio_model_map_ram(struct virtio_mmio *dev, int argc, char **argv);
int virtio_model_run(struct virtio_mmio *dev, int argc, char **argv);
/* The index of the model's first own handle (after range, RAM and line). */
unsigned virtio_model_first_handle(int argc, char **argv);

#endif
