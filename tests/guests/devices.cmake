# SPDX-License-Identifier: MIT
# Issue 9 item 8: the platform-device guests (fw_cfg, RTC/CMOS, port 0x92),
# each through its device model and the real VMM, at -smp 1 and 2, and the
# RTC-read benchmark.  include()d at the end of tests/guests/CMakeLists.txt
# (copra_guest(), copra_guest_test(), GUEST_INITRD and PASSED are that
# file's).  The same guests run on plain QEMU (README, "Platform devices").

set(DEVICE_GUESTS fwcfg rtc port92 rtc_bench acpipm)
set(DEVICE_GUEST_FILES)
foreach(guest ${DEVICE_GUESTS})
  copra_guest(${guest} ${guest}.c)
  list(APPEND DEVICE_GUEST_FILES ${GUEST_DIR}/${guest}.elf)
endforeach()
add_custom_target(device-guests ALL DEPENDS ${DEVICE_GUEST_FILES})
add_custom_command(OUTPUT ${GUEST_INITRD} APPEND DEPENDS fwcfg rtc port92 acpipm ${DEVICE_GUEST_FILES}
    ${CMAKE_CURRENT_SOURCE_DIR}/fwcfg-greeting.txt)

set(STOPPED_OK "vmm: VM stopped: vcpu 0: guest wrote 0x0 to the debug-exit port")
foreach(smp 1 2)
  copra_guest_test(guest_fwcfg_smp${smp} EXPECT 0 CONF fwcfg.conf SMP ${smp}
      GREP ${PASSED} GREP "vmm: device model fwcfg started" GREP ${STOPPED_OK})
  copra_guest_test(guest_rtc_smp${smp} EXPECT 0 CONF rtc.conf SMP ${smp}
      GREP ${PASSED} GREP "vmm: device model rtc started \\(1 range\\(s\\), an interrupt line"
      GREP "\\[uart\\] [0-9]+ periodic interrupts between update interrupts 1 s apart" GREP ${STOPPED_OK})
  copra_guest_test(guest_port92_smp${smp} EXPECT 0 CONF port92.conf SMP ${smp}
      GREP "\\[uart\\] 3 passed, 0 failed"
      GREP "vmm: VM stopped: vcpu 0: reset through port 0x92 \\(expected: expect=shutdown\\)")
  # Issue 10: the ACPI power registers, as Linux's poweroff and reboot use them.
  copra_guest_test(guest_acpipm_poweroff_smp${smp} EXPECT 0 CONF acpipm.conf SMP ${smp}
      GREP "\\[uart\\] 7 passed, 0 failed"
      GREP "\\[acpipm\\] vcpu 0: sleep type 3 is not supported"
      GREP "vmm: VM stopped: vcpu 0: ACPI power-off \\(S5 through the sleep control register\\)")
  copra_guest_test(guest_acpipm_reset_smp${smp} EXPECT 0 CONF acpipm-reset.conf SMP ${smp}
      GREP "\\[uart\\] 7 passed, 0 failed"
      GREP "vmm: VM stopped: vcpu 0: reset through the ACPI reset register \\(expected: expect=shutdown\\)")
endforeach()

# make bench: one RTC register read (OUT 0x70 + IN 0x71) through the model.
add_test(NAME bench.rtc_read
    COMMAND ${GUEST_RUN_TEST} --expect 0 --grep "^\\[uart\\] bench rtc_read [0-9]+ insns"
            -- --kernel ${CMAKE_BINARY_DIR}/copra.elf --initrd ${GUEST_INITRD}
            --icount --smp 1 --timeout 300 --append "init=vmm -- rtc_bench.conf")
set_tests_properties(bench.rtc_read PROPERTIES LABELS bench TIMEOUT 300)

# Bad device lines: a clear message and status 2 (a bad description).
copra_guest_test(guest_fwcfg_bad EXPECT 2 CONF fwcfg-bad.conf
    GREP "line 5: device fwcfg: parameters are opt/NAME=PATH .*: etc/e820")
copra_guest_test(guest_acpipm_bad EXPECT 2 CONF acpipm-bad.conf
    GREP "line 5: device acpipm: base= wants a port 0..0xfffc")
copra_guest_test(guest_rtc_bad EXPECT 2 CONF rtc-bad.conf
    GREP "line 5: device rtc: start= wants seconds since 1970-01-01 UTC")
