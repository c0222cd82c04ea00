/* SPDX-License-Identifier: MIT */
/* C half of process entry (crt0.S): decode the initial stack, run main. */
#include <coco/syscall.h>
#include <coco/libc.h>

int main(int argc, char **argv);
_Noreturn void coco_runtime_start(uint64_t *initial_stack);

static unsigned received_count;
static const uint64_t *received_handles;

/* Layout (abi/copra/syscall.h): argc, argv[0..argc-1], 0, nhandles, handles. */
_Noreturn void coco_runtime_start(uint64_t *initial_stack)
{
    uint64_t argc = initial_stack[0];
    char **argv = (char **)&initial_stack[1];
    const uint64_t *handle_block = &initial_stack[1 + argc + 1];

    received_count = (unsigned)handle_block[0];
    received_handles = &handle_block[1];
    coco_exit(main((int)argc, argv));
}

unsigned coco_handle_count(void)
{
    return received_count;
}

copra_handle_t coco_handle(unsigned index)
{
    if (index >= received_count)
        return COPRA_HANDLE_NONE;
    return (copra_handle_t)received_handles[index];
}

uint64_t coco_arg_u64(int argc, char **argv, const char *key, uint64_t dflt)
{
    size_t n = strlen(key);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
            return strtoull(argv[i] + n + 1, NULL, 0);
    return dflt;
}
