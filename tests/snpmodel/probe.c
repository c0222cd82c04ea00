/* SPDX-License-Identifier: MIT */
/*
 * The SNP model's probe (ctest qemu.snpmodel_probe): an L1 kernel on the
 * test guests' runtime that runs at "VMPL0" under snpmodel.elf and checks
 * what the model plays, the way an SNP VMPL0 kernel uses it: SEV_STATUS,
 * the GHCB MSR protocol, its own #VC handler sending CPUID/IO/MSR through
 * the GHCB page, PVALIDATE and RMPADJUST with their error returns,
 * page-state changes, and Run-VMPL of a small VMPL1 program
 * (probe_vmpl.S) whose exits come back through its VMSA (ReflectVC).
 * Layouts and numbers come from microkernel/virt/snp_abi.h (the kernel's
 * header, tested in unit.snp), so the probe also checks that header against
 * the model's independently written numbers.  Prints "N passed, 0 failed"
 * and writes 0 to isa-debug-exit if every check passed.
 */
#include "guest.h"
#include "virt/snp_abi.h"

extern const char vmpl_code[], vmpl_after_hlt[];
uint8_t vmpl_data[4096] __attribute__((aligned(4096)));
uint8_t vmpl_secret[4096] __attribute__((aligned(4096)));
static struct ghcb ghcb __attribute__((aligned(4096)));
static uint8_t vmsa_pair[2][4096] __attribute__((aligned(8192)));
static uint8_t test_page[2][4096] __attribute__((aligned(4096)));

#define PSC_INVALID_HDR ((1ull << 32) | 1)   /* the model's choice (snp.c) */

static uint64_t pa(const void *p)
{
    return (uint64_t)(uintptr_t)p;   /* boot.S maps the first GiB one to one */
}

/* ---- Instructions ---------------------------------------------------------------- */

static inline void vmgexit(void)
{
    __asm__ volatile("rep; vmmcall" ::: "memory");
}

static uint64_t msr_protocol(uint64_t request)
{
    wrmsr(SNP_MSR_GHCB, request);
    vmgexit();
    uint64_t response = rdmsr(SNP_MSR_GHCB);
    wrmsr(SNP_MSR_GHCB, pa(&ghcb));
    return response;
}

/* PVALIDATE (F2 0F 01 FF): RAX = VA, RCX = size, RDX = validate; RAX = result, CF = unchanged. */
static unsigned pvalidate(const void *va, unsigned size, unsigned validate, bool *cf)
{
    uint64_t rax = pa(va);
    uint8_t c;
    __asm__ volatile(".byte 0xf2, 0x0f, 0x01, 0xff; setc %1"
                     : "+a"(rax), "=qm"(c) : "c"((uint64_t)size), "d"((uint64_t)validate)
                     : "memory", "cc");
    *cf = c;
    return (unsigned)rax;
}

/* RMPADJUST (F3 0F 01 FE): RAX = VA, RCX = size, RDX = attributes; RAX = result. */
static unsigned rmpadjust(const void *va, unsigned size, uint64_t attrs)
{
    uint64_t rax = pa(va);
    __asm__ volatile(".byte 0xf3, 0x0f, 0x01, 0xfe"
                     : "+a"(rax) : "c"((uint64_t)size), "d"(attrs) : "memory", "cc");
    return (unsigned)rax;
}

/* If something fails before the GHCB works there is no console: ask the
 * model to terminate with a reason set 3 code the test output shows. */
static _Noreturn void terminate(unsigned code)
{
    wrmsr(SNP_MSR_GHCB, ghcb_msr_term_req(3, code));
    vmgexit();
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- The GHCB page -------------------------------------------------------------- */

static void ghcb_begin(void)
{
    memset(ghcb.valid_bitmap, 0, sizeof ghcb.valid_bitmap);
    ghcb.protocol_version = GHCB_PROTOCOL_SNP;
    ghcb.usage = 0;
}

static void ghcb_put(uint64_t *field, uint64_t value)
{
    *field = value;
    ghcb_mark_valid(&ghcb, field);
}

/* SW_EXITINFO2 of the last call, kept because the next output's #VC
 * reuses the GHCB. */
static uint64_t ghcb_info2;

/* Returns SW_EXITINFO1 31:0 after the VMGEXIT. */
static uint32_t ghcb_call(uint64_t code, uint64_t info1, uint64_t info2)
{
    ghcb_put(&ghcb.sw_exit_code, code);
    ghcb_put(&ghcb.sw_exit_info1, info1);
    ghcb_put(&ghcb.sw_exit_info2, info2);
    wrmsr(SNP_MSR_GHCB, pa(&ghcb));
    vmgexit();
    ghcb_info2 = ghcb.sw_exit_info2;
    return (uint32_t)ghcb.sw_exit_info1;
}

/* ---- #VC: the probe's own CPUID, port I/O and MSRs through the GHCB --------------- */

/* Written by the #VC handler behind the compiler's back: volatile. */
static volatile unsigned vc_count[5];   /* CPUID, IOIO, MSR, VMMCALL, PAGE_NOT_VALIDATED */
static volatile unsigned vc_gp;         /* MSR accesses the hypervisor answered with #GP */
static const void *volatile vc_revalidate;   /* the page the next PAGE_NOT_VALIDATED validates */

static void vc_ioio(struct guest_frame *f)
{
    const uint8_t *ip = (const uint8_t *)(uintptr_t)f->rip;
    unsigned len = 1;
    bool opsize16 = ip[0] == 0x66;
    if (opsize16) {
        ip++;
        len++;
    }
    uint8_t op = ip[0];
    unsigned size = !(op & 1) ? 1 : opsize16 ? 2 : 4;
    uint16_t port = (op & 8) ? (uint16_t)f->rdx : ip[1];
    len += (op & 8) ? 0 : 1;   /* EC-EF: port in DX; E4-E7: imm8 */
    bool in = !(op & 2);
    ghcb_begin();
    ghcb_put(&ghcb.rax, f->rax);
    if (ghcb_call(SVM_EXIT_IOIO, snp_ioio_info(port, size, in), 0) != 0)
        terminate(0x7B);
    if (in) {
        uint64_t mask = size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;
        f->rax = (f->rax & ~mask) | (ghcb.rax & mask);
    }
    f->rip += len;
}

static void vc_handle(struct guest_frame *f)
{
    const uint8_t *ip = (const uint8_t *)(uintptr_t)f->rip;
    switch (f->error) {
    case SVM_EXIT_CPUID:
        vc_count[0]++;
        ghcb_begin();
        ghcb_put(&ghcb.rax, (uint32_t)f->rax);
        ghcb_put(&ghcb.rcx, (uint32_t)f->rcx);
        if (ghcb_call(SVM_EXIT_CPUID, 0, 0) != 0)
            terminate(0x72);
        f->rax = (uint32_t)ghcb.rax;
        f->rbx = (uint32_t)ghcb.rbx;
        f->rcx = (uint32_t)ghcb.rcx;
        f->rdx = (uint32_t)ghcb.rdx;
        f->rip += 2;
        break;
    case SVM_EXIT_IOIO:
        vc_count[1]++;
        vc_ioio(f);
        break;
    case SVM_EXIT_MSR: {
        vc_count[2]++;
        bool write = ip[1] == 0x30;   /* 0F 30 WRMSR, 0F 32 RDMSR */
        ghcb_begin();
        ghcb_put(&ghcb.rcx, (uint32_t)f->rcx);
        if (write) {
            ghcb_put(&ghcb.rax, (uint32_t)f->rax);
            ghcb_put(&ghcb.rdx, (uint32_t)f->rdx);
        }
        uint32_t r = ghcb_call(SVM_EXIT_MSR, write, 0);
        if (r == GHCB_RESULT_EXCEPTION && (ghcb.sw_exit_info2 & 0xFF) == 13) {
            vc_gp++;   /* the probe's stand-in for taking the #GP */
            f->rax = f->rdx = 0;
        } else if (r != 0) {
            terminate(0x7C);
        } else if (!write) {
            f->rax = (uint32_t)ghcb.rax;
            f->rdx = (uint32_t)ghcb.rdx;
        }
        f->rip += 2;
        break;
    }
    case SVM_EXIT_VMMCALL:
        vc_count[3]++;
        f->rip += 3;
        break;
    case SVM_EXIT_PAGE_NOT_VALIDATED: {
        vc_count[4]++;
        bool cf;
        if (vc_revalidate == NULL || pvalidate(vc_revalidate, 0, 1, &cf) != 0)
            terminate(0x44);
        vc_revalidate = NULL;
        break;   /* the access is retried */
    }
    default:
        terminate(0xEE);
    }
}

/* The #VC handler keeps the interrupted code's view of the last GHCB call. */
static void vc_handler(struct guest_frame *f)
{
    uint64_t info2 = ghcb_info2;
    vc_handle(f);
    ghcb_info2 = info2;
}

/* ---- Checks ------------------------------------------------------------------------ */

static uint64_t reg_gpa_response, psc_response;

/* Before any output: SEV_STATUS, the protocol version, the GHCB page made
 * shared (rescind, then page-state change) and registered. */
static void ghcb_setup(void)
{
    if (!(rdmsr(SNP_MSR_SEV_STATUS) & SEV_STATUS_SNP))
        terminate(1);
    uint64_t info = msr_protocol(GHCB_MSR_SEV_INFO_REQ);
    if (ghcb_msr_info(info) != GHCB_MSR_SEV_INFO_RESP || ghcb_msr_proto_max(info) < GHCB_PROTOCOL_SNP)
        terminate(2);
    bool cf;
    if (pvalidate(&ghcb, 0, 0, &cf) != 0 || cf)
        terminate(3);
    psc_response = msr_protocol(ghcb_msr_psc_req(pa(&ghcb), SNP_PSC_SHARED));
    reg_gpa_response = msr_protocol(ghcb_msr_reg_gpa_req(pa(&ghcb)));
    memset(&ghcb, 0, sizeof ghcb);
    wrmsr(SNP_MSR_GHCB, pa(&ghcb));
}

static void check_msr_protocol(void)
{
    CHECK_EQ("SEV_STATUS: SEV, SEV-ES, SNP", rdmsr(SNP_MSR_SEV_STATUS), 7);
    uint64_t info = msr_protocol(GHCB_MSR_SEV_INFO_REQ);
    CHECK_EQ("SEV_INFO response", ghcb_msr_info(info), GHCB_MSR_SEV_INFO_RESP);
    CHECK_EQ("SEV_INFO max protocol", ghcb_msr_proto_max(info), 2);
    CHECK_EQ("SEV_INFO min protocol", ghcb_msr_proto_min(info), 2);
    CHECK_EQ("SEV_INFO C-bit", (info >> 24) & 0xFF, 39);
    uint64_t r = msr_protocol(ghcb_msr_cpuid_req(0x8000001Fu, 0));
    CHECK_EQ("CPUID response", ghcb_msr_info(r), GHCB_MSR_CPUID_RESP);
    CHECK("CPUID 8000001F EAX: SEV, SEV-ES, SNP", (ghcb_msr_value(r) & 0x1A) == 0x1A);
    r = msr_protocol(ghcb_msr_cpuid_req(0x80000000u, 0));
    CHECK("CPUID max extended leaf >= 8000001F", ghcb_msr_value(r) >= 0x8000001Fu);
    r = msr_protocol(GHCB_MSR_HV_FT_REQ);
    CHECK_EQ("HV features response", ghcb_msr_info(r), GHCB_MSR_HV_FT_RESP);
    CHECK_EQ("HV features: SNP, AP creation", r >> 12, GHCB_HV_FT_SNP | GHCB_HV_FT_AP_CREATION);
    CHECK_EQ("PSC shared (MSR protocol): no error", psc_response, GHCB_MSR_PSC_RESP);
    CHECK_EQ("REG_GPA response", reg_gpa_response, pa(&ghcb) | GHCB_MSR_REG_GPA_RESP);
    r = msr_protocol(ghcb_msr_psc_req(0x7000000000ull, SNP_PSC_SHARED));
    CHECK("PSC of a GPA without RAM: error", ghcb_msr_value(r) != 0);
}

static void check_vc(void)
{
    uint32_t c[4];
    unsigned n = vc_count[0];
    cpuid(0x8000001Fu, 0, c);
    CHECK_EQ("CPUID raises #VC(0x72)", vc_count[0], n + 1);
    CHECK("CPUID through the GHCB: SNP bit", c[0] & (1u << 4));
    CHECK_EQ("CPUID through the GHCB: C-bit", c[1] & 0x3F, 39);
    CHECK("port I/O went through #VC(0x7b)", vc_count[1] > 100);
    n = vc_count[2];
    uint64_t apic_base = rdmsr(0x1B);
    CHECK_EQ("RDMSR raises #VC(0x7c)", vc_count[2], n + 1);
    CHECK_EQ("RDMSR APIC_BASE through the GHCB: base, enabled, BSP", apic_base & ~0xFFull, 0xFEE00900u);
    wrmsr(0x1B, apic_base);
    CHECK_EQ("WRMSR APIC_BASE unchanged: accepted", vc_gp, 0);
    rdmsr(0xC0011029u);
    CHECK_EQ("RDMSR the hypervisor refuses: #GP through SW_EXITINFO", vc_gp, 1);
    n = vc_count[2];
    uint64_t fs = rdmsr(0xC0000100u);
    CHECK_EQ("RDMSR FS_BASE: no #VC (VMSA state)", vc_count[2], n);
    (void)fs;
    __asm__ volatile("vmmcall" ::: "memory");
    CHECK_EQ("VMMCALL raises #VC(0x81)", vc_count[3], 1);
}

static void check_ghcb_errors(void)
{
    ghcb_begin();
    CHECK_EQ("unknown NAE event: error", ghcb_call(0x8000ABCDu, 0, 0), GHCB_RESULT_ERROR);
    CHECK_EQ("unknown NAE event: INVALID_EVENT", ghcb_info2, 6);
    ghcb_begin();
    ghcb.usage = 1;
    CHECK_EQ("GHCB usage 1: error", ghcb_call(SVM_EXIT_CPUID, 0, 0), GHCB_RESULT_ERROR);
    CHECK_EQ("GHCB usage 1: INVALID_USAGE", ghcb_info2, 2);
    ghcb_begin();
    ghcb_put(&ghcb.rax, 0);
    CHECK_EQ("CPUID without RCX: error", ghcb_call(SVM_EXIT_CPUID, 0, 0), GHCB_RESULT_ERROR);
    CHECK_EQ("CPUID without RCX: MISSING_INPUT", ghcb_info2, 4);
    ghcb_begin();
    CHECK_EQ("HV features NAE", ghcb_call(0x8000FFFDu, 0, 0), 0);
    CHECK_EQ("HV features NAE value", ghcb_info2, 3);
    ghcb_begin();
    ghcb_put(&ghcb.rax, 0);
    CHECK_EQ("IOIO string: error", ghcb_call(SVM_EXIT_IOIO, snp_ioio_info(0x80, 1, false) | 4, 0),
             GHCB_RESULT_ERROR);
}

static void check_pvalidate(void)
{
    bool cf;
    const void *p = test_page[0];
    *(volatile uint64_t *)test_page[0] = 0x1234;
    CHECK_EQ("PVALIDATE rescind", pvalidate(p, 0, 0, &cf), 0);
    CHECK("PVALIDATE rescind: changed (CF 0)", !cf);
    CHECK_EQ("PVALIDATE rescind again", pvalidate(p, 0, 0, &cf), 0);
    CHECK("PVALIDATE rescind again: unchanged (CF 1)", cf);
    vc_revalidate = p;
    uint64_t v = *(volatile uint64_t *)test_page[0];
    CHECK_EQ("unvalidated page: #VC(0x404), validated by the handler", vc_count[4], 1);
    CHECK_EQ("the page keeps its contents", v, 0x1234);
    CHECK_EQ("PVALIDATE validate again: unchanged", pvalidate(p, 0, 1, &cf), 0);
    CHECK("... CF 1", cf);
    CHECK_EQ("PVALIDATE 2M on 4K RMP entries", pvalidate((void *)0x400000, 1, 1, &cf),
             SNP_FAIL_SIZEMISMATCH);
    CHECK_EQ("PVALIDATE 2M unaligned", pvalidate(p, 1, 1, &cf), SNP_FAIL_INPUT);
    CHECK_EQ("PVALIDATE size 2", pvalidate(p, 2, 1, &cf), SNP_FAIL_INPUT);
}

static void check_psc(void)
{
    bool cf;
    const void *page = test_page[1];
    uint64_t *entries = (uint64_t *)(ghcb.shared + 8);
    uint16_t *hdr = (uint16_t *)ghcb.shared;
    CHECK_EQ("rescind before making shared", pvalidate(page, 0, 0, &cf), 0);
    ghcb_begin();
    hdr[0] = 0;
    hdr[1] = 0;
    entries[0] = snp_psc_entry(pa(page), SNP_PSC_SHARED, false);
    CHECK_EQ("PSC NAE shared", ghcb_call(SNP_NAE_PSC, 0, 0), 0);
    CHECK_EQ("PSC NAE shared: no error", ghcb_info2, 0);
    CHECK_EQ("PSC NAE: cur_entry past end_entry", hdr[0], 1);
    ghcb_begin();
    hdr[0] = 0;
    hdr[1] = 0;
    entries[0] = snp_psc_entry(pa(page), SNP_PSC_PRIVATE, false);
    CHECK_EQ("PSC NAE private", ghcb_call(SNP_NAE_PSC, 0, 0), 0);
    CHECK_EQ("PSC NAE private: no error", ghcb_info2, 0);
    vc_revalidate = page;
    (void)*(volatile const uint8_t *)page;
    CHECK_EQ("a new private page is not validated: #VC(0x404)", vc_count[4], 2);
    ghcb_begin();
    hdr[0] = 1;
    hdr[1] = 0;
    CHECK_EQ("PSC NAE bad header", ghcb_call(SNP_NAE_PSC, 0, 0), 0);
    CHECK_EQ("PSC NAE bad header: error", ghcb_info2, PSC_INVALID_HDR);
}

static void check_rmpadjust(void)
{
    bool cf;
    const void *p = test_page[0];
    CHECK_EQ("RMPADJUST target VMPL0", rmpadjust(p, 0, snp_rmpadjust_attrs(0, RMP_READ)), SNP_FAIL_PERMISSION);
    CHECK_EQ("RMPADJUST target VMPL4", rmpadjust(p, 0, snp_rmpadjust_attrs(4, RMP_READ)), SNP_FAIL_INPUT);
    CHECK_EQ("RMPADJUST reserved bit 12", rmpadjust(p, 0, snp_rmpadjust_attrs(1, RMP_READ) | 1u << 12),
             SNP_FAIL_INPUT);
    CHECK_EQ("RMPADJUST 2M", rmpadjust((void *)0x400000, 1, snp_rmpadjust_attrs(1, RMP_READ)),
             SNP_FAIL_SIZEMISMATCH);
    CHECK_EQ("RMPADJUST VMPL1 RWX", rmpadjust(p, 0, snp_rmpadjust_attrs(1, RMP_RWX)), 0);
    CHECK_EQ("RMPADJUST VMPL1 none", rmpadjust(p, 0, snp_rmpadjust_attrs(1, 0)), 0);
    pvalidate(p, 0, 0, &cf);
    CHECK_EQ("RMPADJUST of an unvalidated page", rmpadjust(p, 0, snp_rmpadjust_attrs(1, RMP_READ)),
             SNP_FAIL_INPUT);
    pvalidate(p, 0, 1, &cf);
}

/* Hostile input: the model's own memory (1.75 GiB, host.c) and GPAs
 * without RAM must give defined errors, never touch the model. */
static volatile unsigned gp_count;

static void gp_handler(struct guest_frame *f)
{
    gp_count++;
    f->rip += 4;   /* the probe only lets PVALIDATE/RMPADJUST fault here */
}

static void check_hostile(void)
{
    bool cf;
    const uint64_t model = 0x70000000ull;
    idt_set_handler(13, gp_handler);
    /* VA 0x70000000 is the alias of GPA 0xF0000000 (boot.S): no RAM. */
    pvalidate((void *)0x70000000ull, 0, 1, &cf);
    CHECK_EQ("PVALIDATE of a GPA without RAM: #GP", gp_count, 1);
    rmpadjust((void *)0x70000000ull, 0, snp_rmpadjust_attrs(1, RMP_READ));
    CHECK_EQ("RMPADJUST of a GPA without RAM: #GP", gp_count, 2);
    idt_set_handler(13, NULL);
    uint64_t r = msr_protocol(ghcb_msr_psc_req(model, SNP_PSC_SHARED));
    CHECK("PSC of the model's memory: error", ghcb_msr_value(r) != 0);
    r = msr_protocol(ghcb_msr_reg_gpa_req(model));
    CHECK_EQ("REG_GPA of the model's memory: refused (GFN all ones)", r, ~0xFFFull | GHCB_MSR_REG_GPA_RESP);
    ghcb_begin();
    ghcb_put(&ghcb.rax, 0);
    CHECK_EQ("AP creation with a VMSA in the model's memory: error",
             ghcb_call(SNP_NAE_AP_CREATION, snp_ap_creation_info(0, 1, SNP_AP_CREATE), model),
             GHCB_RESULT_ERROR);
    uint16_t *hdr = (uint16_t *)ghcb.shared;
    ghcb_begin();
    hdr[0] = 0;
    hdr[1] = 0;
    *(uint64_t *)(ghcb.shared + 8) = snp_psc_entry(model, SNP_PSC_SHARED, false);
    CHECK_EQ("PSC NAE of the model's memory", ghcb_call(SNP_NAE_PSC, 0, 0), 0);
    CHECK("PSC NAE of the model's memory: error", ghcb_info2 != 0);
    ghcb_begin();
    hdr[0] = 0;
    hdr[1] = 253;
    CHECK_EQ("PSC NAE end_entry 253", ghcb_call(SNP_NAE_PSC, 0, 0), 0);
    CHECK_EQ("PSC NAE end_entry 253: bad header", ghcb_info2, PSC_INVALID_HDR);
}

/* ---- Run-VMPL ------------------------------------------------------------------------ */

static uint64_t *vq(unsigned off)
{
    return (uint64_t *)(vmsa_pair[1] + off);
}

static void vmsa_seg(unsigned off, uint16_t sel, uint16_t attr, uint32_t limit)
{
    *(uint16_t *)(vmsa_pair[1] + off) = sel;
    *(uint16_t *)(vmsa_pair[1] + off + 2) = attr;
    *(uint32_t *)(vmsa_pair[1] + off + 4) = limit;
    *vq(off + 8) = 0;
}

#define VMPL1_FEATURES (SEV_FEAT_SNP_ACTIVE | SEV_FEAT_REFLECT_VC | SEV_FEAT_ALTERNATE_INJ)

/* VMPL1 starts in 32-bit protected mode, flat segments, paging off (the
 * multiboot entry state, host.c l1_vmcb_init()). */
static void vmsa_build(void)
{
    memset(vmsa_pair[1], 0, 4096);
    for (unsigned seg = 0; seg < 6; seg++)   /* ES CS SS DS FS GS */
        vmsa_seg(seg * 0x10, seg == 1 ? 0x08 : 0x10, seg == 1 ? 0xC9B : 0xC93, 0xFFFFFFFFu);
    vmsa_seg(0x60, 0, 0, 0xFFFF);        /* GDTR */
    vmsa_seg(0x70, 0, 0x82, 0xFFFF);     /* LDTR */
    vmsa_seg(0x80, 0, 0, 0xFFFF);        /* IDTR */
    vmsa_seg(0x90, 0, 0x8B, 0xFFFF);     /* TR */
    vmsa_pair[1][VMSA_VMPL] = 1;
    *vq(VMSA_EFER) = 1u << 12;           /* SVME: a VMSA runs only with it (reference B1) */
    *vq(SNP_VMSA_FROM_VMCB(0x558)) = 0x11;   /* CR0: PE | ET */
    *vq(SNP_VMSA_FROM_VMCB(0x560)) = 0x400;  /* DR7 */
    *vq(SNP_VMSA_FROM_VMCB(0x568)) = 0xFFFF0FF0u;   /* DR6 */
    *vq(VMSA_RFLAGS) = 2;
    *vq(VMSA_RIP) = pa(vmpl_code);
    *vq(SNP_VMSA_FROM_VMCB(0x668)) = 0x0007040600070406ull;   /* G_PAT */
    *vq(VMSA_SEV_FEATURES) = VMPL1_FEATURES;
}

static uint64_t vmsa_exit(void)
{
    return *vq(VMSA_EXITCODE);
}

static void check_run_vmpl(void)
{
    uint64_t r = msr_protocol(ghcb_msr_vmpl_req(1));
    CHECK_EQ("Run-VMPL 1 before a VMSA: response", ghcb_msr_info(r), GHCB_MSR_VMPL_RESP);
    CHECK("Run-VMPL 1 before a VMSA: error", ghcb_msr_value(r) != 0);

    vmsa_build();
    ghcb_begin();
    ghcb_put(&ghcb.rax, VMPL1_FEATURES);
    CHECK_EQ("AP creation, page without the VMSA bit: error",
             ghcb_call(SNP_NAE_AP_CREATION, snp_ap_creation_info(0, 1, SNP_AP_CREATE), pa(vmsa_pair[1])),
             GHCB_RESULT_ERROR);
    CHECK_EQ("RMPADJUST VMPL1 READ|VMSA",
             rmpadjust(vmsa_pair[1], 0, snp_rmpadjust_attrs(1, RMP_READ | RMP_VMSA)), 0);
    ghcb_begin();
    ghcb_put(&ghcb.rax, VMPL1_FEATURES ^ SEV_FEAT_REFLECT_VC);
    CHECK_EQ("AP creation, SEV_FEATURES differ from the VMSA's: error",
             ghcb_call(SNP_NAE_AP_CREATION, snp_ap_creation_info(0, 1, SNP_AP_CREATE), pa(vmsa_pair[1])),
             GHCB_RESULT_ERROR);
    ghcb_begin();
    ghcb_put(&ghcb.rax, VMPL1_FEATURES);
    CHECK_EQ("AP creation for APIC ID 1 (one vCPU): error",
             ghcb_call(SNP_NAE_AP_CREATION, snp_ap_creation_info(1, 1, SNP_AP_CREATE), pa(vmsa_pair[1])),
             GHCB_RESULT_ERROR);
    ghcb_begin();
    ghcb_put(&ghcb.rax, VMPL1_FEATURES);
    CHECK_EQ("AP creation of the VMPL1 VMSA",
             ghcb_call(SNP_NAE_AP_CREATION, snp_ap_creation_info(0, 1, SNP_AP_CREATE), pa(vmsa_pair[1])), 0);
    CHECK_EQ("grant the code page R+Xs", rmpadjust(vmpl_code, 0, snp_rmpadjust_attrs(1, RMP_READ | RMP_XSUPER)), 0);
    CHECK_EQ("grant the data page RW", rmpadjust(vmpl_data, 0, snp_rmpadjust_attrs(1, RMP_READ | RMP_WRITE)), 0);
    *(volatile uint32_t *)vmpl_secret = 0x5EC12E7u;

    /* 1: IOIO through the MSR protocol's Run-VMPL. */
    r = msr_protocol(ghcb_msr_vmpl_req(1));
    CHECK_EQ("Run-VMPL 1 (MSR protocol)", r, GHCB_MSR_VMPL_RESP);
    CHECK_EQ("VMPL1 exit: IOIO", vmsa_exit(), SVM_EXIT_IOIO);
    guest_printf("probe: VMPL1 IOIO EXITINFO1 0x%llx EXITINFO2 0x%llx\n",
                 (unsigned long long)*vq(VMSA_EXITINFO1), (unsigned long long)*vq(VMSA_EXITINFO2));
    CHECK_EQ("IOIO EXITINFO1: port 0x99, 8-bit OUT", *vq(VMSA_EXITINFO1) & 0xFFFF0077u,
             snp_ioio_info(0x99, 1, false));
    CHECK_EQ("IOIO EXITINFO2: next RIP", *vq(VMSA_EXITINFO2), pa(vmpl_code) + 4);
    CHECK_EQ("VMSA RIP at the OUT", *vq(VMSA_RIP), pa(vmpl_code) + 2);
    CHECK_EQ("VMSA RAX: VMPL1's AL", *vq(VMSA_RAX) & 0xFF, 0x5A);
    *vq(VMSA_RIP) += 2;

    /* 2: CPUID through the GHCB page's Run-VMPL; VMPL0 emulates it. */
    ghcb_begin();
    CHECK_EQ("Run-VMPL 1 (GHCB)", ghcb_call(SNP_NAE_RUN_VMPL, 1, 0), 0);
    CHECK_EQ("VMPL1 exit: CPUID", vmsa_exit(), SVM_EXIT_CPUID);
    CHECK_EQ("VMSA RAX: the leaf", *vq(VMSA_RAX), 0x8000001Fu);
    *vq(VMSA_RAX) = 0xAAAA0001u;
    *vq(snp_vmsa_gpr(3)) = 0xBBBB0003u;   /* RBX */
    *vq(VMSA_RIP) += 2;

    /* 3: a read of a page VMPL1 has no permission for: NPF, reflected. */
    ghcb_begin();
    CHECK_EQ("Run-VMPL 1", ghcb_call(SNP_NAE_RUN_VMPL, 1, 0), 0);
    CHECK_EQ("VMPL1 exit: NPF", vmsa_exit(), SVM_EXIT_NPF);
    CHECK_EQ("NPF EXITINFO2: the ungranted GPA", *vq(VMSA_EXITINFO2), pa(vmpl_secret));
    CHECK("NPF EXITINFO1: a read", !(*vq(VMSA_EXITINFO1) & 2));
    CHECK_EQ("VMPL1 wrote its granted page", *(volatile uint32_t *)vmpl_data, 0xFEEDF00Du);
    CHECK_EQ("VMPL1 saw the emulated CPUID EAX", *(volatile uint32_t *)(vmpl_data + 4), 0xAAAA0001u);
    CHECK_EQ("VMPL1 saw the emulated CPUID EBX", *(volatile uint32_t *)(vmpl_data + 12), 0xBBBB0003u);
    CHECK_EQ("grant the page R", rmpadjust(vmpl_secret, 0, snp_rmpadjust_attrs(1, RMP_READ)), 0);

    /* 4: the read completes; HLT. */
    ghcb_begin();
    CHECK_EQ("Run-VMPL 1 after the grant", ghcb_call(SNP_NAE_RUN_VMPL, 1, 0), 0);
    CHECK_EQ("VMPL1 exit: HLT", vmsa_exit(), 0x78);
    CHECK_EQ("VMPL1 read the granted page", *(volatile uint32_t *)(vmpl_data + 8), 0x5EC12E7u);
    CHECK_EQ("VMSA RIP at the HLT", *vq(VMSA_RIP), pa(vmpl_after_hlt) - 1);
    *vq(VMSA_RIP) = pa(vmpl_after_hlt);

    /* 5: W revoked, then VMPL1's write: NPF with the write bit. */
    CHECK_EQ("revoke W", rmpadjust(vmpl_data, 0, snp_rmpadjust_attrs(1, RMP_READ)), 0);
    ghcb_begin();
    CHECK_EQ("Run-VMPL 1 after the revoke", ghcb_call(SNP_NAE_RUN_VMPL, 1, 0), 0);
    CHECK_EQ("VMPL1 exit: NPF on write", vmsa_exit(), SVM_EXIT_NPF);
    CHECK_EQ("NPF GPA: the data page", *vq(VMSA_EXITINFO2), pa(vmpl_data) + 16);
    CHECK("NPF EXITINFO1: a write", *vq(VMSA_EXITINFO1) & 2);

    /* 6: Alternate Injection: VMPL0 writes EVENTINJ.  Delivering vector 0x20
     * reads VMPL1's IDT gate at GPA 0x100 (IDTR base 0, 8-byte gates), a page
     * VMPL1 may not read: NPF, with the event in EXITINTINFO for VMPL0 to
     * inject again. */
    *vq(VMSA_EVENTINJ) = 0x80000020u;   /* valid, type 0 (INTR), vector 0x20 */
    ghcb_begin();
    CHECK_EQ("Run-VMPL 1 with an injected interrupt", ghcb_call(SNP_NAE_RUN_VMPL, 1, 0), 0);
    CHECK_EQ("VMPL1 exit: NPF during delivery", vmsa_exit(), SVM_EXIT_NPF);
    CHECK_EQ("NPF GPA: IDT gate 0x20", *vq(VMSA_EXITINFO2), 0x100);
    CHECK_EQ("EXITINTINFO: the event being delivered", *vq(VMSA_EXITINTINFO) & 0x80000FFFu, 0x80000020u);
    CHECK_EQ("EVENTINJ no longer valid", *vq(VMSA_EVENTINJ) & 0x80000000u, 0);

    /* Errors: VMPL 0 and 4, a busy VMSA, and the VMSA bit cleared. */
    ghcb_begin();
    CHECK_EQ("Run-VMPL 0: error", ghcb_call(SNP_NAE_RUN_VMPL, 0, 0), GHCB_RESULT_ERROR);
    ghcb_begin();
    CHECK_EQ("Run-VMPL 4: error", ghcb_call(SNP_NAE_RUN_VMPL, 4, 0), GHCB_RESULT_ERROR);
    *vq(VMSA_VINTR_CTRL) |= VINTR_BUSY;
    ghcb_begin();
    CHECK_EQ("Run-VMPL of a busy VMSA: error", ghcb_call(SNP_NAE_RUN_VMPL, 1, 0), GHCB_RESULT_ERROR);
    *vq(VMSA_VINTR_CTRL) &= ~VINTR_BUSY;
    CHECK_EQ("clear the VMSA bit", rmpadjust(vmsa_pair[1], 0, snp_rmpadjust_attrs(1, 0)), 0);
    r = msr_protocol(ghcb_msr_vmpl_req(1));
    CHECK("Run-VMPL of a page no longer a VMSA: error", ghcb_msr_value(r) != 0);
}

/* L1's page tables with the C-bit: a 2 MiB PDE for VA 0xFFE00000 (pd3's
 * last, unused by the probe) maps RAM at 2 MiB with a bit set.  With the
 * C-bit the model reports (CPUID 0x8000001F EBX 5:0) the access reaches
 * the same RAM (the model maps GPA | 2^C to it).  Measured beside it: bit
 * 47, beyond QEMU TCG's physical-address width, is a reserved bit (#PF). */
static volatile uint64_t pf_error;
static uint64_t *pf_fix;

static void pf_handler(struct guest_frame *f)
{
    pf_error = f->error | 1ull << 63;
    *pf_fix = 0x200000 | 0x83;   /* the same RAM without the bit: the access is retried */
    __asm__ volatile("invlpg (%0)" :: "r"(0xFFE00000ull) : "memory");
}

/* Read VA 0xFFE00000 through a PDE for RAM at 2 MiB with `bit` set; 0 if it faulted. */
static uint64_t read_with_pde_bit(uint64_t *pde, unsigned bit)
{
    pf_error = 0;
    *pde = 0x200000 | 0x83 | 1ull << bit;
    __asm__ volatile("invlpg (%0)" :: "r"(0xFFE00000ull) : "memory");
    return *(volatile uint64_t *)0xFFE00000ull;
}

static void check_cbit_in_page_tables(void)
{
    uint32_t c[4];
    cpuid(0x80000008u, 0, c);
    unsigned phys_bits = c[0] & 0xFF;
    cpuid(0x8000001Fu, 0, c);
    unsigned cbit = c[1] & 0x3F;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xFFFull);
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0x000FFFFFFFFFF000ull);
    uint64_t *pd3 = (uint64_t *)(uintptr_t)(pdpt[3] & 0x000FFFFFFFFFF000ull);
    uint64_t saved = pd3[511];
    *(volatile uint64_t *)0x200000 = 0xC0B17C0B17ull;
    pf_fix = &pd3[511];
    idt_set_handler(14, pf_handler);
    uint64_t v = read_with_pde_bit(&pd3[511], cbit);
    CHECK("C-bit below the physical-address width", cbit < phys_bits);
    CHECK_EQ("a PDE with the C-bit: no #PF", pf_error, 0);
    CHECK_EQ("a PDE with the C-bit: the same RAM", v, 0xC0B17C0B17ull);
    read_with_pde_bit(&pd3[511], 47);
    guest_printf("probe: CPUID 80000008: %u physical-address bits; a PDE with bit 47: %s, error 0x%llx\n",
                 phys_bits, pf_error ? "#PF" : "no fault", (unsigned long long)(pf_error & 0xFF));
    if (phys_bits < 48)
        CHECK("bit 47 in a PDE: reserved-bit #PF (error bit 3)", pf_error & 8);
    pd3[511] = saved;
    __asm__ volatile("invlpg (%0)" :: "r"(0xFFE00000ull) : "memory");
    idt_set_handler(14, NULL);
}

int guest_main(unsigned cpu, uint32_t multiboot_info)
{
    (void)cpu;
    (void)multiboot_info;
    idt_init();
    idt_set_handler(SNP_VC_VECTOR, vc_handler);
    ghcb_setup();
    outb(0x21, 0xFF);   /* mask the PIC: no interrupt ends a Run-VMPL early */
    outb(0xA1, 0xFF);
    guest_print("probe: hello through the GHCB (#VC IOIO)\n");
    check_msr_protocol();
    check_vc();
    check_ghcb_errors();
    check_pvalidate();
    check_psc();
    check_rmpadjust();
    check_hostile();
    check_run_vmpl();
    check_cbit_in_page_tables();
    return guest_finish();
}
