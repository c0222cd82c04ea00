/* SPDX-License-Identifier: MIT */
/*
 * The initrd: a newc cpio archive whose first file is the measurement
 * manifest (abi/copra/manifest.h).  Every file must match its manifest entry
 * (size and SHA-384) and every entry must have its file; the digest of the
 * manifest is printed at boot and reported by SYSINFO.
 */
#include "core/initrd.h"
#include "core/console.h"
#include "core/cpio.h"
#include "core/handle.h"
#include "core/heap.h"
#include "core/process.h"
#include "core/sha384.h"
#include "core/string.h"
#include "core/syscall.h"
#include "core/usercopy.h"

#define INITRD_MAX_FILES 256

static struct initrd_file *files;
static size_t nfiles;
uint8_t initrd_manifest_sha384[48];

NORETURN static void boot_error(size_t index, size_t offset, const char *name, const char *why)
{
    kprintf("copra: boot error: initrd entry %zu (offset %zu%s%s): %s\n", index, offset,
            name ? ", " : "", name ? name : "", why);
    cpu_poweroff(COPRA_STATUS_BOOT_ERROR);
}

static bool name_eq(const char *a, size_t alen, const char *b)
{
    return strnlen(b, alen + 1) == alen && memcmp(a, b, alen) == 0;
}

void initrd_init(const uint8_t *archive, size_t size)
{
    struct cpio_entry e;
    const char *why;
    size_t off = 0, index = 0;

    files = kmalloc(INITRD_MAX_FILES * sizeof(*files));
    if (!files)
        panic("initrd: out of memory");
    const struct copra_manifest_header *mh = NULL;
    const struct copra_manifest_entry *me = NULL;

    for (;; index++) {
        size_t at = off;
        int r = cpio_next(archive, size, &off, &e, &why);
        if (r == CPIO_END)
            break;
        if (r == CPIO_ERROR)
            boot_error(index, at, NULL, why);
        if ((e.mode & CPIO_MODE_TYPE) == CPIO_MODE_DIR)
            continue;
        if (!mh) {
            if (!name_eq(e.name, e.name_len, COPRA_MANIFEST_PATH))
                boot_error(index, at, e.name, "the first file is not " COPRA_MANIFEST_PATH);
            mh = (const void *)e.data;
            if (e.size < sizeof(*mh) || mh->magic != COPRA_MANIFEST_MAGIC ||
                mh->version != COPRA_MANIFEST_VERSION)
                boot_error(index, at, e.name, "bad manifest header");
            if (mh->count > INITRD_MAX_FILES ||
                e.size != sizeof(*mh) + (uint64_t)mh->count * sizeof(*me))
                boot_error(index, at, e.name, "manifest size does not match its entry count");
            me = (const void *)(mh + 1);
            sha384(e.data, e.size, initrd_manifest_sha384);
            continue;
        }
        if (nfiles == mh->count)
            boot_error(index, at, e.name, "file is not in the manifest");
        const struct copra_manifest_entry *m = &me[nfiles];
        if (strnlen(m->name, COPRA_MANIFEST_NAME_MAX) == COPRA_MANIFEST_NAME_MAX)
            boot_error(index, at, e.name, "manifest entry name is not NUL-terminated");
        if (!name_eq(e.name, e.name_len, m->name))
            boot_error(index, at, e.name, "file name differs from its manifest entry");
        uint8_t digest[48];
        sha384(e.data, e.size, digest);
        if (e.size != m->size || memcmp(digest, m->sha384, sizeof(digest)) != 0)
            boot_error(index, at, e.name, "SHA-384 or size does not match the manifest");
        for (size_t i = 0; i < nfiles; i++)
            if (name_eq(e.name, e.name_len, files[i].name))
                boot_error(index, at, e.name, "duplicate file name");
        struct initrd_file *f = &files[nfiles++];
        *f = (struct initrd_file){ .name = e.name, .name_len = e.name_len, .data = e.data, .size = e.size };
        kobject_init(&f->obj, COPRA_OBJ_FILE, NULL);   /* never freed */
    }
    if (!mh)
        boot_error(index, off, NULL, "archive has no " COPRA_MANIFEST_PATH);
    if (nfiles != mh->count)
        boot_error(index, off, NULL, "manifest lists files the archive does not have");
    char h[97];
    for (size_t i = 0; i < 48; i++)
        ksnprintf(h + 2 * i, 3, "%02x", initrd_manifest_sha384[i]);
    kprintf("copra: initrd: %zu files, manifest sha384 %s\n", nfiles, h);
}

struct initrd_file *initrd_find(const char *path, size_t len)
{
    if (len && path[0] == '/')
        path++, len--;
    for (size_t i = 0; i < nfiles; i++)
        if (files[i].name_len == len && memcmp(files[i].name, path, len) == 0)
            return &files[i];
    return NULL;
}

int64_t sys_open(uint64_t upath, uint64_t len)
{
    char path[COPRA_PATH_MAX];
    if (len == 0)
        return COPRA_EINVAL;
    if (len > COPRA_PATH_MAX)
        return COPRA_ERANGE;
    if (copy_from_user(path, upath, len))
        return COPRA_EFAULT;
    struct initrd_file *f = initrd_find(path, len);
    if (!f)
        return COPRA_ENOENT;
    return process_handle_install(kobject_get(&f->obj), COPRA_RIGHTS_FILE);
}

int64_t sys_read(uint64_t h, uint64_t buf, uint64_t len, uint64_t offset)
{
    struct kobject *o;
    uint32_t rights;
    int err = process_handle_lookup(h, COPRA_OBJ_NONE, 0, &o, &rights);
    if (err)
        return err;
    if (o->type != COPRA_OBJ_FILE && o->type != COPRA_OBJ_CONSOLE)
        err = COPRA_ETYPE;
    else if (!(rights & COPRA_RIGHT_READ))
        err = COPRA_ERIGHTS;
    kobject_put(o);   /* o stays readable below: initrd files and the console are never freed */
    if (err)
        return err;
    if (o->type == COPRA_OBJ_CONSOLE)
        return console_read(buf, len);
    struct initrd_file *f = container_of(o, struct initrd_file, obj);
    if (!user_range_ok(buf, len))
        return COPRA_EFAULT;
    if (offset >= f->size)
        return 0;
    uint64_t n = MIN(len, f->size - offset);
    err = copy_to_user(buf, f->data + offset, n);
    return err ? err : (int64_t)n;
}
