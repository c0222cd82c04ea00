/* SPDX-License-Identifier: MIT */
/*
 * The platform model's generic SVM host (host.c): boots under QEMU TCG at
 * CPL0, loads the multiboot kernel given as module 0 as its SVM guest "L1"
 * and runs it with nested paging and passthrough devices.  A platform
 * model (tdx.c here, tests/snpmodel/snp.c) plugs in through struct model: it
 * sees the instructions that trap to the host as #UD or VMMCALL intercepts
 * and may run further guests (L2) with the services below.
 *
 * Test infrastructure, not trusted code: it encodes our reading of the
 * platform specification (README.md).
 */
#ifndef TDXMODEL_HOST_H
#define TDXMODEL_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Statuses the model itself writes to isa-debug-exit (QEMU exits with
 * status * 2 + 1); L1 writes its own statuses there directly.  Chosen
 * below copra-qemu's 125 (boot error) and 126 (panic). */
#define MODEL_STATUS_VE        119   /* strict-ve: L1 did what raises #VE in a real TD */
#define MODEL_STATUS_ERROR     120   /* the model failed or met something it does not model */
#define MODEL_STATUS_FATAL     121   /* L1 reported a fatal error (TDVMCALL ReportFatalError) */
#define MODEL_STATUS_SHUTDOWN  122   /* L1 triple-faulted (SVM SHUTDOWN intercept) */
#define MODEL_STATUS_NPF       123   /* L1 touched memory it does not own (nested page fault) */

#define PAGE_SIZE 4096ull

struct vmcb_seg {
    uint16_t sel, attr;
    uint32_t limit;
    uint64_t base;
};

/* AMD APM vol. 2 appendix B (the same layout as microkernel/virt/svm.c). */
struct vmcb {
    uint32_t cr_intercepts, dr_intercepts, exc_intercepts, misc1, misc2;
    uint8_t pad0[0x40 - 0x14];
    uint64_t iopm_pa, msrpm_pa, tsc_offset;
    uint32_t asid;
    uint8_t tlb_control, pad1[3];
    uint64_t int_ctl, int_state;
    uint64_t exitcode, exitinfo1, exitinfo2, exitintinfo;
    uint64_t np_enable;
    uint8_t pad2[0xa8 - 0x98];
    uint64_t eventinj, ncr3, lbr;
    uint32_t clean, pad3;
    uint64_t nrip;
    uint8_t pad4[0x400 - 0xd0];
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
    uint8_t pad5[0x4cb - 0x4a0];
    uint8_t cpl;
    uint32_t pad6;
    uint64_t efer;
    uint8_t pad7[0x548 - 0x4d8];
    uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;
    uint8_t pad8[0x5d8 - 0x580];
    uint64_t rsp;
    uint8_t pad9[0x5f8 - 0x5e0];
    uint64_t rax, star, lstar, cstar, sfmask, kernel_gs_base, sysenter_cs, sysenter_esp,
        sysenter_eip, cr2;
    uint8_t pad10[0x668 - 0x648];
    uint64_t g_pat;
    uint8_t pad11[4096 - 0x670];
};
_Static_assert(__builtin_offsetof(struct vmcb, int_ctl) == 0x60, "VMCB int_ctl");
_Static_assert(__builtin_offsetof(struct vmcb, exitcode) == 0x70, "VMCB exitcode");
_Static_assert(__builtin_offsetof(struct vmcb, eventinj) == 0xa8, "VMCB EVENTINJ");
_Static_assert(__builtin_offsetof(struct vmcb, nrip) == 0xc8, "VMCB nRIP");
_Static_assert(__builtin_offsetof(struct vmcb, es) == 0x400, "VMCB save area");
_Static_assert(__builtin_offsetof(struct vmcb, cpl) == 0x4cb, "VMCB CPL");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB EFER");
_Static_assert(__builtin_offsetof(struct vmcb, cr4) == 0x548, "VMCB CR4");
_Static_assert(__builtin_offsetof(struct vmcb, rsp) == 0x5d8, "VMCB RSP");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB RAX");
_Static_assert(__builtin_offsetof(struct vmcb, cr2) == 0x640, "VMCB CR2");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB G_PAT");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

/* VMCB intercept and exit codes (APM vol. 2 §15.9-15.13, appendix C). */
#define MISC1_INTR      (1u << 0)
#define MISC1_VINTR     (1u << 4)
#define MISC1_CR0_SEL   (1u << 5)
#define MISC1_CPUID     (1u << 18)
#define MISC1_IRET      (1u << 20)
#define MISC1_INVD      (1u << 22)
#define MISC1_HLT       (1u << 24)
#define MISC1_IOIO      (1u << 27)
#define MISC1_MSR       (1u << 28)
#define MISC1_SHUTDOWN  (1u << 31)
#define MISC2_VMRUN     (1u << 0)
#define MISC2_VMMCALL   (1u << 1)
#define MISC2_SVM_INSNS 0x7cu        /* VMLOAD, VMSAVE, STGI, CLGI, SKINIT */
#define MISC2_WBINVD    (1u << 8)
#define MISC2_XSETBV    (1u << 13)
#define INT_CTL_V_IRQ          (1ull << 8)
#define INT_CTL_V_IGN_TPR      (1ull << 20)
#define INT_CTL_V_INTR_MASKING (1ull << 24)
#define EXIT_CR0_WRITE  0x010u
#define EXIT_EXCP_BASE  0x040u
#define EXIT_INTR       0x060u
#define EXIT_VINTR      0x064u
#define EXIT_CR0_SEL    0x065u
#define EXIT_CPUID      0x072u
#define EXIT_IRET       0x074u
#define EXIT_HLT        0x078u
#define EXIT_INVD       0x076u
#define EXIT_IOIO       0x07bu
#define EXIT_MSR        0x07cu
#define EXIT_SHUTDOWN   0x07fu
#define EXIT_VMRUN      0x080u
#define EXIT_VMMCALL    0x081u
#define EXIT_WBINVD     0x089u
#define EXIT_XSETBV     0x08du
#define EXIT_NPF        0x400u
#define EXIT_INVALID    0xffffffffu  /* QEMU writes it as a 32-bit value */
#define EVENTINJ_VALID  (1u << 31)
#define EVENTINJ_EXCP   (3u << 8)
#define EVENTINJ_ERR    (1u << 11)

/* gpr[] slots (RAX and RSP live in the VMCB). */
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI, R_8, R_9, R_10, R_11, R_12, R_13, R_14,
       R_15 };

/* One SVM guest context: its VMCB and the GPRs VMRUN does not switch. */
struct guest {
    struct vmcb *vmcb;
    uint64_t gpr[16];
};

/* Nested page table entries (long-mode format; nested walks are user
 * accesses, so U is always set: qemu-tcg-svm.md pitfall 9). */
#define NPT_P   (1ull << 0)
#define NPT_W   (1ull << 1)
#define NPT_U   (1ull << 2)
#define NPT_PS  (1ull << 7)
#define NPT_NX  (1ull << 63)
#define NPT_ADDR 0x000ffffffffff000ull

/* What a platform model provides.  Each hook runs with L1 stopped at the
 * intercepted instruction (l1.vmcb->rip) and returns true if it handled it
 * (and advanced RIP); false makes the host inject #UD into L1. */
struct model {
    const char *name;
    /* L1's RAM appears at GPA and again at GPA | 2^alias_bit (TDX: the
     * shared bit of GPAW 48; SNP: the C-bit the model reports). */
    unsigned alias_bit;
    void (*init)(void);
    bool (*ud)(const uint8_t insn[4]);          /* #UD intercept: the bytes at RIP */
    bool (*vmmcall)(void);                      /* VMMCALL intercept (NULL: #UD) */
    void (*cpuid)(uint32_t leaf, uint32_t subleaf, uint32_t r[4]);   /* adjust L1's CPUID */
    /* Optional: sees every L1 exit first (exit code; L1 stopped as above)
     * and returns true if it handled it, false for the host's handling. */
    bool (*exit)(uint32_t code);
};
/* The model linked into this host (tdx.c, snp.c); MODEL_TAG (a compile
 * definition, "tdxmodel" or "snpmodel") starts the host's messages. */
extern const struct model host_model;

/* L1, the guest the host booted. */
extern struct guest l1;
/* L1's physical memory: every 4 KiB page below this is tracked for the model. */
extern uint64_t l1_track_top;

/* Services for the model. */
void host_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void host_stop(int status);
void *host_memset(void *dst, int c, size_t n);
void *host_memcpy(void *dst, const void *src, size_t n);
/* A zeroed 4 KiB page of the model's own memory, or stop. */
void *host_page_alloc(void);
/* Is [gpa, gpa + n) L1 memory (not the model's)?  GPAs are host-physical
 * addresses: L1's nested page table is an identity map. */
bool host_l1_owns(uint64_t gpa, uint64_t n);
/* A guest's linear address -> GPA through its page tables (false: not
 * mapped).  The tables must lie in L1 memory (L2 memory is L1 memory). */
bool host_translate(const struct vmcb *v, uint64_t la, uint64_t *gpa);
/* Inject an exception into L1 (vector, error code if has_error). */
void host_l1_inject(unsigned vector, bool has_error, uint32_t error);
/* L1's nested page table root (RAM at GPA and at GPA | 2^alias_bit). */
uint64_t *host_l1_npt(void);
/* Set the 4 KiB leaf for gpa in the nested table rooted at root (0 clears). */
void host_npt_set(uint64_t *root, uint64_t gpa, uint64_t pte);
/* A new, empty nested page table. */
uint64_t *host_npt_new(void);
/* Run a guest until its next #VMEXIT; physical interrupts exit it (INTR)
 * when it has the INTR intercept and V_INTR_MASKING (host IF = 1). */
void host_run(struct guest *g);
/* Wait for a physical interrupt without taking it: it stays pending for L1. */
void host_wait_for_interrupt(void);
/* Port I/O and MSRs on L1's behalf (devices are passed through). */
uint32_t host_in(uint16_t port, unsigned size);
void host_out(uint16_t port, unsigned size, uint32_t value);
uint64_t host_rdmsr(uint32_t msr);
void host_wrmsr(uint32_t msr, uint64_t value);
void host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4]);
/* The 4 bytes at L1's RIP (false: not mapped to L1 memory). */
bool host_l1_fetch(uint8_t insn[4]);
/* L1's intercepts beyond the host's own: an MSR (both directions), all ports. */
void host_msr_intercept(uint32_t msr, bool on);
void host_io_intercept(bool on);
/* Does the model's command line (QEMU -append) hold this word? */
bool host_option(const char *word);

#endif
