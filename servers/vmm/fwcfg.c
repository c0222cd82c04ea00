/* SPDX-License-Identifier: MIT */
/*
 * The files the fwcfg model serves (servers/devmodel/fwcfg_files.h has the
 * layout), built once per VM and handed to each start of the model as a
 * read-only DUP:
 *
 *   etc/e820      the guest's RAM as QEMU's pc machine lists it there: one
 *                 20-byte entry (le64 address, le64 length, le32 type 1 =
 *                 RAM) per RAM range.  Guest RAM is one block at GPA 0
 *                 (vm.c), so one entry {0, memory, 1}, as QEMU gives a TCG
 *                 guest with less than 3.5 GiB (firmware adds the holes).
 *   opt/NAME      each `opt/NAME=PATH` parameter of `device fwcfg`: the
 *                 initrd file PATH, as QEMU's `-fw_cfg name=opt/NAME,file=`
 *                 (QEMU reserves opt/ for the user; so does this).
 */
#include "vm.h"

#include "../devmodel/fwcfg_files.h"

#define E820_ENTRY_BYTES 20u
#define E820_RAM         1u
#define FILES_MAX        (VMM_CONFIG_DEVICE_PARAMS_MAX + 1u)

struct file_source {
    const char *name;
    const uint8_t *data;
    uint32_t size;
};

static void put_le(uint8_t *p, uint64_t value, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

static int files_fail(const struct vmm_config_device *d, const char *what, const char *detail)
{
    coco_printf("vmm: line %u: device fwcfg: %s%s\n", d->line, what, detail);
    return 2;
}

/* Write the object: header, entries, contents; returns its handle or an error. */
static int64_t files_write(const struct file_source *files, unsigned n)
{
    uint64_t total = sizeof(struct fwcfg_files_header) + n * sizeof(struct fwcfg_files_entry);
    for (unsigned i = 0; i < n; i++)
        total += files[i].size;
    if (total > FWCFG_FILES_MAX_BYTES)
        return COPRA_ENOMEM;
    uint64_t bytes = (total + COPRA_PAGE_SIZE - 1) & ~(uint64_t)(COPRA_PAGE_SIZE - 1);
    int64_t handle = coco_mem_create(bytes / COPRA_PAGE_SIZE);
    if (handle < 0)
        return handle;
    int64_t r = coco_mmap((copra_handle_t)handle, NULL, bytes, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (r < 0) {
        coco_close((copra_handle_t)handle);
        return r;
    }
    uint8_t *base = (uint8_t *)(uintptr_t)r;
    struct fwcfg_files_header *h = (struct fwcfg_files_header *)base;
    struct fwcfg_files_entry *e = (struct fwcfg_files_entry *)(h + 1);
    uint32_t offset = (uint32_t)(sizeof *h + n * sizeof *e);
    *h = (struct fwcfg_files_header){ .magic = FWCFG_FILES_MAGIC, .count = n, .total_bytes = (uint32_t)total };
    for (unsigned i = 0; i < n; i++) {
        snprintf(e[i].name, sizeof e[i].name, "%s", files[i].name);
        e[i].offset = offset;
        e[i].size = files[i].size;
        memcpy(base + offset, files[i].data, files[i].size);
        offset += files[i].size;
    }
    coco_munmap(base, bytes);
    return handle;
}

int fwcfg_files_create(struct vmm_vm *vm, const struct vmm_config_device *d)
{
    struct file_source files[FILES_MAX];
    char *contents[FILES_MAX];
    uint8_t e820[E820_ENTRY_BYTES];
    unsigned n = 0, loaded = 0;
    int status = 0;

    put_le(e820, 0, 8);
    put_le(e820 + 8, vm->ram_size, 8);
    put_le(e820 + 16, E820_RAM, 4);
    files[n++] = (struct file_source){ "etc/e820", e820, sizeof e820 };

    for (unsigned k = 0; k < d->nparams && status == 0; k++) {
        const struct vmm_config_param *p = &d->params[k];
        size_t size = 0;
        if (strncmp(p->key, "opt/", 4) != 0 || strlen(p->key) < 5 ||
            strlen(p->key) >= FWCFG_NAME_MAX) {
            status = files_fail(d, "parameters are opt/NAME=PATH (NAME non-empty, at most 51 bytes): ",
                                p->key);
            break;
        }
        int r = coco_read_file(p->value, &contents[loaded], &size);
        if (r < 0) {
            status = files_fail(d, "cannot read the initrd file for ", p->key);
            break;
        }
        loaded++;
        files[n++] = (struct file_source){ p->key, (const uint8_t *)contents[loaded - 1],
                                           (uint32_t)size };
        if (size > FWCFG_FILES_MAX_BYTES)
            status = files_fail(d, "file too large: ", p->key);
    }
    if (status == 0) {
        int64_t r = files_write(files, n);
        if (r < 0) {
            coco_printf("vmm: device fwcfg: cannot build its files: %s\n", coco_strerror(r));
            status = r == COPRA_ENOMEM ? 2 : VMM_STATUS_VM_SETUP;
        } else {
            vm->fwcfg_files = (copra_handle_t)r;
        }
    }
    for (unsigned i = 0; i < loaded; i++)
        free(contents[i]);
    return status;
}
