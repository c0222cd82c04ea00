# SPDX-License-Identifier: MIT
# Host unit test of the VMM's config parser (Check).  include()d by
# tests/CMakeLists.txt; builds with the host compiler, not freestanding.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)

# vmm_unit_test(NAME SOURCE...): test_NAME from tests/unit/test_NAME.c and
# the VMM's pure SOURCEs (servers/vmm/), and the ctest unit.NAME.
function(vmm_unit_test name)
  set(sources ${CMAKE_SOURCE_DIR}/tests/unit/test_${name}.c)
  foreach(src ${ARGN})
    list(APPEND sources ${CMAKE_SOURCE_DIR}/servers/vmm/${src})
  endforeach()
  add_executable(test_${name} ${sources})
  target_include_directories(test_${name} PRIVATE ${CMAKE_SOURCE_DIR}/servers/vmm)
  target_compile_options(test_${name} PRIVATE ${COPRA_WARNINGS})
  target_link_libraries(test_${name} PRIVATE PkgConfig::CHECK)
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit)
endfunction()

vmm_unit_test(config config.c)

# The guest loader (loader.c): unit test and fuzzer.
vmm_unit_test(loader loader.c)

# The Linux loader (bzimage.c): unit test and fuzzer.
vmm_unit_test(bzimage bzimage.c loader.c)

# fuzz.loader and fuzz.bzimage follow tests/fuzz/CMakeLists.txt's copra_fuzzer(): one clang
# command, run by ctest -L fuzz from the seeds in tests/fuzz/corpus/NAME.
# This file is include()d before tests/fuzz/ is processed, so the rule is
# deferred to the end of tests/, when COPRA_CLANG and the libFuzzer probe
# result (both cache variables set there) are known.
function(vmm_fuzzer name)
  if(NOT COPRA_CLANG OR NOT COPRA_CLANG_LIBFUZZER_WORKS)
    return()
  endif()
  set(fuzz_dir ${CMAKE_BINARY_DIR}/tests/fuzz)
  set(exe ${fuzz_dir}/${name}_fuzz)
  set(sources ${CMAKE_SOURCE_DIR}/tests/fuzz/${name}_fuzz.c ${CMAKE_SOURCE_DIR}/servers/vmm/${name}.c
      ${ARGN})
  add_custom_command(OUTPUT ${exe}
      COMMAND ${COPRA_CLANG} -g -O1 -fsanitize=fuzzer,address,undefined
              -fno-sanitize-recover=all ${COPRA_WARNINGS} -I${CMAKE_SOURCE_DIR}/abi
              -I${CMAKE_SOURCE_DIR}/servers/vmm ${sources} -o ${exe}
      DEPENDS ${sources} ${CMAKE_SOURCE_DIR}/servers/vmm/${name}.h
              ${CMAKE_SOURCE_DIR}/servers/vmm/loader.h ${CMAKE_SOURCE_DIR}/servers/vmm/config.h
      COMMENT "Building fuzzer ${name}_fuzz with clang"
      VERBATIM)
  add_custom_target(${name}_fuzz ALL DEPENDS ${exe})
  set(work ${fuzz_dir}/${name})
  file(MAKE_DIRECTORY ${work}/corpus)
  add_test(NAME fuzz.${name}
      COMMAND ${exe} -max_total_time=${COPRA_FUZZ_SECONDS} -runs=${COPRA_FUZZ_RUNS}
              -print_final_stats=1 -artifact_prefix=${work}/
              ${work}/corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name}
      WORKING_DIRECTORY ${work})
  math(EXPR timeout "${COPRA_FUZZ_SECONDS} * 3 + 60")
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
endfunction()
cmake_language(DEFER CALL vmm_fuzzer loader)
cmake_language(DEFER CALL vmm_fuzzer bzimage ${CMAKE_SOURCE_DIR}/servers/vmm/loader.c)

# The ACPI table builder (acpi.c): unit.acpi checks the tables field by
# field; unit.acpi_iasl has ACPICA's iasl disassemble and recompile them
# (skipped, status 77, without iasl: Debian's acpica-tools).
vmm_unit_test(acpi acpi.c)
add_test(NAME unit.acpi_iasl COMMAND test_acpi iasl)
set_tests_properties(unit.acpi unit.acpi_iasl PROPERTIES LABELS unit TIMEOUT 120)
set_tests_properties(unit.acpi_iasl PROPERTIES SKIP_RETURN_CODE 77)

# kvm-clock's time scale and time info (pvclock.c).
vmm_unit_test(pvclock pvclock.c)
