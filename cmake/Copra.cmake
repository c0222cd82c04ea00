# SPDX-License-Identifier: MIT
# Build helpers shared by the kernel, the servers and the tests.

set(COPRA_WARNINGS -Wall -Wextra -Werror)

# Flags for code that runs freestanding on Copra (kernel and user programs).
set(COPRA_FREESTANDING_FLAGS
    -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-strict-aliasing
    -ffunction-sections -fdata-sections)

# copra_user_program(NAME SOURCES...): a static freestanding ELF64 for ring 3,
# linked with libcoco, written to ${COPRA_BIN_DIR}/NAME.
function(copra_user_program name)
  add_executable(${name} ${ARGN})
  target_compile_options(${name} PRIVATE ${COPRA_WARNINGS} ${COPRA_FREESTANDING_FLAGS})
  target_link_libraries(${name} PRIVATE coco copra_abi)
  target_link_options(${name} PRIVATE -nostdlib -static -no-pie
      -Wl,-T,${CMAKE_SOURCE_DIR}/libcoco/user.ld -Wl,--gc-sections
      -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack)
  set_target_properties(${name} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${COPRA_BIN_DIR}
      LINK_DEPENDS ${CMAKE_SOURCE_DIR}/libcoco/user.ld)
endfunction()

# copra_initrd(OUTPUT LIST DEPENDS targets... [DEFINES NAME=VALUE...]): pack the
# files named in LIST (lines "initrd-path source", with @BIN@, @SRC@, @DIR@
# and each DEFINES @NAME@ expanded) into OUTPUT.
function(copra_initrd output list)
  cmake_parse_arguments(ARG "" "" "DEPENDS;DEFINES" ${ARGN})
  set(deps)
  foreach(t ${ARG_DEPENDS})
    list(APPEND deps ${t} $<TARGET_FILE:${t}>)
  endforeach()
  set(defines)
  foreach(d ${ARG_DEFINES})
    list(APPEND defines -D ${d})
  endforeach()
  get_filename_component(list_dir ${list} DIRECTORY)
  add_custom_command(OUTPUT ${output}
      COMMAND copra-mkinitrd -o ${output} -D BIN=${COPRA_BIN_DIR}
              -D SRC=${CMAKE_SOURCE_DIR} -D DIR=${list_dir} ${defines} ${list}
      DEPENDS copra-mkinitrd ${list} ${deps}
      COMMENT "Packing ${output}")
  get_filename_component(tname ${output} NAME_WE)
  add_custom_target(initrd-${tname} ALL DEPENDS ${output})
endfunction()
