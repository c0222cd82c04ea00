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
      GREP "vmm: device model virtio-blk started \\(1 range\\(s\\), an interrupt line"
      GREP "vmm: device model virtio-rng started \\(1 range\\(s\\), an interrupt line"
      GREP "vmm: VM stopped: vcpu 0: guest wrote 0x0 to the debug-exit port")
endforeach()

# A bad description: a clear message and status 2.
copra_guest_test(guest_virtio_bad EXPECT 2 CONF virtio-bad.conf
    GREP "line 5: device virtio-blk: disk=PATH \\(an initrd file\\) is required")
