/* SPDX-License-Identifier: MIT */
/*
 * The process around a virtio device (coco/virtio.h, "The process"): guest
 * RAM and the interrupt line from the VMM's handles, the register file as
 * the range of the devmodel loop.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>
#include <coco/virtio.h>

#define HANDLE_RANGE 0u
#define HANDLE_RAM   1u
#define HANDLE_LINE  2u

static struct devmodel_irq model_irq;

static uint64_t model_read(void *state, uint64_t offset, unsigned size)
{
    return virtio_mmio_read(state, offset, size);
}

static void model_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    virtio_mmio_write(state, offset, size, value);
}

static void model_set_irq(struct virtio_mmio *dev, bool level)
{
    (void)dev;
    devmodel_irq_set(&model_irq, level);
}

unsigned virtio_model_first_handle(int argc, char **argv)
{
    return devmodel_arg_present(argc, argv, "irq") ? HANDLE_LINE + 1 : HANDLE_LINE;
}

int virtio_model_map_ram(struct virtio_mmio *dev, int argc, char **argv)
{
    uint64_t ram = coco_arg_u64(argc, argv, "ram", 0), at = coco_arg_u64(argc, argv, "ram_at", 0);
    if (coco_handle_count() <= HANDLE_RAM || ram == 0 || ram % COPRA_PAGE_SIZE != 0) {
        coco_printf("no guest RAM (handle 1 and ram=BYTES)\n");
        return COPRA_EINVAL;
    }
    int64_t r = coco_mmap(coco_handle(HANDLE_RAM), NULL, ram, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (r < 0) {
        coco_printf("cannot map guest RAM (%llu bytes): %s\n", (unsigned long long)ram,
                    coco_strerror(r));
        return (int)r;
    }
    dev->ram = (struct virtio_guest_ram){ .base = (uint8_t *)(uintptr_t)r, .size = ram, .gpa = at };
    return 0;
}

int virtio_model_run(struct virtio_mmio *dev, int argc, char **argv)
{
    /* Keep the model's own ops, add the line. */
    static struct virtio_mmio_ops ops;
    uint64_t base;

    if (!devmodel_arg_u64(argc, argv, "base", &base)) {
        coco_printf("no base=GPA\n");
        return 1;
    }
    if (dev->ops != NULL)
        ops = *dev->ops;
    if (virtio_model_first_handle(argc, argv) > HANDLE_LINE) {
        int e = coco_handle_count() > HANDLE_LINE ? devmodel_irq_init(&model_irq, coco_handle(HANDLE_LINE))
                                                  : COPRA_EINVAL;
        if (e < 0) {
            coco_printf("cannot map the interrupt line: %s\n", coco_strerror(e));
            return 1;
        }
        ops.set_irq = model_set_irq;
    }
    dev->ops = &ops;
    virtio_mmio_init(dev);

    struct devmodel_range range = {
        .handle = coco_handle(HANDLE_RANGE), .base = base,
        .read = model_read, .write = model_write, .state = dev,
    };
    struct devmodel dm = { .ranges = &range, .nranges = 1 };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
