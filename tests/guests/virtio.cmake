# SPDX-License-Identifier: MIT
# Issue 10: the virtio-mmio guest (tests/guests/virtio.c) through the
# virtio-blk and virtio-rng models, irqd and the real VMM, at -smp 1 and 2.
# include()d at the end of tests/guests/CMakeLists.txt (copra_guest(),
# copra_guest_test(), GUEST_INITRD and PASSED are that file's).

copra_guest(virtio virtio.c)
add_custom_target(virtio-guest ALL DEPENDS ${GUEST_DIR}/virtio.elf)

# The disk: 8 sectors, each "copra virtio disk, sector N\n" padded with
# dots to 511 bytes and a newline.  Written at configure time: no tool.
set(VIRTIO_DISK ${GUEST_DIR}/virtio-disk.img)
string(REPEAT "." 483 VIRTIO_DISK_PAD)
set(VIRTIO_DISK_TEXT "")
foreach(n RANGE 7)
  string(APPEND VIRTIO_DISK_TEXT "copra virtio disk, sector ${n}\n${VIRTIO_DISK_PAD}\n")
endforeach()
file(WRITE ${VIRTIO_DISK}.new "${VIRTIO_DISK_TEXT}")
file(COPY_FILE ${VIRTIO_DISK}.new ${VIRTIO_DISK} ONLY_IF_DIFFERENT)
file(SIZE ${VIRTIO_DISK} VIRTIO_DISK_SIZE)
if(NOT VIRTIO_DISK_SIZE EQUAL 4096)
  message(FATAL_ERROR "virtio-disk.img is ${VIRTIO_DISK_SIZE} bytes, not 8 sectors")
endif()

add_custom_command(OUTPUT ${GUEST_INITRD} APPEND DEPENDS virtio-blk virtio-rng
    ${GUEST_DIR}/virtio.elf ${VIRTIO_DISK})

foreach(smp 1 2)
  copra_guest_test(guest_virtio_smp${smp} EXPECT 0 CONF virtio.conf SMP ${smp}
      GREP ${PASSED}
      GREP "\\[uart\\] virtio-blk at 0xfeb00000, GSI 16; virtio-rng at 0xfeb00200, GSI 17"
      GREP "vmm: device model virtio-blk started \\(1 range\\(s\\), an interrupt line"
      GREP "vmm: device model virtio-rng started \\(1 range\\(s\\), an interrupt line"
      GREP "vmm: VM stopped: vcpu 0: guest wrote 0x0 to the debug-exit port")
endforeach()

# A bad description: a clear message and status 2.
copra_guest_test(guest_virtio_bad EXPECT 2 CONF virtio-bad.conf
    GREP "line 5: device virtio-blk: disk=PATH \\(an initrd file\\) is required")

# make bench: one virtio-blk read request (512 bytes and 4 KiB), notify to
# used ring, through the model; instructions counted under -icount.
add_test(NAME bench.virtio_blk
    COMMAND ${GUEST_RUN_TEST} --expect 0 --grep "^\\[uart\\] bench virtio_blk_read_4096 [0-9]+ insns"
            -- --kernel ${CMAKE_BINARY_DIR}/copra.elf --initrd ${GUEST_INITRD}
            --icount --smp 1 --timeout 300 --append "init=vmm -- virtio_bench.conf")
set_tests_properties(bench.virtio_blk PROPERTIES LABELS bench TIMEOUT 300)

# virtio-rng's fallback on a CPU without RDRAND (the model reads CPUID in
# ring 3, so QEMU's CPU model decides): the guest's checks still pass and
# the model says its bytes are not cryptographic.
add_test(NAME qemu.guest_virtio_nordrand
    COMMAND ${GUEST_RUN_TEST} --expect 0 --grep ${PASSED}
            --grep "\\[virtio-rng\\] random bytes from RDTSC jitter \\(weak: no RDRAND\\)"
            --grep "\\[virtio-rng\\] no working RDRAND: serving RDTSC-jitter bytes"
            -- --kernel ${CMAKE_BINARY_DIR}/copra.elf --initrd ${GUEST_INITRD}
            --cpu EPYC,rdrand=off --smp 1 --timeout 120 --append "init=vmm -- virtio.conf")
set_tests_properties(qemu.guest_virtio_nordrand PROPERTIES LABELS "qemu;guest" TIMEOUT 120)
