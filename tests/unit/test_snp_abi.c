/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for microkernel/virt/snp_abi.h, the SEV-SNP encoders and
 * decoders.  Every expected value comes from a source named beside it:
 *   LNX       torvalds/linux arch/x86 (file and macro or function named),
 *   CS        coconut-svsm/svsm kernel/src/sev (file and item named),
 *   APM       AMD64 APM vol. 2 (section named),
 *   reference shared/reference/tdx-snp-backends.md, section B<n>.
 * Expected words are written out as literals, not built with the header's
 * own shifts.  They are the specification as read, not silicon: a
 * misreading shared by the source and this file would pass.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virt/snp_abi.h"

START_TEST(test_msrs)
{
    ck_assert_uint_eq(SNP_MSR_GHCB, 0xC0010130u);       /* LNX msr-index.h MSR_AMD64_SEV_ES_GHCB */
    ck_assert_uint_eq(SNP_MSR_SEV_STATUS, 0xC0010131u); /* LNX msr-index.h MSR_AMD64_SEV */
    ck_assert_uint_eq(SEV_STATUS_SNP, 4);               /* LNX MSR_AMD64_SEV_SNP_ENABLED_BIT 2 */
}
END_TEST

START_TEST(test_msr_protocol_codes)
{
    /* LNX sev-common.h */
    ck_assert_uint_eq(GHCB_MSR_SEV_INFO_RESP, 0x001);
    ck_assert_uint_eq(GHCB_MSR_SEV_INFO_REQ, 0x002);
    ck_assert_uint_eq(GHCB_MSR_CPUID_REQ, 0x004);
    ck_assert_uint_eq(GHCB_MSR_CPUID_RESP, 0x005);
    ck_assert_uint_eq(GHCB_MSR_REG_GPA_REQ, 0x012);
    ck_assert_uint_eq(GHCB_MSR_REG_GPA_RESP, 0x013);
    ck_assert_uint_eq(GHCB_MSR_PSC_REQ, 0x014);
    ck_assert_uint_eq(GHCB_MSR_PSC_RESP, 0x015);
    ck_assert_uint_eq(GHCB_MSR_VMPL_REQ, 0x016);   /* coconut-svsm/linux sev-common.h "Run at VMPL" */
    ck_assert_uint_eq(GHCB_MSR_VMPL_RESP, 0x017);
    ck_assert_uint_eq(GHCB_MSR_HV_FT_REQ, 0x080);
    ck_assert_uint_eq(GHCB_MSR_HV_FT_RESP, 0x081);
    ck_assert_uint_eq(GHCB_MSR_TERM_REQ, 0x100);
    ck_assert_uint_eq(GHCB_HV_FT_SNP, 1);          /* GHCB_HV_FT_SNP BIT_ULL(0) */
    ck_assert_uint_eq(GHCB_HV_FT_AP_CREATION, 2);  /* GHCB_HV_FT_SNP_AP_CREATION BIT_ULL(1) */
}
END_TEST

START_TEST(test_msr_protocol_words)
{
    /* LNX GHCB_CPUID_REQ(0x8000001f, GHCB_CPUID_REQ_EBX = 1): fn << 32 | reg << 30 | 0x004. */
    ck_assert_uint_eq(ghcb_msr_cpuid_req(0x8000001Fu, 1), 0x8000001F40000004ull);
    ck_assert_uint_eq(ghcb_msr_cpuid_req(0, 3), 0x00000000C0000004ull);
    /* LNX GHCB_MSR_REG_GPA_REQ_VAL(gfn 0x12345) = gfn << 12 | 0x012. */
    ck_assert_uint_eq(ghcb_msr_reg_gpa_req(0x12345000ull), 0x0000000012345012ull);
    /* LNX GHCB_MSR_PSC_REQ_GFN(gfn 0xabcde, SNP_PAGE_STATE_SHARED 2) = 2 << 52 | gfn << 12 | 0x014. */
    ck_assert_uint_eq(ghcb_msr_psc_req(0xABCDE000ull, SNP_PSC_SHARED), 0x00200000ABCDE014ull);
    ck_assert_uint_eq(ghcb_msr_psc_req(0x1000ull, SNP_PSC_PRIVATE), 0x0010000000001014ull);
    /* The GFN field is 51:12: a GPA bit above 51 is dropped, not shifted into the op. */
    ck_assert_uint_eq(ghcb_msr_psc_req(0x0010000000001000ull, SNP_PSC_PRIVATE), 0x0010000000001014ull);
    /* LNX GHCB_MSR_VMPL_REQ_LEVEL(1) after commit f7387eff "Fix operator
     * precedence": (1 & GENMASK(7,0)) << 32 | 0x016; CS switch_to_vmpl: EDX = vmpl, EAX = 0x16. */
    ck_assert_uint_eq(ghcb_msr_vmpl_req(1), 0x0000000100000016ull);
    ck_assert_uint_eq(ghcb_msr_vmpl_req(0x102), 0x0000000200000016ull);
    /* LNX GHCB_SEV_TERM_REASON(SEV_TERM_SET_LINUX 1, GHCB_TERM_NOT_VMPL0 3) | GHCB_MSR_TERM_REQ. */
    ck_assert_uint_eq(ghcb_msr_term_req(1, 3), 0x31100);
    /* Decoders: LNX GHCB_MSR_INFO, GHCB_MSR_PROTO_MAX/MIN on GHCB_MSR_SEV_INFO(2, 1, 51):
     * 2 << 48 | 1 << 32 | 51 << 24 | 0x001. */
    uint64_t info = 0x0002000133000001ull;
    ck_assert_uint_eq(ghcb_msr_info(info), GHCB_MSR_SEV_INFO_RESP);
    ck_assert_uint_eq(ghcb_msr_proto_max(info), 2);
    ck_assert_uint_eq(ghcb_msr_proto_min(info), 1);
    /* LNX GHCB_MSR_PSC_RESP_VAL / GHCB_MSR_VMPL_RESP_VAL: bits 63:32. */
    ck_assert_uint_eq(ghcb_msr_value(0x0000000500000015ull), 5);
    ck_assert_uint_eq(ghcb_msr_info(0x0000000500000015ull), GHCB_MSR_PSC_RESP);
    ck_assert_uint_eq(GHCB_PROTOCOL_SNP, 2);   /* LNX sev_es_negotiate_protocol(): SNP needs 2 */
}
END_TEST

START_TEST(test_ghcb_layout)
{
    /* LNX asm/svm.h struct ghcb_save_area (reserved_0xcc after cpl,
     * EXPECTED_GHCB_SAVE_AREA_SIZE 1032) and struct ghcb (reserved_0xff0). */
    ck_assert_uint_eq(offsetof(struct ghcb, cpl), 0xCB);
    ck_assert_uint_eq(offsetof(struct ghcb, rax), 0x1F8);
    ck_assert_uint_eq(offsetof(struct ghcb, rcx), 0x308);
    ck_assert_uint_eq(offsetof(struct ghcb, rdx), 0x310);
    ck_assert_uint_eq(offsetof(struct ghcb, rbx), 0x318);
    ck_assert_uint_eq(offsetof(struct ghcb, sw_exit_code), 0x390);
    ck_assert_uint_eq(offsetof(struct ghcb, sw_exit_info1), 0x398);
    ck_assert_uint_eq(offsetof(struct ghcb, sw_exit_info2), 0x3A0);
    ck_assert_uint_eq(offsetof(struct ghcb, sw_scratch), 0x3A8);
    ck_assert_uint_eq(offsetof(struct ghcb, xcr0), 0x3E8);
    ck_assert_uint_eq(offsetof(struct ghcb, valid_bitmap), 0x3F0);
    ck_assert_uint_eq(offsetof(struct ghcb, valid_bitmap) + 16 + 8, 1032);   /* + x87_state_gpa */
    ck_assert_uint_eq(offsetof(struct ghcb, shared), 0x800);   /* 2048 - sizeof save area reserved */
    ck_assert_uint_eq(sizeof(((struct ghcb *)0)->shared), 2032);   /* GHCB_SHARED_BUF_SIZE */
    ck_assert_uint_eq(offsetof(struct ghcb, protocol_version), 0xFFA);   /* 0xff0 + 10 */
    ck_assert_uint_eq(offsetof(struct ghcb, usage), 0xFFC);
}
END_TEST

START_TEST(test_ghcb_valid_bitmap)
{
    /* LNX GHCB_BITMAP_IDX(field) = offsetof(field) / 8: RAX 0x1F8 -> bit 63,
     * SW_EXITCODE 0x390 -> bit 114, RCX 0x308 -> bit 97. */
    static struct ghcb g;
    memset(&g, 0, sizeof g);
    ghcb_mark_valid(&g, &g.rax);
    ck_assert_uint_eq(g.valid_bitmap[7], 0x80);
    ghcb_mark_valid(&g, &g.sw_exit_code);
    ck_assert_uint_eq(g.valid_bitmap[14], 0x04);
    ck_assert(ghcb_is_valid(&g, &g.rax));
    ck_assert(ghcb_is_valid(&g, &g.sw_exit_code));
    ck_assert(!ghcb_is_valid(&g, &g.rcx));
    ghcb_mark_valid(&g, &g.rcx);
    ck_assert_uint_eq(g.valid_bitmap[12], 0x02);
    ck_assert(!ghcb_is_valid(&g, &g.shared));   /* beyond the bitmap's 128 quadwords */
}
END_TEST

START_TEST(test_exit_codes)
{
    /* LNX uapi/asm/svm.h */
    ck_assert_uint_eq(SVM_EXIT_CPUID, 0x072);
    ck_assert_uint_eq(SVM_EXIT_IOIO, 0x07B);
    ck_assert_uint_eq(SVM_EXIT_MSR, 0x07C);
    ck_assert_uint_eq(SVM_EXIT_VMMCALL, 0x081);
    ck_assert_uint_eq(SVM_EXIT_NPF, 0x400);
    ck_assert_uint_eq(SVM_EXIT_VMGEXIT, 0x403);
    ck_assert_uint_eq(SVM_EXIT_PAGE_NOT_VALIDATED, 0x404);   /* APM §15.36.10; CS VMGEXIT 1027 + 1 */
    ck_assert_uint_eq(SNP_NAE_PSC, 0x80000010);              /* SVM_VMGEXIT_PSC */
    ck_assert_uint_eq(SNP_NAE_GUEST_REQUEST, 0x80000011);    /* SVM_VMGEXIT_GUEST_REQUEST */
    ck_assert_uint_eq(SNP_NAE_AP_CREATION, 0x80000013);      /* SVM_VMGEXIT_AP_CREATION */
    ck_assert_uint_eq(SNP_NAE_HV_DOORBELL, 0x80000014);      /* SVM_VMGEXIT_HVDB_PAGE (KVM #HV series) */
    ck_assert_uint_eq(SNP_HV_DOORBELL_SET, 1);               /* SVM_VMGEXIT_HVDB_SET */
    ck_assert_uint_eq(SNP_NAE_RUN_VMPL, 0x80000018);         /* SVM_VMGEXIT_SNP_RUN_VMPL */
    ck_assert_uint_eq(SNP_NAE_TERM_REQUEST, 0x8000FFFE);     /* SVM_VMGEXIT_TERM_REQUEST */
    ck_assert_uint_eq(SNP_VC_VECTOR, 29);                    /* LNX trapnr.h X86_TRAP_VC 29 */
    ck_assert_uint_eq(SNP_HV_VECTOR, 28);                    /* LNX trapnr.h X86_TRAP_HV 28 (Restricted Injection series) */
    ck_assert_uint_eq(GHCB_RESULT_EXCEPTION, 1);   /* LNX verify_exception_info(): info1 == 1 */
    ck_assert_uint_eq(GHCB_RESULT_ERROR, 2);       /* sev-common.h: "lower 32-bits ... set to 2" */
}
END_TEST

START_TEST(test_ioio_info)
{
    /* APM vol. 2 §15.10.2 figure "EXITINFO1 for IOIO intercept": OUT al,
     * 0x3f8 -> port 0x3f8 << 16 | SZ8 (bit 4) = 0x03F80010; IN eax, dx
     * (0xcfc) -> 0x0CFC0041; LNX sev-shared.c vc_ioio_exitinfo() builds
     * the same (IOIO_TYPE_IN 1, IOIO_DATA_8 BIT(4), IOIO_DATA_32 BIT(6)). */
    ck_assert_uint_eq(snp_ioio_info(0x3F8, 1, false), 0x03F80010ull);
    ck_assert_uint_eq(snp_ioio_info(0xCFC, 4, true), 0x0CFC0041ull);
    ck_assert_uint_eq(snp_ioio_info(0x70, 2, false), 0x00700020ull);
}
END_TEST

START_TEST(test_ap_creation)
{
    /* LNX vmgexit_ap_control(): exit_info_1 = apic_id << 32 | vmpl << 16 | event
     * (reference B1); SVM_VMGEXIT_AP_CREATE_ON_INIT 0, AP_CREATE 1, AP_DESTROY 2. */
    ck_assert_uint_eq(snp_ap_creation_info(3, 1, SNP_AP_CREATE), 0x0000000300010001ull);
    ck_assert_uint_eq(snp_ap_creation_info(0, 2, SNP_AP_CREATE_ON_INIT), 0x0000000000020000ull);
    ck_assert_uint_eq(snp_ap_creation_info(0x12, 1, SNP_AP_DESTROY), 0x0000001200010002ull);
}
END_TEST

START_TEST(test_psc_entry)
{
    /* LNX struct psc_entry: cur_page 11:0, gfn 51:12, operation 55:52, pagesize 56;
     * VMGEXIT_PSC_MAX_ENTRY 253.  gfn 0x12345, shared, 4K -> 0x0020000012345000. */
    ck_assert_uint_eq(snp_psc_entry(0x12345000ull, SNP_PSC_SHARED, false), 0x0020000012345000ull);
    ck_assert_uint_eq(snp_psc_entry(0x40000000ull, SNP_PSC_PRIVATE, true), 0x0110000040000000ull);
    ck_assert_uint_eq(snp_psc_entry(0x12345FFFull, SNP_PSC_PRIVATE, false), 0x0010000012345000ull);
    ck_assert_uint_eq(SNP_PSC_MAX_ENTRY, 253);
    ck_assert_uint_eq(8 + 8 * SNP_PSC_MAX_ENTRY, 2032);   /* fills the shared buffer */
}
END_TEST

START_TEST(test_rmpadjust_pvalidate)
{
    /* CS utils.rs RMPFlags: VMPL1 = 1, READ 1 << 8, WRITE 1 << 9, X_USER 1 << 10,
     * X_SUPER 1 << 11, BIT_VMSA 1 << 16; VMSA = READ | BIT_VMSA.  LNX sev.h
     * RMPADJUST_VMSA_PAGE_BIT BIT(16); LNX snp_set_vmsa(): attrs = 1 | VMSA bit. */
    ck_assert_uint_eq(snp_rmpadjust_attrs(1, RMP_VMSA), 0x10001);
    ck_assert_uint_eq(snp_rmpadjust_attrs(1, RMP_READ | RMP_VMSA), 0x10101);   /* CS rmp_set_guest_vmsa */
    ck_assert_uint_eq(snp_rmpadjust_attrs(2, RMP_RWX), 0xF02);   /* CS rmp_grant_guest_access */
    ck_assert_uint_eq(snp_rmpadjust_attrs(3, 0), 3);             /* CS rmp_revoke_guest_access */
    /* CS rmp_adjust()/pvalidate(): 1 FAIL_INPUT, 2 FAIL_PERMISSION, 6 FAIL_SIZEMISMATCH;
     * LNX sev.h PVALIDATE_FAIL_SIZEMISMATCH 6. */
    ck_assert_uint_eq(SNP_FAIL_INPUT, 1);
    ck_assert_uint_eq(SNP_FAIL_PERMISSION, 2);
    ck_assert_uint_eq(SNP_FAIL_SIZEMISMATCH, 6);
}
END_TEST

START_TEST(test_vmsa_offsets)
{
    /* Reference B1 (from CS cpuarch vmsa.rs) and LNX struct sev_es_save_area;
     * VMCB save-area offsets (APM appendix B, microkernel/virt/svm.c's pinned
     * struct vmcb) minus 0x400. */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x4CB), VMSA_CPL);      /* VMCB CPL 0x4cb -> 0x0cb */
    ck_assert_uint_eq(VMSA_CPL, 0x0CB);
    ck_assert_uint_eq(VMSA_VMPL, 0x0CA);                         /* sev_es_save_area vmpl */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x4D0), VMSA_EFER);     /* EFER 0x0d0 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x570), VMSA_RFLAGS);   /* RFLAGS 0x170 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x578), VMSA_RIP);      /* RIP 0x178 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x5D8), VMSA_RSP);      /* RSP 0x1d8 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x5F8), VMSA_RAX);      /* RAX 0x1f8 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x548), 0x148);         /* CR4 0x148 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x640), 0x240);         /* CR2 0x240 */
    ck_assert_uint_eq(SNP_VMSA_FROM_VMCB(0x668), 0x268);         /* G_PAT 0x268 */
    ck_assert_uint_eq(VMSA_EXITINFO1, 0x390);
    ck_assert_uint_eq(VMSA_EXITINFO2, 0x398);
    ck_assert_uint_eq(VMSA_EXITINTINFO, 0x3A0);
    ck_assert_uint_eq(VMSA_NRIP, 0x3A8);
    ck_assert_uint_eq(VMSA_SEV_FEATURES, 0x3B0);
    ck_assert_uint_eq(VMSA_VINTR_CTRL, 0x3B8);
    ck_assert_uint_eq(VMSA_EXITCODE, 0x3C0);
    ck_assert_uint_eq(VMSA_EVENTINJ, 0x3E0);
    /* GPRs: LNX sev_es_save_area rcx 0x308, rdx 0x310, rbx 0x318, (rsp hole
     * 0x320), rbp 0x328, rsi 0x330, rdi 0x338, r8 0x340 ... r15 0x378. */
    static const unsigned want[16] = { 0x1F8, 0x308, 0x310, 0x318, 0x1D8, 0x328, 0x330, 0x338,
                                       0x340, 0x348, 0x350, 0x358, 0x360, 0x368, 0x370, 0x378 };
    for (unsigned i = 0; i < 16; i++)
        ck_assert_uint_eq(snp_vmsa_gpr(i), want[i]);
}
END_TEST

START_TEST(test_sev_features)
{
    /* LNX asm/svm.h SVM_SEV_FEAT_SNP_ACTIVE BIT(0), RESTRICTED_INJECTION BIT(3),
     * ALTERNATE_INJECTION BIT(4); ReflectVC bit 2 (reference B1, CS sev_status.rs:
     * SEV_STATUS bit 4 >> 2). */
    ck_assert_uint_eq(SEV_FEAT_SNP_ACTIVE, 1);
    ck_assert_uint_eq(SEV_FEAT_REFLECT_VC, 4);
    ck_assert_uint_eq(SEV_FEAT_RESTRICTED_INJ, 8);
    ck_assert_uint_eq(SEV_FEAT_ALTERNATE_INJ, 0x10);
    /* CS VIntrCtrl: V_IRQ 8, INT_SHADOW 10, BUSY 63 (reference B1). */
    ck_assert_uint_eq(VINTR_V_IRQ, 0x100);
    ck_assert_uint_eq(VINTR_INT_SHADOW, 0x400);
    ck_assert_uint_eq(VINTR_BUSY, 0x8000000000000000ull);
    /* CS hv_doorbell.rs HVDoorbell { vector: u8, flags: u8, ... },
     * HVDoorbellFlags no_further_signal = bit 7. */
    ck_assert_uint_eq(HV_DOORBELL_VECTOR, 0);
    ck_assert_uint_eq(HV_DOORBELL_FLAGS, 1);
    ck_assert_uint_eq(HV_DOORBELL_NO_FURTHER_SIGNAL, 0x80);
}
END_TEST

static Suite *snp_suite(void)
{
    Suite *s = suite_create("snp_abi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_msrs);
    tcase_add_test(tc, test_msr_protocol_codes);
    tcase_add_test(tc, test_msr_protocol_words);
    tcase_add_test(tc, test_ghcb_layout);
    tcase_add_test(tc, test_ghcb_valid_bitmap);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_test(tc, test_ioio_info);
    tcase_add_test(tc, test_ap_creation);
    tcase_add_test(tc, test_psc_entry);
    tcase_add_test(tc, test_rmpadjust_pvalidate);
    tcase_add_test(tc, test_vmsa_offsets);
    tcase_add_test(tc, test_sev_features);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(snp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
