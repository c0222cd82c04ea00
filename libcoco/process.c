/* SPDX-License-Identifier: MIT */
/* Process-level conveniences over EXEC, WAIT_FOR_EVENT, OPEN and READ. */
#include <coco/libc.h>
#include <coco/syscall.h>

int64_t coco_spawn(const char *path, int argc, const char *const argv[],
                   const copra_handle_t *handles, unsigned nhandles)
{
    /* EXEC copies at most COPRA_ARGV_MAX bytes; pack them on our stack. */
    char packed[COPRA_ARGV_MAX];
    const char *fallback_argv[1] = { path };
    size_t path_len, used = 0;
    struct copra_exec_args args;

    if (path == NULL)
        return COPRA_EINVAL;
    path_len = strnlen(path, COPRA_PATH_MAX + 1);
    if (path_len == 0)
        return COPRA_EINVAL;
    if (path_len > COPRA_PATH_MAX)
        return COPRA_ERANGE;
    if (argc < 0)
        return COPRA_EINVAL;
    if (argc == 0 || argv == NULL) {
        argc = 1;
        argv = fallback_argv;
    }
    if ((unsigned)argc > COPRA_ARGC_MAX || nhandles > COPRA_EXEC_HANDLES_MAX)
        return COPRA_ERANGE;
    if (nhandles > 0 && handles == NULL)
        return COPRA_EINVAL;

    for (int i = 0; i < argc; i++) {
        if (argv[i] == NULL)
            return COPRA_EINVAL;
        size_t n = strnlen(argv[i], sizeof packed - used);
        if (n + 1 > sizeof packed - used)
            return COPRA_ERANGE;
        memcpy(packed + used, argv[i], n + 1);
        used += n + 1;
    }

    args = (struct copra_exec_args){
        .path = (uint64_t)(uintptr_t)path,
        .path_len = path_len,
        .argv = (uint64_t)(uintptr_t)packed,
        .argv_len = used,
        .handles = (uint64_t)(uintptr_t)handles,
        .argc = (uint32_t)argc,
        .nhandles = nhandles,
    };
    return coco_exec(&args);
}

int coco_wait_process(copra_handle_t process, int64_t *status)
{
    struct copra_wait_item item;

    for (;;) {
        item = (struct copra_wait_item){ .handle = process };
        int64_t ready = coco_wait(&item, 1, COPRA_WAIT_FOREVER);
        if (ready < 0)
            return (int)ready;
        if (item.ready) {
            if (status != NULL)
                *status = (int64_t)item.value;
            return 0;
        }
    }
}

int coco_read_file(const char *path, char **buf_out, size_t *len_out)
{
    size_t capacity = 4096, len = 0;
    char *buf = NULL;
    int64_t handle, got;
    int error;

    if (path == NULL || buf_out == NULL || len_out == NULL)
        return COPRA_EINVAL;
    handle = coco_open(path, strnlen(path, COPRA_PATH_MAX + 1));
    if (handle < 0)
        return (int)handle;

    buf = malloc(capacity);
    if (buf == NULL) {
        error = COPRA_ENOMEM;
        goto fail;
    }
    for (;;) {
        /* Keep one byte free for the terminating NUL. */
        if (capacity - len < 2) {
            if (capacity > SIZE_MAX / 2) {
                error = COPRA_ENOMEM;
                goto fail;
            }
            char *bigger = realloc(buf, capacity * 2);
            if (bigger == NULL) {
                error = COPRA_ENOMEM;
                goto fail;
            }
            buf = bigger;
            capacity *= 2;
        }
        got = coco_read((copra_handle_t)handle, buf + len, capacity - len - 1, len);
        if (got < 0) {
            error = (int)got;
            goto fail;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    coco_close((copra_handle_t)handle);
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    return 0;

fail:
    free(buf);
    coco_close((copra_handle_t)handle);
    return error;
}

const char *coco_strerror(int64_t error)
{
    static const char *const names[] = {
        [0] = "OK",         [1] = "EINVAL",   [2] = "ENOSYS",  [3] = "ENOMEM",
        [4] = "EBADH",      [5] = "ETYPE",    [6] = "ERIGHTS", [7] = "EFAULT",
        [8] = "ENOENT",     [9] = "EFULL",    [10] = "EALIGN", [11] = "ERANGE",
        [12] = "ENOEXEC",   [13] = "ETIMEOUT", [14] = "EBUSY", [15] = "EEXIST",
        [16] = "EPERM",
    };
    COPRA_STATIC_ASSERT(COPRA_EPERM == -16, "update coco_strerror's table");

    if (error > 0)
        return "OK";
    if (error > -(int64_t)(sizeof names / sizeof names[0]))
        return names[-error];
    return "unknown error";
}
