# SPDX-License-Identifier: MIT
# Host unit tests of irqd's device logic (Check).  include()d by
# tests/CMakeLists.txt; built with the host compiler, not freestanding.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
  pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET GLOBAL check)
endif()

set(IRQD_DIR ${CMAKE_SOURCE_DIR}/servers/irqd)
set(IRQD_LOGIC ${IRQD_DIR}/irqchip.c ${IRQD_DIR}/pic.c ${IRQD_DIR}/ioapic.c ${IRQD_DIR}/lapic.c)
foreach(name pic ioapic lapic)
  add_executable(test_${name} ${CMAKE_SOURCE_DIR}/tests/unit/test_${name}.c ${IRQD_LOGIC})
  target_include_directories(test_${name} PRIVATE ${IRQD_DIR})
  target_compile_options(test_${name} PRIVATE ${COPRA_WARNINGS})
  target_link_libraries(test_${name} PRIVATE copra_abi PkgConfig::CHECK)
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120)
endforeach()
