# SPDX-License-Identifier: MIT
# irqd in QEMU before the VMM wires it in: the interrupt-controller test
# guests, run by tests/qemu/irqvmm.c (a small VMM that starts irqd with its
# start-up contract and drives the interrupt lines the guests ask for).
# include()d at the end of tests/guests/CMakeLists.txt, so copra_guest()
# and GUEST_DIR are those of that file.

set(IRQD_GUESTS lapic_timer pic_irq ioapic_irq ipi lapic_bench ipi_bench)
set(IRQD_GUEST_FILES)
foreach(guest ${IRQD_GUESTS})
  copra_guest(${guest} ${guest}.c)
  list(APPEND IRQD_GUEST_FILES ${GUEST_DIR}/${guest}.elf)
endforeach()

copra_user_program(irqvmm ${CMAKE_SOURCE_DIR}/tests/qemu/irqvmm.c
    ${CMAKE_SOURCE_DIR}/servers/vmm/loader.c)
target_include_directories(irqvmm PRIVATE ${CMAKE_SOURCE_DIR}/servers/vmm)

set(IRQD_INITRD ${CMAKE_BINARY_DIR}/irqd-initrd.cpio)
copra_initrd(${IRQD_INITRD} ${CMAKE_CURRENT_SOURCE_DIR}/irqd.list DEPENDS irqvmm irqd)
add_custom_command(OUTPUT ${IRQD_INITRD} APPEND DEPENDS ${IRQD_GUEST_FILES})

# irqd_test(NAME GUEST ARGS [SMP N] [BENCH]): qemu.irqd_NAME (or bench.NAME
# with BENCH: under -icount, label bench) boots `init=irqvmm -- GUEST ARGS`.
function(irqd_test name guest args)
  cmake_parse_arguments(T "BENCH" "SMP" "" ${ARGN})
  if(NOT T_SMP)
    set(T_SMP 1)
  endif()
  if(T_BENCH)
    set(test bench.${name})
    set(opts --grep "^\\[irqvmm\\] bench ${name} [0-9]+ insns" -- --icount)
    set(labels bench)
  else()
    set(test qemu.irqd_${name})
    set(opts --grep "^\\[irqvmm\\] \\[guest\\] [0-9]+ passed, 0 failed" --)
    set(labels "qemu;guest")
  endif()
  add_test(NAME ${test}
      COMMAND ${CMAKE_SOURCE_DIR}/tests/qemu/run-test --expect 0 ${opts}
              --kernel ${CMAKE_BINARY_DIR}/copra.elf --initrd ${IRQD_INITRD}
              --smp ${T_SMP} --timeout 300 --append "init=irqvmm -- ${guest}.elf ${args}")
  set_tests_properties(${test} PROPERTIES LABELS "${labels}" TIMEOUT 300)
endfunction()

foreach(smp 1 2)
  irqd_test(lapic_timer_smp${smp} lapic_timer "vcpus=1 lines=" SMP ${smp})
  irqd_test(pic_irq_smp${smp} pic_irq "vcpus=1 lines=4,10" SMP ${smp})
  irqd_test(ioapic_irq_smp${smp} ioapic_irq "vcpus=1 lines=4" SMP ${smp})
  irqd_test(ipi_smp${smp} ipi "vcpus=2 lines=" SMP ${smp})
endforeach()
# The cost of one LAPIC timer interrupt in counted instructions
# (tests/guests/lapic_bench.c explains the method).
irqd_test(lapic_timer_interrupt lapic_bench "vcpus=1 lines=" BENCH)
# An IPI from VCPU 0 to VCPU 1 and one back (tests/guests/ipi_bench.c).
irqd_test(ipi_roundtrip ipi_bench "vcpus=2 lines=" BENCH)
