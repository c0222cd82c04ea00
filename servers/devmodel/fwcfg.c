/* SPDX-License-Identifier: MIT */
/* QEMU fw_cfg register logic (see fwcfg.h). */
#include "fwcfg.h"

#include <string.h>

static const uint8_t signature[4] = { 'Q', 'E', 'M', 'U' };

static void put_le(uint8_t *p, uint64_t value, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t value, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(value >> (8 * (bytes - 1 - i)));
}

static void item_set(struct fwcfg *c, uint16_t key, const uint8_t *data, uint32_t len)
{
    c->items[0][key] = (struct fwcfg_item){ .data = data, .len = len };
}

void fwcfg_init(struct fwcfg *c, unsigned ncpus, uint64_t ram_bytes)
{
    memset(c, 0, sizeof *c);
    put_le(c->id, FWCFG_ID_TRADITIONAL, 4);
    put_le(c->ram_size, ram_bytes, 8);
    put_le(c->nographic, 1, 2);
    put_le(c->nb_cpus, ncpus, 2);
    /* QEMU's MAX_CPUS on x86 is the APIC-ID limit; APIC IDs are the VCPU
     * indexes here, so it is the VCPU count. */
    put_le(c->max_cpus, ncpus, 2);
    item_set(c, FWCFG_SIGNATURE, signature, sizeof signature);
    item_set(c, FWCFG_ID, c->id, sizeof c->id);
    item_set(c, FWCFG_UUID, c->uuid, sizeof c->uuid);
    item_set(c, FWCFG_RAM_SIZE, c->ram_size, sizeof c->ram_size);
    item_set(c, FWCFG_NOGRAPHIC, c->nographic, sizeof c->nographic);
    item_set(c, FWCFG_NB_CPUS, c->nb_cpus, sizeof c->nb_cpus);
    item_set(c, FWCFG_BOOT_MENU, c->boot_menu, sizeof c->boot_menu);
    item_set(c, FWCFG_MAX_CPUS, c->max_cpus, sizeof c->max_cpus);
    item_set(c, FWCFG_FILE_DIR, c->dir, sizeof c->dir);
    fwcfg_select(c, FWCFG_SIGNATURE);
}

static uint8_t *dir_entry(struct fwcfg *c, unsigned index)
{
    return c->dir + 4 + FWCFG_DIR_ENTRY_SIZE * index;
}

static const char *dir_name(struct fwcfg *c, unsigned index)
{
    return (const char *)dir_entry(c, index) + 8;
}

int fwcfg_add_file(struct fwcfg *c, const char *name, const uint8_t *data, uint32_t len)
{
    size_t n = strnlen(name, FWCFG_NAME_MAX);
    if (n == 0 || n >= FWCFG_NAME_MAX || c->nfiles == FWCFG_FILE_SLOTS)
        return -1;
    for (unsigned i = 0; i < c->nfiles; i++)
        if (strcmp(dir_name(c, i), name) == 0)
            return -1;

    /* Insert in name order; the files after it move one slot (and key) up. */
    unsigned index = c->nfiles;
    while (index > 0 && strcmp(name, dir_name(c, index - 1)) < 0)
        index--;
    for (unsigned i = c->nfiles; i > index; i--) {
        memcpy(dir_entry(c, i), dir_entry(c, i - 1), FWCFG_DIR_ENTRY_SIZE);
        put_be(dir_entry(c, i) + 4, FWCFG_FILE_FIRST + i, 2);
        c->items[0][FWCFG_FILE_FIRST + i] = c->items[0][FWCFG_FILE_FIRST + i - 1];
    }
    uint8_t *e = dir_entry(c, index);
    memset(e, 0, FWCFG_DIR_ENTRY_SIZE);
    put_be(e, len, 4);
    put_be(e + 4, FWCFG_FILE_FIRST + index, 2);
    memcpy(e + 8, name, n);
    item_set(c, (uint16_t)(FWCFG_FILE_FIRST + index), data, len);
    c->nfiles++;
    put_be(c->dir, c->nfiles, 4);
    return (int)(FWCFG_FILE_FIRST + index);
}

void fwcfg_select(struct fwcfg *c, uint16_t key)
{
    c->offset = 0;
    c->key = key;
    c->selected = (key & FWCFG_ENTRY_MASK) < FWCFG_ITEMS;
}

uint8_t fwcfg_read_byte(struct fwcfg *c)
{
    if (!c->selected)
        return 0;
    const struct fwcfg_item *item =
        &c->items[(c->key & FWCFG_ARCH_LOCAL) ? 1 : 0][c->key & FWCFG_ENTRY_MASK];
    if (item->data == NULL || c->offset >= item->len)
        return 0;
    return item->data[c->offset++];
}

uint64_t fwcfg_io_read(struct fwcfg *c, unsigned offset, unsigned size)
{
    if (offset >= FWCFG_PORTS || size != 1)
        return 0;
    return fwcfg_read_byte(c);
}

void fwcfg_io_write(struct fwcfg *c, unsigned offset, unsigned size, uint64_t value)
{
    /* 8-bit writes to the data port were QEMU's write interface, removed
     * in QEMU 2.4: ignored, as there.  A 16-bit write at 0x511 reaches
     * past the device and selects nothing on QEMU 7.2 (measured). */
    if (offset == 0 && size == 2)
        fwcfg_select(c, (uint16_t)value);
}
