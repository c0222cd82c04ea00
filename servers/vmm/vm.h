/* SPDX-License-Identifier: MIT */
/*
 * The VM the VMM runs when its description has a `guest` line: one memory
 * object of `memory` bytes at GPA 0, the loaded guest, `vcpus` VCPUs with
 * one VMM thread each (vcpu.c), and the port and MMIO devices no device
 * model claims (devices.c).
 *
 * Boot convention (there is no APIC yet, so no INIT/SIPI): every VCPU starts
 * at the image's entry point in the multiboot v1 machine state.  VCPU 0 gets
 * EAX = 0x2BADB002 and EBX = the multiboot information (flat images: EAX =
 * EBX = 0); VCPU i > 0 gets EAX = 0 and EBX = i, so the guest tells the boot
 * processor from the others by EAX and each finds its index in EBX.
 *
 * Stopping: the first VCPU thread that meets a terminal exit (debug-exit
 * port write, triple fault, HLT with interrupts off, a failed entry, an
 * exit nobody handles) records the VM's exit status and reason and signals
 * `stop_event`; the main thread then kicks every VCPU (VCPU_KICK) until all
 * threads have returned, prints a summary and returns the status.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <coco/coco.h>
#include <coco/irqline.h>
#include <coco/vm.h>

#include "acpi.h"
#include "config.h"

/* Exit statuses of the VMM process for a guest (main.c documents them all). */
#define VMM_STATUS_GUEST_CRASH 1   /* triple fault, HLT with IF=0, failed entry ... */
#define VMM_STATUS_BAD_IMAGE   3   /* the guest image cannot be read or is malformed */
#define VMM_STATUS_VM_SETUP    4   /* a VM syscall failed while building the VM */

/* The MMIO scratch device the test guests use (devices.c): reads return
 * what was written. */
#define VMM_MMIO_SCRATCH_GPA   0xC0000000ull
#define VMM_MMIO_SCRATCH_SIZE  0x1000u

#define VMM_EXIT_REASONS       (COPRA_EXIT_SIPI + 1)
#define VMM_SERIAL_LINE_MAX    200u
#define VMM_TEST_IRQ_PENDING   32u
#define VMM_LOG_ONCE_MAX       32u
#define VMM_XCR0_POLICY        0x7u   /* x87, SSE, AVX: what guests may have */

/* Device models (devmodels.c). */
#define VMM_DEVMODELS_MAX        12u
#define VMM_DEVMODEL_RANGES_MAX  5u
/* irqd takes 5 ranges + N IRQs + lines <= 16 handles (COPRA_EXEC_HANDLES_MAX),
 * which devmodels_configure() checks.  Linux's devices use 5 lines (uart,
 * rtc, pit, virtio-blk, virtio-rng: room for 6 VCPUs); 8 leave room for
 * three more devices (then 3 VCPUs). */
#define VMM_IRQ_LINES_MAX        8u
#define VMM_DEVMODEL_RESTARTS_MAX 3u
#define VMM_DEVMODEL_ARGS_MAX    4u
#define VMM_DEVMODEL_ARG_BYTES   32u

/* A spinlock for the VMM's few shared tables (held for a few instructions,
 * or around one syscall at most). */
struct vmm_lock {
    bool held;
};

static inline void vmm_lock(struct vmm_lock *l)
{
    while (__atomic_test_and_set(&l->held, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}

static inline void vmm_unlock(struct vmm_lock *l)
{
    __atomic_clear(&l->held, __ATOMIC_RELEASE);
}

struct vmm_vm;

struct vmm_vcpu {
    struct vmm_vm *vm;
    unsigned index;
    copra_handle_t handle;
    copra_handle_t irq;           /* for the test interrupt service (port 0xf0) */
    copra_handle_t thread;
    bool joined;
    struct copra_run_page *run;
    uint64_t exits[VMM_EXIT_REASONS];  /* exits this thread served, by reason */
    char line[VMM_SERIAL_LINE_MAX];    /* debug-console output up to the next '\n' */
    unsigned line_len;
    uint64_t models_generation;   /* vm->models_generation when the last WAIT began */
    /* MSRs this VMM models (msr.c). */
    uint64_t apic_base, misc_enable, mcg_status, hwcr, de_cfg, tsc_offset;
    uint64_t kvm_system_time;     /* MSR_KVM_SYSTEM_TIME_NEW: GPA | enable */
};

/* One MMIO or IOIO range a device model serves. */
struct vmm_devmodel_range {
    bool mmio;
    uint64_t base, len;
};

/* A device model process the VMM starts, supervises and restarts. */
struct vmm_devmodel {
    const char *name;             /* its initrd program (and `device` name) */
    struct vmm_devmodel_range ranges[VMM_DEVMODEL_RANGES_MAX];
    unsigned nranges;
    int line;                     /* index in vm->lines it drives, or -1 */
    int line2;                    /* a second line (hpet: GSI 8), or -1 */
    bool console;                 /* gets a DUP of the console handle */
    bool debugexit;               /* its exit is the guest's debug-exit request */
    bool irqd;                    /* the interrupt controllers: IRQ handles and every line */
    bool required;                /* false: irqd started only because a device has a line */
    bool debug_crash;             /* uart: debug-crash (a test aid) */
    bool port92;                  /* its exit may be a reset request (PORT92_STATUS_RESET) */
    bool acpipm;                  /* its exit may be a power-off or reset (ACPIPM_STATUS_*) */
    bool files;                   /* fwcfg: gets a read-only DUP of vm->fwcfg_files */
    bool virtio;                  /* virtio-mmio: ranges[0] is its window; gets guest RAM */
    copra_handle_t disk;          /* virtio-blk: its disk (memory object), or NONE */
    unsigned nargs;               /* extra argv words, after vcpus=N */
    char args[VMM_DEVMODEL_ARGS_MAX][VMM_DEVMODEL_ARG_BYTES];
    copra_handle_t process;       /* COPRA_HANDLE_NONE when not running */
    unsigned restarts;
};

/* An interrupt line (coco/irqline.h): the VMM keeps a full-rights DUP so it
 * can hand fresh DUPs to a restarted driver or irqd. */
struct vmm_irq_line {
    unsigned gsi;
    copra_handle_t event;
};

/* A pending request of the test interrupt service. */
struct vmm_test_irq {
    unsigned vcpu;
    unsigned vector;              /* 0x10..0xff or COPRA_IRQ_NMI */
    uint64_t deadline;            /* CLOCK ns */
};

/* Guest RAM in three memory objects (vm.c ram_create): the low RAM below
 * the PC's legacy hole, the hole itself, and everything from 1 MiB up. */
#define VMM_RAM_LOW_END  0x9F000ull
#define VMM_RAM_HIGH     0x100000ull

struct vmm_vm {
    const struct vmm_config *config;
    copra_handle_t vm, vmctl;
    copra_handle_t mem;           /* guest RAM from VMM_RAM_HIGH up (device models get it) */
    copra_handle_t mem_low[2];    /* [0, VMM_RAM_LOW_END), [VMM_RAM_LOW_END, VMM_RAM_HIGH) */
    unsigned identity_parts;      /* bit i: part i (low, hole, high) is guest-pool memory (GUEST_MEM) */
    uint8_t *ram;                 /* the guest's RAM, mapped into the VMM as one window */
    uint64_t ram_size;
    unsigned nvcpus, ncpus;
    uint64_t tsc_hz;              /* SYSINFO's, for CPUID 0x4000_0010 */
    struct copra_sysinfo started; /* SYSINFO when the VCPUs started, for the summary */
    uint64_t started_tsc;
    uint64_t xcr0_mask;           /* XCR0 bits the guest may enable (CPUID 0xD, XSETBV) */
    uint64_t tsc_offset;          /* every VCPU's initial COPRA_STATE_TSC_OFFSET (msr.c) */
    bool tsc_fixed;               /* the platform refuses TSC_OFFSET (tdx): 0 */
    unsigned phys_bits;           /* MAXPHYADDR the guest sees (CPUID 0x8000_0008) */
    int64_t wall_start;           /* wall time (s since 1970) at guest TSC 0: the rtc's start
                                     (devmodels.c), kvm-clock's wall clock (msr.c) */
    bool has_tsc_aux;             /* CPUID shows RDTSCP or RDPID: TSC_AUX exists */
    struct vmm_vcpu *vcpus;

    /* Stopping (see above).  `stopping` goes 0 -> 1 once. */
    int stopping;
    int status;
    char reason[160];
    copra_handle_t stop_event;

    /* devices.c; `devices_lock` guards everything down to mmio_scratch. */
    struct vmm_lock devices_lock;
    uint8_t port_bank[16];        /* ports 0x500-0x50f */
    uint64_t port_sequence;       /* port 0x520 */
    uint64_t port_sum, port_sum_count;  /* ports 0x524, 0x528 */
    uint8_t mmio_scratch[VMM_MMIO_SCRATCH_SIZE];
    uint64_t mtrr_def_type;       /* MSR 0x2ff (msr.c) */
    uint64_t kvm_wall_clock;      /* MSR_KVM_WALL_CLOCK_NEW (msr.c), atomics */
    bool pvclock_bad_logged;      /* a kvm-clock GPA outside RAM was reported (msr.c) */
    /* Unclaimed accesses, counted with atomics. */
    uint64_t io_unclaimed_reads, io_unclaimed_writes;
    uint64_t mmio_unclaimed_reads, mmio_unclaimed_writes;
    uint64_t msr_unknown_reads, msr_unknown_writes;
    unsigned io_logged, mmio_logged;

    /* MSR indexes already reported as unknown (msr.c), under devices_lock. */
    uint32_t msr_logged[VMM_LOG_ONCE_MAX];
    unsigned nmsr_logged;

    /* Device models (devmodels.c): the table and every process handle in it
     * are guarded by models_lock (an event used as a sleeping lock, since
     * the holder makes syscalls); models_generation counts handled exits. */
    struct vmm_devmodel models[VMM_DEVMODELS_MAX];
    unsigned nmodels;
    struct vmm_irq_line lines[VMM_IRQ_LINES_MAX];
    unsigned nlines;
    copra_handle_t console;       /* the VMM's received handle 0, or NONE */
    copra_handle_t models_lock;
    uint64_t models_generation;
    copra_handle_t fwcfg_files;   /* fwcfg.c: the files object, or NONE */

    /* The test interrupt service (devices.c), under test_irq_lock. */
    struct vmm_lock test_irq_lock;
    struct vmm_test_irq test_irq[VMM_TEST_IRQ_PENDING];
    unsigned ntest_irq;
    copra_handle_t test_irq_timer, test_irq_done, test_irq_thread;
};

/* Build, run and tear down the VM `config` describes; returns the VMM's
 * exit status (the guest's debug-exit value, or a VMM_STATUS_*).  `console`
 * and `vmctl` are the VMM's received console and VM-creation handles. */
int vm_run(const struct vmm_config *config, copra_handle_t console, copra_handle_t vmctl);

/* Stop the VM with exit status `status` (first call wins); `format` says why. */
void vm_stop(struct vmm_vm *vm, int status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The guest asked for a system reset (a triple fault, port 0x92 bit 0).
 * The VMM cannot reset a VM yet, so the VM stops: status 0 if the
 * description expects it (expect=shutdown), else VMM_STATUS_GUEST_CRASH;
 * `format` says what happened. */
void vm_reset(struct vmm_vm *vm, const char *format, ...) __attribute__((format(printf, 2, 3)));

static inline bool vm_stopping(const struct vmm_vm *vm)
{
    return __atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE) != 0;
}

static inline uint64_t vmm_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* The XCR0 components the kernel switches for guests: XGETBV in a process
 * reads the kernel's XCR0 (abi/README.md); 0 without XSAVE. */
static inline uint64_t vmm_host_xcr0(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)))   /* OSXSAVE: the kernel enabled XSAVE */
        return 0;
    __asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
    return (uint64_t)d << 32 | a;
}

/* vcpu.c: the thread serving one VCPU's exits (coco_thread_spawn entry). */
int vcpu_thread(void *vcpu);
void vcpu_serial_flush(struct vmm_vcpu *v);
/* VCPU_SET_STATE of n {id, value} pairs in BATCHes; 0 or the first error. */
int vcpu_set_states(struct vmm_vcpu *v, const uint64_t (*values)[2], unsigned n);
/* Queue #GP(0) for the guest's next entry; `what` names the cause in a log. */
void vcpu_inject_gp(struct vmm_vcpu *v, const char *what);
/* The CPUID leaf the VCPU sees (vcpu.c). */
void cpuid_policy(const struct vmm_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t r[4]);

/* msr.c: RDMSR/WRMSR as KVM models them; false means #GP(0). */
bool msr_read(struct vmm_vcpu *v, uint32_t msr, uint64_t *value);
bool msr_write(struct vmm_vcpu *v, uint32_t msr, uint64_t value);
/* The reset values of a VCPU's modelled MSRs (vm->tsc_offset set first). */
void msr_vcpu_reset(struct vmm_vcpu *v);
/* A TSC offset that makes the guest's TSC read about 0 now. */
uint64_t msr_vm_tsc_offset(void);

/* devices.c: ports and MMIO nobody else claims; the test interrupt service. */
uint64_t devices_io_in(struct vmm_vcpu *v, uint16_t port, unsigned size);
void devices_io_out(struct vmm_vcpu *v, uint16_t port, unsigned size, uint64_t value);
uint64_t devices_mmio_read(struct vmm_vcpu *v, uint64_t gpa, unsigned size);
void devices_mmio_write(struct vmm_vcpu *v, uint64_t gpa, unsigned size, uint64_t value);
int devices_start(struct vmm_vm *vm);
void devices_stop(struct vmm_vm *vm);

/* devmodels.c: device-model processes (and irqd) from the `device` lines. */
int devmodels_configure(struct vmm_vm *vm);          /* 0 or 2 (bad description) */
int devmodels_start(struct vmm_vm *vm);              /* 0 or VMM_STATUS_VM_SETUP */
/* The k-th virtio-mmio device of the description (k = 0, 1, ...), for the
 * ACPI tables (a "LNRO0005" device: Memory32Fixed(base, VIRTIO_MMIO_SIZE),
 * a level-triggered, active-high interrupt on `gsi`): false past the last.
 * `gsi` is -1 for a device without a line (irq=none: the driver must poll). */
bool devmodels_virtio(const struct vmm_vm *vm, unsigned k, const char **name, uint64_t *base,
                      int *gsi);
/* Copy the process handles of running models into items (at most max). */
unsigned devmodels_wait_items(struct vmm_vm *vm, struct copra_wait_item *items, unsigned max);
/* Handle the models that exited: restart, or stop the VM (debug exit,
 * too many restarts).  Waits up to timeout_ns for one to exit. */
void devmodels_reap(struct vmm_vm *vm, uint64_t timeout_ns);
/* A VCPU's request died with its model (COPRA_EXIT_DEVICE_GONE): wait
 * until the exit has been handled (the model restarted, or the VM stops). */
void devmodels_device_gone(struct vmm_vcpu *v);
void devmodels_stop(struct vmm_vm *vm);

/* fwcfg.c: the files the fwcfg model serves, in a memory object
 * (servers/devmodel/fwcfg_files.h): etc/e820 from the RAM layout, and each
 * `opt/...=PATH` parameter of the `device fwcfg` line read from the initrd.
 * Sets vm->fwcfg_files; returns 0 or VMM_STATUS_VM_SETUP. */
int fwcfg_files_create(struct vmm_vm *vm, const struct vmm_config_device *d);

/* acpi_vm.c: the guest's ACPI tables (acpi.h) from vm->models, as
 * devmodels_configure() resolved them: irqd gives the MADT, uart/rtc/
 * virtio* the DSDT, pmtimer/acpipm the FADT registers.
 * acpi_vm_describe() fills *d: 0, or VMM_STATUS_VM_SETUP with a message
 * (no irqd, a virtio device with irq=none, more than ACPI_VIRTIO_MAX).  acpi_vm_write() describes, then builds the tables into
 * guest RAM at ACPI_TABLES_GPA (0xE0000, ACPI_TABLES_SIZE = 128 KiB, which
 * the guest's e820 must list as reserved; at the top of RAM where the
 * legacy hole has no RAM), RSDP first, and sets *rsdp_gpa
 * (boot_params.acpi_rsdp_addr); 0 or VMM_STATUS_VM_SETUP with a message.
 * Call it after devmodels_configure() and once vm->ram is mapped. */
int acpi_vm_describe(const struct vmm_vm *vm, struct acpi_desc *d);
int acpi_vm_write(struct vmm_vm *vm, uint64_t *rsdp_gpa);

#endif
