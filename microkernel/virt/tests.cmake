# SPDX-License-Identifier: MIT
# Tests of microkernel/virt/ (MMIO instruction decoder, emulator, guest page
# walk); include()d by tests/CMakeLists.txt.  Unit tests compile the kernel's
# own .c files with the host compiler (not freestanding), like tests/unit/.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
  pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET GLOBAL check)
endif()

set(COPRA_VIRT_DIR ${CMAKE_SOURCE_DIR}/microkernel/virt)

# copra_virt_unit_test(NAME MODULE... [LIBS lib...]): tests/unit/test_NAME.c
# plus microkernel/virt/MODULE.c, registered as ctest "unit.NAME".
function(copra_virt_unit_test name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  set(sources ${CMAKE_SOURCE_DIR}/tests/unit/test_${name}.c)
  foreach(module ${ARG_UNPARSED_ARGUMENTS})
    list(APPEND sources ${COPRA_VIRT_DIR}/${module}.c)
  endforeach()
  add_executable(test_${name} ${sources})
  target_include_directories(test_${name} PRIVATE ${CMAKE_SOURCE_DIR}/microkernel)
  target_compile_options(test_${name} PRIVATE ${COPRA_WARNINGS})
  target_link_libraries(test_${name} PRIVATE PkgConfig::CHECK ${ARG_LIBS})
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 300)
endfunction()

copra_virt_unit_test(decode decode)
copra_virt_unit_test(emulate decode emulate)
copra_virt_unit_test(gpt gpt)

# Differential test against Capstone (Debian: libcapstone-dev, which
# tools/install-deps installs).
pkg_check_modules(CAPSTONE IMPORTED_TARGET capstone)
if(CAPSTONE_FOUND)
  copra_virt_unit_test(decode_capstone decode LIBS PkgConfig::CAPSTONE)
else()
  message(STATUS "virt: no capstone (libcapstone-dev), no unit.decode_capstone test")
endif()

# libFuzzer targets tests/fuzz/decode_fuzz.c and gpt_fuzz.c, built and run
# the way tests/fuzz/CMakeLists.txt builds its fuzzers (one clang command
# each; ctest label "fuzz", bounded by COPRA_FUZZ_SECONDS/COPRA_FUZZ_RUNS).
# Its copra_fuzzer() takes sources from its own directory and its flags from
# a directory-scoped variable, so it is mirrored here; the cache variables
# (COPRA_CLANG, COPRA_CLANG_LIBFUZZER_WORKS, COPRA_FUZZ_*) are shared.
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(COPRA_CLANG ${CMAKE_C_COMPILER} CACHE FILEPATH "clang used to build the fuzzers")
else()
  find_program(COPRA_CLANG NAMES clang clang-16 clang-15 clang-14)
endif()
set(COPRA_FUZZ_SECONDS 20 CACHE STRING "Longest run of one fuzz test, in seconds")
set(COPRA_FUZZ_RUNS 200000 CACHE STRING "Most inputs one fuzz test tries")
set(virt_fuzz_flags -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all ${COPRA_WARNINGS})

if(COPRA_CLANG AND NOT DEFINED COPRA_CLANG_LIBFUZZER_WORKS)
  set(probe_dir ${CMAKE_BINARY_DIR}/virt-fuzz-probe)
  file(MAKE_DIRECTORY ${probe_dir})
  file(WRITE ${probe_dir}/probe.c
      "#include <stddef.h>\n#include <stdint.h>\n"
      "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
      "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${COPRA_CLANG} ${virt_fuzz_flags} probe.c -o probe
      WORKING_DIRECTORY ${probe_dir} RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
  if(probe_result EQUAL 0)
    set(COPRA_CLANG_LIBFUZZER_WORKS ON CACHE INTERNAL "")
  else()
    set(COPRA_CLANG_LIBFUZZER_WORKS OFF CACHE INTERNAL "")
  endif()
endif()

if(COPRA_CLANG AND COPRA_CLANG_LIBFUZZER_WORKS)
  file(GLOB virt_headers CONFIGURE_DEPENDS ${COPRA_VIRT_DIR}/*.h)
  # copra_virt_fuzzer(NAME MODULE...): tests/fuzz/NAME_fuzz.c plus
  # microkernel/virt/MODULE.c, built to NAME_fuzz, run as ctest fuzz.NAME.
  function(copra_virt_fuzzer name)
    set(exe ${CMAKE_BINARY_DIR}/virt-fuzz/${name}_fuzz)
    set(sources ${CMAKE_SOURCE_DIR}/tests/fuzz/${name}_fuzz.c)
    foreach(module ${ARGN})
      list(APPEND sources ${COPRA_VIRT_DIR}/${module}.c)
    endforeach()
    add_custom_command(OUTPUT ${exe}
        COMMAND ${COPRA_CLANG} ${virt_fuzz_flags} -I${CMAKE_SOURCE_DIR}/abi
                -I${CMAKE_SOURCE_DIR}/microkernel ${sources} -o ${exe}
        DEPENDS ${sources} ${virt_headers}
        COMMENT "Building fuzzer ${name}_fuzz with clang"
        VERBATIM)
    add_custom_target(${name}_fuzz ALL DEPENDS ${exe})
    # libFuzzer writes what it finds to the build tree, never the source tree.
    set(work ${CMAKE_BINARY_DIR}/virt-fuzz/${name})
    file(MAKE_DIRECTORY ${work}/corpus)
    # Checked-in seeds (tests/fuzz/make_seeds.py), if the target has any.
    set(seeds)
    if(EXISTS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
      set(seeds ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    endif()
    add_test(NAME fuzz.${name}
        COMMAND ${exe} -max_total_time=${COPRA_FUZZ_SECONDS} -runs=${COPRA_FUZZ_RUNS}
                -print_final_stats=1 -artifact_prefix=${work}/ ${work}/corpus ${seeds}
        WORKING_DIRECTORY ${work})
    math(EXPR timeout "${COPRA_FUZZ_SECONDS} * 3 + 60")
    set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
  endfunction()
  copra_virt_fuzzer(decode decode emulate)
  copra_virt_fuzzer(gpt gpt)
else()
  message(STATUS "virt: no clang with libFuzzer, no fuzz.decode / fuzz.gpt")
endif()
