/* SPDX-License-Identifier: MIT */
/*
 * The VMM, first process: read the VM description, print it, start every
 * `server` with EXEC, then either run the guest (a `guest` line: vm.c) or
 * wait for all servers to exit.
 *
 * Exit status without a guest: 0 if every server exited with 0; 1 if one
 * failed to start or exited non-zero.  With a guest: the value the guest
 * wrote to the debug-exit port 0xf4 (0..0x7f), or 1 when it stopped any
 * other way (triple fault, HLT with interrupts off, a failed entry ...)
 * unless the `guest` line expects that (expect=shutdown|halt: 0).  Always:
 * 2 if the description could not be read or parsed; 3 if the guest image
 * cannot be read or is malformed; 4 if the VM could not be built (a VM
 * syscall failed, e.g. ENOSYS on a kernel without virtualization).
 */
#include <coco/coco.h>

#include "config.h"
#include "vm.h"

#define VMM_DEFAULT_CONFIG "vmm.conf"

/* ~56 KiB: keep it off the 256 KiB stack. */
static struct vmm_config config;

static void config_print(const char *path, const struct vmm_config *c)
{
    coco_printf("vmm: config %s: %u server(s), %u device(s)\n", path, c->nservers, c->ndevices);
    if (c->has_memory)
        coco_printf("vmm:   memory %llu bytes (%llu KiB)\n",
                    (unsigned long long)c->memory_bytes,
                    (unsigned long long)(c->memory_bytes >> 10));
    else
        coco_printf("vmm:   memory (none)\n");
    coco_printf("vmm:   vcpus %u\n", c->vcpus);
    if (c->has_guest)
        coco_printf("vmm:   guest %s (%s)\n", c->guest_path,
                    vmm_guest_format_name(c->guest_format));
    else
        coco_printf("vmm:   guest (none)\n");
    for (unsigned i = 0; i < c->nservers; i++) {
        const struct vmm_config_server *s = &c->servers[i];
        char args[VMM_CONFIG_SERVER_ARGS_MAX * (VMM_CONFIG_TOKEN_MAX + 1) + 1];
        size_t used = 0;
        args[0] = '\0';
        for (unsigned a = 0; a < s->argc && used < sizeof args; a++)
            used += (size_t)snprintf(args + used, sizeof args - used, " %s", s->args[a]);
        coco_printf("vmm:   server %s%s\n", s->path, args);
    }
    for (unsigned i = 0; i < c->ndevices; i++) {
        const struct vmm_config_device *d = &c->devices[i];
        coco_printf("vmm:   device %s (%u parameter(s))\n", d->name, d->nparams);
        for (unsigned k = 0; k < d->nparams; k++)
            coco_printf("vmm:     %s = %s\n", d->params[k].key, d->params[k].value);
    }
}

/* Start one server; returns its process handle or a negative error. */
static int64_t server_start(const struct vmm_config_server *s)
{
    const char *argv[1 + VMM_CONFIG_SERVER_ARGS_MAX];

    argv[0] = s->path;
    for (unsigned i = 0; i < s->argc; i++)
        argv[1 + i] = s->args[i];
    return coco_spawn(s->path, (int)(1 + s->argc), argv, NULL, 0);
}

/*
 * Wait for all started servers, reporting each exit as it happens.
 * handles[i] belongs to config.servers[index[i]].  Returns true if all
 * exited with status 0.
 */
static bool servers_wait(copra_handle_t *handles, unsigned *index, unsigned count)
{
    struct copra_wait_item items[VMM_CONFIG_SERVERS_MAX];
    bool all_ok = true;

    COPRA_STATIC_ASSERT(VMM_CONFIG_SERVERS_MAX <= COPRA_WAIT_MAX, "one WAIT covers all");
    while (count > 0) {
        for (unsigned i = 0; i < count; i++)
            items[i] = (struct copra_wait_item){ .handle = handles[i] };
        int64_t ready = coco_wait(items, count, COPRA_WAIT_FOREVER);
        if (ready < 0) {
            coco_printf("vmm: WAIT_FOR_EVENT failed: %s\n", coco_strerror(ready));
            return false;
        }
        for (unsigned i = 0; i < count;) {
            if (!items[i].ready) {
                i++;
                continue;
            }
            int64_t status = (int64_t)items[i].value;
            coco_printf("server %s exited with status %lld\n",
                        config.servers[index[i]].path, (long long)status);
            if (status != 0)
                all_ok = false;
            coco_close(handles[i]);
            /* Drop entry i by moving the last one into its place. */
            count--;
            handles[i] = handles[count];
            index[i] = index[count];
            items[i] = items[count];
        }
    }
    return all_ok;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : VMM_DEFAULT_CONFIG;
    copra_handle_t handles[VMM_CONFIG_SERVERS_MAX];
    unsigned index[VMM_CONFIG_SERVERS_MAX];
    unsigned started = 0;
    bool all_ok = true;
    struct vmm_config_error error;
    char *text;
    size_t len;

    int r = coco_read_file(path, &text, &len);
    if (r < 0) {
        coco_printf("vmm: cannot read %s: %s\n", path, coco_strerror(r));
        return 2;
    }
    if (vmm_config_parse(text, len, &config, &error) != VMM_CONFIG_OK) {
        coco_printf("vmm: %s: %s\n", path, error.message);
        free(text);
        return 2;
    }
    free(text);
    config_print(path, &config);

    for (unsigned i = 0; i < config.nservers; i++) {
        int64_t h = server_start(&config.servers[i]);
        if (h < 0) {
            coco_printf("vmm: cannot start server %s: %s\n", config.servers[i].path,
                        coco_strerror(h));
            all_ok = false;
            continue;
        }
        handles[started] = (copra_handle_t)h;
        index[started] = i;
        started++;
    }
    if (config.has_guest) {
        /* The servers (irqd, device models) serve the guest; the VM's end
         * is the system's end. */
        /* Received handle 0 is the console (abi/copra/object.h), for the
         * UART model; handle 1 the right to create the VM. */
        int status = vm_run(&config, coco_handle(COCO_INIT_CONSOLE), coco_handle(COCO_INIT_VMCTL));
        coco_printf("vmm: exiting with status %d\n", status);
        return status;
    }
    if (!servers_wait(handles, index, started))
        all_ok = false;
    coco_printf("vmm: %s\n", all_ok ? "all servers exited with status 0" : "a server failed");
    return all_ok ? 0 : 1;
}
