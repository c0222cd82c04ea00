/* SPDX-License-Identifier: MIT */
/*
 * The device-model main loop (issue 5): a table of MMIO/IOIO ranges with a
 * read and a write handler each, optional extra wait sources (console
 * input, timers, ...) with a callback each, and one loop that serves them.
 * A simple device is one short server:
 *
 *     static uint64_t reg_read(void *state, uint64_t offset, unsigned size);
 *     static void reg_write(void *state, uint64_t offset, unsigned size, uint64_t value);
 *
 *     int main(int argc, char **argv)
 *     {
 *         static struct my_device dev;
 *         struct devmodel_range range = {
 *             .handle = coco_handle(0), .base = 0x3f8,
 *             .read = reg_read, .write = reg_write, .state = &dev,
 *         };
 *         struct devmodel dm = { .ranges = &range, .nranges = 1 };
 *         devmodel_init_args(&dm, argc, argv);   // vcpus=N
 *         return devmodel_run(&dm);
 *     }
 *
 * devmodel_run() maps each range's area, then loops: WAIT on every range
 * and source; for each ready range serve every slot in COPRA_IO_REQUEST
 * (read: the handler's value goes into `data`; write: the handler gets
 * `data`), mark it COPRA_IO_DONE; for each ready source call its callback
 * with the WAIT value; then SIGNAL the ranges it served and WAIT again in
 * one BATCH syscall, so a request costs the device model one kernel entry.
 *
 * Handlers run one at a time on the loop's thread; they may make syscalls
 * (LOG, SIGNAL an IRQ line, ...).  A handler that exits the process leaves
 * its request unanswered: the kernel completes it as all-ones (read) or
 * drops it (write) and tells the VMM COPRA_EXIT_DEVICE_GONE.
 */
#ifndef COCO_DEVMODEL_H
#define COCO_DEVMODEL_H

#include <stdbool.h>

#include <copra/abi.h>
#include <coco/irqline.h>

/* Most ranges plus sources one loop waits on (one WAIT_FOR_EVENT). */
#define DEVMODEL_WAIT_MAX 16u

struct devmodel_range {
    copra_handle_t handle;        /* MMIO or IOIO range (WAIT | MAP | SIGNAL) */
    uint64_t base;                /* first port / GPA: handlers get addr - base */
    /* NULL read: all-ones; NULL write: ignored.  `size` is 1, 2, 4 or 8. */
    uint64_t (*read)(void *state, uint64_t offset, unsigned size);
    void (*write)(void *state, uint64_t offset, unsigned size, uint64_t value);
    void *state;
    struct copra_io_area *area;   /* set by devmodel_run() */
};

struct devmodel_source {
    copra_handle_t handle;        /* anything WAIT accepts: event, timer, console ... */
    void (*ready)(void *state, uint64_t value);   /* value: the WAIT item's value */
    void *state;
};

struct devmodel {
    struct devmodel_range *ranges;
    unsigned nranges;
    struct devmodel_source *sources;
    unsigned nsources;
    unsigned nslots;              /* VCPU slots to scan; 0: COPRA_VCPUS_MAX */

    /* Statistics, counted by devmodel_run(). */
    uint64_t requests;            /* slots served */
    uint64_t wakeups;             /* WAITs that returned */
    uint64_t syscalls;            /* kernel entries the loop made (a BATCH is one) */

    /* Private to devmodel.c. */
    bool stopping;
    int status;
};

/* Take the arguments every device model understands: `vcpus=N` (the VM's
 * VCPU count, which bounds the slots to scan). */
void devmodel_init_args(struct devmodel *dm, int argc, char **argv);

/* Run the loop until devmodel_stop(); returns its status, or a negative
 * enum copra_error if a range cannot be mapped or WAIT fails. */
int devmodel_run(struct devmodel *dm);

/* From a handler or callback: finish the current round (the requests
 * served so far are completed), then devmodel_run() returns `status`. */
void devmodel_stop(struct devmodel *dm, int status);

/* From a handler: the index of the VCPU whose request is being served. */
unsigned devmodel_current_vcpu(void);

/* ---- Arguments -------------------------------------------------------- */

/* Find `key=value` in argv[1..] and parse value (decimal or 0x-hex). */
bool devmodel_arg_u64(int argc, char **argv, const char *key, uint64_t *value);
/* True if argv[1..] holds `word` on its own or as `word=...`. */
bool devmodel_arg_present(int argc, char **argv, const char *word);

/* ---- Device timers --------------------------------------------------- */

/* A kernel TIMER a model arms one-shot at absolute CLOCK deadlines (its
 * next event, computed from the device clock) and waits on as a source.
 * TIMER_SET is made only when the deadline changes. */
struct devmodel_deadline {
    copra_handle_t timer;
    uint64_t armed;               /* 0: disarmed */
};

/* TIMER_CREATE; returns 0 or a negative error. */
int devmodel_deadline_init(struct devmodel_deadline *d);
/* Arm for `deadline_ns` (0: disarm) unless already so. */
void devmodel_deadline_set(struct devmodel_deadline *d, uint64_t deadline_ns);
/* From the source's callback: the one-shot expired and is disarmed. */
void devmodel_deadline_expired(struct devmodel_deadline *d);

/* ---- Interrupt lines (protocol in coco/irqline.h) -------------------- */

struct devmodel_irq {
    copra_handle_t handle;        /* the line event, SIGNAL | MAP */
    struct coco_irq_line *line;   /* its mapped area */
};

/* Map the line event `handle`; returns 0 or a negative error. */
int devmodel_irq_init(struct devmodel_irq *irq, copra_handle_t handle);
/* level = 1; raises++; SIGNAL. */
void devmodel_irq_raise(struct devmodel_irq *irq);
/* level = 0; SIGNAL. */
void devmodel_irq_lower(struct devmodel_irq *irq);
/* An edge: level = 1; raises++; level = 0; one SIGNAL. */
void devmodel_irq_pulse(struct devmodel_irq *irq);
/* Drive the line to `level`, signalling only on a change. */
void devmodel_irq_set(struct devmodel_irq *irq, bool level);

#endif
