# SPDX-License-Identifier: MIT
# Issue 10: Debian's Linux kernel as the guest, from the default image
# (initrd/default.list; the kernel, its virtio modules and busybox come from
# tools/fetch-linux).  include()d by tests/.
set(LINUX_RUN_TEST ${CMAKE_SOURCE_DIR}/tests/qemu/run-test)
set(LINUX_INITRD ${CMAKE_BINARY_DIR}/initrd.cpio)

# copra_linux_test(NAME EXPECT STATUS APPEND ARGS SMP N [INPUT FILE [AFTER RE]] GREP RE...):
# INPUT is typed once the serial output matches AFTER (copra-qemu --input-after).
function(copra_linux_test name)
  cmake_parse_arguments(T "" "EXPECT;APPEND;SMP;INPUT;AFTER" "GREP" ${ARGN})
  set(opts --expect ${T_EXPECT})
  foreach(g ${T_GREP})
    list(APPEND opts --grep ${g})
  endforeach()
  set(input)
  if(T_INPUT)
    set(input --input ${T_INPUT} --input-after ${T_AFTER})
  endif()
  add_test(NAME qemu.${name}
      COMMAND ${LINUX_RUN_TEST} ${opts} -- --kernel ${CMAKE_BINARY_DIR}/copra.elf
              --initrd ${LINUX_INITRD} --mem 512M --smp ${T_SMP} --timeout 400 ${input}
              --append ${T_APPEND})
  set_tests_properties(qemu.${name} PROPERTIES LABELS "qemu;linux" TIMEOUT 420)
endfunction()

# The guest test (tests/linux/guest-test) at 1 and 2 VCPUs on as many host
# CPUs: both VCPUs online, the virtio disk written and read back, the virtio
# RNG, the RTC, then `poweroff -f` through the ACPI sleep register: status 0.
foreach(smp 1 2)
  copra_linux_test(linux_smp${smp} EXPECT 0 SMP ${smp} APPEND "init=vmm -- linux-test-smp${smp}.conf"
      GREP "\\[uart\\] linux-test: ok cpus ${smp}\\b"
      GREP "\\[uart\\] linux-test: ok disk write\\+read"
      GREP "\\[uart\\] linux-test: ok rng virtio"
      GREP "\\[uart\\] linux-test: ok rtc"
      GREP "\\[uart\\] linux-test: done, 0 failures"
      GREP "vmm: VM stopped: vcpu [0-9]+: ACPI power-off")
endforeach()

# `make run`'s VM (vmm.conf): the shell on the console takes typed commands.
copra_linux_test(linux_shell EXPECT 0 SMP 2 APPEND "init=vmm"
    INPUT ${CMAKE_SOURCE_DIR}/tests/linux/shell-input.txt AFTER "\\[uart\\] / # "
    GREP "\\[uart\\] init: Copra Linux guest ready"
    GREP "\\[uart\\] shell says 42\\b"
    GREP "vmm: VM stopped: vcpu [0-9]+: ACPI power-off")

# A guest that panics (no init) and reboots at once (panic=-1) stops the VM
# with the reset named, status 1.
copra_linux_test(linux_panic EXPECT 1 SMP 1 APPEND "init=vmm -- linux-panic.conf"
    GREP "\\[uart\\] .*Kernel panic - not syncing"
    GREP "vmm: VM stopped: vcpu 0: (reset through the ACPI reset register|shutdown \\(triple fault\\))")
