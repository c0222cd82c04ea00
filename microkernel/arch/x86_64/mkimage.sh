#!/bin/sh
# SPDX-License-Identifier: MIT
# mkimage.sh ELF64 OUT_ELF32 WRAP_LD: wrap the higher-half kernel for QEMU's
# multiboot loader (see wrap32.ld for why).
set -eu
in=$1 out=$2 ld_script=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objcopy -O binary "$in" "$tmp/image.bin"
sym() { nm "$in" | awk -v s="$1" '$3 == s { print $1 }'; }
entry=$(sym boot_entry32)
pstart=$(sym __kernel_pstart)
pend=$(sym __kernel_pend)
size=$(stat -c %s "$tmp/image.bin")
bss=$(( 0x$pend - 0x$pstart - size ))
(cd "$tmp" && objcopy -I binary -O elf32-i386 -B i386 image.bin image.o)
ld -m elf_i386 -T "$ld_script" --defsym boot_entry_phys=0x"$entry" \
   --defsym KERNEL_PBASE=0x"$pstart" --defsym KERNEL_BSS_SIZE="$bss" "$tmp/image.o" -o "$out"
