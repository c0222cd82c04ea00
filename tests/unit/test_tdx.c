/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for microkernel/virt/tdx_abi.h, the TDX-partitioning encoders
 * and decoders.  Every expected value comes from a source named beside it:
 *   TDXM      intel/tdx-module, tag TDX_1.5.01 (branch tdx_1.5, commit 72d8cff),
 *   TDP       intel-staging/td-partitioning-svsm (kernel/src/tdx/utils.rs),
 *   Linux     torvalds/linux arch/x86 (file and function named),
 *   SDM       Intel SDM vol. 3C (table named by title; the numbers are the
 *             2023 edition's),
 *   reference shared/reference/tdx-snp-backends.md, section A<n>.
 * Those are the specification as read, not silicon: a misreading shared by
 * the source and this file would pass.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virt/tdx_abi.h"

/* ---- TDCALL leaves and TDG.VP.VMCALL sub-functions ---------------------- */

START_TEST(test_leaf_numbers)
{
    /* TDXM include/tdx_api_defs.h, enum tdcall_leaf_opcode_e. */
    ck_assert_int_eq(TDG_VP_VMCALL, 0);         /* TDG_VP_VMCALL_LEAF = 0 */
    ck_assert_int_eq(TDG_VP_INFO, 1);           /* TDG_VP_INFO_LEAF = 1; Linux asm/shared/tdx.h TDX_GET_INFO 1 */
    ck_assert_int_eq(TDG_MR_RTMR_EXTEND, 2);    /* TDG_MR_RTMR_EXTEND_LEAF = 2; Linux coco/tdx/tdx.c
                                                 * tdx_mcall_extend_rtmr() uses TDG_MR_RTMR_EXTEND 2 */
    ck_assert_int_eq(TDG_VP_VEINFO_GET, 3);     /* TDG_VP_VEINFO_GET_LEAF = 3; Linux TDX_GET_VEINFO 3 */
    ck_assert_int_eq(TDG_MEM_PAGE_ACCEPT, 6);   /* TDG_MEM_PAGE_ACCEPT_LEAF = 6; Linux TDX_ACCEPT_PAGE 6 */
    ck_assert_int_eq(TDG_VM_RD, 7);             /* TDG_VM_RD_LEAF = 7 */
    ck_assert_int_eq(TDG_VM_WR, 8);             /* TDG_VM_WR_LEAF = 8; Linux TDX_WR 8 */
    ck_assert_int_eq(TDG_VP_RD, 9);             /* TDG_VP_RD_LEAF = 9 */
    ck_assert_int_eq(TDG_VP_WR, 10);            /* TDG_VP_WR_LEAF = 10 */
    ck_assert_int_eq(TDG_MEM_PAGE_ATTR_RD, 23); /* TDG_MEM_PAGE_ATTR_RD_LEAF = 23 */
    ck_assert_int_eq(TDG_MEM_PAGE_ATTR_WR, 24); /* TDG_MEM_PAGE_ATTR_WR_LEAF = 24 */
    ck_assert_int_eq(TDG_VP_ENTER, 25);         /* TDG_VP_ENTER_LEAF = 25 */
    ck_assert_int_eq(TDG_VP_INVEPT, 26);        /* TDG_VP_INVEPT_LEAF = 26 */
}
END_TEST

START_TEST(test_rtmr_extend_args)
{
    /* TDXM td_dispatcher/vm_exits/tdg_mr_rtmr_extend.c tdg_mr_rtmr_extend(
     * extension_data_gpa = RCX, index = RDX): "Verify GPA is aligned"
     * is_addr_aligned_pwr_of_2(gpa, 64), then index >= NUM_RTMRS (4) is
     * TDX_OPERAND_INVALID on RDX.  Linux coco/tdx/tdx.c tdx_mcall_extend_rtmr():
     * .rcx = virt_to_phys(data), .rdx = index, leaf TDG_MR_RTMR_EXTEND 2. */
    uint64_t r[16];
    memset(r, 0xAA, sizeof(r));
    ck_assert(tdx_rtmr_extend_args(0x123440, 2, r));
    ck_assert_uint_eq(r[COPRA_RAX], 2);
    ck_assert_uint_eq(r[COPRA_RCX], 0x123440);
    ck_assert_uint_eq(r[COPRA_RDX], 2);
    ck_assert_uint_eq(r[COPRA_R8], 0xAAAAAAAAAAAAAAAAull);   /* nothing else is an input */
    ck_assert(tdx_rtmr_extend_args(0x1000, 3, r));
    ck_assert(tdx_rtmr_extend_args(0x1000, 0, r));
    ck_assert(!tdx_rtmr_extend_args(0x123420, 2, r));   /* 32-byte aligned only */
    ck_assert(!tdx_rtmr_extend_args(0x123441, 2, r));
    ck_assert(!tdx_rtmr_extend_args(0x1000, 4, r));     /* NUM_RTMRS = 4 */
    ck_assert_int_eq(TDX_NUM_RTMRS, 4);
    ck_assert_int_eq(TDX_RTMR_DATA_ALIGN, 64);
    /* UEFI 2.10 §38.4.1 (as quoted in systemd's EFI_CC_MEASUREMENT_PROTOCOL
     * commit): RTMR[0] = PCR 1,7, RTMR[1] = PCR 2-6, RTMR[2] = PCR 8-15 (the
     * OS), RTMR[3] reserved for special usage. */
    ck_assert_int_eq(TDX_RTMR_OS, 2);
}
END_TEST

START_TEST(test_vmcall_subfunctions)
{
    /* Linux asm/shared/tdx.h hcall_func(): "matched 1:1 with VMX EXIT_REASONs";
     * Linux uapi/asm/vmx.h EXIT_REASON_CPUID 10, _HLT 12, _IO_INSTRUCTION 30,
     * _MSR_READ 31, _MSR_WRITE 32. */
    ck_assert_int_eq(TDVMCALL_CPUID, 10);
    ck_assert_int_eq(TDVMCALL_HLT, 12);
    ck_assert_int_eq(TDVMCALL_IO, 30);
    ck_assert_int_eq(TDVMCALL_RDMSR, 31);
    ck_assert_int_eq(TDVMCALL_WRMSR, 32);
    ck_assert_int_eq(TDVMCALL_CPUID, VMX_REASON_CPUID);
    ck_assert_int_eq(TDVMCALL_HLT, VMX_REASON_HLT);
    ck_assert_int_eq(TDVMCALL_IO, VMX_REASON_IO);
    ck_assert_int_eq(TDVMCALL_RDMSR, VMX_REASON_RDMSR);
    ck_assert_int_eq(TDVMCALL_WRMSR, VMX_REASON_WRMSR);
    /* Linux asm/shared/tdx.h: TDVMCALL_MAP_GPA 0x10001, TDVMCALL_REPORT_FATAL_ERROR
     * 0x10003, TDVMCALL_STATUS_RETRY 1. */
    ck_assert_int_eq(TDVMCALL_MAP_GPA, 0x10001);
    ck_assert_int_eq(TDVMCALL_REPORT_FATAL_ERROR, 0x10003);
    ck_assert_int_eq(TDVMCALL_STATUS_RETRY, 1);
}
END_TEST

START_TEST(test_status_codes)
{
    /* TDXM include/auto_gen/tdx_error_codes_defs.h. */
    ck_assert_uint_eq(TDX_PAGE_ALREADY_ACCEPTED, 0x00000B0A00000000ull);
    ck_assert_uint_eq(TDX_L2_EXIT_HOST_ROUTED_ASYNC, 0x0000110000000000ull);
    ck_assert_uint_eq(TDX_L2_EXIT_HOST_ROUTED_TDVMCALL, 0x0000110100000000ull);
    ck_assert_uint_eq(TDX_L2_EXIT_PENDING_INTERRUPT, 0x0000110200000000ull);
    ck_assert_uint_eq(TDX_PENDING_INTERRUPT, 0x0000112000000000ull);
}
END_TEST

START_TEST(test_shared_bit)
{
    /* Linux coco/tdx/tdx.c tdx_parse_tdinfo(): gpa_width = RCX & GENMASK(5, 0),
     * cc_mask = BIT_ULL(gpa_width - 1); GPAW is 48 or 52. */
    ck_assert_uint_eq(tdx_shared_bit(52), 1ull << 51);
    ck_assert_uint_eq(tdx_shared_bit(48), 1ull << 47);
    ck_assert_uint_eq(tdx_shared_bit(0xFFFFFFFFFFFFFF00ull | 52), 1ull << 51);   /* only bits 5:0 */
}
END_TEST

/* ---- metadata field ids --------------------------------------------------- */

START_TEST(test_field_id_reference_examples)
{
    /* reference A7 (TDP vmcs_lib.rs via utils.rs build_tdg_field()): VM 1
     * GUEST_CR0 read 0x2420000300006800, write 0x2428000300006800. */
    ck_assert_uint_eq(tdx_vmcs_field_id(1, VMCS_GUEST_CR0, false), 0x2420000300006800ull);
    ck_assert_uint_eq(tdx_vmcs_field_id(1, VMCS_GUEST_CR0, true), 0x2428000300006800ull);
    /* TDXM tdvps_fields_lookup.h: MD_TDVPS_VMCS_2_CLASS_CODE 44, _3_ 52. */
    ck_assert_uint_eq(tdx_vmcs_field_id(2, VMCS_GUEST_CR0, false), 0x2C20000300006800ull);
    ck_assert_uint_eq(tdx_vmcs_field_id(3, VMCS_GUEST_CR0, false), 0x3420000300006800ull);
    /* TDXM tdr_tdcs_fields_lookup.h MD_TDCS_NUM_L2_VMS_FIELD_ID; reference A2. */
    ck_assert_uint_eq(MD_TDCS_NUM_L2_VMS, 0x9010000100000005ull);
    /* TDXM tdvps_fields_lookup.h MD_TDVPS_L2_CTLS_FIELD_ID 0xA020000300000050, an
     * array of 4 fields (tdvps_fields_lookup.c "L2_CTLS", num_of_fields = 4)
     * indexed by VM; reference A7 "+ vm". */
    ck_assert_uint_eq(MD_TDVPS_L2_CTLS(0), 0xA020000300000050ull);
    ck_assert_uint_eq(MD_TDVPS_L2_CTLS(1), 0xA020000300000051ull);
    ck_assert_uint_eq(MD_TDVPS_L2_CTLS(3), 0xA020000300000053ull);
    /* TDXM tdvps_fields_lookup.c "L2_MSR_BITMAPS_1" 0x2520000300000000, 512 fields;
     * MD_TDVPS_MSR_BITMAPS_2/3_CLASS_CODE 45/53; TDP TdVpsPerVmClass::code(). */
    ck_assert_uint_eq(tdx_msr_bitmap_field_id(1, 0, false), 0x2520000300000000ull);
    ck_assert_uint_eq(tdx_msr_bitmap_field_id(2, 511, false), 0x2D200003000001FFull);
    ck_assert_uint_eq(tdx_msr_bitmap_field_id(3, 17, true), 0x3528000300000011ull);
}
END_TEST

/* The MSR bitmap (SDM vol. 3C 25.6.9 "MSR-Bitmap Address"): bytes 0-1023
 * read low (MSR n: bit n), 1024-2047 read high (0xC0000000 + n), 2048-3071
 * write low, 3072-4095 write high; as the 512 qwords TDG.VP.WR writes. */
START_TEST(test_msr_bitmap)
{
    static const uint32_t pass[] = { 0x174, 0xC0000082, 0xC0000102 };
    for (unsigned q = 0; q < 512; q++) {
        uint64_t v = tdx_msr_bitmap_qword(q, pass, 3);
        if (q == 5 || q == 256 + 5)   /* 0x174 = 372 = 5 * 64 + 52: read low, write low */
            ck_assert_uint_eq(v, ~(1ull << 52));
        else if (q == 128 + 2 || q == 384 + 2)   /* LSTAR: bit 0x82 = 2 * 64 + 2 of the high halves */
            ck_assert_uint_eq(v, ~(1ull << 2));
        else if (q == 128 + 4 || q == 384 + 4)   /* KERNEL_GS_BASE: 0x102 = 4 * 64 + 2 */
            ck_assert_uint_eq(v, ~(1ull << 2));
        else
            ck_assert_uint_eq(v, ~0ull);
    }
    /* Two MSRs in one qword: STAR 0xC0000081 and LSTAR. */
    static const uint32_t two[] = { 0xC0000081, 0xC0000082 };
    ck_assert_uint_eq(tdx_msr_bitmap_qword(128 + 2, two, 2), ~(3ull << 1));
    ck_assert_uint_eq(tdx_msr_bitmap_qword(2, two, 2), ~0ull);   /* not MSRs 0x81/0x82 */
}
END_TEST

/* TDXM include/auto_gen/td_l2_vmcs_fields_lookup.c: the module's table of L2
 * VMCS fields (class 0 there, context 2, inc_size bit 50 set, element size
 * per field).  TDG.VP.RD/WR finds an entry by code and refuses a different
 * element size (metadata_generic.c md_check_field_and_get_entry()). */
static const struct { uint32_t encoding; uint64_t tdxm_id; const char *name; } l2_vmcs[] = {
    { VMCS_GUEST_SEL + 0,  0x0024000100000800ull, "Guest ES selector" },
    { VMCS_GUEST_SEL + 2,  0x0024000100000802ull, "Guest CS selector" },
    { VMCS_GUEST_SEL + 14, 0x002400010000080Eull, "Guest TR selector" },
    { VMCS_VIRTUAL_APIC,   0x0024000300002012ull, "Virtual-APIC address" },
    { VMCS_GUEST_PAT,      0x0024000300002804ull, "IA32_PAT" },
    { VMCS_GUEST_EFER,     0x0024000300002806ull, "IA32_EFER" },
    { VMCS_PROC_CTLS,      0x0024000200004002ull, "Primary Processor-Based VM-Exection Controls" },
    { VMCS_EXCEPTION_BITMAP, 0x0024000200004004ull, "Exception Bitmap" },
    { VMCS_ENTRY_INTR_INFO, 0x0024000200004016ull, "VM-entry interruption information" },
    { VMCS_ENTRY_ERROR_CODE, 0x0024000200004018ull, "VM-entry exception error code" },
    { VMCS_ENTRY_INSN_LEN, 0x002400020000401Aull, "VM-entry instruction length" },
    { VMCS_IDT_VECTORING_INFO, 0x0024000200004408ull, "IDT-vectoring information" },
    { VMCS_IDT_VECTORING_ERROR, 0x002400020000440Aull, "IDT-vectoring error code" },
    { VMCS_GUEST_LIMIT + 0, 0x0024000200004800ull, "Guest ES limit" },
    { VMCS_GUEST_LIMIT + 14, 0x002400020000480Eull, "Guest TR limit" },
    { VMCS_GUEST_GDTR_LIMIT, 0x0024000200004810ull, "Guest GDTR limit" },
    { VMCS_GUEST_IDTR_LIMIT, 0x0024000200004812ull, "Guest IDTR limit" },
    { VMCS_GUEST_AR + 0,   0x0024000200004814ull, "Guest ES access rights" },
    { VMCS_GUEST_AR + 2,   0x0024000200004816ull, "Guest CS access rights" },
    { VMCS_GUEST_AR + 14,  0x0024000200004822ull, "Guest TR access rights" },
    { VMCS_INTERRUPTIBILITY, 0x0024000200004824ull, "Interruptibility State" },
    { VMCS_ACTIVITY,       0x0024000200004826ull, "Activity State" },
    { VMCS_GUEST_SYSENTER_CS, 0x002400020000482Aull, "IA32_SYSENTER_CS" },
    { VMCS_CR0_MASK,       0x0024000300006000ull, "CR0 Guest/Host Mask" },
    { VMCS_CR4_MASK,       0x0024000300006002ull, "CR4 Guest/Host Mask" },
    { VMCS_CR0_SHADOW,     0x0024000300006004ull, "CR0 Read Shadow" },
    { VMCS_CR4_SHADOW,     0x0024000300006006ull, "CR4 Read Shadow" },
    { VMCS_GUEST_CR0,      0x0024000300006800ull, "Guest CR0" },
    { VMCS_GUEST_CR3,      0x0024000300006802ull, "Guest CR3" },
    { VMCS_GUEST_CR4,      0x0024000300006804ull, "Guest CR4" },
    { VMCS_GUEST_BASE + 0, 0x0024000300006806ull, "Guest ES base" },
    { VMCS_GUEST_BASE + 14, 0x0024000300006814ull, "Guest TR base" },
    { VMCS_GUEST_GDTR_BASE, 0x0024000300006816ull, "Guest GDTR base" },
    { VMCS_GUEST_IDTR_BASE, 0x0024000300006818ull, "Guest IDTR base" },
    { VMCS_GUEST_DR7,      0x002400030000681Aull, "Guest DR7" },
    { VMCS_GUEST_SYSENTER_ESP, 0x0024000300006824ull, "IA32_SYSENTER_ESP" },
    { VMCS_GUEST_SYSENTER_EIP, 0x0024000300006826ull, "IA32_SYSENTER_EIP" },
};

static uint64_t expected_id(uint64_t tdxm_id, unsigned vm, bool write)
{
    /* The lookup entry with bit 50 (inc_size, ignored for single fields:
     * md_check_as_single_element_id()) cleared and the VM's class set. */
    return (tdxm_id & ~(1ull << 50)) | (uint64_t)(36 + 8 * (vm - 1)) << 56 | (uint64_t)write << 51;
}

START_TEST(test_vmcs_field_ids_match_module_table)
{
    for (size_t i = 0; i < sizeof(l2_vmcs) / sizeof(l2_vmcs[0]); i++) {
        /* The encoding itself: the table's field code (= SDM appendix B). */
        ck_assert_msg(l2_vmcs[i].encoding == (uint32_t)(l2_vmcs[i].tdxm_id & 0xFFFFFF), "%s encoding",
                      l2_vmcs[i].name);
        for (unsigned vm = 1; vm <= 3; vm++)
            for (int w = 0; w <= 1; w++)
                ck_assert_msg(tdx_vmcs_field_id(vm, l2_vmcs[i].encoding, w) == expected_id(l2_vmcs[i].tdxm_id, vm, w),
                              "%s vm %u write %d: %#llx", l2_vmcs[i].name, vm, w,
                              (unsigned long long)tdx_vmcs_field_id(vm, l2_vmcs[i].encoding, w));
    }
}
END_TEST

START_TEST(test_field_id_layout)
{
    /* TDXM tdx_api_defs.h md_field_id_t: field_code 23:0, element_size_code
     * 33:32, write_mask_valid 51, context_code 54:52, class_code 61:56; the
     * other bits (reserved, last_element/last_field, non_arch) stay 0. */
    uint64_t id = tdx_md_field_id(0x3F, 3, 0xFFFFFF, true);
    ck_assert_uint_eq(id, 0x3F28000300FFFFFFull);
    ck_assert_uint_eq(tdx_md_field_id(0, 0, 0, false), 2ull << 52);   /* MD_CTX_VP = 2 */
    for (uint32_t enc = 0; enc < 0x8000; enc += 2) {
        uint64_t f = tdx_vmcs_field_id(1, enc, false);
        unsigned width = (enc >> 13) & 3;   /* SDM appendix B: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural */
        unsigned size = (unsigned)(f >> 32) & 3;
        ck_assert_uint_eq(f & 0xFFFFFF, enc);
        ck_assert_uint_eq(size, width == 0 ? 1u : width == 2 ? 2u : 3u);   /* TDP field_elem_size() */
        ck_assert_uint_eq(f & ~(0xFFFFFFull | 3ull << 32), 0x2420000000000000ull);
    }
}
END_TEST

/* ---- Copra state ids -> VMCS fields ------------------------------------- */

START_TEST(test_state_fields)
{
    /* TDXM src/common/x86_defs/vmcs_defs.h VMX_GUEST_*_ENCODE. */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_CR0), 0x6800);           /* VMX_GUEST_CR0_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_CR3), 0x6802);           /* VMX_GUEST_CR3_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_CR4), 0x6804);           /* VMX_GUEST_CR4_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_EFER), 0x2806);          /* VMX_GUEST_IA32_EFER_FULL_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_PAT), 0x2804);           /* VMX_GUEST_IA32_PAT_FULL_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_DR7), 0x681A);           /* VMX_GUEST_DR7_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_GDTR_BASE), 0x6816);     /* VMX_GUEST_GDTR_BASE_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_GDTR_LIMIT), 0x4810);    /* VMX_GUEST_GDTR_LIMIT_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_IDTR_BASE), 0x6818);     /* VMX_GUEST_IDTR_BASE_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_IDTR_LIMIT), 0x4812);    /* VMX_GUEST_IDTR_LIMIT_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_SYSENTER_CS), 0x482A);   /* VMX_GUEST_IA32_SYSENTER_CS_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_SYSENTER_ESP), 0x6824);  /* VMX_GUEST_IA32_SYSENTER_ESP_ENCODE */
    ck_assert_uint_eq(tdx_state_field(COPRA_STATE_SYSENTER_EIP), 0x6826);  /* VMX_GUEST_IA32_SYSENTER_EIP_ENCODE */

    /* VMX_GUEST_<seg>_{SELECTOR,BASE,LIMIT,ARBYTE}_ENCODE, in enum copra_segment
     * and enum copra_segment_field order. */
    static const uint32_t seg[8][4] = {
        { 0x0800, 0x6806, 0x4800, 0x4814 },   /* ES */
        { 0x0802, 0x6808, 0x4802, 0x4816 },   /* CS */
        { 0x0804, 0x680A, 0x4804, 0x4818 },   /* SS */
        { 0x0806, 0x680C, 0x4806, 0x481A },   /* DS */
        { 0x0808, 0x680E, 0x4808, 0x481C },   /* FS */
        { 0x080A, 0x6810, 0x480A, 0x481E },   /* GS */
        { 0x080C, 0x6812, 0x480C, 0x4820 },   /* LDTR */
        { 0x080E, 0x6814, 0x480E, 0x4822 },   /* TR */
    };
    for (unsigned s = 0; s < 8; s++)
        for (unsigned f = 0; f < 4; f++)
            ck_assert_msg(tdx_state_field(COPRA_STATE_SEG(s, f)) == seg[s][f], "segment %u field %u", s, f);

    /* Not VMCS fields: GPRs, RIP, RFLAGS are in the guest-state buffer
     * (reference A4); the syscall MSRs and CR2 are not swapped by the module
     * (reference A7); events, CR8, DR0-DR6, XCR0, TSC and MP state need the
     * backend.  Out of range gives 0 too. */
    static const unsigned none[] = {
        COPRA_STATE_GPR0, COPRA_STATE_GPR0 + COPRA_RSP, COPRA_STATE_GPR0 + COPRA_R15, COPRA_STATE_RIP,
        COPRA_STATE_RFLAGS, COPRA_STATE_CR2, COPRA_STATE_STAR, COPRA_STATE_LSTAR, COPRA_STATE_CSTAR,
        COPRA_STATE_SFMASK, COPRA_STATE_KERNEL_GS_BASE, COPRA_STATE_PENDING_EVENT, COPRA_STATE_CR8,
        COPRA_STATE_DR0, COPRA_STATE_DR6, COPRA_STATE_XCR0, COPRA_STATE_TSC_OFFSET, COPRA_STATE_TSC_AUX,
        COPRA_STATE_MP_STATE, COPRA_STATE_COUNT, COPRA_STATE_COUNT + 1, 0xFFFFFFFFu,
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        ck_assert_msg(tdx_state_field(none[i]) == 0, "state %u", none[i]);

    /* Every field the table names is one the module lets TDG.VP.RD/WR reach. */
    for (unsigned id = 0; id < COPRA_STATE_COUNT; id++) {
        uint32_t enc = tdx_state_field(id);
        bool found = enc == 0;
        for (size_t i = 0; i < sizeof(l2_vmcs) / sizeof(l2_vmcs[0]) && !found; i++)
            found = (l2_vmcs[i].tdxm_id & 0xFFFFFF) == enc;
        for (unsigned s = 0; s < 8 && !found; s++)
            for (unsigned f = 0; f < 4; f++)
                found |= seg[s][f] == enc;
        ck_assert_msg(found, "state %u -> %#x", id, enc);
    }
}
END_TEST

START_TEST(test_platform_limits)
{
    /* TDXM tdx_tdvps.h MAX_VMS 4, MAX_L2_VMS (MAX_VMS-1); reference A2. */
    ck_assert_int_eq(TDX_MAX_VMS, 3);
    /* Every kind but LTR, and NO_ENTRY is not a kind a platform lists. */
    ck_assert(!(TDX_EXIT_KINDS & (1u << VMX_LTR)));
    ck_assert(!(TDX_EXIT_KINDS & (1u << VMX_NO_ENTRY)));
    for (unsigned k = 0; k < COPRA_EXIT_KINDS; k++)
        ck_assert(k == VMX_LTR || (TDX_EXIT_KINDS & (1u << k)));
}
END_TEST

START_TEST(test_control_bits)
{
    /* Linux arch/x86/include/asm/vmx.h: CPU_BASED_INTR_WINDOW_EXITING 0x4 (formerly
     * CPU_BASED_VIRTUAL_INTR_PENDING);
     * GUEST_INTR_STATE_STI 1, _MOV_SS 2, _NMI 8 (SDM "Format of Interruptibility
     * State"); reference A8: request_window sets bit 2 of 0x4002. */
    ck_assert_uint_eq(VMCS_PROC_INTR_WINDOW, 0x4);
    ck_assert_int_eq(VMCS_BLOCK_STI, 1);
    ck_assert_int_eq(VMCS_BLOCK_MOV_SS, 2);
    ck_assert_int_eq(VMCS_BLOCK_NMI, 8);
    /* reference A4/A8: virtual-APIC address 0x2012, VM-entry fields 0x4016/18/1A,
     * interruptibility 0x4824, activity 0x4826 (TDXM vmcs_defs.h agrees, see
     * test_vmcs_field_ids_match_module_table). */
    ck_assert_int_eq(VMCS_VIRTUAL_APIC, 0x2012);
    ck_assert_int_eq(VMCS_ENTRY_INTR_INFO, 0x4016);
    ck_assert_int_eq(VMCS_ENTRY_ERROR_CODE, 0x4018);
    ck_assert_int_eq(VMCS_ENTRY_INSN_LEN, 0x401A);
    ck_assert_int_eq(VMCS_INTERRUPTIBILITY, 0x4824);
    ck_assert_int_eq(VMCS_ACTIVITY, 0x4826);
    ck_assert_int_eq(VMCS_PROC_CTLS, 0x4002);
}
END_TEST

/* ---- segment attributes ---------------------------------------------------- */

START_TEST(test_segment_attributes)
{
    /* reference A7 (OpenHCL virt_seg_to_snp/virt_seg_from_snp): VMX AR bits
     * 15:12 = VMCB attribute bits 11:8; Linux asm/vmx.h AR_UNUSABLE_MASK
     * (1 << 16), AR_P_MASK (1 << 7), AR_L_MASK (1 << 13), AR_G_MASK (1 << 15). */
    ck_assert_uint_eq(tdx_ar_from_attr(0xA9B), 0xA09B);    /* 64-bit code: G, L, P, S, type 0xB */
    ck_assert_uint_eq(tdx_attr_from_ar(0xA09B), 0xA9B);
    ck_assert_uint_eq(tdx_ar_from_attr(0xC93), 0xC093);    /* flat 32-bit data: G, D/B, P, S, type 3 */
    ck_assert_uint_eq(tdx_attr_from_ar(0xC093), 0xC93);
    ck_assert_uint_eq(tdx_ar_from_attr(0x8B), 0x8B);       /* busy 32-bit TSS */
    ck_assert_uint_eq(tdx_ar_from_attr(0x9B), 0x9B);       /* real-mode CS */
    /* Not present -> unusable, other bits kept (KVM vmx.c
     * vmx_segment_access_rights(): ar |= (unusable || !present) << 16). */
    ck_assert_uint_eq(tdx_ar_from_attr(0), VMX_AR_UNUSABLE);
    ck_assert_uint_eq(tdx_ar_from_attr(0x60), 0x10060);    /* null SS at CPL 3: DPL survives */
    /* Unusable -> not present (KVM vmx.c vmx_get_segment(): present = !unusable),
     * whatever P the CPU left; usable -> present. */
    ck_assert_uint_eq(tdx_attr_from_ar(0x1C093), 0xC13);
    ck_assert_uint_eq(tdx_attr_from_ar(0x10000), 0);
    ck_assert_uint_eq(tdx_attr_from_ar(0x10060), 0x60);
    /* Every 12-bit attribute survives the round trip. */
    for (uint32_t a = 0; a < 0x1000; a++) {
        uint32_t ar = tdx_ar_from_attr(a);
        ck_assert_uint_eq(tdx_attr_from_ar(ar), a);
        ck_assert_uint_eq(ar & 0xFFFE0F00u, 0);   /* Linux AR_RESERVD_MASK 0xfffe0f00 */
        ck_assert_uint_eq(!!(ar & VMX_AR_UNUSABLE), !(ar & 0x80));
    }
}
END_TEST

/* ---- events ----------------------------------------------------------------- */

START_TEST(test_event_encoding)
{
    /* Linux asm/vmx.h: INTR_INFO_VALID_MASK 0x80000000, INTR_INFO_DELIVER_CODE_MASK
     * 0x800, INTR_TYPE_EXT_INTR 0 << 8, _NMI_INTR 2 << 8, _HARD_EXCEPTION 3 << 8,
     * _SOFT_INTR 4 << 8; reference A8. */
    uint64_t nmi = COPRA_EVENT_VALID | COPRA_EVENT_TYPE_NMI | 2;
    ck_assert_uint_eq(tdx_entry_info(nmi), 0x80000202u);
    ck_assert_uint_eq(tdx_entry_error(nmi), 0);
    uint64_t gp = COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC | COPRA_EVENT_ERROR_CODE | 13 | 0x10ull << 32;
    ck_assert_uint_eq(tdx_entry_info(gp), 0x80000B0Du);
    ck_assert_uint_eq(tdx_entry_error(gp), 0x10);
    ck_assert_uint_eq(tdx_entry_info(COPRA_EVENT_VALID | COPRA_EVENT_TYPE_INTR | 0x30), 0x80000030u);
    ck_assert_uint_eq(tdx_entry_info(COPRA_EVENT_VALID | (4ull << 8) | 0x80), 0x80000480u);   /* INTn 0x80 */
    /* Bits 30:12 are reserved in the VM-entry field (SDM "Format of the VM-Entry
     * Interruption-Information Field"; VM entry fails on them). */
    ck_assert_uint_eq(tdx_entry_info(COPRA_EVENT_VALID | 0x7FFFF000ull | 0x30), 0x80000030u);

    /* Back from IDT-vectoring information + error code (TDXM vmcs_defs.h
     * vm_vmexit_interruption_info_t: vector 7:0, type 10:8, error_code_valid 11,
     * nmi_unblocking 12, valid 31). */
    ck_assert_uint_eq(tdx_event_of(0x80000B0E, 0x2), COPRA_EVENT_VALID | COPRA_EVENT_TYPE_EXC |
                                                     COPRA_EVENT_ERROR_CODE | 14 | 2ull << 32);   /* #PF */
    ck_assert_uint_eq(tdx_event_of(0x80000030, 0xDEAD), COPRA_EVENT_VALID | 0x30);   /* no EC bit: no EC */
    ck_assert_uint_eq(tdx_event_of(0x0000030E, 0x2), 0);                             /* not valid */
    ck_assert_uint_eq(tdx_event_of(0x80001202, 0), COPRA_EVENT_VALID | COPRA_EVENT_TYPE_NMI | 2);   /* bit 12 */
    /* Re-injection straight from R10: TDXM td_exit.c td_l2_to_l1_exit_internal()
     * r10 = idt_vectoring_err << 32 | idt_vectoring_info; bit 12 of the
     * IDT-vectoring field is undefined (SDM "Format of the IDT-Vectoring
     * Information Field") and reserved on entry. */
    uint64_t r10 = 0x0000000480001B0Eull;   /* #PF, error code 4, bit 12 set */
    ck_assert_uint_eq(tdx_entry_info(r10), 0x80000B0Eu);
    ck_assert_uint_eq(tdx_entry_error(r10), 4);
    ck_assert_uint_eq(tdx_entry_info(0x00000000000000EEull) & COPRA_EVENT_VALID, 0);   /* nothing pending */
    /* Every event ctrlreg.c's event_valid() accepts goes there and back. */
    static const unsigned types[] = { 0, 2, 3, 4 };
    for (unsigned t = 0; t < 4; t++)
        for (unsigned v = 0; v < 256; v++) {
            uint64_t e = COPRA_EVENT_VALID | (uint64_t)types[t] << 8 | v;
            if (types[t] == 3)
                e |= COPRA_EVENT_ERROR_CODE | (uint64_t)(v * 0x01010101u) << 32;
            ck_assert_uint_eq(tdx_event_of(tdx_entry_info(e), tdx_entry_error(e)), e);
        }
}
END_TEST

/* ---- GPA attributes for TDG.MEM.PAGE.ATTR.WR --------------------------------- */

/* TDXM helpers.h is_gpa_attr_legal(): Valid 0 -> all 0; no reserved 14:8; W
 * needs R; PWA needs R; no SVE.  And tdx_api_defs.h GUEST_L2_GPA_ATTR_MASK
 * (BITS(6,0) | BIT(15)): what L1 may set. */
static bool module_accepts(uint16_t a)
{
    bool valid = a & 0x8000, r = a & 1, w = a & 2, pwa = a & 0x20, sve = a & 0x80;
    return !((!valid && a) || (a & 0x7F00) || (w && !r) || (pwa && !r) || sve) && !(a & ~0x807Fu);
}

START_TEST(test_gpa_attributes)
{
    /* TDXM tdx_api_defs.h gpa_attr_single_vm_t: r 0, w 1, xs 2, xu 3, valid 15. */
    ck_assert_uint_eq(tdx_gpa_attr(COPRA_GUEST_R | COPRA_GUEST_W | COPRA_GUEST_X), 0x800F);
    ck_assert_uint_eq(tdx_gpa_attr(COPRA_GUEST_R), 0x8001);
    ck_assert_uint_eq(tdx_gpa_attr(COPRA_GUEST_R | COPRA_GUEST_W), 0x8003);
    ck_assert_uint_eq(tdx_gpa_attr(COPRA_GUEST_R | COPRA_GUEST_X), 0x800D);
    ck_assert_uint_eq(tdx_gpa_attr(COPRA_GUEST_X), 0x800C);   /* execute-only: legal for the module */
    ck_assert_int_eq(TDX_ATTR_FLAG_INVEPT, 1 << 15);
    /* Valid with no R/W/X removes the alias (reference A6; TDXM
     * tdg_mem_page_attr_wr.c "Remove the L2 alias" when !is_gpa_attr_present). */
    ck_assert_uint_eq(tdx_gpa_attr(0), 0x8000);
    for (uint32_t prot = 0; prot < 8; prot++)
        if ((prot & COPRA_GUEST_R) || !(prot & COPRA_GUEST_W))
            ck_assert_msg(module_accepts(tdx_gpa_attr(prot)), "prot %u", prot);
    ck_assert(!module_accepts(tdx_gpa_attr(COPRA_GUEST_W)));   /* W without R: TDX_PAGE_ATTR_INVALID */

    /* RDX = gpa_attr_t attr_arr[4] (u16 per VM 0-3); VM 0's word stays 0
     * (tdg_mem_page_attr_wr() input check, OPERAND_ID_RDX). */
    ck_assert_uint_eq(tdx_attr_rdx(1, 0x8003), 0x0000000080030000ull);
    ck_assert_uint_eq(tdx_attr_rdx(2, 0x8003), 0x0000800300000000ull);
    ck_assert_uint_eq(tdx_attr_rdx(3, 0x800F), 0x800F000000000000ull);
    /* R8 = attr_flags_t: per VM u16, mask of the attribute bits to write in
     * 14:0 (tdg_mem_page_attr_wr.c uses attr_flags.gpa_attr as attr_mask),
     * do_invept bit 15 (tdx_tdvps.h vm_arr[].do_invept after reserved:15). */
    ck_assert_uint_eq(tdx_attr_r8(1, false), 0x00000000007F0000ull);
    ck_assert_uint_eq(tdx_attr_r8(1, true), 0x00000000807F0000ull);
    ck_assert_uint_eq(tdx_attr_r8(3, true), 0x807F000000000000ull);
    for (unsigned vm = 1; vm <= 3; vm++) {
        ck_assert_uint_eq(tdx_attr_rdx(vm, 0xFFFF) & 0xFFFF, 0);   /* VM 0 (L1) word */
        ck_assert_uint_eq(tdx_attr_r8(vm, true) & 0xFFFF, 0);
    }
}
END_TEST

/* ---- TDG.VP.ENTER inputs ------------------------------------------------------- */

START_TEST(test_enter_rcx)
{
    /* TDXM tdg_vp_enter.c vm_and_flags_t: do_invept 1:0, vm 53:52, the rest 0;
     * VM_AND_FLAGS_INVEPT_TYPE_1 1, _TYPE_1_NO_EPXE_FLUSH 2, _TYPE_3 3.
     * Intel's L1 KVM enters with tdg_vp_enter(vm_id << 52, ...) (reference A1,
     * ITDP td_part.c __td_part_vcpu_run()). */
    ck_assert_uint_eq(tdx_enter_rcx(1, TDX_TLB_NONE), 0x0010000000000000ull);
    ck_assert_uint_eq(tdx_enter_rcx(2, TDX_TLB_INVEPT), 0x0020000000000001ull);
    ck_assert_uint_eq(tdx_enter_rcx(3, TDX_TLB_INVVPID), 0x0030000000000002ull);
    ck_assert_uint_eq(tdx_enter_rcx(3, TDX_TLB_INVVPID_NONGLOBAL), 0x0030000000000003ull);
    for (unsigned vm = 1; vm <= 3; vm++)
        for (unsigned t = 0; t < 4; t++) {
            uint64_t rcx = tdx_enter_rcx(vm, (enum tdx_enter_tlb)t);
            ck_assert_uint_eq(rcx & ~(3ull << 52 | 3ull), 0);   /* reserved0/1 */
            ck_assert_uint_eq((rcx >> 52) & 3, vm);
            ck_assert_uint_eq(rcx & 3, t);
        }
}
END_TEST

START_TEST(test_guest_state_layout)
{
    /* TDXM tdx_api_defs.h l2_enter_guest_state_t: gprs_state_t (rax rcx rdx rbx
     * rsp rbp rsi rdi r8-r15) at 0x00-0x78, rflags 0x80, rip 0x88, ssp 0x90,
     * interrupt_status (u16) 0x98; reference A4.  RDX must be 256-byte aligned
     * (tdg_vp_enter(): is_addr_aligned_pwr_of_2(reg_list_gpa, 256)). */
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_RAX]), 0x00);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_RCX]), 0x08);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_RBX]), 0x18);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_RSP]), 0x20);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_RDI]), 0x38);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_R8]), 0x40);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, gpr[COPRA_R15]), 0x78);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, rflags), 0x80);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, rip), 0x88);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, ssp), 0x90);
    ck_assert_uint_eq(offsetof(struct tdx_l2_state, interrupt_status), 0x98);
    ck_assert_uint_eq(sizeof(((struct tdx_l2_state *)0)->interrupt_status), 2);
    ck_assert_uint_eq(_Alignof(struct tdx_l2_state), 256);
    ck_assert_uint_eq(sizeof(struct tdx_l2_state), 256);
    struct tdx_l2_state *s = aligned_alloc(256, 4 * sizeof(*s));
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq((uintptr_t)&s[i] % 256, 0);   /* an array keeps every buffer aligned */
    free(s);
}
END_TEST

/* ---- TDG.VP.ENTER outputs ------------------------------------------------------ */

START_TEST(test_enter_status)
{
    /* reference A4; TDXM tdx_error_codes_defs.h; RAX 31:0 = the L2 exit reason
     * (td_exit.c td_l2_to_l1_exit_internal(): error_code.details_l2). */
    ck_assert_int_eq(tdx_enter_status(0), TDX_ENTER_EXIT);
    ck_assert_int_eq(tdx_enter_status(30), TDX_ENTER_EXIT);
    ck_assert_int_eq(tdx_enter_status(0x0000110000000030ull), TDX_ENTER_EXIT);   /* host-routed EPT violation */
    ck_assert_int_eq(tdx_enter_status(0x000011010000004Dull), TDX_ENTER_EXIT);   /* host-routed TDCALL (77) */
    ck_assert_int_eq(tdx_enter_status(0x0000110200000001ull), TDX_ENTER_EXIT);   /* posted interrupt for L1 */
    ck_assert_int_eq(tdx_enter_status(0x0000112000000000ull), TDX_ENTER_NONE);   /* TDX_PENDING_INTERRUPT */
    /* TDX_TD_EXIT_BEFORE_L2_ENTRY (debug TDs only) and an unknown class. */
    ck_assert_int_eq(tdx_enter_status(0x0000114000000000ull), TDX_ENTER_ERROR);
    ck_assert_int_eq(tdx_enter_status(0x0000110300000000ull), TDX_ENTER_ERROR);
    /* TDX_OPERAND_INVALID 0xC000010000000000 with OPERAND_ID_L2_VAPIC_GPA 170:
     * the vAPIC page was never set (tdg_vp_enter()). */
    ck_assert_int_eq(tdx_enter_status(0xC0000100000000AAull), TDX_ENTER_ERROR);
}
END_TEST

/* The registers TDXM td_exit.c td_l2_to_l1_exit_internal() fills: RAX status |
 * exit reason, RCX qualification, R8 GPA, R11 instruction length << 32 | info. */
static struct vm_exit decode(uint64_t rax, uint64_t rcx, uint64_t r8, uint64_t len)
{
    uint64_t out[16] = { 0 };
    out[COPRA_RAX] = rax;
    out[COPRA_RCX] = rcx;
    out[COPRA_RDX] = 0x7FFF0000ull;            /* guest linear address: unused */
    out[COPRA_R8] = r8;
    out[COPRA_R11] = len << 32 | 0x1234;       /* instruction info in 31:0 */
    struct vm_exit e;
    tdx_exit_decode(out, 0xFFF0, &e);
    ck_assert_uint_eq(e.rip, 0xFFF0);
    return e;
}

START_TEST(test_decode_io)
{
    /* Reason 30: TDXM vmcs_defs.h VMEXIT_REASON_IO_INSTRUCTION.
     * SDM table 28-5 "Exit Qualification for I/O Instructions"; Linux
     * coco/tdx/tdx.c VE_GET_IO_SIZE(q) = (q & 7) + 1, VE_IS_IO_IN = q & 8,
     * VE_IS_IO_STRING = q & 16, VE_GET_PORT_NUM = q >> 16; KVM vmx.c handle_io(). */
    struct vm_exit e = decode(30, 0x03F80000, 0, 1);   /* OUT DX, AL (EE) to 0x3F8 */
    ck_assert_int_eq(e.kind, VMX_IO);
    ck_assert_uint_eq(e.io.port, 0x3F8);
    ck_assert_uint_eq(e.io.size, 1);
    ck_assert_uint_eq(e.io.in, 0);
    ck_assert_uint_eq(e.io.string, 0);
    ck_assert_uint_eq(e.insn_len, 1);
    ck_assert_uint_eq(e.code, 30);
    ck_assert_uint_eq(e.info1, 0x03F80000);
    e = decode(30, 0x0CFC000B, 0, 1);   /* IN EAX, DX from 0xCFC */
    ck_assert_int_eq(e.kind, VMX_IO);
    ck_assert_uint_eq(e.io.port, 0xCFC);
    ck_assert_uint_eq(e.io.size, 4);
    ck_assert_uint_eq(e.io.in, 1);
    e = decode(30, 0x00800031, 0, 3);   /* REP OUTSW to 0x80 (66 F3 6F) */
    ck_assert_uint_eq(e.io.size, 2);
    ck_assert_uint_eq(e.io.string, 1);
    ck_assert_uint_eq(e.io.rep, 1);
    ck_assert_uint_eq(e.insn_len, 3);
    e = decode(30, 0x00800010, 0, 1);   /* OUTSB to 0x80 (6E), no REP */
    ck_assert_uint_eq(e.io.string, 1);
    ck_assert_uint_eq(e.io.rep, 0);
    ck_assert_uint_eq(e.io.in, 0);
    /* Sizes other than 0, 1, 3 are not defined: not passed on as I/O. */
    ck_assert_int_eq(decode(30, 0x00800002, 0, 1).kind, VMX_OTHER);
    ck_assert_int_eq(decode(30, 0x00800007, 0, 1).kind, VMX_OTHER);
}
END_TEST

START_TEST(test_decode_ept_violation)
{
    /* Reason 48: TDXM vmcs_defs.h VMEXIT_REASON_EPT_VIOLATION.
     * TDXM vmcs_defs.h vmx_exit_qualification_t.ept_violation: data_read 0,
     * data_write 1, insn_fetch 2, gla_valid 7 (SDM table 28-7 "Exit
     * Qualification for EPT Violations"); the GPA in R8 (td_l2_to_l1_exit_with_exit_case()
     * reads VMX_GUEST_PHYSICAL_ADDRESS_INFO). */
    struct vm_exit e = decode(48, 0x182, 0xFEE00080, 7);
    ck_assert_int_eq(e.kind, VMX_NPF);
    ck_assert_uint_eq(e.gpa, 0xFEE00080);
    ck_assert(e.write);
    ck_assert(!e.fetch);
    ck_assert_uint_eq(e.insn_len, 0);   /* not an instruction exit: R11 is ignored */
    e = decode(48, 0x184, 0x100000, 0);
    ck_assert(!e.write);
    ck_assert(e.fetch);
    e = decode(48, 0x181, 0xB8000, 0);
    ck_assert(!e.write && !e.fetch);
    /* A host-routed one (the host resumed L1 for L2 MMIO, reference A5):
     * the same registers (tdh_vp_enter.c set_l2_to_l1_async_exit_gprs()). */
    e = decode(TDX_L2_EXIT_HOST_ROUTED_ASYNC | 48, 0x182, 0xFED00000, 0);
    ck_assert_int_eq(e.kind, VMX_NPF);
    ck_assert_uint_eq(e.gpa, 0xFED00000);
    ck_assert_uint_eq(e.code, 48);
}
END_TEST

START_TEST(test_exit_reasons)
{
    /* TDXM vmcs_defs.h vm_exit_basic_reason_e; SDM appendix C. */
    ck_assert_int_eq(VMX_REASON_INTR, 1);
    ck_assert_int_eq(VMX_REASON_TRIPLE_FAULT, 2);
    ck_assert_int_eq(VMX_REASON_INTR_WINDOW, 7);
    ck_assert_int_eq(VMX_REASON_CPUID, 10);
    ck_assert_int_eq(VMX_REASON_HLT, 12);
    ck_assert_int_eq(VMX_REASON_VMCALL, 18);
    ck_assert_int_eq(VMX_REASON_CR, 28);
    ck_assert_int_eq(VMX_REASON_DR, 29);
    ck_assert_int_eq(VMX_REASON_IO, 30);
    ck_assert_int_eq(VMX_REASON_RDMSR, 31);
    ck_assert_int_eq(VMX_REASON_WRMSR, 32);
    ck_assert_int_eq(VMX_REASON_EPT_VIOLATION, 48);
    ck_assert_int_eq(VMX_REASON_XSETBV, 55);
    ck_assert_uint_eq(VMX_REASON_ENTRY_FAIL, 0x80000000u);   /* vm_vmexit_exit_reason_t vmenter_fail bit 31 */
}
END_TEST

START_TEST(test_decode_simple_exits)
{
    /* VMX basic exit reasons: TDXM vmcs_defs.h vm_exit_basic_reason_e
     * (EXCEPTION_OR_NMI 0, INTERRUPT 1, TRIPLE_FAULT 2, INTERRUPT_WINDOW 7,
     * CPUID 10, HLT 12, VMCALL 18, MSR_READ 31, MSR_WRITE 32, XSETBV 55). */
    struct vm_exit e = decode(10, 0, 0, 2);   /* CPUID: 0F A2 */
    ck_assert_int_eq(e.kind, VMX_CPUID);
    ck_assert_uint_eq(e.insn_len, 2);
    e = decode(12, 0, 0, 1);   /* HLT: F4 */
    ck_assert_int_eq(e.kind, VMX_HLT);
    ck_assert_uint_eq(e.insn_len, 1);
    e = decode(31, 0, 0, 2);   /* RDMSR: 0F 32 */
    ck_assert_int_eq(e.kind, VMX_MSR);
    ck_assert(!e.msr_write);
    ck_assert_uint_eq(e.insn_len, 2);
    e = decode(32, 0, 0, 2);   /* WRMSR: 0F 30 */
    ck_assert_int_eq(e.kind, VMX_MSR);
    ck_assert(e.msr_write);
    ck_assert_uint_eq(e.insn_len, 2);
    ck_assert_int_eq(e.ctl_gpr, -1);   /* platform.h: -1 unless a CR/DR exit names one */
    e = decode(18, 0, 0, 3);   /* VMCALL: 0F 01 C1 */
    ck_assert_int_eq(e.kind, VMX_VMMCALL);
    ck_assert_uint_eq(e.insn_len, 3);
    e = decode(55, 0, 0, 3);   /* XSETBV: 0F 01 D1 */
    ck_assert_int_eq(e.kind, VMX_XSETBV);
    ck_assert_uint_eq(e.insn_len, 3);
    e = decode(2, 0, 0, 9);
    ck_assert_int_eq(e.kind, VMX_SHUTDOWN);
    ck_assert_uint_eq(e.insn_len, 0);
    e = decode(7, 0, 0, 9);
    ck_assert_int_eq(e.kind, VMX_WINDOW);
    ck_assert_uint_eq(e.insn_len, 0);
    /* An interrupt for L1 arrived while L2 ran: TDXM tdx_td_l2_dispatcher.c
     * td_l2_to_l1_exit_with_exit_case(TDX_L2_EXIT_PENDING_INTERRUPT, reason 1). */
    e = decode(TDX_L2_EXIT_PENDING_INTERRUPT | 1, 0, 0, 0);
    ck_assert_int_eq(e.kind, VMX_INTR);
    /* Whatever reason comes with it (td_l2_interrupt.c may end an L2 HLT,
     * length 1 in R11): nothing for user space, L1 takes its interrupt. */
    e = decode(TDX_L2_EXIT_PENDING_INTERRUPT | 12, 0, 0, 1);
    ck_assert_int_eq(e.kind, VMX_INTR);
    ck_assert_uint_eq(e.insn_len, 0);
    /* A host-routed exit (the host resumed L1 after the L2 went to it,
     * tdh_vp_enter.c set_l2_to_l1_async_exit_gprs()) that is not an EPT
     * violation -- an NMI or external interrupt the host took -- is "enter
     * again"; the EPT violation (MMIO, A5) stays NPF (test above). */
    ck_assert_int_eq(decode(TDX_L2_EXIT_HOST_ROUTED_ASYNC | 0, 0, 0, 0).kind, VMX_INTR);
    ck_assert_int_eq(decode(TDX_L2_EXIT_HOST_ROUTED_ASYNC | 1, 0, 0, 0).kind, VMX_INTR);
    ck_assert_int_eq(decode(TDX_L2_EXIT_HOST_ROUTED_ASYNC | 48, 0, 0xFEE00000, 0).kind, VMX_NPF);
    /* Exit reason bits 31:16 other than bit 31 do not change the basic reason
     * (vm_vmexit_exit_reason_t: basic_reason 15:0, pending_mtf 28). */
    ck_assert_int_eq(decode(12 | 1u << 28, 0, 0, 1).kind, VMX_HLT);
    /* Anything else: raw values for the VMM.  RDTSC 16, an exception 0. */
    e = decode(16, 0x55, 0x66, 2);
    ck_assert_int_eq(e.kind, VMX_OTHER);
    ck_assert_uint_eq(e.code, 16);
    ck_assert_uint_eq(e.info1, 0x55);
    ck_assert_uint_eq(e.info2, 0x66);
    ck_assert_int_eq(decode(0, 0, 0, 0).kind, VMX_OTHER);
}
END_TEST

START_TEST(test_decode_control_registers)
{
    /* SDM table 28-3 "Exit Qualification for Control-Register Accesses";
     * TDXM vmcs_defs.h cr_access {cr_num 3:0, access_type 5:4, lmsw_op_type 6,
     * mov_cr_gpr 11:8, lmsw_src_data 31:16}, VMEXIT_CR_ACCESS_MOV_TO_CR 0,
     * _MOV_FROM_CR 1, _CLTS 2, _LMSW 3. */
    struct vm_exit e = decode(28, 0x003, 0, 3);   /* MOV CR3, RAX (0F 22 D8) */
    ck_assert_int_eq(e.kind, VMX_CR_WRITE);
    ck_assert_uint_eq(e.ctl_reg, 3);
    ck_assert_int_eq(e.ctl_gpr, COPRA_RAX);
    ck_assert_uint_eq(e.insn_len, 3);
    e = decode(28, 0x308, 0, 4);   /* MOV CR8, RBX */
    ck_assert_int_eq(e.kind, VMX_CR_WRITE);
    ck_assert_uint_eq(e.ctl_reg, 8);
    ck_assert_int_eq(e.ctl_gpr, COPRA_RBX);
    e = decode(28, 0xC04, 0, 4);   /* MOV CR4, R12 */
    ck_assert_uint_eq(e.ctl_reg, 4);
    ck_assert_int_eq(e.ctl_gpr, COPRA_R12);
    e = decode(28, 0x413, 0, 3);   /* MOV RSP, CR3: a read */
    ck_assert_int_eq(e.kind, VMX_OTHER);
    e = decode(28, 0x00010030, 0, 3);   /* LMSW AX with AX = 1 */
    ck_assert_int_eq(e.kind, VMX_CR_WRITE);
    ck_assert_uint_eq(e.ctl_reg, 0);
    ck_assert_int_eq(e.ctl_gpr, -1);
    e = decode(28, 0x020, 0, 2);   /* CLTS */
    ck_assert_int_eq(e.kind, VMX_CR_WRITE);
    ck_assert_int_eq(e.ctl_gpr, -1);

    /* SDM table 28-4 "Exit Qualification for MOV DR"; Linux asm/vmx.h
     * DEBUG_REG_ACCESS_NUM 0x7, DEBUG_REG_ACCESS_TYPE 0x10 (1 = MOV from DR),
     * DEBUG_REG_ACCESS_REG(eq) ((eq) >> 8) & 0xf. */
    e = decode(29, 0x007, 0, 3);   /* MOV DR7, RAX */
    ck_assert_int_eq(e.kind, VMX_DR);
    ck_assert_uint_eq(e.ctl_reg, 7);
    ck_assert(e.ctl_write);
    ck_assert_int_eq(e.ctl_gpr, COPRA_RAX);
    ck_assert_uint_eq(e.insn_len, 3);
    e = decode(29, 0x216, 0, 3);   /* MOV RDX, DR6 */
    ck_assert_int_eq(e.kind, VMX_DR);
    ck_assert_uint_eq(e.ctl_reg, 6);
    ck_assert(!e.ctl_write);
    ck_assert_int_eq(e.ctl_gpr, COPRA_RDX);
}
END_TEST

START_TEST(test_decode_no_entry_and_failures)
{
    /* TDX_PENDING_INTERRUPT: no entry happened (TDXM tdg_vp_enter() returns it
     * before VM entry); L1 takes its interrupt, the exit is not counted. */
    struct vm_exit e = decode(TDX_PENDING_INTERRUPT, 0x99, 0x99, 9);
    ck_assert_int_eq(e.kind, VMX_NO_ENTRY);
    ck_assert_uint_eq(e.code, TDX_PENDING_INTERRUPT);
    ck_assert_uint_eq(e.insn_len, 0);
    /* A TDCALL error (TDX_OPERAND_INVALID | OPERAND_ID_L2_VAPIC_GPA). */
    e = decode(0xC0000100000000AAull, 0, 0, 0);
    ck_assert_int_eq(e.kind, VMX_FAIL);
    ck_assert_uint_eq(e.code, 0xC0000100000000AAull);
    /* VM-entry failure for invalid guest state, 33 | bit 31, goes to L1
     * (reference A5; TDXM handle_l2_vm_entry_failures(); SDM appendix C). */
    e = decode(0x80000021u, 0, 0, 0);
    ck_assert_int_eq(e.kind, VMX_FAIL);
    ck_assert_uint_eq(e.code, 0x80000021u);
}
END_TEST

/* Arbitrary registers: a decoded exit stays inside what vcpu.c can take. */
START_TEST(test_decode_arbitrary)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 200000; i++) {
        uint64_t out[16];
        for (int r = 0; r < 16; r++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            out[r] = x;
        }
        if (i & 1)   /* mostly real statuses with small reasons */
            out[COPRA_RAX] = (out[COPRA_RAX] & 0x0000110300000000ull) | (out[COPRA_RAX] & 63);
        struct vm_exit e;
        tdx_exit_decode(out, 0x1000, &e);
        ck_assert(e.kind == VMX_NO_ENTRY || (TDX_EXIT_KINDS & (1u << e.kind)));
        if (e.kind == VMX_IO)
            ck_assert(e.io.size == 1 || e.io.size == 2 || e.io.size == 4);
        if (e.kind == VMX_CR_WRITE || e.kind == VMX_DR)
            ck_assert(e.ctl_gpr >= -1 && e.ctl_gpr < 16 && e.ctl_reg < 16);
        if (e.insn_len)
            ck_assert(e.kind != VMX_NPF && e.kind != VMX_INTR && e.kind != VMX_FAIL && e.kind != VMX_WINDOW &&
                      e.kind != VMX_NO_ENTRY);
        if (tdx_enter_status(out[COPRA_RAX]) != TDX_ENTER_EXIT)
            ck_assert(e.kind == VMX_NO_ENTRY || e.kind == VMX_FAIL);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tdx");
    TCase *tc = tcase_create("abi");
    tcase_add_test(tc, test_leaf_numbers);
    tcase_add_test(tc, test_vmcall_subfunctions);
    tcase_add_test(tc, test_status_codes);
    tcase_add_test(tc, test_rtmr_extend_args);
    tcase_add_test(tc, test_shared_bit);
    tcase_add_test(tc, test_field_id_reference_examples);
    tcase_add_test(tc, test_msr_bitmap);
    tcase_add_test(tc, test_vmcs_field_ids_match_module_table);
    tcase_add_test(tc, test_field_id_layout);
    tcase_add_test(tc, test_state_fields);
    tcase_add_test(tc, test_platform_limits);
    tcase_add_test(tc, test_control_bits);
    tcase_add_test(tc, test_segment_attributes);
    tcase_add_test(tc, test_event_encoding);
    tcase_add_test(tc, test_gpa_attributes);
    tcase_add_test(tc, test_enter_rcx);
    tcase_add_test(tc, test_guest_state_layout);
    tcase_add_test(tc, test_enter_status);
    tcase_add_test(tc, test_exit_reasons);
    tcase_add_test(tc, test_decode_io);
    tcase_add_test(tc, test_decode_ept_violation);
    tcase_add_test(tc, test_decode_simple_exits);
    tcase_add_test(tc, test_decode_control_registers);
    tcase_add_test(tc, test_decode_no_entry_and_failures);
    tcase_add_test(tc, test_decode_arbitrary);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
