/* SPDX-License-Identifier: MIT */
/* The device-model main loop and interrupt-line helpers (coco/devmodel.h). */
#include <coco/devmodel.h>
#include <coco/libc.h>
#include <coco/syscall.h>

/* The VCPU of the request being served (devmodel_current_vcpu()); the
 * loop is single-threaded, so one variable does. */
static unsigned current_vcpu;

unsigned devmodel_current_vcpu(void)
{
    return current_vcpu;
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Serve every requested slot of `r`; returns how many. */
static unsigned range_serve(struct devmodel_range *r, unsigned nslots)
{
    unsigned served = 0;

    for (unsigned i = 0; i < nslots; i++) {
        struct copra_io_slot *s = &r->area->slot[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != COPRA_IO_REQUEST)
            continue;
        unsigned size = s->size <= 8 ? s->size : 8;
        uint64_t offset = s->addr - r->base;
        current_vcpu = i;
        if (s->write) {
            if (r->write != NULL)
                r->write(r->state, offset, size, s->data & size_mask(size));
        } else {
            s->data = r->read != NULL ? r->read(r->state, offset, size) & size_mask(size)
                                      : size_mask(size);
        }
        __atomic_store_n(&s->state, COPRA_IO_DONE, __ATOMIC_RELEASE);
        served++;
    }
    return served;
}

void devmodel_init_args(struct devmodel *dm, int argc, char **argv)
{
    uint64_t vcpus;

    if (devmodel_arg_u64(argc, argv, "vcpus", &vcpus) && vcpus >= 1 && vcpus <= COPRA_VCPUS_MAX)
        dm->nslots = (unsigned)vcpus;
}

void devmodel_stop(struct devmodel *dm, int status)
{
    dm->stopping = true;
    dm->status = status;
}

int devmodel_run(struct devmodel *dm)
{
    struct copra_wait_item items[DEVMODEL_WAIT_MAX];
    unsigned nitems = dm->nranges + dm->nsources;
    unsigned nslots = dm->nslots ? dm->nslots : COPRA_VCPUS_MAX;
    bool served_any = false;

    if (nitems == 0 || nitems > DEVMODEL_WAIT_MAX || nslots > COPRA_VCPUS_MAX)
        return COPRA_EINVAL;
    for (unsigned i = 0; i < dm->nranges; i++) {
        int64_t a = coco_mmap(dm->ranges[i].handle, NULL, sizeof(struct copra_io_area),
                              COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (a < 0)
            return (int)a;
        dm->ranges[i].area = (struct copra_io_area *)(uintptr_t)a;
    }

    /* WAIT rewrites only `ready` and `value`: the handles are set once. */
    for (unsigned i = 0; i < nitems; i++)
        items[i] = (struct copra_wait_item){
            .handle = i < dm->nranges ? dm->ranges[i].handle : dm->sources[i - dm->nranges].handle,
        };
    while (!dm->stopping) {
        /* The WAIT itself completes what the last round served (the kernel
         * completes DONE slots of the ranges we wait on): one syscall. */
        int64_t ready = coco_wait(items, nitems, COPRA_WAIT_FOREVER);
        dm->syscalls++;
        if (ready < 0)
            return (int)ready;
        dm->wakeups++;
        served_any = false;
        for (unsigned i = 0; i < nitems; i++) {
            if (!items[i].ready)
                continue;
            if (i < dm->nranges) {
                unsigned served = range_serve(&dm->ranges[i], nslots);
                dm->requests += served;
                served_any |= served != 0;
            } else {
                struct devmodel_source *s = &dm->sources[i - dm->nranges];
                if (s->ready != NULL)
                    s->ready(s->state, items[i].value);
            }
        }
    }
    /* Complete what the last round served before returning. */
    for (unsigned i = 0; served_any && i < dm->nranges; i++) {
        coco_signal(dm->ranges[i].handle);
        dm->syscalls++;
    }
    return dm->status;
}

/* ---- Arguments -------------------------------------------------------- */

static const char *arg_value(int argc, char **argv, const char *key)
{
    size_t n = strlen(key);

    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
    return NULL;
}

bool devmodel_arg_u64(int argc, char **argv, const char *key, uint64_t *value)
{
    const char *v = arg_value(argc, argv, key);
    char *end;

    if (v == NULL || *v == '\0')
        return false;
    unsigned long long x = strtoull(v, &end, 0);
    if (*end != '\0')
        return false;
    *value = x;
    return true;
}

bool devmodel_arg_present(int argc, char **argv, const char *word)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], word) == 0)
            return true;
    return arg_value(argc, argv, word) != NULL;
}

/* ---- Interrupt lines -------------------------------------------------- */

int devmodel_irq_init(struct devmodel_irq *irq, copra_handle_t handle)
{
    int64_t a = coco_mmap(handle, NULL, COCO_IRQ_LINE_PAGES * COPRA_PAGE_SIZE,
                          COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    if (a < 0)
        return (int)a;
    irq->handle = handle;
    irq->line = (struct coco_irq_line *)(uintptr_t)a;
    return 0;
}

void devmodel_irq_raise(struct devmodel_irq *irq)
{
    __atomic_store_n(&irq->line->level, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&irq->line->raises, 1, __ATOMIC_ACQ_REL);
    coco_signal(irq->handle);
}

void devmodel_irq_lower(struct devmodel_irq *irq)
{
    __atomic_store_n(&irq->line->level, 0, __ATOMIC_RELEASE);
    coco_signal(irq->handle);
}

void devmodel_irq_pulse(struct devmodel_irq *irq)
{
    __atomic_store_n(&irq->line->level, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&irq->line->raises, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(&irq->line->level, 0, __ATOMIC_RELEASE);
    coco_signal(irq->handle);
}

void devmodel_irq_set(struct devmodel_irq *irq, bool level)
{
    if ((__atomic_load_n(&irq->line->level, __ATOMIC_ACQUIRE) != 0) == level)
        return;
    if (level)
        devmodel_irq_raise(irq);
    else
        devmodel_irq_lower(irq);
}

/* ---- Device timers ---------------------------------------------------- */

int devmodel_deadline_init(struct devmodel_deadline *d)
{
    int64_t t = coco_timer_create();
    if (t < 0)
        return (int)t;
    d->timer = (copra_handle_t)t;
    d->armed = 0;
    return 0;
}

void devmodel_deadline_set(struct devmodel_deadline *d, uint64_t deadline_ns)
{
    if (deadline_ns == d->armed)
        return;
    int r = coco_timer_set(d->timer, deadline_ns, 0);
    if (r < 0)
        coco_printf("TIMER_SET failed: %s\n", coco_strerror(r));
    d->armed = deadline_ns;
}

void devmodel_deadline_expired(struct devmodel_deadline *d)
{
    d->armed = 0;
}
