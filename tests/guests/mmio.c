/* SPDX-License-Identifier: MIT */
/*
 * MMIO exits: every instruction form the kernel's decoder handles
 * (microkernel/virt/decode.h) against the VMM's MMIO scratch device at
 * 0xC0000000 (servers/vmm/devices.c: reads return what was written).  Each
 * case runs the same instruction bytes twice, once with RBX pointing at the
 * scratch device and once at ordinary RAM holding the same bytes (the CPU's
 * own result), and
 * compares the registers, the status flags the instruction defines, and the
 * memory afterwards.  Every case runs with four different incoming flag
 * patterns.  R8 points at a RAM buffer `other` for MOVS between MMIO and RAM.
 */
#include "guest.h"

#define REGION 128u

struct state {
    uint64_t rax, rcx, rdx, rsi, rdi, flags;
};

typedef void (*op_fn)(uint8_t *base, uint8_t *other, struct state *s);

/* Loads the state, runs `text`, stores the state back. */
#define DEFINE_OP(name, text, mask)                                                   \
    static void op_##name(uint8_t *base, uint8_t *other, struct state *s)            \
    {                                                                                 \
        register uint8_t *r8 __asm__("r8") = other;                                   \
        __asm__ volatile("mov 0(%[s]), %%rax\n\t"                                     \
                         "mov 8(%[s]), %%rcx\n\t"                                     \
                         "mov 16(%[s]), %%rdx\n\t"                                    \
                         "mov 24(%[s]), %%rsi\n\t"                                    \
                         "mov 32(%[s]), %%rdi\n\t"                                    \
                         "pushq 40(%[s])\n\t"                                         \
                         "popfq\n\t" text "\n\t"                                      \
                         "pushfq\n\t"                                                 \
                         "popq 40(%[s])\n\t"                                          \
                         "mov %%rax, 0(%[s])\n\t"                                     \
                         "mov %%rcx, 8(%[s])\n\t"                                     \
                         "mov %%rdx, 16(%[s])\n\t"                                    \
                         "mov %%rsi, 24(%[s])\n\t"                                    \
                         "mov %%rdi, 32(%[s])\n\t"                                    \
                         :                                                            \
                         : [s] "r"(s), "b"(base), "r"(r8)                             \
                         : "rax", "rcx", "rdx", "rsi", "rdi", "r9", "r10", "r11",     \
                           "r12", "r13", "memory", "cc");                             \
    }

/* Status flags each kind of instruction defines (the rest are undefined
 * and may differ between the emulation and the CPU). */
#define F_ALL   RFLAGS_STATUS                    /* MOV etc.: all unchanged; ADD/SUB/CMP: all defined */
#define F_LOGIC (RFLAGS_STATUS & ~RFLAGS_AF)     /* AND/OR/XOR/TEST: AF undefined */
#define F_BT    (RFLAGS_CF | RFLAGS_ZF)          /* BT: CF defined, ZF unchanged */

/* ALU op in all its memory forms: r/m <- r, r <- r/m, r/m <- imm (80, 81, 83). */
#define ALU_CASES(X, op, mask)                                                    \
    X(op##_mr8,   #op "b %%al, 3(%%rbx)", mask)                                   \
    X(op##_mr16,  #op "w %%ax, 6(%%rbx)", mask)                                   \
    X(op##_mr32,  #op "l %%eax, 8(%%rbx)", mask)                                  \
    X(op##_mr64,  #op "q %%rax, 16(%%rbx)", mask)                                 \
    X(op##_mrh,   #op "b %%dh, 5(%%rbx)", mask)                                   \
    X(op##_rm8,   #op "b 3(%%rbx), %%cl", mask)                                   \
    X(op##_rm16,  #op "w 6(%%rbx), %%cx", mask)                                   \
    X(op##_rm32,  #op "l 8(%%rbx), %%ecx", mask)                                  \
    X(op##_rm64,  #op "q 16(%%rbx), %%rcx", mask)                                 \
    X(op##_rmr9,  "mov %%rdx, %%r9; " #op "q 24(%%rbx), %%r9; mov %%r9, %%rdx", mask) \
    X(op##_mi8,   #op "b $0x81, 9(%%rbx)", mask)                                  \
    X(op##_mi16,  #op "w $0x1234, 10(%%rbx)", mask)                               \
    X(op##_mi32,  #op "l $0x7fff1234, 12(%%rbx)", mask)                           \
    X(op##_mi32s, #op "l $-3, 12(%%rbx)", mask)                                   \
    X(op##_mi16s, #op "w $-2, 10(%%rbx)", mask)                                   \
    X(op##_mi64,  #op "q $-100000, 16(%%rbx)", mask)                              \
    X(op##_mi64s, #op "q $5, 16(%%rbx)", mask)

#define CASES(X)                                                                  \
    /* MOV stores (88, 89, C6, C7): sizes, high byte, REX, SIB, 67, segments */   \
    X(mov_store8,     "mov %%al, 3(%%rbx)", F_ALL)                                \
    X(mov_store8h,    "mov %%ah, 5(%%rbx)", F_ALL)                                \
    X(mov_store8sil,  "mov %%sil, 7(%%rbx)", F_ALL)                               \
    X(mov_store16,    "mov %%ax, 6(%%rbx)", F_ALL)                                \
    X(mov_store32,    "mov %%eax, 8(%%rbx)", F_ALL)                               \
    X(mov_store64,    "mov %%rax, 16(%%rbx)", F_ALL)                              \
    X(mov_store_r9,   "mov %%rdx, %%r9; mov %%r9, 24(%%rbx)", F_ALL)              \
    X(mov_store_sib,  "mov $3, %%ecx; mov %%eax, 4(%%rbx,%%rcx,4)", F_ALL)        \
    X(mov_store_r10,  "lea 64(%%rbx), %%r10; mov %%eax, -8(%%r10)", F_ALL)        \
    X(mov_store_r12,  "mov %%rbx, %%r12; mov %%rdx, 40(%%r12)", F_ALL)            \
    X(mov_store_r13,  "mov %%rbx, %%r13; mov %%edx, (%%r13)", F_ALL)              \
    X(mov_store_idx,  "mov $5, %%r11; mov %%ax, (%%rbx,%%r11,8)", F_ALL)          \
    X(mov_store_a32,  "mov %%eax, 8(%%ebx)", F_ALL)                               \
    X(mov_store_ds,   "mov %%eax, %%ds:12(%%rbx)", F_ALL)                         \
    X(mov_store_fs,   "mov %%rax, %%fs:32(%%rbx)", F_ALL)                         \
    X(mov_imm8,       "movb $0x5a, 9(%%rbx)", F_ALL)                              \
    X(mov_imm16,      "movw $0x1234, 10(%%rbx)", F_ALL)                           \
    X(mov_imm32,      "movl $0x89abcdef, 12(%%rbx)", F_ALL)                       \
    X(mov_imm64neg,   "movq $-2, 16(%%rbx)", F_ALL)                               \
    X(mov_imm64pos,   "movq $0x7fffffff, 24(%%rbx)", F_ALL)                       \
    /* MOV loads (8A, 8B) */                                                      \
    X(mov_load8,      "mov 5(%%rbx), %%cl", F_ALL)                                \
    X(mov_load8h,     "mov 5(%%rbx), %%ch", F_ALL)                                \
    X(mov_load8sil,   "mov 3(%%rbx), %%sil", F_ALL)                               \
    X(mov_load16,     "mov 6(%%rbx), %%cx", F_ALL)                                \
    X(mov_load32,     "mov 8(%%rbx), %%ecx", F_ALL)                               \
    X(mov_load64,     "mov 16(%%rbx), %%rcx", F_ALL)                              \
    X(mov_load_r10,   "mov 24(%%rbx), %%r10; mov %%r10, %%rdx", F_ALL)            \
    X(mov_load_r10d,  "mov %%rdx, %%r10; mov 28(%%rbx), %%r10d; mov %%r10, %%rdx", F_ALL) \
    X(mov_load_a32,   "mov 8(%%ebx), %%eax", F_ALL)                               \
    X(mov_load_es,    "mov %%es:16(%%rbx), %%rsi", F_ALL)                         \
    X(mov_load_unal,  "mov 13(%%rbx), %%rdi", F_ALL)                              \
    /* MOVZX / MOVSX / MOVSXD */                                                  \
    X(movzbl,         "movzbl 3(%%rbx), %%ecx", F_ALL)                            \
    X(movzwl,         "movzwl 4(%%rbx), %%ecx", F_ALL)                            \
    X(movzbq,         "movzbq 3(%%rbx), %%rcx", F_ALL)                            \
    X(movzwq,         "movzwq 4(%%rbx), %%rcx", F_ALL)                            \
    X(movzbw,         "movzbw 3(%%rbx), %%cx", F_ALL)                             \
    X(movsbl,         "movsbl 7(%%rbx), %%ecx", F_ALL)                            \
    X(movswl,         "movswl 6(%%rbx), %%ecx", F_ALL)                            \
    X(movsbq,         "movsbq 7(%%rbx), %%rcx", F_ALL)                            \
    X(movswq,         "movswq 6(%%rbx), %%rcx", F_ALL)                            \
    X(movsbw,         "movsbw 7(%%rbx), %%cx", F_ALL)                             \
    X(movslq,         "movslq 12(%%rbx), %%rcx", F_ALL)                           \
    X(movzx_r11,      "movzbl 1(%%rbx), %%r11d; mov %%r11, %%rdx", F_ALL)         \
    /* MOVS (A4, A5) between MMIO and RAM, with and without REP, DF = 1 */     \
    X(movsq_to_ram,   "lea 0(%%rbx), %%rsi; mov %%r8, %%rdi; mov $4, %%ecx; rep movsq; sub %%rbx, %%rsi; sub %%r8, %%rdi", F_ALL) \
    X(movsb_from_ram, "mov %%r8, %%rsi; lea 32(%%rbx), %%rdi; mov $9, %%ecx; rep movsb; sub %%r8, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsw_back_ram, "lea 40(%%rbx), %%rsi; lea 56(%%r8), %%rdi; mov $4, %%ecx; std; rep movsw; cld; sub %%rbx, %%rsi; sub %%r8, %%rdi", F_ALL) \
    X(movsq_zero_ram, "lea 8(%%rbx), %%rsi; mov %%r8, %%rdi; xor %%ecx, %%ecx; rep movsq; sub %%rbx, %%rsi; sub %%r8, %%rdi", F_ALL) \
    /* STOS (AA, AB) */                                                           \
    X(stosb_rep,      "lea 16(%%rbx), %%rdi; mov $7, %%ecx; rep stosb; sub %%rbx, %%rdi", F_ALL) \
    X(stosw_rep,      "lea 16(%%rbx), %%rdi; mov $7, %%ecx; rep stosw; sub %%rbx, %%rdi", F_ALL) \
    X(stosl_rep,      "lea 16(%%rbx), %%rdi; mov $7, %%ecx; rep stosl; sub %%rbx, %%rdi", F_ALL) \
    X(stosq_rep,      "lea 16(%%rbx), %%rdi; mov $7, %%ecx; rep stosq; sub %%rbx, %%rdi", F_ALL) \
    X(stosl_once,     "lea 60(%%rbx), %%rdi; stosl; sub %%rbx, %%rdi", F_ALL)     \
    X(stosq_back,     "lea 96(%%rbx), %%rdi; mov $3, %%ecx; std; rep stosq; cld; sub %%rbx, %%rdi", F_ALL) \
    /* ALU with a memory operand */                                               \
    ALU_CASES(X, and, F_LOGIC)                                                    \
    ALU_CASES(X, or, F_LOGIC)                                                     \
    ALU_CASES(X, xor, F_LOGIC)                                                    \
    ALU_CASES(X, add, F_ALL)                                                      \
    ALU_CASES(X, sub, F_ALL)                                                      \
    ALU_CASES(X, cmp, F_ALL)                                                      \
    X(lock_add32,     "lock addl %%eax, 8(%%rbx)", F_ALL)                         \
    X(lock_or64,      "lock orq $1, 16(%%rbx)", F_LOGIC)                          \
    X(lock_xor8,      "lock xorb %%dl, 3(%%rbx)", F_LOGIC)                        \
    /* TEST (84, 85, F6 /0, F7 /0) */                                             \
    X(test_mr8,       "test %%al, 3(%%rbx)", F_LOGIC)                             \
    X(test_mr16,      "test %%ax, 6(%%rbx)", F_LOGIC)                             \
    X(test_mr32,      "test %%eax, 8(%%rbx)", F_LOGIC)                            \
    X(test_mr64,      "test %%rax, 16(%%rbx)", F_LOGIC)                           \
    X(test_mi8,       "testb $0x81, 9(%%rbx)", F_LOGIC)                           \
    X(test_mi16,      "testw $0x8000, 10(%%rbx)", F_LOGIC)                        \
    X(test_mi32,      "testl $0x80000001, 12(%%rbx)", F_LOGIC)                    \
    X(test_mi64,      "testq $-1, 16(%%rbx)", F_LOGIC)                            \
    X(test_zero,      "testl $0, 12(%%rbx)", F_LOGIC)                             \
    /* XCHG (86, 87) */                                                           \
    X(xchg8,          "xchg %%al, 3(%%rbx)", F_ALL)                               \
    X(xchg16,         "xchg %%ax, 6(%%rbx)", F_ALL)                               \
    X(xchg32,         "xchg %%eax, 8(%%rbx)", F_ALL)                              \
    X(xchg64,         "xchg %%rax, 16(%%rbx)", F_ALL)                             \
    X(xchg64_rm,      "xchg 24(%%rbx), %%rcx", F_ALL)                             \
    /* BT (0F A3 with register offsets in and beyond the operand, 0F BA /4) */    \
    X(bt_r32,         "mov $5, %%eax; btl %%eax, 8(%%rbx)", F_BT)                 \
    X(bt_r32_far,     "mov $37, %%eax; btl %%eax, 8(%%rbx)", F_BT)                \
    X(bt_r64_neg,     "mov $-3, %%rax; btq %%rax, 16(%%rbx)", F_BT)               \
    X(bt_r16,         "mov $19, %%eax; btw %%ax, 6(%%rbx)", F_BT)                 \
    X(bt_i32,         "btl $5, 8(%%rbx)", F_BT)                                   \
    X(bt_i16,         "btw $17, 6(%%rbx)", F_BT)                                  \
    X(bt_i64,         "btq $63, 16(%%rbx)", F_BT)                                 \
    /* ADC/SBB in every form; INC DEC NOT NEG (FE/FF, F6/F7), with LOCK */     \
    ALU_CASES(X, adc, F_ALL)                                                      \
    ALU_CASES(X, sbb, F_ALL)                                                      \
    X(incb,           "incb 3(%%rbx)", F_ALL)                                     \
    X(incw,           "incw 6(%%rbx)", F_ALL)                                     \
    X(lock_incl,      "lock incl 8(%%rbx)", F_ALL)                                \
    X(incq,           "incq 16(%%rbx)", F_ALL)                                    \
    X(decb,           "decb 3(%%rbx)", F_ALL)                                     \
    X(lock_decq,      "lock decq 16(%%rbx)", F_ALL)                               \
    X(decl_zero,      "movl $1, 8(%%rbx); decl 8(%%rbx)", F_ALL)                  \
    X(notb,           "notb 3(%%rbx)", F_ALL)                                     \
    X(lock_notl,      "lock notl 8(%%rbx)", F_ALL)                                \
    X(notq,           "notq 16(%%rbx)", F_ALL)                                    \
    X(negb,           "negb 3(%%rbx)", F_ALL)                                     \
    X(negw,           "negw 6(%%rbx)", F_ALL)                                     \
    X(lock_negq,      "lock negq 16(%%rbx)", F_ALL)                               \
    X(negl_zero,      "movl $0, 8(%%rbx); negl 8(%%rbx)", F_ALL)                  \
    /* BTS BTR BTC: immediate and register offsets, beyond the operand, LOCK */   \
    X(bts_i32,        "btsl $5, 8(%%rbx)", F_BT)                                  \
    X(lock_bts_r64,   "mov $-3, %%rax; lock btsq %%rax, 16(%%rbx)", F_BT)         \
    X(btr_i16,        "btrw $17, 6(%%rbx)", F_BT)                                 \
    X(lock_btr_r32,   "mov $37, %%eax; lock btrl %%eax, 8(%%rbx)", F_BT)          \
    X(btc_i64,        "btcq $63, 16(%%rbx)", F_BT)                                \
    X(btc_r16,        "mov $19, %%eax; btcw %%ax, 6(%%rbx)", F_BT)                \
    /* XADD, CMPXCHG (equal and not), CMPXCHG8B, with and without LOCK */         \
    X(xaddb,          "xaddb %%dl, 3(%%rbx)", F_ALL)                              \
    X(lock_xaddl,     "lock xaddl %%eax, 8(%%rbx)", F_ALL)                        \
    X(xaddq,          "xaddq %%rcx, 16(%%rbx)", F_ALL)                            \
    X(cmpxchgb_ne,    "cmpxchgb %%dl, 3(%%rbx)", F_ALL)                           \
    X(cmpxchgw_eq,    "movw 6(%%rbx), %%ax; cmpxchgw %%cx, 6(%%rbx)", F_ALL)      \
    X(lock_cmpxchgl_ne, "lock cmpxchgl %%ecx, 8(%%rbx)", F_ALL)                   \
    X(lock_cmpxchgq_eq, "mov 16(%%rbx), %%rax; lock cmpxchgq %%rdx, 16(%%rbx)", F_ALL) \
    X(cmpxchg8b_ne,   "mov %%rbx, %%r9; push %%rbx; mov %%esi, %%ebx; lock cmpxchg8b 16(%%r9); pop %%rbx", F_ALL) \
    X(cmpxchg8b_eq,   "mov %%rbx, %%r9; mov 24(%%r9), %%eax; mov 28(%%r9), %%edx; push %%rbx; " \
                      "mov %%esi, %%ebx; cmpxchg8b 24(%%r9); pop %%rbx", F_ALL)   \
    /* MOVNTI, MOVBE */                                                           \
    X(movnti32,       "movnti %%eax, 8(%%rbx)", F_ALL)                            \
    X(movnti64,       "movnti %%rdx, 16(%%rbx)", F_ALL)                           \
    X(movbe_load16,   "movbe 6(%%rbx), %%cx", F_ALL)                              \
    X(movbe_load32,   "movbe 8(%%rbx), %%ecx", F_ALL)                             \
    X(movbe_load64,   "movbe 16(%%rbx), %%rcx", F_ALL)                            \
    X(movbe_store16,  "movbe %%ax, 6(%%rbx)", F_ALL)                              \
    X(movbe_store64,  "movbe %%rdx, 16(%%rbx)", F_ALL)                            \
    /* PUSH r/m from MMIO, POP r/m into MMIO (the stack is RAM) */                \
    X(pushq_mmio,     "pushq 16(%%rbx); popq %%rcx", F_ALL)                       \
    X(pushw_mmio,     "pushw 6(%%rbx); popw %%cx", F_ALL)                         \
    X(popq_mmio,      "pushq %%rdx; popq 24(%%rbx)", F_ALL)                       \
    X(popw_mmio,      "pushw %%dx; popw 10(%%rbx)", F_ALL)                        \
    X(pushq_idx,      "mov $2, %%ecx; pushq 8(%%rbx,%%rcx,4); popq %%rsi", F_ALL) \
    /* LODS, SCAS with REPE/REPNE, CMPS between MMIO and RAM (both ways) */       \
    X(lodsb,          "lea 3(%%rbx), %%rsi; lodsb; sub %%rbx, %%rsi", F_ALL)      \
    X(lodsl_back,     "lea 12(%%rbx), %%rsi; std; lodsl; cld; sub %%rbx, %%rsi", F_ALL) \
    X(rep_lodsq,      "lea 16(%%rbx), %%rsi; mov $3, %%ecx; rep lodsq; sub %%rbx, %%rsi", F_ALL) \
    X(scasb_once,     "lea 5(%%rbx), %%rdi; scasb; sub %%rbx, %%rdi", F_ALL)      \
    X(repne_scasb,    "lea (%%rbx), %%rdi; movb 9(%%rbx), %%al; mov $20, %%ecx; repne scasb; sub %%rbx, %%rdi", F_ALL) \
    X(repe_scasw,     "lea 8(%%rbx), %%rdi; movw $0x1234, %%ax; movw %%ax, 8(%%rbx); movw %%ax, 10(%%rbx); " \
                      "mov $4, %%ecx; repe scasw; sub %%rbx, %%rdi", F_ALL)     \
    X(repne_scasq_none, "lea (%%rbx), %%rdi; mov $-1, %%rax; mov $4, %%ecx; repne scasq; sub %%rbx, %%rdi", F_ALL) \
    X(repe_cmpsb_mr,  "mov %%r8, %%rdi; lea 8(%%rbx), %%rsi; mov $6, %%ecx; rep movsb; notb 3(%%r8); " \
                      "mov %%r8, %%rdi; lea 8(%%rbx), %%rsi; mov $6, %%ecx; repe cmpsb; " \
                      "sub %%rbx, %%rsi; sub %%r8, %%rdi", F_ALL)                \
    X(repne_cmpsw_rm, "mov %%r8, %%rsi; lea 32(%%rbx), %%rdi; mov $5, %%ecx; repne cmpsw; " \
                      "sub %%r8, %%rsi; sub %%rbx, %%rdi", F_ALL)                \
    X(cmpsq_rm,       "mov %%r8, %%rsi; lea 16(%%rbx), %%rdi; cmpsq; sub %%r8, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(cmpsl_back,     "lea 40(%%rbx), %%rsi; lea 40(%%r8), %%rdi; mov $3, %%ecx; std; repe cmpsl; cld; " \
                      "sub %%rbx, %%rsi; sub %%r8, %%rdi", F_ALL)                \
    /* SSE/AVX moves (the registers go through RAM `other` to be compared) */   \
    X(movd_load,      "pcmpeqb %%xmm0, %%xmm0; movd 8(%%rbx), %%xmm0; movdqu %%xmm0, (%%r8)", F_ALL) \
    X(movq_load_6e,   "pcmpeqb %%xmm0, %%xmm0; .byte 0x66, 0x48, 0x0f, 0x6e, 0x43, 0x10; movdqu %%xmm0, (%%r8)", F_ALL) \
    X(movq_load_7e,   "pcmpeqb %%xmm1, %%xmm1; movq 24(%%rbx), %%xmm1; movdqu %%xmm1, 16(%%r8)", F_ALL) \
    X(movdqa_load,    "movdqa 16(%%rbx), %%xmm2; movdqu %%xmm2, (%%r8)", F_ALL)  \
    X(movdqu_load,    "movdqu 5(%%rbx), %%xmm9; movdqu %%xmm9, 32(%%r8)", F_ALL) \
    X(movdqu_keeps_ymm, "vpcmpeqb %%ymm4, %%ymm4, %%ymm4; movdqu 8(%%rbx), %%xmm4; vmovdqu %%ymm4, (%%r8)", F_ALL) \
    X(vmovdqu_load128, "vpcmpeqb %%ymm3, %%ymm3, %%ymm3; vmovdqu 8(%%rbx), %%xmm3; vmovdqu %%ymm3, 32(%%r8)", F_ALL) \
    X(vmovdqu_load256, "vmovdqu 40(%%rbx), %%ymm12; vmovdqu %%ymm12, (%%r8)", F_ALL) \
    X(vmovdqa_load256, "vmovdqa 64(%%rbx), %%ymm5; vmovdqu %%ymm5, 32(%%r8)", F_ALL) \
    X(vmovd_load,     "vpcmpeqb %%ymm6, %%ymm6, %%ymm6; vmovd 12(%%rbx), %%xmm6; vmovdqu %%ymm6, (%%r8)", F_ALL) \
    X(movd_store,     "movdqu (%%r8), %%xmm5; movd %%xmm5, 4(%%rbx)", F_ALL)     \
    X(movq_store_d6,  "movdqu (%%r8), %%xmm5; movq %%xmm5, 40(%%rbx)", F_ALL)    \
    X(movq_store_7e,  "movdqu 8(%%r8), %%xmm0; .byte 0x66, 0x48, 0x0f, 0x7e, 0x43, 0x30", F_ALL) \
    X(movdqa_store,   "movdqu 3(%%r8), %%xmm7; movdqa %%xmm7, 32(%%rbx)", F_ALL) \
    X(movdqu_store,   "movdqu 5(%%r8), %%xmm13; movdqu %%xmm13, 77(%%rbx)", F_ALL) \
    X(vmovdqu_store256, "vmovdqu 1(%%r8), %%ymm8; vmovdqu %%ymm8, 64(%%rbx)", F_ALL) \
    X(vmovdqa_store128, "vmovdqu 2(%%r8), %%xmm15; vmovdqa %%xmm15, 96(%%rbx)", F_ALL) \
    X(vmovq_store,    "vmovdqu 9(%%r8), %%xmm1; vmovq %%xmm1, 120(%%rbx)", F_ALL) \
    /* MOVS from MMIO to MMIO (last: the kernel must write the element back out) */ \
    X(movsb_rep,      "lea 8(%%rbx), %%rsi; lea 64(%%rbx), %%rdi; mov $5, %%ecx; rep movsb; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsw_rep,      "lea 8(%%rbx), %%rsi; lea 64(%%rbx), %%rdi; mov $5, %%ecx; rep movsw; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsl_rep,      "lea 8(%%rbx), %%rsi; lea 64(%%rbx), %%rdi; mov $5, %%ecx; rep movsl; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsq_rep,      "lea 8(%%rbx), %%rsi; lea 64(%%rbx), %%rdi; mov $3, %%ecx; rep movsq; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsl_once,     "lea 4(%%rbx), %%rsi; lea 100(%%rbx), %%rdi; movsl; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsw_back,     "lea 40(%%rbx), %%rsi; lea 100(%%rbx), %%rdi; mov $4, %%ecx; std; rep movsw; cld; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL) \
    X(movsb_zero,     "lea 8(%%rbx), %%rsi; lea 64(%%rbx), %%rdi; xor %%ecx, %%ecx; rep movsb; sub %%rbx, %%rsi; sub %%rbx, %%rdi", F_ALL)

CASES(DEFINE_OP)

static const struct {
    const char *name;
    op_fn fn;
    uint64_t mask;
} cases[] = {
#define TABLE_ENTRY(name, text, mask) { #name, op_##name, mask },
    CASES(TABLE_ENTRY)
#undef TABLE_ENTRY
};

static uint8_t ram[REGION] __attribute__((aligned(64)));
static uint8_t other[64] __attribute__((aligned(64)));

static const uint64_t flag_patterns[4] = {
    0x2,
    0x2 | RFLAGS_CF | RFLAGS_ZF,
    0x2 | RFLAGS_SF | RFLAGS_OF | RFLAGS_PF | RFLAGS_AF,
    0x2 | RFLAGS_STATUS,
};

/* 8-byte accesses only: on the scratch device each is one MOV exit. */
static void region_fill(volatile uint64_t *region, unsigned seed)
{
    for (unsigned i = 0; i < REGION / 8; i++) {
        uint64_t v = 0;
        for (unsigned b = 0; b < 8; b++)
            v |= (uint64_t)(uint8_t)((i * 8 + b) * 37 + 0x85 + seed * 11) << (8 * b);
        region[i] = v;
    }
}

static void region_read(const volatile uint64_t *region, uint64_t out[REGION / 8])
{
    for (unsigned i = 0; i < REGION / 8; i++)
        out[i] = region[i];
}

struct outcome {
    struct state state;
    uint64_t region[REGION / 8];
    uint8_t other[64];
};

static void run_case(unsigned index, unsigned pattern, uint8_t *base, struct outcome *out)
{
    region_fill((volatile uint64_t *)base, index);
    for (unsigned i = 0; i < sizeof other; i++)
        other[i] = (uint8_t)(i * 13 + index);
    out->state = (struct state){
        .rax = 0x8877665544332211ull ^ ((uint64_t)index << 40),
        .rcx = 0x0123456789abcdefull,
        .rdx = 0xfedcba9876543210ull,
        .rsi = 0x13579bdf02468aceull,
        .rdi = 0x2468ace013579bdfull,
        .flags = flag_patterns[pattern],
    };
    cases[index].fn(base, other, &out->state);
    region_read((const volatile uint64_t *)base, out->region);
    memcpy(out->other, other, sizeof other);
}

static bool outcome_compare(const struct outcome *mmio, const struct outcome *ram_run,
                            uint64_t mask)
{
    bool ok = true;
    const uint64_t *a = &mmio->state.rax, *b = &ram_run->state.rax;
    static const char *const names[] = { "rax", "rcx", "rdx", "rsi", "rdi" };

    for (unsigned i = 0; i < 5; i++)
        if (a[i] != b[i]) {
            guest_printf("  %s: mmio 0x%llx, ram 0x%llx\n", names[i], (unsigned long long)a[i],
                         (unsigned long long)b[i]);
            ok = false;
        }
    if ((mmio->state.flags & mask) != (ram_run->state.flags & mask)) {
        guest_printf("  flags: mmio 0x%llx, ram 0x%llx (mask 0x%llx)\n",
                     (unsigned long long)mmio->state.flags,
                     (unsigned long long)ram_run->state.flags, (unsigned long long)mask);
        ok = false;
    }
    for (unsigned i = 0; i < REGION / 8; i++)
        if (mmio->region[i] != ram_run->region[i]) {
            guest_printf("  bytes %u..%u: mmio 0x%016llx, ram 0x%016llx\n", i * 8, i * 8 + 7,
                         (unsigned long long)mmio->region[i],
                         (unsigned long long)ram_run->region[i]);
            ok = false;
        }
    if (memcmp(mmio->other, ram_run->other, sizeof mmio->other) != 0) {
        guest_print("  the RAM buffer `other` differs\n");
        ok = false;
    }
    return ok;
}

static void check_cases(void)
{
    static struct outcome on_mmio, on_ram;
    uint8_t *mmio = (uint8_t *)(uintptr_t)MMIO_SCRATCH;
    unsigned failed = 0;

    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool ok = true;
        for (unsigned p = 0; p < 4 && ok; p++) {
            run_case(i, p, mmio, &on_mmio);
            run_case(i, p, ram, &on_ram);
            if (!outcome_compare(&on_mmio, &on_ram, cases[i].mask)) {
                guest_printf("  (flag pattern %u)\n", p);
                ok = false;
            }
        }
        CHECK(cases[i].name, ok);
        failed += !ok;
    }
    guest_printf("%u instruction forms, %u differ from RAM\n",
                 (unsigned)(sizeof cases / sizeof cases[0]), failed);
}

/* MOV AL/rAX <-> moffs (A0-A3): absolute addresses, so checked on their own. */
static void check_moffs(void)
{
    volatile uint64_t *scratch = (volatile uint64_t *)(uintptr_t)MMIO_SCRATCH;
    uint64_t rax;

    scratch[4] = 0x1122334455667788ull;   /* bytes 0x20..0x27 */
    __asm__ volatile("movabs 0xC0000020, %%al" : "=a"(rax) : "a"(0xffffffffffffff00ull));
    CHECK_EQ("moffs A0: movabs mem, al", rax, 0xffffffffffffff88ull);
    __asm__ volatile("movabs 0xC0000020, %%eax" : "=a"(rax));
    CHECK_EQ("moffs A1: movabs mem, eax", rax, 0x55667788ull);
    __asm__ volatile("movabs 0xC0000020, %%rax" : "=a"(rax));
    CHECK_EQ("moffs A1 REX.W: movabs mem, rax", rax, 0x1122334455667788ull);
    __asm__ volatile("movabs 0xC0000020, %%ax" : "=a"(rax) : "a"(0xaaaaaaaaaaaaaaaaull));
    CHECK_EQ("moffs 66 A1: movabs mem, ax", rax, 0xaaaaaaaaaaaa7788ull);
    __asm__ volatile("movabs %%al, 0xC0000028" :: "a"(0x99));
    __asm__ volatile("movabs %%eax, 0xC000002c" :: "a"(0xdeadbeef));
    CHECK_EQ("moffs A2/A3: movabs al/eax, mem", scratch[5] & 0xffffffff000000ffull,
             0xdeadbeef00000099ull);
    __asm__ volatile("movabs %%rax, 0xC0000030" :: "a"(0x0102030405060708ull));
    CHECK_EQ("moffs A3 REX.W: movabs rax, mem", scratch[6], 0x0102030405060708ull);
}

/* Guest virtual 0x40000000 maps guest-physical 0xC0000000 (boot.S): the
 * kernel must walk the guest page tables to find the GPA, and RIP-relative
 * operands must use the address of the next instruction. */
static void check_alias(void)
{
    volatile uint64_t *scratch = (volatile uint64_t *)(uintptr_t)MMIO_SCRATCH;
    volatile uint64_t *alias = (volatile uint64_t *)(uintptr_t)MMIO_SCRATCH_ALIAS;
    uint64_t v;

    scratch[9] = 0xa11a5a11a5a11a5aull;
    CHECK_EQ("VA 0x40000048 reads GPA 0xC0000048", alias[9], 0xa11a5a11a5a11a5aull);
    alias[10] = 0x5ca1ab1e5ca1ab1eull;
    CHECK_EQ("a write through VA 0x40000050 lands at GPA 0xC0000050", scratch[10],
             0x5ca1ab1e5ca1ab1eull);
    __asm__ volatile("movq mmio_scratch_alias + 0x48(%%rip), %0" : "=r"(v));
    CHECK_EQ("RIP-relative load from VA 0x40000048", v, 0xa11a5a11a5a11a5aull);
    __asm__ volatile("movl $0x600df00d, mmio_scratch_alias + 0x58(%%rip)" ::: "memory");
    CHECK_EQ("RIP-relative store with an immediate (RIP counts the imm32)",
             scratch[11] & 0xffffffff, 0x600df00d);
}

/* Unmapped, unclaimed MMIO: reads all ones, writes vanish. */
static void check_unclaimed(void)
{
    volatile uint32_t *hole = (volatile uint32_t *)(uintptr_t)0xD0000000ull;
    volatile uint8_t *hole8 = (volatile uint8_t *)(uintptr_t)0xFEC00000ull;

    CHECK_EQ("unclaimed MMIO dword reads all ones", hole[0], 0xffffffffu);
    hole[1] = 0x12345678;
    CHECK_EQ("unclaimed MMIO ignores writes", hole[1], 0xffffffffu);
    CHECK_EQ("unclaimed MMIO byte reads 0xff", hole8[3], 0xff);
}

/* ---- Privilege: what the kernel accesses or fetches itself ------------- */

/* A 2 MiB window at VA 0x2000000 mapped by 4 KiB pages (pt), each onto one
 * of `pages`, with the flags a check needs; the window's own PDE lets user
 * access, so each page's U/S bit decides. */
#define WINDOW 0x2000000ull
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
static uint64_t pt[512] __attribute__((aligned(4096)));
static uint8_t pages[4][4096] __attribute__((aligned(4096)));
static volatile uint64_t fault_vector, fault_error, fault_cr2, fault_rax, recover_rip, recover_rsp;

/* #PF, and #UD, which ends each CPL 3 run (user_code below): note it and
 * resume at recover_rip, at CPL 0 on recover_rsp when it came from CPL 3. */
static void on_fault(struct guest_frame *f)
{
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    fault_vector = f->vector == 6 ? 0 : f->vector;
    fault_error = f->error;
    fault_cr2 = cr2;
    fault_rax = f->rax;
    f->rip = recover_rip;
    if (f->cs & 3) {
        f->cs = 0x08;
        f->ss = 0x10;
        f->rsp = recover_rsp;
        f->rflags = 0x2;
    }
}

/* The window's PDE; user access is allowed at the levels above it (boot.S's
 * PDEs keep every other page supervisor). */
static uint64_t *pde_of_window(void)
{
    uint64_t cr3, *pml4, *pdpt;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
    pml4[0] |= PTE_U;
    pdpt = (uint64_t *)(uintptr_t)(pml4[0] & ~0xfffull);
    pdpt[0] |= PTE_U;
    return (uint64_t *)(uintptr_t)(pdpt[0] & ~0xfffull) + (WINDOW >> 21);
}

/* Page i of the window onto pages[i] with `flags`; returns its VA. */
static uint8_t *window_map(unsigned i, uint64_t flags)
{
    uint8_t *va = (uint8_t *)(uintptr_t)(WINDOW + 4096u * i);
    pt[i] = (uint64_t)(uintptr_t)pages[i] | flags;
    __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
    return va;
}

static void write_cr(int which, uint64_t set, uint64_t clear)
{
    uint64_t v;
    if (which == 0) {
        __asm__ volatile("mov %%cr0, %0" : "=r"(v));
        v = (v | set) & ~clear;
        __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory");
    } else {
        __asm__ volatile("mov %%cr4, %0" : "=r"(v));
        v = (v | set) & ~clear;
        __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory");
    }
}

/* MOVSB from src to dst at CPL 0, with RFLAGS.AC = ac; the fault vector or 0. */
static uint64_t probe_movsb(const void *src, void *dst, bool ac)
{
    fault_vector = fault_error = fault_cr2 = 0;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %[rec]\n\t"
                     "test %[ac], %[ac]\n\tjz 2f\n\tstac\n2:\tmovsb\n1:\tclac"
                     : "+S"(src), "+D"(dst), [rec] "=m"(recover_rip) : [ac] "r"((uint64_t)ac) : "rax", "memory");
    return fault_vector;
}

/* One MOVSB into window page 0 (mapped with `flags`) from the scratch device
 * and from RAM: the kernel's check of the RAM side must be the CPU's
 * (vector, error code, CR2, and the byte written or not). */
static void check_movsb_into(const char *name, uint64_t flags, bool ac, uint64_t want_vector, uint64_t want_error)
{
    volatile uint8_t *scratch = (volatile uint8_t *)(uintptr_t)MMIO_SCRATCH;
    static const uint8_t from_ram = 0x3c;
    uint8_t *dst = window_map(0, flags);
    scratch[0x200] = 0xa5;
    pages[0][0] = 0;
    uint64_t v_ram = probe_movsb(&from_ram, dst, ac), e_ram = fault_error, c_ram = fault_cr2;
    uint8_t d_ram = pages[0][0];
    pages[0][0] = 0;
    uint64_t v_mmio = probe_movsb((const void *)(uintptr_t)(MMIO_SCRATCH + 0x200), dst, ac);
    bool ok = v_ram == want_vector && e_ram == want_error && v_mmio == v_ram && fault_error == e_ram &&
              fault_cr2 == c_ram && (want_vector ? c_ram == (uintptr_t)dst && pages[0][0] == 0 && d_ram == 0
                                                 : pages[0][0] == 0xa5 && d_ram == 0x3c);
    if (!ok)
        guest_printf("  RAM source: vector %llu error 0x%llx cr2 0x%llx byte 0x%x; MMIO source: vector %llu "
                     "error 0x%llx cr2 0x%llx byte 0x%x\n", (unsigned long long)v_ram, (unsigned long long)e_ram,
                     (unsigned long long)c_ram, d_ram, (unsigned long long)v_mmio,
                     (unsigned long long)fault_error, (unsigned long long)fault_cr2, pages[0][0]);
    CHECK(name, ok);
}

#define CR0_WP   (1ull << 16)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

/*
 * SMEP on the fetch the kernel makes to decode: the code page is user
 * (U/S=1) in the page tables but still supervisor in the CPU's TLB (set
 * without INVLPG after the CPU fetched from it), so the CPU runs the MMIO
 * load, exits, and the kernel's fetch walks the tables: with CR4.SMEP at CPL
 * 0 that is #PF (P | I/D), as the CPU raises on a TLB miss.  Without the
 * check the kernel would decode and complete it.  (Should the TLB entry be
 * gone, the CPU raises the same #PF itself.)
 */
static void check_smep_fetch(void)
{
    static uint64_t saved_rsp;
    uint64_t rax = 0;
    pages[1][0] = 0x8a;     /* mov (%rbx), %al */
    pages[1][1] = 0x03;
    pages[1][2] = 0xc3;     /* ret */
    pages[1][0x100] = 0xc3; /* ret */
    uint8_t *code = window_map(1, PTE_P);
    write_cr(4, CR4_SMEP, 0);
    fault_vector = fault_error = fault_cr2 = 0;
    __asm__ volatile("call *%0" :: "r"(code + 0x100) : "memory");   /* the CPU's TLB has the page now */
    pt[1] |= PTE_U;
    __asm__ volatile("lea 1f(%%rip), %%rcx\n\tmov %%rcx, %[rec]\n\tmov %%rsp, %[sp]\n\t"
                     "call *%[f]\n1:\tmov %[sp], %%rsp"
                     : "+a"(rax), [rec] "=m"(recover_rip), [sp] "=m"(saved_rsp)
                     : [f] "r"(code), "b"(MMIO_SCRATCH) : "rcx", "memory");
    write_cr(4, 0, CR4_SMEP);
    window_map(1, PTE_P);
    if (fault_vector != 14 || fault_error != 0x11 || fault_cr2 != (uintptr_t)code)
        guest_printf("  vector %llu error 0x%llx cr2 0x%llx, al 0x%llx\n", (unsigned long long)fault_vector,
                     (unsigned long long)fault_error, (unsigned long long)fault_cr2, (unsigned long long)rax);
    CHECK("SMEP: the kernel's fetch of a user code page at CPL 0 is #PF (P | I/D)",
          fault_vector == 14 && fault_error == 0x11 && fault_cr2 == (uintptr_t)code);
}

/* Code the checks run at CPL 3, on its own page (window page 2, user). */
extern const char user_code[], user_movsb[], user_load[], user_ud2[];
__asm__(".pushsection .text.user, \"ax\"\n\t.balign 4096\n"
        "user_code:\n"
        "user_movsb:\tmovsb\n\tud2\n"
        "user_load:\tmovb (%rbx), %al\n\tud2\n"
        "user_ud2:\tud2\n"
        "\t.balign 4096\n\t.popsection");

/* A GDT with CPL 3 segments and a TSS, whose RSP0 takes the faults of CPL 3. */
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint32_t tss[26] __attribute__((aligned(16)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));

static void user_setup(void)
{
    uint64_t tss_base = (uint64_t)(uintptr_t)tss, rsp0 = (uint64_t)(uintptr_t)(ring0_stack + sizeof ring0_stack);
    tss[1] = (uint32_t)rsp0;
    tss[2] = (uint32_t)(rsp0 >> 32);
    tss[25] = sizeof tss << 16;   /* I/O map base beyond the limit: no I/O bitmap */
    gdt[1] = 0x00AF9A000000FFFFull;   /* 0x08: 64-bit code, DPL 0 (as boot.S) */
    gdt[2] = 0x00CF92000000FFFFull;   /* 0x10: data */
    gdt[3] = 0x00CFF2000000FFFFull;   /* 0x18: data, DPL 3 */
    gdt[4] = 0x00AFFA000000FFFFull;   /* 0x20: 64-bit code, DPL 3 */
    gdt[5] = (sizeof tss - 1) | (tss_base & 0xFFFFFF) << 16 | 0x89ull << 40 | (tss_base >> 24 & 0xFF) << 56;
    gdt[6] = tss_base >> 32;
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) pointer = { sizeof gdt - 1, (uint64_t)(uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n\tmov $0x28, %%ax\n\tltr %%ax" :: "m"(pointer) : "rax", "memory");
}

/* Runs `entry` (in user_code) at CPL 3 with RSI, RDI, RBX; returns the fault
 * vector (0: it reached its UD2). */
static uint64_t user_run(const char *entry, uint64_t rsi, uint64_t rdi, uint64_t rbx)
{
    uint64_t va = WINDOW + 2 * 4096 + (uint64_t)(entry - user_code);
    uint64_t stack = WINDOW + 4 * 4096 - 64;   /* window page 3, user RW */
    fault_vector = fault_error = fault_cr2 = ~0ull;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %[rec]\n\tmov %%rsp, %[rsp]\n\t"
                     "pushq $0x1b\n\tpushq %[stack]\n\tpushq $0x2\n\tpushq $0x23\n\tpushq %[va]\n\tiretq\n"
                     "1:\tmov $0x10, %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%es"
                     : [rec] "=m"(recover_rip), [rsp] "=m"(recover_rsp), "+S"(rsi), "+D"(rdi)
                     : [stack] "r"(stack), [va] "r"(va), "b"(rbx) : "rax", "rcx", "rdx", "memory");
    return fault_vector;
}

static void check_cpl3(void)
{
    volatile uint8_t *scratch = (volatile uint8_t *)(uintptr_t)MMIO_SCRATCH;
    user_setup();
    idt_set_handler(6, on_fault);
    pt[2] = (uint64_t)(uintptr_t)user_code | PTE_P | PTE_U;
    pt[3] = (uint64_t)(uintptr_t)pages[3] | PTE_P | PTE_W | PTE_U;
    pt[4] = MMIO_SCRATCH | PTE_P | PTE_W | PTE_U;           /* the scratch device, user RW */
    pt[5] = (uint64_t)(uintptr_t)pages[2] | PTE_P | PTE_W | PTE_U;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    uint64_t user_mmio = WINDOW + 4 * 4096, user_ram = WINDOW + 5 * 4096;

    scratch[0x300] = 0x5e;
    CHECK("CPL 3: MMIO load through a user mapping (the kernel fetches user code at CPL 3)",
          user_run(user_load, 0, 0, user_mmio + 0x300) == 0 && (uint8_t)fault_rax == 0x5e);

    /* MOVS at CPL 3 into a supervisor page: #PF (P | W | U), as the CPU raises with a RAM source. */
    uint8_t *super = window_map(0, PTE_P | PTE_W);
    pages[2][0x10] = 0x11;
    uint64_t v_ram = user_run(user_movsb, user_ram + 0x10, (uint64_t)(uintptr_t)super, 0), e_ram = fault_error;
    uint64_t c_ram = fault_cr2;
    uint64_t v_mmio = user_run(user_movsb, user_mmio + 0x300, (uint64_t)(uintptr_t)super, 0);
    if (v_ram != 14 || e_ram != 0x7 || v_mmio != 14 || fault_error != 0x7 || fault_cr2 != c_ram)
        guest_printf("  RAM source: vector %llu error 0x%llx; MMIO source: vector %llu error 0x%llx\n",
                     (unsigned long long)v_ram, (unsigned long long)e_ram, (unsigned long long)v_mmio,
                     (unsigned long long)fault_error);
    CHECK("CPL 3: MOVS from MMIO into a supervisor page is #PF (P | W | U)",
          v_ram == 14 && e_ram == 0x7 && v_mmio == 14 && fault_error == 0x7 && fault_cr2 == c_ram);

    /* The user code page turns supervisor while the CPU's TLB still has it
     * as user: the CPU runs the MMIO load, the kernel's fetch at CPL 3 must
     * fault (P | U; no I/D: SMEP and EFER.NXE are off, SDM vol. 3 §4.7)
     * where a fetch at CPL 0 would pass. */
    user_run(user_ud2, 0, 0, 0);    /* the CPU's TLB has the code page */
    pt[2] &= ~PTE_U;
    uint64_t v = user_run(user_load, 0, 0, user_mmio + 0x300);
    uint64_t want_cr2 = WINDOW + 2 * 4096 + (uint64_t)(user_load - user_code);
    if (v != 14 || fault_error != 0x5 || fault_cr2 != want_cr2)
        guest_printf("  vector %llu error 0x%llx cr2 0x%llx\n", (unsigned long long)v,
                     (unsigned long long)fault_error, (unsigned long long)fault_cr2);
    CHECK("CPL 3: the kernel's fetch of a supervisor code page is #PF (P | U)",
          v == 14 && fault_error == 0x5 && fault_cr2 == want_cr2);
    pt[2] |= PTE_U;
    __asm__ volatile("invlpg (%0)" :: "r"(want_cr2) : "memory");
}

static void check_privilege(void)
{
    uint32_t r[4];
    cpuid(7, 0, r);
    if (!(r[1] & (1u << 7)) || !(r[1] & (1u << 20))) {
        CHECK("CPUID has SMEP and SMAP", false);
        return;
    }
    idt_init();
    idt_set_handler(14, on_fault);
    *pde_of_window() = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W | PTE_U;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");

    write_cr(4, CR4_SMAP, 0);
    check_movsb_into("SMAP: MOVS from MMIO into a user page at CPL 0 is #PF (P | W)", PTE_P | PTE_W | PTE_U,
                     false, 14, 0x3);
    check_movsb_into("SMAP: ... allowed with RFLAGS.AC", PTE_P | PTE_W | PTE_U, true, 0, 0);
    write_cr(4, 0, CR4_SMAP);
    check_movsb_into("SMAP off: MOVS from MMIO into a user page at CPL 0", PTE_P | PTE_W | PTE_U, false, 0, 0);
    write_cr(0, CR0_WP, 0);
    check_movsb_into("CR0.WP: MOVS from MMIO into a read-only page is #PF (P | W)", PTE_P, false, 14, 0x3);
    write_cr(0, 0, CR0_WP);
    check_movsb_into("CR0.WP off: MOVS from MMIO into a read-only page at CPL 0", PTE_P, false, 0, 0);
    check_movsb_into("MOVS from MMIO into a page not present is #PF (W)", 0, false, 14, 0x2);
    check_smep_fetch();
    check_cpl3();
}

/* SSE and AVX on: CR4.OSFXSR, OSXMMEXCPT, OSXSAVE; XCR0 = x87 | SSE | AVX. */
static void vector_enable(void)
{
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= (1u << 9) | (1u << 10) | (1u << 18);
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
    __asm__ volatile("xsetbv" :: "c"(0), "a"(7), "d"(0));
}

int guest_main(unsigned cpu, uint32_t info)
{
    (void)info;
    guest_printf("mmio guest on vcpu %u: scratch device at 0x%llx\n", cpu,
                 (unsigned long long)MMIO_SCRATCH);
    check_moffs();
    check_alias();
    check_unclaimed();
    vector_enable();
    check_cases();
    check_privilege();
    return guest_finish();
}
