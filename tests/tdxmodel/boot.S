/* SPDX-License-Identifier: MIT */
/*
 * Entry of the platform model (tests/tdxmodel): a multiboot v1 image that
 * QEMU's loader enters in 32-bit protected mode, paging off, EAX =
 * 0x2BADB002, EBX = multiboot information.  Builds page tables that
 * identity-map the first 4 GiB with 2 MiB pages (the model reads and writes
 * L1 memory by its physical address), enters long mode and calls
 * host_main(magic, info).  Also the exception stubs (the model takes no
 * interrupts: it runs with GIF = 0 between #VMEXIT and VMRUN) and
 * host_vmrun().
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003        /* page-align modules, memory information */

    .section .boot, "ax"
    .code32
    .globl _start
_start:
    jmp     entry32
    .align 4
    .long   MB_MAGIC
    .long   MB_FLAGS
    .long   -(MB_MAGIC + MB_FLAGS)

entry32:
    cli
    cld
    mov     %eax, %esi
    mov     %ebx, %edi
    /* pd[0..2047]: 4 x 512 2 MiB pages covering 0 - 4 GiB. */
    xor     %ecx, %ecx
1:  mov     %ecx, %eax
    shl     $21, %eax
    or      $0x83, %eax             /* P | RW | PS */
    mov     %eax, boot_pd(, %ecx, 8)
    mov     %ecx, %eax
    shr     $11, %eax               /* bits 32+ of the address: ecx / 2048 */
    mov     %eax, boot_pd + 4(, %ecx, 8)
    inc     %ecx
    cmp     $2048, %ecx
    jne     1b
    xor     %ecx, %ecx
2:  shl     $12, %ecx               /* 4 KiB per directory: pd + i * 4096 */
    lea     boot_pd + 3(%ecx), %eax
    shr     $12, %ecx
    mov     %eax, boot_pdpt(, %ecx, 8)
    inc     %ecx
    cmp     $4, %ecx
    jne     2b
    movl    $boot_pdpt + 3, boot_pml4

    mov     %cr4, %eax
    or      $0x20, %eax             /* PAE */
    mov     %eax, %cr4
    mov     $boot_pml4, %eax
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx       /* EFER.LME */
    rdmsr
    or      $0x100, %eax
    wrmsr
    mov     %cr0, %eax
    or      $0x80000001, %eax
    mov     %eax, %cr0
    lgdt    gdt_pointer
    ljmp    $0x08, $entry64

    .code64
entry64:
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    lea     host_stack_top(%rip), %rsp
    mov     %esi, %r12d             /* magic and information from entry32 */
    mov     %edi, %r13d
    call    idt_load
    mov     %r12d, %edi
    mov     %r13d, %esi
    call    host_main               /* host_main(magic, info) */
3:  cli
    hlt
    jmp     3b

/* IDT: 32 exception vectors; each stub pushes a dummy error code where the
 * CPU does not, then the vector. */
    .align 16
exc_stubs:
    .set    v, 0
    .rept   32
    .align  16
    .if (v == 8) || ((v >= 10) && (v <= 14)) || (v == 17) || (v == 21) || (v == 29) || (v == 30)
    .else
    pushq   $0
    .endif
    pushq   $v
    jmp     exc_common
    .set    v, v + 1
    .endr

exc_common:
    mov     %rsp, %rdi              /* vector, error, rip, cs, rflags, rsp, ss */
    and     $-16, %rsp
    call    host_exception          /* does not return */
4:  cli
    hlt
    jmp     4b

idt_load:
    lea     idt(%rip), %rdi
    lea     exc_stubs(%rip), %rsi
    xor     %ecx, %ecx
5:  mov     %rsi, %rax
    mov     %ax, (%rdi)             /* offset 15:0 */
    movw    $0x08, 2(%rdi)
    movw    $0x8E00, 4(%rdi)        /* present, 64-bit interrupt gate */
    shr     $16, %rax
    mov     %ax, 6(%rdi)
    shr     $16, %rax
    mov     %eax, 8(%rdi)
    movl    $0, 12(%rdi)
    add     $16, %rdi
    add     $16, %rsi
    inc     %ecx
    cmp     $32, %ecx
    jne     5b
    lidt    idt_pointer(%rip)
    ret

/*
 * void host_vmrun(uint64_t vmcb_pa, uint64_t *gpr)
 * VMRUN switches RAX, RSP, RIP, RFLAGS, segments and control registers;
 * gpr[16] (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15; slots 0 and 4
 * unused: those live in the VMCB) holds the rest.  VMLOAD/VMSAVE switch
 * FS, GS, TR, LDTR and the SYSCALL/SYSENTER MSRs with the VMCB: the model
 * itself uses none of them.  Called with GIF = 0 (after the first #VMEXIT)
 * or before any VMRUN; returns with GIF = 0.
 */
    .globl host_vmrun
host_vmrun:
    push    %rbx
    push    %rbp
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    push    %rsi
    push    %rdi
    mov     8*1(%rsi), %rcx
    mov     8*2(%rsi), %rdx
    mov     8*3(%rsi), %rbx
    mov     8*5(%rsi), %rbp
    mov     8*7(%rsi), %rdi
    mov     8*8(%rsi), %r8
    mov     8*9(%rsi), %r9
    mov     8*10(%rsi), %r10
    mov     8*11(%rsi), %r11
    mov     8*12(%rsi), %r12
    mov     8*13(%rsi), %r13
    mov     8*14(%rsi), %r14
    mov     8*15(%rsi), %r15
    mov     8*6(%rsi), %rsi
    mov     (%rsp), %rax
    vmload  %rax
    vmrun   %rax
    vmsave  %rax
    mov     8(%rsp), %rax
    mov     %rcx, 8*1(%rax)
    mov     %rdx, 8*2(%rax)
    mov     %rbx, 8*3(%rax)
    mov     %rbp, 8*5(%rax)
    mov     %rsi, 8*6(%rax)
    mov     %rdi, 8*7(%rax)
    mov     %r8, 8*8(%rax)
    mov     %r9, 8*9(%rax)
    mov     %r10, 8*10(%rax)
    mov     %r11, 8*11(%rax)
    mov     %r12, 8*12(%rax)
    mov     %r13, 8*13(%rax)
    mov     %r14, 8*14(%rax)
    mov     %r15, 8*15(%rax)
    add     $16, %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbp
    pop     %rbx
    ret

    .section .rodata
    .align 16
gdt:
    .quad   0
    .quad   0x00AF9A000000FFFF      /* 0x08: 64-bit code */
    .quad   0x00CF92000000FFFF      /* 0x10: data */
gdt_end:
gdt_pointer:
    .word   gdt_end - gdt - 1
    .quad   gdt
idt_pointer:
    .word   32 * 16 - 1
    .quad   idt

    .section .bss
    .align 4096
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
idt:        .skip 32 * 16
    .align 16
host_stack: .skip 32768
host_stack_top:
