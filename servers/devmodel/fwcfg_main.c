/* SPDX-License-Identifier: MIT */
/*
 * QEMU fw_cfg (program `fwcfg`), I/O ports 0x510-0x511; the register
 * logic is fwcfg.c.
 *
 *   argv:    fwcfg vcpus=N ram=BYTES
 *   handles: [0] the IOIO range 0x510 (2 ports)
 *            [1] the files: a memory object (READ | MAP) laid out as
 *                fwcfg_files.h says; optional
 *
 * NB_CPUS and MAX_CPUS are `vcpus`, RAM_SIZE is `ram`.  Every file is
 * checked against the object's size before it is added; a bad one is
 * reported and left out, the rest are served.
 */
#include <coco/coco.h>
#include <coco/devmodel.h>

#include "fwcfg.h"

static uint64_t fwcfg_port_read(void *state, uint64_t offset, unsigned size)
{
    return fwcfg_io_read(state, (unsigned)offset, size);
}

static void fwcfg_port_write(void *state, uint64_t offset, unsigned size, uint64_t value)
{
    fwcfg_io_write(state, (unsigned)offset, size, value);
}

/* Map the VMM's files object and add each file; returns the number added. */
static unsigned files_load(struct fwcfg *c, copra_handle_t handle)
{
    /* Its first page says how long it is; then map all of it. */
    int64_t r = coco_mmap(handle, NULL, COPRA_PAGE_SIZE, COPRA_PROT_READ, 0);
    if (r < 0) {
        coco_printf("cannot map the files object: %s\n", coco_strerror(r));
        return 0;
    }
    uint64_t total = ((const struct fwcfg_files_header *)(uintptr_t)r)->total_bytes;
    coco_munmap((void *)(uintptr_t)r, COPRA_PAGE_SIZE);
    if (total < sizeof(struct fwcfg_files_header) || total > FWCFG_FILES_MAX_BYTES) {
        coco_printf("the files object is malformed: no files\n");
        return 0;
    }
    r = coco_mmap(handle, NULL, (total + COPRA_PAGE_SIZE - 1) & ~(uint64_t)(COPRA_PAGE_SIZE - 1),
                  COPRA_PROT_READ, 0);
    if (r < 0) {
        coco_printf("cannot map the files object: %s\n", coco_strerror(r));
        return 0;
    }
    const uint8_t *base = (const uint8_t *)(uintptr_t)r;
    const struct fwcfg_files_header *h = (const void *)base;
    /* Read once: the VMM could change the object under us. */
    if (h->magic != FWCFG_FILES_MAGIC || h->total_bytes != total ||
        h->count > (total - sizeof *h) / sizeof(struct fwcfg_files_entry)) {
        coco_printf("the files object is malformed: no files\n");
        return 0;
    }
    /* The mapping stays for the process's life: items point into it. */
    const struct fwcfg_files_entry *e = (const void *)(h + 1);
    unsigned added = 0;
    for (uint32_t i = 0; i < h->count; i++) {
        char name[FWCFG_NAME_MAX];
        memcpy(name, e[i].name, sizeof name);
        name[sizeof name - 1] = '\0';
        if ((uint64_t)e[i].offset + e[i].size > total ||
            fwcfg_add_file(c, name, base + e[i].offset, e[i].size) < 0) {
            coco_printf("file %u ('%s'): bad extent, name or too many files: left out\n", i, name);
            continue;
        }
        added++;
    }
    return added;
}

int main(int argc, char **argv)
{
    static struct fwcfg cfg;

    if (coco_handle_count() < 1) {
        coco_printf("no IOIO range handle\n");
        return 1;
    }
    fwcfg_init(&cfg, (unsigned)coco_arg_u64(argc, argv, "vcpus", 1),
               coco_arg_u64(argc, argv, "ram", 0));
    if (coco_handle_count() >= 2)
        files_load(&cfg, coco_handle(1));

    struct devmodel_range range = {
        .handle = coco_handle(0), .base = FWCFG_PORT_BASE,
        .read = fwcfg_port_read, .write = fwcfg_port_write, .state = &cfg,
    };
    struct devmodel dm = { .ranges = &range, .nranges = 1 };
    devmodel_init_args(&dm, argc, argv);
    int r = devmodel_run(&dm);
    coco_printf("device-model loop failed: %s\n", coco_strerror(r));
    return 1;
}
