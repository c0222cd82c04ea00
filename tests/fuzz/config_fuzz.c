/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VMM's config parser (servers/vmm/config.c).
 * Build: clang -fsanitize=fuzzer,address,undefined -I servers/vmm \
 *            tests/fuzz/config_fuzz.c servers/vmm/config.c
 * Besides memory errors, it traps when a result breaks the parser's contract.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmm_config config;

static void check_string(const char *s, size_t capacity)
{
    if (memchr(s, '\0', capacity) == NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vmm_config_error error;
    enum vmm_config_status status =
        vmm_config_parse((const char *)data, size, &config, &error);

    check_string(error.message, sizeof error.message);
    if (status != error.status)
        __builtin_trap();
    if (status != VMM_CONFIG_OK) {
        /* Every failure names its line and says something. */
        if (error.line == 0 || error.message[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (error.message[0] != '\0')
        __builtin_trap();
    if (config.nservers > VMM_CONFIG_SERVERS_MAX || config.ndevices > VMM_CONFIG_DEVICES_MAX)
        __builtin_trap();
    if (config.vcpus < 1 || config.vcpus > VMM_CONFIG_VCPUS_MAX)
        __builtin_trap();
    if (config.has_memory && (config.memory_bytes == 0 ||
                              config.memory_bytes % VMM_CONFIG_MEMORY_ALIGN != 0))
        __builtin_trap();
    if (config.has_guest != (config.guest_format != VMM_GUEST_NONE))
        __builtin_trap();
    for (unsigned i = 0; i < config.nservers; i++) {
        const struct vmm_config_server *s = &config.servers[i];
        check_string(s->path, sizeof s->path);
        if (s->path[0] == '\0' || s->argc > VMM_CONFIG_SERVER_ARGS_MAX)
            __builtin_trap();
        for (unsigned a = 0; a < s->argc; a++)
            check_string(s->args[a], sizeof s->args[a]);
    }
    if (config.nmodules > VMM_CONFIG_MODULES_MAX)
        __builtin_trap();
    check_string(config.guest_cmdline, sizeof config.guest_cmdline);
    for (unsigned i = 0; i < config.nmodules; i++) {
        check_string(config.modules[i].path, sizeof config.modules[i].path);
        check_string(config.modules[i].string, sizeof config.modules[i].string);
        if (config.modules[i].path[0] == '\0' ||
            strncmp(config.modules[i].string, config.modules[i].path, strlen(config.modules[i].path)) != 0)
            __builtin_trap();
    }
    for (unsigned i = 0; i < config.ndevices; i++) {
        const struct vmm_config_device *d = &config.devices[i];
        check_string(d->name, sizeof d->name);
        if (d->nparams > VMM_CONFIG_DEVICE_PARAMS_MAX)
            __builtin_trap();
        for (unsigned k = 0; k < d->nparams; k++) {
            check_string(d->params[k].key, sizeof d->params[k].key);
            check_string(d->params[k].value, sizeof d->params[k].value);
            if (d->params[k].key[0] == '\0')
                __builtin_trap();
        }
    }
    return 0;
}
