/* SPDX-License-Identifier: MIT */
/*
 * The probe's lower-VMPL program (probe.c check_run_vmpl()): 32-bit
 * protected mode, paging off, CPL 0, run by the model at VMPL1 from a VMSA
 * the probe builds.  Each numbered step is one exit the model reflects to
 * VMPL0 through the VMSA; VMPL0 emulates it, advances RIP and runs it again.
 * It sits on its own page, which the probe grants to VMPL1 read + execute.
 */
    .text
    .balign 4096
    .globl vmpl_code, vmpl_after_hlt
    .code32
vmpl_code:
    mov     $0x5a, %al
    out     %al, $0x99              /* 1: IOIO, port 0x99, 8-bit OUT */
    mov     $0x8000001f, %eax
    cpuid                           /* 2: CPUID */
    mov     $vmpl_data, %edi        /* granted RW: no exit */
    movl    $0xfeedf00d, (%edi)
    mov     %eax, 4(%edi)           /* the CPUID result VMPL0 emulated */
    mov     %ebx, 12(%edi)
    mov     vmpl_secret, %eax       /* 3: NPF, the page is not granted */
    mov     %eax, 8(%edi)
    hlt                             /* 4: HLT */
vmpl_after_hlt:
    movl    $1, 16(%edi)            /* 5: NPF, write after W was revoked */
1:  hlt
    jmp     1b
    .code64
    .balign 4096
