# SPDX-License-Identifier: MIT
# Host unit tests of the device models' register logic (Check), the timers
# on a fake clock.  include()d by tests/CMakeLists.txt; built with the host
# compiler, not freestanding.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
  pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET GLOBAL check)
endif()

set(DEVMODEL_DIR ${CMAKE_SOURCE_DIR}/servers/devmodel)
foreach(name fwcfg mc146818 port92 i8254 hpet pmtimer acpipm)
  add_executable(test_${name} ${CMAKE_SOURCE_DIR}/tests/unit/test_${name}.c ${DEVMODEL_DIR}/${name}.c)
  target_include_directories(test_${name} PRIVATE ${DEVMODEL_DIR})
  target_compile_options(test_${name} PRIVATE ${COPRA_WARNINGS})
  target_link_libraries(test_${name} PRIVATE PkgConfig::CHECK)
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120)
endforeach()
